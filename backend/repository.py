"""Reads the API needs, as Cypher with parameters only (no Cypher in the GraphQL type classes)."""

from __future__ import annotations

import base64
import json
from typing import Any

from neo4j import Driver

from graph_schema.model import ASSET_LABELS, node_uid

ASSET_QUERY_LABELS = sorted(ASSET_LABELS - {"Account"})
# assets whose id or name contains $search (lower-cased), for the console's asset search
SEARCH_CLAUSE = "AND ($search IS NULL OR toLower(n.id) CONTAINS $search OR toLower(coalesce(n.name, '')) CONTAINS $search) "


class ClientError(ValueError):
    """A bad argument: answered to the client with its message, never logged as a failure (plain ValueErrors are
    bugs and are logged)."""


class CursorError(ClientError):
    def __init__(self, kind: str):
        super().__init__(f"invalid cursor for {kind}: pass an endCursor of a previous page of {kind}")


def encode_cursor(kind: str, value: str) -> str:
    """An opaque cursor of one field (`kind`): a cursor of another field is refused, not misread."""
    return base64.urlsafe_b64encode(f"{kind}:{value}".encode()).decode()


def decode_cursor(cursor: str, kind: str) -> str:
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
    except (ValueError, UnicodeDecodeError):
        text = ""
    found, sep, value = text.partition(":")
    if not sep or found != kind:
        raise CursorError(kind)
    return value


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
                    first: int, after: str | None, ids: list[str] | None = None,
                    search: str | None = None) -> list[dict[str, Any]]:
        labels = [label] if label else ASSET_QUERY_LABELS
        if any(lbl not in ASSET_QUERY_LABELS for lbl in labels):
            raise ClientError(f"unknown asset type {label!r}; known: {', '.join(ASSET_QUERY_LABELS)}")
        return self.read(
            "MATCH (n {account_id: $account}) WHERE labels(n)[0] IN $labels "
            "AND ($region IS NULL OR n.region = $region) AND ($tag IS NULL OR $tag IN coalesce(n.tags, [])) "
            "AND ($ids IS NULL OR n.id IN $ids) " + SEARCH_CLAUSE +
            "WITH n, labels(n)[0] AS label "
            "WHERE $after IS NULL OR n.uid > $after_uid OR (n.uid = $after_uid AND label > $after_label) "
            "RETURN n.uid + '|' + label AS uid, n.id AS id, label AS type, n.region AS region, "
            "coalesce(n.name, n.id) AS name, coalesce(n.supported, true) AS supported ORDER BY n.uid, label LIMIT $limit",
            account=account_id, labels=labels, region=region, tag=tag, ids=ids, after=after, limit=first + 1,
            search=search.lower() if search else None,
            after_uid=(after or "|").rsplit("|", 1)[0], after_label=(after or "|").rsplit("|", 1)[1],
        )

    def count_assets(self, account_id: str, label: str | None, region: str | None, tag: str | None,
                     ids: list[str] | None = None, search: str | None = None) -> int:
        labels = [label] if label else ASSET_QUERY_LABELS
        rows = self.read(
            "MATCH (n {account_id: $account}) WHERE labels(n)[0] IN $labels "
            "AND ($region IS NULL OR n.region = $region) AND ($tag IS NULL OR $tag IN coalesce(n.tags, [])) "
            "AND ($ids IS NULL OR n.id IN $ids) " + SEARCH_CLAUSE + "RETURN count(n) AS c",
            account=account_id, labels=labels, region=region, tag=tag, ids=ids, search=search.lower() if search else None)
        return int(rows[0]["c"])

    def _nodes_by_key(self, account_id: str, keys: list[tuple[str, str]], returns: str) -> dict[tuple[str, str], Any]:
        """Asset nodes by (label, id), one indexed uid lookup per label present (an account's own node is keyed by
        its ARN in findings and paths); `returns` is the projection of `n`. Unknown labels (Internet) find nothing."""
        found: dict[tuple[str, str], Any] = {}
        by_label: dict[str, list[str]] = {}
        for label, key in keys:
            if label in ASSET_LABELS:
                by_label.setdefault(label, []).append(key)
        for label, ids in by_label.items():
            uids = {node_uid(account_id, account_id if label == "Account" else i): i for i in ids}
            rows = self.read(f"MATCH (n:{label}) WHERE n.uid IN $uids AND n.account_id = $account "  # label: known set
                             f"RETURN n.uid AS uid, {returns} AS value", uids=list(uids), account=account_id)
            for r in rows:
                keys_of = ids if label == "Account" else [uids[r["uid"]]]
                for key in keys_of:
                    found[(label, key)] = r["value"]
        return found

    def assets_by_key(self, account_id: str, keys: list[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
        """Assets by (label, id) — the asset of each finding."""
        found = self._nodes_by_key(account_id, keys, "{region: n.region, name: coalesce(n.name, n.id), "
                                                     "supported: coalesce(n.supported, true)}")
        return {k: {**v, "id": k[1], "type": k[0]} for k, v in found.items()}

    def node_properties(self, account_id: str, keys: list[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
        """The graph properties of attack-path nodes by (label, id) (internal `_` properties left out)."""
        found = self._nodes_by_key(account_id, keys, "n {.*}")
        return {k: {p: v for p, v in props.items() if not p.startswith("_") and p not in ("uid", "hash")}
                for k, props in found.items()}

    def findings_for_assets(self, account_id: str, asset_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
        """The latest findings of each asset (the same rows as `latest_findings`, stale marks included)."""
        from checks.packages import account_items
        from checks.scan import finding, state_row

        rows = self.read(
            "MATCH (st:ItemState {account_id: $account}) "
            "UNWIND range(0, size(st.asset_ids) - 1) AS i WITH st, i WHERE st.asset_ids[i] IN $ids "
            "RETURN st.check_id AS check_id, st.asset_ids[i] AS asset_id, "
            "[c IN [st.statuses, st.regions, st.first_seen, st.last_seen, st.scan_ids, coalesce(st.reasons, []), "
            "coalesce(st.decided, []), coalesce(st.decided_at, [])] | coalesce(c[i], '')] AS cols",
            account=account_id, ids=asset_ids,
        )
        from checks.catalog import BY_ID

        custom = any(r["check_id"] not in BY_ID for r in rows)
        items = account_items(self.driver, account_id) if custom else BY_ID
        out: dict[str, list[dict[str, Any]]] = {a: [] for a in asset_ids}
        for r in rows:
            out.setdefault(r["asset_id"], []).append(finding(items.get(r["check_id"]), r["check_id"], r["asset_id"],
                                                             state_row(tuple(r["cols"]))))
        return out

    def scan_results(self, account_id: str, scan_id: str, first: int, after: tuple[str, str] | None,
                     status: str | None) -> list[dict[str, Any]]:
        """One scan's results in (check, asset) order, a keyset page (first + 1 rows: is there a next page?)."""
        check, asset = after or ("", "")
        return self.read(
            "MATCH (r:CheckRun {account_id: $account, scan_id: $scan}) "
            "UNWIND range(0, size(r.asset_ids) - 1) AS i "
            "WITH r.check_id AS check_id, r.asset_ids[i] AS asset_id, r.statuses[i] AS status, r.regions[i] AS region, "
            "coalesce(r.reasons[i], '') AS reason "
            "WHERE ($status IS NULL OR status = $status) "
            "AND ($after IS NULL OR check_id > $check OR (check_id = $check AND asset_id > $asset)) "
            "RETURN check_id, asset_id, status, region, reason ORDER BY check_id, asset_id LIMIT $limit",
            account=account_id, scan=scan_id, after=after is not None, check=check, asset=asset, limit=first + 1,
            status=status,
        )

    def count_scan_results(self, account_id: str, scan_id: str, status: str | None) -> int:
        rows = self.read(
            "MATCH (r:CheckRun {account_id: $account, scan_id: $scan}) "
            "RETURN coalesce(sum(CASE WHEN $status IS NULL THEN size(r.statuses) "
            "ELSE size([s IN r.statuses WHERE s = $status]) END), 0) AS c",
            account=account_id, scan=scan_id, status=status)
        return int(rows[0]["c"])

    def scans(self, account_id: str, first: int, after: tuple[str, str] | None) -> list[dict[str, Any]]:
        """Scans, newest first, a keyset page on (started, id) (first + 1 rows)."""
        started, scan_id = after or ("", "")
        return self.read(
            "MATCH (s:Scan {account_id: $account}) WITH s, coalesce(s.started, '') AS started "
            "WHERE NOT $after OR started < $started OR (started = $started AND s.id < $id) "
            "OPTIONAL MATCH (s)-[:HAS_RUN]->(r:CheckRun) "
            "WITH s, started, count(r) AS items_done "
            "RETURN s.id AS id, s.status AS status, s.operation AS operation, started, "
            "s.finished AS finished, coalesce(s.authorizations, 0) AS authorizations, items_done, "
            "coalesce(s.summary, []) AS summary ORDER BY started DESC, s.id DESC LIMIT $limit",
            account=account_id, after=after is not None, started=started, id=scan_id, limit=first + 1,
        )

    def scan(self, account_id: str, scan_id: str) -> dict[str, Any] | None:
        rows = self.read(
            "MATCH (s:Scan {account_id: $account, id: $id}) OPTIONAL MATCH (s)-[:HAS_RUN]->(r:CheckRun) "
            "WITH s, count(r) AS items_done "
            "RETURN s.id AS id, s.status AS status, s.operation AS operation, coalesce(s.started, '') AS started, "
            "s.finished AS finished, coalesce(s.authorizations, 0) AS authorizations, items_done, "
            "coalesce(s.summary, []) AS summary",
            account=account_id, id=scan_id)
        return rows[0] if rows else None

    def count(self, label: str, account_id: str) -> int:
        """How many nodes of one of the paged record labels the account has."""
        if label not in ("Scan", "AuditEntry", "LedgerEntry"):
            raise ValueError(f"not a paged record label: {label}")
        return int(self.read(f"MATCH (n:{label} {{account_id: $account}}) RETURN count(n) AS c",
                             account=account_id)[0]["c"])

    def queue_scan(self, account_id: str, scan_id: str, who: str) -> None:
        """The Scan node of a scan handed to a worker: `scan(id)` answers `queued` until the worker starts it."""
        self.driver.execute_query(
            "CREATE (:Scan {account_id: $account, id: $id, operation: 'scan', status: 'queued', "
            "started: toString(datetime()), who: $who})", account=account_id, id=scan_id, who=who)

    def ledger(self, account_id: str, first: int, after: tuple[str, str] | None) -> list[dict[str, Any]]:
        """Ledger entries, oldest first (append-only: pages never shift), a keyset page on (at, element id)."""
        at, element = after or ("", "")
        return self.read(
            "MATCH (e:LedgerEntry {account_id: $account}) WITH e, toString(e.at) AS at, elementId(e) AS element "
            "WHERE NOT $after OR at > $at OR (at = $at AND element > $element) "
            "RETURN at, element, e {.*, at: at} AS entry ORDER BY at, element LIMIT $limit",
            account=account_id, after=after is not None, at=at, element=element, limit=first + 1,
        )

    def audit(self, account_id: str, first: int, after: tuple[str, str] | None) -> list[dict[str, Any]]:
        """Audit entries, newest first, a keyset page on (at, element id) (first + 1 rows)."""
        at, element = after or ("", "")
        return self.read(
            "MATCH (e:AuditEntry {account_id: $account}) WITH e, toString(e.at) AS at, elementId(e) AS element "
            "WHERE NOT $after OR at < $at OR (at = $at AND element < $element) "
            "RETURN at, element, e.who AS who, e.action AS action, e.detail AS detail "
            "ORDER BY at DESC, element DESC LIMIT $limit",
            account=account_id, after=after is not None, at=at, element=element, limit=first + 1,
        )


def audit(driver: Driver, account_id: str, who: str, action: str, detail: dict[str, Any]) -> None:
    driver.execute_query(
        "CREATE (:AuditEntry {account_id: $account, at: datetime(), who: $who, action: $action, detail: $detail})",
        account=account_id, who=who, action=action, detail=json.dumps(detail, default=str)[:20_000],
    )
