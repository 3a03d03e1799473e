"""spec/billing.md as outside tests see it (CLI JSON) and the plan rules the spec leaves to us, on the real graph."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from neo4j import Driver

from backend import billing
from backend.entitlements import PlanBiller
from backend.ingest import ingest_snapshot
from checks.catalog import BY_ID, CATALOG
from checks.scan import BILLABLE, NOT_CHECK, run_items
from graph_schema.model import ASSET_LABELS
from graph_schema.store import delete_account
from tests.helpers.cli import run as cli
from tests.helpers.cli import run_json as cli_json
from tests.helpers.extra_products import with_extra_products
from tests.helpers.sample import sample_doc

SHOW_KEYS = {"model", "edition", "cspm", "quota_total", "quota_used", "quota_remaining", "expires", "usage",
             "recommended_quota"}
FUTURE = "2999-01-01T00:00:00Z"
PAST = "2020-01-01T00:00:00Z"




@pytest.fixture
def account(sample_account: str) -> str:
    return sample_account


def scan(driver: Driver, account_id: str, items: Any = CATALOG) -> Any:
    return run_items(driver, account_id, list(items), PlanBiller(billing.load_plan(driver, account_id)))


def ledger_sum(driver: Driver, account_id: str, period: str | None = None) -> int:
    where = "" if period is None else "WHERE e.period = $p "
    rec = driver.execute_query(f"MATCH (e:LedgerEntry {{account_id: $a}}) {where}RETURN coalesce(sum(e.amount), 0) AS s",
                               a=account_id, p=period).records[0]
    return int(rec["s"])


def period_of(driver: Driver, account_id: str) -> str:
    period = billing.load_plan(driver, account_id).period
    assert period
    return period


def assert_balanced(driver: Driver, account_id: str) -> dict[str, Any]:
    """quota_used never exceeds quota_total, and the current period's ledger sums to quota_used."""
    shown = billing.billing_show(driver, account_id)
    assert shown["quota_used"] <= shown["quota_total"], shown
    assert ledger_sum(driver, account_id, period_of(driver, account_id)) == shown["quota_used"]
    assert shown["usage"]["ledger_total"] == shown["quota_used"]
    return shown


# ---------------------------------------------------------------- 1. the show document


@pytest.mark.parametrize(
    "plan",
    [
        ["--model", "free"],
        ["--model", "subscription", "--edition", "enterprise", "--cspm", "--quota", "10", "--legacy-free"],
        ["--model", "payg", "--cspm"],
        ["--model", "trial"],
        ["--model", "per-instance"],
    ],
    ids=lambda p: p[1],
)
def test_show_json_has_exactly_the_spec_keys(account: str, plan: list[str]) -> None:
    set_doc = cli_json("billing", "set", "--account", account, *plan)
    shown = cli_json("billing", "show", "--account", account)
    assert set(set_doc) == SHOW_KEYS and set(shown) == SHOW_KEYS
    assert isinstance(shown["usage"], dict)
    human = cli("billing", "show", "--account", account).stdout
    assert account in human and "legacy free" in human  # human output keeps the details, in words


# ---------------------------------------------------------------- 2. legacy-free items with CSPM


def test_legacy_free_item_costs_nothing_with_cspm_through_the_cli(account: str) -> None:
    cli_json("billing", "set", "--account", account, "--model", "subscription", "--edition", "enterprise", "--cspm",
             "--quota", "10", "--legacy-free")
    doc = cli_json("scan", "--account", account, "--check", "ACS_ECS_SecurityGroupPublicAllPorts")
    assert doc["authorizations_consumed"] == 0 and doc["status"] == "completed"
    evaluated = [r for r in doc["results"] if r["status"] in BILLABLE]
    assert evaluated, doc["results"]
    assert cli_json("billing", "show", "--account", account)["quota_used"] == 0
    # the same plan without --legacy-free pays one per asset
    cli_json("billing", "set", "--account", account, "--model", "subscription", "--edition", "enterprise", "--cspm",
             "--quota", "10")
    paid = cli_json("scan", "--account", account, "--check", "ACS_ECS_SecurityGroupPublicAllPorts")
    assert paid["authorizations_consumed"] == len(evaluated)


# ---------------------------------------------------------------- 3. subscription → payg


