"""Every product's recorded sample (tests/data/products/<name>.json) added to the sample account, ingested into
the real Neo4j and scanned: each item the sample's `expected` names decides each asset as written there."""

from __future__ import annotations

import json

import pytest
from neo4j import Driver

from backend.ingest import ingest_snapshot_object
from checks.catalog import BY_ID
from checks.scan import run_items
from graph_schema.store import delete_account
from loaders.snapshot import parse_snapshot
from tests.helpers.extra_products import PRODUCT_SAMPLES, with_product_samples
from tests.helpers.sample import sample_doc
from tests.integration.test_sample_account import AllowEverything

SAMPLES = sorted(p.stem for p in PRODUCT_SAMPLES.glob("*.json"))


@pytest.mark.parametrize("name", SAMPLES)
def test_the_sample_is_decided_as_expected(neo4j_driver: Driver, fresh_account_id: str, name: str) -> None:
    sample = json.loads((PRODUCT_SAMPLES / f"{name}.json").read_text().replace("{account_id}", fresh_account_id))
    expected: dict[str, dict[str, str]] = sample["expected"]
    assert expected, f"{name}: the sample names no expected result"
    try:
        ingest_snapshot_object(neo4j_driver, parse_snapshot(with_product_samples(sample_doc(fresh_account_id), [name])))
        items = [BY_ID[item_id] for item_id in expected]
        got: dict[str, dict[str, str]] = {}
        for r in run_items(neo4j_driver, fresh_account_id, items, AllowEverything(fresh_account_id)).results:
            got.setdefault(r.check_id, {})[r.asset_id] = r.status
        for item_id, statuses in expected.items():
            assert got.get(item_id) == statuses, item_id
    finally:
        delete_account(neo4j_driver, fresh_account_id)
