"""Compact reachability: every attack-path answer without enumerating the (entry, target) pairs.

`checks.paths.compute_paths` walks from every entry and builds one `Path` per reachable pair: on an
account where thousands of principals hold wildcard grants that is millions of objects. Here the same
answers come from a compact model:

- An entry whose only edge is its first hop (instance → its RAM role, key → its user) reaches exactly
  what that principal reaches with one pivot less: entries sharing a first hop share one *group* (the
  walk from the principal is computed once, not once per entry).
- A group's reaching edges are its *candidates* (chain + reaching edge, in the walk's order). A target's
  representative path is decided by the candidates that cover it, so targets fall into classes: each
  target named by an explicit edge or an exception (a *special*), and per label the rest (*generic*:
  covered only by wildcard grants and escalation, all decided alike). A class is resolved once.
- Counts, severities and choke points are sums over (group, class) × entries; concrete paths are
  produced on demand, in the document's (entry, target) order, one at a time.

The index is persisted per account and data version (`AttackPathIndex`, a tenant record written after
every sync) so readers never walk the graph: `load_index` rebuilds it when the account's data changed.
`compute_paths` stays the exhaustive oracle the tests compare this with.
"""

from __future__ import annotations

import bisect
import hashlib
import heapq
import itertools
import json
import threading
import zlib
from collections import OrderedDict, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path as FilePath
from typing import Any, TypeVar, overload

from neo4j import Driver

from checks.paths import (
    MAX_PIVOTS,
    REACH_KINDS,
    AttackGraph,
    Edge,
    _chains,
    _no_gc,
    _rank,
    add_to_cut_problem,
    apply_what_if,
    cut_edges,
    describe_cut,
    load_attack_graph,
    path_type,
    pivot_counts,
    target_access,
)
from loaders.products import attack_targets

Node = tuple[str, str]
# above this many paths `paths --format json` refuses (one document in memory); jsonl streams any number
JSON_PATH_LIMIT = 200_000
NARROWED_KEPT = 32  # filters whose per-entry counts an index keeps (each: a few ints per entry)
SEVERITIES = ("critical", "high", "medium")


def _index_code_digest() -> str:
    """The stored index is only as good as the code that built it: a code change rebuilds it."""
    here = FilePath(__file__).resolve().parent
    digest = hashlib.blake2b(digest_size=6)
    for name in ("paths.py", "path_index.py"):
        digest.update((here / name).read_bytes())
    return digest.hexdigest()


INDEX_CODE = _index_code_digest()


@dataclass(frozen=True)
class Candidate:
    """One way a group reaches targets: the pivots after the group's start, then a reaching edge."""

    tail: tuple[Edge, ...]
    edge: Edge
    conditional: bool
    walks: int  # pivot walks reaching the edge's principal (the alternatives it adds)
    length: int  # edges of the path up to and including `edge`


@dataclass(frozen=True)
class Resolution:
    """The representative path of every target of one class (as `_walk` picks it)."""

    candidate: Candidate
    access: tuple[str, ...]
    conditional_access: tuple[str, ...]
    through_account: bool
    alternatives: int

    @property
    def conditional(self) -> bool:
        return self.candidate.conditional


@dataclass
class Group:
    candidates: list[Candidate]
    specials: dict[Node, Resolution]  # targets named by an explicit edge or an exception
    generic: dict[str, Resolution]  # label → the other targets of that label
    extra_specials: dict[str, list[str]]  # per label, sorted special ids that are not in the label's list

    def resolution(self, target: Node, label_ids: dict[str, frozenset[str]]) -> Resolution | None:
        hit = self.specials.get(target)
        if hit is not None or target in self.specials:
            return hit
        if target[1] in label_ids.get(target[0], ()):
            return self.generic.get(target[0])
        return None


@dataclass(frozen=True)
class PathFilter:
    """The API's filters that name no entry or target: the path type, a node the path passes (`through`, a node
    id as the path's `nodes` give it), conditional or not. None: not filtered."""

    type: str | None = None
    through: str | None = None
    conditional: bool | None = None


Cover = tuple[Candidate, tuple[str, ...], bool, tuple[str, ...]]  # candidate, access, through the account, soft modes


def _cover_rank(target: Node, cover: Cover) -> tuple[bool, bool, int, int]:
    cand, access, through, soft = cover
    return _rank(cand.conditional, target, access, soft, cand.length + 1 if through else cand.length)


def _resolve(target: Node, covering: Iterable[tuple[Candidate, tuple[str, ...], bool, tuple[str, ...]]]) -> Resolution | None:
    """`_walk`'s choice among the candidates covering one target, in the walk's order."""
    held: Candidate | None = None
    access: tuple[str, ...] = ()
    soft: tuple[str, ...] = ()
    through = False
    alternatives = 0
    rank: tuple[bool, bool, int, int] | None = None
    for cand, c_access, c_through, c_soft in covering:
        if held is None:
            held, access, soft, through, alternatives = cand, c_access, c_soft, c_through, cand.walks
            continue
        alternatives += cand.walks
        if cand.conditional and not held.conditional:
            continue
        length = cand.length + 1 if c_through else cand.length
        new = _rank(cand.conditional, target, c_access, c_soft, length)
        if held.conditional == cand.conditional:
            old = rank if rank is not None else _rank(
                held.conditional, target, access, soft, held.length + 1 if through else held.length)
            if not new < old:
                rank = old
                continue
        rank = new
        held, access, soft, through = cand, c_access, c_soft, c_through
    if held is None:
        return None
    return Resolution(held, access, soft, through, alternatives)


