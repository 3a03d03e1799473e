"""Custom check items: read-only Cypher validated before it is stored, then scanned like any item."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from neo4j import Driver

from checks.custom import CustomCheckError, add_custom_check

ROOT = Path(__file__).resolve().parents[2]
GOOD = "MATCH (i:EcsInstance {account_id: $account_id}) WHERE i.name STARTS WITH 'web' RETURN i.id AS asset_id"


@pytest.fixture
def account(cspm_account: str) -> str:
    return cspm_account


@pytest.mark.parametrize("query", [
    "MATCH (n {account_id: $account_id}) CREATE (m:X) RETURN n.id AS asset_id",
    "MERGE (n:EcsInstance {account_id: $account_id}) RETURN n.id AS asset_id",
    "MATCH (n {account_id: $account_id}) DETACH DELETE n RETURN 1 AS asset_id",
    "MATCH (n {account_id: $account_id}) SET n.x = 1 RETURN n.id AS asset_id",
    "CALL dbms.listConfig() YIELD name RETURN name AS asset_id, $account_id AS a",
    "LOAD CSV FROM 'file:///etc/passwd' AS l RETURN l[0] AS asset_id, $account_id AS a",
])
def test_write_queries_are_refused(neo4j_driver: Driver, account: str, query: str) -> None:
    with pytest.raises(CustomCheckError, match="refused"):
        add_custom_check(neo4j_driver, account, "ACS_CUSTOM_Bad", "bad", "EcsInstance", "high", query, "test")


def test_shape_is_validated(neo4j_driver: Driver, account: str) -> None:
    with pytest.raises(CustomCheckError, match="asset_id"):
        add_custom_check(neo4j_driver, account, "ACS_CUSTOM_Cols", "t", "EcsInstance", "high",
                         "MATCH (i:EcsInstance {account_id: $account_id}) RETURN i.id AS id", "test")
    with pytest.raises(CustomCheckError, match="account_id"):
        add_custom_check(neo4j_driver, account, "ACS_CUSTOM_Scope", "t", "EcsInstance", "high",
                         "MATCH (i:EcsInstance) RETURN i.id AS asset_id", "test")
    with pytest.raises(CustomCheckError, match="ids look like"):
        add_custom_check(neo4j_driver, account, "MY_CHECK", "t", "EcsInstance", "high", GOOD, "test")


def test_custom_item_is_scanned(account: str) -> None:
    env = dict(os.environ)
    add = subprocess.run([sys.executable, "-m", "backend.cli", "custom-check", "--account", account, "--id",
                          "ACS_CUSTOM_WebNamed", "--asset-type", "EcsInstance", "--title", "web-named instances",
                          "--query", GOOD, "--format", "json"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert add.returncode == 0, add.stderr
    out = subprocess.run([sys.executable, "-m", "backend.cli", "scan", "--account", account, "--check", "ACS_CUSTOM_WebNamed",
                          "--format", "json"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    status = {r["asset_id"]: r["status"] for r in json.loads(out.stdout)["results"]}
    assert status["i-bp1web01000000001"] == "NOT_PASS" and status["i-bp1web02000000001"] == "NOT_PASS"
    assert status["i-bp1app01000000001"] == "PASS"
    assert status["i-p0wsyd0000000001"] == "NOT_SUPPORTED"
