"""The live code path (official SDK clients) against the local OpenAPI emulator."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from neo4j import Driver

from backend.emulator import Emulator
from backend.ingest import ingest_snapshot, ingest_transport
from graph_schema.store import delete_account
from loaders.snapshot import ReplayTransport, load_snapshot, parse_snapshot
from loaders.sync import collect_account, parse_collected_at
from loaders.transport import ApiError
from loaders.transport_live import LiveTransport, RecordingTransport
from tests.helpers.extra_products import with_extra_products
from tests.helpers.sample import SAMPLE_PATH, sample_doc, write_sample


@pytest.fixture(scope="module")
def emulator() -> Any:
    with Emulator(load_snapshot(SAMPLE_PATH)) as emu:
        yield emu


@pytest.fixture(scope="module")
def live(emulator: Emulator) -> LiveTransport:
    return LiveTransport(emulator.state.account_id, endpoint_override=emulator.endpoint)


def recorded(action: str, **params: Any) -> Any:
    for call in json.loads(SAMPLE_PATH.read_text())["calls"]:
        if call["action"] == action and all(call["params"].get(k) == v for k, v in params.items()):
            return call.get("response", call.get("error"))
    raise KeyError(action)


def test_rpc_response_is_the_recorded_body(live: LiveTransport) -> None:
    body = live.call("Ecs", "2014-05-26", "DescribeInstances", "cn-hangzhou",
                     {"RegionId": "cn-hangzhou", "PageNumber": 1, "PageSize": 100})
    assert body == recorded("DescribeInstances", RegionId="cn-hangzhou")


def test_json_in_json_survives(live: LiveTransport) -> None:
    body = live.call("Ram", "2015-05-01", "GetRole", "global", {"RoleName": "DeployRole"})
    assert isinstance(body["Role"]["AssumeRolePolicyDocument"], str)
    assert json.loads(body["Role"]["AssumeRolePolicyDocument"])["Statement"]


def test_recorded_errors_are_api_errors(live: LiveTransport) -> None:
    with pytest.raises(ApiError) as err:
        live.call("Ram", "2015-05-01", "GetLoginProfile", "global", {"UserName": "ci-bot"})
    assert err.value.code == "EntityNotExist.User.LoginProfile" and err.value.not_configured
    with pytest.raises(ApiError) as err:
        live.call("Oss", "", "GetBucketPolicy", "cn-shanghai", {"bucket": "acme-logs"})
    assert err.value.code == "NoSuchBucketPolicy" and err.value.http_status == 404


def test_oss_xml_bodies(live: LiveTransport) -> None:
    assert live.call("Oss", "", "ListBuckets", "global", {}) == recorded("ListBuckets")
    assert live.call("Oss", "", "GetBucketAcl", "cn-hangzhou", {"bucket": "acme-prod-data"}) == \
        recorded("GetBucketAcl", bucket="acme-prod-data")


def test_missing_call_names_it(live: LiveTransport) -> None:
    with pytest.raises(ApiError, match="GetRole"):
        live.call("Ram", "2015-05-01", "GetRole", "global", {"RoleName": "NoSuchRole"})


def test_sdk_path_yields_the_same_graph_as_replay(live: LiveTransport) -> None:
    snap = load_snapshot(SAMPLE_PATH)
    when = parse_collected_at(snap.collected_at)
    via_sdk = collect_account(live, collected_at=when, host_reports=snap.hosts)
    via_replay = collect_account(ReplayTransport(snap), collected_at=when, host_reports=snap.hosts)
    assert via_sdk.batch.nodes == via_replay.batch.nodes
    assert set(via_sdk.batch.rels) == set(via_replay.batch.rels)


def test_sdk_path_covers_slb_kms_and_sls() -> None:
    """KMS (RPC) and SLS (ROA, project hosts) through their official SDKs give the replay's graph, with no gap."""
    snap = parse_snapshot(with_extra_products(sample_doc()))
    when = parse_collected_at(snap.collected_at)
    with Emulator(snap) as emu:
        via_sdk = collect_account(LiveTransport(snap.account_id, endpoint_override=emu.endpoint), collected_at=when,
                                  host_reports=snap.hosts)
    via_replay = collect_account(ReplayTransport(snap), collected_at=when, host_reports=snap.hosts)
    for label in ("KmsKey", "SlsLogstore", "LoadBalancer"):
        assert via_sdk.batch.nodes[label] == via_replay.batch.nodes[label], label
    assert not [g for g in via_sdk.gaps if g.startswith(("Kms", "Sls", "Slb"))], via_sdk.gaps
    assert {"kms:cn-hangzhou", "sls:cn-hangzhou"} <= set(via_sdk.ok_scopes)


