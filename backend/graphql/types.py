"""The GraphQL object types of the account: assets, findings, scans, attack paths, billing."""

from __future__ import annotations

import asyncio
import bisect
from typing import Any

import strawberry
from strawberry.scalars import JSON

from backend import billing
from backend.graphql.context import CACHE, Ctx, _account_rows, _findings_version, _page_size, _version
from backend.repository import decode_cursor, encode_cursor


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class FindingRef:
    check_id: str
    status: str


@strawberry.type
class Asset:
    id: str
    type: str
    region: str | None
    name: str | None
    supported: bool
    account_id: strawberry.Private[str]

    @strawberry.field
    async def findings(self, info: Ctx) -> list[FindingRef]:
        rows = await info.context.findings_loader(self.account_id).load(self.id)
        return [FindingRef(check_id=r["check_id"], status=r["status"]) for r in rows]


@strawberry.type
class AssetEdge:
    cursor: str
    node: Asset


@strawberry.type
class AssetConnection:
    edges: list[AssetEdge]
    page_info: PageInfo


@strawberry.type
class CheckItemType:
    id: str
    title: str
    product: str
    asset_type: str
    severity: str
    tier: str
    kind: str
    category: str | None
    refs: JSON
    remediation: str


@strawberry.type
class Result:
    check_id: str
    asset_type: str
    asset_id: str
    region: str
    status: str
    severity: str
    tier: str
    first_seen: str | None = None
    last_seen: str | None = None


@strawberry.type
class ResultEdge:
    cursor: str
    node: Result


@strawberry.type
class ResultConnection:
    edges: list[ResultEdge]
    page_info: PageInfo
    total: int


@strawberry.type
class ScanType:
    id: str
    status: str
    operation: str | None
    started: str | None
    finished: str | None
    authorizations: int
    account_id: strawberry.Private[str]
    items_done: int | None = None

    @strawberry.field
    async def results(self, info: Ctx, first: int | None = 50, after: str | None = None) -> ResultConnection:
        """This scan's results (the history: `findings` holds the latest per item and asset)."""
        from checks.catalog import BY_ID

        n = _page_size(first)
        rows = await asyncio.to_thread(info.context.repo.scan_results, self.account_id, self.id, n, decode_cursor(after))
        edges = []
        for r in rows[:n]:
            item = BY_ID.get(r["check_id"])
            edges.append(ResultEdge(cursor=encode_cursor(f"{r['check_id']}|{r['asset_id']}"), node=Result(
                check_id=r["check_id"], asset_type=item.asset_type if item else "", asset_id=r["asset_id"],
                region=r["region"], status=r["status"], severity=item.severity if item else "",
                tier=item.tier if item else "")))
        return ResultConnection(edges=edges, total=len(edges), page_info=PageInfo(
            has_next_page=len(rows) > n, end_cursor=edges[-1].cursor if edges else after))


@strawberry.type
class ScanOutcome:
    scan_id: str
    status: str
    authorizations_consumed: int
    results: list[Result]
    queued: bool = False


@strawberry.type
class PathNode:
    type: str
    id: str


@strawberry.type
class PathEdge:
    type: str
    detail: str
    conditional: bool


@strawberry.type
class AttackPath:
    id: str
    type: str
    severity: str
    conditional: bool
    entry: PathNode
    target: PathNode
    access: list[str]
    nodes: list[PathNode]
    edges: list[PathEdge]


@strawberry.type
class ChokePoint:
    type: str
    id: str
    paths_cut: int
    change: str


@strawberry.type
class AttackPathReport:
    doc: strawberry.Private[dict[str, Any]]

    @strawberry.field
    def total(self) -> int:
        return len(self.doc["paths"])

    @strawberry.field
    def paths(self, first: int | None = 50, offset: int = 0) -> list[AttackPath]:
        """A page of the paths, in the report's order (`total` says how many there are)."""
        if offset < 0:
            raise ValueError("offset must not be negative")
        return [_path(p) for p in self.doc["paths"][offset: offset + _page_size(first)]]

    @strawberry.field
    def choke_points(self, first: int = 50) -> list[ChokePoint]:
        """The changes that cut the most paths first."""
        return [ChokePoint(type=c["type"], id=c["id"], paths_cut=c["paths_cut"], change=c["change"])
                for c in self.doc["choke_points"][: max(0, min(first, 10_000))]]

    @strawberry.field
    def what_if(self) -> JSON | None:
        return self.doc.get("what_if")


