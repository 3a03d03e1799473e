"""Derived facts and edges, computed once per ingest from the in-memory batch (pure Python).

Python does what Cypher is bad at — parsing RAM policy documents, wildcards, Deny — and writes
the answers into the same transaction as the assets: policy facts on nodes (full admin, public
bucket policy, external trust) and the derived edges CAN_REACH, CAN_ASSUME, CAN_ACCESS and
CAN_ESCALATE that checks and attack paths query.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from checks.escalation import BY_ID, FULL_ADMIN, GRANTS, TAKES_OVER, TARGET_KINDS, TECHNIQUES, Technique
from checks.policy_engine import (
    CompiledPolicySet,
    Decision,
    Evaluation,
    Policy,
    PolicyParseError,
    Principal,
    _action_relevant,
    _glob,
    bucket_policy_evaluation,
    is_full_admin,
    parse_policy,
    principal_values,
    ram_arn,
    trust_allows,
)
from graph_schema.store import GraphBatch
from loaders.declaration import ATTACK_MODES, AttackRole
from loaders.products import attack_targets
from loaders.secgroup import Rule, format_ranges, internet_openings, is_internet_rule, rule_from_row

DERIVED = "derived"
# what an attacker controls when walking a path: they use TLS. Everything else (MFA, source IP, VPC,
# time…) stays undecided, so edges that depend on it are kept as conditional (spec: cli.md)
ATTACKER_CONTEXT: dict[str, object] = {"acs:SecureTransport": "true"}
# OSS buckets are the one target whose resources carry their own policies (bucket policies) and object-level
# ARNs: they have their own evaluation below; every other declared target shares the generic one
BUCKET = "OssBucket"


class AnalysisError(ValueError):
    pass


def _policy(document: str | None, name: str) -> Policy | None:
    if not document:
        return None
    try:
        return parse_policy(document, name=name)
    except PolicyParseError as exc:
        raise AnalysisError(f"RAM policy {name}: {exc}") from exc


# probes that describe what a policy grants on its own (for the policy hygiene items), on resources
# spelt like real ones ({acct}: the account; RAM ARNs have an empty region)
POLICY_PROBES = {
    "grants_ram_write": ("ram:AttachPolicyToUser", "acs:ram::{acct}:user/*"),
    "assume_any_role": ("sts:AssumeRole", "acs:ram::{acct}:role/any-role"),
    "grants_oss_all": ("oss:DeleteBucket", "acs:oss:*:{acct}:any-bucket"),
}


def annotate_policies(batch: GraphBatch, account_id: str = "*") -> dict[str, Policy]:
    policies: dict[str, Policy] = {}
    for pid, row in batch.nodes.get("RamPolicy", {}).items():
        pol = _policy(row.get("document"), pid)
        if pol is not None:
            policies[pid] = pol
            row["full_admin"] = is_full_admin(pol)
            probe = CompiledPolicySet([pol])
            for prop, (action, resource) in POLICY_PROBES.items():
                row[prop] = probe.evaluate(action, resource.format(acct=account_id)).decision == Decision.ALLOW
    return policies


def internet_rules_by_group(batch: GraphBatch) -> dict[str, list[Rule]]:
    """Each group's rules whose source is the internet: the only ones that decide internet exposure."""
    out: dict[str, list[Rule]] = defaultdict(list)
    for row in batch.nodes.get("SecurityGroupRule", {}).values():
        rule = rule_from_row(row)
        if is_internet_rule(rule):
            out[str(row.get("security_group_id"))].append(rule)
    return out


def groups_of_instances(batch: GraphBatch) -> dict[str, set[str]]:
    """Each instance's security groups (its MEMBER_OF relationships)."""
    member: dict[str, set[str]] = defaultdict(set)
    for (src_label, src_id, rel_type, _dl, dst_id) in batch.rels:
        if rel_type == "MEMBER_OF" and src_label == "EcsInstance":
            member[src_id].add(dst_id)
    return member


def merged_exposure(groups: Iterable[str], rules_of: dict[str, list[Rule]]) -> tuple[list[tuple[int, int]], list[str]]:
    """Internet-open TCP ranges of an instance in `groups`, from the MERGED rules of all of them (ECS sorts
    them together: a Drop in one group closes what a lower-precedence Accept in another opens), and the
    groups whose Accept rules open them."""
    tagged = [(sg, rule) for sg in sorted(set(groups)) for rule in rules_of.get(sg, ())]
    ranges, winners = internet_openings([rule for _, rule in tagged], "tcp")
    return ranges, sorted({tagged[i][0] for i in winners})


def exposure(batch: GraphBatch) -> None:
    """Internet -[:CAN_REACH {ports, via}]-> instance: a public address and a TCP port the merged rules of
    the instance's groups open to the internet."""
    rules_of = internet_rules_by_group(batch)
    member = groups_of_instances(batch)
    # instances share a few group sets: evaluate each set once
    by_groups: dict[tuple[str, ...], tuple[list[tuple[int, int]], list[str]]] = {}
    for iid, inst in batch.nodes.get("EcsInstance", {}).items():
        inst["internet_reachable"] = False
        if not inst.get("is_public") or not inst.get("supported", True):
            continue
        key = tuple(sorted(member.get(iid, ())))
        if key not in by_groups:
            by_groups[key] = merged_exposure(key, rules_of)
        ranges, via = by_groups[key]
        if ranges:
            inst["internet_reachable"] = True
            inst["internet_ports"] = format_ranges(ranges)
            batch.rel("CAN_REACH", ("Internet", "0.0.0.0/0"), ("EcsInstance", iid), DERIVED,
                      ports=format_ranges(ranges), via=via)


