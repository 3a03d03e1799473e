"""More RDS items: whitelist breadth, engine end of life, audit retention, log backups."""

from __future__ import annotations

from checks.catalog.rds import rds_item
from checks.model import CheckItem

CIS = "CIS_ALIBABA_CLOUD_2_0"
MLPS = "MLPS_2_0_L3"
WIDE = ("any(ip IN coalesce(n.security_ips, []) WHERE ip CONTAINS '/' AND NOT ip IN ['0.0.0.0/0'] "
        "AND toInteger(split(ip, '/')[1]) < 8 AND NOT ip CONTAINS ':')")
EOL = ("(toLower(n.engine) = 'mysql' AND n.engine_version IN ['5.1', '5.5', '5.6']) OR "
       "(toLower(n.engine) = 'postgresql' AND n.engine_version IN ['9.4', '9.5', '9.6', '10', '11']) OR "
       "(toLower(n.engine) = 'sqlserver' AND (n.engine_version STARTS WITH '2008' OR n.engine_version STARTS WITH '2012'))")

ITEMS: tuple[CheckItem, ...] = (
    rds_item("ACS_RDS_DBInstanceWhitelistWide", "RDS whitelist entries are narrower than /8", "medium", "paid",
             "n.whitelist_collected", WIDE, {CIS: "6.2", MLPS: "8.1.3.2"},
             "A whitelist entry is a CIDR wider than /8 (other than the 0.0.0.0/0 the core item reports).",
             "ModifySecurityIps with the client networks only.", "ModifySecurityIps",
             {"whitelist_collected": True, "security_ips": ["10.0.0.0/8"]},
             {"whitelist_collected": True, "security_ips": ["0.0.0.0/1"]}),
    rds_item("ACS_RDS_DBInstancePublicAndOpen", "RDS instances are not both internet-facing and open to all",
             "critical", "free", "n.whitelist_collected AND n.net_type IS NOT NULL",
             "toLower(n.net_type) = 'internet' AND any(ip IN coalesce(n.security_ips, []) WHERE ip IN ['0.0.0.0/0', '0.0.0.0'])",
             {CIS: "6.2", MLPS: "8.1.3.2"},
             "The instance has an internet endpoint and its whitelist admits every address.",
             "Remove 0.0.0.0/0 from the whitelist and release the public endpoint.", "ModifySecurityIps",
             {"whitelist_collected": True, "net_type": "Internet", "security_ips": ["10.0.0.0/8"]},
             {"whitelist_collected": True, "net_type": "Internet", "security_ips": ["0.0.0.0/0"]}),
    rds_item("ACS_RDS_DBInstanceEngineEndOfLife", "RDS engine version is supported", "medium", "paid",
             "n.engine_version IS NOT NULL AND n.engine IS NOT NULL", EOL, {MLPS: "8.1.4.4"},
             "The engine version is end of life (MySQL 5.1/5.5/5.6, PostgreSQL ≤ 11, SQL Server 2008 R2/2012): no "
             "security fixes.",
             "UpgradeDBInstanceEngineVersion to a supported major version (test first).", None,
             {"engine": "MySQL", "engine_version": "8.0"}, {"engine": "MySQL", "engine_version": "5.6"}),
    # CIS 6.4 asks for audit records kept 6 months: with auditing off none are kept, so that fails too (a
    # retention setting left from an earlier audit period keeps nothing)
    rds_item("ACS_RDS_DBInstanceAuditRetention", "RDS SQL audit is on and its logs are kept at least 180 days", "low",
             "paid", "n.audit_collected AND (NOT coalesce(n.sql_collector_enabled, false) "
             "OR n.sql_audit_retention_days IS NOT NULL)",
             "NOT coalesce(n.sql_collector_enabled, false) OR n.sql_audit_retention_days < 180",
             {CIS: "6.4", MLPS: "8.1.4.3"},
             "SQL audit is off (no audit record is kept at all), or on with a storage period shorter than 6 months "
             "(180 days).",
             "ModifySQLCollectorPolicy SQLCollectorStatus=Enable when it is off, then ModifySQLCollectorRetention "
             "ConfigValue=180 (or more).", "ModifySQLCollectorRetention",
             {"audit_collected": True, "sql_collector_enabled": True, "sql_audit_retention_days": 180},
             {"audit_collected": True, "sql_collector_enabled": False, "sql_audit_retention_days": 365}),
    rds_item("ACS_RDS_DBInstanceLogBackup", "RDS log backups are enabled", "low", "paid",
             "n.backup_collected AND n.backup_log_enabled IS NOT NULL", "NOT n.backup_log_enabled",
             {MLPS: "8.1.4.9"}, "Log backup is disabled: no point-in-time recovery.",
             "ModifyBackupPolicy BackupLog=Enable.", "ModifyBackupPolicy",
             {"backup_collected": True, "backup_log_enabled": True}, {"backup_collected": True, "backup_log_enabled": False}),
    rds_item("ACS_RDS_DBInstanceLongBackupRetention", "RDS backups are kept at least 30 days", "low", "paid",
             "n.backup_collected", "n.backup_retention_days < 30", {MLPS: "8.1.4.9"},
             "BackupRetentionPeriod is shorter than 30 days (MLPS level 3 recovery objectives).",
             "ModifyBackupPolicy BackupRetentionPeriod=30.", "ModifyBackupPolicy",
             {"backup_collected": True, "backup_retention_days": 30}, {"backup_collected": True, "backup_retention_days": 7}),
    rds_item("ACS_RDS_DBInstancePublicWithoutSSL", "Internet-facing RDS instances encrypt connections", "high", "paid",
             "n.net_type IS NOT NULL AND n.ssl_collected",
             "toLower(n.net_type) = 'internet' AND NOT coalesce(n.ssl_enabled, false)",
             {CIS: "6.1", MLPS: "8.1.4.7"},
             "The instance has an internet endpoint and SSL is off: credentials and data cross the internet in clear.",
             "ModifyDBInstanceSSL to enable SSL, or release the internet endpoint.", "ModifyDBInstanceSSL",
             {"net_type": "Internet", "ssl_collected": True, "ssl_enabled": True},
             {"net_type": "Internet", "ssl_collected": True, "ssl_enabled": False}),
)
