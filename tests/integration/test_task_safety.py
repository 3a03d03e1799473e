"""Task safety with real `skypath worker` processes on the real Redis and Neo4j: two runs of one account
never overlap (one runs, the other is skipped and says why, or waits its bounded turn), and a worker
process killed with SIGKILL mid-sync has its task redelivered while the previous sync stays intact."""

from __future__ import annotations

import json
import os
import random
import signal
import time
from pathlib import Path
from typing import Any

from neo4j import Driver

from backend import billing
from backend.ingest import ingest_snapshot
from graph_schema.store import delete_account
from loaders.synthetic import generate
from tests.helpers.celery_procs import namespace, wait_for


def _synthetic(tmp: Path, account: str, assets: int, seed: int) -> tuple[Path, dict[str, Any]]:
    doc = generate(assets, seed=seed, account_id=account)
    path = tmp / f"synthetic-{seed}.json"
    path.write_text(json.dumps(doc))
    return path, doc


def _instances(doc: dict[str, Any]) -> set[str]:
    return {i["InstanceId"] for c in doc["calls"] if (c["product"], c["action"]) == ("Ecs", "DescribeInstances")
            for i in c["response"]["Instances"]["Instance"]}


def _account(driver: Driver, account: str) -> dict[str, Any]:
    rec = driver.execute_query(
        "MATCH (a:Account {uid: $uid}) OPTIONAL MATCH (i:EcsInstance {account_id: $a}) "
        "RETURN a.current_sync AS sync, collect(i.id) AS instances", uid=f"{account}:{account}", a=account).records
    return {"sync": rec[0]["sync"], "instances": set(rec[0]["instances"])} if rec else {}


def test_two_syncs_of_one_account_never_overlap(neo4j_driver: Driver, tmp_path: Path) -> None:
    from backend.tasks import scan_task, sync_task

    account = str(random.randint(10**15, 10**16 - 1))
    snapshot, _ = _synthetic(tmp_path, account, 4000, seed=3)
    billing.set_plan(neo4j_driver, account, model="payg", edition="ultimate", cspm=True)
    log = tmp_path / "worker.log"
    try:
        with namespace() as ns:
            ns.worker(log, concurrency=3)
            wait_for("the worker", lambda: ns.ping(), logs=[log])
            first = sync_task.delay(account, f"snapshot:{snapshot}")
            wait_for("the first sync under way", lambda: first.state == "PROGRESS", every=0.05, logs=[log])
            second = sync_task.delay(account, f"snapshot:{snapshot}")
            scan = scan_task.delay(account, None, "test")  # a scan waits (bounded) for the sync instead
            results = [r.get(timeout=300) for r in (first, second, scan)]
            # what the API shows (GraphQL `tasks`/`task`): the account's tasks, and no one else's
            from backend.tasks import recent_tasks, task_state

            assert {t["id"] for t in recent_tasks(account)} == {first.id, second.id, scan.id}
            assert task_state(account, second.id)["result"]["status"] == "skipped"
            assert task_state(str(int(account) + 1), first.id) is None
        assert [r["status"] for r in results] == ["completed", "skipped", "completed"], results
        assert f"account {account} is busy" in results[1]["reason"] and first.id in results[1]["reason"], results[1]
        sync_at = neo4j_driver.execute_query("MATCH (r:SyncRecord {account_id: $a}) RETURN max(r.at) AS at",
                                             a=account).records[0]["at"]
        scan_started = neo4j_driver.execute_query("MATCH (s:Scan {account_id: $a, id: $id}) RETURN s.started AS t",
                                                  a=account, id=results[2]["scan_id"]).records[0]["t"]
        assert scan_started > sync_at, "the scan ran after the sync had committed, never alongside it"
    finally:
        delete_account(neo4j_driver, account)


def test_worker_killed_mid_sync_is_retried_and_the_graph_stays_consistent(neo4j_driver: Driver,
                                                                         tmp_path: Path) -> None:
    from backend.tasks import sync_task

    account = str(random.randint(10**15, 10**16 - 1))
    before_path, before_doc = _synthetic(tmp_path, account, 12000, seed=1)
    after_path, after_doc = _synthetic(tmp_path, account, 12000, seed=2)
    first_sync = ingest_snapshot(neo4j_driver, before_path).sync_id
    assert _account(neo4j_driver, account) == {"sync": first_sync, "instances": _instances(before_doc)}
    log = tmp_path / "worker.log"
    try:
        with namespace() as ns:
            ns.worker(log, concurrency=1)
            result = sync_task.delay(account, f"snapshot:{after_path}")
            progress = wait_for("the sync writing", lambda: (
                result.info if result.state == "PROGRESS" and result.info.get("phase") == "write" else None),
                every=0.05, logs=[log])
            time.sleep(1.0)
            os.kill(progress["pid"], signal.SIGKILL)  # the pool process running the task, mid-write
            assert _account(neo4j_driver, account) == {"sync": first_sync, "instances": _instances(before_doc)}, \
                "the previous sync is intact"
            done = result.get(timeout=300)
        assert done["status"] == "completed" and done["pid"] != progress["pid"], done  # redelivered, run again
        assert "exited with 'signal 9 (SIGKILL)'" in log.read_text()
        assert _account(neo4j_driver, account) == {"sync": done["sync_id"], "instances": _instances(after_doc)}
        stale = neo4j_driver.execute_query("MATCH (n {account_id: $a}) WHERE n._stale RETURN count(n) AS n",
                                           a=account).records[0]["n"]
        assert stale == 0
    finally:
        delete_account(neo4j_driver, account)
