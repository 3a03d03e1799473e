"""Attack paths over the derived edges, choke points (min-cut) and what-if.

Entry points: internet-reachable ECS instances (CAN_REACH) and active access keys. Pivots: the
instance RAM role (HAS_ROLE), role assumption (CAN_ASSUME), taking over another principal
(CAN_ESCALATE → RamUser/RamRole/RamGroup); escalation (CAN_ESCALATE → Account) reaches every target.
Targets: every asset a product declares an attack-path target (loaders/products: OSS buckets read/write,
RDS instances admin, KVStore, PolarDB, MongoDB, NAS, ACK…), the account. The representative path of a
pair is unconditional if any is, then the most severe, then the shortest. The edges come from Cypher (one query per kind); the bounded walk, the representative
path per (entry, target) and the min-cut run in Python over that small derived subgraph.
"""

from __future__ import annotations

import gc
import hashlib
import heapq
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from neo4j import Driver

from loaders.products import attack_targets, product_of_target
from loaders.secgroup import Rule, internet_open_ranges, is_internet_rule, kept_when_closing, rule_from_row

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
    # a wildcard grant (dst is an AllTargets node): per mode, the targets it does not cover
    excepts: tuple[tuple[str, frozenset[str]], ...] = ()
    # modes of `access` granted only under an undecided condition (the edge is conditional if all are)
    conditional_access: tuple[str, ...] = ()

    def __hash__(self) -> int:
        # edges key the walk's and the min-cut's dicts millions of times: hash the fields once
        cached: int | None = self.__dict__.get("_hash")
        if cached is None:
            cached = hash((self.kind, self.src, self.dst, self.detail, self.conditional, self.access, self.via,
                           self.excepts, self.conditional_access))
            object.__setattr__(self, "_hash", cached)
        return cached

    def __getstate__(self) -> dict[str, Any]:
        # string hashes differ between processes: never carry the cached one along
        return {k: v for k, v in self.__dict__.items() if k != "_hash"}

    @property
    def cuttable(self) -> bool:
        return self.kind != "CONTROLS"

    @property
    def pivot(self) -> bool:
        """The walk goes on from dst (a principal); otherwise the edge reaches targets."""
        return self.kind in PIVOT_KINDS or (self.kind == "CAN_ESCALATE" and self.dst[0] != "Account")


PIVOT_KINDS = frozenset({"ASSUMES", "AUTHENTICATES", "CAN_ASSUME"})
REACH_KINDS = frozenset({"CAN_ACCESS", "CAN_ESCALATE"})
# the entries the walk starts from (structural: Internet -CAN_REACH-> instance, key -AUTHENTICATES-> user);
# the products declare the same labels as entries (a test holds them together)
ENTRY_LABELS = ("EcsInstance", "AccessKey")


def target_access(label: str) -> tuple[str, ...]:
    """What full control of the account gives on a target of `label`: its declared modes."""
    return ("admin",) if label == "Account" else attack_targets()[label].access


def path_type(entry_label: str, kinds: Iterable[str], target_label: str) -> str:
    """`internet_ecs_role_oss`: how the path enters, whether it pivots through a role or escalates, what it
    reaches (the declaring product's name)."""
    kinds = set(kinds)
    words = ["internet", "ecs"] if entry_label == "EcsInstance" else ["accesskey", "user"]
    if "ASSUMES" in kinds or "CAN_ASSUME" in kinds:
        words.append("role")
    if "CAN_ESCALATE" in kinds:
        words.append("escalation")
    words.append("account" if target_label == "Account" else product_of_target(target_label))
    return "_".join(words)


