"""The continuous-posture steps, without Celery: sync an account, scan it, analyse its attack paths.

`backend/tasks.py` runs them as Celery tasks (locked per account, retried, chained); the CLI, tests and
`bench/fleet.py` call the same functions. Each returns a small JSON-able dict that the next step reads.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from neo4j import Driver

from checks.path_index import JSON_PATH_LIMIT, PathIndex
from graph_schema.model import node_uid

SOURCE_KINDS = ("snapshot", "profile", "live")
# a PathRun keeps its (entry, target) pairs up to this many, for drift to compare; above, only the counts (10M
# pairs would be gigabytes of one node's properties; the persisted index streams them to whoever asks)
PATH_RUN_PAIR_LIMIT = JSON_PATH_LIMIT


class SourceError(ValueError):
    """A schedule's source is not one Skypath can sync from."""


def parse_source(source: str) -> tuple[str, str]:
    """`snapshot:PATH`, `profile:NAME` or `live` (the default credential chain) → (kind, argument)."""
    kind, _, arg = source.partition(":")
    if kind not in SOURCE_KINDS or (kind != "live" and not arg) or (kind == "live" and arg):
        raise SourceError(f"source must be snapshot:PATH, profile:NAME or live, got {source!r}")
    return kind, arg


def now_iso() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def sync_account(driver: Driver, account_id: str, source: str, progress: Callable[[str], None] | None = None,
                 writing: Callable[[], None] | None = None) -> dict[str, Any]:
    """Collect and write the account in one transaction (a crash leaves the previous sync intact).
    `progress` hears each API call, `writing` when collection and analysis are done and the write begins."""
    from backend.ingest import IngestError, ingest_snapshot, ingest_transport

    kind, arg = parse_source(source)
    if kind == "snapshot":
        result = ingest_snapshot(driver, arg, progress=progress, before_write=writing)
    else:
        from loaders.transport_live import LiveTransport

        transport = (LiveTransport.from_profile(arg, account_id=account_id) if kind == "profile"
                     else LiveTransport(account_id).with_account_id())
        result = ingest_transport(driver, transport, progress=progress, before_write=writing, source=source)
    if result.account_id != account_id:
        raise IngestError(f"the source holds account {result.account_id}, not {account_id}: nothing else was synced "
                          "under the schedule's account (fix the schedule's source)")
    return {"account_id": account_id, "sync_id": result.sync_id, "write": result.stats.as_dict()}


def scan_account(driver: Driver, account_id: str, who: str, check_ids: list[str] | None = None,
                 package: str | None = None, policy: str | None = None, scan_id: str | None = None) -> dict[str, Any]:
    """A scan of the whole catalog (or a package, a policy, some items), billed like any other."""
    from backend import billing
    from backend.entitlements import PlanBiller
    from checks.packages import select_items
    from checks.scan import run_items

    items = select_items(driver, account_id, check_ids, package, policy)
    billing.require_activation(driver, account_id, items)
    report = run_items(driver, account_id, items, PlanBiller(billing.load_plan(driver, account_id), who), who=who,
                       scan_id=scan_id)
    return {"account_id": account_id, "scan_id": report.scan_id, "status": report.status,
            "authorizations_consumed": report.authorizations_consumed, "summary": report.summary()}


def paths_account(driver: Driver, account_id: str) -> dict[str, Any]:
    """Record the account's attack paths from its persisted index (built if stale): drift compares these runs."""
    from backend import billing
    from checks.path_index import load_index

    decision = billing.decide(billing.load_plan(driver, account_id), "paths")
    if not decision.allowed:
        return {"account_id": account_id, "status": "refused", "reason": decision.reason}
    index = load_index(driver, account_id)
    run_id = record_paths(driver, account_id, index)
    return {"account_id": account_id, "status": "completed", "path_run_id": run_id, "paths": index.total}


def record_paths(driver: Driver, account_id: str, index: PathIndex) -> str:
    """One PathRun: its path count and, up to PATH_RUN_PAIR_LIMIT paths, the paths as `entry → target` keys
    with their severity and type (compact: no edges)."""
    run_id = f"paths-{uuid.uuid4().hex[:16]}"
    recorded = index.total <= PATH_RUN_PAIR_LIMIT
    rows = sorted({_path_key(p): p for p in index.paths()}.items()) if recorded else []
    driver.execute_query(
        "MATCH (a:Account {uid: $account_uid}) "
        "CREATE (:PathRun {uid: $uid, account_id: $account, id: $id, at: $at, sync_id: a.current_sync, "
        "total: $total, pairs_recorded: $recorded, "
        "keys: $keys, severities: $severities, types: $types, details: $details})",
        account_uid=node_uid(account_id, account_id), uid=node_uid(account_id, run_id), account=account_id,
        id=run_id, at=now_iso(), total=index.total, recorded=recorded, keys=[k for k, _ in rows],
        severities=[p["severity"] for _, p in rows], types=[p["type"] for _, p in rows],
        details=[json.dumps({"entry": p["entry"], "target": p["target"], "access": p["access"]}) for _, p in rows],
    )
    return run_id


def _path_key(path: dict[str, Any]) -> str:
    return f"{path['entry']['type']}:{path['entry']['id']} -> {path['target']['type']}:{path['target']['id']}"
