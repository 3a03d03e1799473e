"""More baseline items over the agent's facts: CIS Alibaba Cloud Linux 3 Benchmark v1.0.0 sections,
MLPS 2.0 level 3 controls, and weak passwords where they are reachable."""

from __future__ import annotations

from checks.catalog.host import WEAK_PASSWORD_DECIDED, host_item
from checks.model import CheckItem

MLPS = "MLPS_2_0_L3"
CISL = "CIS_ALIBABA_CLOUD_LINUX_3"
WEAK = "WEAK_PASSWORD"
AUTH = {MLPS: "8.1.4.1"}
LOGIN_DEFS = "/etc/login.defs"

# (os name fragment, version prefixes) whose vendor no longer ships security updates
END_OF_LIFE_OS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("centos linux", ("5", "6", "7", "8")),
    ("alibaba cloud linux", ("2",)),
    ("aliyun linux", ("2",)),
    ("ubuntu", ("12.04", "14.04", "16.04", "18.04")),
    ("debian", ("7", "8", "9", "10")),
    ("red hat enterprise linux", ("5", "6")),
    ("suse linux enterprise server", ("11", "12")),
    ("windows server", ("2003", "2008", "2012")),
)


def end_of_life() -> str:
    """Cypher: the host's OS (name + version) is in END_OF_LIFE_OS."""
    clauses = " OR ".join(
        f"(toLower(n.os_name) CONTAINS '{name}' AND any(v IN {list(versions)!r} WHERE n.os_version STARTS WITH v))"
        for name, versions in END_OF_LIFE_OS
    )
    return f"({clauses})"


def login_defs_item(check_id: str, title: str, key: str, prop: str, fails: str, refs: dict[str, str],
                    good: int, bad: int, severity: str = "low") -> CheckItem:
    """Items over one /etc/login.defs setting (PASS_MAX_DAYS, PASS_MIN_DAYS, PASS_WARN_AGE)."""
    return host_item(check_id, title, "password_policy", severity, f"n.{prop} IS NOT NULL", fails, refs,
                     f"{key} in {LOGIN_DEFS} is {fails.replace(f'n.{prop}', '').strip()}.",
                     f"Set `{key} {good}` in {LOGIN_DEFS} and apply it to existing users with `chage`.",
                     {prop: good}, {prop: bad})


