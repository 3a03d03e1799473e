"""RAM check items (policy facts — full admin, external trust — are computed at ingest)."""

from __future__ import annotations

from checks.model import CheckItem, Example

CIS = "CIS_ALIBABA_CLOUD_2_0"
MLPS = "MLPS_2_0_L3"

PASSWORD_POLICY_WEAK = (
    "coalesce(n.pw_min_length, 0) < 14 OR NOT coalesce(n.pw_require_upper, false) "
    "OR NOT coalesce(n.pw_require_lower, false) OR NOT coalesce(n.pw_require_numbers, false) "
    "OR NOT coalesce(n.pw_require_symbols, false) OR coalesce(n.pw_reuse_prevention, 0) < 5 "
    "OR coalesce(n.pw_max_login_attempts, 0) > 5 OR coalesce(n.pw_max_login_attempts, 0) = 0"
)
STRONG_PASSWORD_POLICY = {
    "password_policy_collected": True, "pw_min_length": 14, "pw_require_upper": True, "pw_require_lower": True,
    "pw_require_numbers": True, "pw_require_symbols": True, "pw_reuse_prevention": 5, "pw_max_login_attempts": 5,
    "pw_max_age": 90,
}

ITEMS: tuple[CheckItem, ...] = (
    CheckItem(
        id="ACS_RAM_UserConsoleMFA", title="RAM users with console access have MFA", product="RAM",
        asset_type="RamUser", severity="high", tier="free", collected="n.login_collected AND n.mfa_collected",
        fails="n.has_login_profile AND NOT n.mfa_enabled", refs={CIS: "1.4", MLPS: "8.1.4.1"},
        description="The user has a console login profile and no MFA device.",
        remediation="Manual (the device is the user's own phone or key): `aliyun ram CreateVirtualMFADevice "
        "--VirtualMFADeviceName <user>`, the user scans the QR code, `aliyun ram BindMFADevice --UserName <user> "
        "--SerialNumber <serial> --AuthenticationCode1 <code> --AuthenticationCode2 <next code>`, then `aliyun ram "
        "UpdateLoginProfile --UserName <user> --MFABindRequired true`.",
        passing_example=Example({"login_collected": True, "mfa_collected": True, "has_login_profile": True, "mfa_enabled": True}),
        failing_example=Example({"login_collected": True, "mfa_collected": True, "has_login_profile": True, "mfa_enabled": False}),
    ),
    CheckItem(
        id="ACS_RAM_AccessKeyRotation", title="Access keys are rotated within 90 days", product="RAM",
        asset_type="AccessKey", severity="medium", tier="paid", collected="n.age_days IS NOT NULL",
        fails="toLower(n.status) = 'active' AND n.age_days > 90", refs={CIS: "1.6", MLPS: "8.1.4.1"},
        description="The key is Active and was created more than 90 days before the snapshot's collected_at.",
        remediation="Manual (every client of the key must switch): `aliyun ram CreateAccessKey --UserName <user>`, "
        "move clients to the new key, `aliyun ram UpdateAccessKey --UserName <user> --UserAccessKeyId <old> --Status "
        "Inactive`, watch for failures, then `aliyun ram DeleteAccessKey --UserName <user> --UserAccessKeyId <old>`.",
        passing_example=Example({"status": "Active", "age_days": 30.0}),
        failing_example=Example({"status": "Active", "age_days": 200.0}),
    ),
    CheckItem(
        id="ACS_RAM_UserDirectPolicy", title="RAM users get permissions through groups only", product="RAM",
        asset_type="RamUser", severity="low", tier="paid", collected="n.policies_collected",
        fails="coalesce(n.direct_policy_count, 0) > 0", refs={CIS: "1.16", MLPS: "8.1.4.2"},
        description="Policies are attached to the user directly.",
        remediation="Attach the policies to a group, add the user to it, detach them from the user.",
        remediation_action="DetachPolicyFromUser",
        passing_example=Example({"policies_collected": True, "direct_policy_count": 0}),
        failing_example=Example({"policies_collected": True, "direct_policy_count": 2}),
    ),
    CheckItem(
        id="ACS_RAM_PolicyFullAdmin", title="No attached custom policy grants full administrator access",
        product="RAM", asset_type="RamPolicy", severity="high", tier="free", applies="n.policy_type = 'Custom'",
        collected="n.document_collected",
        fails="coalesce(n.full_admin, false) AND (EXISTS { (n)<-[:ATTACHED]-() } OR coalesce(n.attachment_count, 0) > 0)",
        refs={CIS: "1.15", MLPS: "8.1.4.2"},
        description="Its default version allows Action * on Resource *, and it is attached to a user, group or role.",
        remediation="Replace the policy with least-privilege policies and detach it.",
        remediation_action="DetachPolicyFromUser",  # and FromGroup / FromRole: wherever it is attached
        passing_example=Example({"policy_type": "Custom", "document_collected": True, "full_admin": False, "attachment_count": 1}),
        failing_example=Example({"policy_type": "Custom", "document_collected": True, "full_admin": True, "attachment_count": 1}),
    ),
    CheckItem(
        id="ACS_RAM_RoleTrustExternalAccount", title="RAM role trust policies do not trust other accounts without conditions",
        product="RAM", asset_type="RamRole", severity="high", tier="paid", collected="n.trust_collected",
        fails="coalesce(n.trust_external, false)", refs={MLPS: "8.1.4.2"},
        description="The trust policy lets a principal of another account (or *) assume the role without a Condition.",
        remediation="Restrict the trust policy's Principal to this account, or add a Condition (e.g. sts:ExternalId).",
        remediation_action="UpdateRole",
        passing_example=Example({"trust_collected": True, "trust_external": False}),
        failing_example=Example({"trust_collected": True, "trust_external": True}),
    ),
    CheckItem(
        id="ACS_RAM_PasswordPolicy", title="RAM password policy is strong", product="RAM", asset_type="Account",
        severity="medium", tier="free", collected="n.password_policy_collected", fails=PASSWORD_POLICY_WEAK,
        refs={CIS: "1.11", MLPS: "8.1.4.1"},
        description="Minimum length < 14, or upper/lower/number/symbol not all required, or reuse prevention < 5, "
        "or MaxLoginAttemps > 5 or 0.",
        remediation="SetPasswordPolicy: length 14, all character classes, reuse prevention 5, max login attempts 5.",
        remediation_action="SetPasswordPolicy",
        passing_example=Example(STRONG_PASSWORD_POLICY),
        failing_example=Example({**STRONG_PASSWORD_POLICY, "pw_min_length": 8}),
    ),
)
