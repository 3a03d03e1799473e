"""The plan rules of the tenant-scoped Cypher guard, on synthetic plans (the planner's choice between
an index seek and a scan + filter depends on statistics; both shapes must be judged right)."""

from __future__ import annotations

from typing import Any

import pytest

from checks.cypher_guard import CypherRefused, check_grammar, check_plan_scoped, strip_literals, tokenize


def op(name: str, details: str = "", *children: dict[str, Any]) -> dict[str, Any]:
    return {"operatorType": f"{name}@neo4j", "args": {"Details": details}, "children": list(children)}


def results(*children: dict[str, Any]) -> dict[str, Any]:
    return op("ProduceResults", "x", *children)


SCOPED_SEEK = op("NodeIndexSeek", "RANGE INDEX n:EcsInstance(account_id) WHERE account_id = $account_id, cache[n.account_id]")
SCOPED = [
    results(op("Projection", "n.id AS x", SCOPED_SEEK)),
    results(op("Filter", "n.account_id = $account_id", op("AllNodesScan", "n"))),
    results(op("Filter", "cache[n.account_id] = $account_id AND n.name = $autostring_0", op("NodeByLabelScan", "n:Disk"))),
    results(op("Filter", "cache[n.account_id] = $account_id",
               op("NodeIndexScan", "RANGE INDEX n:RamRole(account_id) WHERE account_id IS NOT NULL, cache[n.account_id]"))),
    results(op("Expand(All)", "(n)-[r]-(m)", SCOPED_SEEK)),
    results(op("VarLengthExpand(Pruning,BFS,All)", "(n)-[*..3]-(m)", SCOPED_SEEK)),
    results(op("Apply", "", SCOPED_SEEK, op("EagerAggregation", "count(x) AS c", op("Expand(All)", "(n)--(x)",
                                                                               op("Argument", "n"))))),
    results(op("Projection", "$autoint_0 AS `1`")),
]
UNSCOPED = [
    (results(op("NodeCountFromCountStore", "count( () ) AS c")), "NodeCountFromCountStore"),
    (results(op("AllNodesScan", "n")), "not scoped"),
    (results(op("Filter", "n.account_id = $account_id OR n.x = 1", op("AllNodesScan", "n"))), "not scoped"),
    (results(op("Filter", "m.account_id = $account_id", op("AllNodesScan", "n"))), "not scoped"),
    # another predicate before the scope could fail on another tenant's node (an error oracle)
    (results(op("Filter", "n.name = $autostring_0 AND cache[n.account_id] = $account_id", op("NodeByLabelScan", "n:Disk"))),
     "not scoped"),
    (results(op("Filter", "n.account_id = $autostring_0", op("NodeByLabelScan", "n:X"))), "not scoped"),
    (results(op("Filter", "n.account_id = $account_id",
                op("CartesianProduct", "", op("AllNodesScan", "n"), op("AllNodesScan", "m")))), "not scoped"),
    (results(op("NodeIndexSeek", "RANGE INDEX n:X(account_id) WHERE account_id IN [$account_id, $autostring_0]")),
     "not scoped"),
    (results(op("NodeUniqueIndexSeek", "UNIQUE n:X(uid) WHERE uid = $autostring_0")), "not scoped"),
    (results(op("CartesianProduct", "", SCOPED_SEEK, op("NodeByLabelScan", "m:ApiToken"))), "not scoped"),
    (results(op("ProcedureCall", "db.labels() :: (label :: STRING)")), "ProcedureCall"),
    (results(op("LoadCSV", "line")), "LoadCSV"),
    (results(op("SomeFutureOperator", "")), "SomeFutureOperator"),
]


@pytest.mark.parametrize("plan", SCOPED)
def test_scoped_plans_pass(plan: dict[str, Any]) -> None:
    check_plan_scoped(plan)


@pytest.mark.parametrize(("plan", "why"), UNSCOPED)
def test_unscoped_plans_are_refused(plan: dict[str, Any], why: str) -> None:
    with pytest.raises(CypherRefused, match=why):
        check_plan_scoped(plan)


def test_literals_comments_and_backquoted_names_are_tokenized() -> None:
    assert "CALL dbms . listConfig ( )" in strip_literals("CALL `dbms`.listConfig()")
    assert "CREATE" not in strip_literals("RETURN 'CREATE' AS x // CREATE")
    assert "LOAD" in strip_literals("RETURN '//' AS x LOAD CSV FROM 'x' AS l RETURN l")
    assert [t.kind for t in tokenize("RETURN 'a\\'b' AS `x``y`")][:4] == ["name", "string", "name", "quoted"]


# ---------------------------------------------------------------- the grammar (no server: refused before Neo4j)

