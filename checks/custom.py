"""Custom check items: a user's read-only Cypher that returns the failing `asset_id`s of one asset type.

Validated before it is stored and as it runs (read-only, every graph read scoped to `$account_id` by its
plan — see checks/cypher_guard.py — and an `asset_id` column),
stored per account, and run by the scan engine with `$account_id` bound, like built-in items.
"""

from __future__ import annotations

import re
from typing import Any

from neo4j import Driver

from checks.cypher_guard import CypherRefused, validate_read_only
from checks.model import SEVERITIES, CheckItem, Example
from graph_schema.model import ASSET_LABELS

CUSTOM_ID = re.compile(r"^ACS_CUSTOM_[A-Za-z0-9]{1,60}$")


class CustomCheckError(ValueError):
    pass


def item_from(row: dict[str, Any]) -> CheckItem:
    return CheckItem(
        id=row["id"], title=row["title"], product="CUSTOM", asset_type=row["asset_type"], severity=row["severity"],
        tier="paid", fails="false", collected="true", description=row.get("description") or "",
        remediation=row.get("remediation") or "see the item's description", custom=True,
        custom_query=row["query"], refs={}, passing_example=Example({}), failing_example=Example({}),
    )


def add_custom_check(driver: Driver, account_id: str, check_id: str, title: str, asset_type: str, severity: str,
                     query: str, who: str, description: str = "") -> dict[str, Any]:
    if not CUSTOM_ID.match(check_id):
        raise CustomCheckError("custom check ids look like ACS_CUSTOM_<Name> (letters and digits)")
    if asset_type not in ASSET_LABELS:
        raise CustomCheckError(f"asset type must be one of {', '.join(sorted(ASSET_LABELS))}")
    if severity not in SEVERITIES:
        raise CustomCheckError(f"severity must be one of {', '.join(SEVERITIES)}")
    try:
        columns = validate_read_only(driver, query)
    except CypherRefused as exc:
        raise CustomCheckError(f"refused: {exc}") from exc
    if "asset_id" not in columns:
        raise CustomCheckError(f"the query must return a column named asset_id (it returns {columns})")
    row = {"id": check_id, "title": title, "asset_type": asset_type, "severity": severity, "query": query,
           "description": description}
    driver.execute_query(
        "MERGE (c:CustomCheck {uid: $uid}) SET c += $row, c.account_id = $account, c.who = $who, "
        "c.updated = toString(datetime()) "
        "CREATE (:AuditEntry {account_id: $account, at: datetime(), who: $who, action: 'custom_check.add', detail: $id})",
        uid=f"{account_id}:{check_id}", row=row, account=account_id, who=who, id=check_id,
    )
    return row


def custom_items(driver: Driver, account_id: str) -> list[CheckItem]:
    rows = driver.execute_query(
        "MATCH (c:CustomCheck {account_id: $account}) RETURN c {.*} AS c ORDER BY c.id", account=account_id,
        routing_="r").records
    return [item_from(dict(r["c"])) for r in rows]
