"""Every automated item of the catalog, end to end: the sample account (plus recorded SLB/KMS/SLS answers) in the
emulator, the fix sent through the official SDK clients (LiveTransport), re-collected, verified PASS; the dry run
printed exactly the requests that were sent. Items the sample does not fail get a recorded drift (DRIFTS)."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from neo4j import Driver

from backend import billing
from backend.emulator import Emulator
from backend.ingest import ingest_snapshot, ingest_snapshot_object
from backend.remediate import current_status, plan
from backend.remediation_runtime import execute_for_account
from checks.catalog import BY_ID
from checks.remediation import REMEDIATIONS
from graph_schema.store import delete_account
from loaders.snapshot import parse_snapshot
from tests.helpers.extra_products import CMK_ID, with_extra_products
from tests.helpers.remediation import sent_as_planned
from tests.helpers.sample import sample_doc

Doc = dict[str, Any]


def call(doc: Doc, action: str, **params: Any) -> dict[str, Any]:
    return next(c for c in doc["calls"] if c["action"] == action and all(c["params"].get(k) == v for k, v in params.items()))


def response(doc: Doc, action: str, **params: Any) -> Any:
    return call(doc, action, **params)["response"]


def _set(action: str, params: dict[str, Any], path: tuple[str, ...], **values: Any) -> Callable[[Doc], None]:
    def mutate(doc: Doc) -> None:
        target = response(doc, action, **params)
        for key in path:
            target = target[key][0] if isinstance(target[key], list) else target[key]
        target.update(values)
    return mutate


def _xml(action: str, bucket: str, body: str) -> Callable[[Doc], None]:
    def mutate(doc: Doc) -> None:
        call(doc, action, bucket=bucket)["response"] = body
    return mutate


def _trust_anyone(doc: Doc) -> None:
    role = response(doc, "GetRole", RoleName="PartnerAuditRole")["Role"]
    role["AssumeRolePolicyDocument"] = json.dumps({"Version": "1", "Statement": [
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"RAM": ["*"]}}]})


def _external_admin(doc: Doc) -> None:
    response(doc, "ListPoliciesForRole", RoleName="PartnerAuditRole")["Policies"]["Policy"].append(
        {"PolicyName": "full-admin-legacy", "PolicyType": "Custom", "DefaultVersion": "v1"})


def _public_write_policy(doc: Doc) -> None:
    call(doc, "GetBucketPolicy", bucket="acme-partner-share")["response"] = json.dumps({"Version": "1", "Statement": [
        {"Effect": "Allow", "Principal": ["*"], "Action": ["oss:PutObject"], "Resource": ["acs:oss:*:*:acme-partner-share/*"]},
        {"Effect": "Allow", "Principal": ["*"], "Action": ["oss:GetObject"], "Resource": ["acs:oss:*:*:acme-partner-share/*"],
         "Condition": {"IpAddress": {"acs:SourceIp": ["203.0.113.0/24"]}}}]})
    call(doc, "GetBucketPolicy", bucket="acme-partner-share").pop("error", None)


ACL = '<?xml version="1.0" encoding="UTF-8"?>\n<AccessControlPolicy><AccessControlList><Grant>{}</Grant></AccessControlList></AccessControlPolicy>'
PW = ("GetPasswordPolicy", {}, ("PasswordPolicy",))
KEY = ("DescribeKey", {"KeyId": CMK_ID}, ("KeyMetadata",))
TRAIL = ("DescribeTrails", {"RegionId": "cn-hangzhou"}, ("TrailList",))
# item → (asset, drift): the recorded account changed so that the sample fails the item
DRIFTS: dict[str, tuple[str, Callable[[Doc], None]]] = {
    "ACS_ACTIONTRAIL_TrailLogging": ("acme-trail", _set(*TRAIL, Status="Disable")),
    "ACS_ACTIONTRAIL_TrailAllEvents": ("acme-trail", _set(*TRAIL, EventRW="Write")),
    "ACS_KMS_KeyPendingDeletion": (CMK_ID, _set(*KEY, KeyState="PendingDeletion", DeleteDate="2026-12-01T00:00:00Z")),
    "ACS_KMS_KeyRotationInterval": (CMK_ID, _set(*KEY, AutomaticRotation="Enabled", RotationInterval="63072000s")),
    "ACS_OSS_BucketLoggingToItself": ("acme-backups", _xml(
        "GetBucketLogging", "acme-backups", "<BucketLoggingStatus><LoggingEnabled><TargetBucket>acme-backups</TargetBucket>"
        "<TargetPrefix>log/</TargetPrefix></LoggingEnabled></BucketLoggingStatus>")),
    "ACS_OSS_BucketPolicyPublicWrite": ("acme-partner-share", _public_write_policy),
    "ACS_OSS_BucketPublicReadWrite": ("acme-public-assets", _xml("GetBucketAcl", "acme-public-assets",
                                                                 ACL.format("public-read-write"))),
    "ACS_OSS_TrailBucketEncryption": ("acme-logs", _xml("GetBucketEncryption", "acme-logs",
                                                        "<ServerSideEncryptionRule></ServerSideEncryptionRule>")),
    "ACS_OSS_TrailBucketNotPublic": ("acme-logs", _xml("GetBucketAcl", "acme-logs", ACL.format("public-read"))),
    "ACS_RAM_ExternalAdminRole": ("acs:ram::{account}:role/partnerauditrole", _external_admin),
    "ACS_RAM_RoleTrustAnyone": ("acs:ram::{account}:role/partnerauditrole", _trust_anyone),
    "ACS_RAM_PasswordMaxLoginAttempts": ("acs:ram::{account}:root", _set(*PW, MaxLoginAttemps=0)),
    "ACS_RAM_PasswordRequireLowercase": ("acs:ram::{account}:root", _set(*PW, RequireLowercaseCharacters=False)),
    "ACS_RAM_PasswordRequireNumbers": ("acs:ram::{account}:root", _set(*PW, RequireNumbers=False)),
    "ACS_RAM_PasswordRequireUppercase": ("acs:ram::{account}:root", _set(*PW, RequireUppercaseCharacters=False)),
    "ACS_RDS_DBInstanceLogBackup": ("rm-bp1orders0000001", _set("DescribeBackupPolicy", {"DBInstanceId": "rm-bp1orders0000001"},
                                                                (), BackupLog="Disable")),
    "ACS_RDS_DBInstanceWhitelistWide": ("rm-bp1orders0000001", _set(
        "DescribeDBInstanceIPArrayList", {"DBInstanceId": "rm-bp1orders0000001"}, ("Items", "DBInstanceIPArray"),
        SecurityIPList="10.0.0.0/8,0.0.0.0/1")),
}
ITEMS = sorted(REMEDIATIONS)


def _failing(driver: Driver, account: str, check_id: str) -> list[str]:
    item = BY_ID[check_id]
    rows = driver.execute_query(item.evaluation_query(), account_id=account).records
    return sorted(r["asset_id"] for r in rows if r["collected"] and r["fails"] and r["supported"]
                  and check_id not in (r["unsupported"] or []))


@pytest.fixture(scope="module")
def sample_failures(neo4j_driver: Driver) -> Iterator[dict[str, str]]:
    """The first failing asset of each automated item in the sample (plus SLB/KMS/SLS), as a template."""
    scratch = str(random.randint(10**15, 10**16 - 1))
    ingest_snapshot_object(neo4j_driver, parse_snapshot(with_extra_products(sample_doc(scratch))))
    try:
        yield {cid: failing[0].replace(scratch, "{account}") for cid in ITEMS
               if (failing := _failing(neo4j_driver, scratch, cid))}
    finally:
        delete_account(neo4j_driver, scratch)


def test_drifts_are_needed() -> None:
    """A drift is only for an item the sample does not fail already (checked in the parametrised test)."""
    assert set(DRIFTS) <= set(REMEDIATIONS)


@pytest.mark.parametrize("check_id", ITEMS)
def test_automated_item_is_fixed_through_the_sdk(neo4j_driver: Driver, sample_failures: dict[str, str],
                                                 tmp_path: Path, check_id: str) -> None:
    account = str(random.randint(10**15, 10**16 - 1))
    doc = with_extra_products(sample_doc(account))
    if check_id in DRIFTS:
        assert check_id not in sample_failures, f"{check_id} fails in the sample already: drop its drift"
        template, drift = DRIFTS[check_id]
        drift(doc)
    else:
        assert check_id in sample_failures, f"{check_id}: nothing fails it in the sample: add a drift to DRIFTS"
        template = sample_failures[check_id]
    asset = template.format(account=account)
    path = tmp_path / "snapshot.json"
    path.write_text(json.dumps(doc))
    item = BY_ID[check_id]
    try:
        ingest_snapshot(neo4j_driver, path)
        billing.set_plan(neo4j_driver, account, model="payg", edition="ultimate", cspm=True)
        assert current_status(neo4j_driver, account, item, asset) == "NOT_PASS"
        dry = plan(neo4j_driver, account, check_id, asset)
        assert dry["requests"] and current_status(neo4j_driver, account, item, asset) == "NOT_PASS"
        declared = set(REMEDIATIONS[check_id].calls)
        for req in dry["requests"]:
            assert {(req["product"], req["action"])} | ({(req["undo"]["product"], req["undo"]["action"])}
                                                        if "undo" in req else set()) <= declared, req
        with Emulator(parse_snapshot(doc)) as emu:
            out = execute_for_account(neo4j_driver, account, check_id, asset, "test", endpoint=emu.endpoint)
            sent_as_planned(dry["requests"], list(emu.writes))
        assert out["verified"] and out["status_after"] == "PASS", out
        assert current_status(neo4j_driver, account, item, asset) == "PASS"
    finally:
        delete_account(neo4j_driver, account)