def annotate_buckets(batch: GraphBatch, account_id: str) -> dict[str, Policy]:
    """Bucket-policy facts for the checks: public Allow without Condition, secure-transport Deny."""
    out: dict[str, Policy] = {}
    for name, row in batch.nodes.get(BUCKET, {}).items():
        pol = _policy(row.get("policy_document"), f"bucket-policy/{name}")
        row["policy_public"] = False
        row["policy_public_write"] = False
        row["policy_secure_transport"] = False
        if pol is None:
            continue
        out[name] = pol
        for st in pol.statements:
            principals = principal_values(st.principals)
            if st.effect == "Allow" and "*" in principals and not st.condition:
                row["policy_public"] = True
                if any(p.lower() in ("*", "oss:*", "oss:putobject", "oss:put*") for p in st.actions):
                    row["policy_public_write"] = True
            if st.effect == "Deny" and _denies_insecure_transport(st.condition):
                row["policy_secure_transport"] = True
    return out


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
    label: str  # RamUser | RamRole | RamGroup (a member acting with the group's policies)
    node_id: str
    principal: Principal
    policy_ids: tuple[str, ...]
    groups: tuple[str, ...] = ()  # a user's groups (their policies are in policy_ids)


@dataclass
class _Universe:
    """The account's concrete resources, by the names policies use for them."""

    account_id: str
    buckets: dict[str, dict[str, Any]]
    # every other declared attack-path target: label → {id: row} (supported assets only)
    resources: dict[str, dict[str, dict[str, Any]]]
    names: dict[str, dict[str, str]]  # RAM kind (user/role/group/policy) → {lower-case name: node id}; also
    # "bucket" → {name: name} (case-sensitive)
    arn: dict[str, str]  # RAM node id → its real ARN (`acs:ram::<acct>:<kind>/<name>`)
    kind_of: dict[str, str]  # RAM node id → kind
    attached: dict[str, tuple[str, ...]]  # principal node id → policies attached to it directly


_RAM_LABELS = {"RamUser": "user", "RamRole": "role", "RamGroup": "group"}


def _universe(batch: GraphBatch, account_id: str) -> _Universe:
    names: dict[str, dict[str, str]] = {k: {} for k in TARGET_KINDS}
    arn: dict[str, str] = {}
    kind_of: dict[str, str] = {}
    for label, kind in _RAM_LABELS.items():
        for node_id, row in batch.nodes.get(label, {}).items():
            name = str(row.get("name") or node_id.rsplit("/", 1)[-1])
            names[kind][name.lower()] = node_id
            arn[node_id] = ram_arn(account_id, kind, name)
            kind_of[node_id] = kind
    for pid, row in batch.nodes.get("RamPolicy", {}).items():
        if str(row.get("policy_type") or pid.split("/", 1)[0]).lower() == "custom":  # system policies are immutable
            name = str(row.get("name") or pid.split("/", 1)[-1])
            names["policy"][name.lower()] = pid
            arn[pid] = ram_arn(account_id, "policy", name)
            kind_of[pid] = "policy"
    attached: dict[str, list[str]] = defaultdict(list)
    for (_sl, src_id, rel_type, _dl, dst_id) in batch.rels:
        if rel_type == "ATTACHED":
            attached[src_id].append(dst_id)
    supported = {label: {i: r for i, r in batch.nodes.get(label, {}).items() if r.get("supported", True)}
                 for label in attack_targets()}
    buckets = supported.pop(BUCKET)
    names["bucket"] = {n: n for n in buckets}
    return _Universe(account_id, buckets, supported, names, arn, kind_of,
                     {k: tuple(sorted(set(v))) for k, v in attached.items()})


def _principals(batch: GraphBatch, u: _Universe) -> tuple[list[_PrincipalInfo], dict[str, _PrincipalInfo]]:
    """Users and roles; and every group as the principal a member acts as (used when someone can join it)."""
    groups_of: dict[str, list[str]] = defaultdict(list)
    for (_sl, src_id, rel_type, _dl, dst_id) in batch.rels:
        if rel_type == "IN_GROUP":
            groups_of[src_id].append(dst_id)
    acct = u.account_id
    out = []
    for uid, row in batch.nodes.get("RamUser", {}).items():
        groups = tuple(sorted(set(groups_of[uid])))
        pols = list(u.attached.get(uid, ()))
        for gid in groups:
            pols.extend(u.attached.get(gid, ()))
        out.append(_PrincipalInfo("RamUser", uid, Principal(kind="user", account_id=acct, name=str(row.get("name")),
                                                            arn=uid, uid=str(row.get("user_id") or "")),
                                  tuple(sorted(set(pols))), groups))
    for rid, row in batch.nodes.get("RamRole", {}).items():
        out.append(_PrincipalInfo("RamRole", rid, Principal(kind="role", account_id=acct, name=str(row.get("name")),
                                                            arn=rid), u.attached.get(rid, ())))
    as_group = {gid: _PrincipalInfo("RamGroup", gid, Principal(kind="group", account_id=acct, name=str(row.get("name")),
                                                               arn=gid), u.attached.get(gid, ()))
                for gid, row in batch.nodes.get("RamGroup", {}).items()}
    return out, as_group


