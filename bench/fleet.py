"""Fleet: many generated accounts, each run as a scheduled run (sync → scan → paths → alerts), with one and
with two worker processes: accounts per minute for each and the ratio.

Every account's `skypath.run_schedule` is queued at once, as beat does when a whole fleet falls due; real
`skypath worker` processes (in a queue and Redis key prefix of their own) run the chains. Each phase uses
fresh accounts, so every sync is a first, full one. `--accounts N` (default 200) and `--assets N` (500).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from common import ROOT, driver, record

FIRST_ACCOUNT = 1998000000000000


def _snapshots(tmp: Path, accounts: list[str], assets: int) -> dict[str, Path]:
    from loaders.synthetic import generate

    out = {}
    for n, account in enumerate(accounts):
        path = tmp / f"{account}.json"
        path.write_text(json.dumps(generate(assets, seed=n, account_id=account)))
        out[account] = path
    return out


def _phase(d: Any, processes: int, accounts: list[str], snapshots: dict[str, Path], tmp: Path) -> dict[str, Any]:
    from backend.billing import set_plan
    from backend.tasks import bind, celery_app, run_schedule

    tag = uuid.uuid4().hex[:8]
    queue, prefix = f"skypath-bench-{tag}", f"skypath-bench-{tag}:"
    bind(queue, prefix)
    for account in accounts:
        set_plan(d, account, model="payg", edition="ultimate", cspm=True, who="bench")
    env = {**os.environ, "SKYPATH_CELERY_QUEUE": queue, "SKYPATH_CELERY_PREFIX": prefix}
    log = (tmp / f"worker-{processes}.log").open("wb")
    worker = subprocess.Popen([sys.executable, "-m", "backend.cli", "worker", "--concurrency", str(processes),
                               "--name", f"bench-{tag}@%h", "--loglevel", "WARNING"], cwd=ROOT, env=env,
                              stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while not celery_app.control.ping(timeout=1.0):
            if time.monotonic() > deadline or worker.poll() is not None:
                raise RuntimeError(f"the worker did not start (see {log.name})")
        started = time.perf_counter()
        queued = [run_schedule.delay(account, f"snapshot:{snapshots[account]}") for account in accounts]
        chains = [celery_app.AsyncResult(q.get(timeout=3600)["chain"]) for q in queued]
        outcomes = [c.get(timeout=3600) for c in chains]
        seconds = time.perf_counter() - started
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=60)
    completed = sum(1 for o in outcomes if o["status"] == "completed")
    print(f"{processes} worker process(es): {completed}/{len(accounts)} accounts in {seconds:.1f} s", flush=True)
    return {"accounts": len(accounts), "completed": completed, "seconds": round(seconds, 1),
            "accounts_per_minute": round(completed / seconds * 60, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=200)
    parser.add_argument("--assets", type=int, default=500)
    args = parser.parse_args()
    from graph_schema.store import delete_account

    d = driver()
    phases: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="skypath-fleet-") as tmp_dir:
        tmp = Path(tmp_dir)
        for n, processes in enumerate((1, 2)):
            accounts = [str(FIRST_ACCOUNT + n * 100_000 + i) for i in range(args.accounts)]
            for account in accounts:
                delete_account(d, account)
            try:
                phases[f"workers_{processes}"] = _phase(d, processes, accounts, _snapshots(tmp, accounts, args.assets),
                                                        tmp)
            finally:
                for account in accounts:
                    delete_account(d, account)
    one, two = phases["workers_1"]["accounts_per_minute"], phases["workers_2"]["accounts_per_minute"]
    record("fleet", {**phases, "ratio_2_to_1": round(two / one, 2) if one else None,
                     "accounts": args.accounts, "note": "sync+scan+paths+alerts chains; fresh accounts per phase; "
                     f"{os.cpu_count()} cores shared with other work"}, assets=args.assets)


if __name__ == "__main__":
    main()
