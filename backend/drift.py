"""Drift: what changed in an account since a scan or a date.

Three compact records make it possible, each written where the change happens:
- `SyncRecord` per sync (graph_schema/store.py, in the sync's transaction): assets added/removed, the
  changed properties (before/after) of each rewritten asset, derived edges (CAN_REACH …) before/after;
- `CheckRun` per (scan, item) (checks/scan.py): every asset's status in that scan;
- `PathRun` per attack-path analysis (backend/pipeline.py): the (entry, target) pairs found.

A *boundary* instant splits them: syncs at or after it are composed into one asset delta; the last full
scan and the last path analysis before it are the baseline, the latest ones are compared with it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from neo4j import Driver

from backend.pipeline import PATH_RUN_PAIR_LIMIT
from graph_schema.model import ASSET_LABELS

NOT_PASS, PASS = "NOT_PASS", "PASS"
SEVERITY_ORDER = {"critical": 0, "high": 1, "medium": 2, "low": 3}
# a child record reported as a change of its parent asset: label → (parent label, relationship to it)
PARENTS: dict[str, tuple[str, str]] = {"SecurityGroupRule": ("SecurityGroup", "HAS_RULE")}
# properties whose change is an exposure change (who can reach the asset), by label
EXPOSURE_PROPS: dict[str, tuple[str, ...]] = {
    "EcsInstance": ("internet_reachable", "internet_ports", "is_public"),
    "OssBucket": ("acl", "policy_public"),
    "RdsInstance": ("security_ips", "net_type"),
    "SecurityGroup": ("inet_tcp_from", "inet_tcp_to", "inet_udp_from", "inet_udp_to"),
}
FULL_SCAN_STATUSES = ["completed", "quota_exhausted"]


class DriftError(ValueError):
    pass


@dataclass(frozen=True)
class Baseline:
    """Where the comparison starts: syncs at or after `boundary`; this scan and path run before it."""

    boundary: str
    scan_id: str | None
    scan_finished: str | None
    path_run_id: str | None
    described: str


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _read(driver: Driver, query: str, **params: Any) -> list[dict[str, Any]]:
    return [r.data() for r in driver.execute_query(query, routing_="r", **params).records]


def _scan_before(driver: Driver, account_id: str, boundary: str) -> dict[str, Any] | None:
    rows = _read(driver, "MATCH (s:Scan {account_id: $a}) WHERE s.operation = 'scan' AND s.status IN $done "
                 "AND s.finished < $b RETURN s.id AS id, s.finished AS finished ORDER BY s.finished DESC LIMIT 1",
                 a=account_id, done=FULL_SCAN_STATUSES, b=boundary)
    return rows[0] if rows else None


def baseline(driver: Driver, account_id: str, since: str | None = None) -> Baseline:
    """`since`: a scan id, an ISO date/time, or None (what the latest sync changed)."""
    if since and since.startswith(("scan-", "verify-")):
        rows = _read(driver, "MATCH (s:Scan {account_id: $a, id: $id}) RETURN s.finished AS finished, "
                     "s.status AS status", a=account_id, id=since)
        if not rows or rows[0]["status"] not in FULL_SCAN_STATUSES:
            raise DriftError(f"no finished scan {since} in account {account_id}")
        finished = rows[0]["finished"]
        nxt = _read(driver, "MATCH (r:SyncRecord {account_id: $a}) WHERE r.at > $t RETURN min(r.at) AS at",
                    a=account_id, t=finished)
        boundary = (nxt[0]["at"] if nxt and nxt[0]["at"] else _iso(datetime.now(UTC)))
        scan: dict[str, Any] | None = {"id": since, "finished": finished}
        described = f"scan {since}"
    elif since:
        try:
            when = datetime.fromisoformat(since.replace("Z", "+00:00"))
        except ValueError as exc:
            raise DriftError(f"--since must be a scan id (scan-…) or an ISO date, got {since!r}") from exc
        boundary = _iso(when if when.tzinfo else when.replace(tzinfo=UTC))
        scan = _scan_before(driver, account_id, boundary)
        described = boundary
    else:
        last = _read(driver, "MATCH (r:SyncRecord {account_id: $a}) RETURN r.at AS at, r.id AS id "
                     "ORDER BY r.at DESC LIMIT 1", a=account_id)
        if not last:
            raise DriftError(f"account {account_id} has no recorded sync: ingest it first")
        boundary = last[0]["at"]
        scan = _scan_before(driver, account_id, boundary)
        described = f"before sync {last[0]['id']}"
    runs = _read(driver, "MATCH (p:PathRun {account_id: $a}) WHERE p.at < $b RETURN p.id AS id "
                 "ORDER BY p.at DESC LIMIT 1", a=account_id, b=boundary)
    return Baseline(boundary, scan["id"] if scan else None, scan["finished"] if scan else None,
                    runs[0]["id"] if runs else None, described)


def changes(driver: Driver, account_id: str, since: str | None = None) -> dict[str, Any]:
    """The drift document of `skypath changes` and the GraphQL `changes` field."""
    from checks.packages import account_items

    if not _read(driver, "MATCH (a:Account {uid: $uid}) RETURN a.id AS id", uid=f"{account_id}:{account_id}"):
        raise DriftError(f"account {account_id} is not loaded")
    base = baseline(driver, account_id, since)
    records = _read(driver, "MATCH (r:SyncRecord {account_id: $a}) WHERE r.at >= $b RETURN r.id AS id, "
                    "r.delta AS delta ORDER BY r.at", a=account_id, b=base.boundary)
    assets, exposure = _asset_changes(driver, account_id, [json.loads(r["delta"]) for r in records])
    items = account_items(driver, account_id)
    return {
        "account_id": account_id,
        "since": base.described,
        "baseline": {"scan_id": base.scan_id, "path_run_id": base.path_run_id},
        "syncs": [r["id"] for r in records],
        "assets": assets,
        "exposure": exposure,
        "findings": finding_changes(driver, account_id, base, items),
        "attack_paths": path_changes(driver, account_id, base.path_run_id),
    }


# ---------------------------------------------------------------- assets

def _asset_changes(driver: Driver, account_id: str, deltas: list[dict[str, Any]]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    added: set[tuple[str, str]] = set()
    removed: set[tuple[str, str]] = set()
    changed: dict[tuple[str, str], dict[str, list[Any]]] = {}
    initial: dict[str, int] = {}
    for delta in deltas:
        if delta.get("initial"):
            initial = dict(delta["added"])
            continue
        for label, ids in delta["added"].items():
            for key in ((label, node_id) for node_id in ids):
                if key in removed:  # removed, then back: a change (of properties no record compared)
                    removed.discard(key)
                    changed.setdefault(key, {})
                else:
                    added.add(key)
        for label, ids in delta["removed"].items():
            for key in ((label, node_id) for node_id in ids):
                changed.pop(key, None)
                if key in added:
                    added.discard(key)
                else:
                    removed.add(key)
        for label, rows in delta["changed"].items():
            for node_id, props in rows.items():
                if (label, node_id) in added:
                    continue
                merged = changed.setdefault((label, node_id), {})
                for prop, (before, after) in props.items():
                    merged[prop] = [merged[prop][0] if prop in merged else before, after]
    parents = _parents(driver, account_id, [k for k in (*added, *changed) if k[0] in PARENTS])
    # a child record's change is its parent's change, named `<relationship>:<child id>[.<property>]`
    for key in [k for k in (*added, *removed, *changed) if k in parents]:
        name = f"{PARENTS[key[0]][1].lower()}:{key[1]}"
        target = changed.setdefault(parents[key], {})
        if key in added:
            added.discard(key)
            target[name] = [None, "added"]
        elif key in removed:
            removed.discard(key)
            target[name] = ["removed", None]
        for prop, values in (changed.pop(key, None) or {}).items():
            target[f"{name}.{prop}"] = values
    changed = {k: {p: v for p, v in props.items() if v[0] != v[1]} for k, props in changed.items()}

    def listed(keys: Any) -> list[dict[str, str]]:
        return [{"type": label, "id": node_id} for label, node_id in sorted(keys) if _reported(label)]

    doc = {
        "added": listed(added), "removed": listed(removed),
        "changed": [{"type": label, "id": node_id,
                     "properties": {p: {"before": b, "after": a} for p, (b, a) in sorted(props.items())}}
                    for (label, node_id), props in sorted(changed.items()) if props and _reported(label)],
    }
    if initial:
        doc["first_sync"] = initial
    exposure = [{"type": label, "id": node_id, "property": p, "before": props[p][0], "after": props[p][1]}
                for (label, node_id), props in sorted(changed.items())
                for p in EXPOSURE_PROPS.get(label, ()) if p in props]
    return doc, exposure


def _reported(label: str) -> bool:
    return label in ASSET_LABELS or label in PARENTS


def _parents(driver: Driver, account_id: str, keys: list[tuple[str, str]]) -> dict[tuple[str, str], tuple[str, str]]:
    out: dict[tuple[str, str], tuple[str, str]] = {}
    for label, (parent, rel) in PARENTS.items():
        ids = [node_id for lbl, node_id in keys if lbl == label]
        if not ids:
            continue
        rows = _read(driver, f"MATCH (p:{parent} {{account_id: $a}})-[:{rel}]->(c:{label} {{account_id: $a}}) "
                     "WHERE c.id IN $ids RETURN c.id AS child, p.id AS parent", a=account_id, ids=ids)
        out.update({(label, r["child"]): (parent, r["parent"]) for r in rows})
    return out


# ---------------------------------------------------------------- findings

def _statuses(driver: Driver, account_id: str, scan_id: str) -> dict[tuple[str, str], str]:
    rows = _read(driver, "MATCH (r:CheckRun {account_id: $a, scan_id: $s}) RETURN r.check_id AS c, "
                 "r.asset_ids AS ids, r.statuses AS st", a=account_id, s=scan_id)
    return {(r["c"], a): s for r in rows for a, s in zip(r["ids"], r["st"], strict=True)}


def _latest_scans(driver: Driver, account_id: str, n: int) -> list[str]:
    rows = _read(driver, "MATCH (s:Scan {account_id: $a}) WHERE s.operation = 'scan' AND s.status IN $done "
                 "RETURN s.id AS id ORDER BY s.finished DESC LIMIT $n", a=account_id, done=FULL_SCAN_STATUSES, n=n)
    return [r["id"] for r in rows]


def _latest_scan(driver: Driver, account_id: str) -> str | None:
    return next(iter(_latest_scans(driver, account_id, 1)), None)


def previous_scan(driver: Driver, account_id: str) -> str | None:
    """The full scan before the latest one: what a run's alert compares with (None: the first run)."""
    scans = _latest_scans(driver, account_id, 2)
    return scans[1] if len(scans) == 2 else None


