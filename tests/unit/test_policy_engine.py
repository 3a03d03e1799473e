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
