"""VPC: elastic IP addresses (bound to ECS instances by the ECS product's `link_eips`), VPCs and their flow logs."""

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
    "DescribeVpcs": Listing(("Vpcs", "Vpc")),
    "DescribeFlowLogs": Listing(("FlowLogs", "FlowLog")),
})


def collect_region(ctx: CollectContext, region: str) -> dict[str, Any]:
    scope = f"vpc:{region}"
    ctx.mark(scope, "ok")
    eips = paged(ctx, *API.pair, "DescribeEipAddresses", region, {"RegionId": region}, ("EipAddresses", "EipAddress"),
                 page_size=50, scope=scope)
    # beyond the spec's minimum: VPCs and flow logs (a recording without them holds no VPCs)
    vpcs = paged(ctx, *API.pair, "DescribeVpcs", region, {"RegionId": region}, ("Vpcs", "Vpc"), page_size=50,
                 optional=True)
    flow_logs = paged(ctx, *API.pair, "DescribeFlowLogs", region, {"RegionId": region}, ("FlowLogs", "FlowLog"),
                      page_size=50, optional=True) if isinstance(vpcs, list) and vpcs else []
    return {"region": region, "eips": eips, "vpcs": vpcs, "flow_logs": flow_logs}


def transform_region(raw: dict[str, Any], batch: GraphBatch) -> None:
    _vpcs(raw, batch)
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


def _vpcs(raw: dict[str, Any], batch: GraphBatch) -> None:
    """Each VPC with whether an active flow log captures the VPC itself (not one vSwitch or ENI of it)."""
    vpcs, logs, region = raw.get("vpcs"), raw.get("flow_logs"), raw["region"]
    if not isinstance(vpcs, list):
        return
    collected = isinstance(logs, list)
    active = {str(f.get("ResourceId")) for f in (logs if collected else [])
              if str(f.get("ResourceType") or "").upper() == "VPC" and str(f.get("Status") or "") == "Active"}
    for vpc in vpcs:
        vpc_id = vpc.get("VpcId")
        if not vpc_id:
            raise CollectError(f"Vpc:DescribeVpcs in {region}: a VPC has no VpcId")
        batch.node("Vpc", vpc_id, f"vpc:{region}", region=region, supported=is_supported("vpc", region),
                   name=vpc.get("VpcName") or "", cidr_block=vpc.get("CidrBlock") or "",
                   is_default=bool(vpc.get("IsDefault")), flow_logs_collected=collected,
                   flow_log_active=vpc_id in active if collected else None)
    account = batch.nodes["Account"][batch.account_id]
    account["flow_logs_collected"] = account.get("flow_logs_collected", True) and collected
    account["active_flow_logs"] = account.get("active_flow_logs", 0) + len(active)


PRODUCT = Product(
    "vpc", (API,), collect_region, transform_region, order=10,
    nodes=(NodeSchema("Eip", "an elastic IP address", ("ip_address", "instance_id", "instance_type", "status")),
           NodeSchema("Vpc", "a virtual private cloud with its flow-log coverage", (
               "name", "cidr_block", "is_default", "flow_logs_collected", "flow_log_active")),
           NodeSchema("Account", "", ("flow_logs_collected", "active_flow_logs"))),
    rels=(RelSchema("BOUND_TO", "Eip", "EcsInstance", "EIP bound to instance"),),
)
