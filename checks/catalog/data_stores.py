"""The items every managed data store shares (Redis, PolarDB, MongoDB, …), declared once: who can reach it
(whitelist, internet endpoint), whether its traffic and files are encrypted, backups and audit. A product's
catalog module picks the facts its declaration collects."""

from __future__ import annotations

from dataclasses import dataclass

from checks.model import CheckItem, Example

MLPS = "MLPS_2_0_L3"
WIDE = ("any(ip IN coalesce(n.security_ips, []) WHERE ip CONTAINS '/' AND NOT ip IN ['0.0.0.0/0'] "
        "AND toInteger(split(ip, '/')[1]) < 8)")


@dataclass(frozen=True)
class Shared:
    suffix: str
    title: str  # "{name}" is the product's name
    severity: str
    tier: str
    collected: str
    fails: str
    mlps: str
    description: str
    remediation: str
    passing: dict[str, object]
    failing: dict[str, object]


SHARED: dict[str, Shared] = {s.suffix: s for s in (
    Shared("WhitelistPublic", "{name} whitelist does not allow every address", "high", "free", "n.whitelist_collected",
           "n.whitelist_open", "8.1.3.2", "A whitelist contains 0.0.0.0/0 or 0.0.0.0: any address that reaches an "
           "endpoint may connect.", "Replace 0.0.0.0/0 in the whitelist with the client networks.",
           {"whitelist_collected": True, "whitelist_open": False}, {"whitelist_collected": True, "whitelist_open": True}),
    Shared("WhitelistWide", "{name} whitelist entries are narrower than /8", "medium", "paid", "n.whitelist_collected",
           WIDE, "8.1.3.2", "A whitelist entry is a CIDR wider than /8 (other than 0.0.0.0/0, reported on its own).",
           "Narrow the whitelist to the client networks.", {"whitelist_collected": True, "security_ips": ["10.0.0.0/8"]},
           {"whitelist_collected": True, "security_ips": ["0.0.0.0/1"]}),
    Shared("PublicEndpoint", "{name} has no internet endpoint", "medium", "free", "n.net_collected",
           "n.public_endpoint", "8.1.3.2", "The instance has an internet connection address.",
           "Release the internet endpoint; clients connect through the VPC.",
           {"net_collected": True, "public_endpoint": False}, {"net_collected": True, "public_endpoint": True}),
    Shared("PublicAndOpen", "{name} is not both internet-facing and open to all", "critical", "free",
           "n.net_collected AND n.whitelist_collected", "n.public_endpoint AND n.whitelist_open", "8.1.3.2",
           "The instance has an internet endpoint and its whitelist admits every address: anyone on the internet "
           "may try its credentials.", "Remove 0.0.0.0/0 from the whitelist and release the internet endpoint.",
           {"net_collected": True, "whitelist_collected": True, "public_endpoint": True, "whitelist_open": False},
           {"net_collected": True, "whitelist_collected": True, "public_endpoint": True, "whitelist_open": True}),
    Shared("SSLEnabled", "{name} encrypts connections (SSL/TLS)", "medium", "paid", "n.ssl_collected",
           "NOT n.ssl_enabled", "8.1.4.7", "SSL/TLS is off: queries, data and credentials cross the network in clear.",
           "Enable SSL on the instance (clients must connect with TLS afterwards).",
           {"ssl_collected": True, "ssl_enabled": True}, {"ssl_collected": True, "ssl_enabled": False}),
    Shared("TDEEnabled", "{name} transparent data encryption is enabled", "low", "paid", "n.tde_collected",
           "NOT n.tde_enabled", "8.1.4.8", "TDE is off: the data files are not encrypted at rest.",
           "Enable TDE (irreversible; prefer a customer-managed KMS key).",
           {"tde_collected": True, "tde_enabled": True}, {"tde_collected": True, "tde_enabled": False}),
    Shared("BackupRetention", "{name} backups are kept at least 7 days", "medium", "paid", "n.backup_collected",
           "n.backup_retention_days < 7", "8.1.4.9", "Backups are kept fewer than 7 days.",
           "Set the backup retention to 7 days or more.", {"backup_collected": True, "backup_retention_days": 7},
           {"backup_collected": True, "backup_retention_days": 3}),
    Shared("LongBackupRetention", "{name} backups are kept at least 30 days", "low", "paid", "n.backup_collected",
           "n.backup_retention_days < 30", "8.1.4.9", "Backups are kept fewer than 30 days (MLPS level 3 recovery "
           "objectives).", "Set the backup retention to 30 days or more.",
           {"backup_collected": True, "backup_retention_days": 30}, {"backup_collected": True, "backup_retention_days": 7}),
    Shared("AuditEnabled", "{name} audit log (SQL / operation audit) is enabled", "medium", "paid",
           "n.audit_collected", "NOT n.audit_enabled", "8.1.4.3",
           "The audit log is off: who read or changed what is not recorded.", "Enable the audit log collector.",
           {"audit_collected": True, "audit_enabled": True}, {"audit_collected": True, "audit_enabled": False}),
    Shared("ClassicNetwork", "{name} runs in a VPC", "low", "paid",
           "n.network_type IS NOT NULL AND n.network_type <> ''", "toLower(n.network_type) = 'classic'", "8.1.3.1",
           "The instance is on the classic network, shared with other tenants' instances.",
           "Switch the instance to a VPC (the connection address changes).", {"network_type": "VPC"},
           {"network_type": "Classic"}),
)}


def data_store_items(product: str, label: str, name: str, suffixes: tuple[str, ...],
                     end_of_life: tuple[str, ...] = ()) -> tuple[CheckItem, ...]:
    """`ACS_<product>_<suffix>` for each shared item the product's facts support, plus an engine end-of-life item
    when `end_of_life` names versions."""
    items = [CheckItem(
        id=f"ACS_{product}_{s.suffix}", title=s.title.format(name=name), product=product, asset_type=label,
        severity=s.severity, tier=s.tier, collected=s.collected, fails=s.fails, refs={MLPS: s.mlps},
        description=s.description, remediation=s.remediation, passing_example=Example(s.passing),
        failing_example=Example(s.failing)) for s in (SHARED[x] for x in suffixes)]
    if end_of_life:
        items.append(CheckItem(
            id=f"ACS_{product}_EngineEndOfLife", title=f"{name} engine version is supported", product=product,
            asset_type=label, severity="medium", tier="paid",
            collected="n.engine_version IS NOT NULL AND n.engine_version <> ''",
            fails=f"n.engine_version IN {list(end_of_life)}", refs={MLPS: "8.1.4.4"},
            description=f"Engine versions {', '.join(end_of_life)} are end of life: no security fixes.",
            remediation="Upgrade the engine's major version (test first).",
            passing_example=Example({"engine_version": "99.0"}), failing_example=Example({"engine_version": end_of_life[0]})))
    return tuple(items)
