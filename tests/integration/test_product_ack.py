"""ACK (a ROA product through the generic OpenAPI client) through its declaration: the SDK path through the
emulator gives the replay's clusters, and its container (KSPM) items run only on Ultimate with CSPM."""

from __future__ import annotations

import pytest

from backend.billing import Plan, decide
from backend.emulator import Emulator
from checks.catalog import CATALOG
from loaders.snapshot import ReplayTransport, parse_snapshot
from loaders.sync import collect_account, parse_collected_at
from loaders.transport_live import LiveTransport
from tests.helpers.extra_products import with_product_samples
from tests.helpers.sample import sample_doc

ACK_ITEMS = [i for i in CATALOG if i.product == "ACK"]


def test_the_sdk_path_through_the_emulator_gives_the_replay_clusters() -> None:
    snap = parse_snapshot(with_product_samples(sample_doc(), ["ack"]))
    when = parse_collected_at(snap.collected_at)
    with Emulator(snap) as emu:
        via_sdk = collect_account(LiveTransport(snap.account_id, endpoint_override=emu.endpoint), collected_at=when)
    via_replay = collect_account(ReplayTransport(snap), collected_at=when)
    clusters = via_replay.batch.nodes["AckCluster"]
    assert len(clusters) == 2 and all(c["detail_collected"] and c["checks_collected"] for c in clusters.values())
    assert via_sdk.batch.nodes["AckCluster"] == clusters
    assert not [g for g in via_sdk.gaps if g.startswith("CS:")], via_sdk.gaps


@pytest.mark.parametrize(("edition", "cspm", "allowed"), [
    ("ultimate", True, True), ("enterprise", True, False), ("advanced", True, False), ("ultimate", False, False),
])
def test_container_items_need_ultimate_with_cspm(edition: str, cspm: bool, allowed: bool) -> None:
    assert len(ACK_ITEMS) >= 10 and all(i.kspm for i in ACK_ITEMS)
    plan = Plan("1234567890123456", model="payg", edition=edition, cspm=cspm)
    for item in ACK_ITEMS:
        decision = decide(plan, "scan", item)
        assert decision.allowed is allowed, (item.id, decision)
    if not allowed and cspm:
        assert "Ultimate" in decide(plan, "scan", ACK_ITEMS[0]).reason
