"""PolarDB (`polardb` 2017-08-01): clusters with their whitelist, endpoints, SSL, TDE, backups and SQL audit."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from graph_schema.model import NodeSchema
from loaders.declaration import Api, AttackRole, Product
from loaders.instances import InstanceListing, comma_list, int_field, listed, whitelist_facts
from loaders.listing import Listing
from loaders.synthetic import record_pages, request_id

API = Api("polardb", "2017-08-01", "polardb.aliyuncs.com", listings={
    "DescribeDBClusters": Listing(("Items", "DBCluster"), default_size=30, total_field="TotalRecordCount"),
})


def _whitelist(body: dict[str, Any]) -> dict[str, Any]:
    groups = listed(body, "Items", "DBClusterIPArray", call="polardb:DescribeDBClusterAccessWhitelist")
    return whitelist_facts([ip for g in groups for ip in comma_list(g.get("SecurityIps"))])


def _endpoints(body: dict[str, Any]) -> dict[str, Any]:
    addresses = [a for e in listed(body, "Items", call="polardb:DescribeDBClusterEndpoints")
                 for a in (e.get("AddressItems") or []) if isinstance(a, dict)]
    return {"net_collected": True, "public_endpoint": any(str(a.get("NetType")).lower() == "public" for a in addresses)}


LISTING = InstanceListing(
    API, "polardb", "PolardbCluster", "DescribeDBClusters", ("Items", "DBCluster"), "DBClusterId",
    lambda c: {"name": c.get("DBClusterDescription") or "", "engine": str(c.get("DBType") or ""),
               "engine_version": str(c.get("DBVersion") or ""), "status": c.get("DBClusterStatus"),
               "network_type": str(c.get("DBClusterNetworkType") or ""), "vpc_id": c.get("VpcId") or ""},
    {
        "DescribeDBClusterAccessWhitelist": _whitelist,
        "DescribeDBClusterEndpoints": _endpoints,
        "DescribeDBClusterSSL": lambda b: {"ssl_collected": True, "ssl_enabled": any(
            str(i.get("SSLEnabled")).lower() in ("enabled", "enable") for i in listed(b, "Items"))},
        "DescribeDBClusterTDE": lambda b: {"tde_collected": True,
                                           "tde_enabled": str(b.get("TDEStatus")).lower() == "enabled"},
        "DescribeBackupPolicy": lambda b: {"backup_collected": True,
                                           "backup_retention_days": int_field(b, "DataLevel1BackupRetentionPeriod")},
        "DescribeDBClusterAuditLogCollector": lambda b: {
            "audit_collected": True, "audit_enabled": str(b.get("CollectorStatus")).lower() == "enable"},
    },
    id_param="DBClusterId",
)


def synthetic(call: Callable[..., None], rng: random.Random, region: str, count: int) -> None:
    clusters = [{"DBClusterId": f"pc-syn{region[-4:]}{i:06d}", "DBClusterDescription": f"orders-{i}", "DBType": "MySQL",
                 "DBVersion": rng.choice(["5.6", "8.0"]), "DBClusterStatus": "Running",
                 "DBClusterNetworkType": "VPC", "VpcId": f"vpc-{region}"} for i in range(count)]
    record_pages(call, *API.pair, "DescribeDBClusters", region, clusters, ("Items", "DBCluster"), 30, rng,
                 total_key="TotalRecordCount")
    for c in clusters:
        p = {"RegionId": region, "DBClusterId": c["DBClusterId"]}
        answers = {
            "DescribeDBClusterAccessWhitelist": {"Items": {"DBClusterIPArray": [{
                "DBClusterIPArrayName": "default", "SecurityIps": rng.choice(["10.0.0.0/8", "0.0.0.0/0"])}]}},
            "DescribeDBClusterEndpoints": {"Items": [{"EndpointType": "Cluster", "AddressItems": [
                {"NetType": rng.choice(["Private", "Public"]), "ConnectionString": f"{c['DBClusterId']}.rwlb"}]}]},
            "DescribeDBClusterSSL": {"Items": [{"SSLEnabled": rng.choice(["Enabled", "Disabled"])}]},
            "DescribeDBClusterTDE": {"TDEStatus": rng.choice(["Enabled", "Disabled"])},
            "DescribeBackupPolicy": {"DataLevel1BackupRetentionPeriod": rng.choice(["3", "7", "30"])},
            "DescribeDBClusterAuditLogCollector": {"CollectorStatus": rng.choice(["Enable", "Disable"])},
        }
        for action, body in answers.items():
            call(*API.pair, action, region, p, {"RequestId": request_id(rng), **body})


PRODUCT = Product(
    "polardb", (API,), LISTING.collect_region, LISTING.transform_region, synthetic=synthetic,
    nodes=(NodeSchema("PolardbCluster", "a PolarDB cluster", (
        "name", "engine", "engine_version", "status", "network_type", "vpc_id", "whitelist_collected", "security_ips",
        "whitelist_open", "net_collected", "public_endpoint", "ssl_collected", "ssl_enabled", "tde_collected",
        "tde_enabled", "backup_collected", "backup_retention_days", "audit_collected", "audit_enabled")),),
    attack_roles=(AttackRole("PolardbCluster", "target", exposed="n.public_endpoint AND n.whitelist_open",
                             read=("polardb:DescribeBackups",), write=("polardb:RestoreTable",),
                             admin=("polardb:ModifyDBClusterAccessWhitelist", "polardb:ResetAccount"),
                             resource="acs:polardb:{region}:{account}:dbcluster/{id}"),),
)
