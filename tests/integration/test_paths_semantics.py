"""Path semantics of spec/cli.md on variations of the sample account."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from neo4j import Driver

from backend.ingest import ingest_snapshot
from checks.paths import analyse_paths
from graph_schema.store import delete_account
from tests.helpers.sample import sample_doc


def _pairs(driver: Driver, tmp: Path, mutate: Any) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    account = str(random.randint(10**15, 10**16 - 1))
    doc = sample_doc(account)
    mutate(doc, account)
    path = tmp / f"{account}.json"
    path.write_text(json.dumps(doc))
    try:
        ingest_snapshot(driver, path)
        paths = analyse_paths(driver, account)["paths"]
        firm = {(p["entry"]["id"], p["target"]["id"]) for p in paths if not p["conditional"]}
        conditional = {(p["entry"]["id"], p["target"]["id"]) for p in paths if p["conditional"]}
        return firm, conditional
    finally:
        delete_account(driver, account)


def _set_trust(doc: dict[str, Any], role: str, trust: dict[str, Any]) -> None:
    for call in doc["calls"]:
        if call["action"] == "GetRole" and call["params"]["RoleName"] == role:
            call["response"]["Role"]["AssumeRolePolicyDocument"] = json.dumps(trust)


def test_mfa_condition_makes_the_path_conditional(neo4j_driver: Driver, tmp_path: Path) -> None:
    def mutate(doc: dict[str, Any], account: str) -> None:
        _set_trust(doc, "DeployRole", {"Version": "1", "Statement": [{
            "Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"RAM": [f"acs:ram::{account}:root"]},
            "Condition": {"Bool": {"acs:MFAPresent": "true"}}}]})

    firm, conditional = _pairs(neo4j_driver, tmp_path, mutate)
    assert not any(e == "LTAI5tCiBotKey000001" for e, _ in firm)
    assert ("LTAI5tCiBotKey000001", "acme-prod-data") in conditional


def test_trust_star_trusts_everyone(neo4j_driver: Driver, tmp_path: Path) -> None:
    def mutate(doc: dict[str, Any], account: str) -> None:
        _set_trust(doc, "DeployRole", {"Version": "1", "Statement": [{
            "Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"RAM": "*"}}]})

    firm, _ = _pairs(neo4j_driver, tmp_path, mutate)
    assert ("LTAI5tCiBotKey000001", "acme-logs") in firm


def test_inactive_key_and_closed_port_are_not_entries(neo4j_driver: Driver, tmp_path: Path) -> None:
    def mutate(doc: dict[str, Any], account: str) -> None:
        for call in doc["calls"]:
            if call["action"] == "ListAccessKeys":
                for key in call["response"]["AccessKeys"]["AccessKey"]:
                    if key["AccessKeyId"] == "LTAI5tReporterKey001":
                        key["Status"] = "Inactive"

    firm, _ = _pairs(neo4j_driver, tmp_path, mutate)
    assert not any(e == "LTAI5tReporterKey001" for e, _ in firm)
    assert ("LTAI5tAliceKey000001", "acme-logs") in firm


@pytest.mark.parametrize(("actions", "escalates"), [
    (["ram:UpdateRole"], False),  # a rewritten trust is no use without the caller's own sts:AssumeRole (cli.md)
    (["ram:UpdateRole", "sts:AssumeRole"], True),
])
def test_update_role_escalates_only_with_assume_role(neo4j_driver: Driver, tmp_path: Path, actions: list[str],
                                                    escalates: bool) -> None:
    def mutate(doc: dict[str, Any], account: str) -> None:
        for call in doc["calls"]:
            if call["action"] == "GetPolicyVersion" and call["params"]["PolicyName"] == "rds-ops":
                call["response"]["PolicyVersion"]["PolicyDocument"] = json.dumps({"Version": "1", "Statement": [
                    {"Effect": "Allow", "Action": actions, "Resource": "*"}]})

    firm, _ = _pairs(neo4j_driver, tmp_path, mutate)
    assert any(e == "LTAI5tRdsOpKey000001" and t.endswith(":root") for e, t in firm) is escalates


# ---------------------------------------------------------------- concrete resources, per-mode conditions

def _paths(driver: Driver, tmp: Path, mutate: Any) -> list[dict[str, Any]]:
    account = str(random.randint(10**15, 10**16 - 1))
    doc = sample_doc(account)
    mutate(doc, account)
    path = tmp / f"{account}.json"
    path.write_text(json.dumps(doc))
    try:
        ingest_snapshot(driver, path)
        paths: list[dict[str, Any]] = analyse_paths(driver, account)["paths"]
        return paths
    finally:
        delete_account(driver, account)


def _firm(paths: list[dict[str, Any]]) -> set[tuple[str, str]]:
    return {(p["entry"]["id"], p["target"]["id"].split(":")[-1]) for p in paths if not p["conditional"]}


def _set_policy(doc: dict[str, Any], name: str, *statements: dict[str, Any]) -> None:
    hits = 0
    for call in doc["calls"]:
        if call["action"] == "GetPolicyVersion" and call["params"]["PolicyName"] == name:
            call["response"]["PolicyVersion"]["PolicyDocument"] = json.dumps({"Version": "1", "Statement": list(statements)})
            hits += 1
    assert hits == 1, name


def _allow(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


RDS_OP, BASTION, WEB, CI, ALICE = ("LTAI5tRdsOpKey000001", "i-bp1bastion0000001", "i-bp1web01000000001",
                                   "LTAI5tCiBotKey000001", "LTAI5tAliceKey000001")


def test_assume_role_written_as_the_real_arn(neo4j_driver: Driver, tmp_path: Path) -> None:
    def mutate(doc: dict[str, Any], account: str) -> None:
        _set_policy(doc, "assume-deploy", _allow("sts:AssumeRole", f"acs:ram::{account}:role/DeployRole"))

    assert (CI, "acme-logs") in _firm(_paths(neo4j_driver, tmp_path, mutate))


ESCALATIONS: list[tuple[str, str, list[dict[str, Any]], set[tuple[str, str]], set[tuple[str, str]]]] = [
    # (id, policy, statements, pairs that must exist, pairs that must not)
    ("a key for a more privileged user", "rds-ops", [_allow("ram:CreateAccessKey", "acs:ram:*:*:user/alice")],
     {(RDS_OP, "root"), (RDS_OP, "acme-logs")}, set()),
    ("attach a policy to its own role", "ops-admin", [_allow("ram:AttachPolicyToRole", "acs:ram:*:*:role/OpsRole")],
     {(BASTION, "root")}, set()),
    ("attach a policy to a role it cannot use", "ops-admin",
     [_allow("ram:AttachPolicyToRole", "acs:ram:*:*:role/AppServerRole")], set(), {(BASTION, "root")}),
    ("rewrite the instance role's own policy", "app-data-rw",
     [_allow(["oss:GetObject", "oss:PutObject"], "acs:oss:*:*:acme-prod-data/*"),
      _allow("ram:CreatePolicyVersion", "acs:ram:*:*:policy/app-data-rw")], {(WEB, "root"), (WEB, "acme-logs")}, set()),
    ("pass a specific role: reach what it reaches", "rds-ops", [_allow("ram:PassRole", "acs:ram:*:*:role/DeployRole")],
     {(RDS_OP, "acme-logs")}, {(RDS_OP, "root")}),
]


@pytest.mark.parametrize(("policy", "statements", "present", "absent"), [c[1:] for c in ESCALATIONS],
                         ids=[c[0] for c in ESCALATIONS])
def test_escalation_on_a_concrete_target(neo4j_driver: Driver, tmp_path: Path, policy: str,
                                         statements: list[dict[str, Any]], present: set[tuple[str, str]],
                                         absent: set[tuple[str, str]]) -> None:
    def mutate(doc: dict[str, Any], account: str) -> None:
        _set_policy(doc, policy, *statements)

    firm = _firm(_paths(neo4j_driver, tmp_path, mutate))
    assert present <= firm
    assert not absent & firm


def test_admin_with_a_deny_on_ram_is_not_the_account(neo4j_driver: Driver, tmp_path: Path) -> None:
    def mutate(doc: dict[str, Any], account: str) -> None:
        _set_policy(doc, "AdministratorAccess", _allow("*"), {"Effect": "Deny", "Action": "ram:*", "Resource": "*"})

    firm = _firm(_paths(neo4j_driver, tmp_path, mutate))
    assert (ALICE, "root") not in firm
    assert {(ALICE, "acme-logs"), (ALICE, "rm-bp1orders0000001")} <= firm


def test_unconditional_read_beside_a_conditional_write(neo4j_driver: Driver, tmp_path: Path) -> None:
    def mutate(doc: dict[str, Any], account: str) -> None:
        _set_policy(doc, "app-data-rw", _allow("oss:GetObject", "acs:oss:*:*:acme-prod-data/*"),
                    _allow("oss:PutObject", "acs:oss:*:*:acme-prod-data/*",
                           Condition={"IpAddress": {"acs:SourceIp": ["10.0.0.0/8"]}}))

    paths = _paths(neo4j_driver, tmp_path, mutate)
    path = next(p for p in paths if (p["entry"]["id"], p["target"]["id"]) == (WEB, "acme-prod-data"))
    assert path["conditional"] is False
    assert path["access"] == ["read", "write"] and path["conditional_access"] == ["write"]


def test_grant_on_an_object_prefix_reaches_the_bucket(neo4j_driver: Driver, tmp_path: Path) -> None:
    def mutate(doc: dict[str, Any], account: str) -> None:
        _set_policy(doc, "batch-logs-read", _allow("oss:Get*", "acs:oss:*:*:acme-logs/app/*"))

    assert ("i-uf6batch000000001", "acme-logs") in _firm(_paths(neo4j_driver, tmp_path, mutate))


def _set_bucket_policy(doc: dict[str, Any], bucket: str, *statements: dict[str, Any]) -> None:
    for call in doc["calls"]:
        if call["action"] == "GetBucketPolicy" and call["params"]["bucket"] == bucket:
            call.pop("error", None)
            call["response"] = json.dumps({"Version": "1", "Statement": list(statements)})


def test_bucket_policy_deny_by_user_id(neo4j_driver: Driver, tmp_path: Path) -> None:
    def mutate(doc: dict[str, Any], account: str) -> None:
        _set_bucket_policy(doc, "acme-logs", {"Effect": "Deny", "Action": ["oss:GetObject"], "Principal": ["5482508730210233"],
                                              "Resource": [f"acs:oss:*:{account}:acme-logs/*"]})

    firm = _firm(_paths(neo4j_driver, tmp_path, mutate))
    assert ("LTAI5tReporterKey001", "acme-logs") not in firm
    assert ("LTAI5tReporterKey001", "acme-backups") in firm


def test_undecided_bucket_allow_beside_a_tls_deny_keeps_identity_access(neo4j_driver: Driver, tmp_path: Path) -> None:
    def mutate(doc: dict[str, Any], account: str) -> None:
        resource = [f"acs:oss:*:{account}:acme-partner-share/*"]
        _set_bucket_policy(doc, "acme-partner-share",
                           {"Effect": "Allow", "Action": ["oss:GetObject"], "Principal": ["*"], "Resource": resource,
                            "Condition": {"IpAddress": {"acs:SourceIp": ["203.0.113.0/24"]}}},
                           {"Effect": "Deny", "Action": ["oss:*"], "Principal": ["*"], "Resource": resource,
                            "Condition": {"Bool": {"acs:SecureTransport": ["false"]}}})

    firm = _firm(_paths(neo4j_driver, tmp_path, mutate))
    assert {(CI, "acme-partner-share"), (ALICE, "acme-partner-share")} <= firm


def test_trust_with_only_a_conditional_deny_is_no_path(neo4j_driver: Driver, tmp_path: Path) -> None:
    def mutate(doc: dict[str, Any], account: str) -> None:
        _set_trust(doc, "DeployRole", {"Version": "1", "Statement": [{
            "Effect": "Deny", "Action": "sts:AssumeRole", "Principal": {"RAM": [account]},
            "Condition": {"Bool": {"acs:MFAPresent": "false"}}}]})

    paths = _paths(neo4j_driver, tmp_path, mutate)
    assert not any(p["entry"]["id"] == CI for p in paths)
