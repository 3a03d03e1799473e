"""File Storage NAS items: encryption and who may mount (permission-group rules of its mount targets)."""

from __future__ import annotations

from checks.model import CheckItem, Example

MLPS = "MLPS_2_0_L3"
RULES = {"access_rules_collected": True}


def nas_item(suffix: str, title: str, severity: str, tier: str, collected: str, fails: str, mlps: str,
             description: str, remediation: str, passing: dict[str, object], failing: dict[str, object]) -> CheckItem:
    return CheckItem(id=f"ACS_NAS_{suffix}", title=title, product="NAS", asset_type="NasFileSystem",
                     severity=severity, tier=tier, collected=collected, fails=fails, refs={MLPS: mlps},
                     description=description, remediation=remediation, passing_example=Example(passing),
                     failing_example=Example(failing))


ITEMS: tuple[CheckItem, ...] = (
    nas_item("Encrypted", "NAS file system is encrypted at rest", "medium", "paid", "n.encrypted IS NOT NULL",
             "NOT n.encrypted", "8.1.4.8", "EncryptType is 0: the files are stored unencrypted.",
             "Create an encrypted file system (EncryptType 1 or 2) and migrate the data (encryption cannot be turned "
             "on later).", {"encrypted": True}, {"encrypted": False}),
    nas_item("EncryptedWithKms", "NAS file system is encrypted with a customer-managed key", "low", "paid",
             "n.encrypted_with_kms IS NOT NULL", "NOT n.encrypted_with_kms", "8.1.4.8",
             "The file system is unencrypted or uses the NAS-managed key (EncryptType 1).",
             "Create the file system with EncryptType 2 and a KMS key of the account.",
             {"encrypted_with_kms": True}, {"encrypted_with_kms": False}),
    nas_item("AccessRuleOpenToAll", "NAS permission groups do not admit every address", "high", "free",
             "n.access_rules_collected", "n.open_to_all", "8.1.3.2",
             "A permission-group rule of a mount target allows 0.0.0.0/0: any host that reaches the mount target "
             "mounts the file system.", "ModifyAccessRule with the client networks only.",
             {**RULES, "open_to_all": False}, {**RULES, "open_to_all": True}),
    nas_item("AccessRuleOpenWrite", "NAS permission groups do not give every address write access", "critical",
             "free", "n.access_rules_collected", "n.open_write", "8.1.3.2",
             "A rule allows read-write mounts (RDWR) from 0.0.0.0/0.",
             "ModifyAccessRule: restrict the source and use RDONLY where writes are not needed.",
             {**RULES, "open_write": False}, {**RULES, "open_write": True}),
    nas_item("AccessRuleRootSquash", "NAS rules squash remote root", "medium", "paid", "n.access_rules_collected",
             "n.root_squash_off", "8.1.4.2", "A rule uses no_squash: root on any client is root on the file system.",
             "ModifyAccessRule UserAccessType=root_squash (or all_squash).",
             {**RULES, "root_squash_off": False}, {**RULES, "root_squash_off": True}),
    nas_item("ClassicMountTarget", "NAS file system has no classic-network mount target", "low", "paid",
             "n.classic_mount_target IS NOT NULL", "n.classic_mount_target", "8.1.3.1",
             "A mount target is on the classic network, shared with other tenants.",
             "Create a VPC mount target, move the clients, delete the classic one.",
             {"classic_mount_target": False}, {"classic_mount_target": True}),
)
