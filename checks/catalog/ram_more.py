"""More RAM items: the password policy requirement by requirement, keys, admins, escalation, trust."""

from __future__ import annotations

from checks.catalog.ram import STRONG_PASSWORD_POLICY
from checks.model import CheckItem, Example

CIS = "CIS_ALIBABA_CLOUD_2_0"
MLPS = "MLPS_2_0_L3"
AUTH = {MLPS: "8.1.4.1 identity authentication"}


def password_item(suffix: str, title: str, section: str, fails: str, weak: dict[str, object]) -> CheckItem:
    """One declaration per CIS password-policy recommendation, over the account's policy."""
    return CheckItem(
        id=f"ACS_RAM_Password{suffix}", title=title, product="RAM", asset_type="Account", severity="medium",
        tier="free", collected="n.password_policy_collected", fails=fails, refs={CIS: section, **AUTH},
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
        collected=collected, fails=fails, refs=refs or {MLPS: "8.1.4.2 access control"}, description=description,
        remediation=remediation, remediation_action=action, passing_example=passing, failing_example=failing,
    )


ESCALATE_TO = ("CAN_ESCALATE", "Account", {"_rel": {"technique": "attach_policy_to_role"}})
FULL_ADMIN_TO = ("CAN_ESCALATE", "Account", {"_rel": {"technique": "full_admin"}})
COLLECTED = Example({"policies_collected": True})