@dataclass
class AttackGraph:
    """The derived subgraph paths walk, at principal level: wildcard grants stay one edge each."""

    account_id: str
    entries: list[tuple[str, str]] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    targets_by_label: dict[str, list[str]] = field(default_factory=dict)
    sg_of: dict[str, list[str]] = field(default_factory=dict)  # exposed instance → groups whose Accepts open it
    sg_members: dict[str, list[str]] = field(default_factory=dict)  # exposed instance → all its groups
    sg_rules: dict[str, list[Rule]] = field(default_factory=dict)  # group → its internet-source rules
    # expand() and controls() answer the same for every entry: computed once per edge / target
    _expanded: dict[Edge, list[tuple[tuple[str, str], tuple[str, ...], bool]]] = field(
        default_factory=dict, repr=False, compare=False)
    _controls: dict[tuple[str, str], Edge] = field(default_factory=dict, repr=False, compare=False)

    @property
    def account(self) -> tuple[str, str]:
        return ("Account", self.account_id)

    @property
    def targets(self) -> list[tuple[str, str]]:
        return [(label, t) for label, ids in self.targets_by_label.items() for t in ids] + [self.account]

    def adjacency(self, removed: frozenset[Edge] = frozenset()) -> dict[tuple[str, str], list[Edge]]:
        adj: dict[tuple[str, str], list[Edge]] = defaultdict(list)
        for e in self.edges:
            if e not in removed:
                adj[e.src].append(e)
        return adj

    def controls(self, target: tuple[str, str]) -> Edge:
        edge = self._controls.get(target)
        if edge is None:
            edge = self._controls[target] = Edge("CONTROLS", self.account, target, "full control of the account",
                                                 access=target_access(target[0]))
        return edge

    def expand(self, e: Edge) -> list[tuple[tuple[str, str], tuple[str, ...], bool]]:
        """(target, access, through the account) for an edge that reaches targets (do not modify)."""
        out = self._expanded.get(e)
        if out is None:
            out = self._expanded[e] = self._expand(e)
        return out

    def _expand(self, e: Edge) -> list[tuple[tuple[str, str], tuple[str, ...], bool]]:
        out: list[tuple[tuple[str, str], tuple[str, ...], bool]] = []
        if e.kind == "CAN_ESCALATE":
            out.append((self.account, ("admin",), False))
            for label, ids in self.targets_by_label.items():
                access = target_access(label)
                out.extend(((label, t), access, True) for t in ids)
            return out
        if e.dst[0] != "AllTargets":
            return [(e.dst, e.access, False)]
        label = e.dst[1].removeprefix("all:")
        excepts = dict(e.excepts)
        some = frozenset().union(*excepts.values())
        for t in self.targets_by_label.get(label, []):
            modes = tuple(m for m in e.access if t not in excepts.get(m, ())) if t in some else e.access
            if modes:
                out.append(((label, t), modes, False))
        return out