@dataclass
class PathIndex:
    """The compact reachability of one account (see the module docstring)."""

    graph: AttackGraph
    version: str = ""
    entries: list[Node] = field(default_factory=list)  # sorted entries that have a first edge
    heads: dict[Node, tuple[Edge, ...]] = field(default_factory=dict)  # entry → edges up to its group's start
    group_of: dict[Node, tuple[Node, int, int]] = field(default_factory=dict)  # entry → (start, head, budget)
    summary: dict[str, Any] = field(default_factory=dict)
    _groups: dict[tuple[Node, int, int], Group] = field(default_factory=dict, repr=False)
    _adj: dict[Node, list[Edge]] = field(default_factory=dict, repr=False)
    _label_ids: dict[str, frozenset[str]] = field(default_factory=dict, repr=False)
    _cumulative: list[int] = field(default_factory=list, repr=False)
    _refs: dict[Node, str] = field(default_factory=dict, repr=False)  # node → its JSON reference
    # (class, target label, entry kind) → the formatted parts of its paths (see _EntryWriter)
    _texts: dict[tuple[int, str, tuple[str, frozenset[str]]], tuple[str, str, str, str, str, str]] = field(
        default_factory=dict, repr=False)
    account_ref: str = ""
    _severity_cumulative: dict[str, list[int]] = field(default_factory=dict, repr=False)
    _tails: dict[int, frozenset[str]] = field(default_factory=dict, repr=False)  # id(resolution) → its tail's ids
    # filter → per severity (None: all) the per-entry counts and running sums of the paths it keeps
    _narrowed: OrderedDict[PathFilter, dict[str | None, tuple[list[int], list[int]]]] = field(
        default_factory=OrderedDict, repr=False)
    _narrowed_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    # ------------------------------------------------------------ building

    @classmethod
    def build(cls, graph: AttackGraph, version: str = "") -> PathIndex:
        with _no_gc():
            index = cls(graph, version)
            index._prepare()
            index.summary = index._summarise()
            return index

    def _prepare(self) -> None:
        g = self.graph
        self.account_ref = f"acs:ram::{g.account_id}:root"
        self._adj = g.adjacency()
        self._label_ids = {label: frozenset(ids) for label, ids in g.targets_by_label.items()}
        exposes = {e.dst: e for e in g.edges if e.kind == "EXPOSES"}
        for entry in sorted(set(g.entries)):
            prefix: tuple[Edge, ...] = ()
            if entry[0] == "EcsInstance":
                if entry not in exposes:
                    continue
                prefix = (exposes[entry],)
            out = self._adj.get(entry, [])
            first = out[0] if len(out) == 1 else None
            if first is not None and first.pivot and not first.conditional:
                # the entry's walk is its first hop's walk with one pivot less (see _chains)
                self.heads[entry] = (*prefix, first)
                self.group_of[entry] = (first.dst, len(prefix) + 1, MAX_PIVOTS - 1)
            else:
                self.heads[entry] = prefix
                self.group_of[entry] = (entry, len(prefix), MAX_PIVOTS)
            self.entries.append(entry)

    def resolve_all(self) -> None:
        """Every entry group resolved (a group is pure: two threads resolving one at once agree)."""
        for key in sorted(set(self.group_of.values())):
            self.group(key)

    def group(self, key: tuple[Node, int, int]) -> Group:
        found = self._groups.get(key)
        if found is None:
            found = self._groups[key] = self._compute_group(*key)
        return found

    def _compute_group(self, start: Node, head: int, budget: int) -> Group:
        g, adj = self.graph, self._adj
        counts = pivot_counts(adj, start, budget)
        chains, soft = _chains(adj, start, [None] * head, budget)  # type: ignore[list-item]
        candidates = [Candidate(tuple(chain[head:]), e, node in soft or e.conditional, counts.get(node, 1),
                                len(chain) + 1)
                      for node, chain in chains.items() for e in adj.get(node, ())
                      if not e.pivot and e.kind in REACH_KINDS]
        specials: set[Node] = set()
        generic_labels: set[str] = set()
        for c in candidates:
            e = c.edge
            if e.kind == "CAN_ESCALATE":
                specials.add(g.account)
                generic_labels.update(g.targets_by_label)
            elif e.dst[0] != "AllTargets":
                specials.add(e.dst)
            else:
                label = e.dst[1].removeprefix("all:")
                generic_labels.add(label)
                ids = self._label_ids.get(label, frozenset())
                specials.update((label, t) for _, excepted in e.excepts for t in excepted if t in ids)
        # which candidates can cover a target at all, in the walk's order: escalation, the edges to it, the
        # wildcards of its label
        by_dst: dict[Node, list[int]] = defaultdict(list)
        by_label: dict[str, list[int]] = defaultdict(list)
        escalating: list[int] = []
        for i, c in enumerate(candidates):
            e = c.edge
            if e.kind == "CAN_ESCALATE":
                escalating.append(i)
            elif e.dst[0] != "AllTargets":
                by_dst[e.dst].append(i)
            else:
                by_label[e.dst[1].removeprefix("all:")].append(i)

        def relevant(target: Node) -> list[Candidate]:
            picked = sorted([*escalating, *by_dst.get(target, ()), *by_label.get(target[0], ())])
            return [candidates[i] for i in picked]

        order = {id(c): i for i, c in enumerate(candidates)}
        generic: dict[str, Resolution] = {}
        ranked: dict[str, list[tuple[tuple[bool, bool, int, int], int, Cover]]] = {}
        for label in generic_labels:
            sample = (label, "")  # a target of the label named by no edge: wildcards and escalation cover it
            covers = list(self._covering(relevant(sample), sample, generic=True))
            hit = _resolve(sample, covers)
            if hit is not None:
                generic[label] = hit
                ranked[label] = sorted(((_cover_rank(sample, cover), order[id(cover[0])], cover) for cover in covers),
                                       key=lambda row: (row[0], row[1]))
        # a target some wildcard excepts differs from its label's generic answer only by those wildcards and
        # its own edges: resolved from the generic ranking (the walk keeps the least (rank, order) candidate)
        excepting: dict[Node, set[int]] = defaultdict(set)
        for label, indices in by_label.items():
            for i in indices:
                for _, ids in candidates[i].edge.excepts:
                    for t in ids:
                        excepting[(label, t)].add(i)
        resolved = {t: self._special(t, candidates, order, relevant, ranked.get(t[0]), excepting.get(t, set()),
                                     by_dst.get(t, [])) for t in specials}
        extra: dict[str, list[str]] = defaultdict(list)
        for label, t in sorted(specials):
            if label != "Account" and t not in self._label_ids.get(label, ()):
                extra[label].append(t)
        return Group(candidates, {t: r for t, r in resolved.items()}, generic, dict(extra))

    def _special(self, target: Node, candidates: list[Candidate], order: dict[int, int], relevant: Any,
                 generic: list[tuple[tuple[bool, bool, int, int], int, Cover]] | None, excepting: set[int],
                 own: list[int]) -> Resolution | None:
        """The resolution of one target named by an edge or an exception (see `_resolve`)."""
        if generic is None or target[1] not in self._label_ids.get(target[0], ()):
            return _resolve(target, self._covering(relevant(target), target))
        changed = [candidates[i] for i in sorted(excepting | set(own))]
        mine = [(_cover_rank(target, cover), order[id(cover[0])], cover) for cover in self._covering(changed, target)]
        kept = next(((rank, i, cover) for rank, i, cover in generic if i not in excepting and i not in own), None)
        pool = mine + ([kept] if kept is not None else [])
        if not pool:
            return None
        _, _, (cand, access, through, soft) = min(pool, key=lambda row: (row[0], row[1]))
        walks = sum(cover[0].walks for _, i, cover in generic if i not in excepting and i not in own)
        walks += sum(cover[0].walks for _, _, cover in mine)
        return Resolution(cand, access, soft, through, walks)

    def _covering(self, candidates: list[Candidate], target: Node, generic: bool = False) -> Iterator[Cover]:
        """(candidate, access, through the account, conditional modes) of the candidates covering `target`,
        exactly as `AttackGraph.expand` expands their edges."""
        account = self.graph.account
        label, tid = target
        listed = generic or tid in self._label_ids.get(label, ())
        for c in candidates:
            e = c.edge
            if e.kind == "CAN_ESCALATE":
                if target == account:
                    yield c, ("admin",), False, ()
                elif listed:
                    yield c, target_access(label), True, ()
            elif e.dst[0] != "AllTargets":
                if e.dst == target:
                    yield c, e.access, False, e.conditional_access
            elif listed and e.dst[1] == f"all:{label}":
                modes = e.access if generic else tuple(
                    m for m in e.access if not any(m == mode and tid in ids for mode, ids in e.excepts))
                if modes:
                    yield c, modes, False, e.conditional_access

    def targets_of(self, group: Group) -> Iterator[tuple[Node, Resolution]]:
        """A group's reachable targets and their resolutions, in target order."""
        account = self.graph.account
        hit = group.specials.get(account)
        if hit is not None:
            yield account, hit
        for label in sorted(set(self.graph.targets_by_label) | set(group.extra_specials)):
            listed = self.graph.targets_by_label.get(label, [])
            wide = group.generic.get(label)
            extra = group.extra_specials.get(label, [])
            if wide is None:
                ids: Iterable[str] = sorted({t for lbl, t in group.specials if lbl == label})
            else:
                ids = heapq.merge(listed, extra) if extra else listed
            for t in ids:
                node = (label, t)
                res = group.specials[node] if node in group.specials else wide
                if res is not None:
                    yield node, res

    # ------------------------------------------------------------ answers

    def _classes(self, key: tuple[Node, int, int]) -> list[tuple[Resolution, int, Node]]:
        """A group's classes: (resolution, how many targets, the target — (label, "") for a label's rest)."""
        grp = self.group(key)
        rows = [(r, 1, t) for t, r in grp.specials.items() if r is not None]
        for label, r in grp.generic.items():
            ids = self._label_ids.get(label, frozenset())
            named = sum(1 for lbl, t in grp.specials if lbl == label and t in ids)
            rows.append((r, len(ids) - named, (label, "")))
        return [row for row in rows if row[1]]

    def _summarise(self) -> dict[str, Any]:
        """Counts, severities, per-entry counts and choke points: sums over (group, class) × entries."""
        classes = {key: self._classes(key) for key in sorted(set(self.group_of.values()))}
        total = firm = 0
        severity: dict[str, int] = dict.fromkeys(SEVERITIES, 0)
        per_entry: list[int] = []
        per_entry_severity: dict[str, list[int]] = {sev: [] for sev in SEVERITIES}
        carried: dict[Edge, int] = defaultdict(int)
        used: set[Edge] = set()
        starts: set[Node] = set()
        sinks: set[Node] = set()
        in_cut: set[tuple[Node, int, int]] = set()  # groups whose path ends are in the cut problem
        for entry in self.entries:
            key = self.group_of[entry]
            entry_total = entry_firm = 0
            entry_severity = dict.fromkeys(SEVERITIES, 0)
            for res, n, target in classes[key]:
                entry_total += n
                entry_severity[_severity(entry, target, res)] += n
                if not res.conditional:
                    entry_firm += n
                    for e in (*res.candidate.tail, res.candidate.edge):
                        carried[e] += n
            if entry_firm:
                head = self.heads[entry]
                for e in head:
                    carried[e] += entry_firm
                used.update(head)
                starts.add(head[0].src if head else entry)
                if key not in in_cut:  # the group's path ends are the same for every entry
                    in_cut.add(key)
                    for res, _, target in classes[key]:
                        if not res.conditional:
                            last = (self.graph.controls(target),) if res.through_account else ()
                            add_to_cut_problem((*res.candidate.tail, res.candidate.edge, *last), used, sinks)
            total += entry_total
            firm += entry_firm
            per_entry.append(entry_total)
            for sev, n in entry_severity.items():
                severity[sev] += n
                per_entry_severity[sev].append(n)
        self._cumulative = _running(per_entry)
        return {
            "account_id": self.graph.account_id,
            "total": total,
            "firm": firm,
            "conditional": total - firm,
            "by_severity": severity,
            "entries": len(self.entries),
            "groups": len(classes),
            "per_entry": per_entry,
            "per_entry_severity": per_entry_severity,
            "choke_points": describe_cut(self.graph, cut_edges(used, starts, sinks), carried),
        }

    @property
    def total(self) -> int:
        return int(self.summary["total"])

    @property
    def choke_points(self) -> list[dict[str, Any]]:
        return list(self.summary["choke_points"])

    def paths(self, offset: int = 0, limit: int | None = None, entry: str | None = None,
              target: str | None = None) -> Iterator[dict[str, Any]]:
        """Path objects (`paths --format json`'s shape) in the document's order, from `offset`, at most
        `limit`; `entry`/`target` keep only paths from/to that asset id."""
        for line in self.lines(offset, limit, entry, target):
            yield json.loads(line)

    def lines(self, offset: int = 0, limit: int | None = None, entry: str | None = None,
              target: str | None = None, severity: str | None = None,
              narrowed: PathFilter | None = None) -> Iterator[str]:
        """The same as `paths`, each path already a JSON text (what `--format jsonl` writes); `severity`
        keeps the paths of that severity only, `narrowed` those its filters keep."""
        if narrowed is not None:
            counts, cumulative = self._narrowed_counts(severity, narrowed)
        else:
            counts = self.summary["per_entry"] if severity is None else self.summary["per_entry_severity"][severity]
            cumulative = self._cumulative if severity is None else self._severity_cumulative.get(severity)
        if not cumulative:
            cumulative = _running(counts)
            if severity is None:
                self._cumulative = cumulative
            else:
                self._severity_cumulative[severity] = cumulative
        start = 0
        skip = offset
        if entry is None and target is None and offset:
            start = bisect.bisect_right(cumulative, offset) - 1
            skip = offset - cumulative[start]
        emitted = 0
        for i in range(start, len(self.entries)):
            ent = self.entries[i]
            if (entry is not None and ent[1] != entry) or not counts[i]:
                continue
            writer = _EntryWriter(self, ent)
            grp = self.group(self.group_of[ent])
            via_entry = narrowed is not None and narrowed.through in self._entry_nodes(ent)
            if target is not None:
                pairs: Iterable[tuple[Node, Resolution]] = [
                    (t, r) for t in self._targets_named(target) if (r := grp.resolution(t, self._label_ids)) is not None]
            else:
                pairs = self.targets_of(grp)
            for tgt, res in pairs:
                if severity is not None and writer.severity(tgt, res) != severity:
                    continue
                if narrowed is not None and not self._keeps(narrowed, writer.kind, tgt, res, via_entry):
                    continue
                if skip:
                    skip -= 1
                    continue
                if limit is not None and emitted >= limit:
                    return
                emitted += 1
                yield writer.line(tgt, res)

    def ref(self, node: Node) -> str:
        text = self._refs.get(node)
        if text is None:
            text = self._refs[node] = json.dumps(
                {"type": node[0], "id": self.account_ref if node[0] == "Account" else node[1]})
        return text

    def _class_text(self, res: Resolution, target: Node,
                    kind: tuple[str, frozenset[str]]) -> tuple[str, str, str, str, str, str]:
        """(type + severity + conditional, severity, access part, tail nodes, tail edges, type) of a class's paths
        for entries of one kind (label, edge kinds up to the group): everything but the entry and the target."""
        key = (id(res), target[0], kind)
        found = self._texts.get(key)
        if found is not None:
            return found
        entry_label, head_kinds = kind
        tail = [*res.candidate.tail, res.candidate.edge]
        edges = tail + [self.graph.controls(target)] if res.through_account else tail
        kinds = head_kinds | {e.kind for e in edges}
        severity = _severity((entry_label, ""), target, res)
        access = _access(res, target[0])
        type_ = path_type(entry_label, kinds, target[0])
        first = (f'"type": {json.dumps(type_)}, "severity": {json.dumps(severity)}, '
                 f'"conditional": {json.dumps(res.conditional)}')
        after = (f'"access": {json.dumps(access)}, "conditional_access": {json.dumps(_soft(res, access))}, '
                 f'"alternatives": {res.alternatives - 1}')
        nodes = "".join(", " + self.ref(e.dst) for e in tail)
        found = self._texts[key] = (first, severity, after, nodes, ", ".join(_edge_text(e) for e in edges), type_)
        return found

    # ------------------------------------------------------------ narrowed by type, node passed, conditional

    def _node_id(self, node: Node) -> str:
        return self.account_ref if node[0] == "Account" else node[1]

    def _entry_nodes(self, entry: Node) -> frozenset[str]:
        """The ids of an entry's path nodes up to its group (every path of the entry passes them)."""
        head = self.heads[entry]
        nodes = [head[0].src, *(e.dst for e in head)] if head else [entry]
        return frozenset(self._node_id(n) for n in nodes)

    def _tail_nodes(self, res: Resolution) -> frozenset[str]:
        """The ids of a class's path nodes after its group's start (the account's CONTROLS target aside)."""
        found = self._tails.get(id(res))
        if found is None:
            found = self._tails[id(res)] = frozenset(
                self._node_id(e.dst) for e in (*res.candidate.tail, res.candidate.edge))
        return found

    def _keeps(self, narrowed: PathFilter, kind: tuple[str, frozenset[str]], target: Node, res: Resolution,
               via_entry: bool) -> bool:
        """Does `narrowed` keep the path to `target` of a class (its entry passes `narrowed.through`: via_entry)?"""
        if narrowed.conditional is not None and res.conditional != narrowed.conditional:
            return False
        if narrowed.type is not None and self._class_text(res, target, kind)[5] != narrowed.type:
            return False
        if narrowed.through is None or via_entry or narrowed.through in self._tail_nodes(res):
            return True
        return res.through_account and target[1] == narrowed.through  # the last node: the target itself

    def _narrowed_counts(self, severity: str | None, narrowed: PathFilter) -> tuple[list[int], list[int]]:
        """Per entry, how many of its paths (of `severity`) `narrowed` keeps, and their running sums: sums over
        classes per (group, entry kind), as the summary's. One pass answers every severity (a worst-first list
        asks for each); kept for the last NARROWED_KEPT filters."""
        with self._narrowed_lock:
            found = self._narrowed.get(narrowed)
            if found is not None:
                self._narrowed.move_to_end(narrowed)
                return found[severity]
        through, columns = narrowed.through, (None, *SEVERITIES)
        kept = PathFilter(narrowed.type, None, narrowed.conditional)  # what the class decides, `through` aside
        # per (group, entry kind): per column, the paths kept when the entry passes `through` and when it does not
        per_group: dict[tuple[tuple[Node, int, int], tuple[str, frozenset[str]]], list[tuple[int, int]]] = {}
        counts: dict[str | None, list[int]] = {column: [] for column in columns}
        for ent in self.entries:
            gkey, kind = self.group_of[ent], (ent[0], frozenset(e.kind for e in self.heads[ent]))
            sums = per_group.get((gkey, kind))
            if sums is None:
                grp = self.group(gkey)
                every = dict.fromkeys(SEVERITIES, 0)
                beyond = dict.fromkeys(SEVERITIES, 0)
                for res, n, target in self._classes(gkey):
                    if not self._keeps(kept, kind, target, res, True):
                        continue
                    sev = self._class_text(res, target, kind)[1]
                    every[sev] += n
                    if through is None or through in self._tail_nodes(res):
                        beyond[sev] += n
                    elif res.through_account:  # the last node, the target, may be `through`: one path at most
                        label, tid = target
                        if tid:
                            beyond[sev] += tid == through
                        else:  # the label's rest: `through` is one of them
                            beyond[sev] += through in self._label_ids.get(label, ()) and (label, through) not in grp.specials
                sums = per_group[(gkey, kind)] = [(sum(every.values()), sum(beyond.values()))] + [
                    (every[sev], beyond[sev]) for sev in SEVERITIES]
            passes = through is None or through in self._entry_nodes(ent)
            for column, (every_n, beyond_n) in zip(columns, sums, strict=True):
                counts[column].append(every_n if passes else beyond_n)
        found = {column: (n, _running(n)) for column, n in counts.items()}
        with self._narrowed_lock:
            self._narrowed[narrowed] = found
            while len(self._narrowed) > NARROWED_KEPT:
                self._narrowed.popitem(last=False)
        return found[severity]

    def worst_first_lines(self, limit: int | None = None, entry: str | None = None,
                          target: str | None = None) -> Iterator[str]:
        """`lines` worst severity first, the report's order within a severity (the order the CLI and API show)."""
        left = limit
        for severity in SEVERITIES:
            for line in self.lines(limit=left, entry=entry, target=target, severity=severity):
                yield line
                if left is not None:
                    left -= 1
            if left == 0:
                return

    def _targets_named(self, target: str) -> list[Node]:
        if target in (self.graph.account_id, f"acs:ram::{self.graph.account_id}:root"):
            return [self.graph.account]
        return [(label, target) for label in sorted(self._label_ids) if target in self._label_ids[label]] or [
            (label, target) for label in sorted(attack_targets())]

    def count(self, entry: str | None = None, target: str | None = None) -> int:
        """How many paths `paths(entry=…, target=…)` yields (without producing them)."""
        if entry is None and target is None:
            return self.total
        total = 0
        for i, ent in enumerate(self.entries):
            if entry is not None and ent[1] != entry:
                continue
            if target is None:
                total += self.summary["per_entry"][i]
                continue
            grp = self.group(self.group_of[ent])
            total += sum(1 for t in self._targets_named(target) if grp.resolution(t, self._label_ids))
        return total

    def document(self) -> dict[str, Any]:
        """Today's `paths --format json` document (every path in memory: callers check `total` first)."""
        return {"account_id": self.graph.account_id, "paths": list(self.paths()), "choke_points": self.choke_points}


