"""RAM privilege-escalation techniques: one declaration each, evaluated by one generic function.

A technique applies to a principal when its effective permissions allow every action of the
technique on the resource the technique needs (`{self}` is the principal's own ARN, `{acct}` the
account). Declared once, like PMapper's edge checkers — but as data.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Technique:
    id: str
    description: str
    # (action, resource template) pairs that must ALL be allowed; {acct} and {self_kind}/{self_name}
    requires: tuple[tuple[str, str], ...]
    change: str  # how to remove it
    principal_kinds: tuple[str, ...] = ("user", "role")


TECHNIQUES: tuple[Technique, ...] = (
    Technique("full_admin", "effective Allow of * on *", (("*", "*"),), "detach the administrator policy"),
    Technique("attach_policy_to_self", "attach any policy (e.g. AdministratorAccess) to itself",
              (("ram:AttachPolicyToUser", "acs:ram:*:{acct}:user/{self_name}"),),
              "deny ram:AttachPolicyToUser", ("user",)),
    Technique("attach_policy_to_role", "attach any policy to a role it is or can become",
              (("ram:AttachPolicyToRole", "acs:ram:*:{acct}:role/*"),), "deny ram:AttachPolicyToRole"),
    Technique("attach_policy_to_group", "attach any policy to a group (its own, or one it can join)",
              (("ram:AttachPolicyToGroup", "acs:ram:*:{acct}:group/*"),), "deny ram:AttachPolicyToGroup"),
    Technique("create_policy_version", "rewrite an attached policy with a new default version",
              (("ram:CreatePolicyVersion", "acs:ram:*:{acct}:policy/*"),), "deny ram:CreatePolicyVersion"),
    Technique("set_default_policy_version", "switch a policy to a more permissive existing version",
              (("ram:SetDefaultPolicyVersion", "acs:ram:*:{acct}:policy/*"),), "deny ram:SetDefaultPolicyVersion"),
    Technique("update_role_trust", "rewrite a role's trust policy to let itself in",
              (("ram:UpdateRole", "acs:ram:*:{acct}:role/*"),), "deny ram:UpdateRole"),
    Technique("create_access_key_for_other", "create an access key for another user",
              (("ram:CreateAccessKey", "acs:ram:*:{acct}:user/*"),), "deny ram:CreateAccessKey"),
    Technique("create_login_profile_for_other", "create or reset another user's console password",
              (("ram:CreateLoginProfile", "acs:ram:*:{acct}:user/*"),), "deny ram:CreateLoginProfile"),
    Technique("update_login_profile_for_other", "reset another user's console password",
              (("ram:UpdateLoginProfile", "acs:ram:*:{acct}:user/*"),), "deny ram:UpdateLoginProfile"),
    Technique("add_user_to_group", "add itself to a privileged group",
              (("ram:AddUserToGroup", "acs:ram:*:{acct}:group/*"),), "deny ram:AddUserToGroup", ("user",)),
    # passing a role needs somewhere to pass it to; reported on PassRole alone (conservative: an
    # instance the principal controls is usually at hand)
    Technique("pass_role_to_instance", "pass a privileged role to an instance it controls",
              (("ram:PassRole", "acs:ram:*:{acct}:role/*"),), "deny ram:PassRole"),
)
