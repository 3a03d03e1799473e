"""Security-group rule precedence, evaluated once per ingest (pure).

Alibaba's semantics: for a given source and port, the matching rule with the lowest priority
number wins; on a tie `Drop` wins. IPv4 (`SourceCidrIp`) and IPv6 (`Ipv6SourceCidrIp`) rules are
separate: a Drop from 0.0.0.0/0 does not close what an Accept from ::/0 opens.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, replace
from typing import Any

INTERNET_SOURCES = {"v4": "0.0.0.0/0", "v6": "::/0"}
MAX_PORT = 65535


@dataclass(frozen=True)
class Rule:
    direction: str
    protocol: str  # tcp | udp | icmp | all | ...
    port_from: int
    port_to: int
    source_v4: str
    source_v6: str
    policy: str  # accept | drop
    priority: int


def parse_port_range(text: Any) -> tuple[int, int]:
    """`"22/22"` → (22, 22); `"-1/-1"` (all) → (1, 65535)."""
    s = str(text or "-1/-1").strip()
    if "/" in s:
        a, b = s.split("/", 1)
    else:
        a = b = s
    try:
        lo, hi = int(a), int(b)
    except ValueError:
        return (1, MAX_PORT)
    if lo == -1 or hi == -1:
        return (1, MAX_PORT)
    return (max(1, min(lo, hi)), min(MAX_PORT, max(lo, hi)))


def parse_priority(value: Any) -> int:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return 1  # the API's default priority is 1


def rule_from_permission(perm: dict[str, Any]) -> Rule:
    lo, hi = parse_port_range(perm.get("PortRange"))
    return Rule(
        direction=str(perm.get("Direction") or "ingress").lower(),
        protocol=str(perm.get("IpProtocol") or "all").lower(),
        port_from=lo,
        port_to=hi,
        source_v4=str(perm.get("SourceCidrIp") or "").strip(),
        source_v6=str(perm.get("Ipv6SourceCidrIp") or "").strip(),
        policy=str(perm.get("Policy") or "accept").lower(),
        priority=parse_priority(perm.get("Priority")),
    )


def _is_internet(cidr: str) -> bool:
    """0.0.0.0/0 and ::/0 in any spelling (e.g. `::0/0`, `0.0.0.0/0 `)."""
    try:
        return ipaddress.ip_network(cidr.strip(), strict=False).prefixlen == 0
    except ValueError:
        return False


def _source_of(rule: Rule, family: str) -> str:
    return rule.source_v4 if family == "v4" else rule.source_v6


def internet_openings(rules: list[Rule], protocol: str = "tcp") -> tuple[list[tuple[int, int]], set[int]]:
    """Port ranges of `protocol` open to the internet (either family), merged and sorted, and the indices
    (in `rules`) of the Accept rules that win somewhere in them. `rules` may come from several groups: ECS
    merges the rules of all an instance's groups into one list, so a Drop in one group closes what an Accept
    of lower precedence opens in another, and Drop wins a tie across groups too."""
    opened: list[tuple[int, int]] = []
    winners_at: set[int] = set()
    for family in INTERNET_SOURCES:
        relevant = [
            (i, r)
            for i, r in enumerate(rules)
            if r.direction == "ingress"
            and _is_internet(_source_of(r, family))
            and r.protocol in (protocol, "all")
        ]
        if not relevant:
            continue
        bounds = sorted({1, MAX_PORT + 1} | {r.port_from for _, r in relevant} | {r.port_to + 1 for _, r in relevant})
        for lo, nxt in zip(bounds, bounds[1:], strict=False):
            hi = nxt - 1
            matching = [(i, r) for i, r in relevant if r.port_from <= lo and r.port_to >= hi]
            if not matching:
                continue
            top = min(r.priority for _, r in matching)
            winners = [(i, r) for i, r in matching if r.priority == top]
            if all(r.policy == "accept" for _, r in winners):
                opened.append((lo, hi))
                winners_at.update(i for i, _ in winners)
    return merge_ranges(opened), winners_at


def internet_open_ranges(rules: list[Rule], protocol: str = "tcp") -> list[tuple[int, int]]:
    """Port ranges of `protocol` open to the internet (either family), merged and sorted."""
    return internet_openings(rules, protocol)[0]


def is_internet_rule(rule: Rule) -> bool:
    """An ingress rule whose source is the whole internet (the only rules that decide internet exposure)."""
    return rule.direction == "ingress" and (_is_internet(rule.source_v4) or _is_internet(rule.source_v6))


def rule_from_row(row: dict[str, Any]) -> Rule:
    """A Rule from the properties of a stored `SecurityGroupRule` node (see loaders/ecs.py)."""
    return Rule(
        direction=str(row.get("direction") or "ingress"),
        protocol=str(row.get("protocol") or "all"),
        port_from=int(row.get("port_from") or 1),
        port_to=int(row.get("port_to") or MAX_PORT),
        source_v4=str(row.get("source_cidr") or ""),
        source_v6=str(row.get("source_ipv6_cidr") or ""),
        policy=str(row.get("policy") or "accept"),
        priority=int(row.get("priority") or 1),
    )


def kept_when_closing(rule: Rule, protocol: str, ports: tuple[int, ...] | None, *,
                      full_range_only: bool = False) -> list[Rule] | None:
    """What the security-group fix leaves of an internet Accept rule when it closes `ports` of `protocol`
    (None: every port; `full_range_only`: only rules that open every port are touched, as the all-ports fix
    does): None when the rule is untouched, else the narrower rules authorised again in its place, same
    priority (an ALL rule keeps the other protocol's ports; ICMP is no port). One rule for the fix's requests
    (checks/remediation.py) and the what-if that predicts them (checks/paths.py)."""
    if rule.policy != "accept" or rule.protocol not in (protocol, "all") or not is_internet_rule(rule):
        return None
    lo, hi = rule.port_from, rule.port_to
    if full_range_only:
        opens = lo <= 1 and hi >= MAX_PORT
    else:
        opens = ports is None or any(lo <= p <= hi for p in ports)
    if not opens:
        return None
    kept = [replace(rule, protocol=protocol, port_from=a, port_to=b) for a, b in ranges_without(lo, hi, ports)]
    if rule.protocol == "all":
        kept.append(replace(rule, protocol="udp" if protocol == "tcp" else "tcp", port_from=1, port_to=MAX_PORT))
    return kept


def ranges_without(lo: int, hi: int, ports: tuple[int, ...] | None) -> list[tuple[int, int]]:
    """The port range [lo, hi] without `ports` (None: without all of them)."""
    if ports is None:
        return []
    out: list[tuple[int, int]] = []
    start = lo
    for p in sorted(set(ports)):
        if p < start or p > hi:
            continue
        if p > start:
            out.append((start, p - 1))
        start = p + 1
    if start <= hi:
        out.append((start, hi))
    return out


def merge_ranges(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for lo, hi in sorted(ranges):
        if merged and lo <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


def format_ranges(ranges: list[tuple[int, int]], protocol: str = "tcp") -> list[str]:
    return [f"{protocol}/{lo}" if lo == hi else f"{protocol}/{lo}-{hi}" for lo, hi in ranges]