def _running(counts: list[int]) -> list[int]:
    out = [0]
    for n in counts:
        out.append(out[-1] + n)
    return out


def _severity(entry: Node, target: Node | None, res: Resolution) -> str:
    internet = entry[0] == "EcsInstance"
    label = target[0] if target is not None else ""
    if label == "Account":
        return "critical"
    access = _access(res, label)
    firm = access if res.conditional else [m for m in access if m not in _soft(res, access)]
    if "write" in firm or "admin" in firm:
        return "critical" if internet else "high"
    return "high" if internet else "medium"


def _access(res: Resolution, label: str) -> list[str]:
    if label == "Account":
        return ["admin"]
    return list(res.access or (target_access(label) if res.through_account else res.candidate.edge.access))


def _soft(res: Resolution, access: list[str]) -> list[str]:
    if res.conditional:
        return list(access)
    return [m for m in access if m in res.conditional_access]


class _EntryWriter:
    """Writes one entry's path objects as JSON text. What depends on the entry (its reference, the edges up
    to its group) is formatted once per entry; what depends on the class (the rest of the path, type,
    severity, access) once per group and entry kind (`PathIndex._class_text`): a line costs a hash and a join."""

    def __init__(self, index: PathIndex, entry: Node) -> None:
        self.index, self.entry = index, entry
        head = index.heads[entry]
        self.id_prefix = f"{index.graph.account_id}|{entry}|"
        entry_ref = index.ref(entry)
        head_nodes = ", ".join([index.ref(head[0].src)] + [index.ref(e.dst) for e in head]) if head else entry_ref
        head_edges = ", ".join(_edge_text(e) for e in head)
        self.kind = (entry[0], frozenset(e.kind for e in head))
        self.before = f'"entry": {entry_ref}'
        self.head_nodes = head_nodes
        self.head_edges = head_edges + ", " if head_edges else ""

    def severity(self, target: Node, res: Resolution) -> str:
        return self.index._class_text(res, target, self.kind)[1]

    def line(self, target: Node, res: Resolution) -> str:
        text = self.index._class_text(res, target, self.kind)
        ident = hashlib.sha1((self.id_prefix + str(target)).encode()).hexdigest()[:16]
        target_ref = self.index.ref(target)
        last = f", {target_ref}" if res.through_account else ""  # the account's CONTROLS edge ends at the target
        return (f'{{"id": "{ident}", {text[0]}, {self.before}, "target": {target_ref}, {text[2]}, '
                f'"nodes": [{self.head_nodes}{text[3]}{last}], "edges": [{self.head_edges}{text[4]}]}}')


