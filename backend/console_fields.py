"""The typed reads the web console needs beyond the core schema: finding facets and a sortable, filterable
findings page, asset search and an asset's neighbourhood, attack paths through a node, check item details.

Every field is tenant-scoped like the rest of the API (`Context.require`) and pages on the server: a console
on a 100k-asset account never fetches everything. Merged into `Query` by backend/api.py.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import strawberry

from backend.api import Account, AttackPath, Ctx, _page_size, _path
from backend.repository import ASSET_QUERY_LABELS

SEVERITY_ORDER = {"critical": 0, "high": 1, "medium": 2, "low": 3}
NEIGHBOURS_SHOWN = 40
SORTED_KEPT = 64  # sorted findings/paths lists kept per process (by account, status and order)


@strawberry.type
class Count:
    key: str
    count: int


@strawberry.type
class FindingsSummary:
    total: int
    by_severity: list[Count]
    by_product: list[Count]
    by_region: list[Count]


@strawberry.type
class ConsoleFinding:
    check_id: str
    title: str
    product: str
    asset_id: str
    asset_type: str
    region: str
    status: str
    severity: str
    first_seen: str | None
    last_seen: str | None


@strawberry.type
class ConsoleFindingPage:
    total_count: int
    nodes: list[ConsoleFinding]


@strawberry.type
class CheckItemDetail:
    id: str
    title: str
    product: str
    asset_type: str
    severity: str
    tier: str
    description: str
    remediation: str
    remediation_action: str | None
    refs: list[str]  # "<package> <requirement>"


@strawberry.type
class AssetRow:
    id: str
    type: str
    region: str | None
    name: str | None


@strawberry.type
class AssetPage:
    total_count: int
    nodes: list[AssetRow]


@strawberry.type
class Property:
    key: str
    value: str


@strawberry.type
class GraphNode:
    key: str  # type:id (a host and its ECS instance share an id)
    id: str
    type: str
    label: str


@strawberry.type
class GraphEdge:
    source: str  # node keys
    target: str
    type: str


@strawberry.type
class AssetDetail:
    id: str
    type: str
    region: str | None
    name: str | None
    properties: list[Property]
    nodes: list[GraphNode]
    edges: list[GraphEdge]


@strawberry.type
class PathPage:
    total_count: int
    nodes: list[AttackPath]


def _counts(counter: Counter[str], order: dict[str, int] | None = None) -> list[Count]:
    keys = sorted(counter, key=lambda k: (order.get(k, 99), k) if order else (-counter[k], k))
    return [Count(key=k, count=counter[k]) for k in keys]


def _items(info: Ctx, account_id: str) -> dict[str, Any]:
    from checks.packages import account_items

    return account_items(info.context.driver, account_id)


def _finding_sort_key(sort: str) -> Any:
    keys = {
        "severity": lambda r: (SEVERITY_ORDER.get(r["severity"], 9), r["check_id"], r["asset_id"]),
        "check": lambda r: (r["check_id"], r["asset_id"]),
        "asset": lambda r: (r["asset_id"], r["check_id"]),
        "region": lambda r: (r["region"] or "", r["check_id"], r["asset_id"]),
        "lastSeen": lambda r: (r.get("last_seen") or "", r["check_id"], r["asset_id"]),
    }
    if sort.lstrip("-") not in keys:
        raise ValueError(f"sort must be one of {', '.join(keys)} (prefix - for descending)")
    return keys[sort.lstrip("-")]


def what_if_change(choke: dict[str, Any]) -> str | None:
    """The `attackPaths(whatIf: …)` change that cuts a choke point's edge (checks/paths.py WHAT_IF_FORMS);
    None for a grant no policy names."""
    edge = choke["edge"]
    kind, src, dst = edge["type"], edge["from"], edge["to"]
    if kind == "EXPOSES":
        return f"close-exposure:{choke['id']}"
    if kind == "ASSUMES":
        return f"detach-role:{src}"
    if kind == "AUTHENTICATES":
        return f"disable-key:{src}"
    if kind == "CAN_ASSUME":
        return f"remove-assume:{src}->{dst}"
    return f"detach-policy:{choke['id']}@{src}" if choke["type"] == "RamPolicy" else None


@strawberry.type
class Caller:
    name: str
    role: str


@strawberry.type
class ConsoleQuery:
    @strawberry.field
    def me(self, info: Ctx) -> Caller:
        """Who the token is: the console shows operator and admin actions only to those roles."""
        ident = info.context.identity
        assert ident is not None  # the context refuses requests without a valid token
        return Caller(name=ident.name, role=ident.role)

    @strawberry.field
    def asset_types(self) -> list[str]:
        return list(ASSET_QUERY_LABELS)

    @strawberry.field
    async def findings_summary(self, info: Ctx, account_id: str, status: str = "NOT_PASS") -> FindingsSummary:
        """Latest findings of one status counted by severity, product and region."""
        info.context.require(account_id)
        index = await Account(id=account_id, name=None, collected_at=None)._findings_index(info)
        rows = index.get(status, [])
        items = _items(info, account_id)
        products = Counter(items[r["check_id"]].product if r["check_id"] in items else "" for r in rows)
        return FindingsSummary(
            total=len(rows), by_severity=_counts(Counter(r["severity"] for r in rows), SEVERITY_ORDER),
            by_product=_counts(products), by_region=_counts(Counter(r["region"] or "global" for r in rows)))

    @strawberry.field
    async def finding_page(self, info: Ctx, account_id: str, severity: str | None = None, status: str | None = None,
                           check_id: str | None = None, product: str | None = None, region: str | None = None,
                           asset_id: str | None = None, sort: str = "severity", first: int | None = 50,
                           offset: int = 0) -> ConsoleFindingPage:
        """Latest findings filtered and sorted on the server, one page at an offset."""
        info.context.require(account_id)
        n = _page_size(first)
        if offset < 0:
            raise ValueError("offset must not be negative")
        key = _finding_sort_key(sort)
        index = await Account(id=account_id, name=None, collected_at=None)._findings_index(info)
        items = _items(info, account_id)
        source = index.get(status, []) if status else index[None]
        rows = _sorted_once((account_id, "findings", status, sort), source, key, reverse=sort.startswith("-"))
        if any(v is not None for v in (severity, check_id, asset_id, region, product)):
            rows = [r for r in rows
                    if (severity is None or r["severity"] == severity) and (check_id is None or r["check_id"] == check_id)
                    and (asset_id is None or r["asset_id"] == asset_id) and (region is None or r["region"] == region)
                    and (product is None or (r["check_id"] in items and items[r["check_id"]].product == product))]
        return ConsoleFindingPage(total_count=len(rows), nodes=[ConsoleFinding(
            check_id=r["check_id"], title=items[r["check_id"]].title if r["check_id"] in items else r["check_id"],
            product=items[r["check_id"]].product if r["check_id"] in items else "", asset_id=r["asset_id"],
            asset_type=r["asset_type"], region=r["region"] or "", status=r["status"], severity=r["severity"],
            first_seen=r.get("first_seen"), last_seen=r.get("last_seen")) for r in rows[offset:offset + n]])

    @strawberry.field
    def check_item(self, info: Ctx, account_id: str, id: str) -> CheckItemDetail | None:
        """A check item (catalog or the account's custom) with its description and remediation text."""
        info.context.require(account_id)
        item = _items(info, account_id).get(id)
        if item is None:
            return None
        return CheckItemDetail(
            id=item.id, title=item.title, product=item.product, asset_type=item.asset_type, severity=item.severity,
            tier=item.tier, description=item.description, remediation=item.remediation,
            remediation_action=item.remediation_action,
            refs=[f"{k} {v}" for k, v in item.refs.items()])

    @strawberry.field
    async def asset_search(self, info: Ctx, account_id: str, text: str | None = None, type: str | None = None,
                           region: str | None = None, first: int | None = 50, offset: int = 0) -> AssetPage:
        """Assets whose id or name contains `text` (case-insensitive), by type and region, with the total."""
        info.context.require(account_id)
        n = _page_size(first)
        if offset < 0:
            raise ValueError("offset must not be negative")
        if type is not None and type not in ASSET_QUERY_LABELS:
            raise ValueError(f"unknown asset type {type!r}; known: {', '.join(ASSET_QUERY_LABELS)}")
        rows = await asyncio.to_thread(
            info.context.repo.read,
            "MATCH (n {account_id: $account}) WHERE labels(n)[0] IN $labels "
            "AND ($region IS NULL OR n.region = $region) "
            "AND ($text IS NULL OR toLower(n.id) CONTAINS $text OR toLower(coalesce(n.name, '')) CONTAINS $text) "
            "WITH n ORDER BY labels(n)[0], n.id "
            "WITH collect({id: n.id, type: labels(n)[0], region: n.region, name: n.name}) AS found "
            "RETURN size(found) AS total, found[$offset..$offset + $first] AS page",
            account=account_id, labels=[type] if type else ASSET_QUERY_LABELS, region=region,
            text=text.lower() if text else None, offset=offset, first=n)
        return AssetPage(total_count=rows[0]["total"], nodes=[AssetRow(**r) for r in rows[0]["page"]])

    @strawberry.field
    async def asset_detail(self, info: Ctx, account_id: str, asset_id: str) -> AssetDetail | None:
        """An asset's properties and its direct neighbours in the graph (for drawing)."""
        info.context.require(account_id)
        rows = await asyncio.to_thread(
            info.context.repo.read,
            "MATCH (n {account_id: $account, id: $id}) WHERE labels(n)[0] IN $labels WITH n LIMIT 1 "
            "OPTIONAL MATCH (n)-[r]-(m {account_id: $account}) "
            "WITH n, r, m LIMIT $shown "
            "RETURN n {.*} AS props, labels(n)[0] AS type, collect(CASE WHEN m IS NULL THEN null ELSE "
            "{id: m.id, type: labels(m)[0], name: coalesce(m.name, m.id), rel: type(r), out: startNode(r) = n} "
            "END) AS near",
            account=account_id, id=asset_id, labels=ASSET_QUERY_LABELS, shown=NEIGHBOURS_SHOWN)
        if not rows:
            return None
        props, near = rows[0]["props"], rows[0]["near"]
        own = f"{rows[0]['type']}:{asset_id}"
        nodes = {own: GraphNode(key=own, id=asset_id, type=rows[0]["type"], label=str(props.get("name") or asset_id))}
        edges = []
        for m in near:
            key = f"{m['type']}:{m['id']}"
            nodes.setdefault(key, GraphNode(key=key, id=m["id"], type=m["type"], label=str(m["name"])))
            src, dst = (own, key) if m["out"] else (key, own)
            edges.append(GraphEdge(source=src, target=dst, type=m["rel"]))
        shown = {k: v for k, v in sorted(props.items()) if not k.startswith("_") and k not in ("uid", "account_id")}
        return AssetDetail(id=asset_id, type=rows[0]["type"], region=props.get("region"), name=props.get("name"),
                           properties=[Property(key=k, value=v if isinstance(v, str) else _text(v))
                                       for k, v in shown.items()],
                           nodes=list(nodes.values()), edges=edges)

    @strawberry.field
    async def paths_page(self, info: Ctx, account_id: str, through: str | None = None, entry: str | None = None,
                         target: str | None = None, first: int | None = 50, offset: int = 0) -> PathPage:
        """Attack paths through a node, from an entry or to a target, in the report's order (most severe first)."""
        info.context.require(account_id)
        n = _page_size(first)
        if offset < 0:
            raise ValueError("offset must not be negative")
        report = await Account(id=account_id, name=None, collected_at=None).attack_paths(info)  # type: ignore[misc,arg-type]  # a resolver called directly
        paths = _sorted_once((account_id, "paths"), report.doc["paths"],
                             lambda p: SEVERITY_ORDER.get(p["severity"], 9))  # stable: the report's order within
        if entry is not None or target is not None or through is not None:
            paths = [p for p in paths
                     if (entry is None or p["entry"]["id"] == entry) and (target is None or p["target"]["id"] == target)
                     and (through is None or any(node["id"] == through for node in p["nodes"]))]
        return PathPage(total_count=len(paths), nodes=[_path(p) for p in paths[offset:offset + n]])


_SORTED: dict[tuple[str | None, ...], tuple[list[dict[str, Any]], list[dict[str, Any]]]] = {}


def _sorted_once(key: tuple[str | None, ...], rows: list[dict[str, Any]], sort_key: Any,
                 reverse: bool = False) -> list[dict[str, Any]]:
    """`rows` sorted, computed once per source list (the cached findings index or paths report of a data
    version): 140k findings or 450k paths are not re-sorted on every page."""
    hit = _SORTED.get(key)
    if hit is None or hit[0] is not rows:
        hit = (rows, sorted(rows, key=sort_key, reverse=reverse))
        _SORTED.pop(key, None)
        if len(_SORTED) >= SORTED_KEPT:
            _SORTED.pop(next(iter(_SORTED)))
        _SORTED[key] = hit
    return hit[1]


def _text(value: Any) -> str:
    import json

    return json.dumps(value, default=str)
