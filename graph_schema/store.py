"""The generic writer: constraints, and one atomic, diff-based account sync.

A sync replaces an account's state in ONE transaction: readers keep seeing the previous complete
sync until commit, and a crash (even `kill -9`) mid-sync leaves it intact. Unchanged rows (same
property hash) are not written again, so re-ingesting an unchanged account costs reads only.
Stale nodes/relationships are removed only in scopes that came back `ok` (or that no longer exist);
nodes kept because their scope failed are marked `_stale` until a sync sees them again.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from neo4j import Driver, Session, Transaction
from neo4j.exceptions import ClientError, TransientError

from graph_schema.model import (
    GLOBAL_RECORD_INDEXES,
    RECORD_UNIQUE_KEYS,
    TENANT_RECORD_LABELS,
    UID_RECORD_LABELS,
    node_uid,
    schemas,
)

BATCH_SIZE = 10_000
# a node's id makes its `uid`, a unique-index key: Neo4j refuses keys over about 8 kB mid-write, so longer ids
# are refused while the batch is built (no cloud identifier comes near this)
MAX_ID_LENGTH = 1024
# scopes that a full sync recomputes from scratch (the account root, regions, derived edges, hosts)
FULL_SYNC_SCOPES = frozenset({"account", "derived", "region", "hosts"})


def _hash(obj: Any) -> str:
    return hashlib.blake2b(json.dumps(obj, sort_keys=True, default=str).encode(), digest_size=12).hexdigest()


@dataclass
class RelRow:
    type: str
    src_label: str
    src_id: str
    dst_label: str
    dst_id: str
    scope: str
    props: dict[str, Any] = field(default_factory=dict)


class IdentifierError(ValueError):
    """An id too long to be a node key."""


def checked_id(label: str, node_id: str) -> str:
    if isinstance(node_id, str) and len(node_id) > MAX_ID_LENGTH:
        raise IdentifierError(f"{label} id {node_id[:40]!r}… is {len(node_id)} characters long (at most {MAX_ID_LENGTH})")
    return node_id


@dataclass
class GraphBatch:
    """Everything one sync knows about one account: node rows by label, relationship rows."""

    account_id: str
    nodes: dict[str, dict[str, dict[str, Any]]] = field(default_factory=lambda: defaultdict(dict))
    rels: dict[tuple[str, str, str, str, str], RelRow] = field(default_factory=dict)

    def node(self, label: str, node_id: str, scope: str, **props: Any) -> dict[str, Any]:
        """Add (or merge into) a node row; returns the row so callers may add properties."""
        row = self.nodes[label].get(node_id)
        if row is None:
            row = {"id": checked_id(label, node_id), "scope": scope}
            self.nodes[label][node_id] = row
        row.update(props)
        return row

    def rel(self, rel_type: str, src: tuple[str, str], dst: tuple[str, str], scope: str, **props: Any) -> None:
        if rel_type not in schemas().rel_types:
            raise ValueError(f"undeclared relationship type {rel_type}")
        key = (src[0], src[1], rel_type, dst[0], dst[1])
        existing = self.rels.get(key)
        if existing is not None:
            existing.props.update(props)
            return
        self.rels[key] = RelRow(rel_type, src[0], src[1], dst[0], dst[1], scope, dict(props))

    def has_node(self, label: str, node_id: str) -> bool:
        return node_id in self.nodes.get(label, {})

    def count(self) -> int:
        return sum(len(v) for v in self.nodes.values())


class UndeclaredPropertyError(ValueError):
    """A loader wrote a label or property its product's schema does not declare: nothing is written."""


def check_declared(batch: GraphBatch, account_props: dict[str, Any] | None = None) -> None:
    """Every row's properties are declared by its label's schema (a renamed or forgotten property fails the
    load, instead of silently leaving the check items that read the old name without data)."""
    declared = schemas()
    rows: list[tuple[str, str, dict[str, Any]]] = [
        (label, node_id, row) for label, by_id in batch.nodes.items() for node_id, row in by_id.items()]
    if account_props:
        rows.append(("Account", batch.account_id, account_props))
    for label, node_id, row in rows:
        allowed = declared.allowed(label)
        if not allowed:
            raise UndeclaredPropertyError(f"label {label} (node {node_id}) is declared by no product")
        undeclared = sorted(k for k in row if k not in allowed)
        if undeclared:
            raise UndeclaredPropertyError(f"{label} {node_id}: properties {', '.join(undeclared)} are declared by no "
                                          "product (add them to the product's NodeSchema)")