def load_attack_graph(driver: Driver, account_id: str) -> AttackGraph:
    g = AttackGraph(account_id)
    account = g.account
    with driver.session() as session:
        def q(query: str, **params: Any) -> list[dict[str, Any]]:
            return session.run(query, account=account_id, **params).data()

        for label in sorted(attack_targets()):  # declared labels (identifiers), never user input
            ids = [r["id"] for r in q(f"MATCH (t:{label} {{account_id: $account}}) WHERE coalesce(t.supported, true) "
                                      "RETURN t.id AS id ORDER BY id")]
            if ids:
                g.targets_by_label[label] = ids
        for r in q("MATCH (:Internet {account_id: $account})-[c:CAN_REACH]->(e:EcsInstance) "
                   "WHERE coalesce(e.supported, true) RETURN e.id AS id, c.ports AS ports, c.via AS via, "
                   "[(e)-[:MEMBER_OF]->(sg:SecurityGroup) | sg.id] AS groups"):
            inst = ("EcsInstance", r["id"])
            g.entries.append(inst)
            g.sg_of[r["id"]] = list(r["via"] or [])
            g.sg_members[r["id"]] = sorted(set(r["groups"] or []))
            ports = ", ".join(r["ports"] or [])
            g.edges.append(Edge("EXPOSES", ("Internet", "0.0.0.0/0"), inst, f"{ports} via {', '.join(r['via'] or [])}"))
        # the what-if re-evaluates the merged rules of exposed instances: their groups' internet rules, in one
        # pass over the groups (a per-id MATCH after UNWIND re-scans them for every group)
        groups = sorted({sg for members in g.sg_members.values() for sg in members})
        for r in q("MATCH (sg:SecurityGroup {account_id: $account})-[:HAS_RULE]->(rule:SecurityGroupRule) "
                   "WHERE sg.id IN $groups AND rule.direction = 'ingress' "
                   "RETURN sg.id AS sg, rule {.direction, .protocol, .port_from, .port_to, .source_cidr, "
                   ".source_ipv6_cidr, .policy, .priority} AS rule", groups=groups):
            rule = rule_from_row(r["rule"])
            if is_internet_rule(rule):
                g.sg_rules.setdefault(r["sg"], []).append(rule)
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
        for r in q("MATCH (p {account_id: $account})-[c:CAN_ACCESS]->(t) WHERE coalesce(t.supported, true) "
                   "RETURN labels(p)[0] AS l, p.id AS p, labels(t)[0] AS tl, t.id AS t, c.read AS read, "
                   "c.write AS write, c.admin AS admin, c.via AS via, coalesce(c.conditional, false) AS cond, "
                   "coalesce(c.conditional_modes, []) AS cond_modes, "
                   "[coalesce(c.read_except, []), coalesce(c.write_except, []), coalesce(c.admin_except, [])] AS excepts"):
            modes = ("read", "write", "admin")
            access = tuple(m for m in modes if r[m])
            excepts = tuple((m, frozenset(ex)) for m, ex in zip(modes, r["excepts"], strict=True) if ex)
            g.edges.append(Edge("CAN_ACCESS", (r["l"], r["p"]), (r["tl"], r["t"]), "; ".join(r["via"] or []),
                                r["cond"], access, tuple(r["via"] or []), excepts,
                                tuple(m for m in access if m in (r["cond_modes"] or ()))))
        # to the Account: escalation (reaches every target); to a principal: taking it over (a pivot)
        for r in q("MATCH (p {account_id: $account})-[c:CAN_ESCALATE]->(t) "
                   "RETURN labels(p)[0] AS l, p.id AS p, labels(t)[0] AS tl, t.id AS t, c.technique AS tech, "
                   "c.target AS on, c.via AS via, coalesce(c.conditional, false) AS cond"):
            dst = account if r["tl"] == "Account" else (r["tl"], r["t"])
            on = f" on {r['on']}" if r["on"] and r["on"] != "*" else ""
            g.edges.append(Edge("CAN_ESCALATE", (r["l"], r["p"]), dst,
                                f"{r['tech']}{on} via {', '.join(v for v in (r['via'] or []) if v)}", r["cond"],
                                ("admin",) if dst == account else (), tuple(r["via"] or [])))
    return g


@dataclass
class Path:
    entry: tuple[str, str]
    target: tuple[str, str]
    edges: list[Edge]
    alternatives: int = 1
    access: tuple[str, ...] = ()
    conditional_access: tuple[str, ...] = ()  # modes of `access` granted only conditionally

    @property
    def conditional(self) -> bool:
        return any(e.conditional for e in self.edges)

    @property
    def firm_access(self) -> tuple[str, ...]:
        """The modes the path grants for sure (all of them when the path itself is conditional)."""
        if self.conditional or not self.conditional_access:
            return self.access
        return tuple(m for m in self.access if m not in self.conditional_access)


Rank = tuple[bool, bool, int, int]


def _rank(conditional: bool, target: tuple[str, str], access: tuple[str, ...], conditional_access: tuple[str, ...],
          length: int) -> Rank:
    """Smaller is better: unconditional first, then the more severe (the entry is the same), then shorter."""
    firm = access if conditional or not conditional_access else tuple(m for m in access if m not in conditional_access)
    severe = target[0] == "Account" or "write" in firm or "admin" in firm
    return (conditional, not severe, length, -len(access))


def _better(new: Rank, old: Rank) -> bool:
    return new < old


