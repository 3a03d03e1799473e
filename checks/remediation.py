"""Remediation as declarations: the API calls that fix a finding, with parameters from the graph.

Each remediable item declares a context query (what it needs to know about the asset, read with
`$account_id` and `$asset_id` bound) and a pure builder that turns that context into the exact
OpenAPI requests. Builders are generic and parameterised by the item (e.g. every "port X open to
the internet" item shares one builder that reads the ports from the item's own predicate). Each
step of a plan may declare its compensating call (`undo`): when a later step fails, the steps
already executed are undone in reverse order. Every action a remediation may send (steps and
undos) is declared in `Remediation.calls`, so tests can check the emulator and the live transport
implement all of them.

Items that cannot be safely automated (destructive deletes, choices only a human can make: which
ports a service needs, which bucket or project receives audit logs, certificates, key material)
declare `remediation_action=None` and give the exact manual steps in their `remediation` text.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from checks.catalog import BY_ID, CATALOG
from checks.catalog.ecs import tcp_open, udp_open
from checks.model import CheckItem
from loaders.products import api
from loaders.secgroup import kept_when_closing, rule_from_row

ECS, RDS, RAM, OSS, TRAIL, KMS, SLB = (api(code).pair for code in ("Ecs", "Rds", "Ram", "Oss", "Actiontrail", "Kms",
                                                                   "Slb"))
PUBLIC_ACLS = ("public-read", "public-read-write")


@dataclass(frozen=True)
class ApiRequest:
    product: str
    version: str
    action: str
    region: str
    params: dict[str, Any]
    # the call that reverts this one when a later step of the same plan fails (None: not undoable)
    undo: ApiRequest | None = None

    def as_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"product": self.product, "version": self.version, "action": self.action,
                               "region": self.region, "params": self.params}
        if self.undo is not None:
            doc["undo"] = self.undo.as_dict()
        return doc


Builder = Callable[[dict[str, Any]], list[ApiRequest]]


@dataclass(frozen=True)
class Remediation:
    context_query: str
    build: Builder
    effect: str
    # every (product, action) the plan or its undo steps may send
    calls: tuple[tuple[str, str], ...]
    warnings: tuple[str, ...] = field(default_factory=tuple)


class RemediationError(ValueError):
    pass


def _req(api: tuple[str, str], action: str, region: str, params: dict[str, Any],
         undo: ApiRequest | None = None) -> ApiRequest:
    return ApiRequest(api[0], api[1], action, region or "global", params, undo)


def _region(ctx: dict[str, Any]) -> str:
    return str(ctx.get("region") or "global")


NODE_CONTEXT = "MATCH (n:{label} {{account_id: $account_id, id: $asset_id}}) RETURN n {{.*}} AS n, n.region AS region"


def _node_ctx(label: str) -> str:
    return NODE_CONTEXT.format(label=label)


# ---------------------------------------------------------------- security groups

SG_CONTEXT = (
    "MATCH (n:SecurityGroup {account_id: $account_id, id: $asset_id}) "
    "OPTIONAL MATCH (n)-[:HAS_RULE]->(r:SecurityGroupRule) "
    "RETURN n.id AS sg, n.region AS region, [x IN collect(r {.*}) WHERE x.id IS NOT NULL] AS rules"
)
_PORT_PREDICATE = re.compile(r"^any\(p IN \[([0-9, ]+)\] WHERE any\(i IN range\(0, size\(coalesce\(n\.inet_(tcp|udp)_from")
# items whose predicate is "every port of the protocol is open"
ALL_PORTS_ITEMS = {"ACS_ECS_SecurityGroupPublicAllPorts": "tcp", "ACS_ECS_SecurityGroupPublicAllUDP": "udp"}


def sg_ports(item: CheckItem) -> tuple[str, tuple[int, ...] | None] | None:
    """(protocol, ports) an SG exposure item is about, read back from its own predicate (None ports: all of them).
    Only a predicate that renders back identically counts, so a changed declaration cannot be misread."""
    if item.id in ALL_PORTS_ITEMS:
        return ALL_PORTS_ITEMS[item.id], None
    found = _PORT_PREDICATE.match(item.fails)
    if item.asset_type != "SecurityGroup" or not found:
        return None
    ports = tuple(int(p) for p in found.group(1).split(","))
    protocol = found.group(2)
    rendered = tcp_open(*ports) if protocol == "tcp" else udp_open(*ports)
    return (protocol, ports) if rendered == item.fails else None


def _is_internet(cidr: Any) -> bool:
    try:
        return ipaddress.ip_network(str(cidr or "").strip(), strict=False).prefixlen == 0
    except ValueError:
        return False


def _sg_permission(ctx: dict[str, Any], rule: dict[str, Any], protocol: str, port_range: str) -> dict[str, Any]:
    params: dict[str, Any] = {"RegionId": ctx["region"], "SecurityGroupId": ctx["sg"], "IpProtocol": protocol,
                              "PortRange": port_range, "Policy": "accept", "Priority": str(rule.get("priority", 1))}
    if _is_internet(rule.get("source_cidr")):
        params["SourceCidrIp"] = rule["source_cidr"]
    else:
        params["Ipv6SourceCidrIp"] = rule["source_ipv6_cidr"]
    return params


def _sg_close(protocol: str, ports: tuple[int, ...] | None) -> Builder:
    """Revoke exactly the internet Accept rules that open `ports` of `protocol` (None: rules opening all of its
    ports). What such a rule also opened beyond those ports is authorised again first, as narrower rules, so only
    the item's ports close; every other rule stays."""

    def build(ctx: dict[str, Any]) -> list[ApiRequest]:
        out: list[ApiRequest] = []
        for rule in sorted(ctx["rules"], key=lambda r: str(r.get("id", ""))):
            kept = kept_when_closing(rule_from_row(rule), protocol, ports, full_range_only=ports is None)
            if kept is None:
                continue
            keep = [(k.protocol.upper(), f"{k.port_from}/{k.port_to}") for k in kept]
            rule_protocol = str(rule.get("protocol") or "all")
            if rule_protocol == "all":  # ICMP is no port: re-open it too
                keep.append(("ICMP" if _is_internet(rule.get("source_cidr")) else "ICMPv6", "-1/-1"))
            original = _sg_permission(ctx, rule, "ALL" if rule_protocol == "all" else rule_protocol.upper(),
                                      str(rule.get("port_range") or "-1/-1"))
            for proto, port_range in keep:
                narrower = _sg_permission(ctx, rule, proto, port_range)
                out.append(_req(ECS, "AuthorizeSecurityGroup", ctx["region"], {
                    **narrower, "Description": f"kept by skypath from {rule.get('id')}"},
                    undo=_req(ECS, "RevokeSecurityGroup", ctx["region"], narrower)))
            revoke = dict(original)
            if str(rule.get("id", "")).startswith("sgr-"):
                revoke["SecurityGroupRuleId.1"] = rule["id"]
            out.append(_req(ECS, "RevokeSecurityGroup", ctx["region"], revoke,
                            undo=_req(ECS, "AuthorizeSecurityGroup", ctx["region"], original)))
        return out

    return build


