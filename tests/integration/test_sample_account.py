"""The sample account end to end on the real Neo4j: ingest, every core item, attack-path pairs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from neo4j import Driver

from backend.billing import Plan, decide
from backend.ingest import ingest_snapshot
from checks.catalog import BY_ID, CATALOG
from checks.paths import analyse_paths
from checks.scan import run_items
from graph_schema.store import delete_account
from tests.helpers.sample import expected, write_sample


class AllowEverything:
    """The expected file's plan: pay-as-you-go with CSPM on an Ultimate edition."""

    def __init__(self, account_id: str):
        self.plan = Plan(account_id, model="payg", edition="ultimate", cspm=True)

    def decide(self, operation: str, item: Any) -> Any:
        return decide(self.plan, operation, item)

    def charge(self, tx: Any, operation: str, item: Any, assets: list[str], scan_id: str) -> int:
        return len(assets)

    def charge_instances(self, tx: Any, instances: list[str], scan_id: str) -> None:
        return None


@pytest.fixture(scope="module")
def sample_account(neo4j_driver: Driver, tmp_path_factory: pytest.TempPathFactory) -> Any:
    import random

    account_id = str(random.randint(10**15, 10**16 - 1))
    path = write_sample(tmp_path_factory.mktemp("sample"), account_id)
    result = ingest_snapshot(neo4j_driver, path)
    yield account_id, result
    delete_account(neo4j_driver, account_id)


@pytest.fixture(scope="module")
def scan_results(neo4j_driver: Driver, sample_account: Any) -> dict[str, dict[str, str]]:
    account_id, _ = sample_account
    report = run_items(neo4j_driver, account_id, CATALOG, AllowEverything(account_id))
    got: dict[str, dict[str, str]] = {}
    for r in report.results:
        got.setdefault(r.check_id, {})[r.asset_id] = r.status
    return got


def test_every_core_item_exists() -> None:
    missing = sorted(set(expected()["checks"]) - set(BY_ID))
    assert not missing


@pytest.mark.parametrize("check_id", sorted(expected()["checks"]))
def test_core_item_matches_expected(sample_account: Any, scan_results: dict[str, dict[str, str]], check_id: str) -> None:
    account_id, _ = sample_account
    want = expected(account_id)["checks"][check_id]
    assert scan_results.get(check_id) == want


def test_attack_path_pairs_match_expected(neo4j_driver: Driver, sample_account: Any) -> None:
    account_id, _ = sample_account
    doc = analyse_paths(neo4j_driver, account_id)
    pairs = sorted([p["entry"]["id"], p["target"]["id"]] for p in doc["paths"] if not p["conditional"])
    assert pairs == sorted(expected(account_id)["path_pairs"])
    assert doc["choke_points"], "a path set this size has choke points"
    for path in doc["paths"]:
        assert path["nodes"][0]["type"] in ("Internet", "AccessKey")
        assert len(path["edges"]) == len(path["nodes"]) - 1


def test_node_counts(neo4j_driver: Driver, sample_account: Any) -> None:
    account_id, result = sample_account
    counts = {
        r["label"]: r["c"]
        for r in neo4j_driver.execute_query(
            "MATCH (n {account_id: $a}) WITH labels(n)[0] AS label, count(*) AS c RETURN label, c", a=account_id
        ).records
    }
    for label, n in {"EcsInstance": 8, "SecurityGroup": 6, "Disk": 7, "Eip": 2, "OssBucket": 5, "RdsInstance": 4,
                     "RamUser": 6, "RamGroup": 2, "RamRole": 7, "RamPolicy": 12, "AccessKey": 5, "Trail": 1,
                     "Host": 3}.items():
        assert counts.get(label) == n, label


def test_reingest_is_idempotent(neo4j_driver: Driver, sample_account: Any, tmp_path: Path) -> None:
    account_id, _ = sample_account
    again = ingest_snapshot(neo4j_driver, write_sample(tmp_path, account_id))
    assert again.sync_id == "unchanged"  # the same raw answers, the same derivation code: nothing to do
    assert again.stats.nodes_written == 0 and again.stats.rels_written == 0
    # derived by older code: analysed again (no shortcut), and the diff writes nothing that did not change
    neo4j_driver.execute_query("MATCH (a:Account {account_id: $a}) SET a.analysis_version = 'older'", a=account_id)
    rederived = ingest_snapshot(neo4j_driver, write_sample(tmp_path, account_id))
    assert rederived.sync_id != "unchanged"
    assert rederived.stats.nodes_written == 0 and rederived.stats.rels_written == 0
    assert rederived.stats.nodes_deleted == 0 and rederived.stats.rels_deleted == 0