def _edge_text(e: Edge) -> str:
    return json.dumps({"type": e.kind, "detail": e.detail if e.dst[0] != "AllTargets" else e.detail + " (every target)",
                       "conditional": e.conditional})


# ---------------------------------------------------------------- persisted per account and data version

_INDEX_UID = "{account}:attack-path-index"


def _edge_row(e: Edge) -> list[Any]:
    return [e.kind, *e.src, *e.dst, e.detail, e.conditional, list(e.access), list(e.via),
            [[m, sorted(ids)] for m, ids in e.excepts], list(e.conditional_access)]


def _edge_of(row: list[Any]) -> Edge:
    kind, sl, sid, dl, did, detail, cond, access, via, excepts, cond_access = row
    return Edge(kind, (sl, sid), (dl, did), detail, cond, tuple(access), tuple(via),
                tuple((m, frozenset(ids)) for m, ids in excepts), tuple(cond_access))


def _encode(index: PathIndex) -> bytes:
    g = index.graph
    doc = {"entries": [list(e) for e in g.entries], "targets": g.targets_by_label,
           "edges": [_edge_row(e) for e in g.edges if e.kind != "CONTROLS"], "summary": index.summary}
    return zlib.compress(json.dumps(doc, separators=(",", ":")).encode(), 6)


