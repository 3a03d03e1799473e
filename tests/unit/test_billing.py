"""Walk every row of spec/billing.md's tables through the one decision function."""

from __future__ import annotations

import pytest

from backend.billing import Plan, decide, recommended_quota
from checks.catalog import BY_ID
from checks.model import CheckItem

FREE_CLOUD = BY_ID["ACS_ECS_SecurityGroupPublicSSH"]
PAID_CLOUD = BY_ID["ACS_OSS_BucketEncryption"]
WEAK = BY_ID["HOST_ACCOUNT_WeakPassword"]
SSH = BY_ID["HOST_SSH_PermitRootLogin"]
CONTAINER = BY_ID["HOST_CONTAINER_Privileged"]

NO_CSPM = [
    Plan("1", model="free", edition="free"),
    Plan("1", model="subscription", edition="anti-virus"),
    Plan("1", model="subscription", edition="value-added"),
    Plan("1", model="subscription", edition="advanced"),
    Plan("1", model="subscription", edition="enterprise"),
    Plan("1", model="subscription", edition="ultimate"),
    Plan("1", model="payg", edition="enterprise", cspm=False),
]
WITH_CSPM = [
    Plan("1", model="subscription", edition="free", cspm=True, quota_total=100),
    Plan("1", model="subscription", edition="ultimate", cspm=True, quota_total=100),
    Plan("1", model="payg", edition="enterprise", cspm=True),
    Plan("1", model="trial", edition="enterprise", cspm=True),
]


def _id(p: Plan) -> str:
    return f"{p.model}-{p.edition}-{'cspm' if p.cspm else 'nocspm'}"


@pytest.mark.parametrize("plan", NO_CSPM, ids=_id)
def test_without_cspm_free_items_scan_for_nothing_and_nothing_else(plan: Plan) -> None:
    assert decide(plan, "scan", FREE_CLOUD) .allowed and decide(plan, "scan", FREE_CLOUD).cost == 0
    assert decide(plan, "verify", FREE_CLOUD).allowed
    assert not decide(plan, "remediate", FREE_CLOUD).allowed
    refused = decide(plan, "scan", PAID_CLOUD)
    assert not refused.allowed and "CSPM" in refused.enabled_by
    assert not decide(plan, "paths").allowed


@pytest.mark.parametrize("plan", WITH_CSPM, ids=_id)
def test_with_cspm_paid_items_cost_one_free_items_cost_on_remediation(plan: Plan) -> None:
    for op in ("scan", "verify", "remediate"):
        d = decide(plan, op, PAID_CLOUD)
        assert d.allowed and d.cost == 1, op
    assert decide(plan, "scan", FREE_CLOUD).cost == 0
    assert decide(plan, "verify", FREE_CLOUD).cost == 0
    assert decide(plan, "remediate", FREE_CLOUD).cost == 1
    assert decide(plan, "paths").allowed and decide(plan, "paths").cost == 0


@pytest.mark.parametrize(
    ("edition", "cspm", "item", "allowed", "cost"),
    [
        ("advanced", False, WEAK, True, 0),
        ("advanced", False, SSH, False, 0),
        ("advanced", True, SSH, False, 0),  # edition's baseline wins over CSPM
        ("enterprise", False, SSH, True, 0),
        ("enterprise", False, CONTAINER, False, 0),
        ("ultimate", False, CONTAINER, True, 0),
        ("anti-virus", True, CONTAINER, True, 1),
        ("value-added", True, SSH, True, 1),
        ("anti-virus", False, WEAK, False, 0),
        ("free", False, WEAK, False, 0),
    ],
)
def test_baseline_table(edition: str, cspm: bool, item: CheckItem, allowed: bool, cost: int) -> None:
    plan = Plan("1", model="subscription", edition=edition, cspm=cspm, quota_total=10)
    d = decide(plan, "scan", item)
    assert (d.allowed, d.cost) == (allowed, cost)


def test_trial_is_enterprise_with_cspm() -> None:
    plan = Plan("1", model="trial", edition="enterprise")
    assert decide(plan, "scan", SSH).allowed and not decide(plan, "scan", CONTAINER).allowed
    assert decide(plan, "scan", PAID_CLOUD).allowed


def test_expired_subscription_loses_cspm() -> None:
    plan = Plan("1", model="subscription", edition="ultimate", cspm=True, quota_total=10, expires="2020-01-01T00:00:00Z")
    assert not decide(plan, "scan", PAID_CLOUD).allowed
    assert not decide(plan, "paths").allowed


def test_legacy_free_items_of_the_edition() -> None:
    plan = Plan("1", model="subscription", edition="enterprise", legacy_free=True)
    legacy = next(i for i in BY_ID.values() if i.tier == "paid" and "enterprise" in i.legacy_free_editions)
    assert decide(plan, "scan", legacy).allowed and decide(plan, "scan", legacy).cost == 0
    assert not decide(plan, "remediate", legacy).allowed
    assert not decide(Plan("1", model="subscription", edition="enterprise"), "scan", legacy).allowed


def test_per_instance_plan_costs_no_authorizations() -> None:
    plan = Plan("1", model="per-instance", edition="free", cspm=True)
    assert decide(plan, "scan", PAID_CLOUD).allowed and decide(plan, "scan", PAID_CLOUD).cost == 0


def test_recommended_quota() -> None:
    assert recommended_quota(15) == 300
