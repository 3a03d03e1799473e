"""ActionTrail trails (a trail with TrailRegion "All" covers every region)."""

from __future__ import annotations

from typing import Any

from graph_schema.model import NodeSchema, RelSchema
from graph_schema.store import GraphBatch
from loaders.base import CollectContext, CollectError, Gap, dig_list
from loaders.declaration import Api, Product
from loaders.listing import Listing
from loaders.regions import is_supported

API = Api("Actiontrail", "2020-07-06", "actiontrail.{region}.aliyuncs.com", "alibabacloud_actiontrail20200706.client",
          listings={"DescribeTrails": Listing(("TrailList",), style="none", total_field="")})
ACTIONTRAIL = API.pair


def collect_region(ctx: CollectContext, region: str) -> dict[str, Any]:
    scope = f"actiontrail:{region}"
    ctx.mark(scope, "ok")
    body = ctx.call(*ACTIONTRAIL, "DescribeTrails", region, {"RegionId": region, "IncludeShadowTrails": True}, scope=scope)
    return {"region": region, "body": body}


def transform_region(raw: dict[str, Any], batch: GraphBatch) -> None:
    body = raw["body"]
    if isinstance(body, Gap) or not isinstance(body, dict):
        return
    region = raw["region"]
    for trail in dig_list(body, "TrailList", call="Actiontrail:DescribeTrails"):
        name = trail.get("Name")
        if not name:
            raise CollectError(f"Actiontrail:DescribeTrails in {region}: a trail has no Name")
        home = trail.get("HomeRegion") or region
        if not isinstance(home, str) or not isinstance(name, str):
            raise CollectError(f"Actiontrail:DescribeTrails in {region}: trail {name!r}: Name and HomeRegion must be strings")
        # shadow trails of multi-region trails appear in every region: keep the home copy's facts
        if batch.has_node("Trail", name) and home != region:
            continue
        batch.node(
            "Trail", name, f"actiontrail:{home}", region=home, supported=is_supported("actiontrail", home),
            home_region=home, trail_region=trail.get("TrailRegion"), status=trail.get("Status"),
            oss_bucket=trail.get("OssBucketName") or "", sls_project_arn=trail.get("SlsProjectArn") or "",
            event_rw=trail.get("EventRW"),
        )
        if trail.get("OssBucketName"):
            batch.rel("LOGS_TO", ("Trail", name), ("OssBucket", trail["OssBucketName"]), f"actiontrail:{home}")


PRODUCT = Product(
    "actiontrail", (API,), collect_region, transform_region, order=50,
    nodes=(NodeSchema("Trail", "an ActionTrail trail", ("home_region", "trail_region", "status", "oss_bucket",
                                                        "sls_project_arn", "event_rw")),
           # the analysis records whether every region's trails were read (checks/analysis.py)
           NodeSchema("Account", "", ("actiontrail_collected",))),
    rels=(RelSchema("LOGS_TO", "Trail|OssBucket", "OssBucket", "delivery/logging target"),),
)