def _evidence(evaluation: Any) -> str:
    return _evidence_of(tuple(getattr(evaluation, "matched", ()) or ()))


@lru_cache(maxsize=65536)
def _evidence_of(matched: tuple[tuple[str, int], ...]) -> str:
    """The policy names behind a verdict (the same few verdicts recur for thousands of targets)."""
    return ", ".join(sorted({m[0] for m in matched if m and m[0]}))


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
                lower: bool = False) -> set[str] | None:
    """Keys whose resource some Allow statement for `action` could name — the only ones worth evaluating.
    None: any of them (a wildcard resource)."""
    out: set[str] = set()
    for _, _, st in ps.entries:
        if st.effect != "Allow" or not _action_relevant(st, action):
            continue
        if st.not_resources or not st.resources:
            return None
        for pattern in st.resources:
            name = _name_part(pattern, marker)
            if name is None:
                return None
            key = names.get(name.lower() if lower else name)
            if key is not None:
                out.add(key)
    return out


def _pool(candidates: set[str] | None, names: dict[str, str]) -> list[str]:
    return sorted(names.values() if candidates is None else candidates)


def _object_keys(ps: CompiledPolicySet, action: str) -> list[tuple[re.Pattern[str], str]]:
    """(bucket glob, object key pattern) of the object-level resources Allow statements for `action` name
    (`acs:oss:*:*:acme-logs/app/*`): a grant on some objects of a bucket is access to that bucket."""
    out = []
    for _, _, st in ps.entries:
        if st.effect != "Allow" or not _action_relevant(st, action):
            continue
        for pattern in st.resources:
            parts = pattern.split(":", 4)
            if len(parts) < 5 or parts[0].lower() != "acs" or parts[1].lower() != "oss":
                continue
            bucket, sep, key = parts[4].partition("/")
            if sep and key and key != "*":
                out.append((_glob(bucket, False), key))
    return out


Verdict = tuple[str, Evaluation]  # (the action allowed, its verdict)


@dataclass
class _ResourceGrants:
    """What one policy set allows on one declared target label: per target and mode the best (action,
    verdict); with a wildcard grant, `rest` per mode for every target outside `special`."""

    each: dict[str, dict[str, Verdict]] = field(default_factory=dict)
    rest: dict[str, Verdict] = field(default_factory=dict)
    special: frozenset[str] = frozenset()


@dataclass
class _Grants:
    """What one policy set allows (shared by every principal holding exactly these policies)."""

    buckets: dict[str, dict[str, tuple[Evaluation, str, str]]]  # bucket → mode → (identity verdict, object ARN, via)
    resources: dict[str, _AccessSet]  # per declared target label (but buckets): the same for every holder
    assume: dict[str, Evaluation]
    full_admin: Evaluation
    candidates: dict[str, set[str] | None]  # technique id → targets an Allow could name (None: any)
    # a wildcard grant, evaluated once for every target no pattern names (see _uniform_rest): per mode
    # (verdict, via, the buckets it does not cover)
    bucket_rest: dict[str, tuple[Evaluation, str, frozenset[str]]] = field(default_factory=dict)

    def may(self, effect: str) -> bool:
        return any(self.candidates[t.id] != set() for t in TECHNIQUES if t.effect == effect)

    def bucket_modes(self, name: str) -> dict[str, tuple[Evaluation, str, str]]:
        """mode → (verdict, object ARN, via) on one bucket, named or covered by a wildcard grant."""
        named = self.buckets.get(name, {})
        if not self.bucket_rest:
            return named
        out: dict[str, tuple[Evaluation, str, str]] = {}
        for mode, _ in _oss_modes():  # the order the per-bucket evaluation fills them in
            if mode in named:
                out[mode] = named[mode]
            elif mode in self.bucket_rest and name not in self.bucket_rest[mode][2]:
                ev, via, _ = self.bucket_rest[mode]
                out[mode] = (ev, self.bucket_object(name), via)
        return out

    bucket_object: Any = None  # bucket → the object ARN a wildcard verdict was evaluated on (set by _grants)


def _better_ev(new: Evaluation, old: Evaluation | None) -> bool:
    return old is None or (old.decision == Decision.CONDITIONAL and new.decision == Decision.ALLOW)


_ANY, _NONE = "*", ""  # what a resource pattern reaches among a kind's targets (else one name, or None: unknown)


def _pattern_reach(pattern: str, service: str, account_id: str, prefix: str) -> str | None:
    """Which of the account's `service` targets (ARN `acs:<service>:<region>:<account>:<prefix><name>[/…]`)
    a resource pattern can match: all of them (`_ANY`), none (`_NONE`), only the one named, or None when
    only trying every target would tell (a glob in the name, a region, …)."""
    if pattern == "*":
        return _ANY
    parts = pattern.split(":", 4)
    if len(parts) < 5 or any(c in parts[0] + parts[1] for c in "*?"):
        return None
    if (parts[0].lower(), parts[1].lower()) != ("acs", service):
        return _NONE
    region, account, rest = parts[2], parts[3], parts[4]
    if region == "*" and account in ("*", account_id) and rest in ("*", "*/*", f"{prefix}*"):
        return _ANY
    if not rest.startswith(prefix) or any(c in prefix for c in "*?"):
        return None
    name = rest[len(prefix):].split("/", 1)[0]
    return None if not name or any(c in name for c in "*?:") else name


