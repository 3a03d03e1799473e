"""The RAM policy language, evaluated like RAM does (pure Python, no database).

- An explicit `Deny` that matches wins; otherwise an `Allow` must match; otherwise implicit deny.
- `Action`/`NotAction`, `Resource`/`NotResource`; `*` and `?` wildcards (globs, everything else literal).
- Action names are case-insensitive; resources are matched case-sensitively except the `acs:<service>`
  prefix and RAM user/role/group names (RAM names are case-insensitive).
- Conditions: every operator of the RAM language is evaluated when the context holds the key; a key
  the context lacks makes the statement *undecided*: an undecided Allow yields CONDITIONAL (never a
  silent grant), an undecided Deny turns an Allow into CONDITIONAL (never a silent drop).
"""

from __future__ import annotations

import enum
import ipaddress
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any


class PolicyParseError(ValueError):
    """A policy document that is not valid RAM policy language; the message says where."""


class Decision(enum.Enum):
    ALLOW = "allow"
    DENY = "deny"
    IMPLICIT_DENY = "implicit_deny"
    CONDITIONAL = "conditional"


@dataclass(frozen=True)
class Statement:
    effect: str
    actions: tuple[str, ...] = ()
    not_actions: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()
    not_resources: tuple[str, ...] = ()
    principals: Any = None  # '*' | {"RAM": [...], "Service": [...], "Federated": [...]} | list (OSS)
    condition: dict[str, Any] | None = None


@dataclass(frozen=True)
class Policy:
    version: str
    statements: tuple[Statement, ...]
    name: str = ""


@dataclass(frozen=True)
class Evaluation:
    decision: Decision
    matched: tuple[tuple[str, int], ...] = ()
    conditions: tuple[dict[str, Any], ...] = ()

    @property
    def undecided_deny(self) -> bool:
        """A Deny that matches but whose Condition the context cannot decide (it may or may not apply)."""
        return any("deny_unless_false" in c for c in self.conditions)


@dataclass(frozen=True)
class Principal:
    kind: str  # user | role | group (a member acting with the group's policies) | root | service | key
    account_id: str
    name: str = ""
    arn: str = ""
    service: str = ""
    uid: str = ""


# ---------------------------------------------------------------- parsing

