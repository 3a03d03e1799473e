"""Drift between two syncs of the sample: one bucket made public, one access key removed, one security-group
rule opened → `skypath changes` lists exactly those, with the findings and attack paths that changed."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from neo4j import Driver

from backend import billing
from backend.pipeline import paths_account, scan_account, sync_account
from checks.paths import analyse_paths
from graph_schema.store import delete_account
from tests.helpers.cli import run, run_json
from tests.helpers.sample import write_sample


def _three_changes(doc: dict[str, Any]) -> None:
    for call in doc["calls"]:
        if call["action"] == "GetBucketAcl" and call["params"]["bucket"] == "acme-prod-data":
            call["response"] = call["response"].replace("<Grant>private</Grant>", "<Grant>public-read</Grant>")
        if call["action"] == "ListAccessKeys" and call["params"]["UserName"] == "alice":
            call["response"]["AccessKeys"]["AccessKey"] = []
        if call["action"] == "DescribeSecurityGroupAttribute" and call["params"]["SecurityGroupId"] == "sg-bp1app0000000001":
            call["response"]["Permissions"]["Permission"][0]["SourceCidrIp"] = "0.0.0.0/0"  # was 10.0.0.0/8


def _pairs(driver: Driver, account: str) -> set[str]:
    return {f"{p['entry']['type']}:{p['entry']['id']} -> {p['target']['type']}:{p['target']['id']}"
            for p in analyse_paths(driver, account)["paths"]}


def _run(driver: Driver, account: str, snapshot: Path) -> dict[str, Any]:
    sync = sync_account(driver, account, f"snapshot:{snapshot}")
    scan = scan_account(driver, account, "test")
    paths_account(driver, account)
    return {"sync": sync["sync_id"], "scan": scan["scan_id"], "pairs": _pairs(driver, account)}


def test_changes_list_exactly_the_three_changes(neo4j_driver: Driver, tmp_path: Path) -> None:
    account = str(random.randint(10**15, 10**16 - 1))
    original = write_sample(tmp_path, account)
    (tmp_path / "changed").mkdir()
    changed = write_sample(tmp_path / "changed", account, _three_changes)
    billing.set_plan(neo4j_driver, account, model="payg", edition="ultimate", cspm=True)
    try:
        first = _run(neo4j_driver, account, original)
        second = _run(neo4j_driver, account, changed)
        doc = run_json("changes", "--account", account)
        assert doc["syncs"] == [second["sync"]]
        assert doc["assets"]["added"] == []
        assert doc["assets"]["removed"] == [{"type": "AccessKey", "id": "LTAI5tAliceKey000001"}]
        changed_assets = {(a["type"], a["id"]): a["properties"] for a in doc["assets"]["changed"]}
        assert set(changed_assets) == {("OssBucket", "acme-prod-data"), ("SecurityGroup", "sg-bp1app0000000001")}
        assert changed_assets[("OssBucket", "acme-prod-data")] == {"acl": {"before": "private", "after": "public-read"}}
        group = changed_assets[("SecurityGroup", "sg-bp1app0000000001")]
        assert group["has_rule:sgr-bp1app000000000100.source_cidr"] == {"before": "10.0.0.0/8", "after": "0.0.0.0/0"}
        assert group["inet_tcp_from"] == {"before": [], "after": [8080]}  # the group is now open to the internet
        assert {(e["type"], e["id"], e["property"]) for e in doc["exposure"]} == {
            ("OssBucket", "acme-prod-data", "acl"), ("SecurityGroup", "sg-bp1app0000000001", "inet_tcp_from"),
            ("SecurityGroup", "sg-bp1app0000000001", "inet_tcp_to")}
        findings = doc["findings"]
        assert findings["baseline_scan_id"] == first["scan"] and findings["scan_id"] == second["scan"]
        assert [(f["check_id"], f["asset_id"]) for f in findings["new"]] == [("ACS_OSS_BucketPublicAcl", "acme-prod-data")]
        assert {f["asset_id"] for f in findings["resolved"]} == {f"acs:ram::{account}:user/alice"}
        assert findings["regressed"] == []
        paths = doc["attack_paths"]
        assert {f"{p['entry']} -> {p['target']}" for p in paths["removed"]} == first["pairs"] - second["pairs"]
        assert paths["removed"] and all(p["entry"] == "AccessKey:LTAI5tAliceKey000001" for p in paths["removed"])
        assert paths["new"] == []  # every instance with a public address was reachable already

        # the key comes back and the bucket is private again: the paths are new again, the finding resolved,
        # and the earlier scan as the baseline shows the whole way
        third = _run(neo4j_driver, account, original)
        back = run_json("changes", "--account", account)
        assert {f"{p['entry']} -> {p['target']}" for p in back["attack_paths"]["new"]} == third["pairs"] - second["pairs"]
        assert len(back["attack_paths"]["new"]) == len(paths["removed"])
        assert [(f["check_id"], f["asset_id"]) for f in back["findings"]["resolved"]] == [
            ("ACS_OSS_BucketPublicAcl", "acme-prod-data")]
        assert {f["asset_id"] for f in back["findings"]["regressed"]} == {f"acs:ram::{account}:user/alice"}
        assert back["assets"]["added"] == [{"type": "AccessKey", "id": "LTAI5tAliceKey000001"}]
        since_first = run_json("changes", "--account", account, "--since", first["scan"])
        assert since_first["syncs"] == [second["sync"], third["sync"]]
        assert since_first["assets"] == {"added": [], "removed": [], "changed": []}  # back where it started
        assert since_first["attack_paths"]["new"] == since_first["attack_paths"]["removed"] == []

        table = run("changes", "--account", account).stdout
        assert "acme-prod-data" in table and "LTAI5tAliceKey000001" in table
        bad = run("changes", "--account", account, "--since", "yesterday-ish", ok=False)
        assert bad.returncode == 1 and "--since must be a scan id" in bad.stderr and "Traceback" not in bad.stderr
    finally:
        delete_account(neo4j_driver, account)


def test_a_path_run_above_the_pair_limit_keeps_its_count_and_drift_says_it_cannot_compare(
        neo4j_driver: Driver, tmp_path: Path, monkeypatch: Any) -> None:
    """The scheduled paths step reads the persisted index (never the every-pair enumeration) and keeps the pairs
    only up to the limit: a 10M-path account records its count, and drift says the pairs are not compared."""
    import backend.pipeline
    import checks.paths
    from backend.drift import changes

    def no_enumeration(*_: Any, **__: Any) -> Any:
        raise AssertionError("the paths step enumerated every pair")

    monkeypatch.setattr(checks.paths, "compute_paths", no_enumeration)
    account = str(random.randint(10**15, 10**16 - 1))
    billing.set_plan(neo4j_driver, account, model="payg", edition="ultimate", cspm=True)
    try:
        sync_account(neo4j_driver, account, f"snapshot:{write_sample(tmp_path, account)}")
        small = paths_account(neo4j_driver, account)
        total = small["paths"]
        assert total > 3
        monkeypatch.setattr(backend.pipeline, "PATH_RUN_PAIR_LIMIT", total - 1)
        big = paths_account(neo4j_driver, account)
        stored = neo4j_driver.execute_query(
            "MATCH (p:PathRun {account_id: $a}) RETURN p.id AS id, p.total AS total, p.pairs_recorded AS recorded, "
            "size(p.keys) AS keys", a=account).records
        runs = {r["id"]: (r["total"], r["recorded"], r["keys"]) for r in stored}
        assert runs == {small["path_run_id"]: (total, True, total), big["path_run_id"]: (total, False, 0)}
        paths = changes(neo4j_driver, account)["attack_paths"]
        assert paths["compared"] is False and paths["new"] == [] and paths["removed"] == []
        assert paths["total"] == total and paths["path_run_id"] == big["path_run_id"]
    finally:
        delete_account(neo4j_driver, account)
