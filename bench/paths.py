"""Attack paths + choke points on the generated 100k-asset account, and the derived-edge computation."""

from __future__ import annotations

import time

from common import driver, ensure_account, record, snapshot_path


def main() -> None:
    from checks.analysis import analyse
    from checks.paths import analyse_paths, choke_points, compute_paths, load_attack_graph
    from loaders.snapshot import ReplayTransport, load_snapshot
    from loaders.sync import collect_account, parse_collected_at

    d = driver()
    account = ensure_account(d)
    snap = load_snapshot(snapshot_path())
    collected = collect_account(ReplayTransport(snap), collected_at=parse_collected_at(snap.collected_at))
    started = time.perf_counter()
    analyse(collected.batch, snap.account_id, collected.scopes)
    derive_seconds = time.perf_counter() - started
    derived = sum(1 for k in collected.batch.rels if k[2] in ("CAN_REACH", "CAN_ASSUME", "CAN_ACCESS", "CAN_ESCALATE"))

    started = time.perf_counter()
    graph = load_attack_graph(d, account)
    load_seconds = time.perf_counter() - started
    started = time.perf_counter()
    only_paths = compute_paths(graph)
    paths_seconds = time.perf_counter() - started
    started = time.perf_counter()
    cut = choke_points(graph, only_paths)
    choke_seconds = time.perf_counter() - started
    started = time.perf_counter()
    doc = analyse_paths(d, account)
    total_seconds = time.perf_counter() - started
    record("paths", {
        "derived_edges": derived,
        "derive_seconds": round(derive_seconds, 2),
        "attack_graph_edges": len(graph.edges),
        "entries": len(set(graph.entries)),
        "paths": len(doc["paths"]),
        "choke_points": len(doc["choke_points"]),
        "load_graph_seconds": round(load_seconds, 2),
        "paths_only_seconds": round(paths_seconds, 2),
        "choke_points_seconds": round(choke_seconds, 2),
        "paths_and_choke_points_compute_seconds": round(load_seconds + paths_seconds + choke_seconds, 2),
        "with_json_documents_seconds": round(total_seconds, 2),
        "targets": {"paths_and_choke_points_compute_seconds": 5, "derive_seconds": 30},
    })
    assert len(only_paths) == len(doc["paths"]) and len(cut) == len(doc["choke_points"])


if __name__ == "__main__":
    main()
