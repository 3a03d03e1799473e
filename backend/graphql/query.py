"""The root Query."""

from __future__ import annotations

import asyncio

import strawberry

from backend.graphql.account import Account, account_node
from backend.graphql.catalog import CheckItemNode, item_node
from backend.graphql.console import CypherResult, run_cypher
from backend.graphql.context import Ctx, _account_rows
from backend.graphql.enums import Severity
from backend.graphql.posture import PostureQuery
from backend.graphql.relay import Connection, from_list
from backend.graphql.scans import Scan, scan_node


@strawberry.type
class Query(PostureQuery):
    @strawberry.field(description="The accounts this token may see.")
    async def accounts(self, info: Ctx, first: int | None = 50, after: str | None = None) -> Connection[Account]:
        ident = info.context.identity
        assert ident is not None
        if "*" in ident.accounts:
            rows = await asyncio.to_thread(info.context.repo.read, "MATCH (a:Account) RETURN a.id AS id")
            ids = [r["id"] for r in rows]
        else:
            ids = list(ident.accounts)
        rows = await asyncio.to_thread(info.context.repo.accounts, ids)
        return from_list(rows, first, after, "accounts", account_node)

    @strawberry.field(description="One account (null: not found, or not this token's).")
    async def account(self, info: Ctx, id: str) -> Account | None:
        ident = info.context.identity
        if ident is None or not ident.can_see(id):
            return None
        rows = await _account_rows(info.context.repo, id)
        return account_node(rows[0]) if rows else None

    @strawberry.field(description="Poll a scan's progress and status (`startScan(runAsync: true)` returns at once).")
    async def scan(self, info: Ctx, account_id: str, id: str) -> Scan | None:
        ident = info.context.identity
        if ident is None or not ident.can_see(account_id):
            return None
        row = await asyncio.to_thread(info.context.repo.scan, account_id, id)
        return scan_node(row, account_id) if row else None

    @strawberry.field(description="The catalog of check items (of a compliance package, of a severity).")
    def check_items(self, package: str | None = None, severity: list[Severity] | None = None,
                    first: int | None = 50, after: str | None = None) -> Connection[CheckItemNode]:
        from checks.catalog import CATALOG
        from checks.packages import package_items

        wanted = {s.value for s in severity} if severity else None
        items = [i for i in (package_items(package) if package else CATALOG) if wanted is None or i.severity in wanted]
        return from_list(items, first, after, "checkItems", item_node)

    @strawberry.field(description="One check item of the catalog.")
    def check_item(self, id: str) -> CheckItemNode | None:
        from checks.catalog import BY_ID

        return item_node(BY_ID[id]) if id in BY_ID else None

    @strawberry.field(description="The compliance packages (bounded).")
    def packages(self) -> list[str]:
        from checks.model import PACKAGES

        return list(PACKAGES)

    @strawberry.field(description="The read-only Cypher console: `$account_id` is bound; every read is confined "
                                  "to the account, writes are refused.")
    async def run_cypher(self, info: Ctx, account_id: str, query: str, limit: int = 1000) -> CypherResult:
        return await run_cypher(info, account_id, query, limit)
