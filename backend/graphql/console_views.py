"""Reads the web console needs beyond the account's lists: who the caller is, the asset types, findings counted
by severity, product and region, and one asset with its neighbours (for drawing). Tenant-scoped like the rest."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import strawberry

from backend.graphql.account import Account
from backend.graphql.context import Ctx
from backend.graphql.enums import SEVERITY_RANK, FindingStatus, Severity
from backend.graphql.paths import Property
from backend.repository import ASSET_QUERY_LABELS

NEIGHBOURS_SHOWN = 40
SUMMARIES_KEPT = 64


@strawberry.type
class Caller:
    name: str
    role: str = strawberry.field(description="viewer, operator or admin: the console offers only what it may do.")


@strawberry.type
class SeverityCount:
    severity: Severity
    count: int


@strawberry.type
class Count:
    key: str
    count: int


@strawberry.type(description="Latest findings of one status counted by severity, product and region.")
class FindingsSummary:
    total: int
    by_severity: list[SeverityCount]
    by_product: list[Count]
    by_region: list[Count] = strawberry.field(description="`global` for assets without a region.")


@strawberry.type
class GraphNode:
    key: str = strawberry.field(description="type:id (a host and its ECS instance share an id)")
    id: str
    type: str
    label: str


@strawberry.type
class GraphEdge:
    source: str = strawberry.field(description="a node key")
    target: str
    type: str


@strawberry.type(description="One asset: its properties and its direct neighbours in the graph.")
class AssetView:
    id: str
    type: str
    region: str | None
    name: str | None
    properties: list[Property]
    nodes: list[GraphNode]
    edges: list[GraphEdge]


_summaries: dict[tuple[str, FindingStatus], tuple[list[dict[str, Any]], FindingsSummary]] = {}


def _counts(counter: Counter[str]) -> list[Count]:
    return [Count(key=k, count=counter[k]) for k in sorted(counter, key=lambda k: (-counter[k], k))]


def _text(value: Any) -> str:
    import json

    return value if isinstance(value, str) else json.dumps(value, default=str)


@strawberry.type
class ConsoleQuery:
    @strawberry.field(description="Who the token is.")
    def me(self, info: Ctx) -> Caller:
        ident = info.context.identity
        assert ident is not None  # the context refuses requests without a valid token
        return Caller(name=ident.name, role=ident.role)

    @strawberry.field(description="The asset types (graph labels) `assets(type: …)` takes.")
    def asset_types(self) -> list[str]:
        return list(ASSET_QUERY_LABELS)

    @strawberry.field(description="Latest findings of one status counted by severity, product and region.")
    async def findings_summary(self, info: Ctx, account_id: str,
                               status: FindingStatus = FindingStatus.NOT_PASS) -> FindingsSummary:
        info.context.require(account_id)
        index = await Account(id=account_id, name=None, collected_at=None)._findings_index(info)
        rows = index.get(status.value, [])
        hit = _summaries.get((account_id, status))
        if hit is not None and hit[0] is rows:  # counted once per findings version
            return hit[1]
        items = await info.context.items(account_id)
        severities = Counter(r["severity"] for r in rows)
        products = Counter(items[r["check_id"]].product if r["check_id"] in items else "" for r in rows)
        summary = FindingsSummary(
            total=len(rows),
            by_severity=[SeverityCount(severity=Severity(s), count=severities[s])
                         for s in sorted(severities, key=lambda s: SEVERITY_RANK.get(s, 9)) if s],
            by_product=_counts(products), by_region=_counts(Counter(r["region"] or "global" for r in rows)))
        if len(_summaries) >= SUMMARIES_KEPT:
            _summaries.pop(next(iter(_summaries)))
        _summaries[(account_id, status)] = (rows, summary)
        return summary

    @strawberry.field(description="One asset with its properties and neighbours (null: no such asset here).")
    async def asset_view(self, info: Ctx, account_id: str, asset_id: str) -> AssetView | None:
        info.context.require(account_id)
        rows = await asyncio.to_thread(
            info.context.repo.read,
            "MATCH (n {account_id: $account, id: $id}) WHERE labels(n)[0] IN $labels WITH n LIMIT 1 "
            "OPTIONAL MATCH (n)-[r]-(m {account_id: $account}) WITH n, r, m LIMIT $shown "
            "RETURN n {.*} AS props, labels(n)[0] AS type, collect(CASE WHEN m IS NULL THEN null ELSE "
            "{id: m.id, type: labels(m)[0], name: coalesce(m.name, m.id), rel: type(r), out: startNode(r) = n} "
            "END) AS near",
            account=account_id, id=asset_id, labels=ASSET_QUERY_LABELS, shown=NEIGHBOURS_SHOWN)
        if not rows:
            return None
        props, near, own_type = rows[0]["props"], rows[0]["near"], rows[0]["type"]
        own = f"{own_type}:{asset_id}"
        nodes = {own: GraphNode(key=own, id=asset_id, type=own_type, label=str(props.get("name") or asset_id))}
        edges = []
        for m in near:
            key = f"{m['type']}:{m['id']}"
            nodes.setdefault(key, GraphNode(key=key, id=m["id"], type=m["type"], label=str(m["name"])))
            edges.append(GraphEdge(source=own if m["out"] else key, target=key if m["out"] else own, type=m["rel"]))
        shown = {k: v for k, v in sorted(props.items()) if not k.startswith("_") and k not in ("uid", "account_id")}
        return AssetView(id=asset_id, type=own_type, region=props.get("region"), name=props.get("name"),
                         properties=[Property(key=k, value=_text(v)) for k, v in shown.items()],
                         nodes=list(nodes.values()), edges=edges)
