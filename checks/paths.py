"""Attack paths over the derived edges, choke points (min-cut) and what-if.

Entry points: internet-reachable ECS instances (CAN_REACH) and active access keys. Pivots: the
instance RAM role (HAS_ROLE), role assumption (CAN_ASSUME), escalation (CAN_ESCALATE → Account,
which then reaches every target). Targets: OSS buckets (read/write), RDS instances (admin), the
account. The edges come from Cypher (one query per kind); the bounded walk, the representative
path per (entry, target) and the min-cut run in Python over that small derived subgraph.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from neo4j import Driver

MAX_PIVOTS = 6
INF = 10**9


@dataclass(frozen=True)
class Edge:
    kind: str  # EXPOSES | ASSUMES | AUTHENTICATES | CAN_ASSUME | CAN_ACCESS | CAN_ESCALATE | CONTROLS
    src: tuple[str, str]  # (label, id)
    dst: tuple[str, str]
    detail: str
    conditional: bool = False
    access: tuple[str, ...] = ()
    via: tuple[str, ...] = ()

    @property
    def cuttable(self) -> bool:
        return self.kind != "CONTROLS"


@dataclass
class AttackGraph:
    account_id: str
    entries: list[tuple[str, str]] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    targets: list[tuple[str, str]] = field(default_factory=list)
    # hints for choke-point changes
    sg_of: dict[str, list[str]] = field(default_factory=dict)

    def adjacency(self, removed: frozenset[Edge] = frozenset()) -> dict[tuple[str, str], list[Edge]]:
        adj: dict[tuple[str, str], list[Edge]] = defaultdict(list)
        for e in self.edges:
            if e not in removed:
                adj[e.src].append(e)
        return adj


def load_attack_graph(driver: Driver, account_id: str) -> AttackGraph:
    g = AttackGraph(account_id)
    account = ("Account", account_id)
    with driver.session() as session:
        def q(query: str) -> list[dict[str, Any]]:
            return session.run(query, account=account_id).data()

        for r in q("MATCH (:Internet {account_id: $account})-[c:CAN_REACH]->(e:EcsInstance) "
                   "WHERE coalesce(e.supported, true) RETURN e.id AS id, c.ports AS ports, c.via AS via"):
            inst = ("EcsInstance", r["id"])
            g.entries.append(inst)
            g.sg_of[r["id"]] = list(r["via"] or [])
            ports = ", ".join(r["ports"] or [])
            g.edges.append(Edge("EXPOSES", ("Internet", "0.0.0.0/0"), inst, f"{ports} via {', '.join(r['via'] or [])}"))
        for r in q("MATCH (e:EcsInstance {account_id: $account})-[:HAS_ROLE]->(role:RamRole) "
                   "WHERE EXISTS { (:Internet)-[:CAN_REACH]->(e) } RETURN e.id AS e, role.id AS r"):
            g.edges.append(Edge("ASSUMES", ("EcsInstance", r["e"]), ("RamRole", r["r"]), "instance RAM role"))
        for r in q("MATCH (k:AccessKey {account_id: $account})-[:AUTHENTICATES]->(u:RamUser) "
                   "WHERE toLower(k.status) = 'active' AND coalesce(k.supported, true) RETURN k.id AS k, u.id AS u"):
            key = ("AccessKey", r["k"])
            g.entries.append(key)
            g.edges.append(Edge("AUTHENTICATES", key, ("RamUser", r["u"]), "access key of the user"))
        for r in q("MATCH (p {account_id: $account})-[c:CAN_ASSUME]->(role:RamRole) "
                   "RETURN labels(p)[0] AS l, p.id AS p, role.id AS r, c.via AS via, coalesce(c.conditional, false) AS cond"):
            g.edges.append(Edge("CAN_ASSUME", (r["l"], r["p"]), ("RamRole", r["r"]),
                                f"sts:AssumeRole via {', '.join(r['via'] or [])}", r["cond"], via=tuple(r["via"] or [])))
        supported_targets: dict[str, list[str]] = defaultdict(list)
        for r in q("MATCH (t {account_id: $account}) WHERE (t:OssBucket OR t:RdsInstance) AND coalesce(t.supported, true) "
                   "RETURN labels(t)[0] AS l, t.id AS id ORDER BY id"):
            supported_targets[r["l"]].append(r["id"])
        for r in q("MATCH (p {account_id: $account})-[c:CAN_ACCESS]->(t) WHERE coalesce(t.supported, true) "
                   "RETURN labels(p)[0] AS l, p.id AS p, labels(t)[0] AS tl, t.id AS t, c.read AS read, t.target_label AS all_label, "
                   "c.write AS write, c.admin AS admin, c.via AS via, coalesce(c.conditional, false) AS cond, "
                   "[coalesce(c.read_except, []), coalesce(c.write_except, []), coalesce(c.admin_except, [])] AS excepts"):
            modes = [(m, set(ex)) for m, ex in zip(("read", "write", "admin"), r["excepts"], strict=True) if r[m]]
            # a wildcard grant is stored once (AllTargets node): expand it to every target but its exceptions
            targets = ([(r["all_label"], t) for t in supported_targets[r["all_label"]]] if r["all_label"]
                       else [(r["tl"], r["t"])])
            for target in targets:
                access = tuple(m for m, ex in modes if target[1] not in ex)
                if access:
                    g.edges.append(Edge("CAN_ACCESS", (r["l"], r["p"]), target, "; ".join(r["via"] or []),
                                        r["cond"], access, tuple(r["via"] or [])))
        for r in q("MATCH (p {account_id: $account})-[c:CAN_ESCALATE]->(a:Account) "
                   "RETURN labels(p)[0] AS l, p.id AS p, c.technique AS t, c.via AS via, "
                   "coalesce(c.conditional, false) AS cond"):
            g.edges.append(Edge("CAN_ESCALATE", (r["l"], r["p"]), account,
                                f"{r['t']} via {', '.join(v for v in (r['via'] or []) if v)}", r["cond"],
                                ("admin",), tuple(r["via"] or [])))
        for label, ids in supported_targets.items():
            for target_id in ids:
                target = (label, target_id)
                g.targets.append(target)
                access = ("read", "write") if label == "OssBucket" else ("admin",)
                g.edges.append(Edge("CONTROLS", account, target, "full control of the account", access=access))
        g.targets.append(account)
    return g


@dataclass
class Path:
    entry: tuple[str, str]
    target: tuple[str, str]
    edges: list[Edge]
    alternatives: int = 1

    @property
    def conditional(self) -> bool:
        return any(e.conditional for e in self.edges)


def _walk(g: AttackGraph, adj: dict[tuple[str, str], list[Edge]], entry: tuple[str, str]) -> dict[tuple[str, str], Path]:
    """Bounded BFS from one entry: shortest (then unconditional) path to each target, with alternative counts."""
    best: dict[tuple[str, str], list[Edge]] = {entry: []}
    counts: dict[tuple[str, str], int] = defaultdict(int)
    counts[entry] = 1
    queue = deque([entry])
    depth = {entry: 0}
    start_edges = [e for e in g.edges if e.kind == "EXPOSES" and e.dst == entry]
    while queue:
        node = queue.popleft()
        if depth[node] > MAX_PIVOTS:
            continue
        for e in adj.get(node, []):
            nxt = e.dst
            cand = best[node] + [e]
            if nxt not in best:
                best[nxt] = cand
                depth[nxt] = depth[node] + 1
                counts[nxt] += counts[node]
                if nxt[0] in ("RamRole", "RamUser", "Account", "EcsInstance"):
                    queue.append(nxt)
            else:
                counts[nxt] += counts[node]
                old = best[nxt]
                if len(cand) == len(old) and any(x.conditional for x in old) and not any(x.conditional for x in cand):
                    best[nxt] = cand
    targets = set(g.targets)
    out = {}
    for node, chain in best.items():
        if node in targets and chain:
            out[node] = Path(entry, node, start_edges[:1] + chain, max(1, counts[node]))
    return out


def compute_paths(g: AttackGraph, removed: frozenset[Edge] = frozenset()) -> list[Path]:
    adj = g.adjacency(removed)
    paths: list[Path] = []
    for entry in sorted(set(g.entries)):
        if entry[0] == "EcsInstance" and not any(e.kind == "EXPOSES" and e.dst == entry for e in g.edges if e not in removed):
            continue
        paths.extend(_walk(g, adj, entry).values())
    paths.sort(key=lambda p: (p.entry, p.target))
    return paths


def _access(path: Path) -> list[str]:
    last = path.edges[-1]
    if last.kind == "CONTROLS":
        return list(last.access)
    if path.target[0] == "Account":
        return ["admin"]
    return list(last.access)


def _severity(path: Path, access: list[str]) -> str:
    internet = path.entry[0] == "EcsInstance"
    if path.target[0] == "Account":
        return "critical"
    if "write" in access or "admin" in access:
        return "critical" if internet else "high"
    return "high" if internet else "medium"


_KIND_WORD = {"OssBucket": "oss", "RdsInstance": "rds", "Account": "account"}


def _path_type(path: Path) -> str:
    words = ["internet", "ecs"] if path.entry[0] == "EcsInstance" else ["accesskey", "user"]
    kinds = [e.kind for e in path.edges]
    if "ASSUMES" in kinds or "CAN_ASSUME" in kinds:
        words.append("role")
    if "CAN_ESCALATE" in kinds:
        words.append("escalation")
    words.append(_KIND_WORD.get(path.target[0], path.target[0].lower()))
    return "_".join(words)


def path_json(account_id: str, path: Path) -> dict[str, Any]:
    access = _access(path)
    nodes: list[dict[str, str]] = []
    for e in path.edges:
        if not nodes:
            nodes.append({"type": e.src[0], "id": e.src[1]})
        nodes.append({"type": e.dst[0], "id": e.dst[1]})
    ident = hashlib.sha1(f"{account_id}|{path.entry}|{path.target}".encode()).hexdigest()[:16]
    return {
        "id": ident,
        "type": _path_type(path),
        "severity": _severity(path, access),
        "conditional": path.conditional,
        "entry": {"type": path.entry[0], "id": path.entry[1]},
        "target": {"type": path.target[0], "id": path.target[1] if path.target[0] != "Account" else f"acs:ram::{account_id}:root"},
        "access": access,
        "alternatives": path.alternatives - 1,
        "nodes": [n if n["type"] != "Account" else {"type": "Account", "id": f"acs:ram::{account_id}:root"} for n in nodes],
        "edges": [{"type": e.kind, "detail": e.detail, "conditional": e.conditional} for e in path.edges],
    }


# ---------------------------------------------------------------- choke points (min-cut)

def _pairs(paths: Iterable[Path]) -> set[tuple[tuple[str, str], tuple[str, str]]]:
    return {(p.entry, p.target) for p in paths if not p.conditional}


def min_cut(g: AttackGraph, paths: list[Path]) -> list[Edge]:
    """Smallest set of cuttable edges separating every entry from every target it reaches (Edmonds–Karp)."""
    used: set[Edge] = {e for p in paths if not p.conditional for e in p.edges}
    if not used:
        return []
    source, sink = ("_S", "s"), ("_T", "t")
    cap: dict[tuple[Any, Any], int] = defaultdict(int)
    edge_of: dict[tuple[Any, Any], list[Edge]] = defaultdict(list)
    adj: dict[Any, set[Any]] = defaultdict(set)

    def add(u: Any, v: Any, c: int) -> None:
        cap[(u, v)] += c
        adj[u].add(v)
        adj[v].add(u)

    for e in used:
        add(e.src, e.dst, 1 if e.cuttable else INF)
        edge_of[(e.src, e.dst)].append(e)
    for p in paths:
        if not p.conditional:
            add(source, p.edges[0].src, INF)
            add(p.target, sink, INF)
    flow: dict[tuple[Any, Any], int] = defaultdict(int)
    while True:
        parent: dict[Any, Any] = {source: None}
        queue = deque([source])
        while queue and sink not in parent:
            u = queue.popleft()
            for v in adj[u]:
                if v not in parent and cap[(u, v)] - flow[(u, v)] > 0:
                    parent[v] = u
                    queue.append(v)
        if sink not in parent:
            break
        v = sink
        bottleneck = INF
        while parent[v] is not None:
            u = parent[v]
            bottleneck = min(bottleneck, cap[(u, v)] - flow[(u, v)])
            v = u
        v = sink
        while parent[v] is not None:
            u = parent[v]
            flow[(u, v)] += bottleneck
            flow[(v, u)] -= bottleneck
            v = u
    reachable = set(parent)
    cut = [e for (u, v), es in edge_of.items() if u in reachable and v not in reachable for e in es if e.cuttable]
    return sorted(set(cut), key=lambda e: (e.kind, e.src, e.dst))


def _change(e: Edge, g: AttackGraph) -> tuple[str, str, str]:
    """(type, id, concrete change) of the node that represents cutting edge `e`."""
    if e.kind == "EXPOSES":
        sgs = g.sg_of.get(e.dst[1], [])
        return ("SecurityGroup" if len(sgs) == 1 else "EcsInstance", sgs[0] if len(sgs) == 1 else e.dst[1],
                f"revoke the internet ingress rules ({e.detail}) of {', '.join(sgs) or e.dst[1]} for {e.dst[1]}")
    if e.kind == "ASSUMES":
        return ("RamRole", e.dst[1], f"detach RAM role {e.dst[1]} from instance {e.src[1]}")
    if e.kind == "AUTHENTICATES":
        return ("AccessKey", e.src[1], f"disable access key {e.src[1]} of {e.dst[1]}")
    if e.kind == "CAN_ASSUME":
        return ("RamRole", e.dst[1], f"tighten the trust policy of {e.dst[1]} or remove sts:AssumeRole "
                f"({', '.join(e.via)}) from {e.src[1]}")
    pol = next((v.split(" via ")[-1] for v in e.via if v), "")
    if e.kind == "CAN_ESCALATE":
        return ("RamPolicy" if pol else e.src[0], pol or e.src[1], f"detach {pol or 'the escalating policy'} from {e.src[1]}")
    return ("RamPolicy" if pol else e.src[0], pol or e.src[1], f"detach {pol or 'the granting policy'} from {e.src[1]} "
            f"(access to {e.dst[1]})")


def choke_points(g: AttackGraph, paths: list[Path]) -> list[dict[str, Any]]:
    base = _pairs(paths)
    out = []
    for e in min_cut(g, paths):
        remaining = _pairs(compute_paths(g, frozenset({e})))
        ctype, cid, change = _change(e, g)
        out.append({"type": ctype, "id": cid, "paths_cut": len(base - remaining), "change": change,
                    "edge": {"type": e.kind, "from": e.src[1], "to": e.dst[1]}})
    out.sort(key=lambda c: (-c["paths_cut"], c["type"], c["id"]))
    return out


# ---------------------------------------------------------------- what-if

class WhatIfError(ValueError):
    pass


WHAT_IF_FORMS = {
    "detach-role": "detach-role:<instance id>  (remove the instance's RAM role)",
    "close-exposure": "close-exposure:<instance id or sg id>  (revoke internet ingress)",
    "disable-key": "disable-key:<access key id>",
    "detach-policy": "detach-policy:<policy id, e.g. Custom/ops-admin>[@<principal id>]",
    "remove-assume": "remove-assume:<principal id>-><role id>",
}


def apply_what_if(g: AttackGraph, change: str) -> frozenset[Edge]:
    """The edges a proposed change removes (the account data is never touched)."""
    kind, _, arg = change.partition(":")
    if kind not in WHAT_IF_FORMS or not arg:
        raise WhatIfError("unknown change; use one of: " + "; ".join(WHAT_IF_FORMS.values()))
    if kind == "detach-role":
        return frozenset(e for e in g.edges if e.kind == "ASSUMES" and e.src[1] == arg)
    if kind == "close-exposure":
        return frozenset(e for e in g.edges if e.kind == "EXPOSES" and (e.dst[1] == arg or arg in g.sg_of.get(e.dst[1], [])))
    if kind == "disable-key":
        return frozenset(e for e in g.edges if e.kind == "AUTHENTICATES" and e.src[1] == arg)
    if kind == "remove-assume":
        src, _, dst = arg.partition("->")
        return frozenset(e for e in g.edges if e.kind == "CAN_ASSUME" and e.src[1] == src and e.dst[1] == dst)
    policy, _, principal = arg.partition("@")
    removed = set()
    for e in g.edges:
        if e.kind not in ("CAN_ACCESS", "CAN_ESCALATE", "CAN_ASSUME") or (principal and e.src[1] != principal):
            continue
        granting = {v.split(" via ")[-1] for v in e.via}
        names = {n.strip() for g_ in granting for n in g_.split(",") if n.strip()}
        if names and names <= {policy}:
            removed.add(e)
    return frozenset(removed)


def analyse_paths(driver: Driver, account_id: str, what_if: list[str] | None = None) -> dict[str, Any]:
    g = load_attack_graph(driver, account_id)
    paths = compute_paths(g)
    doc: dict[str, Any] = {
        "account_id": account_id,
        "paths": [path_json(account_id, p) for p in paths],
        "choke_points": choke_points(g, paths),
    }
    if what_if:
        removed: set[Edge] = set()
        for change in what_if:
            removed |= apply_what_if(g, change)
        after = compute_paths(g, frozenset(removed))
        before_pairs, after_pairs = _pairs(paths), _pairs(after)
        doc["what_if"] = {
            "changes": what_if,
            "edges_removed": [{"type": e.kind, "from": e.src[1], "to": e.dst[1]} for e in sorted(removed, key=str)],
            "paths_removed": len(before_pairs - after_pairs),
            "paths_remaining": len(after_pairs),
            "removed_pairs": sorted([p[0][1], p[1][1] if p[1][0] != "Account" else f"acs:ram::{account_id}:root"]
                                    for p in before_pairs - after_pairs),
        }
    return doc
