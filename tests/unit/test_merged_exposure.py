"""An instance's exposure comes from the MERGED rules of all its security groups (spec: snapshot-format.md):
ECS sorts them together by priority, Drop wins a tie across groups too, IPv4 and IPv6 stay separate. A group's
own facts (its check items) still judge its rules alone. The what-if `close-ports:` re-judges the merged rules."""

from __future__ import annotations

import json
from typing import Any

import pytest

from checks.analysis import analyse
from checks.paths import AttackGraph, Edge, apply_what_if
from graph_schema.store import GraphBatch
from loaders.secgroup import rule_from_permission
from loaders.snapshot import ReplayTransport, parse_snapshot
from loaders.sync import collect_account, parse_collected_at
from tests.helpers.sample import sample_doc

INSTANCE = "i-bp1bastion0000001"  # public (EIP) in the sample
GROUP_A = "sg-bp1bastion000001"
GROUP_B = "sg-bp1app0000000001"  # its only other member has no public address


def perm(port: str, *, policy: str = "Accept", priority: int = 1, proto: str = "TCP", v4: str = "0.0.0.0/0",
         v6: str = "") -> dict[str, str]:
    return {"Direction": "ingress", "IpProtocol": proto, "PortRange": port, "SourceCidrIp": v4,
            "Ipv6SourceCidrIp": v6, "Policy": policy, "Priority": str(priority), "NicType": "intranet"}


def in_two_groups(rules_a: list[dict[str, str]], rules_b: list[dict[str, str]]) -> GraphBatch:
    """The sample with the instance in groups A and B, holding exactly these rules (collect + analyse)."""
    doc = sample_doc()
    for call in doc["calls"]:
        if call["action"] == "DescribeInstances":
            for inst in call["response"]["Instances"]["Instance"]:
                if inst["InstanceId"] == INSTANCE:
                    inst["SecurityGroupIds"]["SecurityGroupId"] = [GROUP_A, GROUP_B]
        if call["action"] == "DescribeSecurityGroupAttribute":
            group = call["params"]["SecurityGroupId"]
            if group in (GROUP_A, GROUP_B):
                call["response"]["Permissions"]["Permission"] = rules_a if group == GROUP_A else rules_b
    snap = parse_snapshot(json.loads(json.dumps(doc)))
    collected = collect_account(ReplayTransport(snap), collected_at=parse_collected_at(snap.collected_at))
    analyse(collected.batch, snap.account_id, collected.scopes)
    return collected.batch


def reach(batch: GraphBatch) -> dict[str, Any] | None:
    for row in batch.rels.values():
        if row.type == "CAN_REACH" and row.dst_id == INSTANCE:
            return row.props
    return None


MERGED_CASES = [
    # (id, rules of A, rules of B, ports the internet reaches (None: not exposed), groups whose Accepts open them)
    ("drop in the other group at higher precedence closes",
     [perm("22/22", priority=10)], [perm("22/22", policy="Drop", priority=5)], None, []),
    ("tie across groups: drop wins",
     [perm("22/22", priority=5)], [perm("22/22", policy="Drop", priority=5)], None, []),
    ("drop in the other group at lower precedence does not close",
     [perm("22/22", priority=5)], [perm("22/22", policy="Drop", priority=10)], ["tcp/22"], [GROUP_A]),
    ("ipv4 drop-all does not close an ipv6 accept of the other group",
     [perm("22/22", priority=10, v4="", v6="::/0")], [perm("-1/-1", policy="Drop", proto="ALL")], ["tcp/22"], [GROUP_A]),
    ("ipv6 drop closes an ipv6 accept of the other group",
     [perm("22/22", priority=10, v4="", v6="::/0")], [perm("22/22", policy="Drop", v4="", v6="::/0")], None, []),
    ("a drop elsewhere covers part of a range: 22 closed, 80 open",
     [perm("1/1024", priority=10)], [perm("22/22", policy="Drop", priority=1)], ["tcp/1-21", "tcp/23-1024"], [GROUP_A]),
    ("accepts of both groups add up",
     [perm("22/22")], [perm("80/80")], ["tcp/22", "tcp/80"], sorted([GROUP_A, GROUP_B])),
    ("an accept of the other group wins over a lower-precedence drop here",
     [perm("22/22", policy="Drop", priority=50)], [perm("22/22", priority=1)], ["tcp/22"], [GROUP_B]),
    ("a private-source drop does not close internet ingress",
     [perm("22/22", priority=10)], [perm("22/22", policy="Drop", v4="10.0.0.0/8")], ["tcp/22"], [GROUP_A]),
]


