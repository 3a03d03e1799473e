"""RAM: users, groups, roles (trust policies), policies (default version documents), access keys,
login profiles, MFA and the password policy. Everything is global."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from graph_schema.model import NodeSchema, RelSchema
from graph_schema.store import GraphBatch
from loaders.base import (
    CollectContext,
    CollectError,
    Gap,
    as_bool,
    dig,
    dig_list,
    json_object,
    paged_by_token,
)
from loaders.declaration import Api, AttackRole, Product
from loaders.listing import Listing
from loaders.regions import GLOBAL, is_supported

API = Api("Ram", "2015-05-01", "ram.aliyuncs.com", "alibabacloud_ram20150501.client", is_global=True, listings={
    action: Listing(path, style="marker", default_size=100) for action, path in (
        ("ListUsers", ("Users", "User")), ("ListRoles", ("Roles", "Role")), ("ListGroups", ("Groups", "Group")),
        ("ListUsersForGroup", ("Users", "User")))})
# the caller's identity and service-linked roles: account-level calls beside RAM
STS = Api("Sts", "2015-04-01", "sts.aliyuncs.com", "alibabacloud_sts20150401.client", is_global=True)
# the account's security practice report: the root account's own access keys and MFA, which RAM does not list
IMS = Api("Ims", "2019-08-15", "ims.aliyuncs.com", is_global=True)
RESOURCE_MANAGER = Api("ResourceManager", "2020-03-31", "resourcemanager.aliyuncs.com",
                       "alibabacloud_resourcemanager20200331.client", is_global=True)
RAM = API.pair
SCOPE = "ram:global"
SERVICE_LINKED_CSPM_ROLE = "AliyunServiceRoleForSasCspm"


def _list(ctx: CollectContext, action: str, params: dict[str, Any], path: tuple[str, ...]) -> list[Any] | Gap:
    return paged_by_token(ctx, *RAM, action, GLOBAL, {**params, "MaxItems": 100}, path, scope=SCOPE)


def _single(ctx: CollectContext, action: str, params: dict[str, Any], path: tuple[str, ...]) -> Any:
    body = ctx.call(*RAM, action, GLOBAL, params)
    if isinstance(body, dict):
        return dig_list(body, *path, call=f"Ram:{action}")
    return body


def collect(ctx: CollectContext, region: str = GLOBAL, workers: int = 8) -> dict[str, Any]:
    ctx.mark(SCOPE, "ok")
    raw: dict[str, Any] = {
        "collected_at": ctx.collected_at,
        "users": _list(ctx, "ListUsers", {}, ("Users", "User")),
        "roles": _list(ctx, "ListRoles", {}, ("Roles", "Role")),
        "groups": _list(ctx, "ListGroups", {}, ("Groups", "Group")),
        "password_policy": ctx.call(*RAM, "GetPasswordPolicy", GLOBAL, {}, scope=SCOPE),
        # optional beyond the spec's minimum (no scope: a recording without them only leaves their facts unknown)
        "virtual_mfa": ctx.call(*RAM, "ListVirtualMFADevices", GLOBAL, {}, optional=True),
        "security_report": ctx.call(*IMS.pair, "GetAccountSecurityPracticeReport", GLOBAL, {}, optional=True),
    }
    users = raw["users"] if isinstance(raw["users"], list) else []
    roles = raw["roles"] if isinstance(raw["roles"], list) else []
    groups = raw["groups"] if isinstance(raw["groups"], list) else []

    def per_user(user: dict[str, Any]) -> dict[str, Any]:
        p = {"UserName": user.get("UserName")}
        return {
            "policies": _single(ctx, "ListPoliciesForUser", p, ("Policies", "Policy")),
            "groups": _single(ctx, "ListGroupsForUser", p, ("Groups", "Group")),
            "keys": _single(ctx, "ListAccessKeys", p, ("AccessKeys", "AccessKey")),
            "login": ctx.call(*RAM, "GetLoginProfile", GLOBAL, p),
            "mfa": ctx.call(*RAM, "GetUserMFAInfo", GLOBAL, p),
            "user": ctx.call(*RAM, "GetUser", GLOBAL, p, optional=True),  # LastLoginDate
        }

    def per_role(role: dict[str, Any]) -> dict[str, Any]:
        p = {"RoleName": role.get("RoleName")}
        return {
            "role": ctx.call(*RAM, "GetRole", GLOBAL, p),
            "policies": _single(ctx, "ListPoliciesForRole", p, ("Policies", "Policy")),
        }

    def per_group(group: dict[str, Any]) -> dict[str, Any]:
        p = {"GroupName": group.get("GroupName")}
        return {
            "policies": _single(ctx, "ListPoliciesForGroup", p, ("Policies", "Policy")),
            "users": paged_by_token(ctx, *RAM, "ListUsersForGroup", GLOBAL, {**p, "MaxItems": 100},
                                    ("Users", "User")),
        }

    with ThreadPoolExecutor(max_workers=workers) as pool:
        raw["user_details"] = dict(zip([u.get("UserName") for u in users], pool.map(per_user, users), strict=True))
        raw["role_details"] = dict(zip([r.get("RoleName") for r in roles], pool.map(per_role, roles), strict=True))
        raw["group_details"] = dict(zip([g.get("GroupName") for g in groups], pool.map(per_group, groups), strict=True))

    # every policy that matters: attached ones, plus every custom policy the account has
    wanted: dict[tuple[str, str], str] = {}
    for details in (*raw["user_details"].values(), *raw["role_details"].values(), *raw["group_details"].values()):
        if isinstance(details["policies"], list):
            for pol in details["policies"]:
                wanted[(str(pol.get("PolicyType")), str(pol.get("PolicyName")))] = str(pol.get("DefaultVersion") or "")
    custom = paged_by_token(ctx, *RAM, "ListPolicies", GLOBAL, {"PolicyType": "Custom", "MaxItems": 100},
                            ("Policies", "Policy"), optional=True)
    if isinstance(custom, list):
        for pol in custom:
            wanted.setdefault((str(pol.get("PolicyType") or "Custom"), str(pol.get("PolicyName"))),
                              str(pol.get("DefaultVersion") or ""))
    else:
        # a recording without ListPolicies still names the policies it fetched
        known = getattr(ctx.transport, "recorded_params", None)
        if callable(known):
            for params in known("Ram", "GetPolicy"):
                if params.get("PolicyName") and params.get("PolicyType"):
                    wanted.setdefault((str(params["PolicyType"]), str(params["PolicyName"])), "")

    def per_policy(key: tuple[str, str]) -> dict[str, Any]:
        ptype, pname = key
        meta = ctx.call(*RAM, "GetPolicy", GLOBAL, {"PolicyName": pname, "PolicyType": ptype})
        version = dig(meta, "Policy", "DefaultVersion") if isinstance(meta, dict) else None
        version = version or wanted[key] or "v1"
        doc = ctx.call(*RAM, "GetPolicyVersion", GLOBAL, {"PolicyName": pname, "PolicyType": ptype, "VersionId": version})
        return {"meta": meta, "version": doc}

    keys = sorted(wanted)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        raw["policies"] = dict(zip(keys, pool.map(per_policy, keys), strict=True))
    return raw


def user_arn(account_id: str, name: str) -> str:
    return f"acs:ram::{account_id}:user/{name}"


def group_arn(account_id: str, name: str) -> str:
    return f"acs:ram::{account_id}:group/{name}"


def policy_id(ptype: str, name: str) -> str:
    return f"{ptype}/{name}"


def _json_text(value: Any, where: str) -> str:
    """Policy documents arrive as JSON strings inside JSON: validate and normalise."""
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    if not isinstance(value, str):
        raise CollectError(f"{where}: policy document must be a JSON string, got {type(value).__name__}")
    return json.dumps(json_object(value, f"{where}: policy document"), sort_keys=True)


def _parse_time(text: str) -> datetime | None:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (ValueError, AttributeError):
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def transform(raw: dict[str, Any], batch: GraphBatch) -> None:
    account_id, collected_at = batch.account_id, raw["collected_at"]
    devices = raw.get("virtual_mfa")
    bound_mfa: set[str] | None = None
    unbound_mfa = 0
    if isinstance(devices, dict):
        listed = dig_list(devices, "VirtualMFADevices", "VirtualMFADevice", call="Ram:ListVirtualMFADevices")
        bound_mfa = {str(dig(d, "User", "UserName")) for d in listed if dig(d, "User", "UserName")}
        unbound_mfa = sum(1 for d in listed if not dig(d, "User", "UserName"))
    supported = is_supported("ram", GLOBAL)
    role_arns: dict[str, str] = {}
    if isinstance(raw.get("roles"), list):
        for role in raw["roles"]:
            name = role.get("RoleName")
            if not name:
                raise CollectError("Ram:ListRoles: a role has no RoleName")
            details = raw["role_details"].get(name, {})
            full = dig(details.get("role"), "Role", default={}) or {}
            arn = full.get("Arn") or role.get("Arn") or f"acs:ram::{account_id}:role/{name.lower()}"
            role_arns[name.lower()] = arn
            trust = full.get("AssumeRolePolicyDocument")
            props: dict[str, Any] = {"name": name, "role_id": role.get("RoleId"), "supported": supported,
                                     "max_session_duration": role.get("MaxSessionDuration"),
                                     "trust_collected": trust is not None}
            if trust is not None:
                props["trust_policy"] = _json_text(trust, f"Ram:GetRole {name}: AssumeRolePolicyDocument")
            props["policies_collected"] = isinstance(details.get("policies"), list)
            batch.node("RamRole", arn, SCOPE, **props)
            for pol in details.get("policies") or [] if isinstance(details.get("policies"), list) else []:
                batch.rel("ATTACHED", ("RamRole", arn), ("RamPolicy", policy_id(pol["PolicyType"], pol["PolicyName"])), SCOPE)

    if isinstance(raw.get("groups"), list):
        for group in raw["groups"]:
            name = group.get("GroupName")
            if not name:
                raise CollectError("Ram:ListGroups: a group has no GroupName")
            gid = group_arn(account_id, name)
            details = raw["group_details"].get(name, {})
            batch.node("RamGroup", gid, SCOPE, name=name, supported=supported,
                       policies_collected=isinstance(details.get("policies"), list))
            for pol in details.get("policies") if isinstance(details.get("policies"), list) else []:
                batch.rel("ATTACHED", ("RamGroup", gid), ("RamPolicy", policy_id(pol["PolicyType"], pol["PolicyName"])), SCOPE)
            for user in details.get("users") if isinstance(details.get("users"), list) else []:
                batch.rel("IN_GROUP", ("RamUser", user_arn(account_id, user["UserName"])), ("RamGroup", gid), SCOPE)

    if isinstance(raw.get("users"), list):
        for user in raw["users"]:
            name = user.get("UserName")
            if not name:
                raise CollectError("Ram:ListUsers: a user has no UserName")
            uid = user_arn(account_id, name)
            d = raw["user_details"].get(name, {})
            login, mfa = d.get("login"), d.get("mfa")
            direct = d.get("policies")
            full_user = dig(d.get("user"), "User", default=None)
            last_login = _parse_time(str(full_user.get("LastLoginDate") or "")) if isinstance(full_user, dict) else None
            created = _parse_time(str(user.get("CreateDate") or ""))
            batch.node(
                "RamUser", uid, SCOPE, name=name, user_id=user.get("UserId"), supported=supported,
                login_collected=not isinstance(login, Gap), has_login_profile=isinstance(login, dict),
                mfa_collected=not isinstance(mfa, Gap),
                mfa_enabled=isinstance(mfa, dict) and bool(dig(mfa, "MFADevice", "SerialNumber")),
                policies_collected=isinstance(direct, list),
                direct_policy_count=len(direct) if isinstance(direct, list) else None,
                last_login_collected=isinstance(full_user, dict),
                last_login_days=(collected_at - last_login).total_seconds() / 86400 if last_login else None,
                created_days=(collected_at - created).total_seconds() / 86400 if created else None,
                virtual_mfa_bound=(name in bound_mfa) if bound_mfa is not None else None,
            )
            for pol in direct if isinstance(direct, list) else []:
                batch.rel("ATTACHED", ("RamUser", uid), ("RamPolicy", policy_id(pol["PolicyType"], pol["PolicyName"])), SCOPE)
            for group in d.get("groups") if isinstance(d.get("groups"), list) else []:
                batch.rel("IN_GROUP", ("RamUser", uid), ("RamGroup", group_arn(account_id, group["GroupName"])), SCOPE)
            for key in d.get("keys") if isinstance(d.get("keys"), list) else []:
                kid = key.get("AccessKeyId")
                if not kid:
                    raise CollectError(f"Ram:ListAccessKeys {name}: a key has no AccessKeyId")
                created = _parse_time(str(key.get("CreateDate") or ""))
                age = (collected_at - created).total_seconds() / 86400 if created else None
                batch.node("AccessKey", kid, SCOPE, user_name=name, status=key.get("Status"), supported=supported,
                           created=key.get("CreateDate"), age_days=age)
                batch.rel("AUTHENTICATES", ("AccessKey", kid), ("RamUser", uid), SCOPE)

    for (ptype, pname), d in (raw.get("policies") or {}).items():
        pid = policy_id(ptype, pname)
        meta = dig(d.get("meta"), "Policy", default={}) if isinstance(d.get("meta"), dict) else {}
        version = d.get("version")
        props = {"name": pname, "policy_type": ptype, "supported": supported,
                 "default_version": meta.get("DefaultVersion"), "attachment_count": meta.get("AttachmentCount"),
                 "document_collected": isinstance(version, dict)}
        if isinstance(version, dict):
            props["document"] = _json_text(dig(version, "PolicyVersion", "PolicyDocument"),
                                           f"Ram:GetPolicyVersion {pid}: PolicyDocument")
        batch.node("RamPolicy", pid, SCOPE, **props)

    account = batch.nodes["Account"][account_id]
    pp = raw.get("password_policy")
    account["password_policy_collected"] = isinstance(pp, dict)
    if isinstance(pp, dict):
        policy = pp.get("PasswordPolicy") or {}
        account.update(
            pw_min_length=policy.get("MinimumPasswordLength"),
            pw_require_lower=policy.get("RequireLowercaseCharacters"),
            pw_require_upper=policy.get("RequireUppercaseCharacters"),
            pw_require_numbers=policy.get("RequireNumbers"),
            pw_require_symbols=policy.get("RequireSymbols"),
            pw_reuse_prevention=policy.get("PasswordReusePrevention"),
            pw_max_age=policy.get("MaxPasswordAge"),
            pw_max_login_attempts=policy.get("MaxLoginAttemps"),
            pw_hard_expiry=policy.get("HardExpiry"),
        )
    report = dig(raw.get("security_report"), "AccountSecurityPracticeInfo", "AccountSecurityPracticeUserInfo",
                 default=None)
    account["security_report_collected"] = isinstance(report, dict)
    if isinstance(report, dict):
        account["root_access_key_count"] = int(report.get("RootWithAccessKey") or 0)
        account["root_mfa_enabled"] = bool(as_bool(report.get("BindMfa")))
    if bound_mfa is not None:
        account["unbound_virtual_mfa_count"] = unbound_mfa
    account["cspm_role_present"] = SERVICE_LINKED_CSPM_ROLE.lower() in role_arns
    account["ram_collected"] = isinstance(raw.get("roles"), list)

PRODUCT = Product(
    "ram", (API, STS, RESOURCE_MANAGER, IMS), collect, transform, is_global=True, order=0,
    nodes=(
        NodeSchema("RamUser", "a RAM user", (
            "name", "user_id", "has_login_profile", "login_collected", "mfa_enabled", "mfa_collected",
            "policies_collected", "direct_policy_count", "last_login_collected", "last_login_days", "created_days",
            "virtual_mfa_bound")),
        NodeSchema("RamGroup", "a RAM group", ("name", "policies_collected")),
        NodeSchema("RamRole", "a RAM role", (
            "name", "role_id", "trust_policy", "trust_collected", "max_session_duration", "policies_collected",
            # set by the analysis from the trust policy
            "trust_external")),
        NodeSchema("RamPolicy", "a RAM policy (default version document stored)", (
            "name", "policy_type", "default_version", "document", "document_collected", "attachment_count",
            # set by the analysis (checks/analysis.py annotate_policies)
            "full_admin", "assume_any_role", "grants_oss_all", "grants_ram_write")),
        NodeSchema("AccessKey", "a RAM user's access key (the secret is never collected)", (
            "user_name", "status", "created", "age_days")),
        NodeSchema("Account", "", (
            "password_policy_collected", "pw_min_length", "pw_require_lower", "pw_require_upper", "pw_require_numbers",
            "pw_require_symbols", "pw_reuse_prevention", "pw_max_age", "pw_max_login_attempts", "pw_hard_expiry",
            "cspm_role_present", "ram_collected", "security_report_collected", "root_access_key_count",
            "root_mfa_enabled", "unbound_virtual_mfa_count")),
    ),
    rels=(
        RelSchema("IN_GROUP", "RamUser", "RamGroup", "user is a member of the group"),
        RelSchema("ATTACHED", "RamUser|RamGroup|RamRole", "RamPolicy", "policy attached to the principal"),
        RelSchema("TRUSTS", "RamRole", "RamUser|RamRole|Account|ServicePrincipal|ExternalPrincipal",
                  "trust policy principal", properties=("conditional", "condition")),
        RelSchema("AUTHENTICATES", "AccessKey", "RamUser", "the key signs requests as the user"),
    ),
    attack_roles=(AttackRole("AccessKey", "entry", exposed="n.status = 'Active'"),
                  AttackRole("RamUser", "pivot"), AttackRole("RamRole", "pivot"), AttackRole("RamGroup", "pivot")),
)
