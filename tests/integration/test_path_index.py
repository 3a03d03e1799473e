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
from checks.path_index import PathIndex
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
