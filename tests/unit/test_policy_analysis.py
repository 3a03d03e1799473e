"""The derived edges of checks/analysis.py on altered copies of the sample (collect + analyse, no database)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from checks.analysis import analyse
from graph_schema.store import GraphBatch
from loaders.snapshot import ReplayTransport, parse_snapshot
from loaders.sync import collect_account, parse_collected_at
from tests.helpers.sample import SAMPLE_ACCOUNT, sample_doc

ACCT = SAMPLE_ACCOUNT
Mutate = Callable[[dict[str, Any]], None]


def user(name: str) -> str:
    return f"acs:ram::{ACCT}:user/{name}"


def role(name: str) -> str:
    return f"acs:ram::{ACCT}:role/{name.lower()}"


def group(name: str) -> str:
    return f"acs:ram::{ACCT}:group/{name}"


def analysed(*mutations: Mutate) -> GraphBatch:
    doc = sample_doc()
    for mutate in mutations:
        mutate(doc)
    snap = parse_snapshot(json.loads(json.dumps(doc)))
    collected = collect_account(ReplayTransport(snap), collected_at=parse_collected_at(snap.collected_at))
    analyse(collected.batch, snap.account_id, collected.scopes)
    return collected.batch


def set_policy(name: str, *statements: dict[str, Any]) -> Mutate:
    def mutate(doc: dict[str, Any]) -> None:
        hits = 0
        for call in doc["calls"]:
            if call["action"] == "GetPolicyVersion" and call["params"]["PolicyName"] == name:
                call["response"]["PolicyVersion"]["PolicyDocument"] = json.dumps({"Version": "1", "Statement": list(statements)})
                hits += 1
        assert hits == 1, name
    return mutate


def set_trust(role_name: str, *statements: dict[str, Any]) -> Mutate:
    def mutate(doc: dict[str, Any]) -> None:
        for call in doc["calls"]:
            if call["action"] == "GetRole" and call["params"]["RoleName"] == role_name:
                call["response"]["Role"]["AssumeRolePolicyDocument"] = json.dumps({"Version": "1", "Statement": list(statements)})
    return mutate


def set_bucket_policy(bucket: str, *statements: dict[str, Any]) -> Mutate:
    def mutate(doc: dict[str, Any]) -> None:
        for call in doc["calls"]:
            if call["action"] == "GetBucketPolicy" and call["params"]["bucket"] == bucket:
                call.pop("error", None)
                call["response"] = json.dumps({"Version": "1", "Statement": list(statements)})
    return mutate


def allow(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def edges(batch: GraphBatch, rel_type: str) -> dict[tuple[str, str], dict[str, Any]]:
    return {(r.src_id, r.dst_id): r.props for r in batch.rels.values() if r.type == rel_type}


def bucket_access(batch: GraphBatch, principal: str, bucket: str) -> dict[str, bool]:
    """{mode: conditional} for what `principal` gets on `bucket`, wildcard (AllTargets) edges resolved."""
    out: dict[str, bool] = {}
    for (src, dst), props in edges(batch, "CAN_ACCESS").items():
        if src != principal:
            continue
        for mode in ("read", "write"):
            if not props.get(mode):
                continue
            if dst == "all:OssBucket" and bucket not in props.get(f"{mode}_except", []):
                out[mode] = False
            elif dst == bucket and out.get(mode) is not False:
                out[mode] = mode in props.get("conditional_modes", []) or bool(props.get("conditional"))
    return out


def escalations(batch: GraphBatch, principal: str) -> dict[str, dict[str, Any]]:
    return {dst: props for (src, dst), props in edges(batch, "CAN_ESCALATE").items() if src == principal}


# ------------------------------------------------------------------ 1. real RAM ARNs

@pytest.mark.parametrize("resource", [f"acs:ram::{ACCT}:role/DeployRole", f"acs:ram::{ACCT}:role/deployrole",
                                      "acs:ram::*:role/DeployRole", f"acs:ram:*:{ACCT}:role/deployrole"])
def test_assume_role_on_the_real_role_arn(resource: str) -> None:
    batch = analysed(set_policy("assume-deploy", allow("sts:AssumeRole", resource)))
    assert (user("ci-bot"), role("DeployRole")) in edges(batch, "CAN_ASSUME")


# ------------------------------------------------------------------ 2. escalation on concrete targets

ESCALATION_CASES: list[tuple[str, str, list[dict[str, Any]], str, str | None, str]] = [
    # (id, policy, statements, principal, escalation edge target or None, technique)
    ("create access key for a more privileged user", "rds-ops",
     [allow("ram:CreateAccessKey", "acs:ram:*:*:user/alice")], user("rds-operator"), user("alice"),
     "create_access_key_for_other"),
    ("attach a policy to its own role", "ops-admin",
     [allow("ram:AttachPolicyToRole", f"acs:ram::{ACCT}:role/OpsRole")], role("OpsRole"), ACCT, "attach_policy_to_role"),
    ("attach a policy to a role it cannot use", "ops-admin",
     [allow("ram:AttachPolicyToRole", f"acs:ram::{ACCT}:role/AppServerRole")], role("OpsRole"), None, ""),
    ("rewrite a policy attached to itself", "app-data-rw",
     [allow("oss:GetObject", "acs:oss:*:*:acme-prod-data/*"), allow("ram:CreatePolicyVersion", "acs:ram:*:*:policy/app-data-rw")],
     role("AppServerRole"), ACCT, "create_policy_version"),
    ("rewrite a policy attached to someone else", "rds-ops",
     [allow("ram:CreatePolicyVersion", "acs:ram:*:*:policy/app-data-rw")], user("rds-operator"), None, ""),
    ("switch the default version of its own policy", "rds-ops",
     [allow("ram:SetDefaultPolicyVersion", "acs:ram:*:*:policy/rds-ops")], user("rds-operator"), ACCT,
     "set_default_policy_version"),
    ("attach a policy to itself", "rds-ops",
     [allow("ram:AttachPolicyToUser", f"acs:ram::{ACCT}:user/RDS-Operator")], user("rds-operator"), ACCT,
     "attach_policy_to_self"),
    ("attach a policy to another user", "rds-ops",
     [allow("ram:AttachPolicyToUser", f"acs:ram::{ACCT}:user/bob")], user("rds-operator"), None, ""),
    ("pass a specific role", "rds-ops", [allow("ram:PassRole", "acs:ram:*:*:role/DeployRole")], user("rds-operator"),
     role("DeployRole"), "pass_role_to_instance"),
    # rewriting a trust helps only a principal that may also call sts:AssumeRole on the role (spec: cli.md)
    ("rewrite a role's trust, no sts:AssumeRole", "rds-ops", [allow("ram:UpdateRole", f"acs:ram::{ACCT}:role/opsrole")],
     user("rds-operator"), None, ""),
    ("rewrite a role's trust, sts:AssumeRole on it", "rds-ops",
     [allow("ram:UpdateRole", f"acs:ram::{ACCT}:role/opsrole"), allow("sts:AssumeRole", f"acs:ram::{ACCT}:role/OpsRole")],
     user("rds-operator"), role("OpsRole"), "update_role_trust"),
    ("rewrite a role's trust, sts:AssumeRole on another role", "rds-ops",
     [allow("ram:UpdateRole", f"acs:ram::{ACCT}:role/opsrole"), allow("sts:AssumeRole", f"acs:ram::{ACCT}:role/DeployRole")],
     user("rds-operator"), None, ""),
    ("rewrite every trust, sts:AssumeRole on every role", "rds-ops",
     [allow(["ram:UpdateRole", "sts:AssumeRole"], "*")], user("rds-operator"), role("OpsRole"), "update_role_trust"),
    ("join a privileged group", "rds-ops", [allow("ram:AddUserToGroup", "acs:ram:*:*:group/admins")],
     user("rds-operator"), group("admins"), "add_user_to_group"),
    ("take over a user, then attach a policy to it", "rds-ops",
     [allow(["ram:CreateLoginProfile", "ram:AttachPolicyToUser"], "acs:ram:*:*:user/reporter")], user("rds-operator"),
     ACCT, "attach_policy_to_self"),
]


@pytest.mark.parametrize(("policy", "statements", "principal", "target", "technique"),
                         [c[1:] for c in ESCALATION_CASES], ids=[c[0] for c in ESCALATION_CASES])
def test_escalation_on_concrete_targets(policy: str, statements: list[dict[str, Any]], principal: str,
                                        target: str | None, technique: str) -> None:
    found = escalations(analysed(set_policy(policy, *statements)), principal)
    if target is None:
        assert found == {}
    else:
        assert target in found, found
        assert found[target]["technique"] == technique
        assert found[target]["conditional"] is False


def test_attach_policy_to_its_own_group_only() -> None:
    # assume-deploy is held by ci-bot directly and by bob through `developers`
    batch = analysed(set_policy("assume-deploy", allow("sts:AssumeRole", f"acs:ram:*:{ACCT}:role/deployrole"),
                                allow("ram:AttachPolicyToGroup", f"acs:ram::{ACCT}:group/developers")))
    assert escalations(batch, user("bob"))[ACCT]["technique"] == "attach_policy_to_group"
    assert ACCT not in escalations(batch, user("ci-bot"))


def test_a_joined_group_acts_with_its_policies() -> None:
    batch = analysed(set_policy("rds-ops", allow("ram:AddUserToGroup", "acs:ram:*:*:group/admins")))
    assert escalations(batch, group("admins"))[ACCT]["technique"] == "full_admin"


def test_takeover_edges_go_to_the_other_users() -> None:
    # every other user of the sample reaches something (alice and legacy-admin are admins): not itself
    batch = analysed(set_policy("rds-ops", allow("ram:CreateAccessKey", "acs:ram:*:*:user/*")))
    found = escalations(batch, user("rds-operator"))
    assert {user("alice"), user("legacy-admin"), user("bob")} <= set(found)
    assert user("rds-operator") not in found


# ------------------------------------------------------------------ 3. effective * on *

def test_admin_with_a_deny_on_ram_is_not_full_admin() -> None:
    batch = analysed(set_policy("AdministratorAccess", allow("*"), deny("ram:*")))
    assert ACCT not in escalations(batch, user("alice"))
    assert bucket_access(batch, user("alice"), "acme-logs") == {"read": False, "write": False}


def test_allow_notaction_ram_is_not_full_admin() -> None:
    batch = analysed(set_policy("AdministratorAccess", {"Effect": "Allow", "NotAction": "ram:*", "Resource": "*"}))
    assert ACCT not in escalations(batch, user("alice"))
    assert bucket_access(batch, user("alice"), "acme-prod-data") == {"read": False, "write": False}


def test_admin_with_a_narrow_deny_still_escalates_by_attaching() -> None:
    batch = analysed(set_policy("AdministratorAccess", allow("*"), deny("oss:*", "acs:oss:*:*:acme-backups/*")))
    esc = escalations(batch, user("alice"))[ACCT]
    assert esc["technique"] != "full_admin" and esc["conditional"] is False


# ------------------------------------------------------------------ 4. conditional per access mode

def test_conditional_write_does_not_make_read_conditional() -> None:
    batch = analysed(set_policy("app-data-rw", allow("oss:GetObject", "acs:oss:*:*:acme-prod-data/*"),
                                allow("oss:PutObject", "acs:oss:*:*:acme-prod-data/*",
                                      Condition={"IpAddress": {"acs:SourceIp": ["10.0.0.0/8"]}})))
    props = edges(batch, "CAN_ACCESS")[(role("AppServerRole"), "acme-prod-data")]
    assert props["read"] and props["write"] and props["conditional"] is False
    assert props["conditional_modes"] == ["write"]


def test_rds_admin_prefers_the_unconditional_action() -> None:
    db = "rm-bp1orders0000001"
    batch = analysed(set_policy("rds-ops", allow("rds:ModifySecurityIps", f"acs:rds:*:*:dbinstance/{db}",
                                                 Condition={"IpAddress": {"acs:SourceIp": ["10.0.0.0/8"]}}),
                                allow("rds:ResetAccountPassword", f"acs:rds:*:*:dbinstance/{db}")))
    assert edges(batch, "CAN_ACCESS")[(user("rds-operator"), db)]["conditional"] is False


# ------------------------------------------------------------------ 6. bucket policies: which Deny makes it conditional

def test_undecided_bucket_allow_does_not_taint_an_identity_grant() -> None:
    tls = {"Effect": "Deny", "Action": ["oss:*"], "Principal": ["*"], "Resource": [f"acs:oss:*:{ACCT}:acme-partner-share/*"],
           "Condition": {"Bool": {"acs:SecureTransport": ["false"]}}}
    ip_allow = {"Effect": "Allow", "Action": ["oss:GetObject"], "Principal": ["*"],
                "Resource": [f"acs:oss:*:{ACCT}:acme-partner-share/*"],
                "Condition": {"IpAddress": {"acs:SourceIp": ["203.0.113.0/24"]}}}
    batch = analysed(set_bucket_policy("acme-partner-share", ip_allow, tls))
    assert bucket_access(batch, role("DeployRole"), "acme-partner-share") == {"read": False, "write": False}


def test_undecided_bucket_deny_makes_the_mode_conditional() -> None:
    ip_deny = {"Effect": "Deny", "Action": ["oss:GetObject"], "Principal": ["*"], "Resource": [f"acs:oss:*:{ACCT}:acme-logs/*"],
               "Condition": {"NotIpAddress": {"acs:SourceIp": ["10.0.0.0/8"]}}}
    batch = analysed(set_bucket_policy("acme-logs", ip_deny))
    assert bucket_access(batch, role("DeployRole"), "acme-logs") == {"read": True, "write": False}


# ------------------------------------------------------------------ 7. bucket-policy principals

@pytest.mark.parametrize(("principal", "who"), [
    (["5482508730210233"], user("reporter")),  # reporter's UserId
    ([f"acs:ram::{ACCT}:user/Reporter"], user("reporter")),
    ([f"arn:sts::{ACCT}:assumed-role/BatchRole/*"], role("BatchRole")),
    ([f"acs:ram::{ACCT}:role/BATCHROLE"], role("BatchRole")),
    ([ACCT], role("BatchRole")),
])
def test_bucket_policy_deny_names_the_principal(principal: list[str], who: str) -> None:
    before = analysed()
    assert "read" in bucket_access(before, who, "acme-logs")
    denied = {"Effect": "Deny", "Action": ["oss:GetObject"], "Principal": principal, "Resource": [f"acs:oss:*:{ACCT}:acme-logs/*"]}
    assert "read" not in bucket_access(analysed(set_bucket_policy("acme-logs", denied)), who, "acme-logs")


def test_bucket_policy_deny_for_another_uid_leaves_access() -> None:
    denied = {"Effect": "Deny", "Action": ["oss:GetObject"], "Principal": ["4627294301243880"],  # alice
              "Resource": [f"acs:oss:*:{ACCT}:acme-logs/*"]}
    assert bucket_access(analysed(set_bucket_policy("acme-logs", denied)), user("reporter"), "acme-logs") == {"read": False}


# ------------------------------------------------------------------ 8. trust policies

def test_trust_with_only_a_conditional_deny_trusts_nobody() -> None:
    batch = analysed(set_trust("DeployRole", {"Effect": "Deny", "Action": "sts:AssumeRole", "Principal": {"RAM": [ACCT]},
                                              "Condition": {"Bool": {"acs:MFAPresent": "false"}}}))
    assert (user("ci-bot"), role("DeployRole")) not in edges(batch, "CAN_ASSUME")


def test_trust_principal_keys_any_case() -> None:
    batch = analysed(set_trust("PartnerAuditRole", {"Effect": "Allow", "Action": "sts:AssumeRole",
                                                    "Principal": {"ram": ["acs:ram::9988776655443322:root"]}}),
                     set_trust("DeployRole", {"Effect": "Allow", "Action": "sts:AssumeRole",
                                              "Principal": {"Ram": [f"ACS:RAM::{ACCT}:ROOT"]}}),
                     set_trust("AppServerRole", {"Effect": "Allow", "Action": "sts:AssumeRole",
                                                 "Principal": {"service": ["ecs.aliyuncs.com"]}}))
    assert batch.nodes["RamRole"][role("PartnerAuditRole")]["trust_external"] is True
    trusts = edges(batch, "TRUSTS")
    assert (role("PartnerAuditRole"), "acs:ram::9988776655443322:root") in trusts
    assert (role("DeployRole"), ACCT) in trusts
    assert (role("AppServerRole"), "ecs.aliyuncs.com") in trusts
    assert (user("ci-bot"), role("DeployRole")) in edges(batch, "CAN_ASSUME")


# ------------------------------------------------------------------ 10. grants on an object prefix

def test_grant_on_an_object_prefix_is_access_to_the_bucket() -> None:
    batch = analysed(set_policy("batch-logs-read", allow("oss:Get*", "acs:oss:*:*:acme-logs/app/*")))
    assert bucket_access(batch, role("BatchRole"), "acme-logs") == {"read": False}


def test_prefix_grant_under_a_deny_of_the_whole_bucket() -> None:
    batch = analysed(set_policy("batch-logs-read", allow("oss:Get*", "acs:oss:*:*:acme-logs/app/*"),
                                deny("oss:*", "acs:oss:*:*:acme-logs/*")))
    assert bucket_access(batch, role("BatchRole"), "acme-logs") == {}


def test_prefix_grant_beside_a_deny_of_another_prefix() -> None:
    batch = analysed(set_policy("batch-logs-read", allow("oss:Get*", "acs:oss:*:*:acme-logs/app/*"),
                                deny("oss:*", "acs:oss:*:*:acme-logs/secret/*")))
    assert bucket_access(batch, role("BatchRole"), "acme-logs") == {"read": False}