ITEMS: tuple[CheckItem, ...] = (
    password_item("MinLength14", "Passwords are at least 14 characters", "1.9", "coalesce(n.pw_min_length, 0) < 14",
                  {"pw_min_length": 8}),
    password_item("RequireUppercase", "Passwords require an uppercase letter", "1.10",
                  "NOT coalesce(n.pw_require_upper, false)", {"pw_require_upper": False}),
    password_item("RequireLowercase", "Passwords require a lowercase letter", "1.11",
                  "NOT coalesce(n.pw_require_lower, false)", {"pw_require_lower": False}),
    password_item("RequireNumbers", "Passwords require a number", "1.12", "NOT coalesce(n.pw_require_numbers, false)",
                  {"pw_require_numbers": False}),
    password_item("RequireSymbols", "Passwords require a symbol", "1.13", "NOT coalesce(n.pw_require_symbols, false)",
                  {"pw_require_symbols": False}),
    password_item("ReusePrevention", "Password reuse is prevented for 5 generations", "1.14",
                  "coalesce(n.pw_reuse_prevention, 0) < 5", {"pw_reuse_prevention": 0}),
    password_item("MaxAge90", "Passwords expire within 90 days", "1.15",
                  "coalesce(n.pw_max_age, 0) = 0 OR n.pw_max_age > 90", {"pw_max_age": 0}),
    password_item("MaxLoginAttempts", "Logins lock after at most 5 failed attempts", "1.16",
                  "coalesce(n.pw_max_login_attempts, 0) = 0 OR n.pw_max_login_attempts > 5", {"pw_max_login_attempts": 0}),
    principal_item("ACS_RAM_UserConsoleAndAccessKey", "Console users do not also hold active access keys", "RamUser",
                   "medium", "paid",
                   "n.has_login_profile AND EXISTS { (k:AccessKey)-[:AUTHENTICATES]->(n) WHERE toLower(k.status) = 'active' }",
                   "The user signs in to the console and also has an active access key: separate humans from programs.",
                   "Give programs their own RAM users or roles; delete the human's keys.",
                   Example({"login_collected": True, "has_login_profile": True}),
                   Example({"login_collected": True, "has_login_profile": True},
                           (("<AUTHENTICATES", "AccessKey", {"status": "Active"}),)),
                   collected="n.login_collected", refs={CIS: "1.6", **AUTH}),
    principal_item("ACS_RAM_UserMultipleActiveKeys", "RAM users have at most one active access key", "RamUser",
                   "low", "paid",
                   "COUNT { (k:AccessKey)-[:AUTHENTICATES]->(n) WHERE toLower(k.status) = 'active' } > 1",
                   "More than one active key: one of them is usually forgotten.", "Disable and delete the unused key.",
                   Example({}, (("<AUTHENTICATES", "AccessKey", {"status": "Active"}),)),
                   Example({}, (("<AUTHENTICATES", "AccessKey", {"status": "Active"}),
                                ("<AUTHENTICATES", "AccessKey", {"status": "Active"}))),
                   refs={CIS: "1.7", **AUTH}),
    principal_item("ACS_RAM_AccessKeyInactive", "Inactive access keys are deleted", "AccessKey", "low", "free",
                   "toLower(n.status) = 'inactive'", "The key is disabled but still exists.",
                   "DeleteAccessKey once you are sure nothing uses it.",
                   Example({"status": "Active"}), Example({"status": "Inactive"}), collected="n.status IS NOT NULL",
                   refs=AUTH, action="DeleteAccessKey"),
    principal_item("ACS_RAM_UserNotInGroup", "RAM users belong to a group", "RamUser", "low", "paid",
                   "NOT EXISTS { (n)-[:IN_GROUP]->(:RamGroup) }",
                   "The user is in no group: permissions are managed user by user.",
                   "Add the user to a group that carries its permissions.",
                   Example({}, (("IN_GROUP", "RamGroup", {}),)), Example({})),
    principal_item("ACS_RAM_UserFullAdmin", "RAM users do not hold full administrator access", "RamUser", "high", "free",
                   "EXISTS { (n)-[e:CAN_ESCALATE]->(:Account) WHERE e.technique = 'full_admin' }",
                   "The user's effective permissions (own and group policies) allow * on *.",
                   "Grant least-privilege policies; keep administrators few and MFA-protected.",
                   COLLECTED, Example(COLLECTED.props, (FULL_ADMIN_TO,)), collected="n.policies_collected",
                   refs={CIS: "1.15", MLPS: "8.1.4.2 access control"}),
    principal_item("ACS_RAM_RoleFullAdmin", "RAM roles do not hold full administrator access", "RamRole", "high", "paid",
                   "EXISTS { (n)-[e:CAN_ESCALATE]->(:Account) WHERE e.technique = 'full_admin' }",
                   "Whoever assumes the role (an instance, a user, a partner) controls the account.",
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
    principal_item("ACS_RAM_InstanceRoleEscalation", "Instance roles cannot escalate to administrator", "RamRole",
                   "critical", "paid",
                   "EXISTS { (:EcsInstance)-[:HAS_ROLE]->(n) } AND EXISTS { (n)-[:CAN_ESCALATE]->(:Account) }",
                   "A role attached to ECS instances can become administrator: any code on those instances can.",
                   "Detach the role from the instances or remove its escalation permissions.",
                   Example({}, (("<HAS_ROLE", "EcsInstance", {}),)),
                   Example({}, (("<HAS_ROLE", "EcsInstance", {}), FULL_ADMIN_TO))),
    principal_item("ACS_RAM_PolicyGrantsRamWrite", "Custom policies do not grant RAM write access broadly", "RamPolicy",
                   "high", "paid", "coalesce(n.grants_ram_write, false) AND NOT coalesce(n.full_admin, false)",
                   "The policy allows attaching policies to any user (ram:* or RAM write actions on *).",
                   "Scope RAM permissions to read-only actions or named resources.",
                   Example({"policy_type": "Custom", "document_collected": True, "grants_ram_write": False}),
                   Example({"policy_type": "Custom", "document_collected": True, "grants_ram_write": True}),
                   collected="n.document_collected", applies="n.policy_type = 'Custom'"),
    principal_item("ACS_RAM_PolicyAssumeAnyRole", "Custom policies do not allow assuming any role", "RamPolicy",
                   "medium", "paid", "coalesce(n.assume_any_role, false) AND NOT coalesce(n.full_admin, false)",
                   "The policy allows sts:AssumeRole on every role.", "Name the roles in the policy's Resource.",
                   Example({"policy_type": "Custom", "document_collected": True, "assume_any_role": False}),
                   Example({"policy_type": "Custom", "document_collected": True, "assume_any_role": True}),
                   collected="n.document_collected", applies="n.policy_type = 'Custom'"),
    principal_item("ACS_RAM_PolicyUnattached", "Custom policies are in use", "RamPolicy", "low", "free",
                   "NOT EXISTS { (n)<-[:ATTACHED]-() } AND coalesce(n.attachment_count, 0) = 0",
                   "The custom policy is attached to nobody: dead permissions waiting to be misused.",
                   "DeletePolicy if it is not needed.", Example({"policy_type": "Custom", "attachment_count": 1}),
                   Example({"policy_type": "Custom", "attachment_count": 0}),
                   applies="n.policy_type = 'Custom'", action="DeletePolicy"),
    principal_item("ACS_RAM_GroupEmpty", "RAM groups have members", "RamGroup", "low", "free",
                   "NOT EXISTS { (:RamUser)-[:IN_GROUP]->(n) }", "The group has no users.",
                   "DeleteGroup if it is not needed.", Example({}, (("<IN_GROUP", "RamUser", {}),)), Example({})),
)
