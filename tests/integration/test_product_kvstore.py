"""KVStore (Redis) through its declaration (its items decide its recorded sample in test_product_samples.py): the
emulator serves it to the SDK path, the synthetic generator produces it, and its assets are declared attack-path targets."""

from __future__ import annotations

from typing import Any

import pytest

from backend.emulator import Emulator
from loaders.products import api, products
from loaders.snapshot import ReplayTransport, parse_snapshot
from loaders.sync import collect_account, parse_collected_at
from loaders.synthetic import generate
from loaders.transport_live import LiveTransport
from tests.helpers.extra_products import with_product_samples
from tests.helpers.sample import sample_doc


def _doc(account_id: str | None = None) -> dict[str, Any]:
    return with_product_samples(sample_doc(account_id), ["kvstore"])


def test_the_sdk_path_through_the_emulator_gives_the_replay_graph() -> None:
    snap = parse_snapshot(_doc())
    when = parse_collected_at(snap.collected_at)
    with Emulator(snap) as emu:
        via_sdk = collect_account(LiveTransport(snap.account_id, endpoint_override=emu.endpoint), collected_at=when)
    via_replay = collect_account(ReplayTransport(snap), collected_at=when)
    assert via_sdk.batch.nodes["KvstoreInstance"] == via_replay.batch.nodes["KvstoreInstance"], ([s for s in via_sdk.scopes if "kv" in s], [g for g in via_sdk.gaps if "kv" in g.lower()])
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
