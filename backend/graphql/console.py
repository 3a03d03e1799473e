"""The read-only Cypher console (a query; the old mutation stays as a deprecated alias)."""

from __future__ import annotations

import asyncio
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import strawberry
from strawberry.scalars import JSON

from backend.graphql.context import Ctx, _audit, _Changes
from backend.repository import ClientError


@strawberry.type
class CypherResult:
    columns: list[str] = strawberry.field(description="Bounded: the columns the query returns.")
    rows: JSON = strawberry.field(description="Rows as objects keyed by column: the one untyped field of the schema "
                                              "(a console answers whatever the query returns).")
    truncated: bool
    hidden_rows: int


CONSOLE_QUERIES_PER_ACCOUNT = 1  # concurrent console queries on one account, whatever the token
_console_running: dict[str, int] = {}
# Console work (guard EXPLAIN + tenant query, custom-check validation) runs on its own few threads, never on
# the default executor the rest of the API shares: hostile queries fill these slots and nothing else; when
# all are taken the caller is told at once instead of queueing.
# each console query may keep a Neo4j core busy until its timeout: console work gets at most half the cores of
# the machine (Neo4j runs beside the API in the supported topologies), the rest stays for everyone else
CONSOLE_WORKERS = int(os.environ.get("SKYPATH_CONSOLE_WORKERS") or max(1, (os.cpu_count() or 2) // 2))
_console_pool = ThreadPoolExecutor(max_workers=CONSOLE_WORKERS, thread_name_prefix="console")
_console_slots = threading.BoundedSemaphore(CONSOLE_WORKERS)


def _take_console_slot() -> None:
    if not _console_slots.acquire(blocking=False):
        running = "1 console query is" if CONSOLE_WORKERS == 1 else f"{CONSOLE_WORKERS} console queries are"
        raise ClientError(f"console busy: {running} running, try again in a few seconds")


async def _on_console_pool(fn: Any, *args: Any) -> Any:
    """Run `fn` on the console pool in a slot already taken; the slot is released when the work ends, not when
    the request goes away."""
    try:
        future = _console_pool.submit(fn, *args)
    except BaseException:
        _console_slots.release()
        raise
    future.add_done_callback(lambda _: _console_slots.release())
    return await asyncio.wrap_future(future)


async def console_work(fn: Any, *args: Any) -> Any:
    """Run `fn` on the console pool, or refuse at once ("console busy") when every slot is taken."""
    _take_console_slot()
    return await _on_console_pool(fn, *args)


async def run_cypher(info: Ctx, account_id: str, query: str, limit: int) -> CypherResult:
    """Every read confined to the account (checks/cypher_guard.py); audited; the audit log is for operators."""
    from backend.console import hidden_labels_for, run_read_only

    ident = info.context.require(account_id, "viewer")
    if _console_running.get(account_id, 0) >= CONSOLE_QUERIES_PER_ACCOUNT:
        raise ClientError(f"console busy: {CONSOLE_QUERIES_PER_ACCOUNT} console query of this account at a time, "
                         "try again when it has finished")
    _take_console_slot()  # busy is answered before anything is written or run
    _console_running[account_id] = _console_running.get(account_id, 0) + 1
    try:
        try:
            with _Changes(account_id):  # the audit entry is new data for auditLog
                await _audit(info.context.driver, account_id, ident.name, "api.cypher", {"query": query[:2000]})
        except BaseException:
            _console_slots.release()
            raise
        doc = await _on_console_pool(run_read_only, info.context.driver, account_id, query,
                                     max(1, min(limit, 10_000)), hidden_labels_for(ident.at_least("operator")))
    finally:
        _console_running[account_id] -= 1
    return CypherResult(columns=doc["columns"], rows=doc["rows"], truncated=bool(doc.get("truncated")),
                        hidden_rows=int(doc.get("hidden_rows", 0)))