def _uniform_rest(ps: CompiledPolicySet, action: str, service: str, account_id: str, prefix: str,
                  names: dict[str, str]) -> frozenset[str] | None:
    """The targets a statement about `action` names by name, when every other target meets exactly the same
    statements (so one evaluation answers for all of them); None when that cannot be told from the patterns.
    A wildcard grant (`oss:*` on `*`) then costs one evaluation, not one per bucket — per policy set."""
    named: set[str] = set()
    for _, _, st in ps.statements_for(action):
        for pattern in (*st.resources, *st.not_resources):
            reach = _pattern_reach(pattern, service, account_id, prefix)
            if reach is None:
                return None
            if reach not in (_ANY, _NONE) and reach in names:
                named.add(names[reach])
    return frozenset(named)


def _grants(ps: CompiledPolicySet, u: _Universe) -> _Grants:
    acct = u.account_id
    bucket_names = u.names["bucket"]

    oss = attack_targets()[BUCKET]

    def bucket_object(name: str, key: str = "*") -> str:
        return f"{oss.arn(acct, u.buckets[name].get('region'), name)}/{key}"

    out_buckets: dict[str, dict[str, tuple[Evaluation, str, str]]] = {}
    bucket_rest: dict[str, tuple[Evaluation, str, frozenset[str]]] = {}
    for mode, action in _oss_modes():
        keys = _object_keys(ps, action)
        candidates = _candidates(ps, action, bucket_names, None)
        pool = _pool(candidates, bucket_names)
        special = _uniform_rest(ps, action, oss.service, acct, oss.prefix, bucket_names) if candidates is None else None
        if special is not None:
            if keys:  # object-level grants are tried per bucket
                special |= {name for name in pool if any(glob.fullmatch(name) for glob, _ in keys)}
            rest = next((name for name in pool if name not in special), None)
            if rest is not None:
                ev = ps.evaluate(action, bucket_object(rest), ATTACKER_CONTEXT)
                if _allowed(ev.decision):
                    bucket_rest[mode] = (ev, f"{action} via {_evidence(ev)}", special)
            pool = sorted(special)
        for name in pool:
            best: tuple[Evaluation, str] | None = None
            for key in ["*"] + [k for glob, k in keys if glob.fullmatch(name)]:
                ev = ps.evaluate(action, bucket_object(name, key), ATTACKER_CONTEXT)
                if _allowed(ev.decision) and _better_ev(ev, best[0] if best else None):
                    best = (ev, bucket_object(name, key))
                    if ev.decision == Decision.ALLOW:
                        break
            if best is not None:
                out_buckets.setdefault(name, {})[mode] = (*best, f"{action} via {_evidence(best[0])}")
    resources = {label: _resource_access(_resource_grants(ps, attack_targets()[label], targets, acct), targets)
                 for label, targets in u.resources.items() if targets}
    assume: dict[str, Evaluation] = {}
    roles = u.names["role"]
    for rid in _pool(_candidates(ps, "sts:AssumeRole", roles, "role/", lower=True), roles):
        ev = ps.evaluate("sts:AssumeRole", u.arn[rid], ATTACKER_CONTEXT)
        if _allowed(ev.decision):
            assume[rid] = ev
    ram = _mentions_ram(ps)
    techniques = {t.id: _candidates(ps, t.action, u.names[t.target], f"{t.target}/", lower=True) if ram else set()
                  for t in TECHNIQUES if t.effect != FULL_ADMIN}
    return _Grants(out_buckets, resources, assume, ps.full_admin(ATTACKER_CONTEXT), techniques, bucket_rest,
                   bucket_object)


def _resource_grants(ps: CompiledPolicySet, role: AttackRole, targets: dict[str, dict[str, Any]],
                     acct: str) -> _ResourceGrants:
    """Per target and declared mode, the best verdict of the mode's actions on the target's ARN. Only targets
    some Allow could name are evaluated; when every action's grant is a wildcard that only named targets can
    escape (see _uniform_rest), those are tried one by one and the rest share one verdict per action."""
    out = _ResourceGrants()
    names = {t: t for t in targets}
    actions = [(mode, action) for mode, acts in role.modes for action in acts]

    def verdict(action: str, target: str) -> Evaluation:
        return ps.evaluate(action, role.arn(acct, targets[target].get("region"), target), ATTACKER_CONTEXT)

    def keep(into: dict[str, Verdict], mode: str, action: str, ev: Evaluation) -> None:
        if _allowed(ev.decision) and _better_ev(ev, into[mode][1] if mode in into else None):
            into[mode] = (action, ev)

    pools = [(mode, action, _candidates(ps, action, names, role.prefix)) for mode, action in actions]
    specials = [_uniform_rest(ps, action, role.service, acct, role.prefix, names) if candidates is None else None
                for _, action, candidates in pools]
    if all(special is not None for special in specials):
        out.special = frozenset().union(*specials)  # type: ignore[arg-type]
        rest = next((t for t in sorted(targets) if t not in out.special), None)
        for mode, action, _ in pools:
            for target in sorted(out.special):
                keep(out.each.setdefault(target, {}), mode, action, verdict(action, target))
            if rest is not None:
                keep(out.rest, mode, action, verdict(action, rest))
    else:
        for mode, action, candidates in pools:
            for target in _pool(candidates, names):
                keep(out.each.setdefault(target, {}), mode, action, verdict(action, target))
    out.each = {t: modes for t, modes in out.each.items() if modes}
    return out


