"""Ingest semantics on the real Neo4j: stale removal, tenants, bad input, and kill -9 mid-sync."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from neo4j import Driver

from backend import billing
from backend.entitlements import PlanBiller
from backend.ingest import IngestError, ingest_snapshot
from checks.catalog import BY_ID
from checks.scan import run_items
from graph_schema.store import delete_account
from loaders.synthetic import generate
from tests.helpers.sample import write_sample

ROOT = Path(__file__).resolve().parents[2]


def new_account() -> str:
    return str(random.randint(10**15, 10**16 - 1))


def count(driver: Driver, account_id: str, label: str) -> int:
    return int(driver.execute_query(f"MATCH (n:{label} {{account_id: $a}}) RETURN count(n) AS c", a=account_id)
               .records[0]["c"])


@pytest.fixture
def account(neo4j_driver: Driver) -> str:
    account_id = new_account()
    yield account_id
    delete_account(neo4j_driver, account_id)


def test_removed_assets_are_removed(neo4j_driver: Driver, account: str, tmp_path: Path) -> None:
    ingest_snapshot(neo4j_driver, write_sample(tmp_path, account))
    assert count(neo4j_driver, account, "OssBucket") == 5

    def drop_bucket(doc: dict) -> None:
        for call in doc["calls"]:
            if call["action"] == "ListBuckets":
                start = call["response"].index("<Bucket><CreationDate>")
                end = call["response"].index("</Bucket>", start) + len("</Bucket>")
                call["response"] = call["response"][:start] + call["response"][end:]

    result = ingest_snapshot(neo4j_driver, write_sample(tmp_path, account, drop_bucket))
    assert count(neo4j_driver, account, "OssBucket") == 4
    assert result.stats.nodes_deleted >= 1


def test_denied_scope_keeps_previous_state(neo4j_driver: Driver, account: str, tmp_path: Path) -> None:
    ingest_snapshot(neo4j_driver, write_sample(tmp_path, account))

    def deny_shanghai_ecs(doc: dict) -> None:
        for call in doc["calls"]:
            if call["product"] == "Ecs" and call["region"] == "cn-shanghai" and call["action"] == "DescribeInstances":
                call.pop("response")
                call["error"] = {"code": "Forbidden.RAM", "message": "denied", "http_status": 403}

    before = count(neo4j_driver, account, "EcsInstance")
    result = ingest_snapshot(neo4j_driver, write_sample(tmp_path, account, deny_shanghai_ecs))
    assert result.scopes["ecs:cn-shanghai"] == "denied"
    assert count(neo4j_driver, account, "EcsInstance") == before


def test_leftovers_of_a_denied_scope_are_not_check_until_seen_again(neo4j_driver: Driver, account: str,
                                                                     tmp_path: Path) -> None:
    ingest_snapshot(neo4j_driver, write_sample(tmp_path, account))
    billing.set_plan(neo4j_driver, account, model="payg", edition="ultimate", cspm=True)
    items = [BY_ID["ACS_ECS_SecurityGroupPublicSSH"], BY_ID["ACS_ECS_InstanceMetadataTokenRequired"]]

    def statuses() -> dict[str, str]:
        report = run_items(neo4j_driver, account, items, PlanBiller(billing.load_plan(neo4j_driver, account)))
        return {r.asset_id: r.status for r in report.results if r.region == "cn-shanghai"}

    before = statuses()
    assert before["sg-uf6legacy0000001"] == "NOT_PASS" and before["i-uf6batch000000001"] == "NOT_PASS"

    def deny_shanghai_ecs(doc: dict) -> None:
        for call in doc["calls"]:
            if call["product"] == "Ecs" and call["region"] == "cn-shanghai" and call["action"] in (
                    "DescribeInstances", "DescribeSecurityGroups"):
                call.pop("response")
                call["error"] = {"code": "Forbidden.RAM", "message": "denied", "http_status": 403}

    ingest_snapshot(neo4j_driver, write_sample(tmp_path, account, deny_shanghai_ecs))
    kept = statuses()
    assert set(kept) == set(before)  # nothing deleted
    assert set(kept.values()) == {"NOT_CHECK"}, kept  # the old facts are not evidence any more
    ingest_snapshot(neo4j_driver, write_sample(tmp_path, account))
    assert statuses() == before  # seen again: evaluated again


def test_a_region_or_product_gone_from_the_snapshot_is_removed(neo4j_driver: Driver, account: str,
                                                               tmp_path: Path) -> None:
    ingest_snapshot(neo4j_driver, write_sample(tmp_path, account))
    assert count(neo4j_driver, account, "RamUser") == 6 and count(neo4j_driver, account, "Host") == 3

    def drop_shanghai_and_ram(doc: dict) -> None:
        doc["calls"] = [c for c in doc["calls"]
                        if c["product"] != "Ram" and not (c["region"] == "cn-shanghai" and c["product"] != "Oss")]
        doc["hosts"] = doc["hosts"][:1]

    ingest_snapshot(neo4j_driver, write_sample(tmp_path, account, drop_shanghai_and_ram))
    regions = {r["r"] for r in neo4j_driver.execute_query(
        "MATCH (n:EcsInstance|SecurityGroup|Disk|RdsInstance {account_id: $a}) RETURN DISTINCT n.region AS r",
        a=account).records}
    assert "cn-shanghai" not in regions and "cn-hangzhou" in regions
    assert count(neo4j_driver, account, "RamUser") == 0 and count(neo4j_driver, account, "RamRole") == 0
    assert count(neo4j_driver, account, "Host") == 1

    def no_hosts_key(doc: dict) -> None:
        drop_shanghai_and_ram(doc)
        del doc["hosts"]

    ingest_snapshot(neo4j_driver, write_sample(tmp_path, account, no_hosts_key))
    assert count(neo4j_driver, account, "Host") == 1  # hosts not collected: kept as they were

    def empty_hosts(doc: dict) -> None:
        drop_shanghai_and_ram(doc)
        doc["hosts"] = []

    ingest_snapshot(neo4j_driver, write_sample(tmp_path, account, empty_hosts))
    assert count(neo4j_driver, account, "Host") == 0


def test_two_accounts_never_collide(neo4j_driver: Driver, tmp_path: Path) -> None:
    a, b = new_account(), new_account()
    try:
        ingest_snapshot(neo4j_driver, write_sample(tmp_path, a))
        ingest_snapshot(neo4j_driver, write_sample(tmp_path, b))
        for label in ("RamRole", "SecurityGroup", "OssBucket"):
            assert count(neo4j_driver, a, label) == count(neo4j_driver, b, label) > 0
        # same bucket names in both accounts are distinct nodes
        rows = neo4j_driver.execute_query(
            "MATCH (n:OssBucket {id: 'acme-logs'}) WHERE n.account_id IN $ids RETURN n.account_id AS a", ids=[a, b]
        ).records
        assert sorted(r["a"] for r in rows) == sorted([a, b])
        delete_account(neo4j_driver, a)
        assert count(neo4j_driver, b, "OssBucket") == 5
        no_cross = neo4j_driver.execute_query(
            "MATCH (x {account_id: $b})-[r]-(y) WHERE y.account_id IS NOT NULL AND y.account_id <> $b RETURN count(r) AS c",
            b=b,
        ).records[0]["c"]
        assert no_cross == 0
    finally:
        delete_account(neo4j_driver, a)
        delete_account(neo4j_driver, b)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{", "not valid JSON"),
        ('{"format": "nope", "account_id": "1", "calls": []}', "format"),
        ('{"format": "skypath-snapshot/1", "calls": []}', "account_id"),
    ],
)
def test_bad_snapshot_writes_nothing(neo4j_driver: Driver, account: str, tmp_path: Path, content: str, message: str) -> None:
    ingest_snapshot(neo4j_driver, write_sample(tmp_path, account))
    before = count(neo4j_driver, account, "EcsInstance")
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    with pytest.raises(IngestError, match=message):
        ingest_snapshot(neo4j_driver, bad)
    assert count(neo4j_driver, account, "EcsInstance") == before


def test_malformed_policy_document_keeps_previous_state(neo4j_driver: Driver, account: str, tmp_path: Path) -> None:
    ingest_snapshot(neo4j_driver, write_sample(tmp_path, account))

    def break_policy(doc: dict) -> None:
        renamed = json.loads(json.dumps(doc).replace("acme-logs", "acme-logs-renamed"))
        doc.clear()
        doc.update(renamed)
        for call in doc["calls"]:
            if call["action"] == "GetPolicyVersion":
                call["response"]["PolicyVersion"]["PolicyDocument"] = "{'not': json"
                break

    with pytest.raises(IngestError, match="GetPolicyVersion"):
        ingest_snapshot(neo4j_driver, write_sample(tmp_path, account, break_policy))
    names = {r["id"] for r in neo4j_driver.execute_query("MATCH (b:OssBucket {account_id: $a}) RETURN b.id AS id",
                                                          a=account).records}
    assert "acme-logs" in names and "acme-logs-renamed" not in names


def test_kill_9_mid_sync_keeps_previous_sync(neo4j_driver: Driver, account: str, tmp_path: Path) -> None:
    first = tmp_path / "first.json"
    first.write_text(json.dumps(generate(400, seed=1, account_id=account)))
    ingest_snapshot(neo4j_driver, first)
    before = {label: count(neo4j_driver, account, label) for label in ("EcsInstance", "Disk", "RamUser")}
    sync_before = neo4j_driver.execute_query("MATCH (a:Account {uid: $u}) RETURN a.current_sync AS s",
                                             u=f"{account}:{account}").records[0]["s"]

    second = tmp_path / "second.json"
    second.write_text(json.dumps(generate(30_000, seed=2, account_id=account)))
    env = dict(os.environ, SKYPATH_LOG_WRITES="1")
    proc = subprocess.Popen([sys.executable, "-m", "backend.cli", "ingest", "--snapshot", str(second)],
                            cwd=ROOT, env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    assert proc.stderr is not None
    deadline = time.monotonic() + 300
    killed = False
    for line in proc.stderr:
        if "writing" in line:
            time.sleep(1.0)  # inside the write transaction (tens of thousands of rows)
            proc.send_signal(signal.SIGKILL)
            killed = True
            break
        if time.monotonic() > deadline:
            break
    proc.wait(timeout=60)
    assert killed, "the ingest never reached its write phase"
    assert proc.returncode == -signal.SIGKILL
    after = {label: count(neo4j_driver, account, label) for label in before}
    assert after == before
    sync_after = neo4j_driver.execute_query("MATCH (a:Account {uid: $u}) RETURN a.current_sync AS s",
                                            u=f"{account}:{account}").records[0]["s"]
    assert sync_after == sync_before
