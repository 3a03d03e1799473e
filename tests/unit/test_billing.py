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


# ---------------------------------------------------------------- legacy free items (spec: --legacy-free)

ALL_PORTS = BY_ID["ACS_ECS_SecurityGroupPublicAllPorts"]  # paid, high
_CLOUD = [i for i in BY_ID.values() if i.kind == "cloud"]
PAID_HIGH = next(i for i in _CLOUD if i.tier == "paid" and i.severity == "high")
PAID_MEDIUM = next(i for i in _CLOUD if i.tier == "paid" and i.severity == "medium")
PAID_LOW = next(i for i in _CLOUD if i.tier == "paid" and i.severity == "low")
FUTURE = "2999-01-01T00:00:00Z"
PAST = "2020-01-01T00:00:00Z"


@pytest.mark.parametrize(
    ("model", "edition", "cspm", "expires", "item", "operation", "allowed", "cost"),
    [
        # legacy-free items stay free once CSPM is bought: scanning them costs nothing
        ("subscription", "enterprise", True, FUTURE, ALL_PORTS, "scan", True, 0),
        ("subscription", "enterprise", True, FUTURE, ALL_PORTS, "verify", True, 0),
        ("subscription", "enterprise", True, FUTURE, ALL_PORTS, "remediate", True, 1),  # like any free item
        ("payg", "ultimate", True, None, PAID_LOW, "scan", True, 0),
        # without CSPM: scanned for nothing, not remediated (free items without CSPM)
        ("subscription", "enterprise", False, FUTURE, ALL_PORTS, "scan", True, 0),
        ("subscription", "enterprise", False, FUTURE, ALL_PORTS, "remediate", False, 0),
        # the edition decides which items are legacy free
        ("subscription", "anti-virus", False, FUTURE, PAID_HIGH, "scan", True, 0),
        ("subscription", "anti-virus", False, FUTURE, PAID_MEDIUM, "scan", False, 0),
        ("subscription", "advanced", False, FUTURE, PAID_MEDIUM, "scan", True, 0),
        ("subscription", "advanced", False, FUTURE, PAID_LOW, "scan", False, 0),
        ("subscription", "advanced", True, FUTURE, PAID_LOW, "scan", True, 1),
        ("subscription", "ultimate", False, FUTURE, PAID_LOW, "scan", True, 0),
        # until the edition expires
        ("subscription", "enterprise", False, PAST, ALL_PORTS, "scan", False, 0),
    ],
)
def test_legacy_free_table(model: str, edition: str, cspm: bool, expires: str | None, item: CheckItem,
                           operation: str, allowed: bool, cost: int) -> None:
    plan = Plan("1", model=model, edition=edition, cspm=cspm, quota_total=100, expires=expires, legacy_free=True)
    d = decide(plan, operation, item)
    assert (d.allowed, d.cost) == (allowed, cost), d
    # the same plan without the legacy flag pays as usual
    normal = decide(Plan("1", model=model, edition=edition, cspm=cspm, quota_total=100, expires=expires), "scan",
                    item)
    assert normal.cost == (1 if normal.allowed and item.tier == "paid" and model != "per-instance" else 0)


@pytest.mark.parametrize(("edition", "at_least"), [("anti-virus", 80), ("advanced", 90), ("enterprise", 250),
                                                   ("ultimate", 250)])
def test_legacy_free_counts_per_edition(edition: str, at_least: int) -> None:
    """Anti-virus 80+, Advanced 90+, Enterprise/Ultimate 250+ — as far as the catalog allows: the catalog has
    fewer than 250 cloud items, so Enterprise/Ultimate legacy accounts get every cloud item free."""
    count = sum(edition in i.legacy_free_editions for i in _CLOUD)
    assert count >= min(at_least, len(_CLOUD)), count


def test_legacy_free_editions_come_from_the_catalog_table() -> None:
    from checks.catalog import LEGACY_FREE_RULES, legacy_free_editions

    for item in BY_ID.values():
        assert item.legacy_free_editions == legacy_free_editions(item), item.id
        if item.kind == "cloud":
            assert set(LEGACY_FREE_RULES[(item.tier, item.severity)]) <= set(item.legacy_free_editions), item.id
    # the editions nest: what Anti-virus keeps, Advanced keeps; what Advanced keeps, Enterprise keeps
    for item in _CLOUD:
        e = set(item.legacy_free_editions)
        assert ("anti-virus" not in e or "advanced" in e) and ("advanced" not in e or {"enterprise", "ultimate"} <= e)


