"""Every quota change under the Plan lock: `billing set` racing scans never loses or overspends a debit."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from neo4j import Driver

from backend import billing
from backend.entitlements import PlanBiller
from checks.catalog import CATALOG
from checks.scan import run_items

QUOTA = 60


def _ledger_total(driver: Driver, account_id: str) -> int:
    rec = driver.execute_query("MATCH (e:LedgerEntry {account_id: $a}) RETURN coalesce(sum(e.amount), 0) AS s",
                               a=account_id).records[0]
    return int(rec["s"])


@pytest.mark.parametrize("round_", range(2))
def test_scans_and_concurrent_billing_set_keep_ledger_equal_to_quota_used(
        neo4j_driver: Driver, sample_account: str, round_: int) -> None:
    account = sample_account
    subscription = {"model": "subscription", "edition": "ultimate", "cspm": True, "quota": QUOTA}
    billing.set_plan(neo4j_driver, account, **subscription)

    def scan() -> int:
        return run_items(neo4j_driver, account, CATALOG,
                         PlanBiller(billing.load_plan(neo4j_driver, account))).authorizations_consumed

    def reset_plan() -> None:  # re-setting the same subscription: the period and what it consumed go on
        billing.set_plan(neo4j_driver, account, **subscription)

    with ThreadPoolExecutor(max_workers=12) as pool:
        scans = [pool.submit(scan) for _ in range(4)]
        resets = [pool.submit(reset_plan) for _ in range(20)]
        consumed = sum(f.result() for f in scans)
        for f in resets:
            f.result()
    shown = billing.billing_show(neo4j_driver, account)
    assert shown["quota_total"] == QUOTA
    assert consumed == shown["quota_used"] == _ledger_total(neo4j_driver, account) == QUOTA
    assert shown["usage"]["ledger_total"] == shown["quota_used"] <= shown["quota_total"]
    plans = neo4j_driver.execute_query("MATCH (p:Plan {account_id: $a}) RETURN count(p) AS c", a=account).records
    assert plans[0]["c"] == 1


def test_expires_is_parsed_strictly(neo4j_driver: Driver, sample_account: str) -> None:
    billing.set_plan(neo4j_driver, sample_account, model="payg", edition="ultimate", cspm=True)
    for bad in ("01/01/2020", "2020", "tomorrow", "２０２０-01-01", "2020-13-01", "2020-01-01 00:00"):
        with pytest.raises(billing.BillingError, match="--expires"):
            billing.set_plan(neo4j_driver, sample_account, model="subscription", quota=10, expires=bad)
    assert billing.load_plan(neo4j_driver, sample_account).model == "payg"  # refused: nothing written
    past = billing.set_plan(neo4j_driver, sample_account, model="subscription", edition="ultimate", cspm=True,
                            quota=10, expires="2020-01-01")
    assert past.expired and not billing.load_plan(neo4j_driver, sample_account).cspm_active


def test_a_stored_unreadable_expiry_fails_closed(neo4j_driver: Driver, sample_account: str) -> None:
    billing.set_plan(neo4j_driver, sample_account, model="payg", edition="ultimate", cspm=True)
    neo4j_driver.execute_query("MATCH (p:Plan {uid: $uid}) SET p.expires = '01/01/2020'",
                               uid=billing.plan_uid(sample_account))
    assert not billing.load_plan(neo4j_driver, sample_account).cspm_active
