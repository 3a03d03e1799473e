"""Key Management Service items, over customer-managed keys (keys cloud services create for
themselves are managed — and rotated — by those services)."""

from __future__ import annotations

from checks.model import CheckItem, Example

MLPS = "MLPS_2_0_L3"
KEYS = {MLPS: "8.1.4.8"}
CUSTOMER = "coalesce(n.customer_managed, false)"
ENABLED = f"{CUSTOMER} AND n.key_state = 'Enabled'"
SYMMETRIC = (f"{ENABLED} AND n.origin = 'Aliyun_KMS' AND "
             "(n.key_spec STARTS WITH 'Aliyun_AES' OR n.key_spec = 'Aliyun_SM4')")
CUSTOMER_KEY = {"details_collected": True, "customer_managed": True, "key_state": "Enabled", "origin": "Aliyun_KMS",
                "key_spec": "Aliyun_AES_256"}
MAX_ROTATION_DAYS = 365
EXPIRY_WARNING_DAYS = 30


def key_item(check_id: str, title: str, severity: str, tier: str, applies: str, fails: str, description: str,
             remediation: str, action: str | None, passing: dict[str, object], failing: dict[str, object]) -> CheckItem:
    return CheckItem(
        id=check_id, title=title, product="KMS", asset_type="KmsKey", severity=severity, tier=tier, applies=applies,
        collected="n.details_collected", fails=fails, refs=KEYS, description=description, remediation=remediation,
        remediation_action=action, passing_example=Example({**CUSTOMER_KEY, **passing}),
        failing_example=Example({**CUSTOMER_KEY, **failing}),
    )


ITEMS: tuple[CheckItem, ...] = (
    key_item("ACS_KMS_KeyRotationEnabled", "Customer-managed symmetric keys rotate automatically", "medium", "paid",
             SYMMETRIC, "n.automatic_rotation <> 'Enabled'",
             "AutomaticRotation is not Enabled: the same key material protects data for ever.",
             "UpdateRotationPolicy EnableAutomaticRotation=true RotationInterval=365d (or shorter).",
             "UpdateRotationPolicy", {"automatic_rotation": "Enabled", "rotation_interval_days": 365.0},
             {"automatic_rotation": "Disabled"}),
    key_item("ACS_KMS_KeyRotationInterval", "Key rotation happens at least yearly", "low", "paid",
             f"{SYMMETRIC} AND n.automatic_rotation = 'Enabled'",
             f"coalesce(n.rotation_interval_days, 0) > {MAX_ROTATION_DAYS}",
             f"Automatic rotation is on but its interval is longer than {MAX_ROTATION_DAYS} days.",
             "UpdateRotationPolicy RotationInterval=365d (or shorter).", "UpdateRotationPolicy",
             {"automatic_rotation": "Enabled", "rotation_interval_days": 180.0},
             {"automatic_rotation": "Enabled", "rotation_interval_days": 730.0}),
    key_item("ACS_KMS_KeyDeletionProtection", "Customer-managed keys have deletion protection", "medium", "paid",
             ENABLED, "NOT coalesce(n.deletion_protection, false)",
             "DeletionProtection is off: one ScheduleKeyDeletion call makes everything encrypted with the key "
             "unreadable after the waiting period.",
             "SetDeletionProtection EnableDeletionProtection=true.", "SetDeletionProtection",
             {"deletion_protection": True}, {"deletion_protection": False}),
    key_item("ACS_KMS_KeyPendingDeletion", "No customer-managed key is pending deletion", "high", "free", CUSTOMER,
             "n.key_state = 'PendingDeletion'",
             "The key is scheduled for deletion: data encrypted with it becomes unrecoverable at DeleteDate.",
             "CancelKeyDeletion if anything still uses the key.", "CancelKeyDeletion",
             {"key_state": "Enabled"}, {"key_state": "PendingDeletion"}),
    key_item("ACS_KMS_KeyMaterialExpiring", "Imported key material does not expire within 30 days", "high", "paid",
             f"{CUSTOMER} AND n.origin = 'EXTERNAL'",
             f"coalesce(n.material_expires_in_days, {EXPIRY_WARNING_DAYS + 1}) <= {EXPIRY_WARNING_DAYS}",
             f"The key's imported (BYOK) material expires within {EXPIRY_WARNING_DAYS} days of the snapshot: the key "
             "then stops working until material is imported again.",
             "Manual (needs your key material): `aliyun kms GetParametersForImport --KeyId <key> --WrappingAlgorithm "
             "RSAES_OAEP_SHA_256 --WrappingKeySpec RSA_2048`, wrap the material with the returned public key, then "
             "`aliyun kms ImportKeyMaterial --KeyId <key> --EncryptedKeyMaterial <base64> --ImportToken <token> "
             "--KeyMaterialExpireUnix <later, or 0: never>`.", None,
             {"origin": "EXTERNAL", "material_expires_in_days": 200.0},
             {"origin": "EXTERNAL", "material_expires_in_days": 10.0}),
)
