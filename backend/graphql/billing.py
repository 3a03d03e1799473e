"""The plan, its usage and the append-only ledger."""

from __future__ import annotations

from typing import Any

import strawberry

from backend.graphql.context import Ctx
from backend.graphql.relay import Connection, from_list, keyset_page


@strawberry.type
class DayUsage:
    day: str
    amount: int = strawberry.field(description="Authorizations (per-instance plan: instances scanned that day).")


@strawberry.type
class ItemUsage:
    check_id: str
    amount: int


@strawberry.type(description="Usage over the whole ledger; `ledgerTotal` is the current quota period's (= quotaUsed).")
class Usage:
    ledger_total: int
    amount_usd: float | None = strawberry.field(description="Per-instance plan: the amount so far.")
    price_usd_per_instance_day: float | None
    price_usd_per_instance_month: float | None
    doc: strawberry.Private[dict[str, Any]]

    @strawberry.field
    def by_day(self, first: int | None = 50, after: str | None = None) -> Connection[DayUsage]:
        return from_list(sorted(self.doc["by_day"].items()), first, after, "usage.byDay",
                         lambda kv: DayUsage(day=kv[0], amount=kv[1]))

    @strawberry.field
    def by_item(self, first: int | None = 50, after: str | None = None) -> Connection[ItemUsage]:
        return from_list(sorted(self.doc["by_item"].items()), first, after, "usage.byItem",
                         lambda kv: ItemUsage(check_id=kv[0], amount=kv[1]))


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
    usage: Usage


def billing_node(doc: dict[str, Any]) -> Billing:
    u = doc["usage"]
    return Billing(model=doc["model"], edition=doc["edition"], cspm=doc["cspm"], quota_total=doc["quota_total"],
                   quota_used=doc["quota_used"], quota_remaining=doc["quota_remaining"], expires=doc["expires"],
                   recommended_quota=doc["recommended_quota"],
                   usage=Usage(ledger_total=u["ledger_total"], amount_usd=u.get("amount_usd"),
                               price_usd_per_instance_day=u.get("price_usd_per_instance_day"),
                               price_usd_per_instance_month=u.get("price_usd_per_instance_month"), doc=u))


@strawberry.type(description="One debit: who, when, which scan, item and assets.")
class LedgerEntry:
    at: str
    day: str | None
    operation: str
    check_id: str | None
    amount: int
    scan_id: str | None
    who: str | None
    model: str | None
    period: str | None
    usd: float | None
    asset_ids: strawberry.Private[list[str]]

    @strawberry.field(description="The assets debited.")
    def assets(self, first: int | None = 50, after: str | None = None) -> Connection[str]:
        return from_list(self.asset_ids, first, after, "ledgerEntry.assets")


def ledger_entry(e: dict[str, Any]) -> LedgerEntry:
    return LedgerEntry(at=e["at"], day=e.get("day"), operation=e["operation"], check_id=e.get("check_id") or None,
                       amount=e["amount"], scan_id=e.get("scan_id"), who=e.get("who"), model=e.get("model"),
                       period=e.get("period"), usd=e.get("usd"), asset_ids=list(e.get("assets") or []))


async def ledger(info: Ctx, account_id: str, first: int | None, after: str | None) -> Connection[LedgerEntry]:
    repo = info.context.repo
    return await keyset_page(info, "ledger", first, after, lambda n, key: repo.ledger(account_id, n, key),
                             lambda r: ledger_entry(r["entry"]), lambda: repo.count("LedgerEntry", account_id))
