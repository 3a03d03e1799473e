"""Ingest of the generated 100k-asset accounts (both generator profiles) vs the practical limit: the same
rows written by a bare `UNWIND $rows MERGE` loop with the plain driver, in the same run (default profile).
Re-ingest of the unchanged account. The wall time includes building and persisting the attack-path index
(every sync does), also reported on its own."""

from __future__ import annotations

import json
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


def ingest_in_child(path: str) -> dict[str, Any]:
    """Our ingest as a user runs it (the CLI), in a child process so its peak RSS is its own."""
    code = (
        f"import json, resource, time, sys; sys.path.insert(0, {str(ROOT)!r})\n"
        "from bench.common import driver\n"
        "import backend.ingest as ing\n"
        "index = {'seconds': 0.0}\n"
        "def timed_index(*a, build=ing.build_index):\n"
        "    t = time.perf_counter(); out = build(*a); index['seconds'] += time.perf_counter() - t; return out\n"
        "ing.build_index = timed_index\n"
        f"d = driver(); t = time.perf_counter(); r = ing.ingest_snapshot(d, {path!r})\n"
        "print(json.dumps({'seconds': time.perf_counter() - t, 'write_seconds': r.stats.seconds,"
        " 'index_seconds': index['seconds'],"
        " 'nodes': sum(r.counts.values()), 'stats': r.stats.as_dict(),"
        " 'peak_rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))\n"
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
        first = ingest_in_child(str(path))
        again = ingest_in_child(str(path))
        figures[profile] = {
            "wall_seconds": round(first["seconds"], 2),
            "attack_path_index_seconds": round(first["index_seconds"], 2),
            "wall_without_index_seconds": round(first["seconds"] - first["index_seconds"], 2),
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
    figures["targets"] = {"wall_seconds": 45, "write_vs_baseline_ratio": 0.7, "peak_rss_mb": 1536, "reingest_ratio": 0.3}
    record("ingest", figures)

if __name__ == "__main__":
    main()
