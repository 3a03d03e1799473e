"""The plan rules of the tenant-scoped Cypher guard, on synthetic plans (the planner's choice between
an index seek and a scan + filter depends on statistics; both shapes must be judged right)."""

from __future__ import annotations

from typing import Any

import pytest

from checks.cypher_guard import CypherRefused, check_plan_scoped, strip_literals, tokenize


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