def _sg_remediation(protocol: str, ports: tuple[int, ...] | None) -> Remediation:
    what = f"every {protocol.upper()} port" if ports is None else f"{protocol.upper()} {', '.join(map(str, ports))}"
    warnings: tuple[str, ...] = ("services that need the internet on these ports lose it: authorise trusted sources "
                                 "instead",)
    if ports is None:
        warnings += ("the all-ports rule is revoked, not replaced: add rules for the ports the service needs",)
    return Remediation(SG_CONTEXT, _sg_close(protocol, ports),
                       f"the internet ingress rules that open {what} are revoked; what they opened beyond that is "
                       "authorised again as narrower rules (GRE of an ALL rule is not); other rules stay",
                       (("Ecs", "RevokeSecurityGroup"), ("Ecs", "AuthorizeSecurityGroup")), warnings)


# ---------------------------------------------------------------- simple single calls

def _simple(api: tuple[str, str], action: str, params: Callable[[dict[str, Any]], dict[str, Any]]) -> Builder:
    return lambda ctx: [_req(api, action, _region(ctx), params(ctx))]


def _one(api: tuple[str, str], action: str, label: str, params: Callable[[dict[str, Any]], dict[str, Any]],
         effect: str, warnings: tuple[str, ...] = ()) -> Remediation:
    return Remediation(_node_ctx(label), _simple(api, action, params), effect, ((api[0], action),), warnings)


def _when(test: Callable[[dict[str, Any]], bool], build: Builder) -> Builder:
    return lambda ctx: build(ctx) if test(ctx) else []


def _all(*builders: Builder) -> Builder:
    return lambda ctx: [r for b in builders for r in b(ctx)]


# ---------------------------------------------------------------- OSS

def _bucket(ctx: dict[str, Any]) -> str:
    return str(ctx["n"]["id"])


def _acl_private(ctx: dict[str, Any]) -> list[ApiRequest]:
    old = ctx["n"].get("acl") or "private"
    return [_req(OSS, "PutBucketAcl", _region(ctx), {"bucket": _bucket(ctx), "acl": "private"},
                 undo=_req(OSS, "PutBucketAcl", _region(ctx), {"bucket": _bucket(ctx), "acl": old}))]