def _failed_before(driver: Driver, account_id: str, finished: str, pairs: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which of these (item, asset) pairs failed in some full scan that finished before `finished`."""
    rows = _read(driver, "MATCH (s:Scan {account_id: $a})-[:HAS_RUN]->(r:CheckRun) WHERE s.finished < $t "
                 "AND r.check_id IN $checks RETURN r.check_id AS c, r.asset_ids AS ids, r.statuses AS st",
                 a=account_id, t=finished, checks=sorted({c for c, _ in pairs}))
    return {(r["c"], a) for r in rows for a, s in zip(r["ids"], r["st"], strict=True)
            if s == NOT_PASS and (r["c"], a) in pairs}


def finding_changes(driver: Driver, account_id: str, base: Baseline, items: dict[str, Any]) -> dict[str, Any]:
    """new: fails now and never failed before; regressed: fails now, passed in the baseline, failed earlier;
    resolved: failed in the baseline, passes now (or its asset is gone from the item's population)."""
    current_id = _latest_scan(driver, account_id)
    if current_id is None or current_id == base.scan_id:
        return {"scan_id": current_id, "baseline_scan_id": base.scan_id, "new": [], "resolved": [], "regressed": []}
    now = _statuses(driver, account_id, current_id)
    before = _statuses(driver, account_id, base.scan_id) if base.scan_id else {}
    failing = {k for k, s in now.items() if s == NOT_PASS and before.get(k) != NOT_PASS}
    earlier = _failed_before(driver, account_id, base.scan_finished, failing) if base.scan_finished else set()
    ran_now = {c for c, _ in now}
    resolved = {k for k, s in before.items() if s == NOT_PASS and k[0] in ran_now and now.get(k, PASS) == PASS}

    def rows(keys: set[tuple[str, str]]) -> list[dict[str, Any]]:
        out = []
        for check_id, asset_id in keys:
            item = items.get(check_id)
            out.append({"check_id": check_id, "asset_id": asset_id, "severity": item.severity if item else "",
                        "title": item.title if item else "", "before": before.get((check_id, asset_id)),
                        "after": now.get((check_id, asset_id))})
        out.sort(key=lambda r: (SEVERITY_ORDER.get(r["severity"], 9), r["check_id"], r["asset_id"]))
        return out

    return {"scan_id": current_id, "baseline_scan_id": base.scan_id, "new": rows(failing - earlier),
            "resolved": rows(resolved), "regressed": rows(failing & earlier)}


# ---------------------------------------------------------------- attack paths

@dataclass
class _PathRun:
    run_id: str | None = None
    total: int = 0
    recorded: bool = True  # the run kept its pairs (PATH_RUN_PAIR_LIMIT); else only its count
    pairs: dict[str, dict[str, Any]] = field(default_factory=dict)


def _path_run(driver: Driver, account_id: str, run_id: str | None) -> _PathRun:
    query = ("MATCH (p:PathRun {account_id: $a, id: $id}) " if run_id else
             "MATCH (p:PathRun {account_id: $a}) WITH p ORDER BY p.at DESC LIMIT 1 ")
    rows = _read(driver, query + "RETURN p.id AS id, p.keys AS keys, p.severities AS sev, p.types AS types, "
                 "coalesce(p.pairs_recorded, true) AS recorded, coalesce(p.total, size(p.keys)) AS total",
                 a=account_id, id=run_id)
    if not rows:
        return _PathRun()
    r = rows[0]
    return _PathRun(r["id"], r["total"], r["recorded"], {k: {"key": k, "severity": s, "type": t}
                                                         for k, s, t in zip(r["keys"], r["sev"], r["types"], strict=True)})


def path_changes(driver: Driver, account_id: str, base_run: str | None) -> dict[str, Any]:
    current = _path_run(driver, account_id, None)
    base = _path_run(driver, account_id, base_run) if base_run else _PathRun()
    current_run = current.run_id
    if base_run is not None and current_run == base_run:
        current = base
    counts = {"path_run_id": current_run, "baseline_path_run_id": base_run, "total": current.total,
              "baseline_total": base.total}
    if not (current.recorded and base.recorded):
        # a run above the pair limit kept its count only: the pairs cannot be compared, and saying "nothing new"
        # would be a lie
        return {**counts, "compared": False, "new": [], "removed": [],
                "note": f"a run above {PATH_RUN_PAIR_LIMIT} paths keeps its count only: the pairs are not compared"}
    now, before = current.pairs, base.pairs

    def rows(doc: dict[str, dict[str, Any]], keys: set[str]) -> list[dict[str, Any]]:
        out = []
        for key in keys:
            entry, target = key.split(" -> ", 1)
            out.append({"entry": entry, "target": target, "severity": doc[key]["severity"], "type": doc[key]["type"]})
        out.sort(key=lambda r: (SEVERITY_ORDER.get(r["severity"], 9), r["entry"], r["target"]))
        return out

    return {**counts, "compared": True, "new": rows(now, set(now) - set(before)),
            "removed": rows(before, set(before) - set(now))}
