"""Every check item, table-driven on the real Neo4j: its passing example must PASS, its failing example
must be NOT_PASS, and the passing example without the data the `collected` predicate reads must be
NOT_CHECK (never PASS).

An example is a node of the item's asset type with the example's properties (`id` may be given; it
defaults to `asset-1`), plus its related nodes: each `(rel, label, props)` creates a node of `label`
related to the asset by `(n)-[:rel]->(m)` (or `(m)-[:REL]->(n)` for `"<REL"`, or no relationship for
`""`); `props["_rel"]` holds the relationship's properties and `props["_then"]` further related nodes
of `m` itself (for two-hop facts such as instance → role → escalation).
"""

from __future__ import annotations

import random
import re
from typing import Any

import pytest
from neo4j import Driver

from checks.catalog import CATALOG
from checks.model import CheckItem, Example
from checks.scan import _read_rows, evaluate_rows

Related = tuple[tuple[str, str, dict[str, Any]], ...]


class Builder:
    def __init__(self, driver: Driver, account: str):
        self.driver = driver
        self.account = account
        self.count = 0

    def node(self, label: str, props: dict[str, Any]) -> str:
        node_id = str(props.get("id") or f"rel-{self.count}")
        uid = f"{self.account}:{node_id}" if "id" in props else f"{self.account}:rel-{self.count}"
        self.count += 1
        row = {**props, "id": node_id, "uid": uid, "account_id": self.account}
        if label == "Account":
            row["arn"] = f"acs:ram::{self.account}:root"
        self.driver.execute_query(f"CREATE (n:{label}) SET n = $row", row=row)
        return uid

    def related(self, uid: str, label: str, related: Related) -> None:
        for rel, other_label, rprops in related:
            props = {k: v for k, v in rprops.items() if k not in ("_rel", "_then")}
            other = self.node(other_label, props)
            if rel:
                rel_type = rel.lstrip("<")
                pattern = f"(m)-[r:{rel_type}]->(n)" if rel.startswith("<") else f"(n)-[r:{rel_type}]->(m)"
                self.driver.execute_query(
                    f"MATCH (n:{label} {{uid: $uid}}), (m:{other_label} {{uid: $other}}) CREATE {pattern} SET r = $rp",
                    uid=uid, other=other, rp=dict(rprops.get("_rel", {})),
                )
            self.related(other, other_label, tuple(rprops.get("_then", ())))


def build(driver: Driver, item: CheckItem, props: dict[str, Any], related: Related) -> str:
    account = str(random.randint(10**15, 10**16 - 1))
    builder = Builder(driver, account)
    node_id = "acct-root" if item.asset_type == "Account" else "asset-1"
    uid = builder.node(item.asset_type, {"id": node_id, **props, "supported": True})
    builder.related(uid, item.asset_type, related)
    return account


def status_of(driver: Driver, item: CheckItem, props: dict[str, Any], related: Related = ()) -> str:
    account = build(driver, item, props, related)
    try:
        rows = [dict(r) for r in driver.execute_query(item.evaluation_query(), account_id=account, asset_id=None).records]
        # the scan reads the population grouped by outcome: it must expand to exactly these rows
        assert _read_rows(driver, item, account, None) == rows, item.id
        results = evaluate_rows(item, rows, True, set())
        assert len(results) == 1, f"{item.id}: the example is not in the item's population ({results})"
        return results[0].status
    finally:
        driver.execute_query("MATCH (n {account_id: $a}) DETACH DELETE n", a=account)


def collected_props(item: CheckItem) -> set[str]:
    """The node properties the `collected` predicate reads."""
    return set(re.findall(r"\bn\.([A-Za-z_][A-Za-z0-9_]*)", item.collected))


def test_every_item_is_exercised() -> None:
    assert len(CATALOG) >= 120
    for item in CATALOG:
        assert isinstance(item.passing_example, Example) and isinstance(item.failing_example, Example), item.id


@pytest.mark.parametrize("item", CATALOG, ids=[i.id for i in CATALOG])
def test_item_passes_fails_and_never_passes_without_data(neo4j_driver: Driver, item: CheckItem) -> None:
    passing, failing = item.passing_example, item.failing_example
    assert passing is not None and failing is not None
    assert status_of(neo4j_driver, item, dict(passing.props), passing.related) == "PASS"
    assert status_of(neo4j_driver, item, dict(failing.props), failing.related) == "NOT_PASS"
    reads = collected_props(item)
    if reads:
        # the data the decision needs is absent: the passing example must not pass any more
        stripped = {k: v for k, v in passing.props.items() if k not in reads}
        assert status_of(neo4j_driver, item, stripped, passing.related) == "NOT_CHECK"
        if item.applies.strip() == "true":
            assert status_of(neo4j_driver, item, {}) == "NOT_CHECK"


def test_items_over_related_data_never_pass_without_it(neo4j_driver: Driver) -> None:
    """Items whose `collected` reads a related node (not `n.…`): without it they are NOT_CHECK."""
    from checks.catalog import BY_ID

    patches = BY_ID["ACS_ECS_InstanceOsPatches"]
    assert status_of(neo4j_driver, patches, {}) == "NOT_CHECK"  # no host agent on the instance
    assert status_of(neo4j_driver, patches, {}, (("<RUNS_ON", "Host", {"missing_patch_count": 0}),)) == "NOT_CHECK"
