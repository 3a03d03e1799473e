"""Server Load Balancer (classic SLB): load balancers and their listeners (optional calls: a
recording without them simply holds no load balancers)."""

from __future__ import annotations

from typing import Any

from graph_schema.model import NodeSchema
from graph_schema.store import GraphBatch
from loaders.base import CollectContext, CollectError, as_bool, dig_list, paged
from loaders.declaration import Api, Product
from loaders.listing import Listing
from loaders.regions import is_supported

API = Api("Slb", "2014-05-15", "slb.{region}.aliyuncs.com", "alibabacloud_slb20140515.client", listings={
    "DescribeLoadBalancers": Listing(("LoadBalancers", "LoadBalancer")),
})
SLB = API.pair


def collect_region(ctx: CollectContext, region: str) -> dict[str, Any]:
    scope = f"slb:{region}"
    ctx.mark(scope, "ok")
    balancers = paged(ctx, *SLB, "DescribeLoadBalancers", region, {"RegionId": region},
                                ("LoadBalancers", "LoadBalancer"), scope=scope, optional=True)
    details: dict[str, Any] = {}
    https: dict[str, dict[int, Any]] = {}
    if isinstance(balancers, list):
        for lb in balancers:
            lb_id = lb.get("LoadBalancerId")
            attr = ctx.call(*SLB, "DescribeLoadBalancerAttribute", region,
                            {"RegionId": region, "LoadBalancerId": lb_id}, optional=True)
            details[lb_id] = attr
            https[lb_id] = {
                port: ctx.call(*SLB, "DescribeLoadBalancerHTTPSListenerAttribute", region,
                               {"RegionId": region, "LoadBalancerId": lb_id, "ListenerPort": port}, optional=True)
                for port in _https_ports(attr)
            }
    return {"region": region, "balancers": balancers, "details": details, "https": https}


def _listeners(attr: dict[str, Any]) -> list[Any]:
    return dig_list(attr, "ListenerPortsAndProtocol", "ListenerPortAndProtocol", call="Slb:DescribeLoadBalancerAttribute")


def _https_ports(attr: Any) -> list[int]:
    if not isinstance(attr, dict):
        return []
    return sorted({int(x.get("ListenerPort") or 0) for x in _listeners(attr)
                   if str(x.get("ListenerProtocol") or "").lower() == "https"})


def transform_region(raw: dict[str, Any], batch: GraphBatch) -> None:
    balancers = raw.get("balancers")
    if not isinstance(balancers, list):
        return
    region = raw["region"]
    for lb in balancers:
        lb_id = lb.get("LoadBalancerId")
        if not lb_id:
            raise CollectError(f"Slb:DescribeLoadBalancers in {region}: a load balancer has no LoadBalancerId")
        attr = raw["details"].get(lb_id)
        props: dict[str, Any] = {
            "region": region, "supported": is_supported("slb", region), "name": lb.get("LoadBalancerName"),
            "address_type": str(lb.get("AddressType") or "").lower(), "address": lb.get("Address"),
            "listeners_collected": isinstance(attr, dict),
        }
        if isinstance(attr, dict):
            listeners = _listeners(attr)
            props["listener_protocols"] = sorted({str(x.get("ListenerProtocol") or "").lower() for x in listeners})
            props["listener_ports"] = sorted({int(x.get("ListenerPort") or 0) for x in listeners})
            props["delete_protection"] = bool(as_bool(attr.get("DeleteProtection")))
            # the TLS policy of every HTTPS listener (DescribeLoadBalancerHTTPSListenerAttribute, optional)
            answers = raw.get("https", {}).get(lb_id, {})
            props["tls_collected"] = all(isinstance(answers.get(p), dict) for p in _https_ports(attr))
            props["tls_policies"] = sorted({str(a.get("TLSCipherPolicy") or "").lower()
                                            for a in answers.values() if isinstance(a, dict)} - {""})
        batch.node("LoadBalancer", lb_id, f"slb:{region}", **props)




PRODUCT = Product(
    "slb", (API,), collect_region, transform_region, order=60,
    nodes=(NodeSchema("LoadBalancer", "a classic SLB instance with its listeners", (
        "name", "address", "address_type", "listener_protocols", "listener_ports", "listeners_collected",
        "delete_protection", "tls_collected", "tls_policies")),),
)
