"""Remediation: plan (dry run, default) → execute through the SDK → re-collect → verify, all audited.

Recording rules (issue 8: "a failed call leaves a clear error and no half-recorded state"):

- every executed call (request, response, time) is audited the moment it returns (`remediate.call`),
  and so is every compensating call;
- a call that fails part-way through a multi-call plan undoes the calls already made, in reverse,
  with the `undo` each step declares; the summary (`remediate.failed`) says what was executed, what
  was undone and what could not be;
- when every call succeeded but re-collecting or verifying fails, the writes stay (they are the fix:
  undoing it because Skypath could not read it back would reopen the risk) and `remediate.failed`
  (stage `re-collect` / `verify`) says so;
- a remediation is successful — and charged, per billing.md "1 per successful remediation" — only
  when the verification after it says PASS; the charge and the `remediate` summary are written in
  one transaction. A fix whose verification is not PASS is audited `remediate.unverified` and not
  charged (the verification itself is billed like any verification).
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol

from neo4j import Driver, ManagedTransaction

from backend import billing
from backend.entitlements import PlanBiller
from checks.catalog import get_item
from checks.model import CheckItem
from checks.path_index import what_if
from checks.remediation import REMEDIATIONS, ApiRequest, RemediationError, plan_for, sg_ports
from checks.scan import NOT_PASS, ScanError, account_exists, run_items

ENDPOINT_ENV = "SKYPATH_ALIBABA_ENDPOINT"
PASS = "PASS"


class WriteTransport(Protocol):
    account_id: str

    def call(self, product: str, version: str, action: str, region: str, params: dict[str, Any]) -> Any: ...

    def regions(self, product: str) -> list[str]: ...


def _context(driver: Driver, account_id: str, item: CheckItem, asset_id: str) -> dict[str, Any]:
    rem = REMEDIATIONS.get(item.id)
    if rem is None:
        from backend.fixes import manual_steps

        raise RemediationError(f"{item.id} cannot be remediated automatically (it needs a human decision). "
                               f"Manual steps: {manual_steps(driver, account_id, item, asset_id)}")
    with driver.session() as session:
        rec = session.run(rem.context_query, account_id=account_id, asset_id=asset_id).single()
    if rec is None:
        raise RemediationError(f"asset {asset_id} of {item.id} not found in account {account_id}")
    ctx = dict(rec)
    ctx["account_id"] = account_id
    return ctx


def _what_if_for(item: CheckItem, asset_id: str, ctx: dict[str, Any]) -> list[str]:
    """The attack-path what-if of the fix: for a security-group item, exactly the ports its plan revokes."""
    ports = sg_ports(item)
    if ports is not None:
        protocol, closed = ports
        # an all-ports item's fix revokes only the rules that open every port
        listed = "all-port-rules" if closed is None else ",".join(map(str, closed))
        return [f"close-ports:{asset_id}:{protocol}:{listed}"]
    if item.id == "ACS_RAM_PolicyFullAdmin":
        return [f"detach-policy:{asset_id}"]
    return []


def current_status(driver: Driver, account_id: str, item: CheckItem, asset_id: str) -> str:
    rows = driver.execute_query(item.evaluation_query(one_asset=True), account_id=account_id, asset_id=asset_id,
                                routing_="r").records
    if not rows:
        raise ScanError(f"asset {asset_id} is not in the population of {item.id} for account {account_id}")
    row = rows[0]
    if not row["collected"] or row["fails"] is None:
        return "NOT_CHECK"
    return NOT_PASS if row["fails"] else PASS


def _asset_state(driver: Driver, account_id: str, item: CheckItem, asset_id: str) -> dict[str, Any] | None:
    """The asset's properties as the graph holds them (the audit's before / after)."""
    rows = driver.execute_query(
        f"{item.asset_match} RETURN n {{.*}} AS n",
        account_id=account_id, asset_id=asset_id, routing_="r").records
    if not rows:
        return None
    return {k: v for k, v in dict(rows[0]["n"]).items() if not k.startswith("_")}


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
        doc["attack_paths_cut"] = what_if(driver, account_id, changes)["paths_removed"]
    if status != NOT_PASS:
        doc["note"] = f"the finding is {status}: nothing to fix"
        doc["requests"] = []
    return doc


def _audit_tx(tx: ManagedTransaction, account_id: str, who: str, action: str, detail: dict[str, Any]) -> None:
    tx.run(
        "CREATE (:AuditEntry {account_id: $account, at: datetime(), who: $who, action: $action, detail: $detail})",
        account=account_id, who=who, action=action, detail=json.dumps(detail, default=str)[:100_000],
    ).consume()


def _audit(driver: Driver, account_id: str, who: str, action: str, detail: dict[str, Any]) -> None:
    with driver.session() as session:
        session.execute_write(_audit_tx, account_id, who, action, detail)


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _request(req: dict[str, Any]) -> ApiRequest:
    return ApiRequest(req["product"], req["version"], req["action"], req["region"], req["params"])


class _Run:
    """One execution: sends calls and audits each as it returns, undoes in reverse on failure."""

    def __init__(self, driver: Driver, account_id: str, who: str, transport: WriteTransport, base: dict[str, Any]):
        self.driver, self.account_id, self.who, self.transport = driver, account_id, who, transport
        self.base = base  # remediation_id, check_id, asset_id
        self.executed: list[dict[str, Any]] = []

    def send(self, req: dict[str, Any], **tags: Any) -> Any:
        r = _request(req)
        body = self.transport.call(r.product, r.version, r.action, r.region, r.params)
        entry = {"request": {k: v for k, v in req.items() if k != "undo"}, "response": body, "at": _now(), **tags}
        _audit(self.driver, self.account_id, self.who, "remediate.call", {**self.base, **entry})
        return entry

    def undo(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Compensate the executed steps in reverse: (undone, not undone with why)."""
        undone: list[dict[str, Any]] = []
        left: list[dict[str, Any]] = []
        for step in reversed(self.executed):
            undo = step["undo"]
            if undo is None:
                left.append({"step": step["step"], "action": step["request"]["action"], "why": "no undo declared"})
                continue
            try:
                undone.append({"step": step["step"], **self.send(undo, undo_of=step["step"])})
            except Exception as exc:  # noqa: BLE001 - every compensation failure is recorded, the rest still run
                left.append({"step": step["step"], "action": step["request"]["action"], "why": f"undo failed: {exc}"})
        return undone, left