@dataclass(frozen=True)
class SyncScopes:
    """What one sync may clean up. A stale node (not in the new batch) is removed when its scope came back
    `ok` (or its product is recomputed whole, e.g. `derived`), or when its product's regions were all
    enumerated and the sync did not visit the scope at all: that region or product has no assets any more
    (spec: a recording with no calls for it holds none). A visited scope that failed keeps its nodes."""

    ok: frozenset[str]
    visited: frozenset[str] = frozenset()
    complete_products: frozenset[str] = frozenset()

    def deletable(self, scope: str) -> bool:
        product = scope.split(":", 1)[0]
        if scope in self.ok or product in self.ok:
            return True
        return product in self.complete_products and scope not in self.visited

    @property
    def failed(self) -> frozenset[str]:
        return frozenset(s for s in self.visited if s not in self.ok)

    def stale(self, scope: str) -> bool:
        """A leftover of this scope is kept but no longer evidence: the sync read the scope and it failed.
        (A partial sync, e.g. one host's report, visits nothing else and marks nothing.)"""
        return scope in self.visited and not self.deletable(scope)


# properties that are bookkeeping, not what the asset is: never reported as a change
_NOT_CHANGES = frozenset({"_h", "uid", "account_id", "_stale"})
BRIEF_CHARS = 300


def _brief(value: Any) -> Any:
    """A changed value as a drift record keeps it: long documents cut (the asset itself has them whole)."""
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return value if len(text) <= BRIEF_CHARS else text[:BRIEF_CHARS] + "…"


@dataclass
class SyncDelta:
    """What one sync changed, as the drift records keep it (`backend/drift.py` reads them)."""

    added: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    removed: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    changed: dict[str, dict[str, dict[str, list[Any]]]] = field(default_factory=lambda: defaultdict(dict))
    # derived edges (CAN_REACH …) as [type, source id, target id, properties before, properties after]
    derived: list[list[Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"added": dict(self.added), "removed": dict(self.removed), "changed": dict(self.changed),
                "derived": self.derived}


@dataclass
class SyncStats:
    nodes_written: int = 0
    nodes_unchanged: int = 0
    nodes_deleted: int = 0
    rels_written: int = 0
    rels_unchanged: int = 0
    rels_deleted: int = 0
    seconds: float = 0.0
    delta: SyncDelta = field(default_factory=SyncDelta)

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "delta"}


# properties earlier versions wrote and that must not linger in an upgraded database: a host's verbatim report
# (it could hold hashes, keys and environment secrets; loaders/hosts.py now keeps declared facts only)
RETIRED_PROPERTIES: dict[str, tuple[str, ...]] = {"Host": ("report",)}


def uid_keyed_labels() -> dict[str, str | None]:
    """Every label keyed by `uid` → the property that says which of two duplicates is newer (assets: none, the
    next sync rewrites the one kept)."""
    return {**{schema.label: None for schema in schemas().nodes.values()}, **UID_RECORD_LABELS}


def ensure_schema(driver: Driver) -> None:
    """Create constraints and indexes idempotently (one per declared label).

    Safe when several processes start at once: only missing schema is created, and a concurrent
    creator winning the race is not an error. A uid constraint that is missing is created after removing
    duplicate uids (keeping the newest), which a database written before the constraint may hold."""
    def index(label: str, prop: str) -> None:
        statements[f"{label.lower()}_{prop}"] = f"CREATE INDEX {label.lower()}_{prop} IF NOT EXISTS FOR (n:{label}) ON (n.{prop})"

    statements: dict[str, str] = {}
    for label, key in RECORD_UNIQUE_KEYS.items():
        statements[f"{label.lower()}_{key}"] = (
            f"CREATE CONSTRAINT {label.lower()}_{key} IF NOT EXISTS FOR (n:{label}) REQUIRE n.{key} IS UNIQUE"
        )
    for schema in schemas().nodes.values():
        for prop in schema.extra_indexes:
            index(schema.label, prop)
    # every tenant label is seekable by account (the console's tenant scoping relies on it, see cypher_guard)
    for label in [*schemas().node_labels, *TENANT_RECORD_LABELS]:
        statements[f"{label.lower()}_account"] = (
            f"CREATE INDEX {label.lower()}_account IF NOT EXISTS FOR (n:{label}) ON (n.account_id)"
        )
    for label, props in GLOBAL_RECORD_INDEXES.items():
        for prop in props:
            index(label, prop)
    with driver.session() as session:
        existing = {r["name"] for r in session.run("SHOW CONSTRAINTS YIELD name RETURN name")}
        existing |= {r["name"] for r in session.run("SHOW INDEXES YIELD name RETURN name")}
        for label, newest in uid_keyed_labels().items():
            if uid_constraint_name(label) not in existing:
                ensure_unique_uid(session, label, newest)
        for name, stmt in statements.items():
            if name not in existing:
                _create(session, stmt)
        session.run("CALL db.awaitIndexes(300)").consume()
        for label, props in RETIRED_PROPERTIES.items():
            for prop in props:
                session.run(f"MATCH (n:{label}) WHERE n.{prop} IS NOT NULL "
                            f"CALL (n) {{ REMOVE n.{prop} }} IN TRANSACTIONS OF 5000 ROWS").consume()


