"""ApsaraDB for Redis / Tair (KVStore, `R-kvstore` 2015-01-01): instances with their whitelist, password-free
VPC access, TLS, backups, TDE and network endpoints (optional calls: a recording without them holds none)."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from graph_schema.model import NodeSchema
from graph_schema.store import GraphBatch
from loaders.base import CollectContext, CollectError, as_bool, dig_list, paged
from loaders.declaration import Api, AttackRole, Product
from loaders.listing import Listing
from loaders.regions import is_supported
from loaders.synthetic import record_pages, request_id

API = Api("R-kvstore", "2015-01-01", "r-kvstore.aliyuncs.com", listings={
    "DescribeInstances": Listing(("Instances", "KVStoreInstance")),
})
DETAILS = ("DescribeInstanceAttribute", "DescribeSecurityIps", "DescribeInstanceSSL", "DescribeBackupPolicy",
           "DescribeDBInstanceNetInfo", "DescribeInstanceTDEStatus")
OPEN = ("0.0.0.0/0", "0.0.0.0")


def collect_region(ctx: CollectContext, region: str) -> dict[str, Any]:
    scope = f"kvstore:{region}"
    ctx.mark(scope, "ok")
    instances = paged(ctx, *API.pair, "DescribeInstances", region, {"RegionId": region},
                      ("Instances", "KVStoreInstance"), scope=scope, optional=True)
    details = {
        inst["InstanceId"]: {action: ctx.call(*API.pair, action, region, {"InstanceId": inst["InstanceId"]},
                                              optional=True) for action in DETAILS}
        for inst in (instances if isinstance(instances, list) else []) if isinstance(inst, dict) and inst.get("InstanceId")
    }
    return {"region": region, "instances": instances, "details": details}


def _whitelist(body: Any) -> dict[str, Any]:
    groups = dig_list(body, "SecurityIpGroups", "SecurityIpGroup", call="R-kvstore:DescribeSecurityIps")
    ips = [ip.strip() for g in groups for ip in str(g.get("SecurityIpList") or "").split(",") if ip.strip()]
    return {"whitelist_collected": True, "security_ips": ips, "whitelist_open": any(ip in OPEN for ip in ips)}


def _attribute(body: Any) -> dict[str, Any]:
    attrs = dig_list(body, "Instances", "DBInstanceAttribute", call="R-kvstore:DescribeInstanceAttribute")
    attr = attrs[0] if attrs else {}
    # VpcAuthMode "Close": clients in the VPC connect without a password
    return {"auth_collected": bool(attr), "vpc_auth_mode": attr.get("VpcAuthMode"),
            "password_free": str(attr.get("VpcAuthMode") or "").lower() == "close"}


def _net_info(body: Any) -> dict[str, Any]:
    nets = dig_list(body, "NetInfoItems", "InstanceNetInfo", call="R-kvstore:DescribeDBInstanceNetInfo")
    # DBInstanceNetType "0": the internet endpoint ("1" classic private, "2" VPC)
    public = [n for n in nets if str(n.get("DBInstanceNetType")) == "0"]
    return {"net_collected": True, "public_endpoint": bool(public),
            "public_connection": str(public[0].get("ConnectionString") or "") if public else ""}


def _backup(body: Any) -> dict[str, Any]:
    try:
        days = int(body.get("BackupRetentionPeriod"))
    except (TypeError, ValueError) as exc:
        raise CollectError("R-kvstore:DescribeBackupPolicy: field BackupRetentionPeriod is not a number") from exc
    return {"backup_collected": True, "backup_retention_days": days,
            "backup_log_enabled": bool(as_bool(body.get("EnableBackupLog")))}


FACTS: dict[str, Callable[[Any], dict[str, Any]]] = {
    "DescribeInstanceAttribute": _attribute,
    "DescribeSecurityIps": _whitelist,
    "DescribeInstanceSSL": lambda b: {"ssl_collected": True,
                                      "ssl_enabled": str(b.get("SSLEnabled") or "").lower() in ("enable", "enabled")},
    "DescribeBackupPolicy": _backup,
    "DescribeDBInstanceNetInfo": _net_info,
    "DescribeInstanceTDEStatus": lambda b: {"tde_collected": True,
                                            "tde_enabled": str(b.get("TDEStatus") or "").lower() == "enabled"},
}


def transform_region(raw: dict[str, Any], batch: GraphBatch) -> None:
    instances, region = raw.get("instances"), raw["region"]
    if not isinstance(instances, list):
        return
    for inst in instances:
        iid = inst.get("InstanceId") if isinstance(inst, dict) else None
        if not iid:
            raise CollectError(f"R-kvstore:DescribeInstances in {region}: an instance has no InstanceId")
        props: dict[str, Any] = {
            "region": region, "supported": is_supported("kvstore", region), "name": inst.get("InstanceName"),
            "status": inst.get("InstanceStatus"), "engine_version": str(inst.get("EngineVersion") or ""),
            "instance_type": inst.get("InstanceType"), "network_type": str(inst.get("NetworkType") or ""),
            "vpc_id": inst.get("VpcId") or "", "connection_domain": inst.get("ConnectionDomain") or "",
        }
        for action, facts in FACTS.items():
            body = raw["details"].get(iid, {}).get(action)
            if isinstance(body, dict):
                props.update(facts(body))
        batch.node("KvstoreInstance", iid, f"kvstore:{region}", **props)


def synthetic(call: Callable[..., None], rng: random.Random, region: str, count: int) -> None:
    """Instances with the usual mix: some open to 0.0.0.0/0, password-free, without TLS, short backups."""
    items = [{"InstanceId": f"r-syn{region[-4:]}{i:06d}", "InstanceName": f"cache-{i}", "InstanceStatus": "Normal",
              "RegionId": region, "EngineVersion": rng.choice(["4.0", "5.0", "6.0", "7.0"]), "InstanceType": "Redis",
              "NetworkType": rng.choice(["VPC", "VPC", "CLASSIC"]), "VpcId": f"vpc-{region}",
              "ConnectionDomain": f"r-syn{i}.redis.rds.aliyuncs.com", "Port": 6379} for i in range(count)]
    record_pages(call, *API.pair, "DescribeInstances", region, items, ("Instances", "KVStoreInstance"), 50, rng)
    for inst in items:
        p, rid = {"InstanceId": inst["InstanceId"]}, request_id(rng)
        answers = {
            "DescribeInstanceAttribute": {"Instances": {"DBInstanceAttribute": [
                {"InstanceId": inst["InstanceId"], "VpcAuthMode": rng.choice(["Open", "Open", "Close"])}]}},
            "DescribeSecurityIps": {"SecurityIpGroups": {"SecurityIpGroup": [{
                "SecurityIpGroupName": "default", "SecurityIpGroupAttribute": "",
                "SecurityIpList": rng.choice(["127.0.0.1", "10.0.0.0/8", "0.0.0.0/0"])}]}},
            "DescribeInstanceSSL": {"SSLEnabled": rng.choice(["Enable", "Disable"])},
            "DescribeBackupPolicy": {"BackupRetentionPeriod": rng.choice(["3", "7", "30"]),
                                     "PreferredBackupPeriod": "Monday,Thursday", "EnableBackupLog": rng.choice([0, 1])},
            "DescribeDBInstanceNetInfo": {"NetInfoItems": {"InstanceNetInfo": [
                {"DBInstanceNetType": "2", "ConnectionString": inst["ConnectionDomain"]}]}},
            "DescribeInstanceTDEStatus": {"TDEStatus": rng.choice(["Enabled", "Disabled"])},
        }
        for action, body in answers.items():
            call(*API.pair, action, region, p, {"RequestId": rid, **body})


PRODUCT = Product(
    "kvstore", (API,), collect_region, transform_region, synthetic=synthetic,
    nodes=(NodeSchema("KvstoreInstance", "an ApsaraDB for Redis / Tair (KVStore) instance", (
        "name", "status", "engine_version", "instance_type", "network_type", "vpc_id", "connection_domain",
        "whitelist_collected", "security_ips", "whitelist_open", "auth_collected", "vpc_auth_mode", "password_free",
        "ssl_collected", "ssl_enabled", "backup_collected", "backup_retention_days", "backup_log_enabled",
        "net_collected", "public_endpoint", "public_connection", "tde_collected", "tde_enabled")),),
    attack_roles=(AttackRole(
        "KvstoreInstance", "target", exposed="n.public_endpoint AND n.whitelist_open",
        read=("kvstore:DescribeBackups",),  # its answer holds backup download URLs
        write=("kvstore:FlushInstance", "kvstore:RestoreInstance", "kvstore:ModifyInstanceConfig"),
        admin=("kvstore:ResetAccountPassword", "kvstore:ModifySecurityIps", "kvstore:ModifyInstanceVpcAuthMode"),
        resource="acs:kvstore:{region}:{account}:instance/{id}"),),
)
