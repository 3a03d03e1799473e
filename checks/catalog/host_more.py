"""More baseline items (CIS Alibaba Cloud Linux 3, MLPS 2.0 level 3) over the agent's facts."""

from __future__ import annotations

from checks.catalog.host import host_item
from checks.model import CheckItem

MLPS = "MLPS_2_0_L3"
CISL = "CIS_ALIBABA_CLOUD_LINUX_3"

ITEMS: tuple[CheckItem, ...] = (
    host_item("HOST_SSH_PasswordAuthentication", "SSH password authentication is disabled", "ssh", "medium",
              "n.ssh_password_authentication IS NOT NULL", "n.ssh_password_authentication = 'yes'",
              {CISL: "5.2.12", MLPS: "8.1.4.1 identity authentication"},
              "sshd accepts passwords, which brute force and leaked passwords can use.",
              "Set `PasswordAuthentication no` (keys only) and reload sshd.",
              {"ssh_password_authentication": "no"}, {"ssh_password_authentication": "yes"}),
    host_item("HOST_SSH_X11Forwarding", "SSH X11 forwarding is disabled", "ssh", "low",
              "n.ssh_x11_forwarding IS NOT NULL", "n.ssh_x11_forwarding = 'yes'", {CISL: "5.2.6"},
              "sshd forwards X11 sessions.", "Set `X11Forwarding no` and reload sshd.",
              {"ssh_x11_forwarding": "no"}, {"ssh_x11_forwarding": "yes"}),
    host_item("HOST_SSH_Protocol2", "SSH uses protocol 2 only", "ssh", "high", "n.ssh_protocol IS NOT NULL",
              "n.ssh_protocol CONTAINS '1'", {CISL: "5.2.4", MLPS: "8.1.4.7 data integrity"},
              "sshd allows the broken SSH protocol 1.", "Set `Protocol 2` and reload sshd.",
              {"ssh_protocol": "2"}, {"ssh_protocol": "2,1"}),
    host_item("HOST_SSH_IdleTimeout", "SSH idle sessions time out within 5 minutes", "ssh", "low",
              "n.ssh_client_alive_interval IS NOT NULL",
              "n.ssh_client_alive_interval = 0 OR n.ssh_client_alive_interval > 300",
              {CISL: "5.2.16", MLPS: "8.1.4.1 identity authentication"},
              "ClientAliveInterval is 0 (never) or above 300 seconds.",
              "Set `ClientAliveInterval 300` and `ClientAliveCountMax 3`, reload sshd.",
              {"ssh_client_alive_interval": 300}, {"ssh_client_alive_interval": 0}),
    host_item("HOST_SSH_LoginGraceTime", "SSH login grace time is one minute or less", "ssh", "low",
              "n.ssh_login_grace_time IS NOT NULL", "n.ssh_login_grace_time > 60", {CISL: "5.2.17"},
              "LoginGraceTime is above 60 seconds.", "Set `LoginGraceTime 60` and reload sshd.",
              {"ssh_login_grace_time": 60}, {"ssh_login_grace_time": 120}),
    host_item("HOST_PASSWD_MinDays", "Password changes are at least a day apart", "password_policy", "low",
              "n.pass_min_days IS NOT NULL", "n.pass_min_days < 1", {CISL: "5.5.1.2", MLPS: "8.1.4.1 identity authentication"},
              "PASS_MIN_DAYS is 0: a user can cycle back to an old password at once.",
              "Set `PASS_MIN_DAYS 1` in /etc/login.defs and `chage --mindays 1` for existing users.",
              {"pass_min_days": 1}, {"pass_min_days": 0}),
    host_item("HOST_PASSWD_WarnAge", "Users are warned 7 days before their password expires", "password_policy", "low",
              "n.pass_warn_age IS NOT NULL", "n.pass_warn_age < 7", {CISL: "5.5.1.3"},
              "PASS_WARN_AGE is below 7.", "Set `PASS_WARN_AGE 7` in /etc/login.defs.",
              {"pass_warn_age": 7}, {"pass_warn_age": 3}),
    host_item("HOST_PASSWD_MinClass", "Passwords mix at least three character classes", "password_policy", "medium",
              "n.pwquality_minclass IS NOT NULL", "n.pwquality_minclass < 3",
              {CISL: "5.4.1", MLPS: "8.1.4.1 identity authentication"}, "pwquality minclass is below 3.",
              "Set `minclass = 3` (or 4) in /etc/security/pwquality.conf.",
              {"pwquality_minclass": 3}, {"pwquality_minclass": 1}),
    host_item("HOST_PATCH_AnyMissing", "No security update is pending", "patch", "low", "n.patches_collected",
              "n.missing_patch_count > 0", {MLPS: "8.1.4.4 intrusion prevention"},
              "Security updates of any severity are available but not installed.",
              "Run `dnf upgrade --security` (or the distribution's equivalent).",
              {"patches_collected": True, "missing_patch_count": 0}, {"patches_collected": True, "missing_patch_count": 3}),
)
