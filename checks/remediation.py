"""Remediation as declarations: the API calls that fix a finding, with parameters from the graph.

Each remediable item declares a context query (what it needs to know about the asset, read with
`$account_id` and `$asset_id` bound) and a pure builder that turns that context into the exact
OpenAPI requests. Items that cannot be safely automated declare manual steps instead.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from checks.catalog import BY_ID, CATALOG
from checks.model import CheckItem
from loaders.secgroup import parse_port_range

ECS = ("Ecs", "2014-05-26")
RDS = ("Rds", "2014-08-15")
RAM = ("Ram", "2015-05-01")
OSS = ("Oss", "")
TRAIL = ("Actiontrail", "2020-07-06")
INTERNET = ("0.0.0.0/0", "::/0")


@dataclass(frozen=True)
class ApiRequest:
    product: str
    version: str
    action: str
    region: str
    params: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {"product": self.product, "version": self.version, "action": self.action, "region": self.region,
                "params": self.params}


Builder = Callable[[dict[str, Any]], list[ApiRequest]]


@dataclass(frozen=True)
class Remediation:
    context_query: str
    build: Builder
    effect: str
    warnings: tuple[str, ...] = field(default_factory=tuple)


class RemediationError(ValueError):
    pass


# ---------------------------------------------------------------- builders (pure)

SG_CONTEXT = (
    "MATCH (n:SecurityGroup {account_id: $account_id, id: $asset_id}) "
    "OPTIONAL MATCH (n)-[:HAS_RULE]->(r:SecurityGroupRule) "
    "RETURN n.id AS sg, n.region AS region, collect(r {.*}) AS rules"
)


def _sg_revoke(covers: Callable[[int, int], bool]) -> Builder:
    def build(ctx: dict[str, Any]) -> list[ApiRequest]:
        out = []
        for rule in sorted(ctx["rules"], key=lambda r: r.get("id", "")):
            if rule.get("direction") != "ingress" or rule.get("policy") != "accept":
                continue
            if rule.get("protocol") not in ("tcp", "all"):
                continue
            if rule.get("source_cidr") not in INTERNET and rule.get("source_ipv6_cidr") not in INTERNET:
                continue
            lo, hi = parse_port_range(rule.get("port_range"))
            if not covers(lo, hi):
                continue
            params: dict[str, Any] = {
                "RegionId": ctx["region"], "SecurityGroupId": ctx["sg"], "IpProtocol": str(rule["protocol"]).upper()
                if rule["protocol"] != "all" else "ALL", "PortRange": rule.get("port_range") or "-1/-1",
                "Policy": "accept", "Priority": str(rule.get("priority", 1)),
            }
            if rule.get("source_cidr") in INTERNET:
                params["SourceCidrIp"] = rule["source_cidr"]
            else:
                params["Ipv6SourceCidrIp"] = rule["source_ipv6_cidr"]
            if rule.get("id", "").startswith("sgr-"):
                params["SecurityGroupRuleId.1"] = rule["id"]
            out.append(ApiRequest(*ECS, "RevokeSecurityGroup", ctx["region"], params))
        return out

    return build


def _ports(*ports: int) -> Callable[[int, int], bool]:
    return lambda lo, hi: any(lo <= p <= hi for p in ports)


def _simple(product: tuple[str, str], action: str, params: Callable[[dict[str, Any]], dict[str, Any]]) -> Builder:
    return lambda ctx: [ApiRequest(*product, action, ctx.get("region") or "global", params(ctx))]


NODE_CONTEXT = "MATCH (n:{label} {{account_id: $account_id, id: $asset_id}}) RETURN n {{.*}} AS n, n.region AS region"


def _node_ctx(label: str) -> str:
    return NODE_CONTEXT.format(label=label)


def _bucket_policy_without_public(ctx: dict[str, Any]) -> list[ApiRequest]:
    doc = json.loads(ctx["n"].get("policy_document") or '{"Version": "1", "Statement": []}')
    kept = [s for s in doc.get("Statement", []) if not (s.get("Effect") == "Allow" and _has_star(s.get("Principal"))
                                                        and not s.get("Condition"))]
    bucket = ctx["n"]["id"]
    if not kept:
        return [ApiRequest(*OSS, "DeleteBucketPolicy", ctx["region"], {"bucket": bucket})]
    return [ApiRequest(*OSS, "PutBucketPolicy", ctx["region"], {"bucket": bucket, "policy": json.dumps({**doc, "Statement": kept})})]


def _has_star(principal: Any) -> bool:
    if principal == "*":
        return True
    if isinstance(principal, list):
        return "*" in principal
    if isinstance(principal, dict):
        return any(_has_star(v) for v in principal.values())
    return False


def _bucket_policy_with_tls(ctx: dict[str, Any]) -> list[ApiRequest]:
    bucket = ctx["n"]["id"]
    doc = json.loads(ctx["n"].get("policy_document") or '{"Version": "1", "Statement": []}')
    deny = {"Effect": "Deny", "Action": ["oss:*"], "Principal": ["*"],
            "Resource": [f"acs:oss:*:{ctx['account_id']}:{bucket}", f"acs:oss:*:{ctx['account_id']}:{bucket}/*"],
            "Condition": {"Bool": {"acs:SecureTransport": ["false"]}}}
    return [ApiRequest(*OSS, "PutBucketPolicy", ctx["region"],
                       {"bucket": bucket, "policy": json.dumps({"Version": doc.get("Version", "1"),
                                                                "Statement": [*doc.get("Statement", []), deny]})})]


def _rds_whitelist(ctx: dict[str, Any]) -> list[ApiRequest]:
    n = ctx["n"]
    out = []
    for group in json.loads(n.get("whitelist_groups") or "[]"):
        if not any(ip in ("0.0.0.0/0", "0.0.0.0") for ip in group["ips"]):
            continue
        kept = [ip for ip in group["ips"] if ip not in ("0.0.0.0/0", "0.0.0.0")] or ["127.0.0.1"]
        out.append(ApiRequest(*RDS, "ModifySecurityIps", ctx["region"], {
            "DBInstanceId": n["id"], "DBInstanceIPArrayName": group["name"], "SecurityIps": ",".join(kept),
            "ModifyMode": "Cover"}))
    return out


STRONG_PASSWORD_POLICY = {
    "MinimumPasswordLength": 14, "RequireLowercaseCharacters": True, "RequireUppercaseCharacters": True,
    "RequireNumbers": True, "RequireSymbols": True, "PasswordReusePrevention": 5, "MaxLoginAttemps": 5,
    "MaxPasswordAge": 90, "HardExpiry": False,
}


def _user_direct_policies(ctx: dict[str, Any]) -> list[ApiRequest]:
    user = ctx["name"]
    group = f"skypath-{user}"[:64]
    reqs = [ApiRequest(*RAM, "CreateGroup", "global", {"GroupName": group,
                                                        "Comments": f"policies formerly attached to {user} directly"}),
            ApiRequest(*RAM, "AddUserToGroup", "global", {"GroupName": group, "UserName": user})]
    for pid in sorted(ctx["policies"]):
        ptype, _, pname = pid.partition("/")
        reqs.append(ApiRequest(*RAM, "AttachPolicyToGroup", "global", {"PolicyType": ptype, "PolicyName": pname, "GroupName": group}))
        reqs.append(ApiRequest(*RAM, "DetachPolicyFromUser", "global", {"PolicyType": ptype, "PolicyName": pname, "UserName": user}))
    return reqs


def _detach_full_admin(ctx: dict[str, Any]) -> list[ApiRequest]:
    ptype, _, pname = ctx["policy"].partition("/")
    actions = {"RamUser": ("DetachPolicyFromUser", "UserName"), "RamGroup": ("DetachPolicyFromGroup", "GroupName"),
               "RamRole": ("DetachPolicyFromRole", "RoleName")}
    out = []
    for att in sorted(ctx["attached"], key=lambda a: (a["label"], a["name"])):
        action, key = actions[att["label"]]
        out.append(ApiRequest(*RAM, action, "global", {"PolicyType": ptype, "PolicyName": pname, key: att["name"]}))
    return out


def _role_trust(ctx: dict[str, Any]) -> list[ApiRequest]:
    doc = json.loads(ctx["trust_policy"])
    account = ctx["account_id"]
    statements = []
    for st in doc.get("Statement", []):
        principal = st.get("Principal") or {}
        ram = principal.get("RAM") if isinstance(principal, dict) else None
        if st.get("Effect") == "Allow" and ram is not None and not st.get("Condition"):
            values = ram if isinstance(ram, list) else [ram]
            kept = [v for v in values if v != "*" and (v == account or f"::{account}:" in v)]
            if not kept:
                rest = {k: v for k, v in principal.items() if k != "RAM"}
                if not rest:
                    continue
                st = {**st, "Principal": rest}
            else:
                st = {**st, "Principal": {**principal, "RAM": kept}}
        statements.append(st)
    new_doc = {**doc, "Statement": statements or [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                   "Principal": {"RAM": [f"acs:ram::{account}:root"]}}]}
    return [ApiRequest(*RAM, "UpdateRole", "global", {"RoleName": ctx["name"], "NewAssumeRolePolicyDocument": json.dumps(new_doc)})]


def _trail(ctx: dict[str, Any]) -> list[ApiRequest]:
    trail = ctx.get("trail")
    if trail:
        return [ApiRequest(*TRAIL, "UpdateTrail", trail["region"], {"Name": trail["name"], "TrailRegion": "All", "RegionId": trail["region"]}),
                ApiRequest(*TRAIL, "StartLogging", trail["region"], {"Name": trail["name"], "RegionId": trail["region"]})]
    bucket = ctx.get("bucket")
    if not bucket:
        raise RemediationError("no trail and no OSS bucket to deliver a new trail to: create a bucket first")
    return [ApiRequest(*TRAIL, "CreateTrail", bucket["region"], {"Name": "skypath-all-regions", "TrailRegion": "All",
                                                                 "OssBucketName": bucket["name"], "EventRW": "All", "RegionId": bucket["region"]}),
            ApiRequest(*TRAIL, "StartLogging", bucket["region"], {"Name": "skypath-all-regions", "RegionId": bucket["region"]})]


SG_PORTS: dict[str, Callable[[int, int], bool]] = {
    "ACS_ECS_SecurityGroupPublicSSH": _ports(22),
    "ACS_ECS_SecurityGroupPublicRDP": _ports(3389),
    "ACS_ECS_SecurityGroupPublicDatabasePorts": _ports(1433, 3306, 5432, 6379, 9200, 27017),
    "ACS_ECS_SecurityGroupPublicAllPorts": lambda lo, hi: lo <= 1 and hi >= 65535,
}

REMEDIATIONS: dict[str, Remediation] = {
    **{cid: Remediation(SG_CONTEXT, _sg_revoke(covers), "the internet ingress rules that open the port(s) are revoked; "
                        "other rules stay") for cid, covers in SG_PORTS.items()},
    "ACS_ECS_InstanceMetadataTokenRequired": Remediation(
        _node_ctx("EcsInstance"),
        _simple(ECS, "ModifyInstanceMetadataOptions", lambda c: {"RegionId": c["region"], "InstanceId": c["n"]["id"],
                                                                 "HttpTokens": "required", "HttpEndpoint": "enabled"}),
        "instance metadata requires session tokens (hardened mode)"),
    "ACS_OSS_BucketPublicAcl": Remediation(
        _node_ctx("OssBucket"), _simple(OSS, "PutBucketAcl", lambda c: {"bucket": c["n"]["id"], "acl": "private"}),
        "the bucket ACL becomes private", ("anonymous readers of the bucket lose access",)),
    "ACS_OSS_BucketPolicyPublic": Remediation(_node_ctx("OssBucket"), _bucket_policy_without_public,
                                              "anonymous Allow statements without a Condition are removed"),
    "ACS_OSS_BucketSecureTransport": Remediation(_node_ctx("OssBucket"), _bucket_policy_with_tls,
                                                 "requests over plain HTTP are denied"),
    "ACS_OSS_BucketEncryption": Remediation(
        _node_ctx("OssBucket"), _simple(OSS, "PutBucketEncryption", lambda c: {"bucket": c["n"]["id"], "SSEAlgorithm": "AES256"}),
        "new objects are encrypted with AES256 (existing objects are not rewritten)"),
    "ACS_OSS_BucketLogging": Remediation(
        _node_ctx("OssBucket"), _simple(OSS, "PutBucketLogging", lambda c: {"bucket": c["n"]["id"], "TargetBucket": c["n"]["id"],
                                                                            "TargetPrefix": "oss-access-log/"}),
        "access logs are written under oss-access-log/ in the bucket itself (point them at a log bucket if you have one)"),
    "ACS_OSS_BucketVersioning": Remediation(
        _node_ctx("OssBucket"), _simple(OSS, "PutBucketVersioning", lambda c: {"bucket": c["n"]["id"], "Status": "Enabled"}),
        "versioning is enabled (storage of old versions costs extra)"),
    "ACS_RDS_DBInstanceWhitelistPublic": Remediation(_node_ctx("RdsInstance"), _rds_whitelist,
                                                     "0.0.0.0/0 is removed from every whitelist group; other entries stay",
                                                     ("clients outside the remaining whitelist lose access",)),
    "ACS_RDS_DBInstanceTDE": Remediation(
        _node_ctx("RdsInstance"), _simple(RDS, "ModifyDBInstanceTDE", lambda c: {"DBInstanceId": c["n"]["id"], "TDEStatus": "Enabled"}),
        "transparent data encryption is enabled (it cannot be disabled afterwards)"),
    "ACS_RDS_DBInstanceSSL": Remediation(
        _node_ctx("RdsInstance"), _simple(RDS, "ModifyDBInstanceSSL", lambda c: {
            "DBInstanceId": c["n"]["id"], "ConnectionString": c["n"].get("connection_string") or f"{c['n']['id']}.rds.aliyuncs.com",
            "SSLEnabled": 1}),
        "SSL is enabled on the connection string (the instance restarts)"),
    "ACS_RDS_DBInstanceBackupRetention": Remediation(
        _node_ctx("RdsInstance"), _simple(RDS, "ModifyBackupPolicy", lambda c: {"DBInstanceId": c["n"]["id"], "BackupRetentionPeriod": 7}),
        "backups are kept 7 days"),
    "ACS_RDS_DBInstanceSQLAudit": Remediation(
        _node_ctx("RdsInstance"), _simple(RDS, "ModifySQLCollectorPolicy", lambda c: {"DBInstanceId": c["n"]["id"], "SQLCollectorStatus": "Enable"}),
        "SQL audit (the SQL collector) is enabled"),
    "ACS_RDS_DBInstancePublicEndpoint": Remediation(
        _node_ctx("RdsInstance"), _simple(RDS, "ReleaseInstancePublicConnection", lambda c: {
            "DBInstanceId": c["n"]["id"], "CurrentConnectionString": c["n"].get("connection_string") or ""}),
        "the internet endpoint is released", ("clients using the public endpoint lose access",)),
    "ACS_RAM_PasswordPolicy": Remediation(
        "MATCH (n:Account {account_id: $account_id}) RETURN 'global' AS region",
        _simple(RAM, "SetPasswordPolicy", lambda c: dict(STRONG_PASSWORD_POLICY)),
        "the password policy requires 14 characters of all classes, reuse prevention 5, 5 login attempts"),
    "ACS_RAM_UserDirectPolicy": Remediation(
        "MATCH (u:RamUser {account_id: $account_id, id: $asset_id}) OPTIONAL MATCH (u)-[:ATTACHED]->(p:RamPolicy) "
        "RETURN u.name AS name, collect(p.id) AS policies, 'global' AS region",
        _user_direct_policies, "the user's direct policies move to a group of their own that the user joins"),
    "ACS_RAM_PolicyFullAdmin": Remediation(
        "MATCH (p:RamPolicy {account_id: $account_id, id: $asset_id}) OPTIONAL MATCH (x)-[:ATTACHED]->(p) "
        "RETURN p.id AS policy, [a IN collect(x) WHERE a IS NOT NULL | {label: labels(a)[0], name: a.name}] AS attached, "
        "'global' AS region",
        _detach_full_admin, "the full-admin policy is detached from every user, group and role",
        ("principals that relied on it lose their permissions: grant least-privilege policies first",)),
    "ACS_RAM_RoleTrustExternalAccount": Remediation(
        "MATCH (r:RamRole {account_id: $account_id, id: $asset_id}) RETURN r.name AS name, r.trust_policy AS trust_policy, "
        "'global' AS region",
        _role_trust, "principals of other accounts (and *) are removed from the trust policy",
        ("the partner account can no longer assume the role",)),
    "ACS_ACTIONTRAIL_MultiRegionTrail": Remediation(
        "MATCH (a:Account {account_id: $account_id}) "
        "OPTIONAL MATCH (t:Trail {account_id: $account_id}) WITH a, t ORDER BY t.id LIMIT 1 "
        "OPTIONAL MATCH (b:OssBucket {account_id: $account_id}) WHERE coalesce(b.supported, true) "
        "WITH t, b ORDER BY b.id LIMIT 1 "
        "RETURN CASE WHEN t IS NULL THEN null ELSE {name: t.id, region: t.home_region} END AS trail, "
        "CASE WHEN b IS NULL THEN null ELSE {name: b.id, region: b.region} END AS bucket, 'global' AS region",
        _trail, "a trail covers all regions and logs"),
}


def manual_steps(item: CheckItem) -> str:
    return item.remediation or "see the item's description"


def remediable_items() -> list[str]:
    return sorted(REMEDIATIONS)


def plan_for(item_id: str, context: dict[str, Any]) -> list[ApiRequest]:
    rem = REMEDIATIONS.get(item_id)
    if rem is None:
        raise RemediationError(f"{item_id} cannot be remediated automatically: {manual_steps(BY_ID[item_id])}")
    return rem.build(context)


__all__ = ["REMEDIATIONS", "ApiRequest", "Remediation", "RemediationError", "plan_for", "remediable_items", "CATALOG"]