@strawberry.type
class Billing:
    model: str
    edition: str
    cspm: bool
    quota_total: int
    quota_used: int
    quota_remaining: int | None
    expires: str | None
    recommended_quota: int
    usage: JSON


@strawberry.type
class LedgerPage:
    entries: JSON
    end_cursor: str | None
    has_next_page: bool


@strawberry.type
class Account:
    id: str
    name: str | None
    collected_at: str | None

    @strawberry.field
    async def assets(self, info: Ctx, type: str | None = None, region: str | None = None, tag: str | None = None,
                     risk: str | None = None, first: int | None = 50, after: str | None = None) -> AssetConnection:
        """Assets by type, region, tag, and risk: `risk: "high"` keeps those with a NOT_PASS finding of
        severity high or worse in the latest results."""
        n = _page_size(first)
        ids = None
        if risk is not None:
            from checks.model import SEVERITIES

            if risk not in SEVERITIES:
                raise ValueError(f"risk must be one of {', '.join(SEVERITIES)}")
            worst = set(SEVERITIES[: SEVERITIES.index(risk) + 1])
            index = await self._findings_index(info)
            ids = sorted({r["asset_id"] for r in index.get("NOT_PASS", []) if r["severity"] in worst})
        rows = await asyncio.to_thread(info.context.repo.assets_page, self.id, type, region, tag, n, decode_cursor(after),
                                       ids)
        edges = [AssetEdge(cursor=encode_cursor(r["uid"]), node=Asset(id=r["id"], type=r["type"], region=r["region"],
                                                                       name=r["name"], supported=r["supported"],
                                                                       account_id=self.id)) for r in rows[:n]]
        return AssetConnection(edges=edges, page_info=PageInfo(has_next_page=len(rows) > n,
                                                               end_cursor=edges[-1].cursor if edges else after))

    @strawberry.field
    async def findings(self, info: Ctx, severity: str | None = None, status: str | None = None,
                       check_id: str | None = None, asset_id: str | None = None, first: int | None = 50,
                       after: str | None = None) -> ResultConnection:

        n = _page_size(first)
        index = await self._findings_index(info)
        rows = index.get(status, []) if status is not None else index[None]
        if severity is not None or check_id is not None or asset_id is not None:
            rows = [r for r in rows if (severity is None or r["severity"] == severity)
                    and (check_id is None or r["check_id"] == check_id) and (asset_id is None or r["asset_id"] == asset_id)]
        start = 0
        cur = decode_cursor(after)
        if cur:
            check, _, asset = cur.partition("|")
            start = bisect.bisect_right(rows, (check, asset), key=lambda r: (r["check_id"], r["asset_id"]))
        page = rows[start:start + n]
        edges = [ResultEdge(cursor=encode_cursor(f"{r['check_id']}|{r['asset_id']}"), node=_result(r)) for r in page]
        return ResultConnection(edges=edges, total=len(rows), page_info=PageInfo(
            has_next_page=start + n < len(rows), end_cursor=edges[-1].cursor if edges else after))

    async def _findings_index(self, info: Ctx) -> dict[str | None, list[dict[str, Any]]]:
        from checks.packages import account_items
        from checks.scan import latest_findings

        version = await _version("findings", self.id, lambda: _findings_version(info.context.repo, self.id))
        index: dict[str | None, list[dict[str, Any]]] = await CACHE.get(
            "findings", self.id, version,
            lambda: _findings_index(latest_findings(info.context.driver, self.id, account_items(info.context.driver, self.id))))
        return index

    @strawberry.field
    async def scans(self, info: Ctx, first: int | None = 20) -> list[ScanType]:
        rows = await asyncio.to_thread(info.context.repo.scans, self.id, _page_size(first))
        return [ScanType(**r, account_id=self.id) for r in rows]

    @strawberry.field
    async def attack_paths(self, info: Ctx, what_if: list[str] | None = None) -> AttackPathReport:
        from checks.paths import analyse_paths

        plan = await CACHE.get("plan", self.id, await _version("plan", self.id, lambda: str(
            info.context.repo.read("MATCH (p:Plan {uid: $u}) RETURN p {.*} AS p", u=f"{self.id}:plan"))),
            lambda: billing.load_plan(info.context.driver, self.id))
        decision = billing.decide(plan, "paths")
        if not decision.allowed:
            raise PermissionError(f"attack path analysis needs {decision.enabled_by}")
        if what_if:
            doc = await asyncio.to_thread(analyse_paths, info.context.driver, self.id, what_if)
        else:
            rows = await _account_rows(info.context.repo, self.id)
            version = f"{rows[0]['current_sync']}|{rows[0]['raw_digest']}" if rows else ""
            doc = await CACHE.get("paths", self.id, version, lambda: analyse_paths(info.context.driver, self.id))
        info.context.repo.queries += 7
        return AttackPathReport(doc=doc)

    @strawberry.field
    async def billing(self, info: Ctx) -> Billing:
        doc = await asyncio.to_thread(billing.billing_show, info.context.driver, self.id)
        return Billing(model=doc["model"], edition=doc["edition"], cspm=doc["cspm"], quota_total=doc["quota_total"],
                       quota_used=doc["quota_used"], quota_remaining=doc["quota_remaining"], expires=doc["expires"],
                       recommended_quota=doc["recommended_quota"], usage=doc["usage"])

    @strawberry.field
    async def ledger(self, info: Ctx, first: int | None = 50, after: str | None = None) -> LedgerPage:
        doc = await asyncio.to_thread(billing.ledger_page, info.context.driver, self.id, after, _page_size(first))
        return LedgerPage(entries=doc["entries"], end_cursor=doc["end_cursor"], has_next_page=doc["has_next_page"])

    @strawberry.field
    async def compliance_report(self, info: Ctx, package: str) -> JSON:
        from checks.catalog import BY_ID
        from checks.packages import compliance_report
        from checks.scan import latest_findings

        rows = await asyncio.to_thread(latest_findings, info.context.driver, self.id, BY_ID)
        return compliance_report(package, rows, self.id)  # the document `skypath compliance --format json` prints

    @strawberry.field
    async def remediation_plan(self, info: Ctx, check_id: str, asset_id: str) -> JSON:
        from backend.remediate import plan

        return await asyncio.to_thread(plan, info.context.driver, self.id, check_id, asset_id)

    @strawberry.field
    async def audit_log(self, info: Ctx, first: int | None = 50) -> JSON:
        info.context.require(self.id, "operator")
        return await asyncio.to_thread(info.context.repo.audit, self.id, _page_size(first))


