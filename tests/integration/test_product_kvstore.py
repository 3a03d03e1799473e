"""KVStore (Redis) through its declaration: the recorded sample loads, its items decide it, the emulator serves it
to the SDK path, the synthetic generator produces it, and its assets are declared attack-path targets."""

from __future__ import annotations

from typing import Any

import pytest
from neo4j import Driver

from backend.emulator import Emulator
from backend.ingest import ingest_snapshot_object
from checks.catalog import CATALOG
from checks.scan import run_items
from graph_schema.store import delete_account
from loaders.products import api, products
from loaders.snapshot import ReplayTransport, parse_snapshot
from loaders.sync import collect_account, parse_collected_at
from loaders.synthetic import generate
from loaders.transport_live import LiveTransport
from tests.helpers.extra_products import with_product_samples
from tests.helpers.sample import sample_doc
from tests.integration.test_sample_account import AllowEverything

EXPECTED = {
    "ACS_KVSTORE_WhitelistPublic": {"r-bp1hardened00001": "PASS", "r-bp1openpublic001": "NOT_PASS",
                                    "r-bp1legacycache01": "PASS"},
    "ACS_KVSTORE_WhitelistWide": {"r-bp1hardened00001": "PASS", "r-bp1openpublic001": "PASS",
                                  "r-bp1legacycache01": "NOT_PASS"},
    "ACS_KVSTORE_PasswordFreeAccess": {"r-bp1hardened00001": "PASS", "r-bp1openpublic001": "NOT_PASS",
                                       "r-bp1legacycache01": "PASS"},
    "ACS_KVSTORE_PublicAndOpen": {"r-bp1hardened00001": "PASS", "r-bp1openpublic001": "NOT_PASS",
                                  "r-bp1legacycache01": "PASS"},
    "ACS_KVSTORE_SSLEnabled": {"r-bp1hardened00001": "PASS", "r-bp1openpublic001": "NOT_PASS",
                               "r-bp1legacycache01": "NOT_PASS"},
    "ACS_KVSTORE_BackupRetention": {"r-bp1hardened00001": "PASS", "r-bp1openpublic001": "NOT_PASS",
                                    "r-bp1legacycache01": "PASS"},
    "ACS_KVSTORE_ClassicNetwork": {"r-bp1hardened00001": "PASS", "r-bp1openpublic001": "PASS",
                                   "r-bp1legacycache01": "NOT_PASS"},
    "ACS_KVSTORE_EngineEndOfLife": {"r-bp1hardened00001": "PASS", "r-bp1openpublic001": "PASS",
                                    "r-bp1legacycache01": "NOT_PASS"},
}


def _doc(account_id: str | None = None) -> dict[str, Any]:
    return with_product_samples(sample_doc(account_id), ["kvstore"])


def test_items_decide_the_recorded_sample(neo4j_driver: Driver, fresh_account_id: str) -> None:
    snap = parse_snapshot(_doc(fresh_account_id))
    try:
        ingest_snapshot_object(neo4j_driver, snap)
        items = [i for i in CATALOG if i.id.startswith("ACS_KVSTORE_")]
        assert len(items) >= 8
        got: dict[str, dict[str, str]] = {}
        for r in run_items(neo4j_driver, fresh_account_id, items, AllowEverything(fresh_account_id)).results:
            got.setdefault(r.check_id, {})[r.asset_id] = r.status
        for item_id, statuses in EXPECTED.items():
            assert got[item_id] == statuses, item_id
    finally:
        delete_account(neo4j_driver, fresh_account_id)


def test_the_sdk_path_through_the_emulator_gives_the_replay_graph() -> None:
    snap = parse_snapshot(_doc())
    when = parse_collected_at(snap.collected_at)
    with Emulator(snap) as emu:
        via_sdk = collect_account(LiveTransport(snap.account_id, endpoint_override=emu.endpoint), collected_at=when)
    via_replay = collect_account(ReplayTransport(snap), collected_at=when)
    assert via_sdk.batch.nodes["KvstoreInstance"] == via_replay.batch.nodes["KvstoreInstance"]
    assert len(via_replay.batch.nodes["KvstoreInstance"]) == 3
    assert via_sdk.scopes["kvstore:cn-hangzhou"] == "ok"


def test_a_recording_without_kvstore_holds_none() -> None:
    snap = parse_snapshot(sample_doc())
    got = collect_account(ReplayTransport(snap), collected_at=parse_collected_at(snap.collected_at))
    assert not got.batch.nodes.get("KvstoreInstance")


def test_the_generator_records_kvstore() -> None:
    snap = parse_snapshot(generate(400))
    got = collect_account(ReplayTransport(snap), collected_at=parse_collected_at(snap.collected_at))
    rows = got.batch.nodes["KvstoreInstance"]
    assert rows and all(r["whitelist_collected"] and r["ssl_collected"] for r in rows.values())
    assert any(r["whitelist_open"] for r in rows.values()) and not all(r["whitelist_open"] for r in rows.values())


def test_declared_once_and_a_data_target() -> None:
    kvstore = next(p for p in products() if p.name == "kvstore")
    assert api("R-kvstore") is kvstore.apis[0] and kvstore.apis[0].version == "2015-01-01"
    target = next(r for r in kvstore.attack_roles if r.role == "target")
    assert target.label == "KvstoreInstance" and target.admin and target.exposed


@pytest.mark.parametrize("region", ["cn-shanghai"])
def test_a_region_without_instances_is_empty_through_the_emulator(region: str) -> None:
    snap = parse_snapshot(_doc())
    with Emulator(snap) as emu:
        body = LiveTransport(snap.account_id, endpoint_override=emu.endpoint).call(
            *api("R-kvstore").pair, "DescribeInstances", region, {"RegionId": region, "PageSize": 50})
    assert body["Instances"]["KVStoreInstance"] == [] and body["TotalCount"] == 0
