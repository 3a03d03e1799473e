"""Scans: their state, their results (a connection), and what starting one returns."""

from __future__ import annotations

import asyncio
from typing import Any

import strawberry

from backend.graphql.context import Ctx
from backend.graphql.enums import FindingStatus, ScanStatus
from backend.graphql.findings import ScanResult, result_node
from backend.graphql.relay import Connection, connection, from_list, page_size
from backend.repository import CursorError, decode_cursor, encode_cursor
from checks.model import CheckItem


@strawberry.type(description="How many results of a scan have each status.")
class StatusCounts:
    pass_: int = strawberry.field(name="pass")
    not_pass: int
    not_check: int
    whitelist: int
    not_supported: int


def counts_of(counts: dict[str, int]) -> StatusCounts:
    return StatusCounts(pass_=counts.get("PASS", 0), not_pass=counts.get("NOT_PASS", 0),
                        not_check=counts.get("NOT_CHECK", 0), whitelist=counts.get("WHITELIST", 0),
                        not_supported=counts.get("NOT_SUPPORTED", 0))


@strawberry.type
class Scan:
    id: str
    status: ScanStatus
    operation: str | None
    started: str | None
    finished: str | None
    authorizations: int
    items_done: int = strawberry.field(description="Check items recorded so far (poll while RUNNING).")
    summary: StatusCounts | None
    account_id: strawberry.Private[str]

    @strawberry.field(description="This scan's results in (check, asset) order (the history: `findings` holds the "
                                  "latest per item and asset).")
    async def results(self, info: Ctx, status: FindingStatus | None = None, first: int | None = 50,
                      after: str | None = None) -> Connection[ScanResult]:
        n = page_size(first)
        kind = "scan.results"
        key = tuple(decode_cursor(after, kind).split("\n", 1)) if after else None
        if key is not None and len(key) != 2:
            raise CursorError(kind)
        repo, wanted = info.context.repo, status.value if status else None
        rows = await asyncio.to_thread(repo.scan_results, self.account_id, self.id, n, key, wanted)  # type: ignore[arg-type]
        items = await info.context.items(self.account_id, {r["check_id"] for r in rows})

        async def count() -> int:
            return await asyncio.to_thread(repo.count_scan_results, self.account_id, self.id, wanted)

        page = rows[:n]
        return connection([result_node(r, self.account_id, items) for r in page],
                          [encode_cursor(kind, f"{r['check_id']}\n{r['asset_id']}") for r in page],
                          len(rows) > n, key is not None, count)


def scan_node(row: dict[str, Any], account_id: str) -> Scan:
    summary = {k: int(v) for k, v in (s.split("=", 1) for s in row.get("summary") or [])}
    return Scan(id=row["id"], status=ScanStatus(row["status"]), operation=row["operation"],
                started=row["started"] or None, finished=row["finished"], authorizations=row["authorizations"],
                items_done=row["items_done"], account_id=account_id,
                summary=counts_of(summary) if summary else None)


@strawberry.type(description="What startScan / verify did (a queued scan: poll `scan(accountId, id)`).")
class ScanOutcome:
    scan_id: str
    status: ScanStatus
    authorizations_consumed: int
    queued: bool
    summary: StatusCounts
    advice: str | None = strawberry.field(description="What to do next, e.g. when the quota ran out.")
    result_rows: strawberry.Private[list[dict[str, Any]]]
    account_id: strawberry.Private[str]
    items_by_id: strawberry.Private[dict[str, CheckItem]]

    @strawberry.field(description="The results of this run, in (check, asset) order.")
    def results(self, first: int | None = 50, after: str | None = None) -> Connection[ScanResult]:
        return from_list(self.result_rows, first, after, "scanOutcome.results",
                         lambda r: result_node(r, self.account_id, self.items_by_id))