def _chains(adj: dict[tuple[str, str], list[Edge]], entry: tuple[str, str], prefix: list[Edge],
            max_pivots: int = MAX_PIVOTS) -> tuple[dict[tuple[str, str], list[Edge]], set[tuple[str, str]]]:
    """The representative pivot chain to every principal an entry reaches (at most `max_pivots` pivots):
    the shortest unconditional one if any, else the shortest. Also the nodes reached only conditionally."""
    chains: dict[tuple[str, str], list[Edge]] = {entry: list(prefix)}
    queue = deque([entry])
    soft: list[tuple[int, int, tuple[str, str], list[Edge]]] = []  # conditional candidates (length, seq, node, chain)
    seq = 0
    while queue:
        node = queue.popleft()
        if len(chains[node]) - len(prefix) >= max_pivots:
            continue
        for e in adj.get(node, ()):
            if not e.pivot or e.dst in chains:
                continue
            if e.conditional:
                seq += 1
                soft.append((len(chains[node]) + 1, seq, e.dst, chains[node] + [e]))
            else:
                chains[e.dst] = chains[node] + [e]
                queue.append(e.dst)
    conditional: set[tuple[str, str]] = set()
    heapq.heapify(soft)
    while soft:
        length, _, node, chain = heapq.heappop(soft)
        if node in chains:
            continue
        chains[node] = chain
        conditional.add(node)
        if length - len(prefix) >= max_pivots:
            continue
        for e in adj.get(node, ()):
            if e.pivot and e.dst not in chains:
                seq += 1
                heapq.heappush(soft, (length + 1, seq, e.dst, chain + [e]))
    return chains, conditional


def pivot_counts(adj: dict[tuple[str, str], list[Edge]], start: tuple[str, str],
                 max_pivots: int = MAX_PIVOTS) -> dict[tuple[str, str], int]:
    """How many pivot walks (at most `max_pivots` pivots) reach each principal from `start` (the alternatives)."""
    counts: dict[tuple[str, str], int] = {start: 1}
    depth: dict[tuple[str, str], int] = {start: 0}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        if depth[node] >= max_pivots:
            continue
        for e in adj.get(node, ()):
            if not e.pivot:
                continue
            if e.dst not in counts:
                counts[e.dst] = counts[node]
                depth[e.dst] = depth[node] + 1
                queue.append(e.dst)
            else:
                counts[e.dst] += counts[node]
    return counts


def _walk(g: AttackGraph, adj: dict[tuple[str, str], list[Edge]], entry: tuple[str, str],
          prefix: list[Edge]) -> list[Path]:
    """Bounded walk over the pivots from one entry, then every target its principals reach."""
    counts = pivot_counts(adj, entry)
    chains, soft = _chains(adj, entry, prefix)
    # per target: its path so far, whether that is conditional, and its rank (computed only when contested)
    best: dict[tuple[str, str], tuple[Path, bool]] = {}
    ranks: dict[tuple[str, str], Rank] = {}
    for node, chain in chains.items():
        chain_conditional = node in soft
        n = counts.get(node, 1)
        for e in adj.get(node, ()):
            if e.pivot or e.kind not in REACH_KINDS:
                continue
            conditional = chain_conditional or e.conditional
            direct = chain + [e]  # shared by the paths of every target this edge reaches directly
            for target, access, through_account in g.expand(e):
                soft_modes = () if through_account else e.conditional_access
                held = best.get(target)
                if held is None:
                    edges = direct + [g.controls(target)] if through_account else direct
                    best[target] = (Path(entry, target, edges, n, access, soft_modes), conditional)
                    continue
                path, held_conditional = held
                path.alternatives += n
                if conditional and not held_conditional:
                    continue
                length = len(direct) + 1 if through_account else len(direct)
                rank = _rank(conditional, target, access, soft_modes, length)
                if held_conditional == conditional:
                    old = ranks.get(target)
                    if old is None:
                        old = _rank(held_conditional, target, path.access, path.conditional_access, len(path.edges))
                    if not _better(rank, old):
                        ranks[target] = old
                        continue
                ranks[target] = rank
                path.edges = direct + [g.controls(target)] if through_account else direct
                path.access, path.conditional_access = access, soft_modes
                best[target] = (path, conditional)
    return [p for p, _ in best.values()]


