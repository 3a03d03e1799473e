"""The compact attack-path index answers exactly what the exhaustive enumeration (the oracle) answers."""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from neo4j import Driver

from backend.ingest import ingest_snapshot
from checks.path_index import SEVERITIES, PathIndex, RankedReport
from checks.paths import choke_points, compute_paths, load_attack_graph, path_json
from graph_schema.store import delete_account
from loaders.synthetic import generate
from tests.helpers.sample import sample_doc


def _loaded(driver: Driver, tmp: Path, doc: dict[str, Any]) -> str:
    path = tmp / f"{doc['account_id']}.json"
    path.write_text(json.dumps(doc))
    ingest_snapshot(driver, path)
    return str(doc["account_id"])


def _wildcard_account() -> dict[str, Any]:
    return generate(1500, seed=3, account_id=str(random.randint(10**15, 10**16 - 1)), profile="wildcard")


def _conditional_sample() -> dict[str, Any]:
    """The sample with an MFA-conditioned trust (conditional paths) and a trust of everyone (more pivots)."""
    account = str(random.randint(10**15, 10**16 - 1))
    doc = sample_doc(account)
    for call in doc["calls"]:
        if call["action"] == "GetRole" and call["params"]["RoleName"] == "DeployRole":
            call["response"]["Role"]["AssumeRolePolicyDocument"] = json.dumps({"Version": "1", "Statement": [{
                "Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"RAM": [f"acs:ram::{account}:root"]},
                "Condition": {"Bool": {"acs:MFAPresent": "true"}}}]})
    return doc


@pytest.mark.parametrize("make_doc", [_wildcard_account, _conditional_sample, lambda: sample_doc(
    str(random.randint(10**15, 10**16 - 1)))], ids=["wildcard-heavy", "conditional-sample", "sample"])
