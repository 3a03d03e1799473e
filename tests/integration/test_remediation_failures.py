"""A remediation that fails leaves no half-recorded state: every executed call is audited, a multi-call plan
that fails part-way is undone in reverse, nothing is charged unless the verification says PASS."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from neo4j import Driver

from backend import billing
from backend.emulator import Emulator
from backend.ingest import IngestError
from backend.remediate import current_status, execute
from backend.remediation_runtime import execute_for_account
from checks.catalog import BY_ID
from checks.remediation import RemediationError
from loaders.snapshot import parse_snapshot
from loaders.transport_live import LiveTransport
from tests.helpers.sample import sample_doc

CI_BOT = "acs:ram::{account}:user/ci-bot"


@pytest.fixture
def account(cspm_account: str) -> str:
    return cspm_account


def _call(doc: dict[str, Any], action: str, **params: Any) -> dict[str, Any]:
    return next(c for c in doc["calls"] if c["action"] == action
                and all(c["params"].get(k) == v for k, v in params.items()))


def audit(driver: Driver, account: str) -> list[tuple[str, dict[str, Any]]]:
    rows = driver.execute_query(
        "MATCH (e:AuditEntry {account_id: $a}) WHERE e.action STARTS WITH 'remediate' OR e.action = 'verify' "
        "RETURN e.action AS a, e.detail AS d ORDER BY e.at", a=account).records
    return [(r["a"], json.loads(r["d"])) for r in rows]


def remediation_ledger(driver: Driver, account: str) -> int:
    rec = driver.execute_query("MATCH (e:LedgerEntry {account_id: $a, operation: 'remediate'}) RETURN count(e) AS n",
                               a=account).records
    return int(rec[0]["n"])


def test_a_multi_call_plan_failing_part_way_is_undone_in_reverse(neo4j_driver: Driver, account: str) -> None:
    """UserDirectPolicy on ci-bot: CreateGroup, AddUserToGroup, AttachPolicyToGroup succeed; DetachPolicyFromUser
    fails (the live account drifted: someone detached the policy since the snapshot) → the three are undone."""
    doc = sample_doc(account)
    _call(doc, "ListPoliciesForUser", UserName="ci-bot")["response"]["Policies"]["Policy"] = []
    pristine = copy.deepcopy(doc["calls"])
    user = CI_BOT.format(account=account)
    with Emulator(parse_snapshot(doc)) as emu, pytest.raises(RemediationError, match="DetachPolicyFromUser failed") as err:
        execute_for_account(neo4j_driver, account, "ACS_RAM_UserDirectPolicy", user, "test", endpoint=emu.endpoint)
    assert "3 of 4 calls had succeeded, 3 undone, 0 not undone" in str(err.value)
    actions = [w["action"] for w in emu.writes]
    assert actions == ["CreateGroup", "AddUserToGroup", "AttachPolicyToGroup",  # the plan, up to the failure
                       "DetachPolicyFromGroup", "RemoveUserFromGroup", "DeleteGroup"]  # its undo, in reverse
    assert emu.state.snapshot.calls == pristine  # the account is as it was
    entries = audit(neo4j_driver, account)
    kinds = [a for a, _ in entries]
    assert kinds == ["remediate.call"] * 6 + ["remediate.failed"], kinds
    failed = entries[-1][1]
    assert failed["stage"] == "call" and failed["failed"]["request"]["action"] == "DetachPolicyFromUser"
    assert [e["request"]["action"] for e in failed["executed"]] == actions[:3]
    assert [(u["undo_of"], u["request"]["action"]) for u in failed["undone"]] == [
        (2, "DetachPolicyFromGroup"), (1, "RemoveUserFromGroup"), (0, "DeleteGroup")]
    assert failed["not_undone"] == [] and failed["before"]["status"] == "NOT_PASS"
    assert remediation_ledger(neo4j_driver, account) == 0  # nothing charged
    assert current_status(neo4j_driver, account, BY_ID["ACS_RAM_UserDirectPolicy"], user) == "NOT_PASS"


def _fail_reingest(transport: Any) -> None:
    raise IngestError("the re-collect was cut off")


def test_a_failed_re_collect_after_the_writes_is_audited_and_not_charged(neo4j_driver: Driver, account: str) -> None:
    with Emulator(parse_snapshot(sample_doc(account))) as emu:
        live = LiveTransport(account, endpoint_override=emu.endpoint)
        with pytest.raises(RemediationError, match="applied but re-collect failed"):
            execute(neo4j_driver, account, "ACS_OSS_BucketPublicAcl", "acme-public-assets", live, _fail_reingest, "test")
        assert [w["action"] for w in emu.writes] == ["PutBucketAcl"]  # the fix stays: it is the fix
    (call, detail), (failed, summary) = audit(neo4j_driver, account)
    assert (call, failed) == ("remediate.call", "remediate.failed")
    assert detail["request"]["params"] == {"bucket": "acme-public-assets", "acl": "private"} and "response" in detail
    assert summary["stage"] == "re-collect" and [e["request"]["action"] for e in summary["executed"]] == ["PutBucketAcl"]
    assert remediation_ledger(neo4j_driver, account) == 0


def _drift_second_ssh_rule(doc: dict[str, Any]) -> None:
    """The live group gained another internet rule for SSH that the snapshot (and so the plan) does not know."""
    perms = _call(doc, "DescribeSecurityGroupAttribute", SecurityGroupId="sg-bp1web0000000001")["response"]
    perms["Permissions"]["Permission"].append({
        "SecurityGroupRuleId": "sgr-bp1web0000000199", "Direction": "ingress", "IpProtocol": "TCP",
        "PortRange": "20/30", "SourceCidrIp": "0.0.0.0/0", "Ipv6SourceCidrIp": "", "Policy": "Accept", "Priority": "1"})


def test_a_fix_whose_verification_is_not_pass_is_unverified_and_not_charged(neo4j_driver: Driver, account: str) -> None:
    doc = sample_doc(account)
    _drift_second_ssh_rule(doc)
    with Emulator(parse_snapshot(doc)) as emu:
        out = execute_for_account(neo4j_driver, account, "ACS_ECS_SecurityGroupPublicSSH", "sg-bp1web0000000001",
                                  "test", endpoint=emu.endpoint)
    assert out["outcome"] == "unverified" and not out["verified"] and out["status_after"] == "NOT_PASS"
    assert out["authorizations_consumed"] == 0  # free item: its verification is free, the remediation is not charged
    kinds = [a for a, _ in audit(neo4j_driver, account)]
    # the verification and the unverified outcome are written moments apart: their order is not the point
    assert kinds[0] == "remediate.call" and sorted(kinds[1:]) == ["remediate.unverified", "verify"], kinds
    assert remediation_ledger(neo4j_driver, account) == 0


def test_a_subscription_without_quota_left_refuses_before_any_call(neo4j_driver: Driver, account: str) -> None:
    billing.set_plan(neo4j_driver, account, model="subscription", edition="ultimate", cspm=True, quota=1)
    # a paid item costs 1 for the remediation and 1 for its verification: 2 > 1 left
    with Emulator(parse_snapshot(sample_doc(account))) as emu:
        with pytest.raises(billing.BillingError, match="nothing was changed"):
            execute_for_account(neo4j_driver, account, "ACS_OSS_BucketVersioning", "acme-logs", "test",
                                endpoint=emu.endpoint)
        assert emu.writes == []
    assert billing.billing_show(neo4j_driver, account)["quota_used"] == 0

