"""RAM privilege-escalation techniques: one declaration each, evaluated by one generic function.

Each technique is one RAM action evaluated on the CONCRETE resources of the account (every user, role,
group or custom policy, by its real ARN `acs:ram::<acct>:<kind>/<name>`), never on a literal `user/*`:
a grant on `user/alice` or `role/OpsRole` counts exactly when that target makes it an escalation.

- `FULL_ADMIN`: effective `*` on `*` (every action on every resource, no applicable Deny).
- `GRANTS`: the action rewrites the permissions of its target (attach a policy to it, rewrite a policy
  attached to it). It is an escalation to the whole account when the target is the principal itself or
  something it is or can become: its groups, roles it can assume, principals it can take over.
- `TAKES_OVER`: the action lets the principal act as its target (a key or password for another user, a
  rewritten trust policy, a passed role, joining a group): the principal reaches what the target reaches.
- `also_needs`: a technique counts only where the principal can use it for itself — a second action its own
  policies must allow on the same target (rewriting a role's trust helps only with `sts:AssumeRole` on it).
"""

from __future__ import annotations

from dataclasses import dataclass

FULL_ADMIN = "full_admin"
GRANTS = "grants"
TAKES_OVER = "takes_over"
TARGET_KINDS = ("user", "role", "group", "policy")


@dataclass(frozen=True)
class Technique:
    id: str
    description: str
    action: str
    target: str  # "account" (FULL_ADMIN) or one of TARGET_KINDS
    effect: str  # FULL_ADMIN | GRANTS | TAKES_OVER
    change: str  # how to remove it
    principal_kinds: tuple[str, ...] = ("user", "role", "group")
    # a second action the principal's own policies must allow on the same target for the technique to help it
    also_needs: str | None = None


TECHNIQUES: tuple[Technique, ...] = (
    Technique("full_admin", "effective Allow of * on *", "*", "account", FULL_ADMIN, "detach the administrator policy"),
    Technique("attach_policy_to_self", "attach any policy (e.g. AdministratorAccess) to itself or a user it can become",
              "ram:AttachPolicyToUser", "user", GRANTS, "deny ram:AttachPolicyToUser"),
    Technique("attach_policy_to_role", "attach any policy to a role it is or can become",
              "ram:AttachPolicyToRole", "role", GRANTS, "deny ram:AttachPolicyToRole"),
    Technique("attach_policy_to_group", "attach any policy to a group (its own, or one it can join)",
              "ram:AttachPolicyToGroup", "group", GRANTS, "deny ram:AttachPolicyToGroup"),
    Technique("create_policy_version", "rewrite a policy attached to itself with a new default version",
              "ram:CreatePolicyVersion", "policy", GRANTS, "deny ram:CreatePolicyVersion"),
    Technique("set_default_policy_version", "switch a policy attached to itself to a more permissive version",
              "ram:SetDefaultPolicyVersion", "policy", GRANTS, "deny ram:SetDefaultPolicyVersion"),
    # a rewritten trust lets the principal in only if it may also call sts:AssumeRole on the role: assuming a
    # role needs the caller's permission as well as the role's trust
    Technique("update_role_trust", "rewrite a role's trust policy to let itself in (it may assume the role)",
              "ram:UpdateRole", "role", TAKES_OVER, "deny ram:UpdateRole", also_needs="sts:AssumeRole"),
    Technique("create_access_key_for_other", "create an access key for another user",
              "ram:CreateAccessKey", "user", TAKES_OVER, "deny ram:CreateAccessKey"),
    Technique("create_login_profile_for_other", "create another user's console password",
              "ram:CreateLoginProfile", "user", TAKES_OVER, "deny ram:CreateLoginProfile"),
    Technique("update_login_profile_for_other", "reset another user's console password",
              "ram:UpdateLoginProfile", "user", TAKES_OVER, "deny ram:UpdateLoginProfile"),
    Technique("add_user_to_group", "add itself to a more privileged group",
              "ram:AddUserToGroup", "group", TAKES_OVER, "deny ram:AddUserToGroup", ("user", "group")),
    # passing a role needs somewhere to pass it to; reported on PassRole alone (conservative: an
    # instance the principal controls is usually at hand)
    Technique("pass_role_to_instance", "pass a more privileged role to an instance it controls",
              "ram:PassRole", "role", TAKES_OVER, "deny ram:PassRole"),
)

BY_ID = {t.id: t for t in TECHNIQUES}
