"""The emulator driven by unmodified official SDK clients with their defaults: the SDK picks its regional
endpoint (the emulator is its HTTP proxy), sends no RegionId where the API allows, asks one Direction, its own
page sizes, and OSS virtual-hosted requests (`<bucket>.oss-<region>.aliyuncs.com`)."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import oss2
import pytest
from alibabacloud_actiontrail20200706 import models as trail_models
from alibabacloud_actiontrail20200706.client import Client as TrailClient
from alibabacloud_ecs20140526 import models as ecs_models
from alibabacloud_ecs20140526.client import Client as EcsClient
from alibabacloud_ram20150501 import models as ram_models
from alibabacloud_ram20150501.client import Client as RamClient
from alibabacloud_rds20140815 import models as rds_models
from alibabacloud_rds20140815.client import Client as RdsClient
from alibabacloud_tea_openapi import models as open_api_models
from alibabacloud_tea_openapi.client import Client as OpenApiClient
from alibabacloud_tea_util import models as util_models

from backend.emulator import Emulator, region_of_host
from loaders.snapshot import parse_snapshot
from tests.helpers.extra_products import with_product_samples
from tests.helpers.sample import sample_doc

PAGE = 3  # the recording pages DescribeInstances and ListUsers by 3


def _recorded(doc: dict[str, Any], action: str, region: str = "", **params: Any) -> Any:
    return next(c["response"] for c in doc["calls"] if c["action"] == action and (not region or c["region"] == region)
                and all(c["params"].get(k) == v for k, v in params.items()))


def _split_pages(doc: dict[str, Any]) -> dict[str, Any]:
    """The sample with DescribeInstances (cn-hangzhou) recorded by PageNumber and ListUsers by Marker, 3 a page."""
    calls = []
    for call in doc["calls"]:
        if call["action"] == "DescribeInstances" and call["region"] == "cn-hangzhou":
            items = call["response"]["Instances"]["Instance"]
            for n, start in enumerate(range(0, len(items), PAGE), 1):
                page = copy.deepcopy(call)
                page["params"].update(PageNumber=n, PageSize=PAGE)
                page["response"].update(PageNumber=n, PageSize=PAGE, Instances={"Instance": items[start:start + PAGE]})
                calls.append(page)
        elif call["action"] == "ListUsers":
            users = call["response"]["Users"]["User"]
            for start in range(0, len(users), PAGE):
                page = copy.deepcopy(call)
                page["params"] = {"MaxItems": PAGE, **({"Marker": f"m{start}"} if start else {})}
                more = start + PAGE < len(users)
                page["response"] = {"IsTruncated": more, "Users": {"User": users[start:start + PAGE]},
                                    **({"Marker": f"m{start + PAGE}"} if more else {})}
                calls.append(page)
        else:
            calls.append(call)
    return {**doc, "calls": calls}


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    return _split_pages(sample_doc())


@pytest.fixture(scope="module")
def emulator(doc: dict[str, Any]) -> Iterator[Emulator]:
    with Emulator(parse_snapshot(doc)) as emu:
        yield emu


def _config(emu: Emulator, region: str) -> open_api_models.Config:
    """The SDK's defaults: no endpoint (the client computes its regional one), the emulator as HTTP proxy."""
    return open_api_models.Config(access_key_id="ak", access_key_secret="sk", region_id=region, protocol="http",
                                  http_proxy=emu.endpoint)


def test_region_comes_from_the_regional_endpoint(emulator: Emulator, doc: dict[str, Any]) -> None:
    answers = {}
    for region in ("cn-hangzhou", "cn-shanghai"):
        client = TrailClient(_config(emulator, region))
        assert client._endpoint == f"actiontrail.{region}.aliyuncs.com"
        trails = client.describe_trails(trail_models.DescribeTrailsRequest()).body.trail_list
        answers[region] = [t.name for t in trails]
        assert answers[region] == [t["Name"] for t in _recorded(doc, "DescribeTrails", region)["TrailList"]]
    assert answers["cn-hangzhou"] and answers["cn-hangzhou"] != answers["cn-shanghai"]


def test_rds_per_instance_call_without_region_id(emulator: Emulator) -> None:
    client = RdsClient(_config(emulator, "cn-hangzhou"))
    assert client._endpoint == "rds.aliyuncs.com"  # central endpoint: no region in the host either
    attr = client.describe_dbinstance_attribute(
        rds_models.DescribeDBInstanceAttributeRequest(dbinstance_id="rm-bp1legacy0000001")).body
    assert attr.items.dbinstance_attribute[0].dbinstance_id == "rm-bp1legacy0000001"


def test_one_direction_is_the_recorded_all_filtered(emulator: Emulator, doc: dict[str, Any]) -> None:
    client = EcsClient(_config(emulator, "cn-hangzhou"))
    recorded = _recorded(doc, "DescribeSecurityGroupAttribute", SecurityGroupId="sg-bp1web0000000001")
    for direction in ("ingress", "egress"):
        body = client.describe_security_group_attribute(ecs_models.DescribeSecurityGroupAttributeRequest(
            region_id="cn-hangzhou", security_group_id="sg-bp1web0000000001", direction=direction)).body
        got = [(p.direction, p.port_range) for p in body.permissions.permission]
        assert got == [(p["Direction"], p["PortRange"]) for p in recorded["Permissions"]["Permission"]
                       if p["Direction"] == direction]
    assert any(p["Direction"] == "ingress" for p in recorded["Permissions"]["Permission"])


