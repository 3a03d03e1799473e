"""GraphQL API (strawberry on FastAPI), REST health and agent upload, and the web console.

Every resolver is tenant-scoped: a token sees only its accounts, and an account it may not see
looks exactly like one that does not exist. Every mutation is audited.
"""

from __future__ import annotations

import asyncio
import bisect
import gc
import json
import time
from dataclasses import dataclass
from typing import Any

import strawberry
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse
from strawberry.dataloader import DataLoader
from strawberry.extensions import (
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.fastapi import BaseContext, GraphQLRouter
from strawberry.scalars import JSON
from strawberry.types import Info

from backend import billing
from backend.api_posture import PostureMutation, PostureQuery
from backend.auth import AuthError, Identity, authenticate, cached_identity
from backend.repository import Repository, audit, decode_cursor, encode_cursor
from backend.response_cache import GraphQLResponseCache, ResponseCache

MAX_PAGE = 500


class _VersionedCache:
    """Per-process cache of expensive per-account documents, keyed by the data version they derive from.

    One builder per key runs at a time. Requests that arrive while a new version is being built get the
    previous document (readers keep seeing the last complete state, as with a sync) — unless this process
    changed the account itself (`require_fresh`): then they wait for the new one (read-your-writes)."""

    def __init__(self, size: int = 32):
        self.size = size
        self.entries: dict[tuple[str, str], tuple[str, Any]] = {}
        self.locks: dict[tuple[str, str], asyncio.Lock] = {}
        self.fresh_required: set[str] = set()

    def require_fresh(self, account: str) -> None:
        self.fresh_required.add(account)

    async def get(self, kind: str, account: str, version: str, build: Any) -> Any:
        key = (kind, account)
        hit = self.entries.get(key)
        if hit is not None and hit[0] == version:
            return hit[1]
        lock = self.locks.setdefault(key, asyncio.Lock())
        if hit is not None and lock.locked() and account not in self.fresh_required:
            return hit[1]
        async with lock:
            hit = self.entries.get(key)
            if hit is not None and hit[0] == version:
                return hit[1]
            value = await asyncio.to_thread(build)
            if len(self.entries) >= self.size:
                self.entries.pop(next(iter(self.entries)))
            self.entries[key] = (version, value)
            self.fresh_required.discard(account)
            # long-lived documents (hundreds of thousands of objects) leave the collector's generations:
            # full collections would otherwise walk them and stall every request in flight
            gc.freeze()
            return value


CACHE = _VersionedCache()


class _Versions:
    """Per-process data versions (and account rows), re-read at most once a second per (kind, account) by
    one reader at a time: while it reads, the others use the last value, so a busy second costs one query
    and a change made elsewhere shows within about a second. Mutations in this process invalidate at once."""

    TTL_SECONDS = 1.0

    def __init__(self) -> None:
        self.values: dict[tuple[str, str], tuple[float, Any]] = {}
        self.locks: dict[tuple[str, str], asyncio.Lock] = {}

    async def get(self, kind: str, account_id: str, read: Any) -> Any:
        key = (kind, account_id)
        hit = self.values.get(key)
        if hit is not None and time.monotonic() - hit[0] < self.TTL_SECONDS:
            return hit[1]
        lock = self.locks.setdefault(key, asyncio.Lock())
        if hit is not None and lock.locked():
            return hit[1]  # another request is refreshing it
        async with lock:
            again = self.values.get(key)
            if again is not None and again is not hit and time.monotonic() - again[0] < self.TTL_SECONDS:
                return again[1]
            value = await asyncio.to_thread(read)
            self.values[key] = (time.monotonic(), value)
            return value

    def invalidate(self, account_id: str) -> None:
        for key in [k for k in self.values if k[1] == account_id]:
            self.values.pop(key, None)


VERSIONS = _Versions()
RESPONSES = ResponseCache()


class _Changes:
    """`with _Changes(account_id):` around a mutation: afterwards (even after a failure part-way) this
    process forgets the account's versions and every cached response."""

    def __init__(self, account_id: str):
        self.account_id = account_id

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        VERSIONS.invalidate(self.account_id)
        CACHE.require_fresh(self.account_id)
        RESPONSES.clear()


def _response_scope(token: str | None) -> tuple[Any, ...] | None:
    """What a cached response may be shared by: callers of the same role and accounts (None: not cacheable)."""
    try:
        ident = cached_identity(token)
    except AuthError:
        return None
    if ident is None or ident.kind != "api":
        return None
    return (ident.role, tuple(sorted(ident.accounts)))


async def _audit(driver: Any, account_id: str, who: str, action: str, detail: dict[str, Any]) -> None:
    await asyncio.to_thread(audit, driver, account_id, who, action, detail)


async def _version(kind: str, account_id: str, read: Any) -> str:
    return str(await VERSIONS.get(kind, account_id, read))


def _findings_version(repo: Repository, account_id: str) -> str:
    rows = repo.read("MATCH (st:ItemState {account_id: $a}) RETURN max(st.updated) AS v, count(st) AS n", a=account_id)
    return f"{rows[0]['v']}|{rows[0]['n']}" if rows else ""


async def _account_rows(repo: Repository, account_id: str) -> list[dict[str, Any]]:
    """The account's row (name, collected_at, current sync), cached like a version."""
    rows: list[dict[str, Any]] = await VERSIONS.get("account", account_id, lambda: repo.accounts([account_id]))
    return rows


class Context(BaseContext):
    def __init__(self, driver: Any, identity: Identity | None):
        super().__init__()
        self.driver = driver
        self.identity = identity
        self.repo = Repository(driver)
        self._finding_loaders: dict[str, DataLoader[str, list[dict[str, Any]]]] = {}

    def require(self, account_id: str, role: str = "viewer") -> Identity:
        ident = self.identity
        if ident is None or not ident.can_see(account_id):
            raise PermissionError(f"account {account_id} not found")
        if not ident.at_least(role):
            raise PermissionError(f"this operation needs the {role} role")
        return ident

    def findings_loader(self, account_id: str) -> DataLoader[str, list[dict[str, Any]]]:
        if account_id not in self._finding_loaders:
            async def load(keys: list[str]) -> list[list[dict[str, Any]]]:
                found = await asyncio.to_thread(self.repo.findings_for_assets, account_id, list(keys))
                return [found.get(k, []) for k in keys]

            self._finding_loaders[account_id] = DataLoader(load_fn=load)
        return self._finding_loaders[account_id]


Ctx = Info[Context, None]


def _page_size(first: int | None) -> int:
    n = 50 if first is None else first
    if n < 1 or n > MAX_PAGE:
        raise ValueError(f"first must be between 1 and {MAX_PAGE}")
    return n


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


@strawberry.type
class Query(PostureQuery):
    @strawberry.field
    async def accounts(self, info: Ctx) -> list[Account]:
        ident = info.context.identity
        assert ident is not None
        if "*" in ident.accounts:
            rows = await asyncio.to_thread(info.context.repo.read, "MATCH (a:Account) RETURN a.id AS id")
            ids = [r["id"] for r in rows]
        else:
            ids = list(ident.accounts)
        rows = await asyncio.to_thread(info.context.repo.accounts, ids)
        return [Account(id=r["id"], name=r["name"], collected_at=r["collected_at"]) for r in rows]

    @strawberry.field
    async def account(self, info: Ctx, id: str) -> Account | None:
        ident = info.context.identity
        if ident is None or not ident.can_see(id):
            return None
        rows = await _account_rows(info.context.repo, id)
        return Account(id=rows[0]["id"], name=rows[0]["name"], collected_at=rows[0]["collected_at"]) if rows else None

    @strawberry.field
    async def scan(self, info: Ctx, account_id: str, id: str) -> ScanType | None:
        """Poll a scan's progress/status (`startScan(runAsync: true)` returns quickly; poll this)."""
        ident = info.context.identity
        if ident is None or not ident.can_see(account_id):
            return None
        rows = await asyncio.to_thread(
            info.context.repo.read,
            "MATCH (s:Scan {account_id: $account, id: $id}) OPTIONAL MATCH (s)-[:HAS_RUN]->(r:CheckRun) "
            "RETURN s.id AS id, s.status AS status, s.operation AS operation, s.started AS started, "
            "s.finished AS finished, coalesce(s.authorizations, 0) AS authorizations, count(r) AS items_done",
            account=account_id, id=id)
        if not rows:
            return None
        row = rows[0]
        return ScanType(**{k: v for k, v in row.items() if k != "items_done"}, items_done=row["items_done"],
                        account_id=account_id)

    @strawberry.field
    def check_items(self, package: str | None = None) -> list[CheckItemType]:
        from checks.catalog import CATALOG
        from checks.packages import package_items

        return [_item(i) for i in (package_items(package) if package else CATALOG)]

    @strawberry.field
    def packages(self) -> list[str]:
        from checks.model import PACKAGES

        return list(PACKAGES)


@strawberry.type
class CypherResult:
    columns: list[str]
    rows: JSON


CONSOLE_QUERIES_PER_TOKEN = 2  # concurrent console queries of one token (each may run up to 30 s)
_console_running: dict[str, int] = {}
WORKER_CHECK_SECONDS = 10.0
_workers_seen: tuple[float, bool] = (0.0, False)


def _workers_available() -> bool:
    """Does a Celery worker answer? (asked at most every WORKER_CHECK_SECONDS)"""
    global _workers_seen
    if time.monotonic() - _workers_seen[0] < WORKER_CHECK_SECONDS:
        return _workers_seen[1]
    try:
        from backend.tasks import celery_app

        available = bool(celery_app.control.ping(timeout=0.5))
    except Exception:  # noqa: BLE001 - no broker, no workers: scans run inline
        available = False
    _workers_seen = (time.monotonic(), available)
    return available


@strawberry.type
class Mutation(PostureMutation):
    @strawberry.mutation
    async def start_scan(self, info: Ctx, account_id: str, check_ids: list[str] | None = None,
                         package: str | None = None, policy: str | None = None,
                         run_async: bool | None = None) -> ScanOutcome:
        """Run check items (catalog and custom; by ids, package and/or custom policy): as a Celery task when
        workers run (poll `scan(accountId, id)`), else inline. `runAsync: true` insists on a worker, `false`
        on running inline."""
        from checks.packages import select_items
        from checks.scan import new_scan_id

        ident = info.context.require(account_id, "operator")
        # an unknown item, package or policy is an error now, not in the worker
        await asyncio.to_thread(select_items, info.context.driver, account_id, check_ids, package, policy)
        with _Changes(account_id):
            await _audit(info.context.driver, account_id, ident.name, "api.start_scan",
                         {"checks": check_ids, "package": package, "policy": policy})
            queue = await asyncio.to_thread(_workers_available) if run_async is not False else False
            if run_async and not queue:
                raise ValueError("no Celery worker is running: start one, or scan with runAsync: false")
            if queue:
                from backend.tasks import scan_task

                scan_id = new_scan_id()
                await asyncio.to_thread(info.context.repo.queue_scan, account_id, scan_id, ident.name)
                scan_task.delay(account_id, check_ids, ident.name, package, scan_id, policy)
                return ScanOutcome(scan_id=scan_id, status="queued", authorizations_consumed=0, results=[], queued=True)
            return await asyncio.to_thread(_scan_inline, info.context.driver, account_id, check_ids, package,
                                           ident.name, "scan", None, policy)

    @strawberry.mutation
    async def verify(self, info: Ctx, account_id: str, check_id: str, asset_id: str) -> ScanOutcome:
        ident = info.context.require(account_id, "operator")
        with _Changes(account_id):
            await _audit(info.context.driver, account_id, ident.name, "api.verify",
                         {"check_id": check_id, "asset_id": asset_id})
            return await asyncio.to_thread(_scan_inline, info.context.driver, account_id, [check_id], None, ident.name,
                                           "verify", asset_id)

    @strawberry.mutation
    async def whitelist(self, info: Ctx, account_id: str, check_id: str, asset_id: str, reason: str) -> JSON:
        from checks.packages import select_items
        from checks.scan import whitelist_add

        ident = info.context.require(account_id, "operator")
        await asyncio.to_thread(select_items, info.context.driver, account_id, [check_id], None, None)
        with _Changes(account_id):
            return await asyncio.to_thread(whitelist_add, info.context.driver, account_id, check_id, asset_id, reason,
                                           ident.name)

    @strawberry.mutation
    async def remove_whitelist(self, info: Ctx, account_id: str, check_id: str, asset_id: str) -> bool:
        """The next scans evaluate the (item, asset) again; false when it was not whitelisted."""
        from checks.scan import whitelist_remove

        ident = info.context.require(account_id, "operator")
        with _Changes(account_id):
            removed: bool = await asyncio.to_thread(whitelist_remove, info.context.driver, account_id, check_id,
                                                    asset_id, ident.name)
            return removed

    @strawberry.mutation
    async def add_custom_check(self, info: Ctx, account_id: str, check_id: str, title: str, asset_type: str,
                               severity: str, query: str, description: str = "") -> JSON:
        """A custom check item: read-only Cypher returning the failing `asset_id`s, every read scoped to the
        account (refused otherwise, before anything is stored)."""
        from checks.custom import add_custom_check

        ident = info.context.require(account_id, "admin")
        with _Changes(account_id):
            row: dict[str, Any] = await asyncio.to_thread(
                add_custom_check, info.context.driver, account_id, check_id, title, asset_type, severity, query,
                ident.name, description)
            return row

    @strawberry.mutation
    async def save_policy(self, info: Ctx, account_id: str, name: str, check_ids: list[str] | None = None,
                          packages: list[str] | None = None) -> JSON:
        """A custom policy: a named selection of items (catalog or custom) and packages; scan it with `policy`."""
        from checks.packages import save_policy

        ident = info.context.require(account_id, "operator")
        with _Changes(account_id):
            doc: dict[str, Any] = await asyncio.to_thread(save_policy, info.context.driver, account_id, name,
                                                          list(check_ids or []), list(packages or []), ident.name)
            await _audit(info.context.driver, account_id, ident.name, "api.save_policy", doc)
            return doc

    @strawberry.mutation
    async def remediate(self, info: Ctx, account_id: str, check_id: str, asset_id: str, dry_run: bool = True) -> JSON:
        from backend.remediate import plan

        ident = info.context.require(account_id, "operator" if dry_run else "admin")
        with _Changes(account_id):
            await _audit(info.context.driver, account_id, ident.name, "api.remediate",
                         {"check_id": check_id, "asset_id": asset_id, "dry_run": dry_run})
            if not dry_run:
                from backend.remediation_runtime import execute_for_account

                return await asyncio.to_thread(execute_for_account, info.context.driver, account_id, check_id,
                                               asset_id, ident.name)
            return await asyncio.to_thread(plan, info.context.driver, account_id, check_id, asset_id)

    @strawberry.mutation
    async def set_plan(self, info: Ctx, account_id: str, model: str, edition: str | None = None, cspm: bool = False,
                       quota: int | None = None, expires: str | None = None, legacy_free: bool = False) -> Billing:
        ident = info.context.require(account_id, "admin")
        with _Changes(account_id):
            await asyncio.to_thread(billing.set_plan, info.context.driver, account_id, model=model, edition=edition,
                                    cspm=cspm, quota=quota, expires=expires, legacy_free=legacy_free, who=ident.name)
        return await Account(id=account_id, name=None, collected_at=None).billing(info)  # type: ignore[misc]

    @strawberry.mutation
    async def run_cypher(self, info: Ctx, account_id: str, query: str, limit: int = 1000) -> CypherResult:
        """The read-only console: every read confined to the account (checks/cypher_guard.py)."""
        from backend.console import run_read_only

        ident = info.context.require(account_id, "viewer")
        if _console_running.get(ident.token_id, 0) >= CONSOLE_QUERIES_PER_TOKEN:
            raise ValueError(f"at most {CONSOLE_QUERIES_PER_TOKEN} console queries of one token run at once")
        _console_running[ident.token_id] = _console_running.get(ident.token_id, 0) + 1
        try:
            with _Changes(account_id):  # the audit entry is new data for auditLog
                await _audit(info.context.driver, account_id, ident.name, "api.cypher", {"query": query[:2000]})
            doc = await asyncio.to_thread(run_read_only, info.context.driver, account_id, query,
                                          max(1, min(limit, 10_000)))
        finally:
            _console_running[ident.token_id] -= 1
        return CypherResult(columns=doc["columns"], rows=doc["rows"])


def _scan_inline(driver: Any, account_id: str, check_ids: list[str] | None, package: str | None, who: str,
                 operation: str, asset_id: str | None, policy: str | None = None) -> ScanOutcome:
    from backend.entitlements import PlanBiller
    from checks.packages import select_items
    from checks.scan import run_items

    items = select_items(driver, account_id, check_ids, package, policy)
    billing.require_activation(driver, account_id, items)
    report = run_items(driver, account_id, items, PlanBiller(billing.load_plan(driver, account_id), who),
                       operation=operation, asset_id=asset_id, who=who)
    return ScanOutcome(scan_id=report.scan_id, status=report.status,
                       authorizations_consumed=report.authorizations_consumed,
                       results=[_result(r.as_dict()) for r in report.results])


schema = strawberry.Schema(
    query=Query, mutation=Mutation,
    extensions=[lambda: QueryDepthLimiter(max_depth=8), lambda: MaxTokensLimiter(max_token_count=2000),
                lambda: MaxAliasesLimiter(max_alias_count=15),
                # factories: the LRU caches behind them live at module level, shared by every request
                lambda: ParserCache(maxsize=256), lambda: ValidationCache(maxsize=256)],
)


@dataclass
class AppState:
    driver: Any


def create_app(driver: Any | None = None, graphiql: bool = True) -> FastAPI:
    from backend.runtime import get_driver

    state = AppState(driver or get_driver())
    app = FastAPI(title="Skypath", version="0.1.0", description="CSPM and attack paths for Alibaba Cloud")

    async def context_getter(request: Request) -> Context:
        header = request.headers.get("authorization", "")
        token = header[7:].strip() if header.lower().startswith("bearer ") else None
        try:
            identity = cached_identity(token)
            if identity is None:
                identity = await asyncio.to_thread(authenticate, state.driver, token)
        except AuthError as exc:
            raise HTTPException(status_code=401, detail=str(exc), headers={"WWW-Authenticate": "Bearer"}) from exc
        if identity.kind != "api":
            raise HTTPException(status_code=403, detail="agent tokens can only upload host reports")
        return Context(state.driver, identity)

    router: GraphQLRouter[Context, None] = GraphQLRouter(schema, context_getter=context_getter,
                                                         graphql_ide="graphiql" if graphiql else None)
    app.include_router(router, prefix="/graphql")
    app.add_middleware(GraphQLResponseCache, cache=RESPONSES, caller=_response_scope)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    def readyz() -> JSONResponse:
        try:
            state.driver.verify_connectivity()
        except Exception as exc:  # noqa: BLE001 - readiness reports any failure
            return JSONResponse({"status": "unavailable", "neo4j": str(exc)}, status_code=503)
        return JSONResponse({"status": "ready"})

    @app.post("/api/v1/agent/report")
    async def agent_report(request: Request) -> JSONResponse:
        from backend.ingest import IngestError, ingest_hosts
        from loaders.hosts import MAX_REPORT_BYTES

        header = request.headers.get("authorization", "")
        token = header[7:].strip() if header.lower().startswith("bearer ") else None
        try:
            identity = await asyncio.to_thread(authenticate, state.driver, token)
        except AuthError as exc:
            raise HTTPException(status_code=401, detail=str(exc)) from exc
        too_large = HTTPException(status_code=413, detail=f"report larger than {MAX_REPORT_BYTES} bytes")
        if int(request.headers.get("content-length") or 0) > MAX_REPORT_BYTES:
            raise too_large
        chunks, size = [], 0
        async for chunk in request.stream():  # chunked uploads (or a false Content-Length) stop at the limit too
            size += len(chunk)
            if size > MAX_REPORT_BYTES:
                raise too_large
            chunks.append(chunk)
        try:
            report = json.loads(b"".join(chunks))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise HTTPException(status_code=400, detail=f"report is not valid JSON: {exc}") from exc
        if not isinstance(report, dict):
            raise HTTPException(status_code=400, detail="a host report is a JSON object")
        account_id = request.query_params.get("account") or (identity.accounts[0] if identity.accounts else "")
        if not identity.can_see(account_id) or not identity.at_least("operator") and identity.kind != "agent":
            raise HTTPException(status_code=404, detail="account not found")
        try:
            result = await asyncio.to_thread(ingest_hosts, state.driver, account_id, [report], "upload")
        except IngestError as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from exc
        await _audit(state.driver, account_id, identity.name, "agent.report", {"host_id": report.get("host_id")})
        _Changes(account_id).__exit__()
        return JSONResponse(result)

    @app.get("/", response_class=HTMLResponse)
    def console() -> str:
        from importlib.resources import files

        return (files("backend") / "static" / "index.html").read_text()

    return app