def _principal_values(principal: Any) -> set[str]:
    if isinstance(principal, str):
        return {principal}
    if isinstance(principal, dict):
        return {v for x in principal.values() for v in _principal_values(x)}
    if isinstance(principal, list):
        return {v for x in principal for v in _principal_values(x)}
    return set()


WRITE_ACTIONS = ("*", "oss:*", "oss:putobject", "oss:put*")


def _anonymous(st: dict[str, Any], writes_only: bool) -> bool:
    """An Allow for Principal * without Condition (the items' definition); `writes_only`: that grants writes."""
    if st.get("Effect") != "Allow" or "*" not in _principal_values(st.get("Principal")) or st.get("Condition"):
        return False
    actions = st.get("Action") or []
    actions = [actions] if isinstance(actions, str) else actions
    return not writes_only or any(str(a).lower() in WRITE_ACTIONS for a in actions)


def _policy_restore(ctx: dict[str, Any]) -> ApiRequest:
    old = ctx["n"].get("policy_document")
    if old:
        return _req(OSS, "PutBucketPolicy", _region(ctx), {"bucket": _bucket(ctx), "policy": old})
    return _req(OSS, "DeleteBucketPolicy", _region(ctx), {"bucket": _bucket(ctx)})


def _policy_without_anonymous(writes_only: bool) -> Builder:
    def build(ctx: dict[str, Any]) -> list[ApiRequest]:
        doc = json.loads(ctx["n"].get("policy_document") or '{"Version": "1", "Statement": []}')
        kept = [s for s in doc.get("Statement", []) if not _anonymous(s, writes_only)]
        if not kept:
            return [_req(OSS, "DeleteBucketPolicy", _region(ctx), {"bucket": _bucket(ctx)}, undo=_policy_restore(ctx))]
        return [_req(OSS, "PutBucketPolicy", _region(ctx), {"bucket": _bucket(ctx), "policy": json.dumps({
            **doc, "Statement": kept})}, undo=_policy_restore(ctx))]

    return build


def _policy_with_tls(ctx: dict[str, Any]) -> list[ApiRequest]:
    bucket = _bucket(ctx)
    doc = json.loads(ctx["n"].get("policy_document") or '{"Version": "1", "Statement": []}')
    deny = {"Effect": "Deny", "Action": ["oss:*"], "Principal": ["*"],
            "Resource": [f"acs:oss:*:{ctx['account_id']}:{bucket}", f"acs:oss:*:{ctx['account_id']}:{bucket}/*"],
            "Condition": {"Bool": {"acs:SecureTransport": ["false"]}}}
    return [_req(OSS, "PutBucketPolicy", _region(ctx), {"bucket": bucket, "policy": json.dumps(
        {"Version": doc.get("Version", "1"), "Statement": [*doc.get("Statement", []), deny]})},
        undo=_policy_restore(ctx))]


def _encryption(algorithm: str) -> Builder:
    return _simple(OSS, "PutBucketEncryption", lambda c: {"bucket": _bucket(c), "SSEAlgorithm": algorithm})


BUCKET_LOG_CONTEXT = (
    "MATCH (n:OssBucket {account_id: $account_id, id: $asset_id}) "
    "OPTIONAL MATCH (o:OssBucket {account_id: $account_id, region: n.region}) WHERE o.id <> n.id "
    "AND coalesce(o.acl, 'private') = 'private' AND NOT coalesce(o.policy_public, false) "
    "WITH n, o, COUNT { (:OssBucket)-[:LOGS_TO]->(o) } AS used ORDER BY used DESC, "
    "CASE WHEN toLower(o.id) CONTAINS 'log' THEN 0 ELSE 1 END, o.id "
    "RETURN n {.*} AS n, n.region AS region, [x IN collect(o.id) WHERE x IS NOT NULL] AS log_buckets"
)


def _logging(to_itself_allowed: bool) -> Builder:
    """Access logs to a private bucket of the same region (OSS requires it), preferring one that already receives
    logs or is named like a log bucket; to the bucket itself only where the item allows it."""

    def build(ctx: dict[str, Any]) -> list[ApiRequest]:
        targets = list(ctx.get("log_buckets") or [])
        if not targets and not to_itself_allowed:
            raise RemediationError(f"no other private bucket in {_region(ctx)} to receive the access logs of "
                                   f"{_bucket(ctx)}: create one, then PutBucketLogging TargetBucket=<it>")
        target = targets[0] if targets else _bucket(ctx)
        return [_req(OSS, "PutBucketLogging", _region(ctx), {"bucket": _bucket(ctx), "TargetBucket": target,
                                                              "TargetPrefix": f"oss-access-log/{_bucket(ctx)}/"})]

    return build


