"""The root Query."""

from __future__ import annotations

import asyncio

import strawberry

from backend.graphql.context import Ctx, _account_rows
from backend.graphql.types import Account, CheckItemType, ScanType, _item


@strawberry.type
class Query:
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