ANCHORED = [
    "MATCH (n:EcsInstance {account_id: $account_id}) RETURN n.id AS id",
    "MATCH (g:SecurityGroup {account_id: $account_id}) RETURN EXISTS { MATCH (g)<-[:MEMBER_OF]-(x) } AS e, "
    "[(g)--(y) | y.id] AS ys, COUNT { (g)--() } AS c, COLLECT { MATCH (g)--(z) RETURN z.id } AS zs",
    "MATCH (a:Account {account_id: $account_id}) RETURN [x IN [1] | COLLECT { MATCH (a)--(m), (m)--(k) RETURN k.id }]",
    "MATCH (a:Account {account_id: $account_id}) CALL { WITH a MATCH (a)-->(x) RETURN count(x) AS c } RETURN c",
    "MATCH (a:Account {account_id: $account_id}) CALL (a) { MATCH (a)-->(x) RETURN x } RETURN COUNT { (x)--() } AS c",
    "MATCH (n:RamUser {account_id: $account_id}) WHERE NOT (n)-[:MEMBER_OF]->(:RamGroup) AND n.name STARTS WITH 'a' "
    "RETURN n{.id, k: n.name} AS m, CASE WHEN n.x IS NULL THEN 1 ELSE 2 END AS c, reduce(s = 0, x IN [1] | s + x) AS r, "
    "all(x IN [1] WHERE x = 1) AS q, date.truncate('day', datetime()) AS d, n:RamUser AS l, [1, 2][0..1] AS z",
    "UNWIND [1, 2] AS x RETURN x ORDER BY x DESC SKIP 0 LIMIT 1;",
    "RETURN '//' + \"/*\" AS `odd name`, 0x1F AS hex, .5 AS half // a comment",
]
NESTED_ESCAPES = [
    "RETURN [x IN [1] | COLLECT { MATCH (n:RamUser) WHERE n.account_id <> $account_id RETURN n.id }][0] AS other",
    "RETURN [x IN [1] | [(n:RamUser) | n.id]] AS o",
    "RETURN CASE WHEN true THEN COUNT { MATCH (t:ApiToken) } END AS c",
    "RETURN reduce(s = '', x IN [1] | s + COLLECT { MATCH (t:ApiToken) RETURN t.hash }[0]) AS h",
    "RETURN coalesce(null, [(t:ApiToken)-->() | t]) AS t",
    "RETURN EXISTS { (t:ApiToken) } AS e",
    "RETURN [p = (a:RamUser)-->(b) | p] AS p",
    "MATCH (n:EcsInstance {account_id: $account_id}) WITH 1 AS one RETURN COUNT { (n)--() } AS c",
    "MATCH (a:Account {account_id: $account_id}) CALL { MATCH (m:RamUser) RETURN count(*) AS c } "
    "RETURN COUNT { (m)--() } AS c",
    "MATCH (n:EcsInstance {account_id: $account_id}) RETURN [(n)--(m) WHERE COUNT { (z:ApiToken) } > 0 | m] AS ms",
    "MATCH (n:EcsInstance {account_id: $account_id}) RETURN [x IN [1] WHERE (n)--(:ApiToken) OR ()--(:RamUser)] AS q",
    "MATCH (n:EcsInstance {account_id: $account_id}) RETURN COUNT { (n)--(), (other:RamUser) } AS c",
]
REFUSED_CONSTRUCTS = [
    ("RETURN [x IN [1] | COLLECT { CALL db.labels() YIELD label RETURN label }] AS l", "CALL"),
    ("RETURN [x IN [1] | COLLECT { LOAD CSV FROM 'http://127.0.0.1/' AS l RETURN l }] AS l", "LOAD"),
    ("RETURN '//' AS a LOAD CSV FROM 'ht' + 'tp://127.0.0.1/' AS l RETURN l", "LOAD"),
    ("CALL db.labels()", "procedure"),
    ("CALL `db`.`labels`() YIELD label RETURN label", "procedure"),
    ("USING PERIODIC COMMIT LOAD CSV FROM 'x' AS l RETURN l", "USING"),
    ("MATCH (n:EcsInstance {account_id: $account_id}) FOREACH (x IN [1] | SET n.a = 1)", "FOREACH"),
    ("MATCH (n:EcsInstance {account_id: $account_id}) SET n.a = 1", "SET"),
    ("CALL { MATCH (n) RETURN n } IN TRANSACTIONS RETURN 1", "IN TRANSACTIONS"),
    ("RETURN apoc.version() AS v", "function"),
    ("RETURN file() AS f", "function"),
    ("RETURN db.nameFromElementId('x') AS d", "function"),
    ("CYPHER runtime=slotted MATCH (n) RETURN n", "CYPHER"),
    ("USE system SHOW USERS", "USE"),
    ("RETURN 'a\\u0027 AS x", "unterminated"),
    ("RETURN 'a\\u0041' AS x", "unicode escapes"),
    ("RETURN 1 AS x; MATCH (n) RETURN n", "after the query"),
    ("RETURN " + "[" * 4000 + "]" * 4000, "tokens"),
    ("RETURN " + "[" * 60 + "]" * 60, "nested deeper"),
    ("RETURN " + "NOT " * 100 + "true", "nested deeper"),
    ("RETURN " + "+".join(["1"] * 300), "operands"),
    ("RETURN " + "x" * 20_001, "longer than"),
]


@pytest.mark.parametrize("query", ANCHORED)
def test_anchored_and_plain_reads_pass_the_grammar(query: str) -> None:
    check_grammar(query)


@pytest.mark.parametrize("query", NESTED_ESCAPES)
def test_nested_reads_that_do_not_start_from_a_bound_node_are_refused(query: str) -> None:
    with pytest.raises(CypherRefused, match="nested read is not scoped"):
        check_grammar(query)


@pytest.mark.parametrize(("query", "why"), REFUSED_CONSTRUCTS)
def test_constructs_outside_the_grammar_are_refused_with_a_reason(query: str, why: str) -> None:
    with pytest.raises(CypherRefused, match=why):
        check_grammar(query)
