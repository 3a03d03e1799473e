"""Every record keyed by `uid` is unique: concurrent scans meet on one ItemState, and an old database with
duplicates is cleaned when the constraint is created."""

from __future__ import annotations

import random
import re
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from neo4j import Driver

from backend import billing
from backend.entitlements import PlanBiller
from checks.catalog import CATALOG
from checks.scan import run_items
from graph_schema.store import ensure_unique_uid, uid_constraint_name, uid_keyed_labels
from tests.helpers.cli import run_json

ROOT = Path(__file__).resolve().parents[2]
# `MERGE (x:Label {uid: ...})` as the writers spell it, also with the label interpolated: `(n:{label} {{uid:`
MERGE_ON_UID = re.compile(r"MERGE \(\w+:(\{?\w+\}?) \{\{?uid:")


def test_concurrent_scans_of_one_account_leave_no_duplicate_findings(neo4j_driver: Driver, cspm_account: str) -> None:
    account = cspm_account

    def scan() -> int:
        return len(run_items(neo4j_driver, account, CATALOG, PlanBiller(billing.load_plan(neo4j_driver, account))).results)

    with ThreadPoolExecutor(max_workers=4) as pool:
        sizes = [f.result() for f in [pool.submit(scan) for _ in range(4)]]
    assert len(set(sizes)) == 1 and sizes[0] > 0
    states = neo4j_driver.execute_query(
        "MATCH (st:ItemState {account_id: $a}) RETURN st.check_id AS c, count(*) AS n", a=account).records
    assert states and all(r["n"] == 1 for r in states), [r["c"] for r in states if r["n"] > 1]
    findings = run_json("findings", "--account", account)
    rows = findings["results"]
    pairs = Counter((f["check_id"], f["asset_id"]) for f in rows)
    assert pairs and max(pairs.values()) == 1
    assert len(pairs) == sizes[0]


def test_every_uid_keyed_label_has_a_uniqueness_constraint(neo4j_driver: Driver) -> None:
    declared = uid_keyed_labels()
    written = set()
    for path in [p for package in ("backend", "checks", "graph_schema", "loaders") for p in (ROOT / package).rglob("*.py")]:
        written |= set(MERGE_ON_UID.findall(path.read_text()))
    # the generic writer's `{label}` stands for every node schema label
    assert "{label}" in written
    assert {"ItemState", "Whitelist", "Plan", "InstanceDay", "CustomCheck", "CustomPolicy"} <= written
    assert written - {"{label}"} <= set(declared), written - set(declared)
    constraints = {
        r["labels"][0]: r for r in neo4j_driver.execute_query(
            "SHOW CONSTRAINTS YIELD labelsOrTypes AS labels, properties, type WHERE properties = ['uid'] "
            "RETURN labels, type").records
    }
    missing = [label for label in declared if constraints.get(label, {}).get("type") != "UNIQUENESS"]
    assert not missing


def test_duplicates_in_an_old_database_are_removed_keeping_the_newest(neo4j_driver: Driver) -> None:
    probe = f"DedupeProbe{random.randint(10**8, 10**9)}"  # a label no constraint covers yet, like a pre-upgrade DB
    neo4j_driver.execute_query(
        f"UNWIND range(1, 3) AS k UNWIND ['a', 'b'] AS u CREATE (:{probe} {{uid: u, updated: toString(k)}})")
    neo4j_driver.execute_query(f"CREATE (:{probe} {{uid: 'c'}}), (:{probe} {{uid: 'd', updated: '1'}}), (:{probe} {{uid: 'd'}})")
    try:
        with neo4j_driver.session() as session:
            assert ensure_unique_uid(session, probe, "updated") == 5
            assert ensure_unique_uid(session, probe, "updated") == 0  # idempotent
        kept = {r["uid"]: r["updated"] for r in neo4j_driver.execute_query(
            f"MATCH (n:{probe}) RETURN n.uid AS uid, n.updated AS updated").records}
        assert kept == {"a": "3", "b": "3", "c": None, "d": "1"}
        names = {r["name"] for r in neo4j_driver.execute_query("SHOW CONSTRAINTS YIELD name RETURN name").records}
        assert uid_constraint_name(probe) in names
    finally:
        neo4j_driver.execute_query(f"DROP CONSTRAINT {uid_constraint_name(probe)} IF EXISTS")
        neo4j_driver.execute_query(f"MATCH (n:{probe}) DELETE n")
