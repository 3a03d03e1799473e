"""Remediation end to end: the emulator on the sample account, the official SDK clients, re-collect, verify."""

from __future__ import annotations

import pytest
from neo4j import Driver

from backend import billing
from backend.emulator import Emulator
from backend.remediate import plan
from backend.remediation_runtime import execute_for_account
from checks.catalog import BY_ID
from checks.remediation import REMEDIATIONS, RemediationError
from loaders.snapshot import parse_snapshot
from tests.helpers.remediation import sent_as_planned
from tests.helpers.sample import expected, sample_doc

CORE = expected()["checks"]
# every remediable core item with one of its failing sample assets
CASES = sorted(
    (check_id, next(a for a, s in sorted(CORE[check_id].items()) if s == "NOT_PASS"))
    for check_id in REMEDIATIONS
    if check_id in CORE and any(s == "NOT_PASS" for s in CORE[check_id].values())
)


def test_every_automatable_core_item_is_covered() -> None:
    assert len(CASES) >= 18, CASES
    # every core item is either covered below or manual (with the steps a human follows)
    manual = {"ACS_ECS_DiskEncrypted", "ACS_RDS_DBInstanceHAConfig", "ACS_RAM_UserConsoleMFA", "ACS_RAM_AccessKeyRotation"}
    cloud_core = {c for c in CORE if c.startswith("ACS_")}
    assert {c for c, _ in CASES} == cloud_core - manual
    for check_id in manual:
        assert check_id not in REMEDIATIONS and BY_ID[check_id].remediation_action is None
        assert "`aliyun " in BY_ID[check_id].remediation, check_id


@pytest.fixture
def account(cspm_account: str) -> str:
    return cspm_account


def status(driver: Driver, account_id: str, check_id: str, asset_id: str) -> str:
    from backend.remediate import current_status

    return current_status(driver, account_id, BY_ID[check_id], asset_id)


@pytest.mark.parametrize(("check_id", "asset_id"), CASES, ids=[c[0] for c in CASES])
def test_fix_through_the_sdk_against_the_emulator(neo4j_driver: Driver, account: str, check_id: str, asset_id: str) -> None:
    asset = asset_id.replace(expected()["account_id"], account)
    dry = plan(neo4j_driver, account, check_id, asset)
    assert dry["dry_run"] and dry["requests"], dry
    assert status(neo4j_driver, account, check_id, asset) == "NOT_PASS"  # the dry run changed nothing
    with Emulator(parse_snapshot(sample_doc(account))) as emu:
        doc = execute_for_account(neo4j_driver, account, check_id, asset, "test", endpoint=emu.endpoint)
        sent = [(w["product"], w["action"]) for w in emu.writes]
        received = list(emu.writes)
    assert [(r["product"], r["action"]) for r in dry["requests"]] == sent
    sent_as_planned(dry["requests"], received)  # the dry run printed exactly what was sent
    assert doc["status_after"] == "PASS" and doc["verified"], doc
    assert status(neo4j_driver, account, check_id, asset) == "PASS"
    item = BY_ID[check_id]
    assert doc["authorizations_consumed"] == (2 if item.tier == "paid" else 1)
    audit = neo4j_driver.execute_query(
        "MATCH (e:AuditEntry {account_id: $a}) WHERE e.action IN ['remediate', 'verify'] RETURN e.action AS a",
        a=account).records
    assert sorted(r["a"] for r in audit) == ["remediate", "verify"]
    calls = neo4j_driver.execute_query(
        "MATCH (e:AuditEntry {account_id: $a, action: 'remediate.call'}) RETURN e.detail AS d", a=account).records
    assert len(calls) == len(dry["requests"])  # each executed call audited with its request and response
    ledger = neo4j_driver.execute_query(
        "MATCH (e:LedgerEntry {account_id: $a, operation: 'remediate'}) RETURN e.check_id AS c, e.assets AS x, "
        "e.amount AS n", a=account).records
    assert [(r["c"], r["x"], r["n"]) for r in ledger] == [(check_id, [asset], 1)]


def test_offline_remediation_uses_an_emulated_copy(neo4j_driver: Driver, account: str) -> None:
    doc = execute_for_account(neo4j_driver, account, "ACS_OSS_BucketPublicAcl", "acme-public-assets", "test")
    assert doc["verified"] and "emulated copy" in doc["applied_to"]
    # the copy persists: the next plan sees nothing to fix
    assert plan(neo4j_driver, account, "ACS_OSS_BucketPublicAcl", "acme-public-assets")["requests"] == []