def _decode(account_id: str, version: str, blob: bytes) -> PathIndex:
    with _no_gc():
        doc = json.loads(zlib.decompress(blob))
        graph = AttackGraph(account_id, entries=[(e[0], e[1]) for e in doc["entries"]],
                            edges=[_edge_of(r) for r in doc["edges"]], targets_by_label=doc["targets"])
        index = PathIndex(graph, version, summary=doc["summary"])
        index._prepare()
        return index


_ACCOUNT_STATE = ("MATCH (a:Account {uid: $auid}) RETURN coalesce(a.current_sync, '') AS sync, "
                  "coalesce(a.raw_digest, '') AS digest, coalesce(a.analysis_version, '') AS analysis")


def _account_state(driver: Driver, account_id: str) -> dict[str, str] | None:
    rows = driver.execute_query(_ACCOUNT_STATE, auid=f"{account_id}:{account_id}", routing_="r").records
    return dict(rows[0]) if rows else None


def _version(state: dict[str, str]) -> str:
    return f"{state['sync']}|{state['digest']}|{state['analysis']}|{INDEX_CODE}"


def data_version(driver: Driver, account_id: str) -> str | None:
    """What the index of an account depends on: its last sync, raw answers, derivation and this code.
    None when the account is not loaded."""
    state = _account_state(driver, account_id)
    return _version(state) if state is not None else None


