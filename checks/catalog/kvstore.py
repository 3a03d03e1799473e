"""ApsaraDB for Redis / Tair (KVStore) items: who can reach an instance, whether it asks for a password,
and whether its data is encrypted and backed up."""

from __future__ import annotations

from checks.model import CheckItem, item_factory

MLPS = "MLPS_2_0_L3"
OPEN = "n.whitelist_open"
WIDE = ("any(ip IN coalesce(n.security_ips, []) WHERE ip CONTAINS '/' AND NOT ip IN ['0.0.0.0/0'] "
        "AND toInteger(split(ip, '/')[1]) < 8)")

kv_item = item_factory("KVSTORE", "KvstoreInstance")

ITEMS: tuple[CheckItem, ...] = (
    kv_item("ACS_KVSTORE_WhitelistPublic", "Redis whitelist does not allow every address", "high", "free",
            "n.whitelist_collected", OPEN, {MLPS: "8.1.3.2"},
            "A whitelist group contains 0.0.0.0/0 or 0.0.0.0: any address that reaches an endpoint may connect.",
            "ModifySecurityIps: replace 0.0.0.0/0 with the client networks.", None,
            {"whitelist_collected": True, "whitelist_open": False}, {"whitelist_collected": True, "whitelist_open": True}),
    kv_item("ACS_KVSTORE_WhitelistWide", "Redis whitelist entries are narrower than /8", "medium", "paid",
            "n.whitelist_collected", WIDE, {MLPS: "8.1.3.2"},
            "A whitelist entry is a CIDR wider than /8 (other than the 0.0.0.0/0 the core item reports).",
            "ModifySecurityIps with the client networks only.", None,
            {"whitelist_collected": True, "security_ips": ["10.0.0.0/8"]},
            {"whitelist_collected": True, "security_ips": ["0.0.0.0/1"]}),
    kv_item("ACS_KVSTORE_PasswordFreeAccess", "Redis asks every client for a password", "high", "free",
            "n.auth_collected", "n.password_free", {MLPS: "8.1.4.1"},
            "Password-free access in the VPC is on (VpcAuthMode Close): any host of the VPC reads and writes the data.",
            "ModifyInstanceVpcAuthMode VpcAuthMode=Open (clients then need the account password).", None,
            {"auth_collected": True, "password_free": False}, {"auth_collected": True, "password_free": True}),
    kv_item("ACS_KVSTORE_PublicEndpoint", "Redis instance has no internet endpoint", "medium", "free",
            "n.net_collected", "n.public_endpoint", {MLPS: "8.1.3.2"},
            "The instance has an internet connection string.",
            "ReleaseInstancePublicConnection (clients connect through the VPC).", None,
            {"net_collected": True, "public_endpoint": False}, {"net_collected": True, "public_endpoint": True}),
    kv_item("ACS_KVSTORE_PublicAndOpen", "Redis instances are not both internet-facing and open to all", "critical",
            "free", "n.net_collected AND n.whitelist_collected", f"n.public_endpoint AND {OPEN}", {MLPS: "8.1.3.2"},
            "The instance has an internet endpoint and its whitelist admits every address: anyone on the internet "
            "may try its password (or needs none).",
            "Remove 0.0.0.0/0 from the whitelist and release the internet endpoint.", None,
            {"net_collected": True, "whitelist_collected": True, "public_endpoint": True, "whitelist_open": False},
            {"net_collected": True, "whitelist_collected": True, "public_endpoint": True, "whitelist_open": True}),
    kv_item("ACS_KVSTORE_SSLEnabled", "Redis encrypts connections (TLS)", "medium", "paid", "n.ssl_collected",
            "NOT n.ssl_enabled", {MLPS: "8.1.4.7"},
            "TLS is off: commands, data and the password cross the network in clear.",
            "ModifyInstanceSSL SSLEnabled=Enable (clients must connect with TLS afterwards).", None,
            {"ssl_collected": True, "ssl_enabled": True}, {"ssl_collected": True, "ssl_enabled": False}),
    kv_item("ACS_KVSTORE_TDEEnabled", "Redis transparent data encryption is enabled", "low", "paid",
            "n.tde_collected", "NOT n.tde_enabled", {MLPS: "8.1.4.8"},
            "TDE is off: the instance's data files are not encrypted at rest.",
            "ModifyInstanceTDE TDEStatus=Enabled (irreversible; Redis 7.0 / Tair only).", None,
            {"tde_collected": True, "tde_enabled": True}, {"tde_collected": True, "tde_enabled": False}),
    kv_item("ACS_KVSTORE_BackupRetention", "Redis backups are kept at least 7 days", "medium", "paid",
            "n.backup_collected", "n.backup_retention_days < 7", {MLPS: "8.1.4.9"},
            "BackupRetentionPeriod is shorter than 7 days.", "ModifyBackupPolicy BackupRetentionPeriod=7 (or more).",
            None, {"backup_collected": True, "backup_retention_days": 7},
            {"backup_collected": True, "backup_retention_days": 3}),
    kv_item("ACS_KVSTORE_ClassicNetwork", "Redis instance runs in a VPC", "low", "paid",
            "n.network_type IS NOT NULL AND n.network_type <> ''", "toLower(n.network_type) = 'classic'",
            {MLPS: "8.1.3.1"}, "The instance is on the classic network, shared with other tenants' instances.",
            "SwitchNetwork to a VPC (the connection address changes).", None,
            {"network_type": "VPC"}, {"network_type": "CLASSIC"}),
    kv_item("ACS_KVSTORE_EngineEndOfLife", "Redis engine version is supported", "medium", "paid",
            "n.engine_version IS NOT NULL AND n.engine_version <> ''", "n.engine_version IN ['2.8', '4.0']",
            {MLPS: "8.1.4.4"}, "Redis 2.8 and 4.0 are end of life: no security fixes.",
            "UpgradeMajorVersion to 5.0 or later (test first).", None,
            {"engine_version": "7.0"}, {"engine_version": "4.0"}),
)