def _bucket_fix(build: Builder, effect: str, calls: tuple[str, ...], warnings: tuple[str, ...] = (),
                context: str = _node_ctx("OssBucket")) -> Remediation:
    return Remediation(context, build, effect, tuple(("Oss", a) for a in calls), warnings)


ACL = _bucket_fix(_acl_private, "the bucket ACL becomes private", ("PutBucketAcl",),
                  ("anonymous readers of the bucket lose access",))
POLICY_CALLS = ("PutBucketPolicy", "DeleteBucketPolicy")
NOT_PUBLIC = _bucket_fix(_all(_when(lambda c: c["n"].get("acl") in PUBLIC_ACLS, _acl_private),
                              _when(lambda c: bool(c["n"].get("policy_public")), _policy_without_anonymous(False))),
                         "the ACL becomes private and anonymous Allow statements without a Condition are removed",
                         ("PutBucketAcl", *POLICY_CALLS), ("anonymous readers of the bucket lose access",))
LOGGING = _bucket_fix(_logging(True), "access logs go to a private log bucket of the region (the bucket itself if "
                      "there is none: point them at a dedicated log bucket later)", ("PutBucketLogging",),
                      context=BUCKET_LOG_CONTEXT)
VERSIONING = _bucket_fix(_simple(OSS, "PutBucketVersioning", lambda c: {"bucket": _bucket(c), "Status": "Enabled"}),
                         "versioning is enabled (storage of old versions costs extra)", ("PutBucketVersioning",))


def _encrypt(algorithm: str) -> Remediation:
    return _bucket_fix(_encryption(algorithm), f"new objects are encrypted with {algorithm} (existing objects are "
                       "not rewritten)", ("PutBucketEncryption",))


# ---------------------------------------------------------------- RDS

def _whitelist(drop: Callable[[str], bool], what: str) -> Remediation:
    def build(ctx: dict[str, Any]) -> list[ApiRequest]:
        n = ctx["n"]
        out = []
        for group in json.loads(n.get("whitelist_groups") or "[]"):
            if not any(drop(ip) for ip in group["ips"]):
                continue
            kept = [ip for ip in group["ips"] if not drop(ip)] or ["127.0.0.1"]
            base = {"DBInstanceId": n["id"], "DBInstanceIPArrayName": group["name"], "ModifyMode": "Cover"}
            out.append(_req(RDS, "ModifySecurityIps", _region(ctx), {**base, "SecurityIps": ",".join(kept)},
                            undo=_req(RDS, "ModifySecurityIps", _region(ctx),
                                      {**base, "SecurityIps": ",".join(group["ips"])})))
        return out

    return Remediation(_node_ctx("RdsInstance"), build, f"{what} is removed from every whitelist group (a group left "
                       "empty keeps 127.0.0.1); other entries stay", (("Rds", "ModifySecurityIps"),),
                       ("clients outside the remaining whitelist lose access",))


def _open_to_all(ip: str) -> bool:
    return ip in ("0.0.0.0/0", "0.0.0.0")


def _wider_than_8(ip: str) -> bool:
    """The WhitelistWide item's entries: IPv4 CIDRs shorter than /8, 0.0.0.0/0 aside (the core item's)."""
    if "/" not in ip or ":" in ip or ip == "0.0.0.0/0":
        return False
    try:
        return int(ip.split("/")[1]) < 8
    except ValueError:
        return False


def _rds(action: str, params: Callable[[dict[str, Any]], dict[str, Any]], effect: str,
         warnings: tuple[str, ...] = ()) -> Remediation:
    return _one(RDS, action, "RdsInstance", lambda c: {"DBInstanceId": c["n"]["id"], **params(c)}, effect, warnings)


SSL = _rds("ModifyDBInstanceSSL", lambda c: {
    "ConnectionString": c["n"].get("connection_string") or f"{c['n']['id']}.rds.aliyuncs.com", "SSLEnabled": 1},
    "SSL is enabled on the connection string (the instance restarts)", ("clients must connect with SSL afterwards",))


