"""The read-only Cypher console: validated with EXPLAIN, run in a read transaction, tenant-scoped."""

from __future__ import annotations

import re
from typing import Any

from neo4j import Driver, unit_of_work
from neo4j.exceptions import ClientError, Neo4jError
from neo4j.graph import Node, Path, Relationship

MAX_ROWS = 1000
TIMEOUT_SECONDS = 30.0
# refused before the server sees them: admin/system procedures, file and network access, schema changes
FORBIDDEN = re.compile(
    r"\b(LOAD\s+CSV|CALL\s+(dbms|db\.create|db\.index|db\.schema\.|apoc\.(load|export|import|periodic|cypher|trigger|"
    r"systemdb|refactor|create|merge|nodes\.delete))|CREATE|MERGE|DELETE|DETACH|SET|REMOVE|DROP|ALTER|GRANT|DENY|"
    r"REVOKE|FOREACH|USE\s+system|SHOW\s+(USERS|PRIVILEGES|ROLES))\b",
    re.IGNORECASE,
)


class CypherRefused(ValueError):
    pass


def _strip_literals(query: str) -> str:
    """Remove string literals and comments so keywords inside them do not trigger a refusal."""
    query = re.sub(r"//[^\n]*|/\*.*?\*/", " ", query, flags=re.S)
    return re.sub(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|`[^`]*`", "''", query)


def validate_read_only(driver: Driver, query: str) -> None:
    if not query or not query.strip():
        raise CypherRefused("empty query")
    if len(query) > 20_000:
        raise CypherRefused("query longer than 20000 characters")
    bad = FORBIDDEN.search(_strip_literals(query))
    if bad:
        raise CypherRefused(f"read-only console: {bad.group(0).upper()} is not allowed")
    try:
        with driver.session() as session:
            summary = session.run("EXPLAIN " + query, account_id="0").consume()
    except Neo4jError as exc:
        raise CypherRefused(f"invalid Cypher: {exc.message}") from exc
    if summary.query_type not in ("r",):
        raise CypherRefused(f"read-only console: the query type is {summary.query_type!r}, only read queries run")


def _value(v: Any, account_id: str) -> Any:
    if isinstance(v, Node):
        return {"labels": sorted(v.labels), "properties": _props(dict(v)), "element_id": v.element_id}
    if isinstance(v, Relationship):
        return {"type": v.type, "properties": _props(dict(v)), "start": v.start_node.element_id if v.start_node else None,
                "end": v.end_node.element_id if v.end_node else None}
    if isinstance(v, Path):
        return {"nodes": [_value(n, account_id) for n in v.nodes], "relationships": [_value(r, account_id) for r in v.relationships]}
    if isinstance(v, list):
        return [_value(x, account_id) for x in v]
    if isinstance(v, dict):
        return {k: _value(x, account_id) for k, x in v.items()}
    if hasattr(v, "iso_format"):
        return v.iso_format()
    return v


def _props(props: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.iso_format() if hasattr(v, "iso_format") else v) for k, v in props.items() if not k.startswith("_")}


def _foreign(v: Any, account_id: str) -> bool:
    """Does a value carry a node/relationship of another tenant?"""
    if isinstance(v, Node):
        return v.get("account_id") not in (None, account_id)
    if isinstance(v, Relationship):
        return any(_foreign(n, account_id) for n in (v.start_node, v.end_node) if n is not None)
    if isinstance(v, Path):
        return any(_foreign(n, account_id) for n in v.nodes)
    if isinstance(v, list):
        return any(_foreign(x, account_id) for x in v)
    if isinstance(v, dict):
        return any(_foreign(x, account_id) for x in v.values())
    return False


def run_read_only(driver: Driver, account_id: str, query: str, limit: int = MAX_ROWS) -> dict[str, Any]:
    validate_read_only(driver, query)

    @unit_of_work(timeout=TIMEOUT_SECONDS)
    def work(tx: Any) -> tuple[list[str], list[dict[str, Any]], bool, int]:
        result = tx.run(query, account_id=account_id)
        keys = list(result.keys())
        rows: list[dict[str, Any]] = []
        truncated = False
        hidden = 0
        for record in result:
            if any(_foreign(record[k], account_id) for k in keys):
                hidden += 1
                continue
            if len(rows) >= limit:
                truncated = True
                break
            rows.append({k: _value(record[k], account_id) for k in keys})
        return keys, rows, truncated, hidden

    try:
        with driver.session(default_access_mode="READ") as session:
            keys, rows, truncated, hidden = session.execute_read(work)
    except ClientError as exc:
        raise CypherRefused(f"query failed: {exc.message}") from exc
    out: dict[str, Any] = {"columns": keys, "rows": rows}
    if truncated:
        out["truncated"] = True
    if hidden:
        out["hidden_rows"] = hidden
    return out
