"""The read-only console and custom items see one tenant only: the plan of every query is checked so
that all graph reads start from `$account_id`'s nodes, and the graph never links two tenants."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from neo4j import Driver

from backend.auth import create_token
from backend.console import run_read_only
from backend.ingest import ingest_snapshot
from checks.cypher_guard import CypherRefused, validate_read_only
from graph_schema.store import delete_account
from tests.helpers.sample import write_sample

ALLOWED = [
    "MATCH (n:EcsInstance {account_id: $account_id}) RETURN n.id AS id",
    "MATCH (n {account_id: $account_id}) RETURN count(n) AS c",
    "MATCH (s:ItemState {account_id: $account_id}) RETURN s.check_id AS c",
    "MATCH (n:EcsInstance) WHERE n.account_id IN [$account_id] RETURN n",
    "MATCH (n:EcsInstance {account_id: $account_id})-[:MEMBER_OF]->(g) RETURN g.id, "
    "EXISTS { MATCH (g)<-[:MEMBER_OF]-(x) } AS e, [(g)--(y) | y.id] AS ys, COUNT { (g)--() } AS c",
    "MATCH (a:Account {account_id: $account_id}) CALL { WITH a MATCH (a)-[:RESOURCE]->(x) RETURN count(x) AS c } RETURN c",
    "MATCH p = shortestPath((n:EcsInstance {account_id: $account_id})-[*..5]-(m:OssBucket {account_id: $account_id})) "
    "RETURN p",
    "OPTIONAL MATCH (n:EcsInstance {account_id: $account_id}) RETURN n",
    "MATCH (n:EcsInstance {account_id: $account_id}) WITH n ORDER BY n.id SKIP 1 LIMIT 5 RETURN DISTINCT n.region",
    "RETURN 1 AS one",
    "UNWIND [1, 2] AS x RETURN x",
    "MATCH (n:RamUser {account_id: $account_id}) WHERE n.name = 'set' RETURN n.name // CREATE in a comment",
]
REFUSED = [
    ("MATCH (n) RETURN count(n) AS c", "NodeCountFromCountStore"),
    ("MATCH (n) RETURN n.account_id, n.name", "AllNodesScan"),
    ("MATCH (n:OssBucket) RETURN n{.*}", "NodeByLabelScan"),
    ("MATCH (n:EcsInstance) WHERE n.account_id = $account_id OR n.account_id = '1' RETURN n", "not scoped"),
    ("MATCH (n:EcsInstance) WHERE n.account_id = '1111111111111111' RETURN n.id", "not scoped"),
    ("MATCH (t:ApiToken) RETURN t", "NodeByLabelScan"),
    ("MATCH (e:AuditEntry) RETURN e.detail", "not scoped"),
    ("MATCH (n:EcsInstance {account_id: $account_id}), (m) RETURN m.id", "AllNodesScan"),
    ("MATCH (n:EcsInstance {account_id: $account_id}) WHERE EXISTS { MATCH (m:RamUser) WHERE m.account_id = '1' } "
     "RETURN n", "not scoped"),
    ("MATCH (n:EcsInstance {uid: '1:i-1'}) RETURN n", "not scoped"),
    ("MATCH (n) WHERE elementId(n) = '4:x:1' RETURN n", "NodeByElementIdSeek"),
    ("MATCH ()-[r:CAN_ACCESS]->() RETURN r", "RelationshipTypeScan"),
    ("CALL db.labels()", "procedure calls"),
    ("CALL `dbms`.listConfig() YIELD name RETURN name", "procedure calls"),
    ("SHOW TRANSACTIONS", "SHOW is not allowed"),
    ("SHOW SETTINGS", "SHOW is not allowed"),
    ("CREATE (n:X) RETURN n", "CREATE"),
    ("LOAD CSV FROM 'file:///etc/passwd' AS l RETURN l", "LOAD CSV"),
]


@pytest.mark.parametrize("query", ALLOWED)
def test_scoped_reads_are_allowed(neo4j_driver: Driver, query: str) -> None:
    validate_read_only(neo4j_driver, query)


@pytest.mark.parametrize(("query", "why"), REFUSED)
def test_unscoped_reads_are_refused(neo4j_driver: Driver, query: str, why: str) -> None:
    with pytest.raises(CypherRefused) as refused:
        validate_read_only(neo4j_driver, query)
    assert why.lower() in str(refused.value).lower(), str(refused.value)


@pytest.fixture(scope="module")
def two_tenants(neo4j_driver: Driver, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    a, b = (str(random.randint(10**15, 10**16 - 1)) for _ in range(2))
    for account in (a, b):
        ingest_snapshot(neo4j_driver, write_sample(Path(tmp_path_factory.mktemp(account)), account))
    create_token(neo4j_driver, "viewer", [a], who="test")  # a token node exists while B is probed
    yield a, b
    for account in (a, b):
        delete_account(neo4j_driver, account)


def _values(doc: dict[str, Any]) -> str:
    return repr(doc["rows"])


@pytest.mark.parametrize("query", [
    "MATCH (n {account_id: $account_id})-[*1..3]-(m) RETURN DISTINCT m.account_id AS owner, m.id AS id",
    "MATCH (n:RamRole {account_id: $account_id})-[r]-(m) RETURN properties(m) AS p, type(r) AS t",
    "MATCH (a:Account {account_id: $account_id}) RETURN [(a)-[*1..2]-(x) | x.uid] AS uids",
])
def test_no_value_of_another_tenant_comes_back(neo4j_driver: Driver, two_tenants: tuple[str, str], query: str) -> None:
    a, b = two_tenants
    doc = run_read_only(neo4j_driver, a, query)
    assert doc["rows"] and b not in _values(doc)
    assert "hidden_rows" not in doc


def test_the_graph_never_links_two_tenants(neo4j_driver: Driver, two_tenants: tuple[str, str]) -> None:
    """The invariant the plan check relies on: only API tokens and webhooks lack an account, and they have no
    edges."""
    crossing = neo4j_driver.execute_query(
        "MATCH (x)-[r]-(y) WHERE x.account_id IS NOT NULL AND coalesce(y.account_id, '') <> x.account_id "
        "RETURN labels(x) AS x, type(r) AS r, labels(y) AS y LIMIT 5").records
    assert not crossing, [dict(c) for c in crossing]
    unowned = neo4j_driver.execute_query(
        "MATCH (n) WHERE n.account_id IS NULL RETURN DISTINCT labels(n) AS l, COUNT { (n)--() } AS edges").records
    assert all(r["l"] in (["ApiToken"], ["Webhook"]) and r["edges"] == 0 for r in unowned), [dict(r) for r in unowned]