def _mentions_ram(ps: CompiledPolicySet) -> bool:
    """Could some Allow statement grant a RAM action at all? (Most policy sets: no, and nothing to probe.)"""
    for _, _, st in ps.entries:
        if st.effect != "Allow":
            continue
        if st.not_actions or any(_glob(p.split(":", 1)[0], True).fullmatch("ram") for p in st.actions):
            return True
    return False


def _names_specific_principals(policy: Policy) -> bool:
    return any(v != "*" for st in policy.statements for v in principal_values(st.principals))


@dataclass(frozen=True)
class _Escalation:
    technique: str
    target: str  # node id of the technique's target (the account id for full admin)
    via: str
    conditional: bool


def _prefer(new: _Escalation | None, old: _Escalation | None) -> _Escalation | None:
    """Unconditional first, then the earlier declaration."""
    if new is None:
        return old
    return new if old is None or (old.conditional and not new.conditional) else old


def _technique(ps: CompiledPolicySet, g: _Grants, u: _Universe, tech: Technique, target: str) -> Evaluation | None:
    """The principal's verdict for using `tech` on `target` (None: it cannot); with `also_needs`, the weaker
    of the two verdicts (conditional if either is)."""
    cands = g.candidates[tech.id]
    if cands is not None and target not in cands:
        return None
    ev = ps.evaluate(tech.action, u.arn[target], ATTACKER_CONTEXT)
    if not _allowed(ev.decision):
        return None
    if tech.also_needs is not None:
        needed = ps.evaluate(tech.also_needs, u.arn[target], ATTACKER_CONTEXT)
        if not _allowed(needed.decision):
            return None
        if needed.decision == Decision.CONDITIONAL:
            return needed
    return ev


def _grant_targets(kind: str, becomes: dict[str, bool], u: _Universe) -> dict[str, bool]:
    """Targets of `kind` whose permissions are those of something the principal is or can become
    (→ conditional?): those entities, or the custom policies attached to them."""
    if kind != "policy":
        return {n: c for n, c in becomes.items() if u.kind_of.get(n) == kind}
    out: dict[str, bool] = {}
    for n, c in becomes.items():
        for pid in u.attached.get(n, ()):
            if pid in u.arn:
                out[pid] = out.get(pid, True) and c
    return out


def _account_escalation(ps: CompiledPolicySet, g: _Grants, u: _Universe, info: _PrincipalInfo,
                        becomes: dict[str, bool]) -> _Escalation | None:
    best: _Escalation | None = None
    for tech in TECHNIQUES:
        if tech.effect == TAKES_OVER or info.principal.kind not in tech.principal_kinds:
            continue
        if tech.effect == FULL_ADMIN:
            if _allowed(g.full_admin.decision):
                best = _prefer(_Escalation(tech.id, u.account_id, _evidence(g.full_admin),
                                           g.full_admin.decision == Decision.CONDITIONAL), best)
        elif g.candidates[tech.id] != set():
            for target, via_conditional in sorted(_grant_targets(tech.target, becomes, u).items()):
                ev = _technique(ps, g, u, tech, target)
                if ev is not None:
                    best = _prefer(_Escalation(tech.id, target, _evidence(ev),
                                               via_conditional or ev.decision == Decision.CONDITIONAL), best)
        if best is not None and not best.conditional:
            break
    return best


def _takeovers(ps: CompiledPolicySet, g: _Grants, u: _Universe, info: _PrincipalInfo, worth: set[str],
               already: dict[str, bool]) -> dict[str, _Escalation]:
    """Principals this one can act as through a TAKES_OVER technique (only those that reach something)."""
    out: dict[str, _Escalation] = {}
    for tech in TECHNIQUES:
        if tech.effect != TAKES_OVER or info.principal.kind not in tech.principal_kinds:
            continue
        cands = g.candidates[tech.id]
        if cands == set():
            continue
        for target in _pool(cands, u.names[tech.target]):
            if target == info.node_id or target not in worth or already.get(target) is False:
                continue
            old = out.get(target)
            if old is not None and not old.conditional:
                continue
            ev = _technique(ps, g, u, tech, target)
            if ev is not None and (old is None or ev.decision == Decision.ALLOW):
                out[target] = _Escalation(tech.id, target, _evidence(ev), ev.decision == Decision.CONDITIONAL)
    return out


def _closure(start: str, pivots: dict[str, dict[str, bool]]) -> dict[str, bool]:
    """What `start` is or can become over the pivot edges (→ only conditionally?)."""
    seen = {start: False}
    stack = [start]
    while stack:  # unconditional first
        node = stack.pop()
        for dst, conditional in pivots.get(node, {}).items():
            if not conditional and dst not in seen:
                seen[dst] = False
                stack.append(dst)
    stack = list(seen)
    while stack:
        node = stack.pop()
        for dst in pivots.get(node, {}):
            if dst not in seen:
                seen[dst] = True
                stack.append(dst)
    return seen


MODES = ATTACK_MODES