def build_index(driver: Driver, account_id: str) -> PathIndex:
    """Compute the account's index from its derived edges and persist it (after every sync)."""
    state = _account_state(driver, account_id) or {"sync": "", "digest": "", "analysis": ""}
    index = PathIndex.build(load_attack_graph(driver, account_id), _version(state))
    # written only while the account is still at that version: a sync committed meanwhile builds its own
    driver.execute_query(
        "MATCH (a:Account {uid: $auid}) WHERE coalesce(a.current_sync, '') = $sync "
        "AND coalesce(a.raw_digest, '') = $digest AND coalesce(a.analysis_version, '') = $analysis "
        "MERGE (x:AttackPathIndex {uid: $uid}) "
        "SET x.account_id = $account, x.version = $version, x.total = $total, x.firm = $firm, x.blob = $blob",
        auid=f"{account_id}:{account_id}", **state, uid=_INDEX_UID.format(account=account_id), account=account_id,
        version=index.version, total=index.total, firm=int(index.summary["firm"]), blob=_encode(index))
    return index


def load_index(driver: Driver, account_id: str) -> PathIndex:
    """The account's persisted index if it is current, else a fresh one (built and persisted)."""
    version = data_version(driver, account_id)
    if version is not None:
        rows = driver.execute_query(
            "MATCH (x:AttackPathIndex {uid: $uid}) WHERE x.version = $version RETURN x.blob AS blob",
            uid=_INDEX_UID.format(account=account_id), version=version, routing_="r").records
        if rows:
            return _decode(account_id, version, rows[0]["blob"])
    return build_index(driver, account_id)


