"""Container Service for Kubernetes (ACK, `CS` 2015-12-15, ROA): clusters with their add-ons, API server
exposure, RBAC and cluster checks (optional calls: a recording without them holds no clusters).

DescribeClustersV1 lists a region's clusters; DescribeClusterDetail's `meta_data` is a JSON string whose `Addons`
name the installed components (logtail-ds: Log Service, arms-cmonitor: CloudMonitor, kubernetes-dashboard,
terway-eniip: ENI multi-IP, calico or a terway `NetworkPolicy` config: network policies); `master_url` is a JSON
string whose `api_server_endpoint` is the public API server; DescribeClusterChecks lists the cluster checks run."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from graph_schema.model import NodeSchema
from graph_schema.store import GraphBatch
from loaders.base import CollectContext, CollectError, Gap
from loaders.declaration import Api, AttackRole, Product
from loaders.listing import Listing
from loaders.regions import is_supported
from loaders.synthetic import request_id

API = Api("CS", "2015-12-15", "cs.{region}.aliyuncs.com", style="roa", listings={
    "DescribeClustersV1": Listing(("clusters",), style="none", total_field="", empty_extra={
        "page_info": {"page_number": 1, "page_size": 100, "total_count": 0}}),
}, routes={
    "DescribeClustersV1": ("/api/v1/clusters", None),
    "DescribeClusterDetail": ("/clusters/{ClusterId}", None),
    "DescribeClusterChecks": ("/clusters/{ClusterId}/checks", None),
})
PAGE = 100
SUPPORTED_SINCE = (1, 28)
LOG_ADDONS = ("logtail-ds", "loongcollector")
MONITOR_ADDONS = ("arms-cmonitor", "cms-agent", "ack-cloud-monitor")


def _clusters(ctx: CollectContext, region: str) -> list[Any] | Gap | None:
    clusters: list[Any] = []
    page = 1
    while True:
        body = ctx.call(*API.pair, "DescribeClustersV1", region, {"region_id": region, "page_size": PAGE,
                                                                  "page_number": page}, optional=True)
        if not isinstance(body, dict):
            return body if isinstance(body, Gap) else None
        got = body.get("clusters") or []
        clusters.extend(got)
        total = (body.get("page_info") or {}).get("total_count", len(clusters))
        if not got or len(clusters) >= int(total):
            return clusters
        page += 1


def collect_region(ctx: CollectContext, region: str) -> dict[str, Any]:
    scope = f"ack:{region}"
    ctx.mark(scope, "ok")
    clusters = _clusters(ctx, region)
    details = {
        c["cluster_id"]: {action: ctx.call(*API.pair, action, region, {"ClusterId": c["cluster_id"]}, optional=True)
                          for action in ("DescribeClusterDetail", "DescribeClusterChecks")}
        for c in (clusters if isinstance(clusters, list) else []) if isinstance(c, dict) and c.get("cluster_id")
    }
    return {"region": region, "clusters": clusters, "details": details, "collected_at": ctx.collected_at}


def _json_field(value: Any, where: str) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    if not value:
        return {}
    try:
        doc = json.loads(str(value))
    except json.JSONDecodeError as exc:
        raise CollectError(f"CS:{where} is not valid JSON: {exc}") from exc
    return doc if isinstance(doc, dict) else {}


def _version_at_least(version: str, wanted: tuple[int, int]) -> bool | None:
    try:
        major, minor = (int(x) for x in version.split("-")[0].split(".")[:2])
    except ValueError:
        return None
    return (major, minor) >= wanted


def _days_since(text: Any, now: datetime) -> float | None:
    try:
        when = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    return (now - (when if when.tzinfo else when.replace(tzinfo=UTC))).total_seconds() / 86400


def cluster_props(cluster: dict[str, Any], detail: Any, checks: Any, now: datetime) -> dict[str, Any]:
    """The facts the ACK items read, from the listing, the detail and the cluster checks."""
    cid = cluster["cluster_id"]
    props: dict[str, Any] = {
        "name": cluster.get("name"), "cluster_type": cluster.get("cluster_type"), "state": cluster.get("state"),
        "version": str(cluster.get("current_version") or ""), "vpc_id": cluster.get("vpc_id") or "",
    }
    # ACK supports the latest minor versions; older ones get no fixes (the oldest supported as of 2026-11)
    props["version_supported"] = _version_at_least(props["version"], SUPPORTED_SINCE)
    master = _json_field(cluster.get("master_url"), f"DescribeClustersV1 {cid}: master_url")
    props["public_api_server"] = bool(master.get("api_server_endpoint"))
    props["detail_collected"] = isinstance(detail, dict)
    if isinstance(detail, dict):
        meta = _json_field(detail.get("meta_data"), f"DescribeClusterDetail {cid}: meta_data")
        addons = [a for a in meta.get("Addons") or [] if isinstance(a, dict)]
        names = sorted({str(a.get("name") or "") for a in addons})
        configs = " ".join(str(a.get("config") or "") for a in addons).lower()
        props.update(
            addons=names,
            log_service_enabled=any(n in LOG_ADDONS for n in names),
            cloud_monitor_enabled=any(n in MONITOR_ADDONS for n in names),
            dashboard_enabled="kubernetes-dashboard" in names,
            eni_multi_ip="terway-eniip" in names,
            network_policy_enabled="calico" in names or '"networkpolicy":"true"' in configs.replace(" ", ""),
            basic_auth_enabled=bool(meta.get("BasicAuth") or meta.get("BasicAuthEnabled")),
            # RBAC is always on from Kubernetes 1.16; older clusters say so in meta_data
            rbac_enabled=bool(meta["RBACEnabled"]) if "RBACEnabled" in meta else _version_at_least(
                props["version"], (1, 16)),
        )
    props["checks_collected"] = isinstance(checks, dict)
    if isinstance(checks, dict):
        finished = [c.get("finished_at") or c.get("created_at") for c in checks.get("checks") or []
                    if isinstance(c, dict)]
        ages = [d for d in (_days_since(t, now) for t in finished if t) if d is not None]
        props["last_check_days"] = min(ages) if ages else None
    return props


def transform_region(raw: dict[str, Any], batch: GraphBatch) -> None:
    clusters, region = raw.get("clusters"), raw["region"]
    if not isinstance(clusters, list):
        return
    for cluster in clusters:
        cid = cluster.get("cluster_id") if isinstance(cluster, dict) else None
        if not cid:
            raise CollectError(f"CS:DescribeClustersV1 in {region}: a cluster has no cluster_id")
        detail = raw["details"].get(cid, {})
        props = cluster_props(cluster, detail.get("DescribeClusterDetail"), detail.get("DescribeClusterChecks"),
                              raw["collected_at"])
        batch.node("AckCluster", cid, f"ack:{region}", region=region, supported=is_supported("ack", region), **props)


def synthetic(call: Callable[..., None], rng: random.Random, region: str, count: int) -> None:
    clusters = []
    for i in range(count):
        cid = f"c{region[-4:]}syn{i:06d}"
        public = rng.random() < 0.3
        clusters.append({"cluster_id": cid, "name": f"k8s-{i}", "region_id": region, "state": "running",
                         "cluster_type": "ManagedKubernetes", "current_version": rng.choice(["1.30.1-aliyun.1",
                                                                                             "1.14.8-aliyun.1"]),
                         "vpc_id": f"vpc-{region}", "master_url": json.dumps(
                             {"api_server_endpoint": "https://47.0.0.1:6443" if public else "",
                              "intranet_api_server_endpoint": "https://172.16.0.1:6443"})})
    call(*API.pair, "DescribeClustersV1", region, {"region_id": region, "page_size": PAGE, "page_number": 1}, {
        "clusters": clusters, "page_info": {"page_number": 1, "page_size": PAGE, "total_count": len(clusters)}})
    for c in clusters:
        addons = [{"name": n, "config": ""} for n in ("logtail-ds", "arms-cmonitor", "kubernetes-dashboard",
                                                      "terway-eniip", "calico") if rng.random() < 0.5]
        call(*API.pair, "DescribeClusterDetail", region, {"ClusterId": c["cluster_id"]}, {
            **c, "meta_data": json.dumps({"Addons": addons}), "RequestId": request_id(rng)})
        call(*API.pair, "DescribeClusterChecks", region, {"ClusterId": c["cluster_id"]}, {"checks": [
            {"check_id": f"chk-{c['cluster_id']}", "type": "ClusterCheck", "status": "Succeeded",
             "finished_at": rng.choice(["2026-11-18T00:00:00Z", "2026-09-01T00:00:00Z"])}]})


PRODUCT = Product(
    "ack", (API,), collect_region, transform_region, synthetic=synthetic, synthetic_share=0.004,
    nodes=(NodeSchema("AckCluster", "a Container Service for Kubernetes (ACK) cluster", (
        "name", "cluster_type", "state", "version", "version_supported", "vpc_id", "public_api_server", "detail_collected", "addons",
        "log_service_enabled", "cloud_monitor_enabled", "dashboard_enabled", "eni_multi_ip", "network_policy_enabled",
        "basic_auth_enabled", "rbac_enabled", "checks_collected", "last_check_days")),),
    # the caller's own kubeconfig reaches the API server (read); granting RBAC (to itself) is cluster-admin
    attack_roles=(AttackRole("AckCluster", "target", read=("cs:DescribeClusterUserKubeconfig",),
                             admin=("cs:GrantPermissions",), resource="acs:cs:{region}:{account}:cluster/{id}"),),
)
