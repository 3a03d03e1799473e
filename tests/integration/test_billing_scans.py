"""Billing on the real graph: quota exhaustion, atomic debits under concurrent scans, plan refusals."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from neo4j import Driver

from backend import billing
from backend.entitlements import PlanBiller
from checks.catalog import CATALOG
from checks.scan import BILLABLE, NOT_CHECK, run_items

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def account(sample_account: str) -> str:
    return sample_account


def scan(driver: Driver, account_id: str) -> Any:
    return run_items(driver, account_id, CATALOG, PlanBiller(billing.load_plan(driver, account_id)))


def ledger_sum(driver: Driver, account_id: str) -> int:
    rec = driver.execute_query("MATCH (e:LedgerEntry {account_id: $a}) RETURN coalesce(sum(e.amount), 0) AS s",
                               a=account_id).records[0]
    return int(rec["s"])


def test_quota_50_stops_the_scan_cleanly(neo4j_driver: Driver, account: str) -> None:
    billing.set_plan(neo4j_driver, account, model="subscription", edition="ultimate", cspm=True, quota=50)
    report = scan(neo4j_driver, account)
    assert report.status == "quota_exhausted"
    assert report.authorizations_consumed == 50
    evaluated = [r for r in report.results if r.status in BILLABLE]
    assert len([r for r in evaluated if r.tier == "paid" and r.asset_type != "Host"]) == 50
    shown = billing.billing_show(neo4j_driver, account)
    assert shown["quota_used"] == 50 and shown["quota_remaining"] == 0
    assert ledger_sum(neo4j_driver, account) == 50
    again = scan(neo4j_driver, account)
    assert again.authorizations_consumed == 0
    assert all(r.status not in BILLABLE for r in again.results if r.tier == "paid" and r.asset_type != "Host")
    assert any(r.status == NOT_CHECK for r in again.results)


def test_free_plan_runs_only_free_cloud_items(neo4j_driver: Driver, account: str) -> None:
    billing.set_plan(neo4j_driver, account, model="free")
    report = scan(neo4j_driver, account)
    assert report.authorizations_consumed == 0
    for r in report.results:
        if r.status in BILLABLE:
            assert r.tier == "free" and not r.check_id.startswith("HOST_")


def test_advanced_edition_runs_weak_password_only(neo4j_driver: Driver, account: str) -> None:
    billing.set_plan(neo4j_driver, account, model="subscription", edition="advanced")
    report = scan(neo4j_driver, account)
    weak = {i.id for i in CATALOG if i.category == "weak_password"}
    ran = {r.check_id for r in report.results if r.status in BILLABLE and r.check_id.startswith("HOST_")}
    assert "HOST_ACCOUNT_WeakPassword" in ran
    assert ran <= weak, ran - weak


def test_enterprise_runs_all_baseline_but_containers(neo4j_driver: Driver, account: str) -> None:
    billing.set_plan(neo4j_driver, account, model="subscription", edition="enterprise")
    report = scan(neo4j_driver, account)
    ran = {r.check_id for r in report.results if r.status in BILLABLE and r.check_id.startswith("HOST_")}
    assert "HOST_SSH_PermitRootLogin" in ran and "HOST_CONTAINER_Privileged" not in ran
    assert report.authorizations_consumed == 0


def test_cspm_payg_meters_paid_items_only(neo4j_driver: Driver, account: str) -> None:
    billing.set_plan(neo4j_driver, account, model="payg", edition="ultimate", cspm=True)
    report = scan(neo4j_driver, account)
    paid = [r for r in report.results if r.status in BILLABLE and r.tier == "paid" and r.asset_type != "Host"]
    assert report.authorizations_consumed == len(paid) > 0
    usage = billing.billing_show(neo4j_driver, account)["usage"]
    assert sum(usage["by_item"].values()) == len(paid)


def test_switch_subscription_to_payg_is_refused(neo4j_driver: Driver, account: str) -> None:
    billing.set_plan(neo4j_driver, account, model="subscription", edition="enterprise", cspm=True, quota=10)
    with pytest.raises(billing.BillingError, match="pay-as-you-go"):
        billing.set_plan(neo4j_driver, account, model="payg", cspm=True)


@pytest.mark.parametrize("round_", range(2))
def test_concurrent_scans_never_overspend(neo4j_driver: Driver, account: str, round_: int) -> None:
    billing.set_plan(neo4j_driver, account, model="subscription", edition="ultimate", cspm=True, quota=37)
    procs = [
        subprocess.Popen([sys.executable, "-m", "backend.cli", "scan", "--account", account, "--format", "json"],
                         cwd=ROOT, env=dict(os.environ), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    consumed = 0
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        consumed += json.loads(out)["authorizations_consumed"]
    shown = billing.billing_show(neo4j_driver, account)
    assert shown["quota_used"] <= shown["quota_total"] == 37
    assert consumed == shown["quota_used"] == ledger_sum(neo4j_driver, account) == 37
    assert shown["usage"]["ledger_total"] == 37  # the current quota period's ledger proves the balance