@lru_cache(maxsize=1)
def _oss_modes() -> tuple[tuple[str, str], ...]:
    """(mode, action) of buckets: one action a mode (a bucket policy is evaluated for it, per object ARN)."""
    modes = attack_targets()[BUCKET].modes
    if any(len(actions) != 1 for _, actions in modes):
        raise ValueError(f"{BUCKET}: one action a mode, for the bucket-policy evaluation")
    return tuple((mode, actions[0]) for mode, actions in modes)

# a mode granted on at least this share of a label's targets is stored once, with its exceptions
WILDCARD_SHARE = 0.9
# per target: {mode: granted only conditionally?}, and the evidence
Access = dict[str, tuple[dict[str, bool], list[str]]]


def _write_access(batch: GraphBatch, src: tuple[str, str], label: str, access: _AccessSet) -> None:
    """CAN_ACCESS edges. A mode granted unconditionally on (nearly) every target of a label is written
    ONCE, to that label's `AllTargets` node with the exceptions listed, instead of once per target:
    wildcard policies would otherwise cost principals × targets edges. The rest is written per target,
    each mode with its own conditional flag: the edge is conditional only when every mode is."""
    if not access:
        return
    universe, rest = access.universe, access.rest
    rest_count = access.rest_count()
    granted: dict[str, set[str]] = {m: set() for m in MODES}  # per mode, the targets of `each` granted for sure
    for target, (modes, _) in access.each.items():
        for mode, conditional in modes.items():
            if not conditional:
                granted[mode].add(target)
    rest_firm = {m for m, conditional in rest[0].items() if not conditional} if rest and rest_count else set()
    threshold = max(2, WILDCARD_SHARE * len(universe))
    wide = [m for m in MODES if len(universe) > 1
            and len(granted[m]) + (rest_count if m in rest_firm else 0) >= threshold]
    if wide:
        all_id = f"all:{label}"
        batch.node("AllTargets", all_id, DERIVED, supported=True, target_label=label)
        every_via = {v for _, vs in access.each.values() for v in vs} | (set(rest[1]) if rest and rest_count else set())
        excepts = {f"{m}_except": sorted((access.rest_excludes & universe.keys() if m in rest_firm else universe.keys())
                                         - granted[m]) for m in wide}
        batch.rel("CAN_ACCESS", src, ("AllTargets", all_id), DERIVED, read="read" in wide, write="write" in wide,
                  admin="admin" in wide, via=sorted(every_via), conditional=False, **excepts)

    def per_target(target: str, modes: dict[str, bool], via: list[str]) -> None:
        # a target with a mode beyond the wildcard edge gets every mode here (one edge tells it all)
        rest_modes = {m: modes.get(m) for m in MODES}
        batch.rel("CAN_ACCESS", src, (label, target), DERIVED, via=via,
                  conditional=all(modes.values()),
                  conditional_modes=sorted(m for m, c in modes.items() if c),
                  **{m: c is not None for m, c in rest_modes.items()})

    for target, (modes, via) in access.each.items():
        if not all(m in wide and target in granted[m] for m in modes):
            per_target(target, modes, via)
    if rest and rest_count and not all(m in wide and m in rest_firm for m in rest[0]):
        for target in access.rest_targets():
            per_target(target, *rest)


@dataclass
class _AccessSet:
    """Access to one label's targets: `each` per target, and `rest` shared by every target of `universe` not in
    `rest_excludes` (a wildcard grant: one entry, not one per target)."""

    universe: dict[str, dict[str, Any]]
    each: Access
    rest: tuple[dict[str, bool], list[str]] | None = None
    rest_excludes: frozenset[str] = frozenset()

    def rest_targets(self) -> list[str]:
        return [] if self.rest is None else [t for t in self.universe if t not in self.rest_excludes]

    def rest_count(self) -> int:
        if self.rest is None:
            return 0
        return len(self.universe) - sum(1 for t in self.rest_excludes if t in self.universe)

    def __bool__(self) -> bool:
        return bool(self.each) or self.rest_count() > 0


def _bucket_access(info: _PrincipalInfo, g: _Grants, u: _Universe, bucket_policies: dict[str, Policy],
                   names_principals: dict[str, bool], cache: dict[tuple[str, str, str, str], Evaluation]) -> _AccessSet:
    """Identity grants per bucket and mode, less what the bucket policy denies this principal. An
    identity Allow that holds stays unconditional unless a bucket-policy Deny that may name the principal
    is itself undecided (an undecided bucket-policy Allow adds nothing to it). Buckets only a wildcard grant
    reaches and no bucket policy concerns share one answer."""
    out: Access = {}
    action_of = dict(_oss_modes())
    special = set(g.buckets)
    if g.bucket_rest:
        special |= {b for b in bucket_policies if b in u.buckets}
        special = special.union(*(excluded for _, _, excluded in g.bucket_rest.values()))
    for name in special:
        got: dict[str, bool] = {}
        via: list[str] = []
        bpol = bucket_policies.get(name)
        for mode, (ev, obj, why) in g.bucket_modes(name).items():
            conditional = ev.decision == Decision.CONDITIONAL
            if bpol is not None:
                # a bucket policy that names no specific principal answers everyone alike
                who = info.node_id if names_principals[name] else "*"
                key = (name, action_of[mode], obj, who)
                bev = cache.get(key)
                if bev is None:
                    bev = cache[key] = bucket_policy_evaluation(bpol, name, info.principal, action_of[mode], obj,
                                                                ATTACKER_CONTEXT)
                if bev.decision == Decision.DENY:
                    continue
                conditional = conditional or bev.undecided_deny
            got[mode] = conditional
            via.append(why)
        if got:
            out[name] = (got, via)
    if not g.bucket_rest:
        return _AccessSet(u.buckets, out)
    rest = [(mode, g.bucket_rest[mode]) for mode, _ in _oss_modes() if mode in g.bucket_rest]
    return _AccessSet(u.buckets, out, ({mode: ev.decision == Decision.CONDITIONAL for mode, (ev, _, _) in rest},
                                       [why for _, (_, why, _) in rest]), frozenset(special))


