"""More RAM items: the password policy requirement by requirement (CIS 1.7–1.14), keys, admins,
escalation and trust (facts derived at ingest: CAN_ESCALATE, CAN_ASSUME, policy probes)."""

from __future__ import annotations

from checks.catalog.ram import STRONG_PASSWORD_POLICY
from checks.model import CheckItem, Example

CIS = "CIS_ALIBABA_CLOUD_2_0"
MLPS = "MLPS_2_0_L3"
AUTH = {MLPS: "8.1.4.1"}
ACCESS = {MLPS: "8.1.4.2"}


def password_item(suffix: str, title: str, section: str | None, fails: str, weak: dict[str, object]) -> CheckItem:
    """One declaration per password-policy requirement, over the account's policy."""
    return CheckItem(
        id=f"ACS_RAM_Password{suffix}", title=title, product="RAM", asset_type="Account", severity="medium",
        tier="free", collected="n.password_policy_collected", fails=fails,
        refs={CIS: section, **AUTH} if section else dict(AUTH),
        description=f"The RAM password policy: {title.lower()}.", remediation="SetPasswordPolicy accordingly.",
        remediation_action="SetPasswordPolicy", legacy_free_editions=("advanced", "enterprise", "ultimate"),
        passing_example=Example(dict(STRONG_PASSWORD_POLICY)),
        failing_example=Example({**STRONG_PASSWORD_POLICY, **weak}),
    )


def principal_item(check_id: str, title: str, label: str, severity: str, tier: str, fails: str, description: str,
                   remediation: str, passing: Example, failing: Example, collected: str = "true",
                   refs: dict[str, str] | None = None, applies: str = "true", action: str | None = None) -> CheckItem:
    return CheckItem(
        id=check_id, title=title, product="RAM", asset_type=label, severity=severity, tier=tier, applies=applies,
        collected=collected, fails=fails, refs=refs or dict(ACCESS), description=description,
        remediation=remediation, remediation_action=action, passing_example=passing, failing_example=failing,
    )


def custom_policy_item(check_id: str, title: str, severity: str, tier: str, probe: str, description: str,
                       remediation: str) -> CheckItem:
    """Items over what a custom policy grants on its own (the analysis probes it at ingest)."""
    base = {"policy_type": "Custom", "document_collected": True}
    return principal_item(check_id, title, "RamPolicy", severity, tier,
                          f"coalesce(n.{probe}, false) AND NOT coalesce(n.full_admin, false)", description, remediation,
                          Example({**base, probe: False}), Example({**base, probe: True}),
                          collected="n.document_collected", applies="n.policy_type = 'Custom'")


ESCALATE_TO = ("CAN_ESCALATE", "Account", {"_rel": {"technique": "attach_policy_to_role"}})
FULL_ADMIN_TO = ("CAN_ESCALATE", "Account", {"_rel": {"technique": "full_admin"}})
FULL_ADMIN = "EXISTS { (n)-[e:CAN_ESCALATE]->(:Account) WHERE e.technique = 'full_admin' }"
ACTIVE_KEY = "EXISTS { (k:AccessKey)-[:AUTHENTICATES]->(n) WHERE toLower(k.status) = 'active' }"
COLLECTED = Example({"policies_collected": True})
ADMIN_USER = {"policies_collected": True, "login_collected": True, "mfa_collected": True, "has_login_profile": True}
ACTIVE = ("<AUTHENTICATES", "AccessKey", {"status": "Active"})
ADMIN_USERS = "COUNT { (u:RamUser)-[e:CAN_ESCALATE]->(n) WHERE e.technique = 'full_admin' }"
ADMIN_FROM = ("<CAN_ESCALATE", "RamUser", {"_rel": {"technique": "full_admin"}})
MAX_ADMINS = 3

