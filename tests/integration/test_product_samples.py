"""Every product's recorded sample (tests/data/products/<name>.json) added to the sample account, ingested into
the real Neo4j and scanned: each item the sample's `expected` names decides each asset as written there."""

from __future__ import annotations

import json

import pytest
from neo4j import Driver

from backend.emulator import Emulator
from backend.ingest import ingest_snapshot_object
from checks.catalog import BY_ID
from checks.scan import run_items
from graph_schema.store import delete_account
from loaders.products import products
from loaders.snapshot import ReplayTransport, parse_snapshot
from loaders.sync import collect_account, parse_collected_at
from loaders.transport_live import LiveTransport
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


@pytest.mark.parametrize("name", SAMPLES)
def test_the_sdk_path_through_the_emulator_gives_the_replay_graph(name: str) -> None:
    """Every product's calls through its official (or the generic OpenAPI) SDK client against the emulator."""
    snap = parse_snapshot(with_product_samples(sample_doc(), [name]))
    when = parse_collected_at(snap.collected_at)
    with Emulator(snap) as emu:
        via_sdk = collect_account(LiveTransport(snap.account_id, endpoint_override=emu.endpoint), collected_at=when,
                                  host_reports=snap.hosts)
    via_replay = collect_account(ReplayTransport(snap), collected_at=when, host_reports=snap.hosts)
    product = next(p for p in products() if p.name == name)
    for label in {n.label for n in product.nodes}:
        assert via_sdk.batch.nodes.get(label) == via_replay.batch.nodes.get(label), label
    codes = tuple(f"{api.code}:" for api in product.apis)
    recorded = {f"{c['product']}:{c['action']} in {c['region']}:"
                for c in json.loads((PRODUCT_SAMPLES / f"{name}.json").read_text())["calls"]}
    # what the sample recorded answers through the SDK as in replay (calls it does not hold may fail either way)
    assert not [g for g in via_sdk.gaps if g.startswith(codes) and g.startswith(tuple(recorded))], via_sdk.gaps