def _findings_index(rows: list[dict[str, Any]]) -> dict[str | None, list[dict[str, Any]]]:
    """Latest results sorted by (check, asset), and the same split by status: a page is a slice."""
    rows = sorted(rows, key=lambda r: (r["check_id"], r["asset_id"]))
    index: dict[str | None, list[dict[str, Any]]] = {None: rows}
    for r in rows:
        index.setdefault(r["status"], []).append(r)
    return index


def _result(r: dict[str, Any]) -> Result:
    return Result(check_id=r["check_id"], asset_type=r["asset_type"], asset_id=r["asset_id"], region=r["region"],
                  status=r["status"], severity=r["severity"], tier=r["tier"], first_seen=r.get("first_seen"),
                  last_seen=r.get("last_seen"))


def _path(p: dict[str, Any]) -> AttackPath:
    return AttackPath(
        id=p["id"], type=p["type"], severity=p["severity"], conditional=p["conditional"],
        entry=PathNode(**p["entry"]), target=PathNode(**p["target"]), access=p["access"],
        nodes=[PathNode(**n) for n in p["nodes"]],
        edges=[PathEdge(type=e["type"], detail=e["detail"], conditional=e["conditional"]) for e in p["edges"]],
    )


def _item(i: Any) -> CheckItemType:
    return CheckItemType(id=i.id, title=i.title, product=i.product, asset_type=i.asset_type, severity=i.severity,
                         tier=i.tier, kind=i.kind, category=i.category, refs=dict(i.refs), remediation=i.remediation)

