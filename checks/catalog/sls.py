"""Simple Log Service items: logstore retention (CIS 2.23, MLPS six months) and encryption."""

from __future__ import annotations

from checks.model import CheckItem, Example

CIS = "CIS_ALIBABA_CLOUD_2_0"
MLPS = "MLPS_2_0_L3"
AUDIT = {MLPS: "8.1.4.3"}
STORE = {"details_collected": True}
# logstores of a project an enabled ActionTrail trail delivers to (SlsProjectArn ends with project/<name>)
TRAIL_PROJECT = ("EXISTS { MATCH (t:Trail {account_id: n.account_id}) WHERE toLower(coalesce(t.status, '')) = 'enable' "
                 "AND t.sls_project_arn ENDS WITH ('project/' + n.project) }")
TRAIL: tuple[tuple[str, str, dict[str, object]], ...] = (("", "Trail", {"status": "Enable", "sls_project_arn": "acs:log:cn-hangzhou:1:project/audit"}),)


def logstore_item(check_id: str, title: str, severity: str, tier: str, fails: str, refs: dict[str, str],
                  description: str, remediation: str, passing: dict[str, object], failing: dict[str, object],
                  applies: str = "true", related: tuple[tuple[str, str, dict[str, object]], ...] = ()) -> CheckItem:
    return CheckItem(
        id=check_id, title=title, product="SLS", asset_type="SlsLogstore", severity=severity, tier=tier,
        applies=applies, collected="n.details_collected", fails=fails, refs=refs, description=description,
        remediation=remediation, remediation_action=None,  # manual: Skypath's SLS client only reads
        passing_example=Example({**STORE, **passing}, related), failing_example=Example({**STORE, **failing}, related),
    )


def retention_item(check_id: str, title: str, days: int, severity: str, refs: dict[str, str], why: str,
                   applies: str = "true", related: tuple[tuple[str, str, dict[str, object]], ...] = (),
                   extra: dict[str, object] | None = None) -> CheckItem:
    """Logstores must keep data `days` days or more (ttl 3650 is permanent storage)."""
    return logstore_item(check_id, title, severity, "paid", f"n.ttl_days < {days}", refs,
                         f"The logstore keeps data for fewer than {days} days: {why}",
                         f"Manual: `aliyun log update_logstore --project_name=<project> --logstore_name=<logstore> "
                         f"--ttl={days}` (or more; 3650 is permanent), or in the console: Logstore › Modify › Data "
                         "Retention Period.",
                         {**(extra or {}), "ttl_days": days}, {**(extra or {}), "ttl_days": 30}, applies, related)


ITEMS: tuple[CheckItem, ...] = (
    retention_item("ACS_SLS_LogstoreRetention365", "Logstores keep data 365 days or more", 365, "low",
                   {CIS: "2.23", **AUDIT}, "incidents are often found long after they happen."),
    retention_item("ACS_SLS_LogstoreRetention180", "Logstores keep data at least six months", 180, "medium",
                   {MLPS: "8.1.5.4"},
                   "the Cybersecurity Law and MLPS level 3 ask for six months of logs."),
    retention_item("ACS_SLS_TrailLogstoreRetention", "ActionTrail's logstores keep events 365 days or more", 365,
                   "high", {CIS: "2.23", **AUDIT}, "the account's audit trail disappears before it is needed.",
                   applies=TRAIL_PROJECT, related=TRAIL, extra={"project": "audit"}),
    logstore_item("ACS_SLS_LogstoreEncryption", "Logstores encrypt data at rest", "medium", "paid",
                  "NOT coalesce(n.encrypted, false)", {MLPS: "8.1.4.8"},
                  "encrypt_conf is off: the logs (often holding IPs, user names, tokens) are stored unencrypted.",
                  "Manual (encryption cannot be turned off again): `aliyun log update_logstore --project_name=<project> "
                  "--logstore_name=<logstore> --encrypt_conf='{\"enable\": true, \"encrypt_type\": \"default\"}'`.",
                  {"encrypted": True}, {"encrypted": False}),
    logstore_item("ACS_SLS_LogstoreCustomerKey", "Encrypted logstores use a customer-managed KMS key", "low", "paid",
                  "NOT coalesce(n.customer_key, false)", {MLPS: "8.1.4.8"},
                  "The logstore is encrypted with the service-managed key, not a key you control (BYOK).",
                  "Manual (needs a KMS key and a role SLS may use): `aliyun log update_logstore --project_name=<project> "
                  "--logstore_name=<logstore> --encrypt_conf='{\"enable\": true, \"encrypt_type\": \"default\", "
                  "\"user_cmk_info\": {\"cmk_key_id\": \"<key>\", \"arn\": \"<role arn>\", \"region_id\": "
                  "\"<region>\"}}'`.",
                  {"encrypted": True, "customer_key": True}, {"encrypted": True, "customer_key": False},
                  applies="coalesce(n.encrypted, false)"),
)