# retention only counts with auditing on: an instance with audit off gets it enabled first
AUDIT_RETENTION = Remediation(
    _node_ctx("RdsInstance"),
    _all(_when(lambda c: not c["n"].get("sql_collector_enabled"), _simple(RDS, "ModifySQLCollectorPolicy", lambda c: {
        "DBInstanceId": c["n"]["id"], "SQLCollectorStatus": "Enable"})),
         _simple(RDS, "ModifySQLCollectorRetention", lambda c: {"DBInstanceId": c["n"]["id"], "ConfigValue": max(
             180, int(c["n"].get("sql_audit_retention_days") or 0))})),
    "SQL audit is on and its logs are kept 180 days (or the longer period already set)",
    (("Rds", "ModifySQLCollectorPolicy"), ("Rds", "ModifySQLCollectorRetention")))


def _backup_retention(days: int) -> Remediation:
    return _rds("ModifyBackupPolicy", lambda c: {"BackupRetentionPeriod": max(days, int(c["n"].get(
        "backup_retention_days") or 0))}, f"backups are kept {days} days (storage beyond the free quota costs extra)")


# ---------------------------------------------------------------- RAM

def _password_policy(ctx: dict[str, Any]) -> list[ApiRequest]:
    """The current policy, strengthened where it is weaker than every password item asks (stricter values stay)."""
    n = ctx["n"]

    def at_least(key: str, floor: int) -> int:
        return max(floor, int(n.get(key) or 0))

    def at_most(key: str, ceiling: int) -> int:
        value = int(n.get(key) or 0)
        return value if 0 < value <= ceiling else ceiling

    return [_req(RAM, "SetPasswordPolicy", "global", {
        "MinimumPasswordLength": at_least("pw_min_length", 14), "RequireLowercaseCharacters": True,
        "RequireUppercaseCharacters": True, "RequireNumbers": True, "RequireSymbols": True,
        "PasswordReusePrevention": at_least("pw_reuse_prevention", 5),
        "MaxLoginAttemps": at_most("pw_max_login_attempts", 5), "MaxPasswordAge": at_most("pw_max_age", 90),
        "HardExpiry": bool(n.get("pw_hard_expiry") or False)})]


PASSWORD = Remediation(
    "MATCH (n:Account {account_id: $account_id}) RETURN n {.*} AS n, 'global' AS region", _password_policy,
    "the password policy requires 14 characters of all classes, reuse prevention 5, at most 5 login attempts and "
    "90 days of age (stricter current values stay)", (("Ram", "SetPasswordPolicy"),),
    ("users are asked for a compliant password at their next password change",))


def _user_direct_policies(ctx: dict[str, Any]) -> list[ApiRequest]:
    user = ctx["name"]
    group = f"skypath-{user}"[:64]
    reqs = [_req(RAM, "CreateGroup", "global", {"GroupName": group, "Comments": f"policies formerly attached to {user}"},
                 undo=_req(RAM, "DeleteGroup", "global", {"GroupName": group})),
            _req(RAM, "AddUserToGroup", "global", {"GroupName": group, "UserName": user},
                 undo=_req(RAM, "RemoveUserFromGroup", "global", {"GroupName": group, "UserName": user}))]
    for pid in sorted(ctx["policies"]):
        ptype, _, pname = pid.partition("/")
        on_group = {"PolicyType": ptype, "PolicyName": pname, "GroupName": group}
        on_user = {"PolicyType": ptype, "PolicyName": pname, "UserName": user}
        reqs.append(_req(RAM, "AttachPolicyToGroup", "global", on_group,
                         undo=_req(RAM, "DetachPolicyFromGroup", "global", on_group)))
        reqs.append(_req(RAM, "DetachPolicyFromUser", "global", on_user,
                         undo=_req(RAM, "AttachPolicyToUser", "global", on_user)))
    return reqs


PRINCIPAL_KINDS = {"RamUser": ("User", "UserName"), "RamGroup": ("Group", "GroupName"), "RamRole": ("Role", "RoleName")}


def _detach_everywhere(ctx: dict[str, Any]) -> list[ApiRequest]:
    ptype, _, pname = ctx["policy"].partition("/")
    out = []
    for att in sorted(ctx["attached"], key=lambda a: (a["label"], a["name"])):
        kind, key = PRINCIPAL_KINDS[att["label"]]
        params = {"PolicyType": ptype, "PolicyName": pname, key: att["name"]}
        out.append(_req(RAM, f"DetachPolicyFrom{kind}", "global", params,
                        undo=_req(RAM, f"AttachPolicyTo{kind}", "global", params)))
    return out


def _account_of(value: str) -> str:
    """'1234' or 'acs:ram::1234:root' / 'acs:ram::1234:user/x' → '1234'."""
    if value.isdigit():
        return value
    parts = value.split(":")
    return parts[3] if len(parts) >= 4 and parts[0] == "acs" else ""