ITEMS: tuple[CheckItem, ...] = (
    host_item("HOST_SSH_PasswordAuthentication", "SSH password authentication is disabled", "ssh", "medium",
              "n.ssh_password_authentication IS NOT NULL", "n.ssh_password_authentication = 'yes'", AUTH,
              "sshd accepts passwords, which brute force and leaked passwords can use.",
              "Set `PasswordAuthentication no` (keys only) and reload sshd.",
              {"ssh_password_authentication": "no"}, {"ssh_password_authentication": "yes"}),
    host_item("HOST_SSH_X11Forwarding", "SSH X11 forwarding is disabled", "ssh", "low",
              "n.ssh_x11_forwarding IS NOT NULL", "n.ssh_x11_forwarding = 'yes'", {CISL: "5.2.6"},
              "sshd forwards X11 sessions.", "Set `X11Forwarding no` and reload sshd.",
              {"ssh_x11_forwarding": "no"}, {"ssh_x11_forwarding": "yes"}),
    host_item("HOST_SSH_Protocol2", "SSH uses protocol 2 only", "ssh", "high", "n.ssh_protocol IS NOT NULL",
              "n.ssh_protocol CONTAINS '1'", {MLPS: "8.1.4.7"},
              "sshd allows the broken SSH protocol 1.", "Set `Protocol 2` and reload sshd.",
              {"ssh_protocol": "2"}, {"ssh_protocol": "2,1"}),
    host_item("HOST_SSH_IdleTimeout", "SSH idle sessions time out within 15 minutes", "ssh", "low",
              "n.ssh_client_alive_interval IS NOT NULL",
              "n.ssh_client_alive_interval = 0 OR n.ssh_client_alive_interval > 900", {CISL: "5.2.13", **AUTH},
              "ClientAliveInterval is 0 (never) or above 900 seconds.",
              "Set `ClientAliveInterval 900` and `ClientAliveCountMax 0`, reload sshd.",
              {"ssh_client_alive_interval": 300}, {"ssh_client_alive_interval": 0}),
    host_item("HOST_SSH_LoginGraceTime", "SSH login grace time is one minute or less", "ssh", "low",
              "n.ssh_login_grace_time IS NOT NULL", "n.ssh_login_grace_time = 0 OR n.ssh_login_grace_time > 60",
              {CISL: "5.2.14"}, "LoginGraceTime is 0 (no limit) or above 60 seconds.", "Set `LoginGraceTime 60` and reload sshd.",
              {"ssh_login_grace_time": 60}, {"ssh_login_grace_time": 120}),
    host_item("HOST_SSH_PermitRootLoginAnyMethod", "SSH root login is refused for every method", "ssh", "medium",
              "n.ssh_permit_root_login IS NOT NULL", "n.ssh_permit_root_login <> 'no'",
              {CISL: "5.2.10", MLPS: "8.1.4.2"},
              "PermitRootLogin is not `no` (e.g. prohibit-password): root still logs in directly with a key.",
              "Set `PermitRootLogin no`; administrators log in as themselves and use sudo.",
              {"ssh_permit_root_login": "no"}, {"ssh_permit_root_login": "prohibit-password"}),
    login_defs_item("HOST_PASSWD_MinDays", "Password changes are at least 7 days apart", "PASS_MIN_DAYS",
                    "pass_min_days", "n.pass_min_days < 7", {CISL: "5.6.1.2", **AUTH}, 7, 0),
    login_defs_item("HOST_PASSWD_WarnAge", "Users are warned 7 days before their password expires", "PASS_WARN_AGE",
                    "pass_warn_age", "n.pass_warn_age < 7", {CISL: "5.6.1.3"}, 7, 3),
    login_defs_item("HOST_PASSWD_MaxDays90", "Passwords expire within 90 days", "PASS_MAX_DAYS", "pass_max_days",
                    "n.pass_max_days > 90", dict(AUTH), 90, 365, severity="medium"),
    host_item("HOST_PASSWD_MinClass", "Passwords mix at least three character classes", "password_policy", "medium",
              "n.pwquality_minclass IS NOT NULL", "n.pwquality_minclass < 3", AUTH, "pwquality minclass is below 3.",
              "Set `minclass = 3` (or 4) in /etc/security/pwquality.conf.",
              {"pwquality_minclass": 3}, {"pwquality_minclass": 1}),
    host_item("HOST_PASSWD_MinClass4", "Passwords mix all four character classes", "password_policy", "low",
              "n.pwquality_minclass IS NOT NULL", "n.pwquality_minclass < 4", {CISL: "5.5.1"},
              "pwquality minclass is below 4 (CIS: digits, upper, lower and other characters).",
              "Set `minclass = 4` in /etc/security/pwquality.conf.", {"pwquality_minclass": 4}, {"pwquality_minclass": 3}),
    host_item("HOST_ACCOUNT_WeakPasswordRoot", "root does not have a weak password", "weak_password", "critical",
              # root's own fact decides; other accounts' unknown facts do not matter here
              "n.accounts_collected AND NOT 'root' IN n.weak_password_unknown_accounts",
              "'root' IN n.weak_password_accounts",
              {WEAK: "weak password", **AUTH}, "root's password hash matched the agent's weak-password dictionary.",
              "Run `passwd root` with a strong password now; disable root password logins over SSH.",
              {"accounts_collected": True, "weak_password_unknown_accounts": ["app"], "weak_password_accounts": ["deploy"]},
              {"accounts_collected": True, "weak_password_unknown_accounts": [], "weak_password_accounts": ["root"]}),
    host_item("HOST_SSH_WeakPasswordLogin", "No weak password is usable over SSH", "weak_password", "critical",
              f"({WEAK_PASSWORD_DECIDED}) AND n.ssh_password_authentication IS NOT NULL",
              "n.ssh_password_authentication = 'yes' AND size(n.weak_password_accounts) > 0",
              {WEAK: "weak password", **AUTH},
              "sshd accepts passwords and an account has a weak one: the host falls to the first SSH brute force.",
              "Change the weak passwords and set `PasswordAuthentication no`.",
              {"weak_password_collected": True, "ssh_password_authentication": "no", "weak_password_accounts": ["deploy"]},
              {"weak_password_collected": True, "ssh_password_authentication": "yes", "weak_password_accounts": ["deploy"]}),
    host_item("HOST_PATCH_AnyMissing", "No security update is pending", "patch", "low", "n.patches_collected",
              "n.missing_patch_count > 0", {CISL: "1.9", MLPS: "8.1.4.4"},
              "Security updates of any severity are available but not installed.",
              "Run `dnf upgrade --security` (or the distribution's equivalent).",
              {"patches_collected": True, "missing_patch_count": 0}, {"patches_collected": True, "missing_patch_count": 3}),
    host_item("HOST_PATCH_OsEndOfLife", "The operating system still receives security updates", "patch", "high",
              "n.os_name IS NOT NULL AND n.os_version IS NOT NULL AND n.os_version <> ''", end_of_life(),
              {MLPS: "8.1.4.4"},
              "The OS release is end of life (e.g. CentOS Linux, Alibaba Cloud Linux 2, Ubuntu 18.04 or older): "
              "new vulnerabilities are never fixed.",
              "Migrate to a supported release (Alibaba Cloud Linux 3, or the distribution's current LTS).",
              {"os_name": "Alibaba Cloud Linux", "os_version": "3.2104"}, {"os_name": "CentOS Linux", "os_version": "7"}),
)
