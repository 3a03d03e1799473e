"""Equivalence of attack-path results across optimisations: capture once, then assert identical.

What is compared (`--capture` writes the reference to bench/data/paths_baseline.json.gz, a run without
it compares with that reference and exits non-zero on any difference):

- derive: `analyse` on the collected batch of each dataset (the 100k bench account, the shared sample
  account, and smaller synthetic accounts of other seeds): every derived relationship with its
  properties, every node row the analysis annotates (hashed per node), and a digest of the whole batch;
- paths: `analyse_paths` of the 100k bench account as stored in Neo4j: per path its (entry, target),
  conditional flag, access, severity, type, alternatives and a digest of its nodes + edges; every choke
  point in full; the digest of the whole JSON document; and the same for a few what-if changes.

Run: `cd bench && ../.venv/bin/python paths_equivalence.py [--capture] [--only derive|paths]`.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from common import DATA, driver, ensure_account, snapshot_path

from backend.settings import samples_dir

# bench/data is shared between checkouts: SKYPATH_EQUIVALENCE_BASELINE names a reference of one's own
BASELINE = Path(os.environ.get("SKYPATH_EQUIVALENCE_BASELINE") or DATA / "paths_baseline.json.gz")
SAMPLE = samples_dir() / "sample-account.json"
# (assets, seed, account id): other shapes of the same generator, derived edges only
EXTRA_SYNTHETIC = ((5000, 3, "1999000000000203"), (20000, 11, "1999000000000211"))
# the wildcard-heavy generator profile: most principals' policy sets evaluate every bucket
WILDCARD_SYNTHETIC = ((20000, 13, "1999000000000213"),)


def _digest(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:20]


def _derived_state(snapshot_file: Path) -> dict[str, Any]:
    from checks.analysis import analyse
    from graph_schema.store import GraphBatch
    from loaders.snapshot import ReplayTransport, load_snapshot
    from loaders.sync import collect_account, parse_collected_at

    snap = load_snapshot(snapshot_file)
    collected = collect_account(ReplayTransport(snap), collected_at=parse_collected_at(snap.collected_at))
    batch: GraphBatch = collected.batch
    before = {(label, nid): _digest(row) for label, rows in batch.nodes.items() for nid, row in rows.items()}
    rels_before = set(batch.rels)
    started = time.perf_counter()
    analyse(batch, snap.account_id, collected.scopes)
    seconds = time.perf_counter() - started
    derived_rels = {"|".join(k): {"scope": r.scope, "props": r.props}
                    for k, r in batch.rels.items() if k not in rels_before or r.scope == "derived"}
    nodes = {f"{label}|{nid}": _digest(row) for label, rows in batch.nodes.items() for nid, row in rows.items()
             if before.get((label, nid)) != _digest(row)}
    return {
        "rels": json.loads(json.dumps(derived_rels, sort_keys=True, default=str)),
        "nodes": nodes,
        "batch": _digest({"nodes": batch.nodes, "rels": {"|".join(k): (r.scope, r.props) for k, r in batch.rels.items()}}),
        "seconds": round(seconds, 2),
    }


def _derive_datasets() -> dict[str, Path]:
    from loaders.synthetic import generate

    out = {"bench-100k": snapshot_path(), "sample": SAMPLE}
    for assets, seed, account in EXTRA_SYNTHETIC:
        path = DATA / f"synthetic-{assets}-seed{seed}-{account}.json"
        if not path.exists():
            path.write_text(json.dumps(generate(assets, seed=seed, account_id=account)))
        out[f"synthetic-{assets}-seed{seed}"] = path
    for assets, seed, account in WILDCARD_SYNTHETIC:
        path = DATA / f"synthetic-{assets}-seed{seed}-{account}-wildcard.json"
        if not path.exists():
            path.write_text(json.dumps(generate(assets, seed=seed, account_id=account, profile="wildcard")))
        out[f"synthetic-{assets}-seed{seed}-wildcard"] = path
    return out


def _paths_state(doc: dict[str, Any]) -> dict[str, Any]:
    paths = {p["id"]: [p["entry"]["id"], p["target"]["id"], p["conditional"], p["access"], p["conditional_access"],
                       p["severity"], p["type"], p["alternatives"], _digest([p["nodes"], p["edges"]])]
             for p in doc["paths"]}
    return {"paths": paths, "choke_points": doc["choke_points"], "document": _digest(doc)}


def _what_ifs(doc: dict[str, Any]) -> list[list[str]]:
    """A few proposed changes drawn from the document itself (the top choke points, one per kind)."""
    by_kind: dict[str, str] = {}
    for c in doc["choke_points"]:
        e = c["edge"]
        change = {"EXPOSES": f"close-exposure:{e['to']}", "ASSUMES": f"detach-role:{e['from']}",
                  "AUTHENTICATES": f"disable-key:{e['from']}", "CAN_ASSUME": f"remove-assume:{e['from']}->{e['to']}",
                  }.get(e["type"], f"detach-policy:{c['id']}@{e['from']}" if c["type"] == "RamPolicy" else "")
        if change and e["type"] not in by_kind:
            by_kind[e["type"]] = change
    return [[c] for c in by_kind.values()] + [list(by_kind.values())]


def capture(only: str | None) -> dict[str, Any]:
    state: dict[str, Any] = {}
    if only in (None, "derive"):
        state["derive"] = {name: _derived_state(path) for name, path in _derive_datasets().items()}
    if only in (None, "paths"):
        from checks.paths import analyse_paths

        d = driver()
        account = ensure_account(d)
        started = time.perf_counter()
        doc = analyse_paths(d, account)
        seconds = time.perf_counter() - started
        state["paths"] = {"main": {**_paths_state(doc), "seconds": round(seconds, 2)}}
        baseline_ifs = _load().get("what_if_changes") if BASELINE.exists() else None
        changes = baseline_ifs or _what_ifs(doc)
        state["what_if_changes"] = changes
        for i, change in enumerate(changes):
            state["paths"][f"what_if_{i}"] = analyse_paths(d, account, what_if=change)["what_if"]
        d.close()
    return state


def _load() -> dict[str, Any]:
    with gzip.open(BASELINE, "rt") as fh:
        doc: dict[str, Any] = json.load(fh)
    return doc


def _differences(want: Any, got: Any, where: str, out: list[str], limit: int = 20) -> None:
    if len(out) >= limit or want == got:
        return
    if isinstance(want, dict) and isinstance(got, dict):
        for k in sorted(set(want) | set(got), key=str):
            if k == "seconds":
                continue
            if k not in got:
                out.append(f"{where}/{k}: missing (was {str(want[k])[:200]})")
            elif k not in want:
                out.append(f"{where}/{k}: new ({str(got[k])[:200]})")
            else:
                _differences(want[k], got[k], f"{where}/{k}", out, limit)
            if len(out) >= limit:
                return
    else:
        out.append(f"{where}: {str(want)[:200]} → {str(got)[:200]}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--capture", action="store_true", help="write the reference instead of comparing")
    parser.add_argument("--only", choices=("derive", "paths"))
    args = parser.parse_args()
    state = capture(args.only)
    if args.capture:
        old = _load() if BASELINE.exists() and args.only else {}
        old.update(state)
        with gzip.open(BASELINE, "wt") as fh:
            json.dump(old, fh, sort_keys=True)
        print(f"reference written to {BASELINE}")
        return 0
    reference = _load()
    diffs: list[str] = []
    for section, got in state.items():
        _differences(reference.get(section), got, section, diffs)
    timings = {f"{s}/{n}": v.get("seconds") for s in ("derive", "paths") for n, v in state.get(s, {}).items()
               if isinstance(v, dict) and "seconds" in v}
    print(json.dumps({"identical": not diffs, "differences": diffs, "seconds": timings,
                      "paths": len(state.get("paths", {}).get("main", {}).get("paths", {})),
                      "derived_rels": {n: len(v["rels"]) for n, v in state.get("derive", {}).items()}}, indent=2))
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())
