"""RDS items over instance parameters and the TDE key (CIS 6.6-6.9)."""

from __future__ import annotations

from checks.model import CheckItem, Example

CIS = "CIS_ALIBABA_CLOUD_2_0"
MLPS = "MLPS_2_0_L3"
POSTGRES = "toLower(coalesce(n.engine, '')) = 'postgresql'"


def pg_log_item(parameter: str, section: str | None, what: str) -> CheckItem:
    suffix = "".join(part.title() for part in parameter.split("_"))
    prop = f"pg_{parameter}"
    return CheckItem(
        id=f"ACS_RDS_Postgres{suffix}", title=f"PostgreSQL parameter {parameter} is on", product="RDS",
        asset_type="RdsInstance", severity="low", tier="paid", applies=POSTGRES, collected="n.params_collected",
        fails=f"coalesce(n.{prop}, '') <> 'on'", refs={**({CIS: section} if section else {}), MLPS: "8.1.4.3"},
        description=f"{parameter} is not on: the database log does not record {what}.",
        remediation=f"ModifyParameter Parameters='{{\"{parameter}\":\"on\"}}' (takes effect without a restart).",
        passing_example=Example({"engine": "PostgreSQL", "params_collected": True, prop: "on"}),
        failing_example=Example({"engine": "PostgreSQL", "params_collected": True, prop: "off"}))


ITEMS: tuple[CheckItem, ...] = (
    pg_log_item("log_connections", "6.7", "each connection attempt"),
    pg_log_item("log_disconnections", "6.8", "the end of each session and its duration"),
    pg_log_item("log_duration", "6.9", "how long each statement ran"),
    pg_log_item("log_checkpoints", None, "checkpoints (and the I/O they cause)"),
    pg_log_item("log_lock_waits", None, "sessions that waited long for a lock"),
    CheckItem(
        id="ACS_RDS_TDEByok", title="RDS TDE uses the account's own KMS key (BYOK)", product="RDS",
        asset_type="RdsInstance", severity="low", tier="paid", applies="coalesce(n.tde_enabled, false)",
        collected="n.tde_key_collected", fails="NOT n.tde_key_byok", refs={CIS: "6.6", MLPS: "8.1.4.8"},
        description="TDE encrypts with the service-managed key: the account cannot rotate, disable or audit it.",
        remediation="ModifyDBInstanceTDE TDEStatus=Enabled EncryptionKey=<a customer-managed KMS key> (needs the "
                    "AliyunRDSInstanceEncryptionDefaultRole).",
        passing_example=Example({"tde_enabled": True, "tde_key_collected": True, "tde_key_byok": True}),
        failing_example=Example({"tde_enabled": True, "tde_key_collected": True, "tde_key_byok": False})),
)