@pytest.mark.parametrize(
    ("cspm", "expires", "refused"),
    [
        (True, None, True),
        (False, None, True),  # an active subscription without CSPM is still an active subscription
        (False, FUTURE, True),
        (True, FUTURE, True),
        (True, PAST, False),  # expired: the switch is allowed, the unused quota is gone
    ],
)
def test_subscription_to_payg(neo4j_driver: Driver, account: str, cspm: bool, expires: str | None,
                              refused: bool) -> None:
    billing.set_plan(neo4j_driver, account, model="subscription", edition="enterprise", cspm=cspm, quota=10,
                     expires=expires)
    if refused:
        with pytest.raises(billing.BillingError, match="pay-as-you-go.*while the subscription is active"):
            billing.set_plan(neo4j_driver, account, model="payg", cspm=True)
        proc = cli("billing", "set", "--account", account, "--model", "payg", "--cspm", "--format", "json", ok=False)
        assert proc.returncode != 0 and proc.stdout == "" and "unsubscribe" in proc.stderr
        # unsubscribing first makes the switch possible
        billing.set_plan(neo4j_driver, account, model="free")
    billing.set_plan(neo4j_driver, account, model="payg", cspm=True)
    shown = billing.billing_show(neo4j_driver, account)
    assert shown["model"] == "payg" and shown["quota_total"] == 0 and shown["quota_used"] == 0


# ---------------------------------------------------------------- 4. quota periods


def test_quota_never_below_used_and_the_ledger_proves_each_period(neo4j_driver: Driver, account: str) -> None:
    billing.set_plan(neo4j_driver, account, model="subscription", edition="ultimate", cspm=True, quota=40,
                     expires=FUTURE)
    first_period = period_of(neo4j_driver, account)
    report = scan(neo4j_driver, account)
    assert report.status == "quota_exhausted" and report.authorizations_consumed == 40
    assert_balanced(neo4j_driver, account)
    # lowering the quota below what the period used is refused (it would put quota_used above quota_total)
    with pytest.raises(billing.BillingError, match="below the 40 authorizations already used"):
        billing.set_plan(neo4j_driver, account, model="subscription", edition="ultimate", cspm=True, quota=30,
                         expires=FUTURE)
    proc = cli("billing", "set", "--account", account, "--model", "subscription", "--edition", "ultimate", "--cspm",
               "--quota", "30", "--expires", FUTURE, "--format", "json", ok=False)
    assert proc.returncode != 0 and "--quota 30" in proc.stderr
    assert assert_balanced(neo4j_driver, account)["quota_total"] == 40
    # a change without --quota keeps the total; raising it continues the same period
    billing.set_plan(neo4j_driver, account, model="subscription", edition="ultimate", cspm=True, expires=FUTURE)
    assert assert_balanced(neo4j_driver, account)["quota_total"] == 40
    billing.set_plan(neo4j_driver, account, model="subscription", edition="ultimate", cspm=True, quota=55,
                     expires=FUTURE)
    assert period_of(neo4j_driver, account) == first_period
    assert scan(neo4j_driver, account).authorizations_consumed == 15
    shown = assert_balanced(neo4j_driver, account)
    assert (shown["quota_used"], shown["quota_total"], shown["quota_remaining"]) == (55, 55, 0)
    # expiry zeroes the remaining quota
    billing.set_plan(neo4j_driver, account, model="subscription", edition="ultimate", cspm=True, quota=100,
                     expires=PAST)
    shown = assert_balanced(neo4j_driver, account)
    assert shown["quota_remaining"] == 0 and not shown["cspm"]
    # a new subscription starts a new period: nothing carried over, the old entries keep their period
    billing.set_plan(neo4j_driver, account, model="subscription", edition="ultimate", cspm=True, quota=10,
                     expires=FUTURE)
    assert period_of(neo4j_driver, account) != first_period
    shown = assert_balanced(neo4j_driver, account)
    assert (shown["quota_used"], shown["quota_total"]) == (0, 10)
    assert scan(neo4j_driver, account).authorizations_consumed == 10
    assert assert_balanced(neo4j_driver, account)["quota_used"] == 10
    assert ledger_sum(neo4j_driver, account, first_period) == 55 and ledger_sum(neo4j_driver, account) == 65


# ---------------------------------------------------------------- 7. edge cases


@pytest.mark.parametrize("model", ["payg", "subscription", "trial"])
def test_plan_expiring_between_decision_and_debit_grants_nothing(neo4j_driver: Driver, account: str,
                                                                 model: str) -> None:
    soon = (datetime.now(UTC) + timedelta(days=1)).isoformat().replace("+00:00", "Z")
    billing.set_plan(neo4j_driver, account, model=model, edition="ultimate", cspm=True, quota=1000, expires=soon)
    biller = PlanBiller(billing.load_plan(neo4j_driver, account))  # decided while the plan is valid
    assert biller.decide("scan", BY_ID["ACS_OSS_BucketEncryption"]).cost == 1
    neo4j_driver.execute_query("MATCH (p:Plan {uid: $uid}) SET p.expires = $past", uid=billing.plan_uid(account),
                               past=PAST)
    paid = [i for i in CATALOG if i.kind == "cloud" and i.tier == "paid"]
    report = run_items(neo4j_driver, account, paid, biller)
    assert report.authorizations_consumed == 0 and ledger_sum(neo4j_driver, account) == 0
    assert report.status == "quota_exhausted"
    assert all(r.status not in BILLABLE for r in report.results)
    assert any(r.status == NOT_CHECK for r in report.results)
    assert billing.load_plan(neo4j_driver, account).quota_used == 0