def test_ssh_fix_keeps_other_rules(neo4j_driver: Driver, account: str) -> None:
    with Emulator(parse_snapshot(sample_doc(account))) as emu:
        execute_for_account(neo4j_driver, account, "ACS_ECS_SecurityGroupPublicSSH", "sg-bp1web0000000001", "test",
                            endpoint=emu.endpoint)
    ports = {r["p"] for r in neo4j_driver.execute_query(
        "MATCH (:SecurityGroup {account_id: $a, id: 'sg-bp1web0000000001'})-[:HAS_RULE]->(r) RETURN r.port_range AS p",
        a=account).records}
    assert ports == {"80/80", "443/443"}


def test_remediation_refused_on_free_plan(neo4j_driver: Driver, account: str) -> None:
    billing.set_plan(neo4j_driver, account, model="free")
    with pytest.raises(billing.BillingError, match="CSPM"):
        plan(neo4j_driver, account, "ACS_OSS_BucketPublicAcl", "acme-public-assets")
    with Emulator(parse_snapshot(sample_doc(account))) as emu:
        with pytest.raises(billing.BillingError, match="CSPM"):
            execute_for_account(neo4j_driver, account, "ACS_OSS_BucketPublicAcl", "acme-public-assets", "test",
                                endpoint=emu.endpoint)
        assert emu.writes == []  # refused before any call
    assert status(neo4j_driver, account, "ACS_OSS_BucketPublicAcl", "acme-public-assets") == "NOT_PASS"
    assert billing.billing_show(neo4j_driver, account)["quota_used"] == 0


def test_free_item_consumes_one_authorization_under_cspm(neo4j_driver: Driver, account: str) -> None:
    """billing.md: free items cost 1 per successful remediation under CSPM; their verification costs nothing."""
    billing.set_plan(neo4j_driver, account, model="subscription", edition="ultimate", cspm=True, quota=10)
    assert BY_ID["ACS_OSS_BucketPublicAcl"].tier == "free"
    with Emulator(parse_snapshot(sample_doc(account))) as emu:
        doc = execute_for_account(neo4j_driver, account, "ACS_OSS_BucketPublicAcl", "acme-public-assets", "test",
                                  endpoint=emu.endpoint)
    assert doc["verified"] and doc["authorizations_consumed"] == 1
    shown = billing.billing_show(neo4j_driver, account)
    assert shown["quota_used"] == 1 and shown["quota_remaining"] == 9, shown


def test_manual_items_explain_themselves(neo4j_driver: Driver, account: str) -> None:
    with pytest.raises(RemediationError, match="manual|cannot be remediated"):
        plan(neo4j_driver, account, "ACS_ECS_DiskEncrypted", "d-bp1web01sys000001")


def test_failed_call_is_reported_and_not_billed(neo4j_driver: Driver, account: str) -> None:
    doc = sample_doc(account)
    doc["calls"] = [c for c in doc["calls"] if not (c["action"] == "GetBucketAcl" and c["params"]["bucket"] == "acme-public-assets")]
    used_before = billing.billing_show(neo4j_driver, account)["quota_used"]
    with Emulator(parse_snapshot(doc)) as emu, pytest.raises(RemediationError, match="PutBucketAcl"):
        execute_for_account(neo4j_driver, account, "ACS_OSS_BucketPublicAcl", "acme-public-assets", "test",
                            endpoint=emu.endpoint)
    assert billing.billing_show(neo4j_driver, account)["quota_used"] == used_before


def test_dry_run_counts_only_the_paths_the_revoked_ports_cut(neo4j_driver: Driver, account: str) -> None:
    # web-01's group also opens 80/443 to the internet: revoking SSH leaves it exposed, so no path is cut ...
    dry = plan(neo4j_driver, account, "ACS_ECS_SecurityGroupPublicSSH", "sg-bp1web0000000001")
    assert dry["attack_paths_cut"] == 0, dry
    # ... while revoking every TCP port of that group would cut the paths through web-01
    from checks.paths import analyse_paths

    closing_all = analyse_paths(neo4j_driver, account, ["close-ports:sg-bp1web0000000001:tcp:all"])
    assert closing_all["what_if"]["paths_removed"] > 0
    closing_ssh_only = analyse_paths(neo4j_driver, account, ["close-ports:sg-bp1web0000000001:tcp:22"])
    assert closing_ssh_only["what_if"]["paths_removed"] == 0
    from checks.paths import WhatIfError

    for bad in ("close-ports:sg-bp1web0000000001", "close-ports:sg-bp1web0000000001:icmp:all",
                "close-ports:sg-bp1web0000000001:tcp:ssh"):
        with pytest.raises(WhatIfError, match="close-ports"):
            analyse_paths(neo4j_driver, account, [bad])