@pytest.mark.parametrize(("rules_a", "rules_b", "ports", "via"), [c[1:] for c in MERGED_CASES],
                         ids=[c[0] for c in MERGED_CASES])
def test_exposure_from_merged_rules(rules_a: list[dict[str, str]], rules_b: list[dict[str, str]],
                                    ports: list[str] | None, via: list[str]) -> None:
    batch = in_two_groups(rules_a, rules_b)
    edge = reach(batch)
    instance = batch.nodes["EcsInstance"][INSTANCE]
    if ports is None:
        assert edge is None
        assert instance["internet_reachable"] is False
    else:
        assert edge is not None
        assert edge["ports"] == ports
        assert edge["via"] == via
        assert instance["internet_ports"] == ports


def test_a_group_alone_still_judges_its_own_rules() -> None:
    """The group's own check items see its Accept of 22 although the other group's Drop closes it on the NIC."""
    batch = in_two_groups([perm("22/22", priority=10)], [perm("22/22", policy="Drop", priority=5)])
    group_a = batch.nodes["SecurityGroup"][GROUP_A]
    assert (group_a["inet_tcp_from"], group_a["inet_tcp_to"]) == ([22], [22])
    assert reach(batch) is None


# ------------------------------------------------------------------ the what-if on merged rules

def graph(groups: dict[str, list[dict[str, str]]]) -> AttackGraph:
    g = AttackGraph("1")
    g.entries.append(("EcsInstance", "i-1"))
    g.edges.append(Edge("EXPOSES", ("Internet", "0.0.0.0/0"), ("EcsInstance", "i-1"), "exposed"))
    g.sg_members["i-1"] = sorted(groups)
    g.sg_of["i-1"] = sorted(groups)
    g.sg_rules = {sg: [rule_from_permission(p) for p in perms] for sg, perms in groups.items()}
    return g


WHAT_IF_CASES = [
    # (id, groups of the instance, change, exposure cut?)
    ("the other group keeps 80 open", {"A": [perm("22/22"), perm("80/80")], "B": [perm("80/80")]},
     "close-ports:A:tcp:22,80", False),
    ("closing the only opening port cuts", {"A": [perm("22/22")], "B": [perm("8080/8080", v4="10.0.0.0/8")]},
     "close-ports:A:tcp:22", True),
    ("what stays open here is dropped by the other group", {"A": [perm("1/1024", priority=10)],
     "B": [perm("1/21", policy="Drop"), perm("23/1024", policy="Drop")]}, "close-ports:A:tcp:22", True),
    ("an accept elsewhere loses to a drop here: closing here does not open it",
     {"A": [perm("22/22", priority=10), perm("80/80", policy="Drop", priority=1)], "B": [perm("80/80", priority=5)]},
     "close-ports:A:tcp:22", True),
    ("'all-port-rules' revokes only the rules opening every port, as the fix does",
     {"A": [perm("1/65535"), perm("22/22")], "B": []}, "close-ports:A:tcp:all-port-rules", False),
    ("'all' closes every port of the group", {"A": [perm("1/65535"), perm("22/22")], "B": []},
     "close-ports:A:tcp:all", True),
    ("udp ports never cut TCP exposure", {"A": [perm("-1/-1", proto="ALL")], "B": []}, "close-ports:A:udp:all", False),
    ("close-exposure of one group: the other still opens", {"A": [perm("22/22")], "B": [perm("443/443")]},
     "close-exposure:A", False),
    ("close-exposure of the opening group, the other only drops", {"A": [perm("22/22")], "B": [perm("80/80", policy="Drop")]},
     "close-exposure:A", True),
]


@pytest.mark.parametrize(("groups", "change", "cut"), [c[1:] for c in WHAT_IF_CASES], ids=[c[0] for c in WHAT_IF_CASES])
def test_what_if_close_ports_on_merged_rules(groups: dict[str, list[dict[str, str]]], change: str, cut: bool) -> None:
    removed = apply_what_if(graph(groups), change)
    assert bool(removed) is cut