def uid_constraint_name(label: str) -> str:
    return f"{label.lower()}_uid"


def ensure_unique_uid(session: Session, label: str, newest: str | None) -> int:
    """Make `uid` unique on `label`: remove duplicates (keeping the newest by `newest`), then create the
    constraint; a writer that slips a duplicate in between makes the creation fail, and it is tried again.
    Returns how many duplicates were removed."""
    removed = 0
    order = f"n.{newest} IS NULL, n.{newest} DESC, " if newest else ""
    for _ in range(5):
        rec = session.run(
            f"MATCH (n:{label}) WHERE n.uid IS NOT NULL "
            f"WITH n ORDER BY {order}elementId(n) DESC "
            "WITH n.uid AS uid, collect(n) AS same WHERE size(same) > 1 "
            "UNWIND same[1..] AS extra DETACH DELETE extra RETURN count(*) AS removed"
        ).single()
        removed += int(rec["removed"]) if rec else 0
        try:
            _create(session, f"CREATE CONSTRAINT {uid_constraint_name(label)} IF NOT EXISTS FOR (n:{label}) "
                             "REQUIRE n.uid IS UNIQUE")
            return removed
        except ClientError as exc:
            if "ConstraintCreationFailed" not in (exc.code or ""):
                raise
    raise RuntimeError(f"could not make {label}.uid unique: writers keep adding duplicates")


def _create(session: Session, statement: str) -> None:
    for attempt in range(5):
        try:
            session.run(statement).consume()
            return
        except ClientError as exc:
            if "AlreadyExists" in (exc.code or "") or "already exists" in (exc.message or ""):
                return
            raise
        except TransientError:
            time.sleep(0.2 * (attempt + 1))


def _chunks(rows: list[Any], size: int = BATCH_SIZE) -> Iterator[list[Any]]:
    for i in range(0, len(rows), size):
        yield rows[i : i + size]


def _node_payload(account_id: str, row: dict[str, Any]) -> dict[str, Any]:
    props = {k: v for k, v in row.items() if v is not None}
    props["account_id"] = account_id
    props["uid"] = node_uid(account_id, row["id"])
    props["_h"] = _hash(props)
    return props


def _rel_hash(rel: RelRow) -> str:
    return _hash([rel.scope, rel.props])


def apply_account_state(
    driver: Driver,
    batch: GraphBatch,
    scopes: SyncScopes,
    account_props: dict[str, Any],
) -> SyncStats:
    """Write `batch` as the account's new state in one transaction (see module doc)."""
    check_declared(batch, account_props)
    started = time.perf_counter()
    ok = scopes
    stats = SyncStats()
    with driver.session() as session:
        tx = session.begin_transaction()
        try:
            initial = _apply(tx, batch, ok, account_props, stats)
            if account_props.get("current_sync"):
                _record_sync(tx, batch.account_id, str(account_props["current_sync"]), stats.delta, initial)
            tx.commit()
        except BaseException:
            if not tx.closed():
                tx.rollback()
            raise
        finally:
            tx.close()
    stats.seconds = time.perf_counter() - started
    return stats


def _record_sync(tx: Transaction, account_id: str, sync_id: str, delta: SyncDelta, initial: bool) -> None:
    """The sync's drift record, in the sync's transaction: no sync without its record, no record without it.
    A first sync keeps counts only (everything is new; listing it helps no one)."""
    doc = ({"initial": True, "added": {label: len(ids) for label, ids in delta.added.items()}} if initial
           else delta.as_dict())
    tx.run("CREATE (:SyncRecord {uid: $uid, account_id: $account, id: $sync, at: $at, delta: $delta})",
           uid=node_uid(account_id, sync_id), account=account_id, sync=sync_id,
           at=datetime.now(UTC).isoformat().replace("+00:00", "Z"), delta=json.dumps(doc, default=str)).consume()