def test_page_size_is_honoured(emulator: Emulator) -> None:
    client = EcsClient(_config(emulator, "cn-hangzhou"))
    everything = client.describe_instances(ecs_models.DescribeInstancesRequest(region_id="cn-hangzhou", page_size=100)).body
    ids = [i.instance_id for i in everything.instances.instance]
    assert len(ids) == everything.total_count > PAGE  # one large page holds every recorded page's items
    second = client.describe_instances(ecs_models.DescribeInstancesRequest(
        region_id="cn-hangzhou", page_size=2, page_number=2)).body
    assert [i.instance_id for i in second.instances.instance] == ids[2:4] and second.page_number == 2
    by_token, token = [], None
    while True:
        body = client.describe_instances(ecs_models.DescribeInstancesRequest(
            region_id="cn-hangzhou", max_results=2, next_token=token)).body
        by_token += [i.instance_id for i in body.instances.instance]
        token = body.next_token
        if not token:
            break
    assert by_token == ids


def test_marker_paging_is_honoured(emulator: Emulator, doc: dict[str, Any]) -> None:
    client = RamClient(_config(emulator, "cn-hangzhou"))
    users, marker = [], None
    while True:
        body = client.list_users(ram_models.ListUsersRequest(max_items=2, marker=marker)).body
        users += [u.user_name for u in body.users.user]
        if not body.is_truncated:
            break
        marker = body.marker
    recorded = [u["UserName"] for c in doc["calls"] if c["action"] == "ListUsers" for u in c["response"]["Users"]["User"]]
    assert users == recorded and len(recorded) > PAGE


def _sas(emu: Emulator, action: str, **query: Any) -> dict[str, Any]:
    """A Security Center call through the generic OpenAPI client (Sas has no SDK module of its own)."""
    cfg = _config(emu, "cn-hangzhou")
    cfg.endpoint = "tds.aliyuncs.com"
    params = open_api_models.Params(action=action, version="2018-12-03", protocol="HTTP", pathname="/", method="POST",
                                    auth_type="AK", style="RPC", req_body_type="formData", body_type="json")
    return OpenApiClient(cfg).call_api(params, open_api_models.OpenApiRequest(query={k: str(v) for k, v in query.items()}),
                                       util_models.RuntimeOptions())["body"]


def test_current_page_listings_are_repaged() -> None:
    """Security Center pages by CurrentPage (its instance total nested in PageInfo): a client asking smaller pages
    than the recording's gets them, not the whole recorded page."""
    sample = with_product_samples(sample_doc(), ["sas"])
    recorded = _recorded(sample, "DescribeVulList", Type="cve")["VulRecords"]
    with Emulator(parse_snapshot(sample)) as emu:
        pages = [_sas(emu, "DescribeVulList", Type="cve", Dealed="n", CurrentPage=n, PageSize=2) for n in (1, 2)]
        servers = _sas(emu, "DescribeCloudCenterInstances", CurrentPage=2, PageSize=5)
    assert [len(p["VulRecords"]) for p in pages] == [2, 1] and len(recorded) == 3
    assert [r["Name"] for p in pages for r in p["VulRecords"]] == [r["Name"] for r in recorded]
    assert (pages[1]["TotalCount"], pages[1]["CurrentPage"], pages[1]["PageSize"]) == (3, 2, 2)
    assert len(servers["Instances"]) == 2 and servers["PageInfo"]["TotalCount"] == 7
    assert (servers["PageInfo"]["CurrentPage"], servers["PageInfo"]["PageSize"]) == (2, 5)


def test_oss_virtual_hosted_requests_get_the_bucket(emulator: Emulator) -> None:
    auth, proxies = oss2.Auth("ak", "sk"), {"http": emulator.endpoint}
    bucket = oss2.Bucket(auth, "http://oss-cn-hangzhou.aliyuncs.com", "acme-public-assets", proxies=proxies)
    assert bucket.get_bucket_acl().acl == "public-read"
    with pytest.raises(oss2.exceptions.NoSuchBucketPolicy):
        oss2.Bucket(auth, "http://oss-cn-shanghai.aliyuncs.com", "acme-logs", proxies=proxies).get_bucket_policy()
    listed = oss2.Service(auth, "http://oss-cn-hangzhou.aliyuncs.com", proxies=proxies).list_buckets().buckets
    assert "acme-public-assets" in [b.name for b in listed]


def test_an_unemulated_product_gets_the_gateway_answer(emulator: Emulator) -> None:
    cfg = _config(emulator, "cn-hangzhou")
    cfg.endpoint = "r-kvstore.aliyuncs.com"
    params = open_api_models.Params(action="DescribeNothing", version="2099-01-01", protocol="HTTP", pathname="/",
                                    method="POST", auth_type="AK", style="RPC", req_body_type="formData",
                                    body_type="json")
    with pytest.raises(Exception) as err:
        OpenApiClient(cfg).call_api(params, open_api_models.OpenApiRequest(query={}), util_models.RuntimeOptions())
    assert getattr(err.value, "code", "") == "InvalidAction.NotFound"
    assert getattr(err.value, "status_code", None) == 404 or "404" in str(getattr(err.value, "data", ""))


@pytest.mark.parametrize(("host", "region"), [
    ("actiontrail.cn-hangzhou.aliyuncs.com", "cn-hangzhou"), ("ecs-cn-hangzhou.aliyuncs.com", "cn-hangzhou"),
    ("acme.oss-cn-shanghai.aliyuncs.com", "cn-shanghai"), ("rds.aliyuncs.com", None), ("127.0.0.1", None),
    ("ecs.cn-hangzhou-finance.aliyuncs.com", "cn-hangzhou-finance"),
])
def test_region_of_host(host: str, region: str | None) -> None:
    assert region_of_host(host, []) == region