# ---------------------------------------------------------------- baseline: free edition + CSPM

@pytest.mark.parametrize("item", [WEAK, SSH, CONTAINER], ids=lambda i: i.id)
@pytest.mark.parametrize("model", ["subscription", "payg", "per-instance"])
def test_free_edition_with_cspm_gets_no_baseline_items(model: str, item: CheckItem) -> None:
    """The only CSPM-metered baseline row is "anti-virus / value-added edition with CSPM"."""
    plan = Plan("1", model=model, edition="free", cspm=True, quota_total=100)
    d = decide(plan, "scan", item)
    assert not d.allowed and d.cost == 0
    assert "Anti-virus/Value-added edition with CSPM" in d.enabled_by and "Enterprise" in d.enabled_by
    assert decide(Plan("1", model=model, edition="anti-virus", cspm=True, quota_total=100), "scan", item).allowed


# ---------------------------------------------------------------- debit re-checks the plan under the lock

class RecordingTx:
    def __init__(self) -> None:
        self.queries: list[str] = []

    def run(self, query: str, **params: object) -> RecordingTx:
        self.queries.append(query)
        return self

    def consume(self) -> None:
        return None


@pytest.mark.parametrize(
    "locked",
    [
        Plan("1", model="payg", edition="ultimate", cspm=True, expires=PAST),
        Plan("1", model="subscription", edition="ultimate", cspm=True, quota_total=100, expires=PAST),
        Plan("1", model="trial", edition="enterprise", cspm=True, expires=PAST),
        Plan("1", model="payg", edition="ultimate", cspm=False),  # CSPM switched off meanwhile
        Plan("1", model="free"),
    ],
    ids=lambda p: f"{p.model}-{'expired' if p.expires else 'nocspm'}",
)
def test_debit_grants_nothing_when_the_plan_no_longer_allows_it(locked: Plan) -> None:
    from backend.billing import debit

    tx = RecordingTx()
    got = debit(tx, locked, operation="scan", check_id=PAID_CLOUD.id, assets=["a", "b", "c"], scan_id="s",  # type: ignore[arg-type]
                who="t", item=PAID_CLOUD)
    assert got.granted == 0 and tx.queries == [] and locked.quota_used == 0


def test_debit_grants_what_a_valid_plan_allows() -> None:
    from backend.billing import debit

    tx = RecordingTx()
    sub = Plan("1", model="subscription", edition="ultimate", cspm=True, quota_total=2, expires=FUTURE)
    assert debit(tx, sub, operation="scan", check_id=PAID_CLOUD.id, assets=["a", "b", "c"], scan_id="s",  # type: ignore[arg-type]
                 who="t", item=PAID_CLOUD).granted == 2
    assert sub.quota_used == 2 and len(tx.queries) == 1
    payg = Plan("1", model="payg", edition="ultimate", cspm=True)
    assert debit(tx, payg, operation="scan", check_id=PAID_CLOUD.id, assets=["a", "b", "c"], scan_id="s",  # type: ignore[arg-type]
                 who="t", item=PAID_CLOUD).granted == 3
    # re-decided under the lock: a free item's scan costs nothing, so nothing is debited
    assert debit(tx, payg, operation="scan", check_id=FREE_CLOUD.id, assets=["a"], scan_id="s",  # type: ignore[arg-type]
                 who="t", item=FREE_CLOUD).granted == 0


# ---------------------------------------------------------------- recommended quota counts every asset label

def test_recommended_quota_counts_every_asset_label() -> None:
    from backend.billing import _asset_count_query
    from graph_schema.model import ASSET_LABELS

    query = _asset_count_query()
    for label in ASSET_LABELS:
        assert f"MATCH (n:{label} {{account_id: $account}})" in query, label
    assert {"KmsKey", "LoadBalancer", "SlsLogstore"} <= ASSET_LABELS
