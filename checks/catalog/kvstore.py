"""ApsaraDB for Redis / Tair (KVStore) items: the shared data-store items, and whether it asks for a password."""

from __future__ import annotations

from checks.catalog.data_stores import data_store_items
from checks.model import CheckItem, Example

MLPS = "MLPS_2_0_L3"

ITEMS: tuple[CheckItem, ...] = (
    *data_store_items("KVSTORE", "KvstoreInstance", "Redis instance",
                      ("WhitelistPublic", "WhitelistWide", "PublicEndpoint", "PublicAndOpen", "SSLEnabled",
                       "TDEEnabled", "BackupRetention", "LongBackupRetention", "ClassicNetwork"),
                      end_of_life=("2.8", "4.0")),
    CheckItem(
        id="ACS_KVSTORE_BackupLogEnabled", title="Redis log backup (point-in-time recovery) is on", product="KVSTORE",
        asset_type="KvstoreInstance", severity="low", tier="paid", collected="n.backup_collected",
        fails="NOT coalesce(n.backup_log_enabled, false)", refs={MLPS: "8.1.4.9"},
        description="Log backup is off: a restore goes back to the last full backup, not to a point in time.",
        remediation="ModifyBackupPolicy EnableBackupLog=1.",
        passing_example=Example({"backup_collected": True, "backup_log_enabled": True}),
        failing_example=Example({"backup_collected": True, "backup_log_enabled": False})),
    CheckItem(
        id="ACS_KVSTORE_PasswordFreeAccess", title="Redis asks every client for a password", product="KVSTORE",
        asset_type="KvstoreInstance", severity="high", tier="free", collected="n.auth_collected",
        fails="n.password_free", refs={MLPS: "8.1.4.1"},
        description="Password-free access in the VPC is on (VpcAuthMode Close): any host of the VPC reads and writes "
                    "the data.",
        remediation="ModifyInstanceVpcAuthMode VpcAuthMode=Open (clients then need the account password).",
        passing_example=Example({"auth_collected": True, "password_free": False}),
        failing_example=Example({"auth_collected": True, "password_free": True})),
)
