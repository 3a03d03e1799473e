"""Sync orchestration: collect (any transport) → transform → analyse → one atomic write."""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from neo4j import Driver

from checks.analysis import AnalysisError, analyse
from graph_schema.store import GraphBatch, SyncScopes, SyncStats, apply_account_state
from loaders import hosts as host_loader
from loaders import inputs
from loaders.base import CollectError
from loaders.snapshot import ReplayTransport, Snapshot, SnapshotError, load_snapshot
from loaders.sync import collect_account, parse_collected_at
from loaders.transport import MissingCallError, Transport


def _derivation_digest() -> str:
    """A fingerprint of the code that turns raw answers into the graph (loaders, analysis, the model): an
    unchanged account is re-derived after an upgrade that changes it, and no one has to remember to bump."""
    root = Path(__file__).resolve().parent.parent
    sources = sorted([*(root / "loaders").rglob("*.py"), *(root / "graph_schema").glob("*.py"),
                      *(root / "checks" / name for name in ("analysis.py", "escalation.py", "policy_engine.py"))])
    digest = hashlib.blake2b(digest_size=8)
    for path in sources:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


ANALYSIS_VERSION = _derivation_digest()


class IngestError(ValueError):
    """Bad input: nothing was written, the previous state is intact."""


@dataclass
class IngestResult:
    account_id: str
    sync_id: str
    counts: dict[str, int]
    scopes: dict[str, str]
    gaps: list[str]
    stats: SyncStats

    def as_dict(self) -> dict[str, Any]:
        return {
            "account_id": self.account_id, "sync_id": self.sync_id, "counts": self.counts,
            "scopes": self.scopes, "gaps": self.gaps, "write": self.stats.as_dict(),
        }


def ingest_transport(
    driver: Driver,
    transport: Transport,
    *,
    account_name: str = "",
    collected_at: str | None = None,
    host_reports: list[dict[str, Any]] | None = None,
    progress: Callable[[str], None] | None = None,
    before_write: Callable[[], None] | None = None,
    source: str | None = None,
) -> IngestResult:
    try:
        inputs.account_id(transport.account_id, "the account id")
        when = parse_collected_at(collected_at)
        collected = collect_account(transport, account_name=account_name, collected_at=when,
                                    host_reports=host_reports, progress=progress)
        if _unchanged(driver, transport.account_id, collected.digest, collected.scopes):
            # the same answers as the last complete sync: nothing to analyse or write
            counts = {label: len(rows) for label, rows in sorted(collected.batch.nodes.items())}
            return IngestResult(transport.account_id, "unchanged", counts, collected.scopes, collected.gaps,
                                SyncStats(nodes_unchanged=collected.batch.count(),
                                          rels_unchanged=len(collected.batch.rels)))
        analyse(collected.batch, transport.account_id, collected.scopes)
    except (SnapshotError, CollectError, MissingCallError, AnalysisError, host_loader.HostReportError) as exc:
        raise IngestError(str(exc)) from exc
    except ValueError as exc:
        raise IngestError(f"malformed input: {exc}") from exc
    except (KeyError, TypeError, AttributeError) as exc:
        raise IngestError(f"malformed response shape: {type(exc).__name__}: {exc}") from exc
    if before_write is not None:
        before_write()
    if os.environ.get("SKYPATH_LOG_WRITES"):
        print(f"writing {collected.batch.count()} nodes and {len(collected.batch.rels)} relationships "
              f"of account {transport.account_id} in one transaction", file=sys.stderr, flush=True)
    account = collected.batch.nodes["Account"][transport.account_id]
    account["current_sync"] = collected.sync_id
    account["raw_digest"] = collected.digest
    account["analysis_version"] = ANALYSIS_VERSION
    # what this sync could not read (its leftovers are kept and marked `_stale`: their checks say NOT_CHECK)
    scopes = collected.sync_scopes
    account["failed_scopes"] = sorted(scopes.failed)
    if source:
        account["source"] = source
    account_props = {k: v for k, v in account.items() if k not in ("id",) and v is not None}
    stats = apply_account_state(driver, collected.batch, scopes, account_props)
    counts = {label: len(rows) for label, rows in sorted(collected.batch.nodes.items())}
    return IngestResult(transport.account_id, collected.sync_id, counts, collected.scopes, collected.gaps, stats)


def _unchanged(driver: Driver, account_id: str, digest: str, scopes: dict[str, str]) -> bool:
    if not digest or any(status != "ok" for status in scopes.values()):
        return False
    rec = driver.execute_query("MATCH (a:Account {uid: $uid}) RETURN a.raw_digest AS d, a.analysis_version AS v",
                               uid=f"{account_id}:{account_id}", routing_="r").records
    return bool(rec) and rec[0]["d"] == digest and rec[0]["v"] == ANALYSIS_VERSION


def ingest_snapshot(driver: Driver, path: str | Path, **kwargs: Any) -> IngestResult:
    try:
        snapshot = load_snapshot(path)
    except SnapshotError as exc:
        raise IngestError(str(exc)) from exc
    kwargs.setdefault("source", f"snapshot:{Path(path).resolve()}")
    return ingest_snapshot_object(driver, snapshot, **kwargs)


def ingest_snapshot_object(driver: Driver, snapshot: Snapshot, **kwargs: Any) -> IngestResult:
    return ingest_transport(driver, ReplayTransport(snapshot), account_name=snapshot.account_name,
                            collected_at=snapshot.collected_at, host_reports=snapshot.hosts, **kwargs)


def ingest_hosts(driver: Driver, account_id: str, reports: list[dict[str, Any]], source: str = "hosts") -> dict[str, Any]:
    """Load host agent reports alone (only the `hosts` scope of the account changes)."""
    try:
        inputs.account_id(account_id, "--account")
    except inputs.InputError as exc:
        raise IngestError(str(exc)) from exc
    batch = GraphBatch(account_id)
    try:
        host_loader.transform(reports, batch, source=source)
    except host_loader.HostReportError as exc:
        raise IngestError(str(exc)) from exc
    with driver.session() as session:
        rows = session.run(
            "MATCH (i:EcsInstance {account_id: $account}) WHERE i.id IN $ids RETURN i.id AS id, i.region AS region, "
            "coalesce(i.supported, true) AS supported",
            account=account_id, ids=[r.get("instance_id") for r in batch.nodes.get("Host", {}).values()],
        ).data()
    by_id = {r["id"]: r for r in rows}
    for host in batch.nodes.get("Host", {}).values():
        inst = by_id.get(host.get("instance_id") or "")
        if inst:
            host["region"], host["supported"] = inst["region"], inst["supported"]
    stats = apply_account_state(driver, batch, SyncScopes(frozenset(f"hosts:{h}" for h in batch.nodes.get("Host", {}))), {})
    return {"account_id": account_id, "hosts": len(batch.nodes.get("Host", {})), "write": stats.as_dict()}


def read_host_reports(path: str | Path) -> list[dict[str, Any]]:
    try:
        doc = inputs.loads_json(Path(path).read_bytes(), f"host reports {path}")
    except OSError as exc:
        raise IngestError(f"cannot read host reports {path}: {exc.strerror or exc}") from exc
    except inputs.InputError as exc:
        raise IngestError(str(exc)) from exc
    if isinstance(doc, dict):
        doc = doc.get("hosts", [doc]) if "hosts" in doc else [doc]
    if not isinstance(doc, list):
        raise IngestError(f"{path}: expected a host report object or a list of them")
    return doc
