"""The read-only Cypher console: every graph read confined to the token's account (checks/cypher_guard.py),
run once in a read transaction with a server-side timeout and a row limit. Viewers do not reach the audit log
(`AuditEntry`), which the API gives operators only."""

from __future__ import annotations

import os
from typing import Any

from neo4j import Driver, Result
from neo4j.graph import Node, Path, Relationship

from checks.cypher_guard import CypherRefused, run_tenant_read
from checks.cypher_guard import validate_read_only as guard_validate

__all__ = ["CypherRefused", "hidden_labels_for", "run_read_only", "validate_read_only"]

MAX_ROWS = 1000
TIMEOUT_SECONDS = float(os.environ.get("SKYPATH_CONSOLE_TIMEOUT", "30"))  # server-side, per console query
AUDIT_LABELS = frozenset({"AuditEntry"})


def hidden_labels_for(can_read_audit: bool) -> frozenset[str]:
    return frozenset() if can_read_audit else AUDIT_LABELS


def validate_read_only(driver: Driver, query: str, hidden_labels: frozenset[str] = frozenset()) -> None:
    guard_validate(driver, query, hidden_labels)


def _value(v: Any) -> Any:
    if isinstance(v, Node):
        return {"labels": sorted(v.labels), "properties": _props(dict(v)), "element_id": v.element_id}
    if isinstance(v, Relationship):
        return {"type": v.type, "properties": _props(dict(v)), "start": v.start_node.element_id if v.start_node else None,
                "end": v.end_node.element_id if v.end_node else None}
    if isinstance(v, Path):
        return {"nodes": [_value(n) for n in v.nodes], "relationships": [_value(r) for r in v.relationships]}
    if isinstance(v, list):
        return [_value(x) for x in v]
    if isinstance(v, dict):
        return {k: _value(x) for k, x in v.items()}
    if hasattr(v, "iso_format"):
        return v.iso_format()
    return v


def _props(props: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.iso_format() if hasattr(v, "iso_format") else v) for k, v in props.items() if not k.startswith("_")}


def _foreign(v: Any, account_id: str, hidden_labels: frozenset[str]) -> bool:
    """Does a value carry a node/relationship that is not the tenant's, or of a hidden label? (Defence in
    depth: the guard already confines every read to `$account_id`.)"""
    if isinstance(v, Node):
        return v.get("account_id") != account_id or bool(v.labels & hidden_labels)
    if isinstance(v, Relationship):
        return any(_foreign(n, account_id, hidden_labels) for n in (v.start_node, v.end_node) if n is not None)
    if isinstance(v, Path):
        return any(_foreign(n, account_id, hidden_labels) for n in v.nodes)
    if isinstance(v, list):
        return any(_foreign(x, account_id, hidden_labels) for x in v)
    if isinstance(v, dict):
        return any(_foreign(x, account_id, hidden_labels) for x in v.values())
    return False


def run_read_only(driver: Driver, account_id: str, query: str, limit: int = MAX_ROWS,
                  hidden_labels: frozenset[str] = frozenset(), timeout: float = TIMEOUT_SECONDS) -> dict[str, Any]:
    validate_read_only(driver, query, hidden_labels)

    def read(result: Result) -> tuple[list[str], list[dict[str, Any]], bool, int]:
        keys = list(result.keys())
        rows: list[dict[str, Any]] = []
        truncated = False
        hidden = 0
        for record in result:
            if any(_foreign(record[k], account_id, hidden_labels) for k in keys):
                hidden += 1
                continue
            if len(rows) >= limit:
                truncated = True
                break
            rows.append({k: _value(record[k]) for k in keys})
        return keys, rows, truncated, hidden

    keys, rows, truncated, hidden = run_tenant_read(driver, query, account_id, timeout, read)
    out: dict[str, Any] = {"columns": keys, "rows": rows}
    if truncated:
        out["truncated"] = True
    if hidden:
        out["hidden_rows"] = hidden
    return out
