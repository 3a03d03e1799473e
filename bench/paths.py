"""Attack paths on the generated 100k-asset accounts of both generator profiles (`default`, and
`wildcard`: 40 % of the principals hold wildcard OSS/RDS grants, millions of (entry, target) pairs).

Each part runs in its own process so its peak RSS is its own:
- `index`: the compact reachability index + choke points, computed from the derived edges and persisted
  (what every sync does);
- `jsonl`: `skypath paths --format jsonl` streaming every pair (piped to `wc -l`), paths per second;
- `first_page`: a fresh process reads the persisted index and answers the first page of 50 paths;
- `oracle` (default profile only: on the wildcard one it runs out of memory): the exhaustive enumeration
  of every pair as objects, the baseline the index replaces;
- `derive` (default profile): the derived edges (checks/analysis.py) on the collected snapshot.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from typing import Any

from common import PROFILE_ACCOUNTS, ROOT, driver, ensure_account, peak_rss_mb, record, snapshot_path


def _index(profile: str) -> dict[str, Any]:
    account = PROFILE_ACCOUNTS[profile]
    from checks.path_index import build_index

    d = driver()
    started = time.perf_counter()
    index = build_index(d, account)
    seconds = time.perf_counter() - started
    return {"index_and_choke_points_persisted_seconds": round(seconds, 2), "index_peak_rss_mb": round(peak_rss_mb()),
            "paths": index.total, "firm_paths": index.summary["firm"], "by_severity": index.summary["by_severity"],
            "entries": index.summary["entries"], "entry_groups": index.summary["groups"],
            "attack_graph_edges": len(index.graph.edges), "choke_points": len(index.choke_points)}


def _first_page(profile: str) -> dict[str, Any]:
    account = PROFILE_ACCOUNTS[profile]
    from checks.path_index import ranked_report

    d = driver()
    started = time.perf_counter()
    paths = ranked_report(d, account).select(None, None, None, None, None, None)  # the API's data source
    page = paths[0:50]
    seconds = time.perf_counter() - started
    started = time.perf_counter()
    deep = paths[len(paths) // 2: len(paths) // 2 + 50]
    return {"first_page_from_persisted_index_ms": round(seconds * 1000), "page_paths": len(page),
            "middle_page_ms": round((time.perf_counter() - started) * 1000), "middle_page_paths": len(deep)}


def _oracle(profile: str) -> dict[str, Any]:
    account = PROFILE_ACCOUNTS[profile]
    from checks.paths import choke_points, compute_paths, load_attack_graph

    d = driver()
    started = time.perf_counter()
    graph = load_attack_graph(d, account)
    paths = compute_paths(graph)
    choke_points(graph, paths)
    return {"exhaustive_enumeration_seconds": round(time.perf_counter() - started, 2),
            "exhaustive_enumeration_peak_rss_mb": round(peak_rss_mb())}


def _derive(profile: str) -> dict[str, Any]:
    from checks.analysis import analyse
    from loaders.snapshot import ReplayTransport, load_snapshot
    from loaders.sync import collect_account, parse_collected_at

    snap = load_snapshot(snapshot_path(account=PROFILE_ACCOUNTS[profile], profile=profile))
    collected = collect_account(ReplayTransport(snap), collected_at=parse_collected_at(snap.collected_at))
    started = time.perf_counter()
    analyse(collected.batch, snap.account_id, collected.scopes)
    derived = sum(1 for k in collected.batch.rels if k[2] in ("CAN_REACH", "CAN_ASSUME", "CAN_ACCESS", "CAN_ESCALATE"))
    return {"derive_seconds": round(time.perf_counter() - started, 2), "derived_edges": derived}


def _ensure(profile: str) -> dict[str, Any]:
    ensure_account(driver(), account=PROFILE_ACCOUNTS[profile], profile=profile)
    return {}


PARTS = {"ensure": _ensure, "index": _index, "first_page": _first_page, "oracle": _oracle, "derive": _derive}


def _part(name: str, profile: str) -> dict[str, Any]:
    """Run one part in a fresh process; its figures come back as the last line of its output."""
    proc = subprocess.run([sys.executable, __file__, "--part", name, "--profile", profile], cwd=ROOT / "bench",
                          capture_output=True, text=True, check=True)
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def _jsonl(account: str) -> dict[str, Any]:
    started = time.perf_counter()
    cli = subprocess.Popen([sys.executable, "-m", "backend.cli", "paths", "--account", account, "--format", "jsonl"],
                           cwd=ROOT, stdout=subprocess.PIPE)
    count = subprocess.Popen(["wc", "-l"], stdin=cli.stdout, stdout=subprocess.PIPE, text=True)
    assert cli.stdout is not None and count.stdout is not None
    cli.stdout.close()
    _, status, usage = os.wait4(cli.pid, 0)  # this child's own peak RSS
    cli.returncode = os.waitstatus_to_exitcode(status)
    lines = int(count.stdout.read().split()[0])
    count.wait()
    seconds = time.perf_counter() - started
    if cli.returncode != 0:
        raise RuntimeError("skypath paths --format jsonl failed")
    return {"jsonl_paths": lines - 1, "jsonl_seconds": round(seconds, 2),
            "jsonl_paths_per_second": round((lines - 1) / seconds), "jsonl_peak_rss_mb": round(usage.ru_maxrss / 1024)}


def main() -> None:
    # this process only starts the parts: a child's peak RSS starts from its parent's (fork), so it stays small
    figures: dict[str, Any] = {"load_average_before": os.getloadavg()[0]}
    for profile, account in PROFILE_ACCOUNTS.items():
        _part("ensure", profile)
        out: dict[str, Any] = {}
        out.update(_jsonl(account))
        out.update(_part("index", profile))
        out.update(_part("first_page", profile))
        if profile == "default":
            out.update(_part("oracle", profile))
            out.update(_part("derive", profile))
        figures[profile] = out
    figures["load_average_after"] = os.getloadavg()[0]
    figures["targets"] = {"wildcard": {"index_and_choke_points_persisted_seconds": 60, "index_peak_rss_mb": 2048,
                                       "jsonl_paths_per_second": 100_000, "jsonl_peak_rss_mb": 1024,
                                       "first_page_from_persisted_index_ms": 1000},
                          "derive_seconds": 10}
    record("paths", figures)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--part", choices=list(PARTS))
    parser.add_argument("--profile", choices=list(PROFILE_ACCOUNTS), default="default")
    args = parser.parse_args()
    if args.part:
        print(json.dumps(PARTS[args.part](args.profile)))
    else:
        main()