def ensure_index(driver: Driver, account_id: str) -> None:
    """Build the index unless the persisted one is current (an unchanged re-ingest keeps it)."""
    version = data_version(driver, account_id)
    rows = driver.execute_query(
        "MATCH (x:AttackPathIndex {uid: $uid}) WHERE x.version = $version RETURN 1 AS ok",
        uid=_INDEX_UID.format(account=account_id), version=version, routing_="r").records
    if not rows:
        build_index(driver, account_id)


Row = TypeVar("Row")


class _LazyPages(Sequence[Row]):
    """A sequence whose contiguous slices are produced on demand (`_slice`): millions of rows, never listed."""

    def _slice(self, start: int, stop: int) -> list[Row]:
        raise NotImplementedError

    @overload
    def __getitem__(self, item: int) -> Row: ...

    @overload
    def __getitem__(self, item: slice) -> list[Row]: ...

    def __getitem__(self, item: int | slice) -> Row | list[Row]:
        if not isinstance(item, slice):
            if not -len(self) <= item < len(self):
                raise IndexError(item)
            return self._slice(item % len(self), item % len(self) + 1)[0]
        start, stop, step = item.indices(len(self))
        if step != 1:
            raise ValueError("pages are contiguous")
        return self._slice(start, stop)


class WorstFirst(_LazyPages[dict[str, Any]]):
    """The paths of some severities, worst first and in the report's order within one severity (the API's
    order), as a sequence whose slices are produced on demand from the index."""

    def __init__(self, index: PathIndex, severities: Iterable[str] = SEVERITIES,
                 narrowed: PathFilter | None = None) -> None:
        self.source, self.narrowed = index, narrowed  # not `index`: Sequence.index is a method
        self.severities = [s for s in SEVERITIES if s in set(severities)]
        by = index.summary["by_severity"]
        self.sizes = [int(by.get(s, 0)) if narrowed is None else index._narrowed_counts(s, narrowed)[1][-1]
                      for s in self.severities]

    def __len__(self) -> int:
        return sum(self.sizes)

    def _slice(self, start: int, stop: int) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for severity, size in zip(self.severities, self.sizes, strict=True):
            if start >= size:
                start, stop = start - size, stop - size
                continue
            want = min(stop, size) - start
            if want > 0:
                out.extend(json.loads(x) for x in self.source.lines(offset=start, limit=want, severity=severity,
                                                                    narrowed=self.narrowed))
            start, stop = 0, stop - size
            if stop <= 0:
                break
        return out


