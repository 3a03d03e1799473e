"""Read-only Cypher: refuse writes, admin procedures, file access and schema changes before running.

Used by the Cypher console and by custom check items. Two layers: a keyword screen (after string
literals and comments are removed) and the server's own verdict (`EXPLAIN` → query type must be 'r');
queries then run in READ transactions with `$account_id` bound.
"""

from __future__ import annotations

import re

from neo4j import Driver
from neo4j.exceptions import Neo4jError

FORBIDDEN = re.compile(
    r"\b(LOAD\s+CSV|CALL\s+(dbms|db\.create|db\.index|db\.schema\.|apoc\.(load|export|import|periodic|cypher|trigger|"
    r"systemdb|refactor|create|merge|nodes\.delete))|CREATE|MERGE|DELETE|DETACH|SET|REMOVE|DROP|ALTER|GRANT|DENY|"
    r"REVOKE|FOREACH|USE\s+system|SHOW\s+(USERS|PRIVILEGES|ROLES))\b",
    re.IGNORECASE,
)


class CypherRefused(ValueError):
    pass


def strip_literals(query: str) -> str:
    """Remove string literals and comments so keywords inside them do not trigger a refusal."""
    query = re.sub(r"//[^\n]*|/\*.*?\*/", " ", query, flags=re.S)
    return re.sub(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|`[^`]*`", "''", query)


def validate_read_only(driver: Driver, query: str) -> list[str]:
    """Raise CypherRefused unless the query is a read; return its result columns."""
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
    return keys