def test_recommended_quota_counts_every_asset_label(neo4j_driver: Driver, tmp_path: Path) -> None:
    account_id = str(random.randint(10**15, 10**16 - 1))
    path = tmp_path / "extra.json"
    path.write_text(json.dumps(with_extra_products(sample_doc(account_id))))
    try:
        ingest_snapshot(neo4j_driver, path)
        counts = {label: neo4j_driver.execute_query(f"MATCH (n:{label} {{account_id: $a}}) RETURN count(n) AS c",
                                                    a=account_id).records[0]["c"] for label in ASSET_LABELS}
        assert all(counts[label] > 0 for label in ("KmsKey", "LoadBalancer", "SlsLogstore")), counts
        shown = cli_json("billing", "show", "--account", account_id)
        assert shown["recommended_quota"] == 20 * sum(counts.values())
    finally:
        delete_account(neo4j_driver, account_id)


def test_unknown_ledger_cursor_is_an_error(neo4j_driver: Driver, account: str) -> None:
    billing.set_plan(neo4j_driver, account, model="payg", edition="ultimate", cspm=True)
    scan(neo4j_driver, account, [i for i in CATALOG if i.kind == "cloud" and i.tier == "paid"][:5])
    first = billing.ledger_page(neo4j_driver, account, first=2)
    assert len(first["entries"]) == 2 and first["has_next_page"]
    rest = billing.ledger_page(neo4j_driver, account, first["end_cursor"], first=100)
    assert rest["entries"] and not rest["has_next_page"]
    assert {json.dumps(e, sort_keys=True) for e in first["entries"]}.isdisjoint(
        json.dumps(e, sort_keys=True) for e in rest["entries"])
    with pytest.raises(billing.BillingError, match="unknown ledger cursor"):
        billing.ledger_page(neo4j_driver, account, "4:nope:123")
    proc = cli("billing", "ledger", "--account", account, "--after", "4:nope:123", "--format", "json", ok=False)
    assert proc.returncode != 0 and proc.stdout == "" and "unknown ledger cursor" in proc.stderr


# ---------------------------------------------------------------- kept: trial, per-instance, paths refusal


def test_trial_is_a_seven_day_enterprise_subscription_trial_with_cspm(neo4j_driver: Driver, account: str) -> None:
    shown = cli_json("billing", "set", "--account", account, "--model", "trial")
    assert (shown["model"], shown["edition"], shown["cspm"]) == ("trial", "enterprise", True)
    expires = datetime.fromisoformat(shown["expires"].replace("Z", "+00:00"))
    assert timedelta(days=6, hours=23) < expires - datetime.now(UTC) <= timedelta(days=7)
    report = scan(neo4j_driver, account)
    ran = {r.check_id for r in report.results if r.status in BILLABLE}
    assert "HOST_SSH_PermitRootLogin" in ran and "HOST_CONTAINER_Privileged" not in ran
    assert "ACS_OSS_BucketEncryption" in ran and report.authorizations_consumed > 0
    assert cli_json("paths", "--account", account)["paths"]


def test_per_instance_plan_bills_instances_per_day(neo4j_driver: Driver, account: str) -> None:
    cli_json("billing", "set", "--account", account, "--model", "per-instance")
    report = scan(neo4j_driver, account, [i for i in CATALOG if i.kind == "cloud"])
    assert report.authorizations_consumed == 0
    instances = {r.asset_id for r in report.results if r.status in BILLABLE}
    usage = cli_json("billing", "show", "--account", account)["usage"]
    today = datetime.now(UTC).date().isoformat()
    assert usage["instances_by_day"] == {today: len(instances)}
    assert usage["amount_usd"] == round(len(instances) * 0.0732, 4)
    assert (usage["price_usd_per_instance_day"], usage["price_usd_per_instance_month"]) == (0.0732, 1.46)
    scan(neo4j_driver, account, [i for i in CATALOG if i.kind == "cloud"])  # the same day: billed once
    assert cli_json("billing", "show", "--account", account)["usage"]["instances_by_day"] == {today: len(instances)}


@pytest.mark.parametrize("plan", [["--model", "free"], ["--model", "subscription", "--edition", "ultimate"],
                                  ["--model", "payg", "--edition", "enterprise"]], ids=lambda p: "-".join(p[1::2]))
def test_paths_refused_without_cspm_naming_the_plan(account: str, plan: list[str]) -> None:
    cli_json("billing", "set", "--account", account, *plan)
    proc = cli("paths", "--account", account, "--format", "json", ok=False)
    assert proc.returncode != 0 and proc.stdout == ""
    assert "CSPM" in proc.stderr and "trial" in proc.stderr and "billing set" in proc.stderr
