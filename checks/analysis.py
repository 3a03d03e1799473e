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
    Evaluation,
    Policy,
    PolicyParseError,
    Principal,
    _action_relevant,
    bucket_policy_evaluation,
    is_full_admin,
    parse_policy,
    trust_allows,
)
from graph_schema.store import GraphBatch
from loaders.secgroup import format_ranges, merge_ranges

DERIVED = "derived"
# what an attacker controls when walking a path: they use TLS. Everything else (MFA, source IP, VPC,
# time…) stays undecided, so edges that depend on it are kept as conditional (spec: cli.md)
ATTACKER_CONTEXT: dict[str, object] = {"acs:SecureTransport": "true"}
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


def _name_part(pattern: str, marker: str | None) -> str | None:
    """The resource-name part of an ARN pattern (bucket, instance id, role name); None = could be anything."""
    if pattern == "*":
        return None
    parts = pattern.split(":", 4)
    if len(parts) < 5:
        return None
    rest = parts[4]
    if marker is not None:
        if not rest.lower().startswith(marker):
            return "" if "*" not in rest.split("/", 1)[0] else None
        rest = rest[len(marker):]
    name = rest.split("/", 1)[0]
    return None if ("*" in name or "?" in name) else name


def _candidates(ps: CompiledPolicySet, action: str, names: dict[str, str], marker: str | None,
                lower: bool = False) -> list[str]:
    """Keys whose resource some Allow statement for `action` could name — the only ones worth evaluating."""
    out: set[str] = set()
    for _, _, st in ps.entries:
        if st.effect != "Allow" or not _action_relevant(st, action):
            continue
        if st.not_resources or not st.resources:
            return sorted(names.values())
        for pattern in st.resources:
            name = _name_part(pattern, marker)
            if name is None:
                return sorted(names.values())
            key = names.get(name.lower() if lower else name)
            if key is not None:
                out.add(key)
    return sorted(out)


@dataclass
class _Grants:
    buckets: dict[str, dict[str, Any]]
    rds: dict[str, dict[str, Any]]
    escalation: dict[str, Any] | None
    assume: dict[str, Evaluation]


def _grants(ps: CompiledPolicySet, account_id: str, buckets: dict[str, dict[str, Any]],
            rds_instances: dict[str, dict[str, Any]], role_names: dict[str, str], self_name: str, kind: str) -> _Grants:
    bucket_names = {n: n for n in buckets}
    out_buckets: dict[str, dict[str, Any]] = {}
    for mode, action in (("read", READ_ACTION), ("write", WRITE_ACTION)):
        for name in _candidates(ps, action, bucket_names, None):
            obj = f"acs:oss:{buckets[name].get('region') or '*'}:{account_id}:{name}/*"
            ev = ps.evaluate(action, obj, ATTACKER_CONTEXT)
            if _allowed(ev.decision):
                entry = out_buckets.setdefault(name, {"conditional": False, "via": []})
                entry[mode] = ev
                entry["conditional"] = entry["conditional"] or ev.decision == Decision.CONDITIONAL
                entry["via"].append(f"{action} via {_evidence(ev)}")
    out_rds: dict[str, dict[str, Any]] = {}
    db_names = {i: i for i in rds_instances}
    for action in RDS_ADMIN_ACTIONS:
        for db_id in _candidates(ps, action, db_names, "dbinstance/"):
            if db_id in out_rds:
                continue
            arn = f"acs:rds:{rds_instances[db_id].get('region')}:{account_id}:dbinstance/{db_id}"
            ev = ps.evaluate(action, arn, ATTACKER_CONTEXT)
            if _allowed(ev.decision):
                out_rds[db_id] = {"conditional": ev.decision == Decision.CONDITIONAL,
                                  "via": [f"{action} via {_evidence(ev)}"]}
    assume: dict[str, Evaluation] = {}
    for rid in _candidates(ps, "sts:AssumeRole", role_names, "role/", lower=True):
        ev = ps.evaluate("sts:AssumeRole", rid.replace("acs:ram::", "acs:ram:*:", 1), ATTACKER_CONTEXT)
        if _allowed(ev.decision):
            assume[rid] = ev
    return _Grants(out_buckets, out_rds, None, assume)


def _names_specific_principals(policy: Policy) -> bool:
    return any(v != "*" for st in policy.statements for v in _principal_values(st.principals))


def _escalation(ps: CompiledPolicySet, account_id: str, kind: str, self_name: str) -> dict[str, Any] | None:
    for tech in TECHNIQUES:
        if kind not in tech.principal_kinds:
            continue
        decisions = [ps.evaluate(action, template.format(acct=account_id, self_name=self_name), ATTACKER_CONTEXT)
                     for action, template in tech.requires]
        if all(_allowed(d.decision) for d in decisions):
            return {"technique": tech.id, "via": [_evidence(d) for d in decisions],
                    "conditional": any(d.decision == Decision.CONDITIONAL for d in decisions)}
    return None


MODES = ("read", "write", "admin")
# a mode granted on at least this share of a label's targets is stored once, with its exceptions
WILDCARD_SHARE = 0.9


