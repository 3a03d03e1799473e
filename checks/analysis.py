"""Derived facts and edges, computed once per ingest from the in-memory batch (pure Python).

Python does what Cypher is bad at — parsing RAM policy documents, wildcards, Deny — and writes
the answers into the same transaction as the assets: policy facts on nodes (full admin, public
bucket policy, external trust) and the derived edges CAN_REACH, CAN_ASSUME, CAN_ACCESS and
CAN_ESCALATE that checks and attack paths query.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from checks.escalation import TECHNIQUES
from checks.policy_engine import (
    CompiledPolicySet,
    Decision,
    Policy,
    PolicyParseError,
    Principal,
    bucket_policy_evaluation,
    is_full_admin,
    parse_policy,
    trust_allows,
)
from graph_schema.store import GraphBatch
from loaders.secgroup import format_ranges, merge_ranges

DERIVED = "derived"
# what an attacker controls when walking a path: TLS on, no MFA; anything else stays undecided
ATTACKER_CONTEXT: dict[str, object] = {"acs:SecureTransport": "true", "acs:MFAPresent": "false"}
READ_ACTION = "oss:GetObject"
WRITE_ACTION = "oss:PutObject"
RDS_ADMIN_ACTIONS = ("rds:ModifySecurityIps", "rds:ResetAccountPassword")


class AnalysisError(ValueError):
    pass


def _policy(document: str | None, name: str) -> Policy | None:
    if not document:
        return None
    try:
        return parse_policy(document, name=name)
    except PolicyParseError as exc:
        raise AnalysisError(f"RAM policy {name}: {exc}") from exc


# probes that describe what a policy grants on its own (for the policy hygiene items)
POLICY_PROBES = {
    "grants_ram_write": ("ram:AttachPolicyToUser", "acs:ram:*:*:user/*"),
    "assume_any_role": ("sts:AssumeRole", "acs:ram:*:*:role/any-role"),
    "grants_oss_all": ("oss:DeleteBucket", "acs:oss:*:*:any-bucket"),
}


def annotate_policies(batch: GraphBatch) -> dict[str, Policy]:
    policies: dict[str, Policy] = {}
    for pid, row in batch.nodes.get("RamPolicy", {}).items():
        pol = _policy(row.get("document"), pid)
        if pol is not None:
            policies[pid] = pol
            row["full_admin"] = is_full_admin(pol)
            probe = CompiledPolicySet([pol])
            for prop, (action, resource) in POLICY_PROBES.items():
                row[prop] = probe.evaluate(action, resource).decision == Decision.ALLOW
    return policies


def exposure(batch: GraphBatch) -> None:
    """Internet -[:CAN_REACH {ports}]-> instance: public address and an open TCP port (union of groups)."""
    groups = batch.nodes.get("SecurityGroup", {})
    member: dict[str, list[str]] = defaultdict(list)
    for (src_label, src_id, rel_type, _dl, dst_id) in batch.rels:
        if rel_type == "MEMBER_OF" and src_label == "EcsInstance":
            member[src_id].append(dst_id)
    for iid, inst in batch.nodes.get("EcsInstance", {}).items():
        inst["internet_reachable"] = False
        if not inst.get("is_public") or not inst.get("supported", True):
            continue
        ranges: list[tuple[int, int]] = []
        via: list[str] = []
        for sg_id in sorted(member.get(iid, [])):
            sg = groups.get(sg_id)
            if not sg or not sg.get("inet_tcp_from"):
                continue
            ranges.extend(zip(sg["inet_tcp_from"], sg["inet_tcp_to"], strict=True))
            via.append(sg_id)
        merged = merge_ranges(ranges)
        if merged:
            inst["internet_reachable"] = True
            inst["internet_ports"] = format_ranges(merged)
            batch.rel("CAN_REACH", ("Internet", "0.0.0.0/0"), ("EcsInstance", iid), DERIVED,
                      ports=format_ranges(merged), via=via)


def annotate_buckets(batch: GraphBatch, account_id: str) -> dict[str, Policy]:
    """Bucket-policy facts for the checks: public Allow without Condition, secure-transport Deny."""
    out: dict[str, Policy] = {}
    for name, row in batch.nodes.get("OssBucket", {}).items():
        pol = _policy(row.get("policy_document"), f"bucket-policy/{name}")
        row["policy_public"] = False
        row["policy_public_write"] = False
        row["policy_secure_transport"] = False
        if pol is None:
            continue
        out[name] = pol
        for st in pol.statements:
            principals = _principal_values(st.principals)
            if st.effect == "Allow" and "*" in principals and not st.condition:
                row["policy_public"] = True
                if any(p.lower() in ("*", "oss:*", "oss:putobject", "oss:put*") for p in st.actions):
                    row["policy_public_write"] = True
            if st.effect == "Deny" and _denies_insecure_transport(st.condition):
                row["policy_secure_transport"] = True
    return out


def _principal_values(principals: Any) -> set[str]:
    values: set[str] = set()
    if principals is None:
        return values
    if isinstance(principals, str):
        return {principals}
    if isinstance(principals, dict):
        for v in principals.values():
            values |= _principal_values(v)
        return values
    if isinstance(principals, list | tuple | set | frozenset):
        for v in principals:
            values |= _principal_values(v)
        return values
    for attr in ("values", "ram", "service", "federated"):
        v = getattr(principals, attr, None)
        if v is not None:
            values |= _principal_values(v)
    if getattr(principals, "any", False) or getattr(principals, "wildcard", False):
        values.add("*")
    return values


def _denies_insecure_transport(condition: Any) -> bool:
    if not isinstance(condition, dict):
        return False
    for op, body in condition.items():
        if not isinstance(body, dict):
            continue
        for key, values in body.items():
            vals = values if isinstance(values, list) else [values]
            if key.lower() == "acs:securetransport" and op.lower() in ("bool", "stringequals", "stringequalsignorecase"):
                if any(str(v).lower() == "false" for v in vals):
                    return True
    return False


@dataclass
class _PrincipalInfo:
    label: str
    node_id: str
    principal: Principal
    policy_ids: tuple[str, ...]


def _principals(batch: GraphBatch, account_id: str) -> list[_PrincipalInfo]:
    attached: dict[tuple[str, str], list[str]] = defaultdict(list)
    groups_of: dict[str, list[str]] = defaultdict(list)
    for (src_label, src_id, rel_type, _dl, dst_id) in batch.rels:
        if rel_type == "ATTACHED":
            attached[(src_label, src_id)].append(dst_id)
        elif rel_type == "IN_GROUP":
            groups_of[src_id].append(dst_id)
    out = []
    for uid, row in batch.nodes.get("RamUser", {}).items():
        pols = list(attached[("RamUser", uid)])
        for gid in sorted(set(groups_of[uid])):
            pols.extend(attached[("RamGroup", gid)])
        out.append(_PrincipalInfo("RamUser", uid, Principal(kind="user", account_id=account_id, name=str(row.get("name")),
                                                            arn=uid), tuple(sorted(set(pols)))))
    for rid, row in batch.nodes.get("RamRole", {}).items():
        out.append(_PrincipalInfo("RamRole", rid, Principal(kind="role", account_id=account_id, name=str(row.get("name")),
                                                            arn=rid), tuple(sorted(set(attached[("RamRole", rid)])))))
    return out


def _evidence(evaluation: Any) -> str:
    matched = getattr(evaluation, "matched", ()) or ()
    names = sorted({m[0] for m in matched if m and m[0]})
    return ", ".join(names)


def _allowed(decision: Decision) -> bool:
    return decision in (Decision.ALLOW, Decision.CONDITIONAL)


def derive_permissions(batch: GraphBatch, account_id: str, policies: dict[str, Policy],
                       bucket_policies: dict[str, Policy]) -> None:
    principals = _principals(batch, account_id)
    compiled: dict[tuple[str, ...], CompiledPolicySet] = {}

    def policy_set(ids: tuple[str, ...]) -> CompiledPolicySet:
        if ids not in compiled:
            compiled[ids] = CompiledPolicySet([policies[i] for i in ids if i in policies])
        return compiled[ids]

    buckets = {n: r for n, r in batch.nodes.get("OssBucket", {}).items() if r.get("supported", True)}
    rds_instances = {i: r for i, r in batch.nodes.get("RdsInstance", {}).items() if r.get("supported", True)}
    roles = batch.nodes.get("RamRole", {})
    trust_policies = {rid: _policy(r.get("trust_policy"), f"trust/{r.get('name')}") for rid, r in roles.items()}

    for rid, row in roles.items():
        trust = trust_policies[rid]
        row["trust_external"] = bool(trust is not None and _trusts_external(trust, account_id))
        if trust is not None:
            _trust_edges(batch, rid, trust, account_id)

    for info in principals:
        ps = policy_set(info.policy_ids)
        # data access
        for name, brow in buckets.items():
            obj = f"acs:oss:{brow.get('region') or '*'}:{account_id}:{name}/*"
            access: dict[str, bool] = {}
            conditional = False
            via: list[str] = []
            for mode, action in (("read", READ_ACTION), ("write", WRITE_ACTION)):
                ev = ps.evaluate(action, obj, ATTACKER_CONTEXT)
                if not _allowed(ev.decision):
                    continue
                bpol = bucket_policies.get(name)
                if bpol is not None:
                    bev = bucket_policy_evaluation(bpol, name, info.principal, action, obj, ATTACKER_CONTEXT)
                    if bev.decision == Decision.DENY:
                        continue
                    if bev.decision == Decision.CONDITIONAL and any(
                        st.effect == "Deny" for st in bpol.statements
                    ):
                        conditional = True
                access[mode] = True
                conditional = conditional or ev.decision == Decision.CONDITIONAL
                via.append(f"{action} via {_evidence(ev)}")
            if access:
                batch.rel("CAN_ACCESS", (info.label, info.node_id), ("OssBucket", name), DERIVED,
                          read=access.get("read", False), write=access.get("write", False), admin=False,
                          via=via, conditional=conditional)
        for db_id, drow in rds_instances.items():
            arn = f"acs:rds:{drow.get('region')}:{account_id}:dbinstance/{db_id}"
            for action in RDS_ADMIN_ACTIONS:
                ev = ps.evaluate(action, arn, ATTACKER_CONTEXT)
                if _allowed(ev.decision):
                    batch.rel("CAN_ACCESS", (info.label, info.node_id), ("RdsInstance", db_id), DERIVED,
                              read=False, write=False, admin=True, via=[f"{action} via {_evidence(ev)}"],
                              conditional=ev.decision == Decision.CONDITIONAL)
                    break
        # escalation
        for tech in TECHNIQUES:
            if info.principal.kind not in tech.principal_kinds:
                continue
            decisions = []
            for action, template in tech.requires:
                resource = template.format(acct=account_id, self_name=info.principal.name)
                decisions.append(ps.evaluate(action, resource, ATTACKER_CONTEXT))
            if all(_allowed(d.decision) for d in decisions):
                batch.rel("CAN_ESCALATE", (info.label, info.node_id), ("Account", account_id), DERIVED,
                          technique=tech.id, via=[_evidence(d) for d in decisions],
                          conditional=any(d.decision == Decision.CONDITIONAL for d in decisions))
                break
        # role assumption
        for rid in roles:
            if rid == info.node_id:
                continue
            trust = trust_policies.get(rid)
            if trust is None:
                continue
            ev = ps.evaluate("sts:AssumeRole", rid.replace("acs:ram::", "acs:ram:*:", 1), ATTACKER_CONTEXT)
            if not _allowed(ev.decision):
                continue
            tev = trust_allows(trust, info.principal, ATTACKER_CONTEXT)
            if _allowed(tev.decision):
                batch.rel("CAN_ASSUME", (info.label, info.node_id), ("RamRole", rid), DERIVED,
                          via=[_evidence(ev)], conditional=Decision.CONDITIONAL in (ev.decision, tev.decision))


def _trusts_external(trust: Policy, account_id: str) -> bool:
    for st in trust.statements:
        if st.effect != "Allow" or st.condition:
            continue
        principals = st.principals
        ram_values: set[str] = set()
        if isinstance(principals, dict):
            ram_values = _principal_values(principals.get("RAM"))
        elif principals is not None and hasattr(principals, "ram"):
            ram_values = _principal_values(getattr(principals, "ram"))
        else:
            ram_values = _principal_values(principals)
        for value in ram_values:
            if value == "*":
                return True
            other = _account_of(value)
            if other and other != account_id:
                return True
    return False


def _account_of(value: str) -> str:
    """'1234' or 'acs:ram::1234:root' / 'acs:ram::1234:user/x' → '1234'."""
    if value.isdigit():
        return value
    parts = value.split(":")
    if len(parts) >= 5 and parts[0] == "acs" and parts[1] == "ram":
        return parts[3]
    return ""


def _trust_edges(batch: GraphBatch, role_id: str, trust: Policy, account_id: str) -> None:
    for st in trust.statements:
        if st.effect != "Allow":
            continue
        p = st.principals
        ram = service = None
        if isinstance(p, dict):
            ram, service = p.get("RAM"), p.get("Service")
        elif p is not None:
            ram, service = getattr(p, "ram", None), getattr(p, "service", None)
            if ram is None and service is None:
                ram = p
        conditional = bool(st.condition)
        cond = json.dumps(st.condition, sort_keys=True) if st.condition else None
        for svc in sorted(_principal_values(service)):
            batch.node("ServicePrincipal", svc, DERIVED, supported=True)
            batch.rel("TRUSTS", ("RamRole", role_id), ("ServicePrincipal", svc), DERIVED, conditional=conditional, condition=cond)
        for value in sorted(_principal_values(ram)):
            acct = _account_of(value)
            if value == "*" or (acct and acct != account_id):
                batch.node("ExternalPrincipal", value, DERIVED, supported=True)
                batch.rel("TRUSTS", ("RamRole", role_id), ("ExternalPrincipal", value), DERIVED, conditional=conditional, condition=cond)
            elif value.isdigit() or value.endswith(":root"):
                batch.rel("TRUSTS", ("RamRole", role_id), ("Account", account_id), DERIVED, conditional=conditional, condition=cond)
            elif ":user/" in value:
                batch.rel("TRUSTS", ("RamRole", role_id), ("RamUser", value), DERIVED, conditional=conditional, condition=cond)
            elif ":role/" in value:
                target = next((rid for rid in batch.nodes.get("RamRole", {}) if rid.lower() == value.lower()), value)
                batch.rel("TRUSTS", ("RamRole", role_id), ("RamRole", target), DERIVED, conditional=conditional, condition=cond)


def analyse(batch: GraphBatch, account_id: str, scopes: dict[str, str] | None = None) -> None:
    """Every derived fact of one account, in place on the batch."""
    policies = annotate_policies(batch)
    bucket_policies = annotate_buckets(batch, account_id)
    exposure(batch)
    derive_permissions(batch, account_id, policies, bucket_policies)
    if scopes is not None:
        account = batch.nodes["Account"][account_id]
        trail_scopes = [s for s in scopes if s.startswith("actiontrail:")]
        account["actiontrail_collected"] = bool(trail_scopes) and all(scopes[s] == "ok" for s in trail_scopes)
        account["scopes_ok"] = sorted(s for s, v in scopes.items() if v == "ok")
        account["scopes_failed"] = sorted(f"{s}={v}" for s, v in scopes.items() if v != "ok")


def iter_derived_types() -> Iterable[str]:
    return ("CAN_REACH", "CAN_ASSUME", "CAN_ACCESS", "CAN_ESCALATE")
