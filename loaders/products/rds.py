"""ApsaraDB RDS: instances with whitelist, TDE, SSL, backup and SQL audit settings."""

from __future__ import annotations

import json
from typing import Any

from graph_schema.model import NodeSchema
from graph_schema.store import GraphBatch
from loaders.base import (
    NOT_CONFIGURED,
    CollectContext,
    CollectError,
    as_bool,
    dig,
    dig_list,
    paged,
)
from loaders.declaration import Api, AttackRole, Product
from loaders.listing import Listing
from loaders.regions import is_supported, version_unsupported

API = Api("Rds", "2014-08-15", "rds.aliyuncs.com", "alibabacloud_rds20140815.client", listings={
    "DescribeDBInstances": Listing(("Items", "DBInstance"), default_size=30, total_field="TotalRecordCount"),
})
RDS = API.pair
DETAIL_ACTIONS = (
    "DescribeDBInstanceAttribute",
    "DescribeDBInstanceIPArrayList",
    "DescribeDBInstanceTDE",
    "DescribeDBInstanceSSL",
    "DescribeBackupPolicy",
    "DescribeSQLCollectorPolicy",
)


def collect_region(ctx: CollectContext, region: str) -> dict[str, Any]:
    scope = f"rds:{region}"
    ctx.mark(scope, "ok")
    instances = paged(
        ctx, *RDS, "DescribeDBInstances", region, {"RegionId": region}, ("Items", "DBInstance"), scope=scope
    )
    details: dict[str, dict[str, Any]] = {}
    if isinstance(instances, list):
        for inst in instances:
            db_id = inst.get("DBInstanceId")
            details[db_id] = {
                action: ctx.call(*RDS, action, region, {"DBInstanceId": db_id}) for action in DETAIL_ACTIONS
            }
            # beyond the spec's minimum (no scope: a recording without them leaves their facts unknown)
            details[db_id]["DescribeDBInstanceEncryptionKey"] = ctx.call(
                *RDS, "DescribeDBInstanceEncryptionKey", region, {"DBInstanceId": db_id}, optional=True)
            if str(inst.get("Engine") or "").lower() == "postgresql":
                details[db_id]["DescribeParameters"] = ctx.call(*RDS, "DescribeParameters", region,
                                                                {"DBInstanceId": db_id}, optional=True)
    return {"region": region, "instances": instances, "details": details}


# PostgreSQL logging parameters that must be on: the CIS benchmark's (6.7-6.9), and checkpoints and lock waits
PG_LOG_PARAMETERS = ("log_connections", "log_disconnections", "log_duration", "log_checkpoints", "log_lock_waits")


