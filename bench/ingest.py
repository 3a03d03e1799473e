"""Ingest of the generated 100k-asset accounts (both generator profiles, `default` and `wildcard`), each in
a child process as the CLI runs it: wall time, each phase (streamed parse, collect+transform, analysis,
the one-transaction write, the attack-path index every sync builds) and the process's own peak RSS, with the
load average (the 2 cores are shared). The write is compared with the practical limit: the same rows written
by a bare `UNWIND $rows MERGE` loop with the plain driver, in the same run (default profile). Re-ingest of
the unchanged account."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import defaultdict
from typing import Any

from common import PROFILE_ACCOUNTS, ROOT, driver, record, snapshot_path

BASELINE_ACCOUNT = "1999000000000199"


def bare_unwind(d: Any, batch: Any, account: str) -> float:
    """Every node and relationship of the batch, written by the simplest batched loop there is."""
    from graph_schema.model import node_uid

    started = time.perf_counter()
    with d.session() as session:
        for label, rows in batch.nodes.items():
            payload = [{**{k: v for k, v in r.items() if v is not None}, "account_id": account,
                        "uid": node_uid(account, r["id"])} for r in rows.values()]
            for i in range(0, len(payload), 10_000):
                session.run(f"UNWIND $rows AS row MERGE (n:{label} {{uid: row.uid}}) SET n += row",
                            rows=payload[i:i + 10_000]).consume()
        groups: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
        for rel in batch.rels.values():
            groups[(rel.src_label, rel.type, rel.dst_label)].append(
                {"s": node_uid(account, rel.src_id), "d": node_uid(account, rel.dst_id),
                 "p": {k: v for k, v in rel.props.items() if v is not None}})
        for (sl, t, dl), rows in groups.items():
            for i in range(0, len(rows), 10_000):
                session.run(f"UNWIND $rows AS row MATCH (a:{sl} {{uid: row.s}}) MATCH (b:{dl} {{uid: row.d}}) "
                            f"MERGE (a)-[r:{t}]->(b) SET r += row.p", rows=rows[i:i + 10_000]).consume()
    return time.perf_counter() - started


# the steps of one ingest (backend/ingest.py calls them by these names), timed on their own
PHASES = ("stream_snapshot", "collect_account", "analyse", "apply_account_state", "build_index")


def ingest_in_child(path: str) -> dict[str, Any]:
    """Our ingest as a user runs it (the CLI), in a child process so its peak RSS is its own; each phase's
    seconds and the peak RSS when it ended."""
    code = (
        f"import json, time, sys; sys.path.insert(0, {str(ROOT)!r})\n"
        "from bench.common import driver, peak_rss_mb\n"
        "import backend.ingest as ing\n"
        "phases = {}\n"
        "def timed(name, step):\n"
        "    def run(*a, **k):\n"
        "        t = time.perf_counter(); out = step(*a, **k)\n"
        "        phases[name] = {'seconds': round(time.perf_counter() - t, 2),\n"
        "                        'peak_rss_mb': round(peak_rss_mb())}\n"
        "        return out\n"
        "    return run\n"
        f"for name in {PHASES!r}:\n"
        "    setattr(ing, name, timed(name, getattr(ing, name)))\n"
        f"d = driver(); t = time.perf_counter(); r = ing.ingest_snapshot(d, {path!r})\n"
        "print(json.dumps({'seconds': time.perf_counter() - t, 'write_seconds': r.stats.seconds, 'phases': phases,"
        " 'nodes': sum(r.counts.values()), 'stats': r.stats.as_dict(),"
        " 'peak_rss_mb': peak_rss_mb()}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    from checks.analysis import analyse
    from graph_schema.store import delete_account
    from loaders.snapshot import ReplayTransport, load_snapshot
    from loaders.sync import collect_account, parse_collected_at

    d = driver()
    figures: dict[str, Any] = {}
    for profile, account in PROFILE_ACCOUNTS.items():
        path = snapshot_path(account=account, profile=profile)
        delete_account(d, account)
        load_before = os.getloadavg()[0]
        first = ingest_in_child(str(path))
        load_after = os.getloadavg()[0]
        again = ingest_in_child(str(path))
        index_seconds = first["phases"].get("build_index", {}).get("seconds", 0.0)
        figures[profile] = {
            "snapshot": path.name,
            "load_average_before": round(load_before, 2),
            "load_average_after": round(load_after, 2),
            "wall_seconds": round(first["seconds"], 2),
            "phases": first["phases"],
            "attack_path_index_seconds": index_seconds,
            "wall_without_index_seconds": round(first["seconds"] - index_seconds, 2),
            "write_seconds": round(first["write_seconds"], 2),
            "nodes": first["nodes"],
            "peak_rss_mb": round(first["peak_rss_mb"], 1),
            "reingest_unchanged_seconds": round(again["seconds"], 2),
            "reingest_ratio": round(again["seconds"] / first["seconds"], 3),
            "reingest_rows_written": again["stats"]["nodes_written"] + again["stats"]["rels_written"],
        }
    snap = load_snapshot(snapshot_path())
    collected = collect_account(ReplayTransport(snap), collected_at=parse_collected_at(snap.collected_at))
    analyse(collected.batch, snap.account_id, collected.scopes)
    delete_account(d, BASELINE_ACCOUNT)
    baseline_seconds = bare_unwind(d, collected.batch, BASELINE_ACCOUNT)
    delete_account(d, BASELINE_ACCOUNT)
    rows = collected.batch.count() + len(collected.batch.rels)
    default = figures["default"]
    default.update({
        "rows": rows,
        "rows_per_second": round(rows / default["wall_seconds"]),
        "baseline_bare_unwind_write_seconds": round(baseline_seconds, 2),
        "write_vs_baseline_ratio": round(baseline_seconds / default["write_seconds"], 2),
    })
    figures["targets"] = {"default": {"wall_seconds": 45, "peak_rss_mb": 1536, "write_vs_baseline_ratio": 0.7,
                                      "reingest_ratio": 0.3},
                          "wildcard": {"peak_rss_mb": 1536}}
    record("ingest", figures)

if __name__ == "__main__":
    main()
