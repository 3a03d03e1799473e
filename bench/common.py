"""Shared bench plumbing: a driver to the project's Neo4j, a generated account, results.json."""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results.json"
DATA = ROOT / "bench" / "data"
ASSETS = int(os.environ.get("SKYPATH_BENCH_ASSETS", "100000"))
BENCH_ACCOUNT = "1999000000000100"


def driver() -> Any:
    from neo4j import GraphDatabase

    from backend.settings import neo4j_settings
    from graph_schema.store import ensure_schema

    s = neo4j_settings()
    d = GraphDatabase.driver(s.uri, auth=(s.user, s.password), notifications_min_severity="OFF")
    ensure_schema(d)
    return d


def snapshot_path(assets: int = ASSETS, account: str = BENCH_ACCOUNT) -> Path:
    from loaders.synthetic import generate

    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / f"synthetic-{assets}-{account}.json"
    if not path.exists():
        path.write_text(json.dumps(generate(assets, seed=7, account_id=account)))
    return path


def ensure_account(d: Any, assets: int = ASSETS, account: str = BENCH_ACCOUNT) -> str:
    """The generated account, loaded (re-ingest of an unchanged account is cheap)."""
    from backend.billing import set_plan
    from backend.ingest import ingest_snapshot

    ingest_snapshot(d, snapshot_path(assets, account))
    set_plan(d, account, model="payg", edition="ultimate", cspm=True, who="bench")
    return account


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    value = fn()
    return time.perf_counter() - started, value


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def record(section: str, figures: dict[str, Any], assets: int = ASSETS) -> None:
    """Merge one section into results.json (the other sections are kept)."""
    doc = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    doc[section] = {**figures, "assets": assets, "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    RESULTS.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
    print(json.dumps({section: doc[section]}, indent=2))