def _note_changes(tx: Transaction, label: str, account_id: str, upserts: list[dict[str, Any]],
                  existing: dict[str, tuple[str, str, bool]], delta: SyncDelta) -> None:
    """Which properties of the rewritten nodes changed (read before they are overwritten)."""
    changed = [p for p in upserts if p["id"] in existing]
    delta.added[label].extend(p["id"] for p in upserts if p["id"] not in existing)
    if not delta.added[label]:
        del delta.added[label]
    for chunk in _chunks(changed):
        old = {r["id"]: r["p"] for r in tx.run(
            f"UNWIND $uids AS u MATCH (n:{label} {{uid: u}}) RETURN n.id AS id, properties(n) AS p",
            uids=[p["uid"] for p in chunk])}
        for new in chunk:
            before = old.get(new["id"], {})
            props = {k: [_brief(before.get(k)), _brief(new.get(k))]
                     for k in (set(before) | set(new)) - _NOT_CHANGES if before.get(k) != new.get(k)}
            if props:
                delta.changed[label][new["id"]] = props


def _apply(tx: Transaction, batch: GraphBatch, ok: SyncScopes, account_props: dict[str, Any], stats: SyncStats) -> bool:
    """Returns whether this was the account's first sync."""
    account_id = batch.account_id
    # the account root first, locked for the whole sync: two syncs of one account serialise here
    rec = tx.run(
        "MERGE (a:Account {uid: $uid}) ON CREATE SET a.id = $id, a.account_id = $id "
        "WITH a, a.current_sync IS NULL AS initial "
        "SET a += $props, a._sync_lock = coalesce(a._sync_lock, 0) + 1 RETURN initial",
        uid=node_uid(account_id, account_id), id=account_id, props=account_props,
    ).single()
    initial = bool(rec and rec["initial"])

    for label, rows in batch.nodes.items():
        if label == "Account":
            continue
        existing: dict[str, tuple[str, str, bool]] = {}
        result = tx.run(
            f"MATCH (n:{label} {{account_id: $account}}) "
            "RETURN n.id AS id, n._h AS h, n.scope AS scope, coalesce(n._stale, false) AS stale",
            account=account_id,
        )
        for rec in result:
            existing[rec["id"]] = (rec["h"], rec["scope"] or "", rec["stale"])
        upserts = []
        for node_id, row in rows.items():
            payload = _node_payload(account_id, row)
            old = existing.get(node_id)
            if old is not None and old[0] == payload["_h"] and not old[2]:
                stats.nodes_unchanged += 1
                continue
            upserts.append(payload)  # SET n = row also clears a `_stale` mark
        _note_changes(tx, label, account_id, upserts, existing, stats.delta)
        for chunk in _chunks(upserts):
            tx.run(
                f"UNWIND $rows AS row MERGE (n:{label} {{uid: row.uid}}) SET n = row",
                rows=chunk,
            ).consume()
        stats.nodes_written += len(upserts)
        stale = [
            node_uid(account_id, node_id)
            for node_id, (_, scope, _) in existing.items()
            if node_id not in rows and ok.deletable(scope)
        ]
        for chunk in _chunks(stale):
            tx.run(f"UNWIND $uids AS u MATCH (n:{label} {{uid: u}}) DETACH DELETE n", uids=chunk).consume()
        stats.nodes_deleted += len(stale)
        if stale:
            stats.delta.removed[label].extend(uid.split(":", 1)[1] for uid in stale)
        # not seen, but its scope failed: kept (a lost permission never deletes) and marked, so checks say NOT_CHECK
        kept = [
            node_uid(account_id, node_id)
            for node_id, (_, scope, was_stale) in existing.items()
            if node_id not in rows and not was_stale and ok.stale(scope)
        ]
        for chunk in _chunks(kept):
            tx.run(f"UNWIND $uids AS u MATCH (n:{label} {{uid: u}}) SET n._stale = true", uids=chunk).consume()

    # labels present before but absent from this batch entirely: stale where their scope may be cleaned
    for schema in schemas().nodes.values():
        if schema.label in batch.nodes or schema.label == "Account":
            continue
        present = [r["scope"] for r in tx.run(
            f"MATCH (n:{schema.label} {{account_id: $account}}) RETURN DISTINCT coalesce(n.scope, '') AS scope",
            account=account_id)]
        gone = [scope for scope in present if ok.deletable(scope)]
        if gone:
            res = tx.run(
                f"MATCH (n:{schema.label} {{account_id: $account}}) WHERE coalesce(n.scope, '') IN $gone "
                "WITH n, n.id AS id DETACH DELETE n RETURN collect(id) AS ids",
                account=account_id, gone=gone,
            ).single()
            ids = list(res["ids"]) if res else []
            stats.nodes_deleted += len(ids)
            if ids:
                stats.delta.removed[schema.label].extend(ids)
        failed = [scope for scope in present if ok.stale(scope)]
        if failed:
            tx.run(f"MATCH (n:{schema.label} {{account_id: $account}}) WHERE n.scope IN $failed SET n._stale = true",
                   account=account_id, failed=failed).consume()

    _apply_rels(tx, batch, ok, stats, track_derived=not initial)
    return initial


