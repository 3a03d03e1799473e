"""The root Mutation (every mutation is audited and needs a role)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import strawberry
from strawberry.scalars import JSON

from backend import billing
from backend.graphql.context import Ctx, _audit, _Changes
from backend.graphql.types import Account, Billing, ScanOutcome, _result


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
class Mutation:
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
