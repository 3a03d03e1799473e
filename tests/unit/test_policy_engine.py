"""The RAM policy language as a table of (policies, request) → decision, like a language test suite."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checks.policy_engine import (
    CompiledPolicySet,
    Decision,
    PolicyParseError,
    Principal,
    bucket_policy_evaluation,
    evaluate,
    is_full_admin,
    parse_policy,
    principal_values,
    ram_role_arn,
    trust_allows,
)

A, D, N, C = Decision.ALLOW, Decision.DENY, Decision.IMPLICIT_DENY, Decision.CONDITIONAL  # N: no allow (implicit deny)
ACCT = "1234567890123456"


def stmt(effect: str = "Allow", action: Any = None, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    s: dict[str, Any] = {"Effect": effect}
    if action is not None:
        s["Action"] = action
    if resource is not None:
        s["Resource"] = resource
    s.update(extra)
    return s


def pol(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "1", "Statement": list(statements)}


ADMIN = pol(stmt(action="*"))
OSS_RO = pol(stmt(action=["oss:Get*", "oss:List*"]))
OSS_FULL = pol(stmt(action="oss:*"))
OBJ = f"acs:oss:cn-hangzhou:{ACCT}:data/*"
BUCKET = f"acs:oss:cn-hangzhou:{ACCT}:data"
ROLE = f"acs:ram:*:{ACCT}:role/deployrole"
REAL_ROLE = f"acs:ram::{ACCT}:role/deployrole"

# (id, policies, action, resource, context, expected)
CASES: list[tuple[str, list[dict[str, Any]], str, str, dict[str, Any] | None, Decision]] = [
    ("no policy is an implicit deny", [], "oss:GetObject", OBJ, None, N),
    ("admin allows anything", [ADMIN], "ecs:DeleteInstance", "acs:ecs:*:*:instance/i-1", None, A),
    ("admin allows ram", [ADMIN], "ram:CreateUser", "*", None, A),
    ("exact action", [pol(stmt(action="oss:GetObject"))], "oss:GetObject", OBJ, None, A),
    ("other action not allowed", [pol(stmt(action="oss:GetObject"))], "oss:PutObject", OBJ, None, N),
    ("action case-insensitive", [pol(stmt(action="OSS:getobject"))], "oss:GetObject", OBJ, None, A),
    ("request action case-insensitive", [pol(stmt(action="oss:GetObject"))], "OSS:GETOBJECT", OBJ, None, A),
    ("service wildcard", [OSS_FULL], "oss:PutObject", OBJ, None, A),
    ("prefix wildcard Get*", [OSS_RO], "oss:GetObject", OBJ, None, A),
    ("prefix wildcard List*", [OSS_RO], "oss:ListObjects", BUCKET, None, A),
    ("read-only does not write", [OSS_RO], "oss:PutObject", OBJ, None, N),
    ("question mark matches one char", [pol(stmt(action="oss:Get?bject"))], "oss:GetObject", OBJ, None, A),
    ("question mark not two chars", [pol(stmt(action="oss:Get?ject"))], "oss:GetObject", OBJ, None, N),
    ("wildcard is not a regex", [pol(stmt(action="oss:Get.*"))], "oss:GetObject", OBJ, None, N),
    ("action list", [pol(stmt(action=["ecs:Describe*", "oss:GetObject"]))], "oss:GetObject", OBJ, None, A),
    ("resource exact bucket objects", [pol(stmt(action="oss:GetObject", resource="acs:oss:*:*:data/*"))],
     "oss:GetObject", OBJ, None, A),
    ("resource other bucket", [pol(stmt(action="oss:GetObject", resource="acs:oss:*:*:logs/*"))],
     "oss:GetObject", OBJ, None, N),
    ("resource bucket not objects", [pol(stmt(action="oss:GetObject", resource="acs:oss:*:*:data"))],
     "oss:GetObject", OBJ, None, N),
    ("resource list", [pol(stmt(action="oss:*", resource=["acs:oss:*:*:logs/*", "acs:oss:*:*:data/*"]))],
     "oss:GetObject", OBJ, None, A),
    ("resource account must match", [pol(stmt(action="oss:*", resource="acs:oss:*:999:data/*"))],
     "oss:GetObject", OBJ, None, N),
    ("resource region wildcard", [pol(stmt(action="oss:*", resource="acs:oss:cn-*:*:data/*"))],
     "oss:GetObject", OBJ, None, A),
    ("resource other region", [pol(stmt(action="oss:*", resource="acs:oss:cn-beijing:*:data/*"))],
     "oss:GetObject", OBJ, None, N),
    ("bucket name is case-sensitive", [pol(stmt(action="oss:*", resource="acs:oss:*:*:DATA/*"))],
     "oss:GetObject", OBJ, None, N),
    ("service prefix case-insensitive", [pol(stmt(action="oss:*", resource="ACS:OSS:*:*:data/*"))],
     "oss:GetObject", OBJ, None, A),
    ("ram role name case-insensitive", [pol(stmt(action="sts:AssumeRole", resource=f"acs:ram:*:{ACCT}:role/DeployRole"))],
     "sts:AssumeRole", ROLE, None, A),
    ("role wildcard", [pol(stmt(action="sts:AssumeRole", resource="acs:ram:*:*:role/*"))], "sts:AssumeRole", ROLE, None, A),
    ("other role", [pol(stmt(action="sts:AssumeRole", resource=f"acs:ram:*:{ACCT}:role/opsrole"))],
     "sts:AssumeRole", ROLE, None, N),
    ("explicit deny wins", [ADMIN, pol(stmt("Deny", action="oss:*"))], "oss:GetObject", OBJ, None, D),
    ("deny in same policy wins", [pol(stmt(action="oss:*"), stmt("Deny", action="oss:*", resource="acs:oss:*:*:data/*"))],
     "oss:GetObject", OBJ, None, D),
    ("deny on other bucket does not apply", [pol(stmt(action="oss:*"), stmt("Deny", action="oss:*", resource="acs:oss:*:*:backups/*"))],
     "oss:GetObject", OBJ, None, A),
    ("deny other action does not apply", [pol(stmt(action="oss:*"), stmt("Deny", action="oss:DeleteObject"))],
     "oss:GetObject", OBJ, None, A),
    ("deny alone is a deny", [pol(stmt("Deny", action="oss:GetObject"))], "oss:GetObject", OBJ, None, D),
    ("deny case-insensitive action", [ADMIN, pol(stmt("Deny", action="OSS:GETOBJECT"))], "oss:GetObject", OBJ, None, D),
    ("NotAction allows the rest", [pol(stmt(NotAction="ram:*"))], "oss:GetObject", OBJ, None, A),
    ("NotAction excludes", [pol(stmt(NotAction="ram:*"))], "ram:CreateUser", "*", None, N),
    ("NotAction list", [pol(stmt(NotAction=["ram:*", "sts:*"]))], "sts:AssumeRole", ROLE, None, N),
    ("Deny NotAction denies the rest", [ADMIN, pol(stmt("Deny", NotAction="oss:Get*"))], "oss:PutObject", OBJ, None, D),
    ("Deny NotAction spares the listed", [ADMIN, pol(stmt("Deny", NotAction="oss:Get*"))], "oss:GetObject", OBJ, None, A),
    ("NotResource allows others", [pol(stmt(action="oss:*", resource=None, NotResource="acs:oss:*:*:backups/*"))],
     "oss:GetObject", OBJ, None, A),
    ("NotResource excludes", [pol(stmt(action="oss:*", resource=None, NotResource="acs:oss:*:*:data/*"))],
     "oss:GetObject", OBJ, None, N),
    ("Deny NotResource", [ADMIN, pol(stmt("Deny", action="oss:*", resource=None, NotResource="acs:oss:*:*:logs/*"))],
     "oss:GetObject", OBJ, None, D),
    ("group policies combine", [pol(stmt(action="oss:GetObject")), pol(stmt(action="oss:PutObject"))],
     "oss:PutObject", OBJ, None, A),
    ("group deny overrides user allow", [OSS_FULL, pol(stmt("Deny", action="oss:PutObject"))], "oss:PutObject", OBJ, None, D),
    ("bool condition true", [pol(stmt(action="oss:*", Condition={"Bool": {"acs:SecureTransport": "true"}}))],
     "oss:GetObject", OBJ, {"acs:SecureTransport": "true"}, A),
    ("bool condition false", [pol(stmt(action="oss:*", Condition={"Bool": {"acs:SecureTransport": "true"}}))],
     "oss:GetObject", OBJ, {"acs:SecureTransport": "false"}, N),
    ("unknown context key → conditional", [pol(stmt(action="oss:*", Condition={"IpAddress": {"acs:SourceIp": "10.0.0.0/8"}}))],
     "oss:GetObject", OBJ, None, C),
    ("ip in range", [pol(stmt(action="oss:*", Condition={"IpAddress": {"acs:SourceIp": ["10.0.0.0/8"]}}))],
     "oss:GetObject", OBJ, {"acs:SourceIp": "10.1.2.3"}, A),
    ("ip out of range", [pol(stmt(action="oss:*", Condition={"IpAddress": {"acs:SourceIp": "10.0.0.0/8"}}))],
     "oss:GetObject", OBJ, {"acs:SourceIp": "192.168.1.1"}, N),
    ("NotIpAddress", [pol(stmt(action="oss:*", Condition={"NotIpAddress": {"acs:SourceIp": "10.0.0.0/8"}}))],
     "oss:GetObject", OBJ, {"acs:SourceIp": "192.168.1.1"}, A),
    ("condition key case-insensitive", [pol(stmt(action="oss:*", Condition={"Bool": {"ACS:securetransport": "true"}}))],
     "oss:GetObject", OBJ, {"acs:SecureTransport": "true"}, A),
    ("multiple values are OR", [pol(stmt(action="oss:*", Condition={"StringEquals": {"acs:SourceVpc": ["vpc-a", "vpc-b"]}}))],
     "oss:GetObject", OBJ, {"acs:SourceVpc": "vpc-b"}, A),
    ("multiple keys are AND", [pol(stmt(action="oss:*", Condition={"StringEquals": {"acs:SourceVpc": "vpc-a"},
                                                                    "Bool": {"acs:SecureTransport": "true"}}))],
     "oss:GetObject", OBJ, {"acs:SourceVpc": "vpc-a", "acs:SecureTransport": "false"}, N),
    ("StringLike", [pol(stmt(action="oss:*", Condition={"StringLike": {"acs:UserAgent": "aliyun-cli*"}}))],
     "oss:GetObject", OBJ, {"acs:UserAgent": "aliyun-cli/3.0"}, A),
    ("StringNotEquals", [pol(stmt(action="oss:*", Condition={"StringNotEquals": {"acs:SourceVpc": "vpc-a"}}))],
     "oss:GetObject", OBJ, {"acs:SourceVpc": "vpc-a"}, N),
    ("StringEqualsIgnoreCase", [pol(stmt(action="oss:*", Condition={"StringEqualsIgnoreCase": {"acs:SourceVpc": "VPC-A"}}))],
     "oss:GetObject", OBJ, {"acs:SourceVpc": "vpc-a"}, A),
    ("NumericLessThan", [pol(stmt(action="oss:*", Condition={"NumericLessThan": {"oss:max-keys": "100"}}))],
     "oss:ListObjects", BUCKET, {"oss:max-keys": "500"}, N),
    ("NumericLessThan holds", [pol(stmt(action="oss:ListObjects", resource=BUCKET, Condition={"NumericLessThan": {"oss:max-keys": "100"}}))],
     "oss:ListObjects", BUCKET, {"oss:max-keys": "50"}, A),
    ("DateLessThan holds", [pol(stmt(action="oss:*", Condition={"DateLessThan": {"acs:CurrentTime": "2030-01-01T00:00:00Z"}}))],
     "oss:GetObject", OBJ, {"acs:CurrentTime": "2026-11-20T08:00:00Z"}, A),
    ("DateGreaterThan fails", [pol(stmt(action="oss:*", Condition={"DateGreaterThan": {"acs:CurrentTime": "2030-01-01T00:00:00Z"}}))],
     "oss:GetObject", OBJ, {"acs:CurrentTime": "2026-11-20T08:00:00Z"}, N),
    ("MFA required without MFA", [pol(stmt(action="*", Condition={"Bool": {"acs:MFAPresent": "true"}}))],
     "ecs:DeleteInstance", "*", {"acs:MFAPresent": "false"}, N),
    ("deny with unknown condition makes allow conditional",
     [ADMIN, pol(stmt("Deny", action="*", Condition={"NotIpAddress": {"acs:SourceIp": "10.0.0.0/8"}}))],
     "oss:GetObject", OBJ, None, C),
    ("deny whose condition is false does not apply",
     [OSS_FULL, pol(stmt("Deny", action="oss:*", Condition={"Bool": {"acs:SecureTransport": "false"}}))],
     "oss:GetObject", OBJ, {"acs:SecureTransport": "true"}, A),
    ("deny whose condition holds applies",
     [OSS_FULL, pol(stmt("Deny", action="oss:*", Condition={"Bool": {"acs:SecureTransport": "false"}}))],
     "oss:GetObject", OBJ, {"acs:SecureTransport": "false"}, D),
    ("IfExists with missing key holds", [pol(stmt(action="oss:*", Condition={"StringEqualsIfExists": {"acs:SourceVpc": "vpc-a"}}))],
     "oss:GetObject", OBJ, None, A),
    ("statement as single object", [{"Version": "1", "Statement": stmt(action="oss:*")}], "oss:GetObject", OBJ, None, A),
    ("effect case-insensitive", [pol(stmt("allow", action="oss:*"))], "oss:GetObject", OBJ, None, A),
    ("rds admin on one instance", [pol(stmt(action=["rds:ModifySecurityIps", "rds:Describe*"],
                                            resource="acs:rds:*:*:dbinstance/rm-1"))],
     "rds:ModifySecurityIps", f"acs:rds:cn-hangzhou:{ACCT}:dbinstance/rm-1", None, A),
    ("rds admin not on another instance", [pol(stmt(action="rds:ModifySecurityIps", resource="acs:rds:*:*:dbinstance/rm-1"))],
     "rds:ModifySecurityIps", f"acs:rds:cn-hangzhou:{ACCT}:dbinstance/rm-2", None, N),
    ("describe does not administer", [pol(stmt(action="rds:Describe*"))],
     "rds:ResetAccountPassword", f"acs:rds:cn-hangzhou:{ACCT}:dbinstance/rm-1", None, N),
    ("ecs full access is not oss", [pol(stmt(action="ecs:*"))], "oss:GetObject", OBJ, None, N),
    ("ram attach allowed", [pol(stmt(action=["ram:AttachPolicyToRole", "ram:ListRoles"]))],
     "ram:AttachPolicyToRole", f"acs:ram:*:{ACCT}:role/*", None, A),
    # real RAM ARNs have an empty region; a `*` in the policy matches the empty segment
    ("star region matches the empty region", [pol(stmt(action="sts:AssumeRole", resource=f"acs:ram:*:{ACCT}:role/deployrole"))],
     "sts:AssumeRole", REAL_ROLE, None, A),
    ("real-form resource, other case", [pol(stmt(action="sts:AssumeRole", resource=f"acs:ram::{ACCT}:role/DEPLOYROLE"))],
     "sts:AssumeRole", REAL_ROLE, None, A),
    ("real-form resource, other role", [pol(stmt(action="sts:AssumeRole", resource=f"acs:ram::{ACCT}:role/OpsRole"))],
     "sts:AssumeRole", REAL_ROLE, None, N),
    ("real-form resource, other account", [pol(stmt(action="sts:AssumeRole", resource="acs:ram::999:role/DeployRole"))],
     "sts:AssumeRole", REAL_ROLE, None, N),
    ("empty region in the pattern is not a wildcard", [pol(stmt(action="sts:AssumeRole", resource=f"acs:ram::{ACCT}:role/*"))],
     "sts:AssumeRole", f"acs:ram:cn-hangzhou:{ACCT}:role/deployrole", None, N),
    ("ram user name case-insensitive", [pol(stmt(action="ram:CreateAccessKey", resource="acs:ram:*:*:user/Alice"))],
     "ram:CreateAccessKey", f"acs:ram::{ACCT}:user/alice", None, A),
    ("policy ARN", [pol(stmt(action="ram:CreatePolicyVersion", resource=f"acs:ram:*:{ACCT}:policy/app-*"))],
     "ram:CreatePolicyVersion", f"acs:ram::{ACCT}:policy/app-data-rw", None, A),
    ("object prefix grant covers its objects", [pol(stmt(action="oss:GetObject", resource="acs:oss:*:*:data/app/*"))],
     "oss:GetObject", f"acs:oss:cn-hangzhou:{ACCT}:data/app/*", None, A),
    ("object prefix grant is not the whole bucket", [pol(stmt(action="oss:GetObject", resource="acs:oss:*:*:data/app/*"))],
     "oss:GetObject", OBJ, None, N),
]


@pytest.mark.parametrize(("policies", "action", "resource", "context", "expected"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_identity_policy_case(policies: list[dict[str, Any]], action: str, resource: str,
                              context: dict[str, Any] | None, expected: Decision) -> None:
    parsed = [parse_policy(json.dumps(p), name=f"p{i}") for i, p in enumerate(policies)]
    assert evaluate(parsed, action, resource, context).decision == expected


def test_case_table_is_large() -> None:
    assert len(CASES) >= 60


USER = Principal(kind="user", account_id=ACCT, name="ci-bot", arn=f"acs:ram::{ACCT}:user/ci-bot", uid="111")
ROLE_P = Principal(kind="role", account_id=ACCT, name="OpsRole", arn=f"acs:ram::{ACCT}:role/opsrole")
ECS = Principal(kind="service", account_id=ACCT, service="ecs.aliyuncs.com")


def trust(principal: Any, condition: dict[str, Any] | None = None) -> Any:
    s: dict[str, Any] = {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": principal}
    if condition:
        s["Condition"] = condition
    return parse_policy({"Version": "1", "Statement": [s]}, "trust")


def allow_stmt(principal: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": principal}


def deny_stmt(condition: dict[str, Any] | None = None) -> dict[str, Any]:
    s: dict[str, Any] = {"Effect": "Deny", "Action": "sts:AssumeRole", "Principal": {"RAM": [ACCT]}}
    if condition:
        s["Condition"] = condition
    return s


def policy_of(*statements: dict[str, Any]) -> Any:
    return parse_policy({"Version": "1", "Statement": list(statements)}, "trust")


MFA = {"Bool": {"acs:MFAPresent": "true"}}
TRUST_CASES: list[tuple[str, Any, Principal, dict[str, Any] | None, Decision]] = [
    ("service trusts ecs", trust({"Service": ["ecs.aliyuncs.com"]}), ECS, None, A),
    ("service does not trust a user", trust({"Service": ["ecs.aliyuncs.com"]}), USER, None, N),
    ("account root trusts its users", trust({"RAM": [f"acs:ram::{ACCT}:root"]}), USER, None, A),
    ("account id trusts its roles", trust({"RAM": [ACCT]}), ROLE_P, None, A),
    ("other account does not trust us", trust({"RAM": ["acs:ram::999:root"]}), USER, None, N),
    ("specific user", trust({"RAM": [f"acs:ram::{ACCT}:user/ci-bot"]}), USER, None, A),
    ("specific user, other name", trust({"RAM": [f"acs:ram::{ACCT}:user/alice"]}), USER, None, N),
    ("role name case-insensitive", trust({"RAM": [f"acs:ram::{ACCT}:role/OPSROLE"]}), ROLE_P, None, A),
    ("star trusts everyone", trust({"RAM": "*"}), USER, None, A),
    ("condition unknown → conditional", trust({"RAM": [ACCT]}, MFA), USER, None, C),
    ("condition decided false", trust({"RAM": [ACCT]}, MFA), USER, {"acs:MFAPresent": "false"}, N),
    ("condition decided true", trust({"RAM": [ACCT]}, MFA), USER, {"acs:MFAPresent": "true"}, A),
    ("principal keys are case-insensitive", trust({"ram": [ACCT]}), USER, None, A),
    ("service key case-insensitive", trust({"SERVICE": "ECS.aliyuncs.com"}), ECS, None, A),
    ("root ARN any case", trust({"RAM": [f"ACS:RAM::{ACCT}:ROOT"]}), ROLE_P, None, A),
    ("a single string principal", trust({"RAM": f"acs:ram::{ACCT}:user/ci-bot"}), USER, None, A),
    ("only a conditional deny: no allow, no trust", policy_of(deny_stmt(MFA)), USER, None, N),
    ("only a decided deny", policy_of(deny_stmt()), USER, None, D),
    ("allow and a conditional deny → conditional", policy_of(allow_stmt({"RAM": [ACCT]}), deny_stmt(MFA)), USER, None, C),
    ("allow and a deny whose condition is false", policy_of(allow_stmt({"RAM": [ACCT]}), deny_stmt(MFA)), USER,
     {"acs:MFAPresent": "false"}, A),
]


@pytest.mark.parametrize(("policy", "caller", "context", "expected"), [c[1:] for c in TRUST_CASES],
                         ids=[c[0] for c in TRUST_CASES])
def test_trust_policy_case(policy: Any, caller: Principal, context: dict[str, Any] | None, expected: Decision) -> None:
    assert trust_allows(policy, caller, context).decision == expected


def bucket_policy(*statements: dict[str, Any]) -> Any:
    return parse_policy({"Version": "1", "Statement": list(statements)}, "bucket")


def test_bucket_policy_deny_names_the_principal() -> None:
    p = bucket_policy({"Effect": "Deny", "Action": ["oss:GetObject"], "Principal": ["111"], "Resource": [f"acs:oss:*:{ACCT}:data/*"]})
    assert bucket_policy_evaluation(p, "data", USER, "oss:GetObject", OBJ).decision == D
    assert bucket_policy_evaluation(p, "data", ROLE_P, "oss:GetObject", OBJ).decision == N


def test_bucket_policy_public_allow_and_secure_transport_deny() -> None:
    p = bucket_policy({"Effect": "Allow", "Action": ["oss:GetObject"], "Principal": ["*"], "Resource": [f"acs:oss:*:{ACCT}:data/*"]})
    assert bucket_policy_evaluation(p, "data", None, "oss:GetObject", OBJ).decision == A
    tls = bucket_policy({"Effect": "Deny", "Action": ["oss:*"], "Principal": ["*"], "Resource": [f"acs:oss:*:{ACCT}:data/*"],
                         "Condition": {"Bool": {"acs:SecureTransport": ["false"]}}})
    assert bucket_policy_evaluation(tls, "data", USER, "oss:GetObject", OBJ, {"acs:SecureTransport": "true"}).decision == N
    assert bucket_policy_evaluation(tls, "data", USER, "oss:GetObject", OBJ, {"acs:SecureTransport": "false"}).decision == D
    assert bucket_policy_evaluation(tls, "data", USER, "oss:GetObject", OBJ).decision == C


def test_full_admin() -> None:
    assert is_full_admin(parse_policy(ADMIN))
    assert is_full_admin(parse_policy(pol(stmt(action=["*"], resource=["*"]))))
    assert not is_full_admin(parse_policy(OSS_FULL))
    assert is_full_admin(parse_policy(pol(stmt(action="*", Condition={"Bool": {"acs:MFAPresent": "true"}}))))
    assert not is_full_admin(parse_policy(pol(stmt("Deny", action="*"))))


EVERYTHING_CASES: list[tuple[str, list[dict[str, Any]], dict[str, Any] | None, Decision]] = [
    ("AdministratorAccess", [ADMIN], None, A),
    ("Action */Resource * spelt as lists", [pol(stmt(action=["*"], resource=["*"]))], None, A),
    ("an explicit Deny on ram:* takes the account away", [ADMIN, pol(stmt("Deny", action="ram:*"))], None, D),
    ("a Deny on one bucket is still not everything", [ADMIN, pol(stmt("Deny", action="oss:*", resource="acs:oss:*:*:b/*"))],
     None, D),
    ("NotAction ram:* is not everything", [pol(stmt(NotAction="ram:*"))], None, N),
    ("NotResource is not everything", [pol(stmt(action="*", resource=None, NotResource="acs:ram:*:*:*"))], None, N),
    ("every service but one", [pol(stmt(action="oss:*"), stmt(action="ecs:*"))], None, N),
    ("an undecided Deny → conditional", [ADMIN, pol(stmt("Deny", action="ram:*", Condition={"IpAddress": {"acs:SourceIp": "10.0.0.0/8"}}))],
     None, C),
    ("a Deny whose condition is false does not apply", [ADMIN, pol(stmt("Deny", action="*", Condition={"Bool": {"acs:SecureTransport": "false"}}))],
     {"acs:SecureTransport": "true"}, A),
    ("an MFA-conditioned admin → conditional", [pol(stmt(action="*", Condition={"Bool": {"acs:MFAPresent": "true"}}))], None, C),
    ("a Deny that matches nothing", [ADMIN, pol(stmt("Deny", NotAction="*"))], None, A),
    ("no policy", [], None, N),
]


@pytest.mark.parametrize(("policies", "context", "expected"), [c[1:] for c in EVERYTHING_CASES],
                         ids=[c[0] for c in EVERYTHING_CASES])
def test_effective_full_admin(policies: list[dict[str, Any]], context: dict[str, Any] | None, expected: Decision) -> None:
    """Full admin = allowed for every action on every resource, not the literal request `*` on `*`."""
    ps = CompiledPolicySet([parse_policy(p, name=f"p{i}") for i, p in enumerate(policies)])
    assert ps.full_admin(context).decision == expected


def test_ram_role_arn_has_an_empty_region() -> None:
    assert ram_role_arn(ACCT, "DeployRole") == f"acs:ram::{ACCT}:role/DeployRole"


def test_principal_values_any_spelling() -> None:
    assert principal_values({"ram": ["a"], "Service": "ecs.aliyuncs.com"}, "RAM") == ["a"]
    assert principal_values({"ram": ["a"], "Service": "ecs.aliyuncs.com"}, "service") == ["ecs.aliyuncs.com"]
    assert principal_values("111", "RAM") == ["111"]
    assert principal_values("*", "Service") == ["*"]
    assert sorted(principal_values({"RAM": "a", "Service": ["b"]})) == ["a", "b"]


OPS = Principal(kind="role", account_id=ACCT, name="OpsRole", arn=f"acs:ram::{ACCT}:role/opsrole")
BUCKET_PRINCIPAL_CASES: list[tuple[str, Any, Principal, Decision]] = [
    ("user by UID", ["111"], USER, D),
    ("user by UID as a bare string", "111", USER, D),
    ("another UID", ["222"], USER, N),
    ("account UID names every RAM identity", [ACCT], ROLE_P, D),
    ("user ARN, any case", [f"acs:ram::{ACCT}:user/CI-BOT"], USER, D),
    ("role ARN", [f"acs:ram::{ACCT}:role/OpsRole"], OPS, D),
    ("role ARN does not name a user", [f"acs:ram::{ACCT}:role/OpsRole"], USER, N),
    ("STS assumed-role, every session", [f"arn:sts::{ACCT}:assumed-role/OpsRole/*"], OPS, D),
    ("STS assumed-role, another role", [f"arn:sts::{ACCT}:assumed-role/AppServerRole/*"], OPS, N),
    ("STS assumed-role, one session (the attacker picks another)", [f"arn:sts::{ACCT}:assumed-role/OpsRole/s1"], OPS, N),
    ("RAM key in a mapping", {"RAM": ["111"]}, USER, D),
    ("star", ["*"], OPS, D),
]


@pytest.mark.parametrize(("principal", "caller", "expected"), [c[1:] for c in BUCKET_PRINCIPAL_CASES],
                         ids=[c[0] for c in BUCKET_PRINCIPAL_CASES])
def test_bucket_policy_deny_principal_forms(principal: Any, caller: Principal, expected: Decision) -> None:
    p = bucket_policy({"Effect": "Deny", "Action": ["oss:GetObject"], "Principal": principal,
                       "Resource": [f"acs:oss:*:{ACCT}:data/*"]})
    assert bucket_policy_evaluation(p, "data", caller, "oss:GetObject", OBJ).decision == expected


def test_bucket_policy_tells_an_undecided_deny_from_an_undecided_allow() -> None:
    allow = bucket_policy({"Effect": "Allow", "Action": ["oss:GetObject"], "Principal": ["*"], "Resource": [f"acs:oss:*:{ACCT}:data/*"],
                           "Condition": {"IpAddress": {"acs:SourceIp": ["203.0.113.0/24"]}}})
    deny = bucket_policy({"Effect": "Deny", "Action": ["oss:GetObject"], "Principal": ["*"], "Resource": [f"acs:oss:*:{ACCT}:data/*"],
                          "Condition": {"NotIpAddress": {"acs:SourceIp": ["203.0.113.0/24"]}}})
    a = bucket_policy_evaluation(allow, "data", USER, "oss:GetObject", OBJ)
    d = bucket_policy_evaluation(deny, "data", USER, "oss:GetObject", OBJ)
    assert (a.decision, a.undecided_deny) == (C, False)
    assert (d.decision, d.undecided_deny) == (C, True)


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[]", "JSON object"),
        ('{"Version": "1"}', "Statement"),
        ('{"Statement": [{"Effect": "Maybe", "Action": "*", "Resource": "*"}]}', "Effect"),
        ('{"Statement": [{"Effect": "Allow", "Action": 5, "Resource": "*"}]}', "Action"),
        ('{"Statement": [{"Effect": "Allow", "Action": "*", "NotAction": "x", "Resource": "*"}]}', "both"),
        ('{"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*", "NotResource": "x"}]}', "both"),
        ('{"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": []}]}', "Condition"),
        ('{"Statement": "nope"}', "Statement"),
    ],
)
def test_malformed_documents(doc: str, message: str) -> None:
    with pytest.raises(PolicyParseError, match=message):
        parse_policy(doc, "bad")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(
        st.sampled_from(["Version", "Statement", "Effect", "Action", "NotAction", "Resource", "NotResource",
                         "Condition", "Principal", "x"]), children, max_size=5),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_parse_never_crashes(value: Any) -> None:
    try:
        parsed = parse_policy(json.dumps(value))
    except PolicyParseError:
        return
    CompiledPolicySet([parsed]).evaluate("oss:GetObject", OBJ, {"acs:SourceIp": "1.2.3.4"})