def _apply_rels(tx: Transaction, batch: GraphBatch, ok: SyncScopes, stats: SyncStats, track_derived: bool) -> None:
    account_id = batch.account_id
    existing: dict[tuple[str, str, str, str, str], tuple[str, str, str]] = {}
    derived_before: dict[tuple[str, str, str, str, str], dict[str, Any]] = {}
    for schema in schemas().nodes.values():
        result = tx.run(
            f"MATCH (a:{schema.label} {{account_id: $account}})-[r]->(b) WHERE r.scope IS NOT NULL "
            "RETURN a.id AS s, type(r) AS t, labels(b)[0] AS bl, b.id AS d, r._h AS h, r.scope AS scope, "
            "elementId(r) AS eid, CASE WHEN type(r) IN $derived THEN properties(r) END AS p",
            account=account_id, derived=list(schemas().derived_rel_types),
        )
        for rec in result:
            key = (schema.label, rec["s"], rec["t"], rec["bl"], rec["d"])
            existing[key] = (rec["h"], rec["scope"], rec["eid"])
            if rec["p"] is not None:
                derived_before[key] = rec["p"]
    to_delete: list[str] = []
    to_create: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for key, rel in batch.rels.items():
        h = _rel_hash(rel)
        old = existing.get(key)
        if old is not None:
            if old[0] == h:
                stats.rels_unchanged += 1
                continue
            to_delete.append(old[2])
        props = {k: v for k, v in rel.props.items() if v is not None}
        if track_derived and rel.type in schemas().derived_rel_types:
            before = derived_before.get(key)
            stats.delta.derived.append([rel.type, rel.src_id, rel.dst_id, before and _drift_props(before),
                                        _drift_props(props)])
        props["scope"] = rel.scope
        props["_h"] = h
        to_create[(rel.src_label, rel.type, rel.dst_label)].append(
            {"s": node_uid(account_id, rel.src_id), "d": node_uid(account_id, rel.dst_id), "p": props}
        )
    for key, (_, scope, eid) in existing.items():
        if key not in batch.rels and ok.deletable(scope):
            to_delete.append(eid)
            if key in derived_before:
                stats.delta.derived.append([key[2], key[1], key[4], _drift_props(derived_before[key]), None])
    for chunk in _chunks(to_delete):
        tx.run("UNWIND $ids AS id MATCH ()-[r]->() WHERE elementId(r) = id DELETE r", ids=chunk).consume()
    stats.rels_deleted += len(to_delete) - sum(1 for k in batch.rels if k in existing and existing[k][0] != _rel_hash(batch.rels[k]))
    for (src_label, rel_type, dst_label), rows in to_create.items():
        for chunk in _chunks(rows):
            tx.run(
                f"UNWIND $rows AS row MATCH (a:{src_label} {{uid: row.s}}) MATCH (b:{dst_label} {{uid: row.d}}) "
                f"CREATE (a)-[r:{rel_type}]->(b) SET r = row.p",
                rows=chunk,
            ).consume()
        stats.rels_written += len(rows)


def _drift_props(props: dict[str, Any]) -> dict[str, Any]:
    return {k: _brief(v) for k, v in sorted(props.items()) if k not in ("_h", "scope")}


def delete_account(driver: Driver, account_id: str) -> None:
    """Remove every node of one account, its assets and its records (results, plan, ledger, audit, custom
    items), in batches (tests and account removal)."""
    with driver.session() as session:
        for label in [*schemas().node_labels, *TENANT_RECORD_LABELS]:
            session.run(
                f"MATCH (n:{label} {{account_id: $account}}) "
                "CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 5000 ROWS",
                account=account_id,
            ).consume()