PASSWORD_ITEMS: tuple[CheckItem, ...] = (
    password_item("RequireUppercase", "Passwords require an uppercase letter", "1.7",
                  "NOT coalesce(n.pw_require_upper, false)", {"pw_require_upper": False}),
    password_item("RequireLowercase", "Passwords require a lowercase letter", "1.8",
                  "NOT coalesce(n.pw_require_lower, false)", {"pw_require_lower": False}),
    password_item("RequireSymbols", "Passwords require a symbol", "1.9", "NOT coalesce(n.pw_require_symbols, false)",
                  {"pw_require_symbols": False}),
    password_item("RequireNumbers", "Passwords require a number", "1.10", "NOT coalesce(n.pw_require_numbers, false)",
                  {"pw_require_numbers": False}),
    password_item("MinLength14", "Passwords are at least 14 characters", "1.11", "coalesce(n.pw_min_length, 0) < 14",
                  {"pw_min_length": 8}),
    password_item("ReusePrevention", "Password reuse is prevented for 5 generations", "1.12",
                  "coalesce(n.pw_reuse_prevention, 0) < 5", {"pw_reuse_prevention": 0}),
    # MLPS asks for periodic changes; CIS 2.0 (1.13) recommends the opposite (365 days or more): its own item below
    password_item("MaxAge90", "Passwords expire within 90 days", None,
                  "coalesce(n.pw_max_age, 0) = 0 OR n.pw_max_age > 90", {"pw_max_age": 0}),
    # CIS 2.0 1.13: no forced expiry sooner than a year (0 = never). Its opposite, MaxAge90, is MLPS's: no
    # policy passes both; the automated password fix (90 days) serves MLPS, so this one is manual.
    CheckItem(
        id="ACS_RAM_MaxPasswordAgeAtLeast365", title="Passwords do not expire sooner than 365 days", product="RAM",
        asset_type="Account", severity="low", tier="paid",
        collected="n.password_policy_collected AND n.pw_max_age IS NOT NULL",
        fails="n.pw_max_age > 0 AND n.pw_max_age < 365", refs={CIS: "1.13"},
        description="MaxPasswordAge is between 1 and 364 days: CIS 2.0 asks for 365 days or more, or no expiry "
        "(0). MLPS level 3 asks for periodic changes instead (ACS_RAM_PasswordMaxAge90); assess each against "
        "its own framework.",
        remediation="Manual (the value depends on the framework you are assessed against): `aliyun ram "
        "SetPasswordPolicy --MaxPasswordAge 365` (or 0 for no expiry), repeating the policy's current values of "
        "the other fields.",
        passing_example=Example({**STRONG_PASSWORD_POLICY, "pw_max_age": 0}),
        failing_example=Example({**STRONG_PASSWORD_POLICY, "pw_max_age": 90}),
    ),
    password_item("MaxLoginAttempts", "Logins lock after at most 5 failed attempts", "1.14",
                  "coalesce(n.pw_max_login_attempts, 0) = 0 OR n.pw_max_login_attempts > 5", {"pw_max_login_attempts": 0}),
)

