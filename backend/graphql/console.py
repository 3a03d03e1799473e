"""The read-only Cypher console (a query; the old mutation stays as a deprecated alias)."""

from __future__ import annotations

import asyncio

import strawberry
from strawberry.scalars import JSON

from backend.graphql.context import Ctx, _audit, _Changes


@strawberry.type
class CypherResult:
    columns: list[str] = strawberry.field(description="Bounded: the columns the query returns.")
    rows: JSON = strawberry.field(description="Rows as objects keyed by column: the one untyped field of the schema "
                                              "(a console answers whatever the query returns).")
    truncated: bool
    hidden_rows: int


CONSOLE_QUERIES_PER_TOKEN = 2  # concurrent console queries of one token (each may run up to 30 s)
_console_running: dict[str, int] = {}


async def run_cypher(info: Ctx, account_id: str, query: str, limit: int) -> CypherResult:
    """Every read confined to the account (checks/cypher_guard.py); audited."""
    from backend.console import run_read_only

    ident = info.context.require(account_id, "viewer")
    if _console_running.get(ident.token_id, 0) >= CONSOLE_QUERIES_PER_TOKEN:
        raise ValueError(f"at most {CONSOLE_QUERIES_PER_TOKEN} console queries of one token run at once")
    _console_running[ident.token_id] = _console_running.get(ident.token_id, 0) + 1
    try:
        with _Changes(account_id):  # the audit entry is new data for auditLog
            await _audit(info.context.driver, account_id, ident.name, "api.cypher", {"query": query[:2000]})
        doc = await asyncio.to_thread(run_read_only, info.context.driver, account_id, query, max(1, min(limit, 10_000)))
    finally:
        _console_running[ident.token_id] -= 1
    return CypherResult(columns=doc["columns"], rows=doc["rows"], truncated=bool(doc.get("truncated")),
                        hidden_rows=int(doc.get("hidden_rows", 0)))