def _role_trust(drop: Callable[[str, str], bool]) -> Builder:
    """The trust policy without the unconditioned RAM principals `drop(value, account)` names."""

    def build(ctx: dict[str, Any]) -> list[ApiRequest]:
        doc = json.loads(ctx["trust_policy"])
        account = ctx["account_id"]
        statements = []
        for st in doc.get("Statement", []):
            principal = st.get("Principal") or {}
            ram = principal.get("RAM") if isinstance(principal, dict) else principal
            if st.get("Effect") == "Allow" and ram is not None and not st.get("Condition"):
                values = ram if isinstance(ram, list) else [ram]
                kept = [v for v in values if not drop(str(v), account)]
                rest = {k: v for k, v in principal.items() if k != "RAM"} if isinstance(principal, dict) else {}
                if kept:
                    st = {**st, "Principal": {**rest, "RAM": kept}}
                elif rest:
                    st = {**st, "Principal": rest}
                else:
                    continue
            statements.append(st)
        new_doc = {**doc, "Statement": statements or [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                       "Principal": {"RAM": [f"acs:ram::{account}:root"]}}]}
        return [_req(RAM, "UpdateRole", "global", {"RoleName": ctx["name"],
                                                   "NewAssumeRolePolicyDocument": json.dumps(new_doc)})]

    return build


def _external(value: str, account: str) -> bool:
    return value == "*" or _account_of(value) != account


def _anyone(value: str, account: str) -> bool:
    return value == "*"


ROLE_CONTEXT = ("MATCH (r:RamRole {account_id: $account_id, id: $asset_id}) RETURN r.name AS name, "
                "r.trust_policy AS trust_policy, 'global' AS region")


def _trust(drop: Callable[[str, str], bool], who: str) -> Remediation:
    return Remediation(ROLE_CONTEXT, _role_trust(drop), f"{who} are removed from the trust policy's unconditioned "
                       "statements (the account's own root stays when nothing else would)", (("Ram", "UpdateRole"),),
                       ("those principals can no longer assume the role: add an sts:ExternalId Condition for partners",))


# ---------------------------------------------------------------- ActionTrail

def _trail_setting(key: str, value: str) -> Remediation:
    def build(ctx: dict[str, Any]) -> list[ApiRequest]:
        n = ctx["n"]
        return [_req(TRAIL, "UpdateTrail", n["home_region"], {"Name": n["id"], key: value, "RegionId": n["home_region"]})]

    return Remediation(_node_ctx("Trail"), build, f"the trail's {key} becomes {value}", (("Actiontrail", "UpdateTrail"),))


def _start_logging(ctx: dict[str, Any]) -> list[ApiRequest]:
    n = ctx["n"]
    return [_req(TRAIL, "StartLogging", n["home_region"], {"Name": n["id"], "RegionId": n["home_region"]})]


def _multi_region_trail(ctx: dict[str, Any]) -> list[ApiRequest]:
    trail = ctx.get("trail")
    if trail:
        name, region = trail["name"], trail["region"]
        out = []
        if str(trail.get("trail_region") or "").lower() != "all":
            out.append(_req(TRAIL, "UpdateTrail", region, {"Name": name, "TrailRegion": "All", "RegionId": region},
                            undo=_req(TRAIL, "UpdateTrail", region, {"Name": name, "RegionId": region,
                                                                     "TrailRegion": trail.get("trail_region") or ""})))
        if str(trail.get("status") or "").lower() != "enable":
            out.append(_req(TRAIL, "StartLogging", region, {"Name": name, "RegionId": region},
                            undo=_req(TRAIL, "StopLogging", region, {"Name": name, "RegionId": region})))
        return out
    bucket = ctx.get("bucket")
    if not bucket:
        raise RemediationError("no trail and no OSS bucket to deliver a new trail to: create a private bucket first")
    name, region = "skypath-all-regions", bucket["region"]
    return [_req(TRAIL, "CreateTrail", region, {"Name": name, "TrailRegion": "All", "OssBucketName": bucket["name"],
                                                "EventRW": "All", "RegionId": region},
                 undo=_req(TRAIL, "DeleteTrail", region, {"Name": name, "RegionId": region})),
            _req(TRAIL, "StartLogging", region, {"Name": name, "RegionId": region},
                 undo=_req(TRAIL, "StopLogging", region, {"Name": name, "RegionId": region}))]