KEY_ITEMS: tuple[CheckItem, ...] = (
    principal_item("ACS_RAM_UserConsoleAndAccessKey", "Console users do not also hold active access keys", "RamUser",
                   "medium", "paid", f"n.has_login_profile AND {ACTIVE_KEY}",
                   "The user signs in to the console and also has an active access key: separate humans from programs.",
                   "Manual (programs may use the key): give the program its own RAM user or role, switch it to that identity, then `aliyun ram UpdateAccessKey --UserName <user> --UserAccessKeyId <key> --Status Inactive`, "
                   "watch for failures, and `aliyun ram DeleteAccessKey --UserName <user> --UserAccessKeyId <key>`.",
                   Example({"login_collected": True, "has_login_profile": True}),
                   Example({"login_collected": True, "has_login_profile": True}, (ACTIVE,)),
                   collected="n.login_collected", refs=dict(AUTH)),
    principal_item("ACS_RAM_UserMultipleActiveKeys", "RAM users have at most one active access key", "RamUser",
                   "low", "paid",
                   "COUNT { (k:AccessKey)-[:AUTHENTICATES]->(n) WHERE toLower(k.status) = 'active' } > 1",
                   "More than one active key: one of them is usually forgotten.", "Disable and delete the unused key.",
                   Example({}, (ACTIVE,)), Example({}, (ACTIVE, ACTIVE)), refs=dict(AUTH)),
    principal_item("ACS_RAM_AccessKeyInactive", "Inactive access keys are deleted", "AccessKey", "low", "free",
                   "toLower(n.status) = 'inactive'", "The key is disabled but still exists.",
                   "Manual (deletion is irreversible): check the key's last use (`aliyun ram GetAccessKeyLastUsed "
                   "--UserName <user> --UserAccessKeyId <key>` and ActionTrail), then `aliyun ram DeleteAccessKey "
                   "--UserName <user> --UserAccessKeyId <key>`.",
                   Example({"status": "Active"}), Example({"status": "Inactive"}), collected="n.status IS NOT NULL",
                   refs=dict(AUTH)),
    principal_item("ACS_RAM_AdminUserAccessKey", "Administrators do not hold active access keys", "RamUser",
                   "high", "paid", f"{FULL_ADMIN} AND {ACTIVE_KEY}",
                   "A user with full administrator access has an active access key: one leaked key (code, CI logs, "
                   "a laptop) is the whole account.",
                   "Manual (programs may use the key): give the program its own RAM user or role, switch it to that identity, then `aliyun ram UpdateAccessKey --UserName <user> --UserAccessKeyId <key> --Status Inactive`, "
                   "watch for failures, and `aliyun ram DeleteAccessKey --UserName <user> --UserAccessKeyId <key>`.",
                   Example({"policies_collected": True}, (FULL_ADMIN_TO,)),
                   Example({"policies_collected": True}, (FULL_ADMIN_TO, ACTIVE)),
                   collected="n.policies_collected", refs=dict(AUTH)),
)

