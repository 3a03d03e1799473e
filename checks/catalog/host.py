"""System baseline (host) items over the facts the host agent reports."""

from __future__ import annotations

from checks.model import CheckItem, Example

MLPS = "MLPS_2_0_L3"
CISL = "CIS_ALIBABA_CLOUD_LINUX_3"
WEAK = "WEAK_PASSWORD"
# Account facts may be known for some accounts only (shadow unreadable, an account missing from it, the
# weak-password budget spent: the agent leaves the key out). PASS needs every account's fact; one known bad
# account is a NOT_PASS on its own; anything else is NOT_CHECK.
WEAK_PASSWORD_DECIDED = "n.weak_password_collected OR size(n.weak_password_accounts) > 0"


def host_item(check_id: str, title: str, category: str, severity: str, collected: str, fails: str,
              refs: dict[str, str], description: str, remediation: str,
              passing: dict[str, object], failing: dict[str, object]) -> CheckItem:
    return CheckItem(
        id=check_id, title=title, product="HOST", asset_type="Host", severity=severity, tier="paid",
        kind="baseline", category=category, collected=collected, fails=fails, refs=refs, description=description,
        remediation=remediation, passing_example=Example(passing), failing_example=Example(failing),
    )


ITEMS: tuple[CheckItem, ...] = (
    host_item("HOST_ACCOUNT_WeakPassword", "No account has a weak password", "weak_password", "critical",
              WEAK_PASSWORD_DECIDED, "size(n.weak_password_accounts) > 0",
              {MLPS: "8.1.4.1", WEAK: "weak password"},
              "An account's password hash matched the agent's weak-password dictionary (tested on the host).",
              "Run `passwd <account>` for each listed account with a strong password; enforce pam_pwquality.",
              {"weak_password_collected": True, "weak_password_accounts": []},
              {"weak_password_collected": True, "weak_password_accounts": ["deploy"]}),
    host_item("HOST_ACCOUNT_EmptyPassword", "No account has an empty password", "account", "high",
              "n.password_collected OR size(n.empty_password_accounts) > 0", "size(n.empty_password_accounts) > 0",
              {CISL: "6.2.1", MLPS: "8.1.4.1"},
              "An account's shadow password field is empty.", "Run `passwd -l <account>` or set a password.",
              {"password_collected": True, "empty_password_accounts": []},
              {"password_collected": True, "empty_password_accounts": ["deploy"]}),
    host_item("HOST_ACCOUNT_ExtraUidZero", "Only root has UID 0", "account", "high", "n.accounts_collected",
              "size(n.extra_uid0_accounts) > 0", {CISL: "6.2.3", MLPS: "8.1.4.2"},
              "An account other than root has uid 0.", "Remove the account or give it a non-zero UID (`usermod -u`).",
              {"accounts_collected": True, "extra_uid0_accounts": []},
              {"accounts_collected": True, "extra_uid0_accounts": ["toor"]}),
    host_item("HOST_SSH_PermitRootLogin", "SSH root login is disabled", "ssh", "high",
              "n.ssh_permit_root_login IS NOT NULL", "n.ssh_permit_root_login = 'yes'",
              {CISL: "5.2.10", MLPS: "8.1.4.2"}, "sshd's effective PermitRootLogin is yes.",
              "Set `PermitRootLogin no` in /etc/ssh/sshd_config and `systemctl reload sshd`.",
              {"ssh_permit_root_login": "no"}, {"ssh_permit_root_login": "yes"}),
    host_item("HOST_SSH_PermitEmptyPasswords", "SSH refuses empty passwords", "ssh", "high",
              "n.ssh_permit_empty_passwords IS NOT NULL", "n.ssh_permit_empty_passwords = 'yes'",
              {CISL: "5.2.11", MLPS: "8.1.4.1"}, "sshd's effective PermitEmptyPasswords is yes.",
              "Set `PermitEmptyPasswords no` in /etc/ssh/sshd_config and reload sshd.",
              {"ssh_permit_empty_passwords": "no"}, {"ssh_permit_empty_passwords": "yes"}),
    host_item("HOST_SSH_MaxAuthTries", "SSH MaxAuthTries is 4 or less", "ssh", "medium",
              "n.ssh_max_auth_tries IS NOT NULL", "n.ssh_max_auth_tries > 4",
              {CISL: "5.2.7", MLPS: "8.1.4.1"}, "sshd's effective MaxAuthTries is above 4.",
              "Set `MaxAuthTries 4` in /etc/ssh/sshd_config and reload sshd.",
              {"ssh_max_auth_tries": 4}, {"ssh_max_auth_tries": 6}),
    host_item("HOST_PASSWD_MinLength", "Password minimum length is at least 14", "password_policy", "medium",
              "n.pwquality_minlen IS NOT NULL", "n.pwquality_minlen < 14",
              {CISL: "5.5.1", MLPS: "8.1.4.1"}, "pwquality minlen is below 14.",
              "Set `minlen = 14` in /etc/security/pwquality.conf.", {"pwquality_minlen": 14}, {"pwquality_minlen": 8}),
    host_item("HOST_PASSWD_MaxDays", "Passwords expire within 365 days", "password_policy", "low",
              "n.pass_max_days IS NOT NULL", "n.pass_max_days > 365", {CISL: "5.6.1.1", MLPS: "8.1.4.1"},
              "PASS_MAX_DAYS in /etc/login.defs is above 365.",
              "Set `PASS_MAX_DAYS 365` in /etc/login.defs and `chage --maxdays 365` for existing users.",
              {"pass_max_days": 90}, {"pass_max_days": 99999}),
    host_item("HOST_FILE_WorldWritable", "No world-writable files in system paths", "file", "medium",
              "n.world_writable_collected", "size(n.world_writable) > 0", {CISL: "6.1.11", MLPS: "8.1.4.2"},
              "World-writable regular files exist under system paths.", "Run `chmod o-w <file>` for each listed file.",
              {"world_writable_collected": True, "world_writable": []},
              {"world_writable_collected": True, "world_writable": ["/etc/cron.d/backup"]}),
    host_item("HOST_PATCH_CriticalMissing", "No critical or high security patch is missing", "patch", "high",
              "n.patches_collected", "size(n.critical_patches) > 0", {MLPS: "8.1.4.4"},
              "A missing security update of severity critical or high.",
              "Run `dnf upgrade --security` (or `yum update --security`, `apt-get upgrade`) and reboot if needed.",
              {"patches_collected": True, "critical_patches": []},
              {"patches_collected": True, "critical_patches": ["ALINUX3-SA-2026:0001"]}),
    host_item("HOST_CONTAINER_Privileged", "No container runs privileged", "container", "high",
              "n.containers_collected", "size(n.privileged_containers) > 0", {MLPS: "8.1.4.2"},
              "A container runs with --privileged (CIS Docker 5.4).",
              "Recreate the container without --privileged; grant only the capabilities it needs (--cap-add).",
              {"containers_collected": True, "privileged_containers": []},
              {"containers_collected": True, "privileged_containers": ["3f2a"]}),
)
