"""The root Mutation (every mutation is audited and needs a role)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import strawberry

from backend import billing
from backend.graphql.account import plan_or_manual
from backend.graphql.billing import Billing, billing_node
from backend.graphql.catalog import CheckItemNode, item_node
from backend.graphql.console import CypherResult, console_work, run_cypher
from backend.graphql.context import Ctx, _audit, _Changes
from backend.graphql.enums import Severity
from backend.graphql.posture import PostureMutation
from backend.graphql.relay import Connection, from_list
from backend.graphql.remediation import Remediation, remediation_node
from backend.graphql.scans import ScanOutcome, ScanStatus, counts_of
from backend.repository import ClientError


@strawberry.type
class WhitelistEntry:
    check_id: str
    asset_id: str
    reason: str
    who: str | None
    at: str | None


@strawberry.type(description="A custom policy: a named selection of check items and packages.")
class Policy:
    name: str
    packages: list[str] = strawberry.field(description="Bounded: compliance packages.")
    item_ids: strawberry.Private[list[str]]

    @strawberry.field(description="Every item the policy runs.")
    def items(self, first: int | None = 50, after: str | None = None) -> Connection[str]:
        return from_list(self.item_ids, first, after, "policy.items")


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
                raise ClientError("no Celery worker is running: start one, or scan with runAsync: false")
            if queue:
                from backend.tasks import scan_task

                scan_id = new_scan_id()
                await asyncio.to_thread(info.context.repo.queue_scan, account_id, scan_id, ident.name)
                scan_task.delay(account_id, check_ids, ident.name, package, scan_id, policy)
                return ScanOutcome(scan_id=scan_id, status=ScanStatus.QUEUED, authorizations_consumed=0, queued=True,
                                   summary=counts_of({}), advice=f"poll scan(accountId, id: \"{scan_id}\")",
                                   result_rows=[], account_id=account_id, items_by_id={})
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
    async def whitelist(self, info: Ctx, account_id: str, check_id: str, asset_id: str,
                        reason: str) -> WhitelistEntry:
        from checks.packages import select_items
        from checks.scan import whitelist_add

        ident = info.context.require(account_id, "operator")
        await asyncio.to_thread(select_items, info.context.driver, account_id, [check_id], None, None)
        with _Changes(account_id):
            e = await asyncio.to_thread(whitelist_add, info.context.driver, account_id, check_id, asset_id, reason,
                                        ident.name)
        return WhitelistEntry(check_id=e["check_id"], asset_id=e["asset_id"], reason=e["reason"], who=e.get("who"),
                              at=e.get("at"))

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
                               severity: Severity, query: str, description: str = "") -> CheckItemNode:
        """A custom check item: read-only Cypher returning the failing `asset_id`s, every read scoped to the
        account (refused otherwise, before anything is stored)."""
        from checks.custom import add_custom_check, item_from

        ident = info.context.require(account_id, "admin")
        with _Changes(account_id):
            row: dict[str, Any] = await console_work(
                add_custom_check, info.context.driver, account_id, check_id, title, asset_type, severity.value, query,
                ident.name, description)
        return item_node(item_from(row))

    @strawberry.mutation
    async def save_policy(self, info: Ctx, account_id: str, name: str, check_ids: list[str] | None = None,
                          packages: list[str] | None = None) -> Policy:
        """A custom policy: a named selection of items (catalog or custom) and packages; scan it with `policy`."""
        from checks.packages import save_policy

        ident = info.context.require(account_id, "operator")
        with _Changes(account_id):
            doc: dict[str, Any] = await asyncio.to_thread(save_policy, info.context.driver, account_id, name,
                                                          list(check_ids or []), list(packages or []), ident.name)
            await _audit(info.context.driver, account_id, ident.name, "api.save_policy", doc)
        return Policy(name=doc["name"], packages=list(doc["packages"]), item_ids=list(doc["items"]))

    @strawberry.mutation
    async def remediate(self, info: Ctx, account_id: str, check_id: str, asset_id: str,
                        dry_run: bool = True) -> Remediation:
        """Plan (dry run, operators; viewers read the same plan as `account.remediationPlan`) or execute (admins)
        the fix of one finding, then re-collect and verify."""
        ident = info.context.require(account_id, "operator" if dry_run else "admin")
        with _Changes(account_id):
            await _audit(info.context.driver, account_id, ident.name, "api.remediate",
                         {"check_id": check_id, "asset_id": asset_id, "dry_run": dry_run})
            if not dry_run:
                from backend.remediation_runtime import execute_for_account

                doc = await asyncio.to_thread(execute_for_account, info.context.driver, account_id, check_id,
                                              asset_id, ident.name)
            else:
                doc = await asyncio.to_thread(plan_or_manual, info.context.driver, account_id, check_id, asset_id)
        return remediation_node(doc, account_id)

    @strawberry.mutation
    async def set_plan(self, info: Ctx, account_id: str, model: str, edition: str | None = None, cspm: bool = False,
                       quota: int | None = None, expires: str | None = None, legacy_free: bool = False) -> Billing:
        ident = info.context.require(account_id, "admin")
        with _Changes(account_id):
            await asyncio.to_thread(billing.set_plan, info.context.driver, account_id, model=model, edition=edition,
                                    cspm=cspm, quota=quota, expires=expires, legacy_free=legacy_free, who=ident.name)
        return billing_node(await asyncio.to_thread(billing.billing_show, info.context.driver, account_id))

    @strawberry.mutation(deprecation_reason="a read: use the query `runCypher`")
    async def run_cypher(self, info: Ctx, account_id: str, query: str, limit: int = 1000) -> CypherResult:
        return await run_cypher(info, account_id, query, limit)


def _scan_inline(driver: Any, account_id: str, check_ids: list[str] | None, package: str | None, who: str,
                 operation: str, asset_id: str | None, policy: str | None = None) -> ScanOutcome:
    from backend.entitlements import PlanBiller
    from checks.packages import account_items, select_items
    from checks.scan import run_items

    items = select_items(driver, account_id, check_ids, package, policy)
    billing.require_activation(driver, account_id, items)
    report = run_items(driver, account_id, items, PlanBiller(billing.load_plan(driver, account_id), who),
                       operation=operation, asset_id=asset_id, who=who)
    return outcome(report, account_id, account_items(driver, account_id))


def outcome(report: Any, account_id: str, items: dict[str, Any]) -> ScanOutcome:
    from backend.fixes import plan_advice, quota_advice

    advice = quota_advice(account_id) if report.status == "quota_exhausted" else (
        plan_advice(account_id) if any(r.skipped for r in report.results) else None)
    return ScanOutcome(scan_id=report.scan_id, status=ScanStatus(report.status),
                       authorizations_consumed=report.authorizations_consumed, queued=False,
                       summary=counts_of(report.summary()), advice=advice,
                       result_rows=[r.as_dict() for r in report.results], account_id=account_id, items_by_id=items)