PRINCIPAL_ITEMS: tuple[CheckItem, ...] = (
    principal_item("ACS_RAM_UserNotInGroup", "RAM users belong to a group", "RamUser", "low", "paid",
                   "NOT EXISTS { (n)-[:IN_GROUP]->(:RamGroup) }",
                   "The user is in no group: permissions are managed user by user.",
                   "Manual (which group is a decision): `aliyun ram AddUserToGroup --UserName <user> --GroupName "
                   "<group>`, then `aliyun ram DetachPolicyFromUser --PolicyType <type> --PolicyName <policy> "
                   "--UserName <user>` for each direct policy the group already grants.",
                   Example({}, (("IN_GROUP", "RamGroup", {}),)), Example({})),
    principal_item("ACS_RAM_UserFullAdmin", "RAM users do not hold full administrator access", "RamUser", "high", "free",
                   FULL_ADMIN, "The user's effective permissions (own and group policies) allow * on *.",
                   "Grant least-privilege policies; keep administrators few and MFA-protected.",
                   COLLECTED, Example(COLLECTED.props, (FULL_ADMIN_TO,)), collected="n.policies_collected"),
    principal_item("ACS_RAM_AdminUserWithoutMFA", "Administrators with console access have MFA", "RamUser",
                   "critical", "free", f"{FULL_ADMIN} AND n.has_login_profile AND NOT n.mfa_enabled",
                   "A user with full administrator access signs in to the console with a password only.",
                   "Bind an MFA device to the user and require MFA at logon (or remove the console login).",
                   Example({**ADMIN_USER, "mfa_enabled": True}, (FULL_ADMIN_TO,)),
                   Example({**ADMIN_USER, "mfa_enabled": False}, (FULL_ADMIN_TO,)),
                   collected="n.policies_collected AND n.login_collected AND n.mfa_collected",
                   refs={CIS: "1.4", **AUTH}),
    principal_item("ACS_RAM_UserAssumeAdminRole", "RAM users cannot assume an administrator role", "RamUser", "high",
                   "paid",
                   "EXISTS { (n)-[a:CAN_ASSUME]->(:RamRole)-[:CAN_ESCALATE]->(:Account) "
                   "WHERE NOT coalesce(a.conditional, false) } AND NOT EXISTS { (n)-[:CAN_ESCALATE]->(:Account) }",
                   "The user is not an administrator but may assume, without any condition, a role that is (or can "
                   "make itself) administrator.",
                   "Scope the user's sts:AssumeRole permission, or the role's trust policy, to what the user needs.",
                   COLLECTED, Example(COLLECTED.props, (("CAN_ASSUME", "RamRole", {"_then": (FULL_ADMIN_TO,)}),)),
                   collected="n.policies_collected"),
    principal_item("ACS_RAM_RoleFullAdmin", "RAM roles do not hold full administrator access", "RamRole", "high", "paid",
                   FULL_ADMIN, "Whoever assumes the role (an instance, a user, a partner) controls the account.",
                   "Replace the administrator policy with least-privilege policies.",
                   COLLECTED, Example(COLLECTED.props, (FULL_ADMIN_TO,)), collected="n.policies_collected"),
    principal_item("ACS_RAM_UserPrivilegeEscalation", "RAM users cannot escalate their own privileges", "RamUser",
                   "high", "paid", "EXISTS { (n)-[e:CAN_ESCALATE]->(:Account) WHERE e.technique <> 'full_admin' }",
                   "The user may use a RAM write action (attach policies, new policy versions, other users' keys or "
                   "passwords, pass roles…) to become administrator.",
                   "Remove the RAM write permissions or scope them to resources that cannot lead to escalation.",
                   COLLECTED, Example(COLLECTED.props, (ESCALATE_TO,)), collected="n.policies_collected"),
    principal_item("ACS_RAM_RolePrivilegeEscalation", "RAM roles cannot escalate their own privileges", "RamRole",
                   "high", "paid", "EXISTS { (n)-[e:CAN_ESCALATE]->(:Account) WHERE e.technique <> 'full_admin' }",
                   "The role may use a RAM write action to become administrator.",
                   "Remove the RAM write permissions from the role's policies.", COLLECTED,
                   Example(COLLECTED.props, (ESCALATE_TO,)), collected="n.policies_collected"),
    principal_item("ACS_RAM_RoleTrustAnyone", "No RAM role trusts every principal", "RamRole", "critical", "free",
                   "EXISTS { (n)-[t:TRUSTS]->(:ExternalPrincipal {id: '*'}) WHERE NOT coalesce(t.conditional, false) }",
                   "The trust policy's RAM principal is * without a Condition: anyone with an Alibaba Cloud account "
                   "can assume the role.", "UpdateRole with a trust policy naming the accounts or principals that need it.",
                   Example({"trust_collected": True}), Example({"trust_collected": True}, (("TRUSTS", "ExternalPrincipal", {"id": "*"}),)),
                   collected="n.trust_collected", action="UpdateRole"),
    principal_item("ACS_RAM_ExternalAdminRole", "Roles other accounts may assume are not administrators", "RamRole",
                   "critical", "paid", "coalesce(n.trust_external, false) AND EXISTS { (n)-[:CAN_ESCALATE]->(:Account) }",
                   "Another account (or anyone) may assume the role without a Condition, and the role is (or can make "
                   "itself) administrator: the other account's compromise is this account's.",
                   "Restrict the trust policy (sts:ExternalId condition, named principals) and the role's permissions.",
                   Example({"trust_collected": True, "policies_collected": True, "trust_external": True}),
                   Example({"trust_collected": True, "policies_collected": True, "trust_external": True}, (FULL_ADMIN_TO,)),
                   collected="n.trust_collected AND n.policies_collected", action="UpdateRole"),
    principal_item("ACS_RAM_InstanceRoleEscalation", "Instance roles cannot escalate to administrator", "RamRole",
                   "critical", "paid",
                   "EXISTS { (:EcsInstance)-[:HAS_ROLE]->(n) } AND EXISTS { (n)-[:CAN_ESCALATE]->(:Account) }",
                   "A role attached to ECS instances can become administrator: any code on those instances can.",
                   "Detach the role from the instances or remove its escalation permissions.",
                   Example({"policies_collected": True}, (("<HAS_ROLE", "EcsInstance", {}),)),
                   Example({"policies_collected": True}, (("<HAS_ROLE", "EcsInstance", {}), FULL_ADMIN_TO)),
                   collected="n.policies_collected"),
    principal_item("ACS_RAM_TooManyAdministrators", f"At most {MAX_ADMINS} RAM users are administrators", "Account",
                   "medium", "paid", f"{ADMIN_USERS} > {MAX_ADMINS}",
                   f"More than {MAX_ADMINS} RAM users hold full administrator access (own or group policies).",
                   "Keep a few break-glass administrators; give everyone else least-privilege groups.",
                   Example({"ram_collected": True}, (ADMIN_FROM,)),
                   Example({"ram_collected": True}, (ADMIN_FROM,) * (MAX_ADMINS + 1)),
                   collected="n.ram_collected"),
)

