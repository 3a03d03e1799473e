"""A remediation: the plan (dry run) and what executing it did."""

from __future__ import annotations

import json
from typing import Any

import strawberry

from backend.graphql.enums import FindingStatus


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


@strawberry.type(description="A request parameter; non-text values as JSON text.")
class Param:
    name: str
    value: str


@strawberry.type(description="One OpenAPI call of a plan.")
class ApiCall:
    product: str
    action: str
    region: str | None
    params: list[Param] = strawberry.field(description="Bounded: the call's parameters.")


@strawberry.type(description="What a call answered (the provider's body as JSON text).")
class ApiResponse:
    action: str
    body: str


@strawberry.type(description="The fix of one finding: the plan (`dryRun`), or what executing it did. A manual item "
                             "has no calls: `manualSteps` says what to do, filled with the asset's own values.")
class Remediation:
    check_id: str
    asset_id: str
    dry_run: bool
    automated: bool
    current_status: FindingStatus | None
    requests: list[ApiCall] = strawberry.field(description="Bounded: a plan makes a few calls.")
    effect: str | None
    warnings: list[str] = strawberry.field(description="Bounded.")
    note: str | None
    manual_steps: str | None
    authorizations_on_success: int | None
    attack_paths_cut: int | None = strawberry.field(description="Paths the fix cuts (what-if), when paths are enabled.")
    command: str = strawberry.field(description="The CLI command for the same dry run.")
    remediation_id: str | None
    outcome: str | None = strawberry.field(description="Executed: remediated | unverified.")
    verified: bool | None
    status_before: FindingStatus | None
    status_after: FindingStatus | None
    authorizations_consumed: int | None
    applied_to: str | None
    responses: list[ApiResponse] | None = strawberry.field(description="Executed: one per call made.")


def _status(value: Any) -> FindingStatus | None:
    return FindingStatus(value) if value else None


def remediation_node(doc: dict[str, Any], account_id: str) -> Remediation:
    from backend.fixes import remediate_command

    return Remediation(
        check_id=doc["check_id"], asset_id=doc["asset_id"], dry_run=doc.get("dry_run", True),
        automated=doc.get("automated", True), current_status=_status(doc.get("current_status")),
        requests=[ApiCall(product=r["product"], action=r["action"], region=r.get("region"),
                          params=[Param(name=k, value=_text(v)) for k, v in r.get("params", {}).items()])
                  for r in doc.get("requests", [])],
        effect=doc.get("effect"), warnings=list(doc.get("warnings", [])), note=doc.get("note"),
        manual_steps=doc.get("manual_steps"), authorizations_on_success=doc.get("authorizations_on_success"),
        attack_paths_cut=doc.get("attack_paths_cut"),
        command=remediate_command(account_id, doc["check_id"], doc["asset_id"]),
        remediation_id=doc.get("remediation_id"), outcome=doc.get("outcome"), verified=doc.get("verified"),
        status_before=_status(doc.get("status_before")), status_after=_status(doc.get("status_after")),
        authorizations_consumed=doc.get("authorizations_consumed"), applied_to=doc.get("applied_to"),
        responses=[ApiResponse(action=r["action"], body=_text(r["response"])) for r in doc["responses"]]
        if "responses" in doc else None)


def manual_plan(driver: Any, account_id: str, check_id: str, asset_id: str) -> dict[str, Any]:
    """A manual item's 'plan': no calls, the filled manual steps."""
    from backend.fixes import manual_steps
    from checks.catalog import get_item

    item = get_item(check_id)
    return {"check_id": check_id, "asset_id": asset_id, "dry_run": True, "automated": False,
            "manual_steps": manual_steps(driver, account_id, item, asset_id)}
