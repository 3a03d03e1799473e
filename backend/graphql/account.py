"""An account and everything of it a token may read."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import strawberry

from backend import billing
from backend.graphql.billing import Billing, LedgerEntry, billing_node, ledger
from backend.graphql.compliance import ComplianceReport, compliance_node
from backend.graphql.context import CACHE, Ctx, _account_rows, _findings_version, _version
from backend.graphql.enums import SEVERITY_RANK, FindingOrder, FindingStatus, Severity
from backend.graphql.findings import (
    FINDING_ORDERS,
    Asset,
    Finding,
    asset_node,
    finding_key,
    finding_node,
    sorted_once,
)
from backend.graphql.paths import (
    AttackPath,
    ChokePoint,
    WhatIf,
    attack_path,
    choke_fixes,
    choke_point,
    what_if_node,
)
from backend.graphql.relay import Connection, connection, from_list, from_sorted, keyset_page, page_size
from backend.graphql.remediation import Remediation, manual_plan, remediation_node
from backend.graphql.scans import Scan, scan_node
from backend.repository import ClientError, CursorError, decode_cursor, encode_cursor

if TYPE_CHECKING:
    from checks.path_index import RankedReport

COMPLIANCE_DOCS_KEPT = 64
_compliance_docs: dict[tuple[str, str], tuple[list[dict[str, Any]], dict[str, Any]]] = {}


@strawberry.type
class AuditEntry:
    at: str
    who: str | None
    action: str
    detail: str | None = strawberry.field(description="What was done (JSON text, as recorded).")


@strawberry.type
class Account:
    id: str
    name: str | None
    collected_at: str | None

    @strawberry.field(description="Assets by type, region, tag and risk: `risk: HIGH` keeps those with a NOT_PASS "
                                  "finding of severity HIGH or worse; `search`: the id or name contains it (any case).")
    async def assets(self, info: Ctx, type: str | None = None, region: str | None = None, tag: str | None = None,
                     risk: Severity | None = None, search: str | None = None, first: int | None = 50,
                     after: str | None = None) -> Connection[Asset]:
        n, kind = page_size(first), "assets"
        ids = None
        if risk is not None:
            worst = {s for s, rank in SEVERITY_RANK.items() if rank <= SEVERITY_RANK[risk.value]}
            index = await self._findings_index(info)
            ids = sorted({r["asset_id"] for r in index.get("NOT_PASS", []) if r["severity"] in worst})
        key = decode_cursor(after, kind) if after else None
        if key is not None and "|" not in key:
            raise CursorError(kind)
        repo = info.context.repo
        rows = await asyncio.to_thread(repo.assets_page, self.id, type, region, tag, n, key, ids, search)

        async def count() -> int:
            return await asyncio.to_thread(repo.count_assets, self.id, type, region, tag, ids, search)

        page = rows[:n]
        return connection([asset_node(r, r["type"], self.id) for r in page], [encode_cursor(kind, r["uid"]) for r in page],
                          len(rows) > n, key is not None, count)

    @strawberry.field(description="The latest result per (check item, asset), worst severity first. A finding the "
                                  "latest scan did not re-check (quota, plan) keeps its last decided status, `stale`.")
    async def findings(self, info: Ctx, severity: list[Severity] | None = None, status: list[FindingStatus] | None = None,
                       check_id: str | None = None, asset_id: str | None = None, asset_type: str | None = None,
                       stale: bool | None = None, product: str | None = None, region: str | None = None,
                       order: FindingOrder = FindingOrder.WORST_FIRST, first: int | None = 50,
                       after: str | None = None) -> Connection[Finding]:
        index = await self._findings_index(info)
        rows = index.get(status[0].value, []) if status and len(status) == 1 else index[None]
        key = FINDING_ORDERS[order]
        if order is not FindingOrder.WORST_FIRST:
            rows = sorted_once(self.id, rows, order)
        statuses = {s.value for s in status} if status and len(status) > 1 else None
        severities = {s.value for s in severity} if severity else None
        items = await info.context.items(self.id)
        if statuses or severities or check_id or asset_id or asset_type or stale is not None or product or region:
            rows = [r for r in rows if (statuses is None or r["status"] in statuses)
                    and (severities is None or r["severity"] in severities)
                    and (check_id is None or r["check_id"] == check_id) and (asset_id is None or r["asset_id"] == asset_id)
                    and (asset_type is None or r["asset_type"] == asset_type)
                    and (stale is None or r["stale"] == stale) and (region is None or r["region"] == region)
                    and (product is None or (r["check_id"] in items and items[r["check_id"]].product == product))]
        return from_sorted(rows, first, after, f"findings.{order.value}", key, lambda r: finding_node(r, self.id, items))

    async def _findings_index(self, info: Ctx) -> dict[str | None, list[dict[str, Any]]]:
        from checks.packages import account_items
        from checks.scan import latest_findings

        version = await _version("findings", self.id, lambda: _findings_version(info.context.repo, self.id))
        index: dict[str | None, list[dict[str, Any]]] = await CACHE.get(
            "findings", self.id, version,
            lambda: _findings_index(latest_findings(info.context.driver, self.id,
                                                    account_items(info.context.driver, self.id))))
        return index

    async def _failing(self, info: Ctx) -> frozenset[tuple[str, str]]:
        """(check, asset) of the failing findings choke points map to (`backend.fixes.failing_pairs`, as the CLI):
        read once per findings version (building the set per choke-point page cost ~45 ms of CPU)."""
        from backend.fixes import failing_pairs

        version = await _version("findings", self.id, lambda: _findings_version(info.context.repo, self.id))
        failing: frozenset[tuple[str, str]] = await CACHE.get(
            "failing", self.id, version, lambda: frozenset(failing_pairs(info.context.driver, self.id)))
        return failing

    @strawberry.field(description="Scans, newest first.")
    async def scans(self, info: Ctx, first: int | None = 20, after: str | None = None) -> Connection[Scan]:
        n, kind = page_size(first), "scans"
        key = None
        if after is not None:
            started, sep, scan_id = decode_cursor(after, kind).partition("\n")
            if not sep:
                raise CursorError(kind)
            key = (started, scan_id)
        repo = info.context.repo
        rows = await asyncio.to_thread(repo.scans, self.id, n, key)

        async def count() -> int:
            return await asyncio.to_thread(repo.count, "Scan", self.id)

        page = rows[:n]
        return connection([scan_node(r, self.id) for r in page],
                          [encode_cursor(kind, f"{r['started']}\n{r['id']}") for r in page], len(rows) > n,
                          key is not None, count)

    async def _paths(self, info: Ctx) -> RankedReport:
        from checks.path_index import ranked_report

        plan = await CACHE.get("plan", self.id, await _version("plan", self.id, lambda: str(
            info.context.repo.read("MATCH (p:Plan {uid: $u}) RETURN p {.*} AS p", u=f"{self.id}:plan"))),
            lambda: billing.load_plan(info.context.driver, self.id))
        decision = billing.decide(plan, "paths")
        if not decision.allowed:
            raise PermissionError(f"attack path analysis needs {decision.enabled_by}")
        rows = await _account_rows(info.context.repo, self.id)
        version = f"{rows[0]['current_sync']}|{rows[0]['raw_digest']}" if rows else ""
        # the persisted compact index: pages are produced on demand, never the whole list
        index: RankedReport = await CACHE.get("paths", self.id, version,
                                           lambda: ranked_report(info.context.driver, self.id))
        info.context.repo.queries += 7
        return index

    @strawberry.field(description="Attack paths, worst severity first. Filters: `entry` / `target` (node ids), "
                                  "`through` (paths that pass this node), `severity`, `type`, `conditional`.")
    async def attack_paths(self, info: Ctx, entry: str | None = None, target: str | None = None,
                           through: str | None = None, severity: list[Severity] | None = None,
                           type: str | None = None, conditional: bool | None = None, first: int | None = 50,
                           after: str | None = None) -> Connection[AttackPath]:
        index = await self._paths(info)
        severities = [s.value for s in severity] if severity else None

        def page() -> Connection[AttackPath]:
            rows = index.select(entry, target, severities, type, through, conditional)
            return from_list(rows, first, after, "attackPaths", lambda p: attack_path(p, self.id))

        # the selection and its page (produced as it is sliced) off the event loop, in one hop
        return await asyncio.to_thread(page)

    @strawberry.field(description="The changes that cut the most attack paths first, each with the fix it maps to.")
    async def choke_points(self, info: Ctx, first: int | None = 50, after: str | None = None) -> Connection[ChokePoint]:
        paths, failing = await asyncio.gather(self._paths(info), self._failing(info))  # a cold server reads both at once
        page = from_list(paths.doc["choke_points"], first, after, "chokePoints")
        fixes = await choke_fixes(info, self.id, [e.node for e in page.edges], failing)
        for e, fix in zip(page.edges, fixes, strict=True):
            e.node = choke_point(e.node, fix)
        return page

    @strawberry.field(description="What proposed changes would cut (e.g. `close-ports:sg-1:tcp:22`, "
                                  "`detach-role:i-1`); nothing is changed.")
    async def what_if(self, info: Ctx, changes: list[str]) -> WhatIf:
        from checks.path_index import what_if

        await self._paths(info)  # the plan check
        if not changes:
            raise ClientError("give at least one change")
        return what_if_node(await asyncio.to_thread(what_if, info.context.driver, self.id, changes))

    @strawberry.field
    async def billing(self, info: Ctx) -> Billing:
        return billing_node(await asyncio.to_thread(billing.billing_show, info.context.driver, self.id))

    @strawberry.field(description="The append-only ledger, oldest first.")
    async def ledger(self, info: Ctx, first: int | None = 50, after: str | None = None) -> Connection[LedgerEntry]:
        return await ledger(info, self.id, first, after)

    @strawberry.field(description="A compliance package's report from the latest findings.")
    async def compliance_report(self, info: Ctx, package: str) -> ComplianceReport:
        from checks.packages import compliance_report

        rows = (await self._findings_index(info))[None]  # the cached latest findings (a 100k account: 19 s to read)
        hit = _compliance_docs.get((self.id, package))
        if hit is None or hit[0] is not rows:  # computed once per package and findings version
            hit = (rows, await asyncio.to_thread(compliance_report, package, rows, self.id))
            if len(_compliance_docs) >= COMPLIANCE_DOCS_KEPT:
                _compliance_docs.pop(next(iter(_compliance_docs)))
            _compliance_docs[(self.id, package)] = hit
        return compliance_node(hit[1])

    @strawberry.field(description="The fix of one finding as a dry run (viewers may read it; nothing is called).")
    async def remediation_plan(self, info: Ctx, check_id: str, asset_id: str) -> Remediation:
        return remediation_node(await asyncio.to_thread(plan_or_manual, info.context.driver, self.id, check_id,
                                                        asset_id), self.id)

    @strawberry.field(description="Who did what, newest first (operators and admins).")
    async def audit_log(self, info: Ctx, first: int | None = 50, after: str | None = None) -> Connection[AuditEntry]:
        info.context.require(self.id, "operator")
        repo = info.context.repo
        return await keyset_page(info, "auditLog", first, after, lambda n, key: repo.audit(self.id, n, key),
                                 lambda r: AuditEntry(at=r["at"], who=r["who"], action=r["action"], detail=r["detail"]),
                                 lambda: repo.count("AuditEntry", self.id))


def plan_or_manual(driver: Any, account_id: str, check_id: str, asset_id: str) -> dict[str, Any]:
    """The dry-run plan; for a manual item, its filled manual steps instead of an error."""
    from backend.remediate import plan
    from checks.remediation import REMEDIATIONS

    if check_id not in REMEDIATIONS:
        from checks.catalog import BY_ID

        if check_id in BY_ID:
            return manual_plan(driver, account_id, check_id, asset_id)
    return plan(driver, account_id, check_id, asset_id)


def _findings_index(rows: list[dict[str, Any]]) -> dict[str | None, list[dict[str, Any]]]:
    """Latest results in findings order (worst first), and the same split by status: a page is a slice."""
    rows = sorted(rows, key=finding_key)
    index: dict[str | None, list[dict[str, Any]]] = {None: rows}
    for r in rows:
        index.setdefault(r["status"], []).append(r)
    return index


def account_node(row: dict[str, Any]) -> Account:
    return Account(id=row["id"], name=row["name"], collected_at=row["collected_at"])