POLICY_ITEMS: tuple[CheckItem, ...] = (
    custom_policy_item("ACS_RAM_PolicyGrantsRamWrite", "Custom policies do not grant RAM write access broadly", "high",
                       "paid", "grants_ram_write",
                       "The policy allows attaching policies to any user (ram:* or RAM write actions on *).",
                       "Scope RAM permissions to read-only actions or named resources."),
    custom_policy_item("ACS_RAM_PolicyAssumeAnyRole", "Custom policies do not allow assuming any role", "medium", "paid",
                       "assume_any_role", "The policy allows sts:AssumeRole on every role.",
                       "Name the roles in the policy's Resource."),
    custom_policy_item("ACS_RAM_PolicyFullOssAccess", "Custom policies do not grant full control of every bucket",
                       "medium", "paid", "grants_oss_all",
                       "The policy allows destructive OSS actions (oss:* or oss:DeleteBucket) on every bucket.",
                       "Name the buckets in the policy's Resource and grant only the object actions needed."),
    principal_item("ACS_RAM_PolicyUnattached", "Custom policies are in use", "RamPolicy", "low", "free",
                   "NOT EXISTS { (n)<-[:ATTACHED]-() } AND coalesce(n.attachment_count, 0) = 0",
                   "The custom policy is attached to nobody: dead permissions waiting to be misused.",
                   "Manual (deletion is irreversible): keep a copy (`aliyun ram GetPolicyVersion --PolicyType Custom "
                   "--PolicyName <policy> --VersionId <default>`), delete its other versions (`aliyun ram "
                   "DeletePolicyVersion --PolicyName <policy> --VersionId <v>`), then `aliyun ram DeletePolicy "
                   "--PolicyName <policy>`.", Example({"policy_type": "Custom", "attachment_count": 1}),
                   Example({"policy_type": "Custom", "attachment_count": 0}),
                   collected="n.attachment_count IS NOT NULL OR EXISTS { (n)<-[:ATTACHED]-() }",
                   applies="n.policy_type = 'Custom'"),
    principal_item("ACS_RAM_GroupEmpty", "RAM groups have members", "RamGroup", "low", "free",
                   "NOT EXISTS { (:RamUser)-[:IN_GROUP]->(n) }", "The group has no users.",
                   "Manual (deletion is irreversible): detach its policies (`aliyun ram ListPoliciesForGroup "
                   "--GroupName <group>`, then `aliyun ram DetachPolicyFromGroup --PolicyType <type> --PolicyName "
                   "<policy> --GroupName <group>`), then `aliyun ram DeleteGroup --GroupName <group>`.",
                   Example({}, (("<IN_GROUP", "RamUser", {}),)), Example({})),
)

ITEMS: tuple[CheckItem, ...] = PASSWORD_ITEMS + KEY_ITEMS + PRINCIPAL_ITEMS + POLICY_ITEMS