@contextmanager
def _no_gc() -> Iterator[None]:
    """The walk allocates hundreds of thousands of acyclic objects (paths, chains): the cyclic collector
    would rescan the whole heap again and again for nothing. Paused, then restored as it was."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def compute_paths(g: AttackGraph, removed: frozenset[Edge] = frozenset()) -> list[Path]:
    with _no_gc():
        return _compute_paths(g, removed)


def _compute_paths(g: AttackGraph, removed: frozenset[Edge]) -> list[Path]:
    adj = g.adjacency(removed)
    exposes = {e.dst: e for e in g.edges if e.kind == "EXPOSES" and e not in removed}
    paths: list[Path] = []
    for entry in sorted(set(g.entries)):
        if entry[0] == "EcsInstance":
            if entry not in exposes:
                continue
            paths.extend(_walk(g, adj, entry, [exposes[entry]]))
        else:
            paths.extend(_walk(g, adj, entry, []))
    paths.sort(key=lambda p: (p.entry, p.target))
    return paths


def _access(path: Path) -> list[str]:
    if path.target[0] == "Account":
        return ["admin"]
    return list(path.access or path.edges[-1].access)


def _conditional_access(path: Path, access: list[str]) -> list[str]:
    """The modes that hold only under an undecided condition (every mode of a conditional path)."""
    if path.conditional:
        return list(access)
    return [m for m in access if m in path.conditional_access]


def _severity(path: Path, access: list[str]) -> str:
    internet = path.entry[0] == "EcsInstance"
    if path.target[0] == "Account":
        return "critical"
    if "write" in access or "admin" in access:
        return "critical" if internet else "high"
    return "high" if internet else "medium"


def path_json(account_id: str, path: Path) -> dict[str, Any]:
    root = f"acs:ram::{account_id}:root"

    def ref(node: tuple[str, str]) -> dict[str, str]:
        return {"type": node[0], "id": root if node[0] == "Account" else node[1]}

    access = _access(path)
    soft = _conditional_access(path, access)
    nodes = [ref(path.edges[0].src)] + [ref(e.dst) for e in path.edges]
    ident = hashlib.sha1(f"{account_id}|{path.entry}|{path.target}".encode()).hexdigest()[:16]
    return {
        "id": ident,
        "type": path_type(path.entry[0], (e.kind for e in path.edges), path.target[0]),
        # a conditional path is rated on what it would grant; a firm one on what it grants for sure
        "severity": _severity(path, access if path.conditional else [m for m in access if m not in soft]),
        "conditional": path.conditional,
        "entry": ref(path.entry),
        "target": ref(path.target),
        "access": access,
        "conditional_access": soft,
        "alternatives": path.alternatives - 1,
        "nodes": nodes,
        "edges": [{"type": e.kind, "detail": e.detail if e.dst[0] != "AllTargets" else e.detail + " (every target)",
                   "conditional": e.conditional} for e in path.edges],
    }


# ---------------------------------------------------------------- choke points (min-cut)

def _pairs(paths: Iterable[Path]) -> set[tuple[tuple[str, str], tuple[str, str]]]:
    return {(p.entry, p.target) for p in paths if not p.conditional}


class _Dinic:
    """Max-flow / min-cut on a small integer-capacity graph (unit capacities on cuttable edges)."""

    def __init__(self) -> None:
        self.graph: dict[Any, list[list[Any]]] = defaultdict(list)

    def add(self, u: Any, v: Any, cap: int, edge: Edge | None) -> None:
        fwd = [v, cap, None, edge]
        back = [u, 0, fwd, None]
        fwd[2] = back
        self.graph[u].append(fwd)
        self.graph[v].append(back)

    def max_flow(self, s: Any, t: Any) -> set[Any]:
        while True:
            level = {s: 0}
            queue = deque([s])
            while queue:
                u = queue.popleft()
                for v, cap, _, _ in self.graph[u]:
                    if cap > 0 and v not in level:
                        level[v] = level[u] + 1
                        queue.append(v)
            if t not in level:
                return set(level)  # the source side of the min cut
            pointer = {u: 0 for u in level}
            while self._push(s, t, INF, level, pointer):
                pass

    def _push(self, s: Any, t: Any, limit: int, level: dict[Any, int], pointer: dict[Any, int]) -> int:
        # iterative DFS along the level graph, one augmenting path at a time
        stack: list[tuple[Any, list[Any] | None]] = [(s, None)]
        path_edges: list[list[Any]] = []
        while stack:
            u, _ = stack[-1]
            if u == t:
                flow = min(e[1] for e in path_edges)
                for e in path_edges:
                    e[1] -= flow
                    e[2][1] += flow
                return flow
            edges = self.graph[u]
            advanced = False
            while pointer.get(u, 0) < len(edges):
                e = edges[pointer[u]]
                v, cap = e[0], e[1]
                if cap > 0 and level.get(v) == level[u] + 1:
                    stack.append((v, e))
                    path_edges.append(e)
                    advanced = True
                    break
                pointer[u] += 1
            if not advanced:
                stack.pop()
                if path_edges:
                    path_edges.pop()
                if stack:
                    parent = stack[-1][0]
                    pointer[parent] = pointer.get(parent, 0) + 1
                level[u] = -1  # dead end
        return 0


def min_cut(g: AttackGraph, paths: list[Path]) -> list[Edge]:
    """Smallest set of cuttable edges separating every entry from every target it reaches."""
    used: set[Edge] = set()
    sinks: set[tuple[str, str]] = set()
    starts: set[tuple[str, str]] = set()
    for p in paths:
        if not p.conditional:
            add_to_cut_problem(p.edges, used, sinks)
            starts.add(p.edges[0].src)
    return cut_edges(used, starts, sinks)


def add_to_cut_problem(edges: Iterable[Edge], used: set[Edge], sinks: set[tuple[str, str]]) -> None:
    """An unconditional path's (or path end's) part in the min-cut problem: its cuttable edges and its sink."""
    last: Edge | None = None
    for e in edges:
        if e.kind == "CONTROLS":
            sinks.add(e.src)  # reaching the account reaches everything
            return
        used.add(e)
        last = e
    if last is not None:
        sinks.add(last.dst)


def cut_edges(used: set[Edge], starts: set[tuple[str, str]], sinks: set[tuple[str, str]]) -> list[Edge]:
    """The min cut of `used` between `starts` and `sinks` (the source side nearest the starts: unique)."""
    if not used:
        return []
    source, sink = ("_S", "s"), ("_T", "t")
    flow = _Dinic()
    for e in used:
        flow.add(e.src, e.dst, 1, e)
    for node in starts:
        flow.add(source, node, INF, None)
    for node in sinks:
        flow.add(node, sink, INF, None)
    source_side = flow.max_flow(source, sink)
    cut = [e for e in used if e.src in source_side and e.dst not in source_side]
    return sorted(cut, key=lambda e: (e.kind, e.src, e.dst))


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
    """The min-cut's edges, each with how many (entry, target) pairs' representative paths it carries."""
    with _no_gc():
        return _choke_points(g, paths)


def _choke_points(g: AttackGraph, paths: list[Path]) -> list[dict[str, Any]]:
    carried: dict[Edge, int] = defaultdict(int)
    for p in paths:
        if not p.conditional:
            for e in p.edges:
                carried[e] += 1
    return describe_cut(g, min_cut(g, paths), carried)


def describe_cut(g: AttackGraph, cut: list[Edge], carried: dict[Edge, int]) -> list[dict[str, Any]]:
    """Choke points: each cut edge as the change that removes it and the pairs whose paths it carries."""
    out: list[dict[str, Any]] = []
    for e in cut:
        ctype, cid, change = _change(e, g)
        out.append({"type": ctype, "id": cid, "paths_cut": carried[e], "change": change,
                    "edge": {"type": e.kind, "from": e.src[1], "to": e.dst[1]}})
    out.sort(key=lambda c: (-int(c["paths_cut"]), str(c["type"]), str(c["id"])))
    return out


# ---------------------------------------------------------------- what-if

class WhatIfError(ValueError):
    pass


WHAT_IF_FORMS = {
    "detach-role": "detach-role:<instance id>  (remove the instance's RAM role)",
    "close-exposure": "close-exposure:<instance id or sg id>  (revoke internet ingress)",
    "close-ports": "close-ports:<sg id>:<tcp|udp>:<port,port,…|all|all-port-rules>  (revoke the group's internet "
                   "ingress on those ports only; all-port-rules: only the rules that open every port, as the "
                   "all-ports fix does)",
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
    if kind == "close-ports":
        return _close_ports(g, arg)
    if kind == "close-exposure":
        if any(arg in members for members in g.sg_members.values()):  # a group: revoke its internet Accepts
            return _closed_exposure(g, {arg: [r for r in g.sg_rules.get(arg, []) if r.policy != "accept"]})
        return frozenset(e for e in g.edges if e.kind == "EXPOSES" and e.dst[1] == arg)
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


def _close_ports(g: AttackGraph, arg: str) -> frozenset[Edge]:
    """Instances the internet no longer reaches once one group's fix closes some ports: its internet Accept
    rules narrowed exactly as the remediation does, then every instance in the group re-judged on the merged
    rules of all its groups (another group's Accept may keep it open, another group's Drop may already close
    what stays). Exposure is TCP reach, so closing UDP ports cuts nothing."""
    sg, _, rest = arg.partition(":")
    protocol, _, listed = rest.partition(":")
    full_range_only = listed == "all-port-rules"
    try:
        closed = None if listed in ("all", "all-port-rules") else tuple(int(p) for p in listed.split(","))
    except ValueError:
        closed = ()
    if protocol not in ("tcp", "udp") or not listed or closed == ():
        raise WhatIfError(f"use {WHAT_IF_FORMS['close-ports']}")
    if protocol == "udp":
        return frozenset()
    narrowed: list[Rule] = []
    for rule in g.sg_rules.get(sg, []):
        kept = kept_when_closing(rule, protocol, closed, full_range_only=full_range_only)
        narrowed.extend([rule] if kept is None else kept)
    return _closed_exposure(g, {sg: narrowed})


def _closed_exposure(g: AttackGraph, changed: dict[str, list[Rule]]) -> frozenset[Edge]:
    """EXPOSES edges of the instances whose merged internet rules, with `changed` groups' rules replaced,
    open no TCP port any more."""
    verdict: dict[tuple[str, ...], bool] = {}
    removed = set()
    for e in g.edges:
        if e.kind != "EXPOSES":
            continue
        members = tuple(g.sg_members.get(e.dst[1], ()))
        if not changed.keys() & set(members):
            continue
        if members not in verdict:
            rules = [r for sg in members for r in changed.get(sg, g.sg_rules.get(sg, []))]
            verdict[members] = not internet_open_ranges(rules, "tcp")
        if verdict[members]:
            removed.add(e)
    return frozenset(removed)


def analyse_paths(driver: Driver, account_id: str, what_if: list[str] | None = None,
                  progress: Callable[[str, int], None] | None = None) -> dict[str, Any]:
    """The attack-path report; `progress(stage, count)` is told each stage done (graph edges, paths, choke points)."""
    step = progress or (lambda stage, count: None)
    g = load_attack_graph(driver, account_id)
    step("attack graph loaded", len(g.edges))
    paths = compute_paths(g)
    step("paths found", len(paths))
    doc: dict[str, Any] = {
        "account_id": account_id,
        "paths": [path_json(account_id, p) for p in paths],
        "choke_points": choke_points(g, paths),
    }
    step("choke points found", len(doc["choke_points"]))
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