def test_index_equals_exhaustive_enumeration(neo4j_driver: Driver, tmp_path: Path, make_doc: Any) -> None:
    account = _loaded(neo4j_driver, tmp_path, make_doc())
    try:
        graph = load_attack_graph(neo4j_driver, account)
        oracle = compute_paths(graph)
        expected = [path_json(account, p) for p in oracle]
        index = PathIndex.build(graph)

        streamed = list(index.lines())
        assert streamed == [json.dumps(p) for p in expected]  # the same objects, in the same order
        assert index.total == len(expected)
        assert index.summary["firm"] == sum(1 for p in expected if not p["conditional"])
        assert index.summary["by_severity"] == {s: Counter(p["severity"] for p in expected)[s]
                                                for s in ("critical", "high", "medium")}
        assert index.choke_points == choke_points(graph, oracle)

        # pages, and the paths from one entry / to one target, are slices of the same order
        assert list(index.paths(offset=7, limit=11)) == expected[7:18]
        entry = expected[len(expected) // 2]["entry"]["id"]
        target = expected[len(expected) // 3]["target"]["id"]
        assert list(index.paths(entry=entry)) == [p for p in expected if p["entry"]["id"] == entry]
        assert list(index.paths(target=target)) == [p for p in expected if p["target"]["id"] == target]
        assert index.count(target=target) == sum(1 for p in expected if p["target"]["id"] == target)

        # the API's worst-first view: any slice equals the same slice of the sorted enumeration
        worst = sorted(expected, key=lambda p: SEVERITIES.index(p["severity"]))
        view = RankedReport(index).select(None, None, None, None, None, None)
        assert len(view) == len(worst) and view[0:len(worst)] == worst
        for start in (0, 1, len(worst) // 3, len(worst) - 2):
            assert view[start:start + 5] == worst[start:start + 5]
        high = RankedReport(index).select(None, None, ["high"], None, None, None)
        assert high[0:len(high)] == [p for p in worst if p["severity"] == "high"]
    finally:
        delete_account(neo4j_driver, account)


def test_wildcard_profile_grants_wildcards_to_a_third_of_the_principals() -> None:
    doc = generate(2000, seed=5, profile="wildcard")
    wild = {"AliyunOSSFullAccess", "AliyunOSSReadOnlyAccess", "AliyunRDSFullAccess"}
    principals = holders = 0
    for call in doc["calls"]:
        if call["action"] in ("ListPoliciesForUser", "ListPoliciesForRole") and not str(
                call["params"].get("RoleName", "")).startswith("Aliyun"):
            principals += 1
            holders += any(p["PolicyName"] in wild for p in call["response"]["Policies"]["Policy"])
    assert holders >= 0.3 * principals


def test_index_is_persisted_per_data_version_and_tenant(neo4j_driver: Driver, tmp_path: Path) -> None:
    from checks.path_index import build_index, data_version, load_index

    doc = _wildcard_account()
    account = _loaded(neo4j_driver, tmp_path, doc)
    other = _loaded(neo4j_driver, tmp_path, sample_doc(str(random.randint(10**15, 10**16 - 1))))
    try:
        def stored(acct: str) -> list[dict[str, Any]]:
            return [dict(r) for r in neo4j_driver.execute_query(
                "MATCH (x:AttackPathIndex {account_id: $a}) RETURN x.version AS version, x.total AS total",
                a=acct).records]

        # written by the ingest, at the account's data version, and read back as the same answers
        assert stored(account) == [{"version": data_version(neo4j_driver, account),
                                    "total": len(compute_paths(load_attack_graph(neo4j_driver, account)))}]
        fresh = build_index(neo4j_driver, account)
        persisted = load_index(neo4j_driver, account)
        assert list(persisted.lines()) == list(fresh.lines()) and persisted.choke_points == fresh.choke_points

        # new data (a wildcard policy detached everywhere): a new version, the index rebuilt by the ingest
        before = stored(account)[0]
        for call in doc["calls"]:
            if call["action"] in ("ListPoliciesForUser", "ListPoliciesForRole"):
                call["response"]["Policies"]["Policy"] = [
                    p for p in call["response"]["Policies"]["Policy"] if p["PolicyName"] != "AliyunOSSFullAccess"]
        doc["collected_at"] = "2026-11-21T08:00:00Z"
        _loaded(neo4j_driver, tmp_path, doc)
        after = stored(account)[0]
        assert after["version"] != before["version"] and after["version"] == data_version(neo4j_driver, account)
        assert after["total"] == len(compute_paths(load_attack_graph(neo4j_driver, account))) < before["total"]
        assert stored(other) and stored(other)[0]["total"] != after["total"]  # each tenant its own
    finally:
        delete_account(neo4j_driver, account)
        delete_account(neo4j_driver, other)
    assert not stored(account)


def test_cli_jsonl_streams_every_pair_and_json_refuses_above_the_limit(neo4j_driver: Driver, tmp_path: Path) -> None:
    import os

    from backend.billing import set_plan
    from tests.helpers.cli import run

    account = _loaded(neo4j_driver, tmp_path, _wildcard_account())
    try:
        set_plan(neo4j_driver, account, model="payg", edition="ultimate", cspm=True, who="test")
        graph = load_attack_graph(neo4j_driver, account)
        oracle = compute_paths(graph)
        lines = run("paths", "--account", account, "--format", "jsonl").stdout.splitlines()
        streamed = [json.loads(line) for line in lines]
        last = streamed[-1]
        assert last["account_id"] == account
        assert [{k: v for k, v in c.items() if k != "fix"} for c in last["choke_points"]] == choke_points(graph, oracle)
        # worst first, the report's order within a severity (as `--format json` and the API list them)
        expected = sorted((path_json(account, p) for p in oracle), key=lambda p: SEVERITIES.index(p["severity"]))
        assert streamed[:-1] == expected

        some = oracle[0].target[1]
        narrowed = run("paths", "--account", account, "--format", "jsonl", "--target", some, "--limit", "3").stdout
        assert [json.loads(x)["target"]["id"] for x in narrowed.splitlines()[:-1]] == [
            p.target[1] for p in oracle if p.target[1] == some][:3]

        os.environ["SKYPATH_PATHS_JSON_LIMIT"] = str(len(oracle) - 1)
        try:
            refused = run("paths", "--account", account, "--format", "json", ok=False)
            assert refused.returncode != 0 and refused.stdout == ""
            assert "jsonl" in refused.stderr and "--target" in refused.stderr and str(len(oracle)) in refused.stderr
            doc = json.loads(run("paths", "--account", account, "--format", "json", "--limit", "5").stdout)
            assert doc["paths"] == streamed[:5] and doc["choke_points"] == streamed[-1]["choke_points"]
        finally:
            del os.environ["SKYPATH_PATHS_JSON_LIMIT"]
    finally:
        delete_account(neo4j_driver, account)
