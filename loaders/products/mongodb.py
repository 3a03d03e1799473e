"""ApsaraDB for MongoDB (`Dds` 2015-12-01): instances with their whitelist, endpoints, SSL, TDE, backups and audit."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from graph_schema.model import NodeSchema
from loaders.declaration import Api, AttackRole, Product
from loaders.instances import InstanceListing, comma_list, int_field, listed, whitelist_facts
from loaders.listing import Listing
from loaders.synthetic import record_pages, request_id

API = Api("Dds", "2015-12-01", "mongodb.aliyuncs.com", listings={
    "DescribeDBInstances": Listing(("DBInstances", "DBInstance")),
})


def _whitelist(body: dict[str, Any]) -> dict[str, Any]:
    groups = listed(body, "SecurityIpGroups", "SecurityIpGroup", call="Dds:DescribeSecurityIps")
    return whitelist_facts([ip for g in groups for ip in comma_list(g.get("SecurityIpList"))])


def _endpoints(body: dict[str, Any]) -> dict[str, Any]:
    nodes = listed(body, "ReplicaSets", "ReplicaSet", call="Dds:DescribeReplicaSetRole")
    return {"net_collected": True, "public_endpoint": any(str(n.get("NetworkType")).lower() == "public" for n in nodes)}


LISTING = InstanceListing(
    API, "mongodb", "MongodbInstance", "DescribeDBInstances", ("DBInstances", "DBInstance"), "DBInstanceId",
    lambda i: {"name": i.get("DBInstanceDescription") or "", "engine_version": str(i.get("EngineVersion") or ""),
               "instance_type": i.get("DBInstanceType"), "status": i.get("DBInstanceStatus"),
               "network_type": str(i.get("NetworkType") or ""), "vpc_id": i.get("VPCId") or ""},
    {
        "DescribeSecurityIps": _whitelist,
        "DescribeReplicaSetRole": _endpoints,
        "DescribeDBInstanceSSL": lambda b: {"ssl_collected": True, "ssl_enabled": str(b.get("SSLStatus")) == "Open"},
        "DescribeDBInstanceTDEInfo": lambda b: {"tde_collected": True,
                                                "tde_enabled": str(b.get("TDEStatus")).lower() == "enabled"},
        "DescribeBackupPolicy": lambda b: {"backup_collected": True,
                                           "backup_retention_days": int_field(b, "BackupRetentionPeriod")},
        "DescribeAuditPolicy": lambda b: {"audit_collected": True,
                                          "audit_enabled": str(b.get("LogAuditStatus")).lower() == "enable"},
    },
    id_param="DBInstanceId",
)


def synthetic(call: Callable[..., None], rng: random.Random, region: str, count: int) -> None:
    instances = [{"DBInstanceId": f"dds-syn{region[-4:]}{i:06d}", "DBInstanceDescription": f"catalog-{i}",
                  "Engine": "MongoDB", "EngineVersion": rng.choice(["3.4", "4.4", "6.0"]), "DBInstanceType": "replicate",
                  "DBInstanceStatus": "Running", "NetworkType": rng.choice(["VPC", "Classic"]), "VPCId": f"vpc-{region}"}
                 for i in range(count)]
    record_pages(call, *API.pair, "DescribeDBInstances", region, instances, ("DBInstances", "DBInstance"), 30, rng)
    for inst in instances:
        p = {"RegionId": region, "DBInstanceId": inst["DBInstanceId"]}
        answers = {
            "DescribeSecurityIps": {"SecurityIpGroups": {"SecurityIpGroup": [{
                "SecurityIpGroupName": "default", "SecurityIpList": rng.choice(["10.0.0.0/8", "0.0.0.0/0"])}]}},
            "DescribeReplicaSetRole": {"ReplicaSets": {"ReplicaSet": [
                {"NetworkType": rng.choice(["VPC", "Public"]), "ConnectionDomain": f"{inst['DBInstanceId']}.mongodb"}]}},
            "DescribeDBInstanceSSL": {"SSLStatus": rng.choice(["Open", "Closed"])},
            "DescribeDBInstanceTDEInfo": {"TDEStatus": rng.choice(["enabled", "disabled"])},
            "DescribeBackupPolicy": {"BackupRetentionPeriod": rng.choice([3, 7, 30])},
            "DescribeAuditPolicy": {"LogAuditStatus": rng.choice(["enable", "disabled"])},
        }
        for action, body in answers.items():
            call(*API.pair, action, region, p, {"RequestId": request_id(rng), **body})


PRODUCT = Product(
    "mongodb", (API,), LISTING.collect_region, LISTING.transform_region, synthetic=synthetic,
    nodes=(NodeSchema("MongodbInstance", "an ApsaraDB for MongoDB instance", (
        "name", "engine_version", "instance_type", "status", "network_type", "vpc_id", "whitelist_collected",
        "security_ips", "whitelist_open", "net_collected", "public_endpoint", "ssl_collected", "ssl_enabled",
        "tde_collected", "tde_enabled", "backup_collected", "backup_retention_days", "audit_collected",
        "audit_enabled")),),
    attack_roles=(AttackRole("MongodbInstance", "target", exposed="n.public_endpoint AND n.whitelist_open",
                             read=("dds:DescribeBackups",), write=("dds:RestoreDBInstance",),
                             admin=("dds:ModifySecurityIps", "dds:ResetAccountPassword"),
                             resource="acs:dds:{region}:{account}:dbinstance/{id}"),),
)
