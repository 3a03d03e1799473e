"""Collect → transform on the sample snapshot and on hand-made edge cases (no database)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from loaders.base import CollectError
from loaders.snapshot import ReplayTransport, SnapshotError, load_snapshot, parse_snapshot
from loaders.sync import collect_account, parse_collected_at
from loaders.transport import MissingCallError
from tests.helpers.extra_products import CMK_ID, LB_ID, PROJECT, SERVICE_KEY_ID, with_extra_products
from tests.helpers.sample import SAMPLE_PATH

SAMPLE = SAMPLE_PATH
SAMPLE_DOC: dict[str, Any] = json.loads(SAMPLE.read_text())
ACCOUNT = SAMPLE_DOC["account_id"]


def collect(doc: dict[str, Any]) -> Any:
    snap = parse_snapshot(doc)
    return collect_account(ReplayTransport(snap), account_name=snap.account_name,
                           collected_at=parse_collected_at(snap.collected_at), host_reports=snap.hosts)


@pytest.fixture(scope="module")
def sample() -> Any:
    return collect(copy.deepcopy(SAMPLE_DOC))


EXPECTED_COUNTS = {"EcsInstance": 8, "SecurityGroup": 6, "Disk": 7, "Eip": 2, "OssBucket": 5, "RdsInstance": 4,
                   "RamUser": 6, "RamGroup": 2, "RamRole": 7, "RamPolicy": 12, "AccessKey": 5, "Trail": 1, "Host": 3}


@pytest.mark.parametrize(("label", "count"), sorted(EXPECTED_COUNTS.items()))
def test_sample_counts(sample: Any, label: str, count: int) -> None:
    assert len(sample.batch.nodes[label]) == count


def test_identifiers_follow_the_spec(sample: Any) -> None:
    nodes = sample.batch.nodes
    assert f"acs:ram::{ACCOUNT}:user/alice" in nodes["RamUser"]
    assert f"acs:ram::{ACCOUNT}:group/admins" in nodes["RamGroup"]
    assert f"acs:ram::{ACCOUNT}:role/appserverrole" in nodes["RamRole"]
    assert "Custom/ops-admin" in nodes["RamPolicy"] and "System/AdministratorAccess" in nodes["RamPolicy"]
    assert all(k.startswith("LTAI") for k in nodes["AccessKey"])
    assert all(e.startswith("eip-") for e in nodes["Eip"])


def test_eip_bound_only_through_describe_eip_addresses_makes_instance_public(sample: Any) -> None:
    batch = sample.batch
    bound = [e for e in batch.nodes["Eip"].values() if e.get("instance_id")]
    assert bound, "the sample binds one EIP only through DescribeEipAddresses"
    inst = batch.nodes["EcsInstance"][bound[0]["instance_id"]]
    assert inst["is_public"] and inst["eip_ips"]


def test_not_configured_errors_are_facts_and_unsupported_regions_marked(sample: Any) -> None:
    buckets = sample.batch.nodes["OssBucket"]
    assert buckets["acme-public-assets"]["policy_collected"] is True
    assert "policy_document" not in buckets["acme-public-assets"]
    assert buckets["acme-public-assets"]["encryption_algorithm"] == ""
    assert sample.batch.nodes["RdsInstance"]["rm-p0wsyd000000001"]["supported"] is False
    assert sample.batch.nodes["RdsInstance"]["rm-bp1legacy0000001"]["unsupported_checks"] == ["ACS_RDS_DBInstanceHAConfig"]
    assert sample.batch.nodes["RamUser"][f"acs:ram::{ACCOUNT}:user/ci-bot"]["has_login_profile"] is False


def test_denied_call_is_a_gap_not_a_fact() -> None:
    doc = copy.deepcopy(SAMPLE_DOC)
    for call in doc["calls"]:
        if call["action"] == "GetBucketAcl" and call["params"]["bucket"] == "acme-public-assets":
            call.pop("response")
            call["error"] = {"code": "AccessDenied", "message": "denied", "http_status": 403}
        if call["action"] == "DescribeInstances" and call["region"] == "cn-shanghai":
            call.pop("response")
            call["error"] = {"code": "Forbidden.RAM", "message": "no permission", "http_status": 403}
    result = collect(doc)
    assert result.batch.nodes["OssBucket"]["acme-public-assets"]["acl_collected"] is False
    assert result.scopes["ecs:cn-shanghai"] == "denied"
    assert "ecs:cn-shanghai" not in result.ok_scopes


def test_paging_with_another_page_size_replays() -> None:
    doc = copy.deepcopy(SAMPLE_DOC)
    calls = doc["calls"]
    idx = next(i for i, c in enumerate(calls) if c["action"] == "DescribeInstances" and c["region"] == "cn-hangzhou")
    first = calls[idx]
    instances = first["response"]["Instances"]["Instance"]
    page1, page2 = copy.deepcopy(first), copy.deepcopy(first)
    page1["params"].update(PageSize=2, PageNumber=1)
    page1["response"]["Instances"]["Instance"] = instances[:2]
    page2["params"].update(PageSize=2, PageNumber=2)
    page2["response"]["Instances"]["Instance"] = instances[2:]
    page2["response"]["PageNumber"] = 2
    calls[idx:idx + 1] = [page1, page2]
    result = collect(doc)
    assert len(result.batch.nodes["EcsInstance"]) == 8


def test_missing_call_is_an_error_naming_it() -> None:
    doc = copy.deepcopy(SAMPLE_DOC)
    doc["calls"] = [c for c in doc["calls"] if c["action"] != "DescribeDisks" or c["region"] != "cn-hangzhou"]
    with pytest.raises(MissingCallError, match="DescribeDisks in cn-hangzhou"):
        collect(doc)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.update(format="other/1"), "format"),
        (lambda d: d.pop("account_id"), "account_id"),
        (lambda d: d.update(account_id="abc"), "account_id"),
        (lambda d: d.update(calls={}), "calls"),
        (lambda d: d["calls"].append({"product": "Ecs", "action": "X"}), "region"),
        (lambda d: d["calls"].append({"product": "Ecs", "action": "X", "region": "r", "params": []}), "params"),
        (lambda d: d["calls"].append({"product": "Ecs", "action": "X", "region": "r"}), "response"),
    ],
)
def test_malformed_envelope(mutate: Any, message: str) -> None:
    doc = copy.deepcopy(SAMPLE_DOC)
    mutate(doc)
    with pytest.raises(SnapshotError, match=message):
        parse_snapshot(doc)


def _break(action: str, fn: Any) -> dict[str, Any]:
    doc = copy.deepcopy(SAMPLE_DOC)
    for call in doc["calls"]:
        if call["action"] == action and "response" in call:
            call["response"] = fn(call["response"])
            break
    return doc


@pytest.mark.parametrize(
    ("action", "fn", "message"),
    [
        ("GetPolicyVersion", lambda r: {**r, "PolicyVersion": {**r["PolicyVersion"], "PolicyDocument": "{not json"}},
         "not valid JSON"),
        ("GetBucketAcl", lambda r: "<AccessControlPolicy><unclosed>", "not valid XML"),
        ("DescribeInstances", lambda r: {**r, "Instances": {"Instance": "oops"}}, "must be a list"),
        ("DescribeBackupPolicy", lambda r: {**r, "BackupRetentionPeriod": "seven"}, "BackupRetentionPeriod"),
        ("GetRole", lambda r: {**r, "Role": {**r["Role"], "AssumeRolePolicyDocument": 42}}, "JSON string"),
    ],
)
def test_malformed_responses_name_call_and_field(action: str, fn: Any, message: str) -> None:
    with pytest.raises(CollectError, match=message):
        collect(_break(action, fn))


def test_gzip_and_unreadable_files(tmp_path: Path) -> None:
    import gzip

    gz = tmp_path / "s.json.gz"
    gz.write_bytes(gzip.compress(SAMPLE.read_bytes()))
    assert load_snapshot(gz).account_id == ACCOUNT
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    with pytest.raises(SnapshotError, match="not valid JSON"):
        load_snapshot(bad)
    with pytest.raises(SnapshotError, match="cannot read"):
        load_snapshot(tmp_path / "missing.json")


def test_products_without_any_recorded_call_hold_no_assets() -> None:
    doc = copy.deepcopy(SAMPLE_DOC)
    doc["calls"] = [c for c in doc["calls"] if c["product"] not in ("Ram", "Oss")]
    result = collect(doc)
    assert "RamUser" not in result.batch.nodes and "OssBucket" not in result.batch.nodes
    assert len(result.batch.nodes["EcsInstance"]) == 8
    assert "ram:global" not in result.ok_scopes  # nothing seen: previously loaded identities are kept


def test_slb_is_collected_when_recorded_and_absent_otherwise() -> None:
    doc = copy.deepcopy(SAMPLE_DOC)
    assert "LoadBalancer" not in collect(doc).batch.nodes
    lb = {"LoadBalancerId": "lb-bp1public000001", "LoadBalancerName": "web", "AddressType": "internet",
          "Address": "47.96.1.1", "RegionId": "cn-hangzhou"}
    doc["calls"] += [
        {"product": "Slb", "version": "2014-05-15", "action": "DescribeLoadBalancers", "region": "cn-hangzhou",
         "params": {"RegionId": "cn-hangzhou", "PageNumber": 1, "PageSize": 100},
         "response": {"TotalCount": 1, "PageNumber": 1, "LoadBalancers": {"LoadBalancer": [lb]}}},
        {"product": "Slb", "version": "2014-05-15", "action": "DescribeLoadBalancerAttribute", "region": "cn-hangzhou",
         "params": {"RegionId": "cn-hangzhou", "LoadBalancerId": "lb-bp1public000001"},
         "response": {"LoadBalancerId": "lb-bp1public000001", "DeleteProtection": "off", "ListenerPortsAndProtocol": {
             "ListenerPortAndProtocol": [{"ListenerPort": 80, "ListenerProtocol": "http"},
                                         {"ListenerPort": 443, "ListenerProtocol": "https"}]}}},
    ]
    row = collect(doc).batch.nodes["LoadBalancer"]["lb-bp1public000001"]
    assert row["address_type"] == "internet" and row["listener_protocols"] == ["http", "https"]
    assert row["listener_ports"] == [80, 443] and row["delete_protection"] is False


def test_kms_sls_and_slb_tls_facts_from_recorded_answers() -> None:
    doc = with_extra_products(SAMPLE_DOC)
    result = collect(doc)
    account = doc["account_id"]
    keys = result.batch.nodes["KmsKey"]
    assert keys[CMK_ID]["customer_managed"] is True and keys[CMK_ID]["automatic_rotation"] == "Disabled"
    assert keys[CMK_ID]["arn"] == f"acs:kms:cn-hangzhou:{account}:key/{CMK_ID}"
    assert keys[SERVICE_KEY_ID]["customer_managed"] is False and keys[SERVICE_KEY_ID]["deletion_protection"] is True
    assert keys[SERVICE_KEY_ID]["rotation_interval_days"] == 365
    stores = result.batch.nodes["SlsLogstore"]
    assert set(stores) == {f"{PROJECT}/actiontrail", f"{PROJECT}/app"}
    assert stores[f"{PROJECT}/actiontrail"]["permanent"] and stores[f"{PROJECT}/actiontrail"]["encrypted"]
    assert stores[f"{PROJECT}/app"]["ttl_days"] == 30 and not stores[f"{PROJECT}/app"]["encrypted"]
    lb = result.batch.nodes["LoadBalancer"][LB_ID]
    assert lb["tls_collected"] and lb["tls_policies"] == ["tls_cipher_policy_1_0"]
    assert {"kms:cn-hangzhou", "sls:cn-hangzhou", "slb:cn-hangzhou"} <= set(result.ok_scopes)


def test_offset_pages_replay_in_order() -> None:
    doc = with_extra_products(SAMPLE_DOC)
    listing = next(c for c in doc["calls"] if c["action"] == "ListLogStores")
    listing["response"] = {"count": 1, "total": 2, "logstores": ["actiontrail"]}
    doc["calls"].append({**copy.deepcopy(listing), "params": {"project": PROJECT, "offset": 1, "size": 500},
                         "response": {"count": 1, "total": 2, "logstores": ["app"]}})
    assert set(collect(doc).batch.nodes["SlsLogstore"]) == {f"{PROJECT}/actiontrail", f"{PROJECT}/app"}


def _ecs_pages(doc: dict[str, Any], region: str) -> list[dict[str, Any]]:
    return [c for c in doc["calls"] if c["action"] == "DescribeInstances" and c["region"] == region]


def test_next_token_pages_are_followed() -> None:
    """A DescribeInstances recording paged by NextToken/MaxResults (one call per page) loads every instance."""
    doc = copy.deepcopy(SAMPLE_DOC)
    [call] = _ecs_pages(doc, "cn-hangzhou")
    instances = call["response"]["Instances"]["Instance"]
    assert len(instances) >= 3
    pages = [instances[:2], instances[2:]]
    doc["calls"].remove(call)
    for i, page in enumerate(pages):
        params = {"RegionId": "cn-hangzhou", "MaxResults": 2, **({"NextToken": "tok-1"} if i else {})}
        body = {"TotalCount": len(instances), "Instances": {"Instance": page}, **({} if i else {"NextToken": "tok-1"})}
        doc["calls"].append({**call, "params": params, "response": body})
    loaded = collect(doc).batch.nodes["EcsInstance"]
    assert {i["InstanceId"] for i in instances} <= set(loaded)


def test_a_next_token_that_repeats_is_an_error() -> None:
    doc = copy.deepcopy(SAMPLE_DOC)
    [call] = _ecs_pages(doc, "cn-hangzhou")
    call["response"]["NextToken"] = "again"
    doc["calls"].append({**call, "params": {"RegionId": "cn-hangzhou", "NextToken": "again"}})
    with pytest.raises(CollectError, match="came back twice"):
        collect(doc)


def test_security_group_rules_on_next_token_pages() -> None:
    doc = copy.deepcopy(SAMPLE_DOC)
    call = next(c for c in doc["calls"] if c["action"] == "DescribeSecurityGroupAttribute"
                and c["params"]["SecurityGroupId"] == "sg-bp1web0000000001")
    perms = call["response"]["Permissions"]["Permission"]
    ssh = [p for p in perms if p["PortRange"] == "22/22"]
    assert ssh, "the web group opens 22 in the sample"
    call["response"]["Permissions"]["Permission"] = [p for p in perms if p not in ssh]
    call["response"]["NextToken"] = "rules-2"
    page2 = {**call, "params": {**call["params"], "NextToken": "rules-2"},
             "response": {"SecurityGroupId": "sg-bp1web0000000001", "Permissions": {"Permission": ssh}}}
    doc["calls"].append(page2)
    group = collect(doc).batch.nodes["SecurityGroup"]["sg-bp1web0000000001"]
    assert any(lo <= 22 <= hi for lo, hi in zip(group["inet_tcp_from"], group["inet_tcp_to"], strict=True))


def test_a_recorded_param_with_another_value_does_not_answer() -> None:
    snap = parse_snapshot(copy.deepcopy(SAMPLE_DOC))
    replay = ReplayTransport(snap)
    ask = {"RegionId": "cn-hangzhou", "SecurityGroupId": "sg-bp1web0000000001"}
    assert replay.call("Ecs", "2014-05-26", "DescribeSecurityGroupAttribute", "cn-hangzhou", {**ask, "Direction": "ALL"})
    with pytest.raises(MissingCallError):
        replay.call("Ecs", "2014-05-26", "DescribeSecurityGroupAttribute", "cn-hangzhou", {**ask, "Direction": "ingress"})


def test_collect_transforms_as_it_goes_and_holds_few_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each product-region's raw answers are transformed and dropped while later ones are collected: at most
    2 x workers visits' answers are held at once (the whole account's were held until every collect ended),
    and the batch is the one the sample always gives."""
    import loaders.sync as sync

    held, most_held, visits = 0, 0, 0
    guarded = sync._guarded

    def counting(product: str, fn: Any, *args: Any) -> Any:
        nonlocal held, most_held, visits
        out = guarded(product, fn, *args)
        if isinstance(args[-1], str):  # collect(ctx, region): its answers are now held
            held, visits = held + 1, visits + 1
            most_held = max(most_held, held)
        elif fn.__name__ != "finish":  # transform(answers, batch): they are let go
            held -= 1
        return out

    monkeypatch.setattr(sync, "_guarded", counting)
    snap = parse_snapshot(copy.deepcopy(SAMPLE_DOC))
    collected = collect_account(ReplayTransport(snap), collected_at=parse_collected_at(snap.collected_at),
                                host_reports=snap.hosts, workers=2)
    assert visits > 2 * 2 * 2, "the sample has many more product-regions than the window"
    assert held == 0 and most_held <= 2 * 2
    assert {label: len(rows) for label, rows in collected.batch.nodes.items() if label in EXPECTED_COUNTS} \
        == EXPECTED_COUNTS


@pytest.mark.parametrize(("value", "refused"), [(-(2**63), True), (2**63, True), (2**63 - 1, False),
                                                ("12345678901234567890123", False)])
def test_streamed_snapshot_bounds_integers_as_the_whole_file_does(tmp_path: Path, value: Any, refused: bool) -> None:
    """yajl (the streaming parser) reads -2**63, a whole-file read refuses it: both refuse it alike; a long run
    of digits inside a string is no integer."""
    from loaders.snapshot import stream_snapshot

    doc = copy.deepcopy(SAMPLE_DOC)
    call = next(c for c in doc["calls"] if c["action"] == "DescribeInstances")
    call["response"]["Extra"] = [{"n": value}]
    path = tmp_path / "s.json"
    path.write_text(json.dumps(doc))
    if refused:
        for read in (load_snapshot, stream_snapshot):
            with pytest.raises(SnapshotError, match="64-bit"):
                read(path)
    else:
        streamed = ReplayTransport(stream_snapshot(path)).call("Ecs", "2014-05-26", "DescribeInstances",
                                                               call["region"], call["params"])
        assert streamed["Extra"] == [{"n": value}] == load_snapshot(path).calls[doc["calls"].index(call)]["response"]["Extra"]
