"""Scheduled posture with a real `skypath beat` and a real `skypath worker` against the real Redis and Neo4j:
the schedule lives in the graph, beat re-reads it (a change needs no restart), every run is
sync → scan → paths → alerts."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from neo4j import Driver

from backend import billing
from backend.notify import add_webhook, remove_webhook, signature
from graph_schema.store import delete_account
from tests.helpers.celery_procs import namespace, wait_for
from tests.helpers.cli import run_json
from tests.helpers.sample import write_sample
from tests.helpers.webhook_receiver import Receiver


def _scheduler_runs(driver: Driver, account: str) -> list[dict[str, Any]]:
    """Completed scheduled scans, each with the number of item results it wrote and the path run after it."""
    return [r.data() for r in driver.execute_query(
        "MATCH (s:Scan {account_id: $a, who: 'scheduler', status: 'completed'}) "
        "OPTIONAL MATCH (s)-[:HAS_RUN]->(r:CheckRun) WITH s, count(r) AS items "
        "OPTIONAL MATCH (p:PathRun {account_id: $a}) WHERE p.at > s.finished "
        "WITH s, items, p ORDER BY p.at RETURN s.id AS scan, s.finished AS finished, items, "
        "collect(p)[0].id AS path_run, size(collect(p)[0].keys) AS paths ORDER BY finished",
        a=account).records]


def _public_bucket(doc: dict[str, Any]) -> None:
    for call in doc["calls"]:
        if call["action"] == "GetBucketAcl" and call["params"]["bucket"] == "acme-prod-data":
            call["response"] = call["response"].replace("<Grant>private</Grant>", "<Grant>public-read</Grant>")


def test_beat_and_worker_run_the_graph_schedule_and_pick_up_changes(neo4j_driver: Driver, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    account = str(random.randint(10**15, 10**16 - 1))
    first = write_sample(tmp_path, account)
    (tmp_path / "changed").mkdir()
    changed = write_sample(tmp_path / "changed", account, _public_bucket)
    billing.set_plan(neo4j_driver, account, model="payg", edition="ultimate", cspm=True)
    worker_log, beat_log = tmp_path / "worker.log", tmp_path / "beat.log"
    receiver = Receiver(failures=1)
    hook = add_webhook(neo4j_driver, receiver.url, "generic", [account], "test")
    try:
        with namespace() as ns:
            ns.worker(worker_log)
            beat = ns.beat(beat_log)
            monkeypatch.setenv("SKYPATH_CELERY_QUEUE", ns.queue)  # the CLI writes the schedule for this queue
            doc = run_json("schedule", "set", "--account", account, "--snapshot", str(first), "--every", "4s")
            assert doc["queue"] == ns.queue and doc["every_seconds"] == 4

            runs = wait_for("two completed scheduled runs with paths", lambda: (
                rows if len(rows := [r for r in _scheduler_runs(neo4j_driver, account) if r["path_run"]]) >= 2
                else None), logs=[worker_log, beat_log])
            for run in runs[:2]:
                assert run["items"] >= 150, run  # the whole catalog ran: fresh results
                assert run["paths"] > 0, run  # and the attack paths after it
            assert runs[0]["scan"] != runs[1]["scan"]
            from backend.schedule import list_schedules

            assert list_schedules(neo4j_driver, [account])[0]["last_run"]  # beat counts from it after a restart

            # a new source and interval, written to the graph while beat runs: picked up without a restart
            from backend.schedule import set_schedule

            set_schedule(neo4j_driver, account, f"snapshot:{changed}", 2, "test", queue=ns.queue)
            acl = wait_for("a sync of the changed snapshot", lambda: neo4j_driver.execute_query(
                "MATCH (b:OssBucket {account_id: $a, id: 'acme-prod-data'}) WHERE b.acl = 'public-read' RETURN b.acl",
                a=account).records, logs=[worker_log, beat_log])
            assert acl
            scans_before = len(_scheduler_runs(neo4j_driver, account))
            wait_for("a further run on the new schedule",
                     lambda: len(_scheduler_runs(neo4j_driver, account)) > scans_before + 1,
                     logs=[worker_log, beat_log])
            assert beat.poll() is None, "beat was never restarted"

            # the run that saw the public bucket alerted the account's webhook: once, signed, after a 500
            alerts = wait_for("the alert", lambda: [json.loads(b) for _, b, _ in receiver.received[1:]],
                              logs=[worker_log])
            assert [(f["check_id"], f["asset_id"]) for f in alerts[0]["new_findings"]] == [
                ("ACS_OSS_BucketPublicAcl", "acme-prod-data")]
            headers, body, _ = receiver.received[1]
            assert headers["X-Skypath-Signature"] == signature(hook["secret"], headers["X-Skypath-Timestamp"], body)
            assert len(receiver.received) == 2, "no other run alerted: nothing else was new"

            from backend.schedule import remove_schedule

            assert remove_schedule(neo4j_driver, account, "test")
    finally:
        remove_webhook(neo4j_driver, hook["id"])
        receiver.server.shutdown()
        delete_account(neo4j_driver, account)