def _strings(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise PolicyParseError(f"{where} must be a string or a list of strings, got {type(value).__name__}")


def parse_policy(document: str | Mapping[str, Any], name: str = "") -> Policy:
    label = f"policy {name}" if name else "policy"
    if isinstance(document, str | bytes):
        try:
            doc = json.loads(document)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise PolicyParseError(f"{label}: not valid JSON: {exc}") from exc
    else:
        doc = document
    if not isinstance(doc, Mapping):
        raise PolicyParseError(f"{label}: the document must be a JSON object")
    if "Statement" not in doc:
        raise PolicyParseError(f"{label}: missing 'Statement'")
    raw = doc["Statement"]
    if isinstance(raw, Mapping):
        raw = [raw]
    if not isinstance(raw, list):
        raise PolicyParseError(f"{label}: 'Statement' must be an object or a list")
    statements = []
    for i, st in enumerate(raw):
        where = f"{label}: Statement[{i}]"
        if not isinstance(st, Mapping):
            raise PolicyParseError(f"{where} must be an object")
        effect = st.get("Effect")
        if not isinstance(effect, str) or effect.lower() not in ("allow", "deny"):
            raise PolicyParseError(f"{where}.Effect must be 'Allow' or 'Deny', got {effect!r}")
        if ("Action" in st) == ("NotAction" in st):
            if "Action" not in st and "Principal" not in st:
                raise PolicyParseError(f"{where} needs exactly one of Action / NotAction")
            if "Action" in st:
                raise PolicyParseError(f"{where} cannot have both Action and NotAction")
        if "Resource" in st and "NotResource" in st:
            raise PolicyParseError(f"{where} cannot have both Resource and NotResource")
        condition = st.get("Condition")
        if condition is not None and not isinstance(condition, Mapping):
            raise PolicyParseError(f"{where}.Condition must be an object")
        if condition:
            for op, body in condition.items():
                if not isinstance(body, Mapping):
                    raise PolicyParseError(f"{where}.Condition.{op} must be an object of key → values")
        principal = st.get("Principal")
        if principal is not None and not isinstance(principal, str | list | Mapping):
            raise PolicyParseError(f"{where}.Principal has an invalid type")
        statements.append(Statement(
            effect="Allow" if effect.lower() == "allow" else "Deny",
            actions=_strings(st["Action"], f"{where}.Action") if "Action" in st else (),
            not_actions=_strings(st["NotAction"], f"{where}.NotAction") if "NotAction" in st else (),
            resources=_strings(st["Resource"], f"{where}.Resource") if "Resource" in st else (),
            not_resources=_strings(st["NotResource"], f"{where}.NotResource") if "NotResource" in st else (),
            principals=principal,
            condition=dict(condition) if condition else None,
        ))
    version = doc.get("Version", "1")
    return Policy(str(version), tuple(statements), name)


# ---------------------------------------------------------------- matching

@lru_cache(maxsize=65536)
def _glob(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    parts = []
    for ch in pattern:
        if ch == "*":
            parts.append(".*")
        elif ch == "?":
            parts.append(".")
        else:
            parts.append(re.escape(ch))
    return re.compile("".join(parts), re.S | (re.I if ignore_case else 0))


def action_matches(pattern: str, action: str) -> bool:
    return _glob(pattern, True).fullmatch(action) is not None


@lru_cache(maxsize=262144)
def _norm_resource(resource: str) -> str:
    """Service prefixes and RAM entity names are case-insensitive: lower-case those parts."""
    parts = resource.split(":", 4)
    if len(parts) == 5 and parts[0].lower() == "acs":
        service = parts[1].lower()
        rest = parts[4].lower() if service in ("ram", "sts") else parts[4]
        return ":".join(["acs", service, parts[2], parts[3], rest])
    return resource


def resource_matches(pattern: str, resource: str) -> bool:
    if pattern == "*":
        return True
    return _glob(_norm_resource(pattern), False).fullmatch(_norm_resource(resource)) is not None


def _statement_matches(st: Statement, action: str, resource: str) -> bool:
    return _action_relevant(st, action) and _resource_part_matches(st, resource)


def _resource_part_matches(st: Statement, resource: str) -> bool:
    if st.resources:
        return any(resource_matches(p, resource) for p in st.resources)
    if st.not_resources:
        return not any(resource_matches(p, resource) for p in st.not_resources)
    # trust policies and some bucket policies omit Resource: the statement is about the target itself
    return True


# ---------------------------------------------------------------- conditions

_UNDECIDED = None


def _ctx_lookup(context: Mapping[str, object] | None, key: str) -> Any:
    if not context:
        return _UNDECIDED
    low = key.lower()
    for k, v in context.items():
        if k.lower() == low:
            return v
    return _UNDECIDED


def _as_list(v: Any) -> list[Any]:
    return list(v) if isinstance(v, list | tuple | set) else [v]


def _num(v: Any) -> float | None:
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def _date(v: Any) -> datetime | None:
    if isinstance(v, datetime):
        return v
    try:
        return datetime.fromisoformat(str(v).replace("Z", "+00:00"))
    except ValueError:
        n = _num(v)
        return datetime.fromtimestamp(n) if n is not None else None


def _ip_in(value: Any, cidr: Any) -> bool:
    try:
        return ipaddress.ip_address(str(value)) in ipaddress.ip_network(str(cidr), strict=False)
    except ValueError:
        return False


def _bool(v: Any) -> bool | None:
    s = str(v).lower()
    return True if s == "true" else False if s == "false" else None


_COMPARE: dict[str, Any] = {
    "stringequals": lambda a, b: str(a) == str(b),
    "stringnotequals": lambda a, b: str(a) != str(b),
    "stringequalsignorecase": lambda a, b: str(a).lower() == str(b).lower(),
    "stringnotequalsignorecase": lambda a, b: str(a).lower() != str(b).lower(),
    "stringlike": lambda a, b: _glob(str(b), False).fullmatch(str(a)) is not None,
    "stringnotlike": lambda a, b: _glob(str(b), False).fullmatch(str(a)) is None,
    "numericequals": lambda a, b: _num(a) is not None and _num(a) == _num(b),
    "numericnotequals": lambda a, b: _num(a) is not None and _num(a) != _num(b),
    "numericlessthan": lambda a, b: None not in (_num(a), _num(b)) and _num(a) < _num(b),  # type: ignore[operator]
    "numericlessthanequals": lambda a, b: None not in (_num(a), _num(b)) and _num(a) <= _num(b),  # type: ignore[operator]
    "numericgreaterthan": lambda a, b: None not in (_num(a), _num(b)) and _num(a) > _num(b),  # type: ignore[operator]
    "numericgreaterthanequals": lambda a, b: None not in (_num(a), _num(b)) and _num(a) >= _num(b),  # type: ignore[operator]
    "dateequals": lambda a, b: None not in (_date(a), _date(b)) and _date(a) == _date(b),
    "datenotequals": lambda a, b: None not in (_date(a), _date(b)) and _date(a) != _date(b),
    "datelessthan": lambda a, b: None not in (_date(a), _date(b)) and _date(a) < _date(b),  # type: ignore[operator]
    "datelessthanequals": lambda a, b: None not in (_date(a), _date(b)) and _date(a) <= _date(b),  # type: ignore[operator]
    "dategreaterthan": lambda a, b: None not in (_date(a), _date(b)) and _date(a) > _date(b),  # type: ignore[operator]
    "dategreaterthanequals": lambda a, b: None not in (_date(a), _date(b)) and _date(a) >= _date(b),  # type: ignore[operator]
    "bool": lambda a, b: _bool(a) is not None and _bool(a) == _bool(b),
    "ipaddress": _ip_in,
    "notipaddress": lambda a, b: not _ip_in(a, b),
}
_NEGATED = {"stringnotequals", "stringnotequalsignorecase", "stringnotlike", "numericnotequals", "datenotequals",
            "notipaddress"}


def condition_holds(condition: Mapping[str, Any] | None, context: Mapping[str, object] | None) -> bool | None:
    """True / False when decidable from the context; None when a key is missing (undecided)."""
    if not condition:
        return True
    undecided = False
    for op, body in condition.items():
        name = op.lower()
        if_exists = name.endswith("ifexists")
        base = name[: -len("ifexists")] if if_exists else name
        compare = _COMPARE.get(base)
        for key, expected in body.items():
            value = _ctx_lookup(context, key)
            if value is _UNDECIDED:
                if if_exists:
                    continue
                undecided = True
                continue
            if compare is None:
                undecided = True
                continue
            values = _as_list(value)
            wanted = _as_list(expected)
            if base in _NEGATED:
                ok = all(compare(v, w) for v in values for w in wanted)
            else:
                ok = any(compare(v, w) for v in values for w in wanted)
            if not ok:
                return False
    return None if undecided else True


# ---------------------------------------------------------------- evaluation

def evaluate(policies: Sequence[Policy], action: str, resource: str,
             context: Mapping[str, object] | None = None) -> Evaluation:
    return CompiledPolicySet(policies).evaluate(action, resource, context)


_CONTEXT_KEYS: dict[int, tuple[Any, str]] = {}


def _context_key(context: Mapping[str, object] | None) -> str:
    """A cache key for a context; contexts are usually shared constants, so memoise by identity."""
    if not context:
        return ""
    hit = _CONTEXT_KEYS.get(id(context))
    if hit is not None and hit[0] is context:
        return hit[1]
    key = json.dumps(context, sort_keys=True, default=str)
    if len(_CONTEXT_KEYS) < 1024:
        _CONTEXT_KEYS[id(context)] = (context, key)
    return key


class CompiledPolicySet:
    """The statements of a principal's policies, indexed once; evaluations are cached per request."""

    def __init__(self, policies: Sequence[Policy]):
        self.entries: list[tuple[str, int, Statement]] = [
            (p.name, i, st) for p in policies for i, st in enumerate(p.statements)
        ]
        self._cache: dict[tuple[str, str, str], Evaluation] = {}
        self._full_admin: dict[str, Evaluation] = {}
        # per action: the statements whose Action/NotAction covers it (matched once, not per resource)
        self._for_action: dict[str, list[tuple[str, int, Statement]]] = {}
        # per (action, matching statements, context): the verdict (it depends on nothing else)
        self._by_match: dict[tuple[str, tuple[int, ...], str], Evaluation] = {}

    def evaluate(self, action: str, resource: str, context: Mapping[str, object] | None = None) -> Evaluation:
        lowered, context_key = action.lower(), _context_key(context)
        ckey = (lowered, resource, context_key)
        hit = self._cache.get(ckey)
        if hit is not None:
            return hit
        relevant = self.statements_for(action)
        matching = tuple(i for i, (_, _, st) in enumerate(relevant) if _resource_part_matches(st, resource))
        mkey = (lowered, matching, context_key)
        result = self._by_match.get(mkey)
        if result is None:
            result = self._by_match[mkey] = self._verdict([relevant[i] for i in matching], context)
        self._cache[ckey] = result
        return result

    def statements_for(self, action: str) -> list[tuple[str, int, Statement]]:
        """(policy, index, statement) of every statement whose Action/NotAction covers `action`, in order."""
        lowered = action.lower()
        relevant = self._for_action.get(lowered)
        if relevant is None:
            relevant = self._for_action[lowered] = [e for e in self.entries if _action_relevant(e[2], action)]
        return relevant

    @staticmethod
    def _verdict(matching: list[tuple[str, int, Statement]], context: Mapping[str, object] | None) -> Evaluation:
        """The decision of the statements that match a request, in policy order: a decided Deny wins."""
        allows: list[tuple[str, int]] = []
        conditional_allows: list[tuple[tuple[str, int], dict[str, Any]]] = []
        conditional_denies: list[tuple[tuple[str, int], dict[str, Any]]] = []
        result: Evaluation | None = None
        for name, idx, st in matching:
            holds = condition_holds(st.condition, context)
            if holds is False:
                continue
            if st.effect == "Deny":
                if holds is True:
                    result = Evaluation(Decision.DENY, ((name, idx),))
                    break
                conditional_denies.append(((name, idx), st.condition or {}))
            elif holds is True:
                allows.append((name, idx))
            else:
                conditional_allows.append(((name, idx), st.condition or {}))
        if result is None:
            if allows and not conditional_denies:
                result = Evaluation(Decision.ALLOW, tuple(allows))
            elif allows or conditional_allows:
                pending = conditional_allows if not allows else []
                result = Evaluation(
                    Decision.CONDITIONAL,
                    tuple(allows) + tuple(m for m, _ in pending) + tuple(m for m, _ in conditional_denies),
                    tuple(c for _, c in pending) + tuple({"deny_unless_false": c} for _, c in conditional_denies),
                )
            else:
                result = Evaluation(Decision.IMPLICIT_DENY)
        return result

    def full_admin(self, context: Mapping[str, object] | None = None) -> Evaluation:
        """Effective `*` on `*`: allowed for EVERY action on EVERY resource. An Allow statement must cover
        everything (Action `*`, Resource `*`; NotAction/NotResource exclude something), and no Deny may
        apply to anything: an applicable Deny (decided true) means not full admin, an undecided one makes
        it CONDITIONAL. (Not the literal request `*` on `*`: a Deny on `ram:*` does not match that string.)"""
        hit = self._full_admin.get(_context_key(context))
        if hit is not None:
            return hit
        allows: list[tuple[str, int]] = []
        pending: list[tuple[tuple[str, int], dict[str, Any]]] = []
        denies: list[tuple[tuple[str, int], dict[str, Any]]] = []
        result: Evaluation | None = None
        for name, idx, st in self.entries:
            holds = condition_holds(st.condition, context)
            if holds is False:
                continue
            if st.effect == "Deny":
                if _matches_nothing(st):
                    continue
                if holds is True:
                    result = Evaluation(Decision.DENY, ((name, idx),))
                    break
                denies.append(((name, idx), st.condition or {}))
            elif _covers_everything(st):
                if holds is True:
                    allows.append((name, idx))
                else:
                    pending.append(((name, idx), st.condition or {}))
        if result is None:
            if allows and not denies:
                result = Evaluation(Decision.ALLOW, tuple(allows))
            elif allows or pending:
                waiting = [] if allows else pending
                result = Evaluation(
                    Decision.CONDITIONAL,
                    tuple(allows) + tuple(m for m, _ in waiting) + tuple(m for m, _ in denies),
                    tuple(c for _, c in waiting) + tuple({"deny_unless_false": c} for _, c in denies),
                )
            else:
                result = Evaluation(Decision.IMPLICIT_DENY)
        self._full_admin[_context_key(context)] = result
        return result

    def allowed_resources(self, action: str, resources: Sequence[str],
                          context: Mapping[str, object] | None = None) -> dict[str, Evaluation]:
        relevant = [e for e in self.entries if _action_relevant(e[2], action)]
        if not relevant:
            return {r: Evaluation(Decision.IMPLICIT_DENY) for r in resources}
        return {r: self.evaluate(action, r, context) for r in resources}


def _action_relevant(st: Statement, action: str) -> bool:
    if st.actions:
        return any(action_matches(p, action) for p in st.actions)
    return bool(st.not_actions) and not any(action_matches(p, action) for p in st.not_actions)


def _all_stars(pattern: str) -> bool:
    """`*`, `**`, `*:*`: a pattern every action / resource matches."""
    return pattern.replace(":", "").strip("*") == "" and pattern.strip(":") != "" and "*" in pattern


def _covers_everything(st: Statement) -> bool:
    if st.not_actions or not any(_all_stars(a) for a in st.actions):
        return False
    if st.not_resources:
        return False
    return not st.resources or any(_all_stars(r) for r in st.resources)


def _matches_nothing(st: Statement) -> bool:
    """A statement no request can match (no actions, or NotAction/NotResource `*`)."""
    if not st.actions and not st.not_actions:
        return True
    return any(_all_stars(a) for a in st.not_actions) or any(_all_stars(r) for r in st.not_resources)


def is_full_admin(policy: Policy) -> bool:
    """An Allow statement with Action * and Resource * (spec: whatever its Condition)."""
    return any(st.effect == "Allow" and "*" in st.actions and "*" in st.resources for st in policy.statements)


# ---------------------------------------------------------------- principals (trust and bucket policies)

def principal_values(principal: Any, kind: str | None = None) -> list[str]:
    """Values of one principal kind ('RAM', 'Service', 'Federated'; keys case-insensitive), or of every
    kind when `kind` is None. `"*"` → `["*"]`; a bare string or list (OSS bucket policies) is RAM."""
    if principal is None:
        return []
    if isinstance(principal, str):
        return [principal] if principal == "*" or kind is None or kind.lower() == "ram" else []
    if isinstance(principal, list | tuple):
        return [str(p) for p in principal] if kind is None or kind.lower() == "ram" else []
    if isinstance(principal, Mapping):
        out: list[str] = []
        for k, v in principal.items():
            if kind is None or str(k).lower() == kind.lower():
                out.extend(str(x) for x in _as_list(v))
        return out
    return []


def principal_names(caller: Principal) -> tuple[str, ...]:
    """Every spelling a trust or bucket policy may name `caller` by (besides its account): its UID, its
    ARN, `acs:ram::<acct>:user|role/<name>`, and for a role its STS sessions (`arn:sts::<acct>:
    assumed-role/<role>/*`: the session name is the assumer's choice, so only `*` names every session)."""
    names = [n for n in (caller.uid, caller.arn) if n]
    if caller.kind in ("user", "role") and caller.name:
        names.append(f"acs:ram::{caller.account_id}:{caller.kind}/{caller.name}")
        if caller.kind == "role":
            names.append(f"arn:sts::{caller.account_id}:assumed-role/{caller.name}/*")
            names.append(f"acs:ram::{caller.account_id}:assumed-role/{caller.name}/*")
    return tuple(names)


def _names_principal(value: str, caller: Principal) -> bool:
    """Does a principal value (`*`, an account UID or root ARN, a user UID, a RAM user/role ARN, an STS
    assumed-role ARN; `*`/`?` wildcards) name `caller`? RAM names are case-insensitive."""
    v = value.strip()
    if v == "*":
        return True
    pattern = _glob(v, True)
    if pattern.fullmatch(caller.account_id) or pattern.fullmatch(f"acs:ram::{caller.account_id}:root"):
        return caller.kind in ("user", "role", "group", "root", "key")
    return any(pattern.fullmatch(n) for n in principal_names(caller))


def _principal_policy_verdict(policy: Policy, applies: Callable[[Statement], bool],
                              context: Mapping[str, object] | None, allow_required: bool) -> Evaluation:
    """Resource-side policies (trust, bucket): Deny wins; an undecided Deny or Allow is CONDITIONAL.

    `allow_required` (trust policies): without an Allow the answer is an implicit deny, whatever undecided
    Deny there is. Bucket policies only add to the identity policies, so an undecided Deny is reported as
    CONDITIONAL even without an Allow (`Evaluation.undecided_deny` tells it from an undecided Allow)."""
    allows: list[tuple[str, int]] = []
    conditional: list[tuple[tuple[str, int], dict[str, Any]]] = []
    deny_conditional: list[tuple[tuple[str, int], dict[str, Any]]] = []
    for i, st in enumerate(policy.statements):
        if not applies(st):
            continue
        holds = condition_holds(st.condition, context)
        if holds is False:
            continue
        if st.effect == "Deny":
            if holds is True:
                return Evaluation(Decision.DENY, ((policy.name, i),))
            deny_conditional.append(((policy.name, i), st.condition or {}))
        elif holds is True:
            allows.append((policy.name, i))
        else:
            conditional.append(((policy.name, i), st.condition or {}))
    if allow_required and not allows and not conditional:
        return Evaluation(Decision.IMPLICIT_DENY)
    if deny_conditional:
        return Evaluation(Decision.CONDITIONAL, tuple(allows) + tuple(m for m, _ in deny_conditional),
                          tuple({"deny_unless_false": c} for _, c in deny_conditional))
    if allows:
        return Evaluation(Decision.ALLOW, tuple(allows))
    if conditional:
        return Evaluation(Decision.CONDITIONAL, tuple(m for m, _ in conditional), tuple(c for _, c in conditional))
    return Evaluation(Decision.IMPLICIT_DENY)


def trust_allows(trust_policy: Policy, caller: Principal, context: Mapping[str, object] | None = None) -> Evaluation:
    """Does a role's trust policy let `caller` assume it? (The caller's own sts:AssumeRole is checked elsewhere.)"""

    def applies(st: Statement) -> bool:
        if st.actions and not any(action_matches(a, "sts:AssumeRole") for a in st.actions):
            return False
        if caller.kind == "service":
            services = principal_values(st.principals, "Service")
            return any(v == "*" or v.lower() == caller.service.lower() for v in services)
        return any(_names_principal(v, caller) for v in principal_values(st.principals, "RAM"))

    return _principal_policy_verdict(trust_policy, applies, context, allow_required=True)


def bucket_policy_evaluation(policy: Policy, bucket: str, caller: Principal | None, action: str, obj_resource: str,
                             context: Mapping[str, object] | None = None) -> Evaluation:
    """An OSS bucket policy's verdict for `caller` (None = anonymous) doing `action` on `obj_resource`."""

    def applies(st: Statement) -> bool:
        if not (_statement_matches(st, action, obj_resource)
                or _statement_matches(st, action, _bucket_form(obj_resource, bucket))):
            return False
        values = principal_values(st.principals, "RAM")
        return "*" in values if caller is None else any(_names_principal(v, caller) for v in values)

    return _principal_policy_verdict(policy, applies, context, allow_required=False)


def _bucket_form(obj_resource: str, bucket: str) -> str:
    """`acs:oss:r:acct:bucket/key` → `acs:oss:r:acct:bucket` (bucket-level statements)."""
    head, _, _ = obj_resource.partition("/")
    return head if head.endswith(bucket) else obj_resource


# ---------------------------------------------------------------- ARNs

def oss_object_arn(account_id: str, bucket: str, key: str = "*", region: str = "*") -> str:
    return f"acs:oss:{region}:{account_id}:{bucket}/{key}"


def oss_bucket_arn(account_id: str, bucket: str, region: str = "*") -> str:
    return f"acs:oss:{region}:{account_id}:{bucket}"


def rds_instance_arn(region: str, account_id: str, instance_id: str) -> str:
    return f"acs:rds:{region}:{account_id}:dbinstance/{instance_id}"


def ram_arn(account_id: str, kind: str, name: str) -> str:
    """The real ARN of a RAM entity (user, role, group, policy): RAM ARNs have an empty region."""
    return f"acs:ram::{account_id}:{kind}/{name}"


def ram_role_arn(account_id: str, role_name: str) -> str:
    return ram_arn(account_id, "role", role_name)


__all__ = [
    "PolicyParseError", "Decision", "Statement", "Policy", "Evaluation", "Principal", "parse_policy", "evaluate",
    "CompiledPolicySet", "is_full_admin", "trust_allows", "bucket_policy_evaluation", "condition_holds",
    "action_matches", "resource_matches", "oss_object_arn", "oss_bucket_arn", "rds_instance_arn", "ram_role_arn",
    "ram_arn", "principal_values", "principal_names", "field",
]
