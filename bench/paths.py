"""Attack paths on the generated 100k-asset accounts of both generator profiles (`default`, and
`wildcard`: 40 % of the principals hold wildcard OSS/RDS grants, millions of (entry, target) pairs).

Each part runs in its own process so its peak RSS is its own:
- `index`: the compact reachability index + choke points, computed from the derived edges and persisted
  (what every sync does);
- `jsonl`: `skypath paths --format jsonl` streaming every pair (piped to `wc -l`), paths per second;
- `first_page`: a fresh process reads the persisted index and answers the first page of 50 paths;
- `oracle` (default profile only: on the wildcard one it runs out of memory): the exhaustive enumeration
  of every pair as objects, the baseline the index replaces;
- `derive` (default profile): the derived edges (checks/analysis.py) on the collected snapshot;
- `what_if`: the what-if of the top choke point's change, of detaching the most granted wildcard policy
  everywhere and of closing the internet exposure of the group exposing most instances (two compact indexes:
  with and without the removed edges), seconds and peak RSS;
- `filtered`: the API's filters that name no entry or target (`type`, `through` a pivot, `conditional`): the
  first answer (per-entry counts over classes) and a page in the middle.
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


def _what_if(profile: str) -> dict[str, Any]:
    from collections import Counter

    from backend.graphql.paths import what_if_change
    from checks.path_index import load_index, what_if

    account = PROFILE_ACCOUNTS[profile]
    d = driver()
    index = load_index(d, account)
    wildcard_grants = Counter(n.strip() for e in index.graph.edges if e.dst[0] == "AllTargets"
                              for v in e.via for n in v.split(" via ")[-1].split(","))
    from checks.paths import load_attack_graph

    exposing = Counter(sg for groups in load_attack_graph(d, account).sg_of.values() for sg in groups)
    asked = {"top_choke_point": what_if_change(index.choke_points[0]),
             "detach_most_granted_wildcard_policy": f"detach-policy:{wildcard_grants.most_common(1)[0][0]}",
             # re-judges security groups: reads the graph rather than starting from the persisted index
             "close_exposure_of_the_most_used_group": f"close-exposure:{exposing.most_common(1)[0][0]}"}
    out: dict[str, Any] = {}
    for name, change in asked.items():
        started = time.perf_counter()
        answer = what_if(d, account, [change])
        seconds = time.perf_counter() - started
        pairs = answer["removed_pairs"]
        started = time.perf_counter()
        page = pairs[len(pairs) // 2: len(pairs) // 2 + 50]
        out[f"what_if_{name}"] = {"change": change, "seconds": round(seconds, 2), "paths_removed": len(pairs),
                                  "paths_remaining": answer["paths_remaining"], "middle_page_of_removed_pairs_ms":
                                  round((time.perf_counter() - started) * 1000, 1), "page": len(page)}
    out["what_if_peak_rss_mb"] = round(peak_rss_mb())
    if profile == "default":  # the exhaustive what-if (every pair before and after, as objects): the baseline
        from checks.paths import analyse_paths

        started = time.perf_counter()
        oracle = analyse_paths(d, account, [asked["detach_most_granted_wildcard_policy"]])["what_if"]
        out["what_if_exhaustive_seconds"] = round(time.perf_counter() - started, 2)
        out["what_if_exhaustive_peak_rss_mb"] = round(peak_rss_mb())  # this process's peak: the index's is below it
        assert oracle["paths_removed"] == out["what_if_detach_most_granted_wildcard_policy"]["paths_removed"]
    return out


def _filtered(profile: str) -> dict[str, Any]:
    from collections import Counter

    from checks.path_index import RankedReport, load_index

    index = load_index(driver(), PROFILE_ACCOUNTS[profile])
    sample = RankedReport(index).select(None, None, None, None, None, None)[0:500]
    pivot = Counter(n["id"] for p in sample for n in p["nodes"][1:-1]).most_common(1)[0][0]
    asked = {"type": (sample[-1]["type"], None, None), "through": (None, pivot, None), "conditional": (None, None, False)}
    out: dict[str, Any] = {}
    for name, (type_, through, conditional) in asked.items():
        report = RankedReport(index)
        started = time.perf_counter()
        rows = report.select(None, None, None, type_, through, conditional)
        first = rows[0:50]
        seconds = time.perf_counter() - started
        started = time.perf_counter()
        rows[len(rows) // 2: len(rows) // 2 + 50]
        out[f"filter_{name}"] = {"paths": len(rows), "first_page_ms": round(seconds * 1000), "page": len(first),
                                 "middle_page_ms": round((time.perf_counter() - started) * 1000, 1)}
    out["filtered_peak_rss_mb"] = round(peak_rss_mb())
    return out


def _ensure(profile: str) -> dict[str, Any]:
    ensure_account(driver(), account=PROFILE_ACCOUNTS[profile], profile=profile)
    return {}


PARTS = {"ensure": _ensure, "index": _index, "first_page": _first_page, "oracle": _oracle, "derive": _derive,
         "what_if": _what_if, "filtered": _filtered}


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
            "jsonl_paths_per_second": round((lines - 1) / seconds), "jsonl_peak_rss_mb": round(usage.ru_maxrss / 1024),
            # the child's ru_maxrss includes this parent's peak at fork: it is only honest while this one is below it
            "bench_parent_peak_rss_mb": round(peak_rss_mb())}


def main() -> None:
    # this process only starts the parts: a child's peak RSS starts from its parent's (fork), so it stays small
    figures: dict[str, Any] = {"load_average_before": os.getloadavg()[0]}
    for profile, account in PROFILE_ACCOUNTS.items():
        _part("ensure", profile)
        out: dict[str, Any] = {}
        out.update(_jsonl(account))
        out.update(_part("index", profile))
        out.update(_part("first_page", profile))
        out.update(_part("what_if", profile))
        out.update(_part("filtered", profile))
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
