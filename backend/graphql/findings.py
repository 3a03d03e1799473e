"""Assets and their findings (the latest result per check item and asset), and one scan's results."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import strawberry

from backend.graphql.catalog import CheckItemNode, item_node
from backend.graphql.context import Ctx
from backend.graphql.enums import SEVERITY_RANK, FindingOrder, FindingStatus, Severity
from backend.graphql.relay import Connection, from_list
from checks.model import CheckItem


@strawberry.interface(description="One (check item, asset) result.")
class CheckResult:
    check_id: str
    asset_id: str
    asset_type: str
    region: str
    status: FindingStatus
    severity: Severity
    tier: str
    reason: str | None = strawberry.field(description="Why it is NOT_CHECK (e.g. \"paid item — needs CSPM\", "
                                                      "\"quota exhausted — not re-checked\").")
    account_id: strawberry.Private[str]
    item_def: strawberry.Private[CheckItem | None]

    @strawberry.field(description="The check item: title, description, remediation text.")
    def item(self) -> CheckItemNode | None:
        return item_node(self.item_def) if self.item_def else None

    @strawberry.field(description="The asset this result is about.")
    async def asset(self, info: Ctx) -> Asset | None:
        row = await info.context.asset_loader(self.account_id).load((self.asset_type, self.asset_id))
        return asset_node(row, self.asset_type, self.account_id) if row else None


@strawberry.type(description="The latest result of a check item on an asset. `stale`: the latest scan did not "
                             "re-check it (quota ran out, or the plan does not run the item); `status` is then the "
                             "last decided status and `checkedStatus` what the latest scan recorded.")
class Finding(CheckResult):
    first_seen: str | None
    last_seen: str | None
    scan_id: str | None
    stale: bool
    checked_status: FindingStatus | None
    decided_at: str | None


@strawberry.type(description="One result of one scan (the history; `findings` holds the latest).")
class ScanResult(CheckResult):
    pass


@strawberry.type
class Asset:
    id: str
    type: str
    region: str | None
    name: str | None
    supported: bool
    account_id: strawberry.Private[str]

    @strawberry.field(description="The asset's latest findings, worst first.")
    async def findings(self, info: Ctx, status: list[FindingStatus] | None = None, first: int | None = 50,
                       after: str | None = None) -> Connection[Finding]:
        rows = await info.context.findings_loader(self.account_id).load(self.id)
        wanted = {s.value for s in status} if status else None
        rows = sorted((r for r in rows if wanted is None or r["status"] in wanted), key=finding_key)
        items = await info.context.items(self.account_id, {r["check_id"] for r in rows})
        return from_list(rows, first, after, "asset.findings", lambda r: finding_node(r, self.account_id, items))


def asset_node(row: dict[str, Any], type_: str, account_id: str) -> Asset:
    return Asset(id=row["id"], type=row.get("type") or type_, region=row["region"], name=row["name"],
                 supported=row["supported"], account_id=account_id)


def finding_key(r: dict[str, Any]) -> tuple[int, str, str]:
    """Findings order: worst severity first, then check item and asset."""
    return (SEVERITY_RANK.get(r["severity"], len(SEVERITY_RANK)), r["check_id"], r["asset_id"])


FINDING_ORDERS: dict[FindingOrder, Callable[[dict[str, Any]], tuple[Any, ...]]] = {
    FindingOrder.WORST_FIRST: finding_key,
    FindingOrder.CHECK: lambda r: (r["check_id"], r["asset_id"]),
    FindingOrder.ASSET: lambda r: (r["asset_id"], r["check_id"]),
    FindingOrder.REGION: lambda r: (r["region"] or "", r["check_id"], r["asset_id"]),
}
SORTED_KEPT = 64
_sorted: dict[tuple[str, int, FindingOrder], tuple[list[dict[str, Any]], list[dict[str, Any]]]] = {}


def sorted_once(account_id: str, rows: list[dict[str, Any]], order: FindingOrder) -> list[dict[str, Any]]:
    """`rows` (a cached findings list of one data version) in another order, sorted once per list and order:
    140k findings are not re-sorted for every page."""
    key = (account_id, id(rows), order)
    hit = _sorted.get(key)
    if hit is None or hit[0] is not rows:
        hit = (rows, sorted(rows, key=FINDING_ORDERS[order]))
        _sorted.pop(key, None)
        if len(_sorted) >= SORTED_KEPT:
            _sorted.pop(next(iter(_sorted)))
        _sorted[key] = hit
    return hit[1]


def finding_node(r: dict[str, Any], account_id: str, items: dict[str, CheckItem]) -> Finding:
    return Finding(
        check_id=r["check_id"], asset_id=r["asset_id"], asset_type=r["asset_type"], region=r["region"],
        status=FindingStatus(r["status"]), severity=Severity(r["severity"] or "low"), tier=r["tier"],
        reason=r.get("reason") or None, first_seen=r.get("first_seen"), last_seen=r.get("last_seen"),
        scan_id=r.get("scan_id"), stale=bool(r.get("stale")),
        checked_status=FindingStatus(r["checked_status"]) if r.get("checked_status") else None,
        decided_at=r.get("decided_at") or None, account_id=account_id, item_def=items.get(r["check_id"]))


def result_node(r: dict[str, Any], account_id: str, items: dict[str, CheckItem]) -> ScanResult:
    item = items.get(r["check_id"])
    return ScanResult(
        check_id=r["check_id"], asset_id=r["asset_id"], asset_type=item.asset_type if item else "",
        region=r["region"], status=FindingStatus(r["status"]), severity=Severity(item.severity if item else "low"),
        tier=item.tier if item else "", reason=r.get("reason") or None, account_id=account_id, item_def=item)