MULTI_REGION_TRAIL_CONTEXT = (
    "MATCH (a:Account {account_id: $account_id}) "
    "OPTIONAL MATCH (t:Trail {account_id: $account_id}) WITH a, t ORDER BY t.id LIMIT 1 "
    "OPTIONAL MATCH (b:OssBucket {account_id: $account_id}) WHERE coalesce(b.supported, true) "
    "AND coalesce(b.acl, 'private') = 'private' AND NOT coalesce(b.policy_public, false) "
    "WITH t, b ORDER BY CASE WHEN toLower(b.id) CONTAINS 'log' THEN 0 ELSE 1 END, b.id LIMIT 1 "
    "RETURN CASE WHEN t IS NULL THEN null ELSE {name: t.id, region: t.home_region, trail_region: t.trail_region, "
    "status: t.status} END AS trail, "
    "CASE WHEN b IS NULL THEN null ELSE {name: b.id, region: b.region} END AS bucket, 'global' AS region"
)

# ---------------------------------------------------------------- KMS, SLB


def _kms(action: str, params: Callable[[dict[str, Any]], dict[str, Any]], effect: str) -> Remediation:
    return _one(KMS, action, "KmsKey", params, effect)


ROTATION = _kms("UpdateRotationPolicy", lambda c: {"KeyId": c["n"]["id"], "EnableAutomaticRotation": True,
                                                   "RotationInterval": "31536000s"},
                "the key rotates automatically every 365 days (old versions still decrypt)")


# ---------------------------------------------------------------- the table