def execute(driver: Driver, account_id: str, check_id: str, asset_id: str, transport: WriteTransport,
            reingest: Callable[[WriteTransport], Any], who: str = "cli") -> dict[str, Any]:
    """Run the plan's requests, re-collect through the same transport, verify, bill and audit (see module doc)."""
    doc = plan(driver, account_id, check_id, asset_id)
    doc["dry_run"] = False
    item = get_item(check_id)
    if not doc["requests"]:
        return doc
    plan_state = billing.load_plan(driver, account_id)
    cost = billing.decide(plan_state, "remediate", item).cost
    verify_cost = billing.decide(plan_state, "verify", item).cost
    if plan_state.metered_by_quota and cost + verify_cost > plan_state.quota_remaining:
        raise billing.BillingError(
            f"the subscription has {plan_state.quota_remaining} authorization(s) left; remediating {item.id} and "
            f"verifying it needs {cost + verify_cost}: nothing was changed")
    base = {"remediation_id": f"remediate-{uuid.uuid4().hex[:16]}", "check_id": check_id, "asset_id": asset_id}
    doc["remediation_id"] = base["remediation_id"]
    before = {"status": doc["current_status"], "asset": _asset_state(driver, account_id, item, asset_id)}
    run = _Run(driver, account_id, who, transport, base)
    recorded = False

    def summary(**extra: Any) -> dict[str, Any]:
        return {**base, "requests": doc["requests"], "executed": [{k: v for k, v in e.items() if k != "undo"}
                                                                   for e in run.executed], "before": before, **extra}

    try:
        for i, req in enumerate(doc["requests"]):
            try:
                entry = run.send(req, step=i)
            except Exception as exc:  # noqa: BLE001 - an API error or a transport failure: compensate, record
                undone, left = run.undo()
                _audit(driver, account_id, who, "remediate.failed", summary(
                    stage="call", failed={"step": i, "request": req, "error": str(exc)}, undone=undone,
                    not_undone=left))
                recorded = True
                raise RemediationError(
                    f"{req['action']} failed: {exc}; {len(run.executed)} of {len(doc['requests'])} calls had succeeded, "
                    f"{len(undone)} undone, {len(left)} not undone (see the audit log, {base['remediation_id']}); "
                    "nothing was billed") from exc
            run.executed.append({**entry, "undo": req.get("undo")})
        stage = "re-collect"
        try:
            reingest(transport)
            stage = "verify"
            biller = PlanBiller(billing.load_plan(driver, account_id), who)
            verification = run_items(driver, account_id, [item], biller, operation="verify", asset_id=asset_id, who=who)
        except Exception as exc:  # noqa: BLE001 - the fix is applied but not verified: record, do not bill
            _audit(driver, account_id, who, "remediate.failed", summary(
                stage=stage, error=str(exc), note="every call succeeded and the changes stay; run ingest and verify"))
            recorded = True
            raise RemediationError(f"the fix was applied but {stage} failed: {exc}; nothing was billed for the "
                                   f"remediation (see the audit log, {base['remediation_id']})") from exc
        after_status = verification.results[0].status if verification.results else "NOT_CHECK"
        after = {"status": after_status, "asset": _asset_state(driver, account_id, item, asset_id)}
        verified = after_status == PASS

        def record(tx: ManagedTransaction) -> int:
            charged = biller.charge(tx, "remediate", item, [asset_id], verification.scan_id) if verified and cost else 0
            _audit_tx(tx, account_id, who, "remediate" if verified else "remediate.unverified",
                      summary(after=after, verification_scan_id=verification.scan_id, charged=charged))
            _audit_tx(tx, account_id, who, "verify", {**base, "status": after_status, "at": _now(),
                                                      "scan_id": verification.scan_id})
            return charged

        with driver.session() as session:
            charged = session.execute_write(record)
        recorded = True
    finally:
        if not recorded and run.executed:
            # anything unexpected (an interrupt, a lost database connection…): the executed calls are on record
            _audit(driver, account_id, who, "remediate.failed", summary(stage="interrupted"))
    doc.update({"responses": [{"action": e["request"]["action"], "response": e["response"]} for e in run.executed],
                "status_before": before["status"], "status_after": after_status, "verified": verified,
                "outcome": "remediated" if verified else "unverified",
                "verification_scan_id": verification.scan_id,
                "authorizations_consumed": charged + verification.authorizations_consumed})
    if not verified:
        doc["note"] = (f"the calls succeeded but the finding is {after_status} after re-collecting: not a successful "
                       "remediation, nothing was billed for it")
    return doc


def endpoint_from_env() -> str | None:
    return os.environ.get(ENDPOINT_ENV) or None


__all__ = ["plan", "execute", "ApiRequest", "RemediationError", "endpoint_from_env"]
