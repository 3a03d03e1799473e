"""The scan engine's Biller, backed by the account's Plan node (backend/billing.py)."""

from __future__ import annotations

from neo4j import ManagedTransaction

from backend import billing
from checks.model import CheckItem


class PlanBiller:
    def __init__(self, plan: billing.Plan, who: str = "cli"):
        self.plan = plan
        self.who = who

    def decide(self, operation: str, item: CheckItem) -> billing.Decision:
        return billing.decide(self.plan, operation, item)

    def charge(self, tx: ManagedTransaction, operation: str, item: CheckItem, assets: list[str], scan_id: str) -> int:
        # re-read the plan under its write lock: another process may have consumed quota meanwhile, or the plan
        # may have expired or changed since the decision — debit decides again on the locked plan
        locked = billing.lock_plan(tx, self.plan.account_id)
        result = billing.debit(tx, locked, operation=operation, check_id=item.id, assets=assets, scan_id=scan_id,
                               who=self.who, item=item)
        self.plan = locked
        return result.granted

    def charge_instances(self, tx: ManagedTransaction, instances: list[str], scan_id: str) -> None:
        if self.plan.model == "per-instance":
            billing.record_instances(tx, billing.lock_plan(tx, self.plan.account_id), instances, scan_id, self.who)