def _parameters(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        return {}
    running = dig_list(body, "RunningParameters", "DBInstanceParameter", call="Rds:DescribeParameters")
    values = {str(p.get("ParameterName")): str(p.get("ParameterValue") or "").lower() for p in running}
    return {"params_collected": True, **{f"pg_{name}": values.get(name, "") for name in PG_LOG_PARAMETERS}}


def _encryption_key(body: Any) -> dict[str, Any]:
    """The TDE key: the account's own KMS key (BYOK: its creator is the account's UID) or the service's."""
    if not isinstance(body, dict):
        return {}
    creator = str(body.get("Creator") or "")
    return {"tde_key_collected": True, "tde_key_byok": bool(body.get("EncryptionKey")) and creator.isdigit()}


def _ok(body: Any) -> bool:
    return isinstance(body, dict)


def transform_region(raw: dict[str, Any], batch: GraphBatch) -> None:
    region = raw["region"]
    scope = f"rds:{region}"
    instances = raw.get("instances")
    if not isinstance(instances, list):
        return
    for inst in instances:
        db_id = inst.get("DBInstanceId")
        if not db_id:
            raise CollectError(f"Rds:DescribeDBInstances in {region}: an instance has no DBInstanceId")
        d = raw["details"].get(db_id, {})
        attr_body = d.get("DescribeDBInstanceAttribute")
        attr: dict[str, Any] = {}
        if _ok(attr_body):
            items = dig_list(attr_body, "Items", "DBInstanceAttribute", call="Rds:DescribeDBInstanceAttribute")
            attr = items[0] if items else {}
        engine = str(attr.get("Engine") or inst.get("Engine") or "")
        version = str(attr.get("EngineVersion") or inst.get("EngineVersion") or "")
        props: dict[str, Any] = {
            "region": region,
            "supported": is_supported("rds", region),
            "engine": engine,
            "engine_version": version,
            "category": attr.get("Category") or inst.get("Category"),
            "net_type": attr.get("DBInstanceNetType") or inst.get("DBInstanceNetType"),
            "status": inst.get("DBInstanceStatus"),
            "connection_string": attr.get("ConnectionString"),
            "port": str(attr.get("Port") or ""),
            "unsupported_checks": version_unsupported("rds", engine, version),
        }
        ips_body = d.get("DescribeDBInstanceIPArrayList")
        props["whitelist_collected"] = _ok(ips_body)
        if _ok(ips_body):
            ips: list[str] = []
            groups: list[dict[str, Any]] = []
            for arr in dig_list(ips_body, "Items", "DBInstanceIPArray", call="Rds:DescribeDBInstanceIPArrayList"):
                group_ips = [ip.strip() for ip in str(arr.get("SecurityIPList") or "").split(",") if ip.strip()]
                groups.append({"name": str(arr.get("DBInstanceIPArrayName") or "default"), "ips": group_ips,
                               "attribute": str(arr.get("DBInstanceIPArrayAttribute") or "")})
                ips.extend(group_ips)
            props["security_ips"] = ips
            props["whitelist_groups"] = json.dumps(groups)
        tde = d.get("DescribeDBInstanceTDE")
        props["tde_collected"] = _ok(tde) or tde is NOT_CONFIGURED
        props["tde_enabled"] = (str(dig(tde, "TDEStatus", default="")).lower() in ("enabled", "enable", "on")) if _ok(tde) else (False if tde is NOT_CONFIGURED else None)
        ssl = d.get("DescribeDBInstanceSSL")
        props["ssl_collected"] = _ok(ssl) or ssl is NOT_CONFIGURED
        if _ok(ssl):
            props["ssl_enabled"] = bool(as_bool(ssl.get("SSLEnabled")))
        elif ssl is NOT_CONFIGURED:
            props["ssl_enabled"] = False
        backup = d.get("DescribeBackupPolicy")
        props["backup_collected"] = _ok(backup)
        if _ok(backup):
            try:
                props["backup_retention_days"] = int(backup.get("BackupRetentionPeriod"))
            except (TypeError, ValueError) as exc:
                raise CollectError(
                    f"Rds:DescribeBackupPolicy {db_id}: field BackupRetentionPeriod is not a number"
                ) from exc
            if "BackupLog" in backup:
                props["backup_log_enabled"] = str(backup.get("BackupLog")).lower() in ("enable", "enabled", "true")
        audit = d.get("DescribeSQLCollectorPolicy")
        props["audit_collected"] = _ok(audit)
        if _ok(audit):
            props["sql_collector_enabled"] = str(audit.get("SQLCollectorStatus", "")).lower() in ("enable", "enabled")
            try:
                props["sql_audit_retention_days"] = int(audit["StoragePeriod"]) if "StoragePeriod" in audit else None
            except (TypeError, ValueError):
                props["sql_audit_retention_days"] = None
        props.update(_parameters(d.get("DescribeParameters")))
        props.update(_encryption_key(d.get("DescribeDBInstanceEncryptionKey")))
        batch.node("RdsInstance", db_id, scope, **props)


PRODUCT = Product(
    "rds", (API,), collect_region, transform_region, order=30,
    nodes=(NodeSchema("RdsInstance", "an ApsaraDB RDS instance", (
        "engine", "engine_version", "category", "net_type", "status", "connection_string", "port",
        "whitelist_collected", "security_ips", "whitelist_groups", "tde_collected", "tde_enabled", "ssl_collected",
        "ssl_enabled", "backup_collected", "backup_retention_days", "backup_log_enabled", "audit_collected",
        "sql_collector_enabled", "sql_audit_retention_days", "params_collected", "pg_log_connections",
        "pg_log_disconnections", "pg_log_duration", "pg_log_checkpoints", "pg_log_lock_waits", "tde_key_collected",
        "tde_key_byok")),),
    # the contract's mode (shared/spec/cli.md "Targets"): an instance it can administer
    attack_roles=(AttackRole(
        "RdsInstance", "target", exposed="toLower(n.net_type) = 'internet'",
        admin=("rds:ModifySecurityIps", "rds:ResetAccountPassword"),
        resource="acs:rds:{region}:{account}:dbinstance/{id}"),),
)
