"""Remediation: plan (dry run, default) → execute through the SDK → re-collect → verify, all audited."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from neo4j import Driver

from backend import billing
from backend.entitlements import PlanBiller
from checks.catalog import get_item
from checks.model import CheckItem
from checks.paths import analyse_paths
from checks.remediation import REMEDIATIONS, ApiRequest, RemediationError, plan_for
from checks.scan import NOT_PASS, ScanError, account_exists, run_items
from loaders.transport import ApiError

ENDPOINT_ENV = "SKYPATH_ALIBABA_ENDPOINT"


class WriteTransport(Protocol):
    account_id: str

    def call(self, product: str, version: str, action: str, region: str, params: dict[str, Any]) -> Any: ...

    def regions(self, product: str) -> list[str]: ...


@dataclass
class RemediationOutcome:
    doc: dict[str, Any]


def _context(driver: Driver, account_id: str, item: CheckItem, asset_id: str) -> dict[str, Any]:
    rem = REMEDIATIONS.get(item.id)
    if rem is None:
        raise RemediationError(
            f"{item.id} cannot be remediated automatically (it needs a human decision). Manual steps: {item.remediation}"
        )
    with driver.session() as session:
        rec = session.run(rem.context_query, account_id=account_id, asset_id=asset_id).single()
    if rec is None:
        raise RemediationError(f"asset {asset_id} of {item.id} not found in account {account_id}")
    ctx = dict(rec)
    ctx["account_id"] = account_id
    return ctx


def _what_if_for(item: CheckItem, asset_id: str, ctx: dict[str, Any]) -> list[str]:
    if item.asset_type == "SecurityGroup":
        return [f"close-exposure:{asset_id}"]
    if item.id == "ACS_RAM_PolicyFullAdmin":
        return [f"detach-policy:{asset_id}"]
    if item.id == "ACS_RAM_UserDirectPolicy":
        return []
    return []


def current_status(driver: Driver, account_id: str, item: CheckItem, asset_id: str) -> str:
    rows = driver.execute_query(item.evaluation_query(one_asset=True), account_id=account_id, asset_id=asset_id,
                                routing_="r").records
    if not rows:
        raise ScanError(f"asset {asset_id} is not in the population of {item.id} for account {account_id}")
    row = rows[0]
    if not row["collected"] or row["fails"] is None:
        return "NOT_CHECK"
    return NOT_PASS if row["fails"] else "PASS"


def plan(driver: Driver, account_id: str, check_id: str, asset_id: str) -> dict[str, Any]:
    if not account_exists(driver, account_id):
        raise ScanError(f"account {account_id} is not loaded")
    item = get_item(check_id)
    billing.require_activation(driver, account_id, [item])
    plan_state = billing.load_plan(driver, account_id)
    decision = billing.decide(plan_state, "remediate", item)
    if not decision.allowed:
        raise billing.BillingError(f"remediation is refused on this plan: {decision.reason}; it needs {decision.enabled_by}")
    ctx = _context(driver, account_id, item, asset_id)
    requests = plan_for(item.id, ctx)
    status = current_status(driver, account_id, item, asset_id)
    doc: dict[str, Any] = {
        "account_id": account_id, "check_id": check_id, "asset_id": asset_id, "dry_run": True,
        "current_status": status, "requests": [r.as_dict() for r in requests],
        "effect": REMEDIATIONS[item.id].effect, "warnings": list(REMEDIATIONS[item.id].warnings),
        "authorizations_on_success": decision.cost,
    }
    changes = _what_if_for(item, asset_id, ctx)
    if changes and billing.decide(plan_state, "paths").allowed:
        doc["attack_paths_cut"] = analyse_paths(driver, account_id, changes)["what_if"]["paths_removed"]
    if status != NOT_PASS:
        doc["note"] = f"the finding is {status}: nothing to fix"
        doc["requests"] = []
    return doc


def _audit(driver: Driver, account_id: str, who: str, action: str, detail: dict[str, Any]) -> None:
    driver.execute_query(
        "CREATE (:AuditEntry {account_id: $account, at: datetime(), who: $who, action: $action, detail: $detail})",
        account=account_id, who=who, action=action, detail=json.dumps(detail, default=str)[:100_000],
    )


def execute(driver: Driver, account_id: str, check_id: str, asset_id: str, transport: WriteTransport,
            reingest: Any, who: str = "cli") -> dict[str, Any]:
    """Run the plan's requests, re-collect through the same transport, verify, bill and audit."""
    doc = plan(driver, account_id, check_id, asset_id)
    doc["dry_run"] = False
    item = get_item(check_id)
    if not doc["requests"]:
        return doc
    responses: list[dict[str, Any]] = []
    before = doc["current_status"]
    for req in doc["requests"]:
        try:
            body = transport.call(req["product"], req["version"], req["action"], req["region"], req["params"])
        except ApiError as exc:
            _audit(driver, account_id, who, "remediate.failed",
                   {"check_id": check_id, "asset_id": asset_id, "request": req, "error": str(exc), "done": responses})
            raise RemediationError(
                f"{req['action']} failed: {exc.code} {exc.message}; {len(responses)} of {len(doc['requests'])} "
                "requests had succeeded (see the audit log); nothing was billed"
            ) from exc
        responses.append({"action": req["action"], "response": body})
    reingest(transport)
    plan_state = billing.load_plan(driver, account_id)
    biller = PlanBiller(plan_state, who)
    remediation_cost = billing.decide(plan_state, "remediate", item).cost
    verification = run_items(driver, account_id, [item], biller, operation="verify", asset_id=asset_id, who=who)
    after = verification.results[0].status if verification.results else "NOT_CHECK"
    charged = 0
    if remediation_cost > 0:
        def charge(tx: Any) -> int:
            return biller.charge(tx, "remediate", item, [asset_id], verification.scan_id)

        with driver.session() as session:
            charged = session.execute_write(charge)
    doc.update({"responses": responses, "status_before": before, "status_after": after,
                "verified": after == "PASS", "verification_scan_id": verification.scan_id,
                "authorizations_consumed": charged + verification.authorizations_consumed})
    _audit(driver, account_id, who, "remediate", {k: doc[k] for k in ("check_id", "asset_id", "requests", "responses",
                                                                       "status_before", "status_after")})
    _audit(driver, account_id, who, "verify", {"check_id": check_id, "asset_id": asset_id, "status": after,
                                               "at": datetime.now(UTC).isoformat()})
    return doc


def endpoint_from_env() -> str | None:
    return os.environ.get(ENDPOINT_ENV) or None


__all__ = ["plan", "execute", "ApiRequest", "RemediationError", "endpoint_from_env"]
