"""Every check item, table-driven on the real Neo4j: a passing and a failing minimal graph, and a
node without the item's data must come out NOT_CHECK (never PASS)."""

from __future__ import annotations

import random
from typing import Any

import pytest
from neo4j import Driver

from checks.catalog import CATALOG
from checks.model import CheckItem, Example
from checks.scan import evaluate_rows


def build(driver: Driver, item: CheckItem, example: Example | None) -> str:
    account = str(random.randint(10**15, 10**16 - 1))
    props: dict[str, Any] = dict(example.props) if example else {}
    node_id = "acct-root" if item.asset_type == "Account" else "asset-1"
    props.update(account_id=account, id=node_id, uid=f"{account}:{node_id}", supported=True)
    if item.asset_type == "Account":
        props["arn"] = f"acs:ram::{account}:root"
    driver.execute_query(f"CREATE (n:{item.asset_type}) SET n = $props", props=props)
    for k, (rel, label, rprops) in enumerate(example.related if example else ()):
        rel_props = dict(rprops.get("_rel", {}))
        other = {**{key: v for key, v in rprops.items() if key != "_rel"}, "account_id": account, "uid": f"{account}:rel-{k}"}
        other.setdefault("id", f"rel-{k}")
        if not rel:
            driver.execute_query(f"CREATE (m:{label}) SET m = $p", p=other)
            continue
        rel_type = rel.lstrip("<")
        pattern = f"(m)-[r:{rel_type}]->(n)" if rel.startswith("<") else f"(n)-[r:{rel_type}]->(m)"
        driver.execute_query(
            f"MATCH (n:{item.asset_type} {{uid: $uid}}) CREATE (m:{label}) SET m = $p CREATE {pattern} SET r = $rp",
            uid=props["uid"], p=other, rp=rel_props,
        )
    return account


def status_of(driver: Driver, item: CheckItem, example: Example | None) -> str:
    account = build(driver, item, example)
    try:
        rows = driver.execute_query(item.evaluation_query(), account_id=account, asset_id=None).records
        results = evaluate_rows(item, [dict(r) for r in rows], True, set())
        assert len(results) == 1, results
        return results[0].status
    finally:
        driver.execute_query("MATCH (n {account_id: $a}) DETACH DELETE n", a=account)


@pytest.mark.parametrize("item", CATALOG, ids=[i.id for i in CATALOG])
def test_item_passes_and_fails_as_declared(neo4j_driver: Driver, item: CheckItem) -> None:
    assert item.passing_example is not None and item.failing_example is not None
    assert status_of(neo4j_driver, item, item.passing_example) == "PASS"
    assert status_of(neo4j_driver, item, item.failing_example) == "NOT_PASS"
    if item.collected.strip() != "true" and item.applies.strip() == "true":
        assert status_of(neo4j_driver, item, None) == "NOT_CHECK"
