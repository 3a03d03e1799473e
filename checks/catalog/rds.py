"""ApsaraDB RDS check items."""

from __future__ import annotations

from checks.model import CheckItem, item_factory

CIS = "CIS_ALIBABA_CLOUD_2_0"
MLPS = "MLPS_2_0_L3"


rds_item = item_factory("RDS", "RdsInstance")

ITEMS: tuple[CheckItem, ...] = (
    rds_item("ACS_RDS_DBInstanceHAConfig", "RDS instance uses a high-availability edition", "medium", "paid",
             "n.category IS NOT NULL", "toLower(n.category) = 'basic'", {MLPS: "8.1.4.9"},
             "Category is Basic (single node). MySQL 5.1/5.5 do not support the check (NOT_SUPPORTED).",
             "Manual (a paid edition change with a switchover, in a maintenance window): `aliyun rds "
             "ModifyDBInstanceSpec --DBInstanceId <id> --Category HighAvailability --DBInstanceClass <an HA class> "
             "--PayType <current> --EffectiveTime MaintainTime`, then check the new Category.",
             None, {"category": "HighAvailability"}, {"category": "Basic"}),
    rds_item("ACS_RDS_DBInstanceWhitelistPublic", "RDS whitelist does not allow every address", "high", "free",
             "n.whitelist_collected", "any(ip IN coalesce(n.security_ips, []) WHERE ip IN ['0.0.0.0/0', '0.0.0.0'])",
             {CIS: "6.2", MLPS: "8.1.3.2"},
             "A whitelist (any group) contains 0.0.0.0/0 or 0.0.0.0.",
             "ModifySecurityIps: remove 0.0.0.0/0 from every whitelist group.", "ModifySecurityIps",
             {"whitelist_collected": True, "security_ips": ["10.0.0.0/8"]},
             {"whitelist_collected": True, "security_ips": ["10.0.0.0/8", "0.0.0.0/0"]}),
    rds_item("ACS_RDS_DBInstancePublicEndpoint", "RDS instance has no internet endpoint", "medium", "free",
             "n.net_type IS NOT NULL", "toLower(n.net_type) = 'internet'", {MLPS: "8.1.3.2"},
             "DBInstanceNetType is Internet.", "Release the public endpoint (ReleaseInstancePublicConnection).",
             "ReleaseInstancePublicConnection", {"net_type": "Intranet"}, {"net_type": "Internet"}),
    rds_item("ACS_RDS_DBInstanceTDE", "RDS transparent data encryption is enabled", "medium", "paid",
             "n.tde_collected", "NOT coalesce(n.tde_enabled, false)", {CIS: "6.5", MLPS: "8.1.4.8"},
             "TDE is not enabled.", "ModifyDBInstanceTDE TDEStatus=Enabled.", "ModifyDBInstanceTDE",
             {"tde_collected": True, "tde_enabled": True}, {"tde_collected": True, "tde_enabled": False}),
    rds_item("ACS_RDS_DBInstanceSSL", "RDS SSL is enabled", "medium", "paid", "n.ssl_collected",
             "NOT coalesce(n.ssl_enabled, false)", {CIS: "6.1", MLPS: "8.1.4.7"},
             "SSL encryption of connections is not enabled.", "ModifyDBInstanceSSL to enable SSL on the connection string.",
             "ModifyDBInstanceSSL", {"ssl_collected": True, "ssl_enabled": True}, {"ssl_collected": True, "ssl_enabled": False}),
    rds_item("ACS_RDS_DBInstanceBackupRetention", "RDS backups are kept at least 7 days", "medium", "paid",
             "n.backup_collected", "n.backup_retention_days < 7", {MLPS: "8.1.4.9"},
             "BackupRetentionPeriod is shorter than 7 days.", "ModifyBackupPolicy BackupRetentionPeriod=7 (or more).",
             "ModifyBackupPolicy", {"backup_collected": True, "backup_retention_days": 7},
             {"backup_collected": True, "backup_retention_days": 3}),
    rds_item("ACS_RDS_DBInstanceSQLAudit", "RDS SQL audit (SQL collector) is enabled", "medium", "paid",
             "n.audit_collected", "NOT coalesce(n.sql_collector_enabled, false)", {CIS: "6.3", MLPS: "8.1.4.3"},
             "The SQL collector (audit log) is disabled.", "ModifySQLCollectorPolicy SQLCollectorStatus=Enable.",
             "ModifySQLCollectorPolicy", {"audit_collected": True, "sql_collector_enabled": True},
             {"audit_collected": True, "sql_collector_enabled": False}),
)