def _resource_access(rg: _ResourceGrants, universe: dict[str, dict[str, Any]]) -> _AccessSet:
    def entry(modes: dict[str, Verdict]) -> tuple[dict[str, bool], list[str]]:
        ordered = [(m, modes[m]) for m in MODES if m in modes]
        return ({m: ev.decision == Decision.CONDITIONAL for m, (_, ev) in ordered},
                list(dict.fromkeys(f"{action} via {_evidence(ev)}" for _, (action, ev) in ordered)))

    each = {t: entry(modes) for t, modes in rg.each.items()}
    return _AccessSet(universe, each, entry(rg.rest) if rg.rest else None, rg.special)


def derive_permissions(batch: GraphBatch, account_id: str, policies: dict[str, Policy],
                       bucket_policies: dict[str, Policy]) -> None:
    """CAN_ACCESS / CAN_ASSUME / CAN_ESCALATE per principal; what a policy set allows is evaluated once."""
    u = _universe(batch, account_id)
    principals, groups = _principals(batch, u)
    roles = batch.nodes.get("RamRole", {})
    trust_policies = {rid: _policy(r.get("trust_policy"), f"trust/{r.get('name')}") for rid, r in roles.items()}
    by_arn = {marker: {node_id.lower(): node_id for node_id in batch.nodes.get(label, {})}
              for label, marker in (("RamUser", ":user/"), ("RamRole", ":role/"))}
    for rid, row in roles.items():
        trust = trust_policies[rid]
        row["trust_external"] = bool(trust is not None and _trusts_external(trust, account_id))
        if trust is not None:
            _trust_edges(batch, rid, trust, account_id, by_arn)

    compiled: dict[tuple[str, ...], CompiledPolicySet] = {}
    grants_cache: dict[tuple[str, ...], _Grants] = {}

    def prepare(info: _PrincipalInfo) -> tuple[CompiledPolicySet, _Grants]:
        ps = compiled.get(info.policy_ids)
        if ps is None:
            ps = compiled[info.policy_ids] = CompiledPolicySet([policies[i] for i in info.policy_ids if i in policies])
        g = grants_cache.get(info.policy_ids)
        if g is None:
            g = grants_cache[info.policy_ids] = _grants(ps, u)
        return ps, g

    # groups matter as principals only where someone can join them (a member acts with their policies)
    join = BY_ID["add_user_to_group"]
    infos = list(principals)
    active: set[str] = set()
    pending = list(principals)
    while pending:
        info = pending.pop()
        ps, g = prepare(info)
        if info.principal.kind not in join.principal_kinds or g.candidates[join.id] == set():
            continue
        if g.full_admin.decision == Decision.ALLOW:
            continue
        for gid in _pool(g.candidates[join.id], u.names["group"]):
            if gid not in active and gid not in info.groups and gid != info.node_id \
                    and _technique(ps, g, u, join, gid) is not None:
                active.add(gid)
                infos.append(groups[gid])
                pending.append(groups[gid])

    # data access and role assumption
    pivots: dict[str, dict[str, bool]] = defaultdict(dict)  # principal → what it can act as (→ conditional?)
    reaches: set[str] = set()
    bucket_policy_cache: dict[tuple[str, str, str, str], Evaluation] = {}
    names_principals = {b: _names_specific_principals(p) for b, p in bucket_policies.items()}
    naming_buckets = [b for b, flag in names_principals.items() if flag and b in u.buckets]
    # a policy set's bucket access is kept until its last holder is written, no longer: per policy set and
    # bucket a policy concerns, it is the analysis's largest structure
    access_cache: dict[tuple[str, ...], _AccessSet] = {}
    holders_left = Counter(info.policy_ids for info in infos)
    for info in infos:
        ps, g = prepare(info)
        src = (info.label, info.node_id)
        for gid in info.groups:
            pivots[info.node_id][gid] = False
        # what a policy set gets on buckets is the same for all its holders, unless a bucket policy names
        # specific principals
        personal = any(g.bucket_modes(b) for b in naming_buckets)
        holders_left[info.policy_ids] -= 1
        bucket_access = None if personal else access_cache.pop(info.policy_ids, None)
        if bucket_access is None:
            bucket_access = _bucket_access(info, g, u, bucket_policies, names_principals, bucket_policy_cache)
        if not personal and holders_left[info.policy_ids]:
            access_cache[info.policy_ids] = bucket_access
        _write_access(batch, src, BUCKET, bucket_access)
        if bucket_access:
            reaches.add(info.node_id)
        for label, access in g.resources.items():
            _write_access(batch, src, label, access)
            if access:
                reaches.add(info.node_id)
        for rid, ev in g.assume.items():
            trust = trust_policies.get(rid)
            if rid == info.node_id or trust is None:
                continue
            tev = trust_allows(trust, info.principal, ATTACKER_CONTEXT)
            if _allowed(tev.decision):
                conditional = Decision.CONDITIONAL in (ev.decision, tev.decision)
                batch.rel("CAN_ASSUME", src, ("RamRole", rid), DERIVED, via=[_evidence(ev)], conditional=conditional)
                pivots[info.node_id][rid] = conditional
                reaches.add(info.node_id)

    # escalation: first without takeovers; whoever does not reach the whole account unconditionally may
    # then take over other principals (those that reach something), which may in turn open a GRANTS target
    escalation: dict[str, _Escalation | None] = {}
    for info in infos:
        ps, g = prepare(info)
        becomes = _closure(info.node_id, pivots) if g.may(GRANTS) else {info.node_id: False}
        escalation[info.node_id] = _account_escalation(ps, g, u, info, becomes)
    worth = reaches | {n for n, e in escalation.items() if e is not None} | {
        i.node_id for i in infos if prepare(i)[1].may(TAKES_OVER)}
    takeovers: dict[str, dict[str, _Escalation]] = {}
    for info in infos:
        esc = escalation[info.node_id]
        ps, g = prepare(info)
        if (esc is not None and not esc.conditional) or not g.may(TAKES_OVER):
            continue
        took = _takeovers(ps, g, u, info, worth, _closure(info.node_id, pivots))
        if took:
            takeovers[info.node_id] = took
    for src_id, took in takeovers.items():
        for dst, esc in took.items():
            pivots[src_id][dst] = esc.conditional
    if takeovers:
        for info in infos:
            esc = escalation[info.node_id]
            ps, g = prepare(info)
            if (esc is None or esc.conditional) and g.may(GRANTS):
                escalation[info.node_id] = _prefer(
                    _account_escalation(ps, g, u, info, _closure(info.node_id, pivots)), esc)
    label_of = {i.node_id: i.label for i in infos} | {n: lbl for lbl, kind in _RAM_LABELS.items()
                                                        for n in u.names[kind].values()}
    for info in infos:
        src = (info.label, info.node_id)
        final = escalation[info.node_id]
        if final is not None:
            batch.rel("CAN_ESCALATE", src, ("Account", account_id), DERIVED, technique=final.technique,
                      target=u.arn.get(final.target, "*"), via=[final.via], conditional=final.conditional)
            if not final.conditional:
                continue
        for dst, over in sorted(takeovers.get(info.node_id, {}).items()):
            batch.rel("CAN_ESCALATE", src, (label_of[dst], dst), DERIVED, technique=over.technique,
                      target=u.arn[dst], via=[over.via], conditional=over.conditional)


