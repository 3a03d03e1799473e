"""VPC: elastic IP addresses (bound to ECS instances by the ECS product's `link_eips`)."""

from __future__ import annotations

from typing import Any

from graph_schema.model import NodeSchema, RelSchema
from graph_schema.store import GraphBatch
from loaders.base import CollectContext, CollectError, paged
from loaders.declaration import Api, Product
from loaders.listing import Listing
from loaders.regions import is_supported

API = Api("Vpc", "2016-04-28", "vpc.{region}.aliyuncs.com", "alibabacloud_vpc20160428.client", listings={
    "DescribeEipAddresses": Listing(("EipAddresses", "EipAddress")),
})


def collect_region(ctx: CollectContext, region: str) -> dict[str, Any]:
    scope = f"vpc:{region}"
    ctx.mark(scope, "ok")
    eips = paged(ctx, *API.pair, "DescribeEipAddresses", region, {"RegionId": region}, ("EipAddresses", "EipAddress"),
                 page_size=50, scope=scope)
    return {"region": region, "eips": eips}


def transform_region(raw: dict[str, Any], batch: GraphBatch) -> None:
    eips, region = raw.get("eips"), raw["region"]
    if not isinstance(eips, list):
        return
    for eip in eips:
        alloc = eip.get("AllocationId")
        if not alloc:
            raise CollectError(f"Vpc:DescribeEipAddresses in {region}: an EIP has no AllocationId")
        batch.node("Eip", alloc, f"vpc:{region}", region=region, supported=is_supported("vpc", region),
                   ip_address=eip.get("IpAddress"), instance_id=eip.get("InstanceId") or "",
                   instance_type=str(eip.get("InstanceType") or ""), status=eip.get("Status"))


PRODUCT = Product(
    "vpc", (API,), collect_region, transform_region, order=10,
    nodes=(NodeSchema("Eip", "an elastic IP address", ("ip_address", "instance_id", "instance_type", "status")),),
    rels=(RelSchema("BOUND_TO", "Eip", "EcsInstance", "EIP bound to instance"),),
)
