"""Offline remediation keeps an emulated copy of a snapshot account; a re-ingest makes that copy stale.

Decision (backend/remediation_runtime.py): the newest ingested snapshot is the truth. The copy is reused while the
graph is the one it produced (same Account.raw_digest); after `ingest --snapshot newer.json` it is rebuilt from the
newer snapshot, so assets only in the newer snapshot survive, and a fix made on the old copy is not carried over
(whether the real account has it is what the newer snapshot says).
"""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path
from typing import Any

import pytest
from neo4j import Driver

from backend import billing
from backend.ingest import ingest_snapshot
from backend.remediate import current_status
from backend.remediation_runtime import execute_for_account
from checks.catalog import BY_ID
from graph_schema.store import delete_account
from tests.helpers.sample import sample_doc

NEW_SG = "sg-bp1newer00000001"


@pytest.fixture
def account(neo4j_driver: Driver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("SKYPATH_HOME", str(tmp_path / "home"))
    account_id = str(random.randint(10**15, 10**16 - 1))
    yield account_id
    delete_account(neo4j_driver, account_id)


def _newer(doc: dict[str, Any]) -> dict[str, Any]:
    """The account a day later: one more security group (nothing else changed; the bucket is still public)."""
    out = copy.deepcopy(doc)
    listing = next(c for c in out["calls"] if c["action"] == "DescribeSecurityGroups" and c["region"] == "cn-hangzhou")
    groups = listing["response"]["SecurityGroups"]["SecurityGroup"]
    groups.append({**groups[0], "SecurityGroupId": NEW_SG, "SecurityGroupName": "newer"})
    listing["response"]["TotalCount"] = len(groups)
    attr = next(c for c in out["calls"] if c["action"] == "DescribeSecurityGroupAttribute"
                and c["params"]["SecurityGroupId"] == "sg-bp1app0000000001")
    out["calls"].append({**copy.deepcopy(attr), "params": {**attr["params"], "SecurityGroupId": NEW_SG},
                         "response": {**copy.deepcopy(attr["response"]), "SecurityGroupId": NEW_SG}})
    return out


def _status(driver: Driver, account: str, check_id: str, asset: str) -> str:
    return current_status(driver, account, BY_ID[check_id], asset)


def _groups(driver: Driver, account: str) -> set[str]:
    return {r["id"] for r in driver.execute_query("MATCH (g:SecurityGroup {account_id: $a}) RETURN g.id AS id",
                                                  a=account).records}


def test_a_re_ingest_makes_the_emulated_copy_stale(neo4j_driver: Driver, account: str, tmp_path: Path) -> None:
    older = sample_doc(account)
    (tmp_path / "a.json").write_text(json.dumps(older))
    (tmp_path / "b.json").write_text(json.dumps(_newer(older)))
    acl, ssh = ("ACS_OSS_BucketPublicAcl", "acme-public-assets"), ("ACS_ECS_SecurityGroupPublicSSH", "sg-bp1web0000000001")
    rdp = ("ACS_ECS_SecurityGroupPublicRDP", "sg-bp1bastion000001")

    ingest_snapshot(neo4j_driver, tmp_path / "a.json")
    billing.set_plan(neo4j_driver, account, model="payg", edition="ultimate", cspm=True)
    assert execute_for_account(neo4j_driver, account, *acl, "test")["verified"]
    # the copy is reused while the graph is the one it produced: the first fix stays through the second
    assert execute_for_account(neo4j_driver, account, *rdp, "test")["verified"]
    assert _status(neo4j_driver, account, *acl) == "PASS"

    ingest_snapshot(neo4j_driver, tmp_path / "b.json")  # newer: one more group, the bucket still public
    assert NEW_SG in _groups(neo4j_driver, account)
    assert _status(neo4j_driver, account, *acl) == "NOT_PASS"
    doc = execute_for_account(neo4j_driver, account, *ssh, "test")
    assert doc["verified"] and "emulated copy" in doc["applied_to"]
    assert NEW_SG in _groups(neo4j_driver, account)  # the stale copy (of a.json) did not overwrite b.json's asset
    assert _status(neo4j_driver, account, *acl) == "NOT_PASS"  # the newer snapshot is the truth
    assert _status(neo4j_driver, account, *rdp) == "NOT_PASS"  # nor is the old copy's RDP fix carried over
    assert _status(neo4j_driver, account, *ssh) == "PASS"
    saved = json.loads((tmp_path / "home" / "state" / f"{account}.json").read_text())
    assert NEW_SG in json.dumps(saved["snapshot"]["calls"])


def test_a_copy_in_the_old_format_is_rebuilt(neo4j_driver: Driver, account: str, tmp_path: Path) -> None:
    """A copy saved without the digest it belongs to cannot be trusted: it is rebuilt from the snapshot."""
    older = sample_doc(account)
    state = tmp_path / "home" / "state" / f"{account}.json"
    state.parent.mkdir(parents=True)
    state.write_text(json.dumps(older))  # the pre-digest format: a bare snapshot, of older answers
    (tmp_path / "b.json").write_text(json.dumps(_newer(older)))
    ingest_snapshot(neo4j_driver, tmp_path / "b.json")
    billing.set_plan(neo4j_driver, account, model="payg", edition="ultimate", cspm=True)
    assert execute_for_account(neo4j_driver, account, "ACS_OSS_BucketPublicAcl", "acme-public-assets", "test")["verified"]
    assert NEW_SG in _groups(neo4j_driver, account)