REMEDIATIONS: dict[str, Remediation] = {
    **{item.id: _sg_remediation(*ports) for item in CATALOG if (ports := sg_ports(item)) is not None},
    **{cid: _one(ECS, "ModifyInstanceMetadataOptions", "EcsInstance", lambda c: {
        "RegionId": c["region"], "InstanceId": c["n"]["id"], "HttpTokens": "required", "HttpEndpoint": "enabled"},
        "instance metadata requires session tokens (hardened mode)",
        ("software on the instance reading metadata without a token (old SDKs, cloud-init < 23) stops working",))
       for cid in ("ACS_ECS_InstanceMetadataTokenRequired", "ACS_ECS_PublicInstanceMetadataTokens")},
    **{cid: ACL for cid in ("ACS_OSS_BucketPublicAcl", "ACS_OSS_BucketPublicReadWrite")},
    "ACS_OSS_TrailBucketNotPublic": NOT_PUBLIC,
    "ACS_OSS_BucketPolicyPublic": _bucket_fix(_policy_without_anonymous(False), "anonymous Allow statements without a "
                                              "Condition are removed; other statements stay", POLICY_CALLS,
                                              ("anonymous readers of the bucket lose access",)),
    "ACS_OSS_BucketPolicyPublicWrite": _bucket_fix(_policy_without_anonymous(True), "anonymous Allow statements without "
                                                   "a Condition that grant writes are removed; other statements stay",
                                                   POLICY_CALLS),
    "ACS_OSS_BucketSecureTransport": _bucket_fix(_policy_with_tls, "requests over plain HTTP are denied", POLICY_CALLS,
                                                 ("clients using http:// endpoints get AccessDenied",)),
    **{cid: _encrypt("AES256") for cid in ("ACS_OSS_BucketEncryption", "ACS_OSS_PublicBucketUnencrypted",
                                           "ACS_OSS_TrailBucketEncryption")},
    "ACS_OSS_BucketEncryptionKMS": _encrypt("KMS"),
    **{cid: LOGGING for cid in ("ACS_OSS_BucketLogging", "ACS_OSS_PublicBucketLogging", "ACS_OSS_TrailBucketLogging")},
    "ACS_OSS_BucketLoggingToItself": _bucket_fix(_logging(False), "access logs go to another private bucket of the "
                                                 "region", ("PutBucketLogging",), context=BUCKET_LOG_CONTEXT),
    **{cid: VERSIONING for cid in ("ACS_OSS_BucketVersioning", "ACS_OSS_TrailBucketVersioning")},
    **{cid: _whitelist(_open_to_all, "0.0.0.0/0") for cid in ("ACS_RDS_DBInstanceWhitelistPublic",
                                                              "ACS_RDS_DBInstancePublicAndOpen")},
    "ACS_RDS_DBInstanceWhitelistWide": _whitelist(_wider_than_8, "every IPv4 entry wider than /8"),
    "ACS_RDS_DBInstanceTDE": _rds("ModifyDBInstanceTDE", lambda c: {"TDEStatus": "Enabled"},
                                  "transparent data encryption is enabled", ("TDE cannot be disabled afterwards",)),
    **{cid: SSL for cid in ("ACS_RDS_DBInstanceSSL", "ACS_RDS_DBInstancePublicWithoutSSL")},
    "ACS_RDS_DBInstanceBackupRetention": _backup_retention(7),
    "ACS_RDS_DBInstanceLongBackupRetention": _backup_retention(30),
    "ACS_RDS_DBInstanceLogBackup": _rds("ModifyBackupPolicy", lambda c: {"BackupLog": "Enable"},
                                        "log backups are enabled (point-in-time recovery)"),
    "ACS_RDS_DBInstanceSQLAudit": _rds("ModifySQLCollectorPolicy", lambda c: {"SQLCollectorStatus": "Enable"},
                                       "SQL audit (the SQL collector) is enabled"),
    "ACS_RDS_DBInstanceAuditRetention": AUDIT_RETENTION,
    "ACS_RDS_DBInstancePublicEndpoint": _rds("ReleaseInstancePublicConnection", lambda c: {
        "CurrentConnectionString": c["n"].get("connection_string") or ""}, "the internet endpoint is released",
        ("clients using the public endpoint lose access; a new one gets another address",)),
    **{item.id: PASSWORD for item in CATALOG if item.id.startswith("ACS_RAM_Password")},
    "ACS_RAM_UserDirectPolicy": Remediation(
        "MATCH (u:RamUser {account_id: $account_id, id: $asset_id}) OPTIONAL MATCH (u)-[:ATTACHED]->(p:RamPolicy) "
        "RETURN u.name AS name, collect(p.id) AS policies, 'global' AS region",
        _user_direct_policies, "the user's direct policies move to a group of their own that the user joins",
        tuple(("Ram", a) for a in ("CreateGroup", "DeleteGroup", "AddUserToGroup", "RemoveUserFromGroup",
                                   "AttachPolicyToGroup", "DetachPolicyFromGroup", "DetachPolicyFromUser",
                                   "AttachPolicyToUser"))),
    "ACS_RAM_PolicyFullAdmin": Remediation(
        "MATCH (p:RamPolicy {account_id: $account_id, id: $asset_id}) OPTIONAL MATCH (x)-[:ATTACHED]->(p) "
        "RETURN p.id AS policy, [a IN collect(x) WHERE a IS NOT NULL | {label: labels(a)[0], name: a.name}] AS attached, "
        "'global' AS region",
        _detach_everywhere, "the full-admin policy is detached from every user, group and role",
        tuple(("Ram", f"{verb}{kind}") for kind, _ in PRINCIPAL_KINDS.values()
              for verb in ("DetachPolicyFrom", "AttachPolicyTo")),
        ("principals that relied on it lose their permissions: grant least-privilege policies first",)),
    **{cid: _trust(_external, "principals of other accounts (and *)")
       for cid in ("ACS_RAM_RoleTrustExternalAccount", "ACS_RAM_ExternalAdminRole")},
    "ACS_RAM_RoleTrustAnyone": _trust(_anyone, "the * principal"),
    "ACS_ACTIONTRAIL_MultiRegionTrail": Remediation(
        MULTI_REGION_TRAIL_CONTEXT, _multi_region_trail, "a trail covers all regions and logs",
        tuple(("Actiontrail", a) for a in ("UpdateTrail", "StartLogging", "StopLogging", "CreateTrail", "DeleteTrail"))),
    "ACS_ACTIONTRAIL_TrailLogging": Remediation(_node_ctx("Trail"), _start_logging, "the trail logs",
                                                (("Actiontrail", "StartLogging"),)),
    "ACS_ACTIONTRAIL_TrailAllEvents": _trail_setting("EventRW", "All"),
    "ACS_ACTIONTRAIL_TrailAllRegions": _trail_setting("TrailRegion", "All"),
    **{cid: ROTATION for cid in ("ACS_KMS_KeyRotationEnabled", "ACS_KMS_KeyRotationInterval")},
    "ACS_KMS_KeyDeletionProtection": _kms("SetDeletionProtection", lambda c: {
        "ProtectedResourceArn": c["n"].get("arn") or "", "EnableDeletionProtection": True,
        "DeletionProtectionDescription": "skypath"}, "the key cannot be scheduled for deletion until protection is off"),
    "ACS_KMS_KeyPendingDeletion": _kms("CancelKeyDeletion", lambda c: {"KeyId": c["n"]["id"]},
                                       "the scheduled deletion is cancelled: the key is Enabled again"),
    "ACS_SLB_DeleteProtection": _one(SLB, "SetLoadBalancerDeleteProtection", "LoadBalancer", lambda c: {
        "RegionId": c["region"], "LoadBalancerId": c["n"]["id"], "DeleteProtection": "on"},
        "the load balancer cannot be deleted until protection is off"),
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


__all__ = ["REMEDIATIONS", "ApiRequest", "Remediation", "RemediationError", "plan_for", "remediable_items", "CATALOG",
           "sg_ports"]