def test_recording_round_trip(emulator: Emulator, tmp_path: Path) -> None:
    snap = load_snapshot(SAMPLE_PATH)
    live = LiveTransport(snap.account_id, endpoint_override=emulator.endpoint)
    recorder = RecordingTransport(live, snap.account_id, "acme")
    collect_account(recorder, collected_at=parse_collected_at(snap.collected_at))
    out = tmp_path / "recorded.json.gz"
    recorder.write(out)
    again = load_snapshot(out)
    assert again.account_id == snap.account_id and len(again.calls) >= 140
    replayed = collect_account(ReplayTransport(again), collected_at=parse_collected_at(snap.collected_at))
    assert len(replayed.batch.nodes["EcsInstance"]) == 8


def test_live_ingest_into_neo4j_matches_snapshot_ingest(neo4j_driver: Driver, tmp_path: Path) -> None:
    a, b = (str(random.randint(10**15, 10**16 - 1)) for _ in range(2))
    try:
        ingest_snapshot(neo4j_driver, write_sample(tmp_path, a))
        snap = parse_snapshot(sample_doc(b))
        with Emulator(snap) as emu:
            ingest_transport(neo4j_driver, LiveTransport(b, endpoint_override=emu.endpoint),
                             collected_at=snap.collected_at, host_reports=snap.hosts)

        def shape(account: str) -> list[tuple[str, int]]:
            rows = neo4j_driver.execute_query(
                "MATCH (n {account_id: $a}) OPTIONAL MATCH (n)-[r]->() "
                "RETURN labels(n)[0] AS l, count(DISTINCT n) AS n, count(r) AS r ORDER BY l", a=account).records
            return [(x["l"], x["n"], x["r"]) for x in rows]

        assert shape(a) == shape(b)
    finally:
        delete_account(neo4j_driver, a)
        delete_account(neo4j_driver, b)


def test_write_calls_change_the_emulated_account() -> None:
    with Emulator(load_snapshot(SAMPLE_PATH)) as emu:
        live = LiveTransport(emu.state.account_id, endpoint_override=emu.endpoint)
        live.call("Ecs", "2014-05-26", "RevokeSecurityGroup", "cn-hangzhou", {
            "RegionId": "cn-hangzhou", "SecurityGroupId": "sg-bp1web0000000001", "IpProtocol": "TCP",
            "PortRange": "22/22", "SourceCidrIp": "0.0.0.0/0", "Policy": "accept", "Priority": "1"})
        perms = live.call("Ecs", "2014-05-26", "DescribeSecurityGroupAttribute", "cn-hangzhou",
                          {"RegionId": "cn-hangzhou", "SecurityGroupId": "sg-bp1web0000000001", "Direction": "all"})
        assert sorted(p["PortRange"] for p in perms["Permissions"]["Permission"]) == ["443/443", "80/80"]
        live.call("Oss", "", "PutBucketAcl", "cn-hangzhou", {"bucket": "acme-public-assets", "acl": "private"})
        assert "<Grant>private</Grant>" in live.call("Oss", "", "GetBucketAcl", "cn-hangzhou", {"bucket": "acme-public-assets"})
        live.call("Rds", "2014-08-15", "ModifySecurityIps", "cn-hangzhou", {
            "DBInstanceId": "rm-bp1legacy0000001", "DBInstanceIPArrayName": "default", "SecurityIps": "10.0.0.0/8"})
        live.call("ResourceManager", "2020-03-31", "CreateServiceLinkedRole", "global", {"ServiceName": "cspm.sas.aliyuncs.com"})
        assert [w["action"] for w in emu.writes] == ["RevokeSecurityGroup", "PutBucketAcl", "ModifySecurityIps",
                                                     "CreateServiceLinkedRole"]
        with pytest.raises(ApiError, match="does not implement"):
            live.call("Ecs", "2014-05-26", "DeleteInstance", "cn-hangzhou", {"InstanceId": "i-1"})