class RankedReport:
    """The API's attack-path report from the persisted index: `doc["choke_points"]` and `select` (the
    paths worst first, filtered) — the same answers as building every path, without building them."""

    def __init__(self, index: PathIndex) -> None:
        self.index = index
        self.doc = {"account_id": index.graph.account_id, "choke_points": index.choke_points}

    def select(self, entry: str | None, target: str | None, severity: list[str] | None, type_: str | None,
               through: str | None, conditional: bool | None) -> Sequence[dict[str, Any]]:
        if entry is None and target is None:  # counted per class, produced page by page: never the whole list
            narrowed = None if type_ is None and through is None and conditional is None else PathFilter(
                type_, through, conditional)
            return WorstFirst(self.index, severity or SEVERITIES, narrowed)
        # narrowed by entry/target: a few thousand at most
        rows = [p for p in self.index.paths(entry=entry, target=target)
                if (severity is None or p["severity"] in severity) and (type_ is None or p["type"] == type_)
                and (conditional is None or p["conditional"] == conditional)
                and (through is None or any(n["id"] == through for n in p["nodes"]))]
        return sorted(rows, key=lambda p: SEVERITIES.index(p["severity"]))


def ranked_report(driver: Driver, account_id: str) -> RankedReport:
    """The API's report. The first pages are answered at once; every entry group is then resolved in the
    background, so later pages at any offset find theirs ready instead of resolving it while others wait."""
    index = load_index(driver, account_id)
    threading.Thread(target=index.resolve_all, name=f"paths-{account_id}", daemon=True).start()
    return RankedReport(index)


# ---------------------------------------------------------------- what-if on the compact index

class RemovedPairs(_LazyPages[list[str]]):
    """The firm (entry, target) pairs a change disconnects, `[entry id, target id]` in the index's (entry, target)
    order, as a sequence whose slices are produced on demand (a change may cut millions: never listed whole)."""

    def __init__(self, before: PathIndex, after: PathIndex) -> None:
        self.before, self.after = before, after
        firm = PathFilter(conditional=False)
        kept_after = dict(zip(after.entries, after._narrowed_counts(None, firm)[0], strict=True))
        self.counts = [n - kept_after.get(ent, 0)
                       for ent, n in zip(before.entries, before._narrowed_counts(None, firm)[0], strict=True)]
        self.cumulative = _running(self.counts)

    def __len__(self) -> int:
        return self.cumulative[-1]

    def _slice(self, start: int, stop: int) -> list[list[str]]:
        return list(itertools.islice(self._pairs(start), max(0, stop - start)))

    def _pairs(self, offset: int) -> Iterator[list[str]]:
        before, after = self.before, self.after
        first = bisect.bisect_right(self.cumulative, offset) - 1
        skip = offset - self.cumulative[first]
        for i in range(first, len(before.entries)):
            if not self.counts[i]:
                continue
            ent = before.entries[i]
            kept = after.group(after.group_of[ent]) if ent in after.group_of else None
            for target, res in before.targets_of(before.group(before.group_of[ent])):
                if res.conditional:
                    continue
                now = kept.resolution(target, after._label_ids) if kept is not None else None
                if now is not None and not now.conditional:
                    continue
                if skip:
                    skip -= 1
                    continue
                yield [ent[1], before._node_id(target)]


_SECURITY_GROUP_CHANGES = ("close-ports", "close-exposure")


def what_if(driver: Driver, account_id: str, changes: list[str]) -> dict[str, Any]:
    """What proposed changes would cut (`analyse_paths(…)["what_if"]`, its oracle): the account's attack graph
    without the edges the changes remove, indexed like the account's own (two compact indexes, no path list);
    `removed_pairs` is a lazy sequence. Raises WhatIfError on a change it does not understand."""
    if any(change.partition(":")[0] in _SECURITY_GROUP_CHANGES for change in changes):
        # they re-judge security groups' rules, which the persisted index does not keep: the graph is read
        graph = load_attack_graph(driver, account_id)
        before = PathIndex.build(graph)
    else:  # the account's persisted index (the one its pages come from) and the graph it holds
        before = load_index(driver, account_id)
        graph = before.graph
    removed: set[Edge] = set()
    for change in changes:
        removed |= apply_what_if(graph, change)
    after = PathIndex.build(AttackGraph(account_id, entries=list(graph.entries),
                                        edges=[e for e in graph.edges if e not in removed],
                                        targets_by_label=graph.targets_by_label))
    pairs = RemovedPairs(before, after)
    return {
        "changes": list(changes),
        "edges_removed": [{"type": e.kind, "from": e.src[1], "to": e.dst[1]} for e in sorted(removed, key=str)],
        "paths_removed": len(pairs),
        "paths_remaining": int(after.summary["firm"]),
        "removed_pairs": pairs,
    }
