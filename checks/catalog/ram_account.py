"""RAM items beyond the spec's minimum: the root account's own access keys and MFA (the account security
report), console users that stopped signing in (GetUser LastLoginDate), unbound virtual MFA devices."""

from __future__ import annotations

from checks.model import CheckItem, Example

CIS = "CIS_ALIBABA_CLOUD_2_0"
MLPS = "MLPS_2_0_L3"
REPORT = {"security_report_collected": True}
INACTIVE_DAYS = 90


def account_item(check_id: str, title: str, severity: str, tier: str, collected: str, fails: str,
                 refs: dict[str, str], description: str, remediation: str, passing: dict[str, object],
                 failing: dict[str, object]) -> CheckItem:
    return CheckItem(id=check_id, title=title, product="RAM", asset_type="Account", severity=severity, tier=tier,
                     collected=collected, fails=fails, refs=refs, description=description, remediation=remediation,
                     passing_example=Example(passing), failing_example=Example(failing))


ITEMS: tuple[CheckItem, ...] = (
    account_item("ACS_RAM_RootAccessKey", "The root account has no access key", "critical", "free",
                 "n.security_report_collected", "n.root_access_key_count > 0", {CIS: "1.2", MLPS: "8.1.4.2"},
                 "The Alibaba Cloud account itself has an access key: it signs any request with every permission, "
                 "and no RAM policy limits it.",
                 "Manual: sign in as the root account, AccessKey Management › delete its keys (use RAM users or "
                 "roles instead).", {**REPORT, "root_access_key_count": 0}, {**REPORT, "root_access_key_count": 1}),
    account_item("ACS_RAM_RootMFA", "The root account signs in with MFA", "high", "free",
                 "n.security_report_collected", "NOT n.root_mfa_enabled", {CIS: "1.3", MLPS: "8.1.4.1"},
                 "No MFA device is bound to the root account: its password alone opens the whole account.",
                 "Manual: sign in as the root account, Security Settings › bind an MFA device.",
                 {**REPORT, "root_mfa_enabled": True}, {**REPORT, "root_mfa_enabled": False}),
    account_item("ACS_RAM_UnboundVirtualMFA", "Every virtual MFA device is bound to a user", "low", "paid",
                 "n.unbound_virtual_mfa_count IS NOT NULL", "n.unbound_virtual_mfa_count > 0", {MLPS: "8.1.4.1"},
                 "A virtual MFA device exists that no user has bound (a leftover or a half-finished enrolment).",
                 "DeleteVirtualMFADevice on the unbound devices.",
                 {"unbound_virtual_mfa_count": 0}, {"unbound_virtual_mfa_count": 2}),
    CheckItem(
        id="ACS_RAM_UserInactiveConsole", title=f"Console users that have not signed in for {INACTIVE_DAYS} days "
        "are disabled", product="RAM", asset_type="RamUser", severity="medium", tier="free",
        applies="coalesce(n.has_login_profile, false)", collected="n.login_collected AND n.last_login_collected",
        fails=f"coalesce(n.last_login_days, n.created_days, 0) >= {INACTIVE_DAYS}", refs={CIS: "1.5", MLPS: "8.1.4.2"},
        description=f"The user may sign in to the console but has not for {INACTIVE_DAYS} days or more (or never, "
                    f"created {INACTIVE_DAYS}+ days ago): an unwatched password.",
        remediation="DeleteLoginProfile for the user (its access keys, if any, keep working).",
        passing_example=Example({"has_login_profile": True, "login_collected": True, "last_login_collected": True,
                                 "last_login_days": 2.0}),
        failing_example=Example({"has_login_profile": True, "login_collected": True, "last_login_collected": True,
                                 "last_login_days": 200.0})),
)