def _write_access(batch: GraphBatch, src: tuple[str, str], label: str, universe: dict[str, dict[str, Any]],
                  access: dict[str, tuple[bool, bool, bool, list[str]]]) -> None:
    """CAN_ACCESS edges. A mode granted unconditionally on (nearly) every target of a label is written
    ONCE, to that label's `AllTargets` node with the exceptions listed, instead of once per target:
    wildcard policies would otherwise cost principals × targets edges. The rest is written per target."""
    if not access:
        return
    is_rds = label == "RdsInstance"
    granted: dict[str, set[str]] = {m: set() for m in MODES}
    for target, (read, write, conditional, _) in access.items():
        if conditional:
            continue
        for mode, on in (("read", read and not is_rds), ("write", write and not is_rds), ("admin", is_rds)):
            if on:
                granted[mode].add(target)
    threshold = max(2, WILDCARD_SHARE * len(universe))
    wide = {m: granted[m] for m in MODES if len(universe) > 1 and len(granted[m]) >= threshold}
    if wide:
        all_id = f"all:{label}"
        batch.node("AllTargets", all_id, DERIVED, supported=True, target_label=label)
        via = sorted({v for *_, vs in access.values() for v in vs})
        excepts = {f"{m}_except": sorted(set(universe) - wide[m]) for m in wide}
        batch.rel("CAN_ACCESS", src, ("AllTargets", all_id), DERIVED, read="read" in wide, write="write" in wide,
                  admin="admin" in wide, via=via, conditional=False, **excepts)
    for target, (read, write, conditional, via) in access.items():
        rest = {
            "read": read and not is_rds and target not in wide.get("read", ()),
            "write": write and not is_rds and target not in wide.get("write", ()),
            "admin": is_rds and target not in wide.get("admin", ()),
        }
        if any(rest.values()):
            batch.rel("CAN_ACCESS", src, (label, target), DERIVED, via=via, conditional=conditional, **rest)


def derive_permissions(batch: GraphBatch, account_id: str, policies: dict[str, Policy],
                       bucket_policies: dict[str, Policy]) -> None:
    """CAN_ACCESS / CAN_ESCALATE / CAN_ASSUME per principal, evaluated once per distinct policy set."""
    principals = _principals(batch, account_id)
    buckets = {n: r for n, r in batch.nodes.get("OssBucket", {}).items() if r.get("supported", True)}
    rds_instances = {i: r for i, r in batch.nodes.get("RdsInstance", {}).items() if r.get("supported", True)}
    roles = batch.nodes.get("RamRole", {})
    role_names = {str(r.get("name", "")).lower(): rid for rid, r in roles.items()}
    trust_policies = {rid: _policy(r.get("trust_policy"), f"trust/{r.get('name')}") for rid, r in roles.items()}
    for rid, row in roles.items():
        trust = trust_policies[rid]
        row["trust_external"] = bool(trust is not None and _trusts_external(trust, account_id))
        if trust is not None:
            _trust_edges(batch, rid, trust, account_id)

    compiled: dict[tuple[str, ...], CompiledPolicySet] = {}
    grants_cache: dict[tuple[str, ...], _Grants] = {}
    bucket_policy_cache: dict[tuple[str, str, str], Evaluation] = {}
    names_principals = {b: _names_specific_principals(p) for b, p in bucket_policies.items()}
    for info in principals:
        ps = compiled.get(info.policy_ids)
        if ps is None:
            ps = compiled[info.policy_ids] = CompiledPolicySet([policies[i] for i in info.policy_ids if i in policies])
        grants = grants_cache.get(info.policy_ids)
        if grants is None:
            grants = grants_cache[info.policy_ids] = _grants(ps, account_id, buckets, rds_instances, role_names,
                                                             info.principal.name, info.principal.kind)
        # only self-referencing techniques depend on the principal's own name: evaluated per principal
        escalation = _escalation(ps, account_id, info.principal.kind, info.principal.name)
        src = (info.label, info.node_id)
        bucket_access: dict[str, tuple[bool, bool, bool, list[str]]] = {}
        for name, g in grants.buckets.items():
            access = {mode: True for mode in ("read", "write") if mode in g}
            conditional = g["conditional"]
            bpol = bucket_policies.get(name)
            if bpol is not None:
                for mode, action in (("read", READ_ACTION), ("write", WRITE_ACTION)):
                    if mode not in access:
                        continue
                    obj = f"acs:oss:{buckets[name].get('region') or '*'}:{account_id}:{name}/*"
                    # a bucket policy that names no specific principal answers everyone alike
                    who = info.node_id if names_principals[name] else "*"
                    bev = bucket_policy_cache.get((name, action, who))
                    if bev is None:
                        bev = bucket_policy_cache[(name, action, who)] = bucket_policy_evaluation(
                            bpol, name, info.principal, action, obj, ATTACKER_CONTEXT)
                    if bev.decision == Decision.DENY:
                        del access[mode]
                    elif bev.decision == Decision.CONDITIONAL and any(st.effect == "Deny" for st in bpol.statements):
                        conditional = True
            if access:
                bucket_access[name] = (access.get("read", False), access.get("write", False), conditional, g["via"])
        _write_access(batch, src, "OssBucket", buckets, bucket_access)
        _write_access(batch, src, "RdsInstance", rds_instances,
                      {db: (False, False, g["conditional"], g["via"]) for db, g in grants.rds.items()})
        if escalation is not None:
            batch.rel("CAN_ESCALATE", src, ("Account", account_id), DERIVED, **escalation)
        for rid, ev in grants.assume.items():
            trust = trust_policies.get(rid)
            if rid == info.node_id or trust is None:
                continue
            tev = trust_allows(trust, info.principal, ATTACKER_CONTEXT)
            if _allowed(tev.decision):
                batch.rel("CAN_ASSUME", src, ("RamRole", rid), DERIVED, via=[_evidence(ev)],
                          conditional=Decision.CONDITIONAL in (ev.decision, tev.decision))


def _trusts_external(trust: Policy, account_id: str) -> bool:
    for st in trust.statements:
        if st.effect != "Allow" or st.condition:
            continue
        principals = st.principals
        ram_values: set[str] = set()
        if isinstance(principals, dict):
            ram_values = _principal_values(principals.get("RAM"))
        elif principals is not None and hasattr(principals, "ram"):
            ram_values = _principal_values(principals.ram)
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
