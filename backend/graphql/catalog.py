"""Check items (the catalog and an account's custom items)."""

from __future__ import annotations

import strawberry

from backend.graphql.enums import Severity
from checks.model import CheckItem


@strawberry.type(description="Where a check item sits in a compliance package.")
class ComplianceRef:
    package: str
    requirement: str


@strawberry.type(name="CheckItem", description="A check item: what it checks, how bad a failure is, how to fix it.")
class CheckItemNode:
    id: str
    title: str
    description: str
    product: str
    asset_type: str
    severity: Severity
    tier: str = strawberry.field(description="free | paid (paid items need CSPM)")
    kind: str = strawberry.field(description="cloud | baseline (host)")
    category: str | None
    refs: list[ComplianceRef] = strawberry.field(description="Bounded: one per compliance package.")
    remediation: str = strawberry.field(description="How to fix a failure (the manual steps, for manual items).")
    remediation_action: str | None = strawberry.field(
        description="The OpenAPI action `remediate` calls; null: manual (see `remediation`).")
    automated: bool
    custom: bool


def item_node(item: CheckItem) -> CheckItemNode:
    return CheckItemNode(
        id=item.id, title=item.title, description=item.description, product=item.product, asset_type=item.asset_type,
        severity=Severity(item.severity), tier=item.tier, kind=item.kind, category=item.category,
        refs=[ComplianceRef(package=p, requirement=r) for p, r in sorted(item.refs.items())],
        remediation=item.remediation, remediation_action=item.remediation_action,
        automated=item.remediation_action is not None, custom=item.custom)
