"""Merged security-group evaluation changes exactly the instances whose groups conflict, nothing else.

The contract (spec/snapshot-format.md) moved from "the union of each group judged alone" to "the merged
rules of all the instance's groups". This script runs the whole analysis twice on the same collected batch
of a generated account — once as shipped, once with `exposure` replaced by the old per-group union (kept
here as the oracle) — and compares every derived relationship and every node annotation. It passes when
the only differences are the CAN_REACH edges and `internet_*` facts of instances whose groups conflict (an
internet Accept in one group that another group's internet Drop of the same or higher precedence covers).

Two datasets: the bench generator's account as it is (its groups never conflict: the result must be
identical), and the same account with a Drop of TCP 22 at priority 1 added to every 7th group (conflicts
in many two-group instances). Run: `cd bench && ../.venv/bin/python merged_exposure.py` (SKYPATH_BENCH_ASSETS sets the size).
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time
from typing import Any

from common import ASSETS, BENCH_ACCOUNT, record, snapshot_path

from checks import analysis
from graph_schema.store import GraphBatch
from loaders.secgroup import format_ranges, internet_open_ranges, merge_ranges
from loaders.snapshot import ReplayTransport, parse_snapshot
from loaders.sync import collect_account, parse_collected_at

DROP_22_EVERY = 7


def union_exposure(batch: GraphBatch) -> None:
    """The superseded rule (oracle): each group judged alone, the instance open where any group is open."""
    rules_of = analysis.internet_rules_by_group(batch)
    member = analysis.groups_of_instances(batch)
    for iid, inst in batch.nodes.get("EcsInstance", {}).items():
        inst["internet_reachable"] = False
        if not inst.get("is_public") or not inst.get("supported", True):
            continue
        ranges: list[tuple[int, int]] = []
        via: list[str] = []
        for sg in sorted(member.get(iid, ())):
            opened = internet_open_ranges(rules_of.get(sg, []), "tcp")
            if opened:
                ranges.extend(opened)
                via.append(sg)
        merged = merge_ranges(ranges)
        if merged:
            inst["internet_reachable"] = True
            inst["internet_ports"] = format_ranges(merged)
            batch.rel("CAN_REACH", ("Internet", "0.0.0.0/0"), ("EcsInstance", iid), analysis.DERIVED,
                      ports=format_ranges(merged), via=via)


def conflicting_instances(batch: GraphBatch) -> set[str]:
    """Instances in 2+ groups where an internet Accept of one group is covered by an internet Drop of another
    at the same or higher precedence (a lower priority number)."""
    rules_of = analysis.internet_rules_by_group(batch)
    member = analysis.groups_of_instances(batch)
    out = set()
    for iid, groups in member.items():
        for a in groups:
            for b in groups - {a}:
                if any(acc.policy == "accept" and drop.policy == "drop" and drop.priority <= acc.priority
                       and drop.protocol in (acc.protocol, "all") and drop.port_from <= acc.port_to
                       and acc.port_from <= drop.port_to
                       for acc in rules_of.get(a, []) for drop in rules_of.get(b, [])):
                    out.add(iid)
    return out


def _state(batch: GraphBatch) -> tuple[dict[str, Any], dict[str, Any]]:
    rels = {"|".join(k): json.dumps(r.props, sort_keys=True, default=str) for k, r in batch.rels.items()}
    nodes = {f"{label}|{nid}": json.dumps(row, sort_keys=True, default=str)
             for label, rows in batch.nodes.items() for nid, row in rows.items()}
    return rels, nodes


def compare(doc: dict[str, Any]) -> dict[str, Any]:
    snap = parse_snapshot(doc)
    collected = collect_account(ReplayTransport(snap), collected_at=parse_collected_at(snap.collected_at))
    batches = {"merged": collected.batch, "union": copy.deepcopy(collected.batch)}
    conflicts = conflicting_instances(collected.batch)
    seconds: dict[str, float] = {}
    shipped = analysis.exposure
    for name, batch in batches.items():
        analysis.exposure = shipped if name == "merged" else union_exposure
        try:
            started = time.perf_counter()
            analysis.analyse(batch, snap.account_id, collected.scopes)
            seconds[name] = round(time.perf_counter() - started, 2)
        finally:
            analysis.exposure = shipped
    (rels_m, nodes_m), (rels_u, nodes_u) = _state(batches["merged"]), _state(batches["union"])
    changed_rels = {k for k in rels_m.keys() | rels_u.keys() if rels_m.get(k) != rels_u.get(k)}
    changed_nodes = {k for k in nodes_m.keys() | nodes_u.keys() if nodes_m.get(k) != nodes_u.get(k)}
    touched = {k.split("|")[-1] for k in changed_rels} | {k.split("|", 1)[1] for k in changed_nodes}
    unexplained = sorted(k for k in changed_rels if not (k.split("|")[2] == "CAN_REACH" and k.split("|")[-1] in conflicts))
    unexplained += sorted(k for k in changed_nodes if not (k.startswith("EcsInstance|") and k.split("|", 1)[1] in conflicts))
    return {
        "instances": len(collected.batch.nodes.get("EcsInstance", {})),
        "conflicting_instances": len(conflicts),
        "instances_whose_exposure_changed": len(touched),
        "derived_rels_compared": len(rels_m),
        "changed_rels": len(changed_rels),
        "changed_nodes": len(changed_nodes),
        "unexplained_differences": len(unexplained),
        "unexplained_sample": unexplained[:10],
        "analysis_seconds": seconds,
    }


def with_conflicts(doc: dict[str, Any]) -> dict[str, Any]:
    """Every DROP_22_EVERY-th group also drops TCP 22 from the internet at priority 1."""
    out = copy.deepcopy(doc)
    n = 0
    for call in out["calls"]:
        if call["action"] == "DescribeSecurityGroupAttribute":
            if n % DROP_22_EVERY == 0:
                call["response"]["Permissions"]["Permission"].append({
                    "SecurityGroupRuleId": f"sgr-drop22-{n}", "Direction": "ingress", "IpProtocol": "TCP",
                    "PortRange": "22/22", "SourceCidrIp": "0.0.0.0/0", "Ipv6SourceCidrIp": "", "Policy": "Drop",
                    "Priority": "1"})
            n += 1
    return out


def main() -> int:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    doc = json.loads(snapshot_path(ASSETS, BENCH_ACCOUNT).read_text())
    figures = {"generator": compare(doc), "generator_with_conflicts": compare(with_conflicts(doc))}
    print(json.dumps(figures, indent=2))
    record("merged_exposure", figures)
    ok = all(f["unexplained_differences"] == 0 for f in figures.values())
    ok = ok and figures["generator"]["changed_rels"] == 0
    print("OK: only conflicting instances changed" if ok else "FAIL: differences beyond conflicting instances")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
