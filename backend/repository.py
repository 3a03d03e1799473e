"""Reads the API needs, as Cypher with parameters only (no Cypher in the GraphQL type classes)."""

from __future__ import annotations

import base64
import json
from typing import Any

from neo4j import Driver

from graph_schema.model import ASSET_LABELS

ASSET_QUERY_LABELS = sorted(ASSET_LABELS - {"Account"})


def encode_cursor(value: str) -> str:
    return base64.urlsafe_b64encode(value.encode()).decode()


def decode_cursor(cursor: str | None) -> str | None:
    if not cursor:
        return None
    try:
        return base64.urlsafe_b64decode(cursor.encode()).decode()
    except (ValueError, UnicodeDecodeError):
        raise ValueError("invalid cursor") from None


class Repository:
    """One per request; counts its queries so tests can prove there is no N+1."""

    def __init__(self, driver: Driver):
        self.driver = driver
        self.queries = 0

    def read(self, query: str, **params: Any) -> list[dict[str, Any]]:
        self.queries += 1
        records = self.driver.execute_query(query, params, routing_="r").records
        return [dict(r) for r in records]

    def accounts(self, ids: list[str]) -> list[dict[str, Any]]:
        return self.read(
            "MATCH (a:Account) WHERE a.account_id IN $ids RETURN a.id AS id, a.name AS name, a.collected_at AS collected_at, "
            "a.current_sync AS current_sync, a.raw_digest AS raw_digest ORDER BY a.id",
            ids=ids,
        )

    def assets_page(self, account_id: str, label: str | None, region: str | None, tag: str | None,
                    first: int, after: str | None, ids: list[str] | None = None) -> list[dict[str, Any]]:
        labels = [label] if label else ASSET_QUERY_LABELS
        if any(lbl not in ASSET_QUERY_LABELS for lbl in labels):
            raise ValueError(f"unknown asset type {label!r}; known: {', '.join(ASSET_QUERY_LABELS)}")
        return self.read(
            "MATCH (n {account_id: $account}) WHERE labels(n)[0] IN $labels "
            "AND ($region IS NULL OR n.region = $region) AND ($tag IS NULL OR $tag IN coalesce(n.tags, [])) "
            "AND ($ids IS NULL OR n.id IN $ids) "
            "WITH n, labels(n)[0] AS label "
            "WHERE $after IS NULL OR n.uid > $after_uid OR (n.uid = $after_uid AND label > $after_label) "
            "RETURN n.uid + '|' + label AS uid, n.id AS id, label AS type, n.region AS region, "
            "coalesce(n.name, n.id) AS name, coalesce(n.supported, true) AS supported ORDER BY n.uid, label LIMIT $limit",
            account=account_id, labels=labels, region=region, tag=tag, ids=ids, after=after, limit=first + 1,
            after_uid=(after or "|").rsplit("|", 1)[0], after_label=(after or "|").rsplit("|", 1)[1],
        )

    def findings_for_assets(self, account_id: str, asset_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
        rows = self.read(
            "MATCH (st:ItemState {account_id: $account}) "
            "UNWIND range(0, size(st.asset_ids) - 1) AS i WITH st, i WHERE st.asset_ids[i] IN $ids "
            "RETURN st.asset_ids[i] AS asset_id, st.check_id AS check_id, st.statuses[i] AS status",
            account=account_id, ids=asset_ids,
        )
        out: dict[str, list[dict[str, Any]]] = {a: [] for a in asset_ids}
        for r in rows:
            out.setdefault(r["asset_id"], []).append(r)
        return out

    def scan_results(self, account_id: str, scan_id: str, first: int, after: str | None) -> list[dict[str, Any]]:
        """One scan's results in (check, asset) order, a keyset page (first + 1 rows: is there a next page?)."""
        check, _, asset = (after or "").partition("|")
        return self.read(
            "MATCH (r:CheckRun {account_id: $account, scan_id: $scan}) "
            "UNWIND range(0, size(r.asset_ids) - 1) AS i "
            "WITH r.check_id AS check_id, r.asset_ids[i] AS asset_id, r.statuses[i] AS status, r.regions[i] AS region "
            "WHERE $after IS NULL OR check_id > $check OR (check_id = $check AND asset_id > $asset) "
            "RETURN check_id, asset_id, status, region ORDER BY check_id, asset_id LIMIT $limit",
            account=account_id, scan=scan_id, after=after, check=check, asset=asset, limit=first + 1,
        )

    def scans(self, account_id: str, first: int) -> list[dict[str, Any]]:
        return self.read(
            "MATCH (s:Scan {account_id: $account}) RETURN s.id AS id, s.status AS status, s.operation AS operation, "
            "s.started AS started, s.finished AS finished, coalesce(s.authorizations, 0) AS authorizations "
            "ORDER BY s.started DESC LIMIT $first",
            account=account_id, first=first,
        )

    def queue_scan(self, account_id: str, scan_id: str, who: str) -> None:
        """The Scan node of a scan handed to a worker: `scan(id)` answers `queued` until the worker starts it."""
        self.driver.execute_query(
            "CREATE (:Scan {account_id: $account, id: $id, operation: 'scan', status: 'queued', "
            "started: toString(datetime()), who: $who})", account=account_id, id=scan_id, who=who)

    def audit(self, account_id: str, first: int) -> list[dict[str, Any]]:
        return self.read(
            "MATCH (e:AuditEntry {account_id: $account}) RETURN toString(e.at) AS at, e.who AS who, e.action AS action, "
            "e.detail AS detail ORDER BY e.at DESC LIMIT $first",
            account=account_id, first=first,
        )


def audit(driver: Driver, account_id: str, who: str, action: str, detail: dict[str, Any]) -> None:
    driver.execute_query(
        "CREATE (:AuditEntry {account_id: $account, at: datetime(), who: $who, action: $action, detail: $detail})",
        account=account_id, who=who, action=action, detail=json.dumps(detail, default=str)[:20_000],
    )
