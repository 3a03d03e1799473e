"""The read-only Cypher console: every graph read confined to the token's account by its plan
(checks/cypher_guard.py), run in a read transaction with a timeout and a row limit."""

from __future__ import annotations

from typing import Any

from neo4j import Driver, unit_of_work
from neo4j.exceptions import ClientError
from neo4j.graph import Node, Path, Relationship

from checks.cypher_guard import CypherRefused
from checks.cypher_guard import validate_read_only as guard_validate

__all__ = ["CypherRefused", "run_read_only", "validate_read_only"]

MAX_ROWS = 1000
TIMEOUT_SECONDS = 30.0


def validate_read_only(driver: Driver, query: str) -> None:
    guard_validate(driver, query)


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
    """Does a value carry a node/relationship that is not the tenant's? (Defence in depth: the plan check
    of cypher_guard already confines every read to `$account_id`.)"""
    if isinstance(v, Node):
        return v.get("account_id") != account_id
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