def _trusts_external(trust: Policy, account_id: str) -> bool:
    for st in trust.statements:
        if st.effect != "Allow" or st.condition:
            continue
        for value in principal_values(st.principals, "RAM"):
            if value.strip() == "*":
                return True
            other = _account_of(value)
            if other and other != account_id:
                return True
    return False


def _account_of(value: str) -> str:
    """'1234' or 'acs:ram::1234:root' / 'acs:ram::1234:user/x' → '1234' (any case)."""
    value = value.strip()
    if value.isdigit():
        return value
    parts = value.split(":")
    if len(parts) >= 5 and parts[0].lower() == "acs" and parts[1].lower() == "ram":
        return parts[3]
    return ""


def _trust_edges(batch: GraphBatch, role_id: str, trust: Policy, account_id: str,
                 by_arn: dict[str, dict[str, str]]) -> None:
    """TRUSTS edges of one role; `by_arn`: per ARN marker, lower-cased user/role ids → ids (built once)."""
    for st in trust.statements:
        if st.effect != "Allow":
            continue
        conditional = bool(st.condition)
        cond = json.dumps(st.condition, sort_keys=True) if st.condition else None
        for svc in sorted(set(principal_values(st.principals, "Service"))):
            batch.node("ServicePrincipal", svc, DERIVED, supported=True)
            batch.rel("TRUSTS", ("RamRole", role_id), ("ServicePrincipal", svc), DERIVED, conditional=conditional, condition=cond)
        for value in sorted(set(principal_values(st.principals, "RAM"))):
            acct = _account_of(value)
            low = value.strip().lower()
            if low == "*" or (acct and acct != account_id):
                batch.node("ExternalPrincipal", value, DERIVED, supported=True)
                batch.rel("TRUSTS", ("RamRole", role_id), ("ExternalPrincipal", value), DERIVED, conditional=conditional, condition=cond)
            elif low.isdigit() or low.endswith(":root"):
                batch.rel("TRUSTS", ("RamRole", role_id), ("Account", account_id), DERIVED, conditional=conditional, condition=cond)
            else:
                for (label, marker) in (("RamUser", ":user/"), ("RamRole", ":role/")):
                    if marker in low:
                        target = by_arn[marker].get(low, value)
                        batch.rel("TRUSTS", ("RamRole", role_id), (label, target), DERIVED, conditional=conditional,
                                  condition=cond)


def analyse(batch: GraphBatch, account_id: str, scopes: dict[str, str] | None = None) -> None:
    """Every derived fact of one account, in place on the batch."""
    policies = annotate_policies(batch, account_id)
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
