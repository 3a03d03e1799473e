"""Build one check item's example asset on the real Neo4j and evaluate the item on it (table-driven item tests)."""

from __future__ import annotations

import random
from typing import Any

from neo4j import Driver

from checks.model import CheckItem
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
