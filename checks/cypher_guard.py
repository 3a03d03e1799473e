"""Read-only, tenant-scoped Cypher for the console and for custom check items.

Three layers, all before anything runs:
1. a keyword screen (string literals and comments removed, backquoted names unquoted) for a clear
   early refusal of writes, admin procedures and file access;
2. the server's verdict: `EXPLAIN` → the query type must be read ('r');
3. the plan: every operator that *starts* reading the graph (scans, id seeks, the count store,
   procedures, LOAD CSV, SHOW commands) is refused unless it is an index seek on
   `account_id = $account_id`, or a node scan whose direct parent filters on that conjunct (the
   planner picks either, by statistics; equivalent plans return the same rows, so checking the one
   EXPLAIN shows is enough). Every other operator only transforms rows or expands from nodes already bound, and
   no relationship joins two tenants (the only nodes without `account_id` are API tokens, which
   have no relationships), so whatever the query reaches belongs to `$account_id`. Operators not
   known to be safe are refused (fail closed).

Queries then run in READ transactions with `$account_id` bound by Skypath, never by the user.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from neo4j import Driver
from neo4j.exceptions import Neo4jError

FORBIDDEN = re.compile(
    r"\b(LOAD\s+CSV|CALL\s+(dbms|db\.create|db\.index|db\.schema\.|apoc\.(load|export|import|periodic|cypher|trigger|"
    r"systemdb|refactor|create|merge|nodes\.delete))|CREATE|MERGE|DELETE|DETACH|SET|REMOVE|DROP|ALTER|GRANT|DENY|"
    r"REVOKE|FOREACH|USE\s+system|SHOW\s+(USERS|PRIVILEGES|ROLES))\b",
    re.IGNORECASE,
)

# operators that only transform rows or expand from variables already bound (Neo4j 5 names; the expand
# families come in variants such as VarLengthExpand(Pruning,BFS,All): matched by the name before "(")
ROW_OPERATORS = frozenset({
    "ProduceResults", "Projection", "Filter", "Expand", "OptionalExpand", "VarLengthExpand", "BFSPruningVarExpand",
    "ShortestPath", "StatefulShortestPath", "Trail", "Repeat", "NullifyMetadata", "Apply", "SemiApply",
    "AntiSemiApply", "LetSemiApply", "LetAntiSemiApply", "SelectOrSemiApply", "SelectOrAntiSemiApply",
    "LetSelectOrSemiApply", "LetSelectOrAntiSemiApply", "RollUpApply", "ConditionalApply", "AntiConditionalApply",
    "Optional", "CartesianProduct", "NodeHashJoin", "ValueHashJoin", "NodeLeftOuterHashJoin", "NodeRightOuterHashJoin",
    "Union", "OrderedUnion", "Distinct", "OrderedDistinct", "EagerAggregation", "OrderedAggregation", "Sort",
    "PartialSort", "Top", "PartialTop", "Limit", "ExhaustiveLimit", "Skip", "Unwind", "PartialUnwind",
    "CacheProperties", "Eager", "EmptyResult", "EmptyRow", "Argument", "ArgumentTracker", "ProjectEndpoints",
    "TriadicSelection", "TriadicBuild", "TriadicFilter", "AssertSameNode", "AssertSameRelationship", "Anti",
})
INDEX_SEEKS = frozenset({"NodeIndexSeek", "NodeUniqueIndexSeek", "NodeIndexSeekByRange", "NodeUniqueIndexSeekByRange"})
SCANS = frozenset({"NodeByLabelScan", "AllNodesScan", "NodeIndexScan"})
# the variable a node scan binds: "n", "n:Label", "RANGE INDEX n:Label(prop) WHERE …"
SCAN_VARIABLE = re.compile(r"^(?:\w+ INDEX )?`?(\w+)`?(?::|$|\s)")
SCOPED_SEEK = re.compile(r"\(account_id\) WHERE account_id = \$account_id(?:,|$)")
SCOPE_HINT = "start every pattern from tenant nodes, e.g. MATCH (n:EcsInstance {account_id: $account_id})"


class CypherRefused(ValueError):
    pass


def strip_literals(query: str) -> str:
    """Remove string literals and comments, and unquote `names`, so keywords are screened as the server reads them."""
    query = re.sub(r"//[^\n]*|/\*.*?\*/", " ", query, flags=re.S)
    query = re.sub(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"", "''", query)
    return re.sub(r"`([^`]*)`", lambda m: re.sub(r"\s+", "_", m.group(1)), query)


def _operators(plan: dict[str, Any], parent: dict[str, Any] | None = None) -> Iterator[tuple[dict[str, Any], dict[str, Any] | None]]:
    yield plan, parent
    for child in plan.get("children", []):
        yield from _operators(child, plan)


def _name(op: dict[str, Any]) -> str:
    return str(op.get("operatorType", "")).split("@")[0]


def _details(op: dict[str, Any]) -> str:
    args = op.get("args") or op.get("arguments") or {}
    return str(args.get("Details", ""))


def _conjuncts(predicate: str) -> list[str]:
    """Split a plan predicate on top-level AND (outside parentheses, brackets and quotes)."""
    parts, depth, start, quote = [], 0, 0, ""
    i = 0
    while i < len(predicate):
        ch = predicate[i]
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"`":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif depth == 0 and predicate.startswith(" AND ", i):
            parts.append(predicate[start:i])
            start = i + 5
            i += 4
        i += 1
    parts.append(predicate[start:])
    return [p.strip() for p in parts]


def _scan_is_scoped(scan: dict[str, Any], parent: dict[str, Any] | None) -> bool:
    """A node scan is scoped when its direct parent keeps only rows with `<var>.account_id = $account_id`."""
    found = SCAN_VARIABLE.match(_details(scan).strip())
    if parent is None or _name(parent) != "Filter" or not found:
        return False
    variable = found.group(1)
    wanted = {f"{variable}.account_id = $account_id", f"cache[{variable}.account_id] = $account_id"}
    return any(c in wanted for c in _conjuncts(_details(parent)))


def check_plan_scoped(plan: dict[str, Any]) -> None:
    """Raise CypherRefused unless every graph read in the plan starts from `$account_id`'s nodes."""
    for op, parent in _operators(plan):
        name = _name(op)
        if name.split("(")[0] in ROW_OPERATORS:
            continue
        if name in INDEX_SEEKS and SCOPED_SEEK.search(_details(op)):
            continue
        if name in SCANS and _scan_is_scoped(op, parent):
            continue
        if name in INDEX_SEEKS or name in SCANS:
            raise CypherRefused(f"tenant scope: the query reads nodes that are not scoped to $account_id "
                                f"({name} {_details(op)}); {SCOPE_HINT}")
        raise CypherRefused(f"tenant scope: the plan operator {name} ({_details(op) or 'no details'}) is not allowed "
                            f"in tenant-scoped queries; {SCOPE_HINT}")


def validate_read_only(driver: Driver, query: str) -> list[str]:
    """Raise CypherRefused unless the query is a tenant-scoped read; return its result columns."""
    if not query or not query.strip():
        raise CypherRefused("empty query")
    if len(query) > 20_000:
        raise CypherRefused("query longer than 20000 characters")
    bad = FORBIDDEN.search(strip_literals(query))
    if bad:
        raise CypherRefused(f"read-only: {bad.group(0).upper()} is not allowed")
    try:
        with driver.session() as session:
            result = session.run("EXPLAIN " + query, account_id="0", asset_id="")
            keys = list(result.keys())
            summary = result.consume()
    except Neo4jError as exc:
        raise CypherRefused(f"invalid Cypher: {exc.message}") from exc
    if summary.query_type not in ("r",):
        raise CypherRefused(f"read-only: the query type is {summary.query_type!r}, only read queries run")
    if not summary.plan:
        raise CypherRefused("the server returned no plan to check the query against")
    check_plan_scoped(summary.plan)
    return keys
