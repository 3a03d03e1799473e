"""Shared bench plumbing: a driver to the project's Neo4j, a generated account, results.json."""

from __future__ import annotations

import hashlib
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
# the generator profiles every benchmark runs on: today's mostly-narrow account, and a wildcard-heavy one
PROFILE_ACCOUNTS = {"default": BENCH_ACCOUNT, "wildcard": "1999000000000200"}


def driver() -> Any:
    from neo4j import GraphDatabase

    from backend.settings import neo4j_settings
    from graph_schema.store import ensure_schema

    s = neo4j_settings()
    d = GraphDatabase.driver(s.uri, auth=(s.user, s.password), notifications_min_severity="OFF")
    ensure_schema(d)
    return d


def generator_fingerprint() -> str:
    """A digest of the code that writes a synthetic account (the generator and every product declaration's
    `synthetic` part, so all of `loaders/`): a generated file is reused only while that code is unchanged,
    never benched stale after the generator grew."""
    digest = hashlib.blake2b(digest_size=5)
    for source in sorted((ROOT / "loaders").rglob("*.py")):
        digest.update(source.relative_to(ROOT).as_posix().encode() + b"\0" + source.read_bytes())
    return digest.hexdigest()


def snapshot_path(assets: int = ASSETS, account: str = BENCH_ACCOUNT, profile: str = "default") -> Path:
    """The generated account's file, written once per generator version (bench/data is shared by checkouts:
    written to a temporary name and renamed, so a concurrent reader never sees half a file)."""
    from loaders.synthetic import generate

    DATA.mkdir(parents=True, exist_ok=True)
    suffix = "" if profile == "default" else f"-{profile}"
    path = DATA / f"synthetic-{assets}-{account}{suffix}-gen{generator_fingerprint()}.json"
    if not path.exists():
        partial = path.with_suffix(f".{os.getpid()}.partial")
        partial.write_text(json.dumps(generate(assets, seed=7, account_id=account, profile=profile)))
        partial.replace(path)
    return path


def ensure_account(d: Any, assets: int = ASSETS, account: str = BENCH_ACCOUNT, profile: str = "default") -> str:
    """The generated account, loaded (re-ingest of an unchanged account is cheap)."""
    from backend.billing import set_plan
    from backend.ingest import ingest_snapshot

    ingest_snapshot(d, snapshot_path(assets, account, profile))
    set_plan(d, account, model="payg", edition="ultimate", cspm=True, who="bench")
    return account


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    value = fn()
    return time.perf_counter() - started, value


def peak_rss_mb() -> float:
    """This process's own peak RSS. Not `ru_maxrss`: Linux carries a parent's peak into a child it forks and
    execs, so a child started by a bench that had just generated a snapshot reported the parent's 415 MB."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def record(section: str, figures: dict[str, Any], assets: int = ASSETS) -> None:
    """Merge one section into results.json (the other sections are kept)."""
    doc = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    doc[section] = {**figures, "assets": assets, "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    RESULTS.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
    print(json.dumps({section: doc[section]}, indent=2))
