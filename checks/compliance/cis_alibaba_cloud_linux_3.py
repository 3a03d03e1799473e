"""CIS Alibaba Cloud Linux 3 Benchmark v1.0.0: its 260 recommendations (id, profile, the benchmark's
assessment status, title; facts as listed in ComplianceAsCode/content controls/cis_alinux3.yml, version
1.0.0 — removed there since, the benchmark having reached end of life) and, for each one Skypath does not
decide, why: the host agent reports sshd settings, login.defs, pwquality, accounts, world-writable files
under system paths, missing patches and containers, nothing else.

The spec's core table gives section-level refs from another numbering for two items: "CIS Linux 5.4" for
HOST_PASSWD_MinLength (v1.0.0: 5.5.1 password creation requirements; its 5.4 is authselect) and "CIS
Linux 5.5" for HOST_PASSWD_MaxDays (v1.0.0: 5.6.1.1 password expiration). The v1.0.0 ids are used; the
other core refs (5.2, 6.1, 6.2) agree with v1.0.0's sections.
"""

from __future__ import annotations

from checks.compliance import Framework, Requirement

PACKAGE = "CIS_ALIBABA_CLOUD_LINUX_3"

SECTIONS = {
    "1": "Initial Setup",
    "2": "Services",
    "3": "Network Configuration",
    "4": "Logging and Auditing",
    "5": "Access, Authentication and Authorization",
    "6": "System Maintenance",
}

# "id profile assessment(A/M) title", one per line. ComplianceAsCode lists the IPv6 router advertisement
# recommendation as 3.2.9 among section 3.3's; it is 3.3.9 here.
_LIST = """
1.1.1.1 1 A Ensure mounting of cramfs filesystems is disabled
1.1.1.2 1 A Ensure mounting of squashfs filesystems is disabled
1.1.1.3 2 A Ensure mounting of udf filesystems is disabled
1.1.2.1 1 A Ensure /tmp is a separate partition
1.1.2.2 1 A Ensure nodev option set on /tmp partition
1.1.2.3 1 A Ensure noexec option set on /tmp partition
1.1.2.4 1 A Ensure nosuid option set on /tmp partition
1.1.3.1 2 A Ensure separate partition exists for /var
1.1.3.2 1 A Ensure noexec option set on /var partition
1.1.3.3 1 A Ensure nosuid option set on /var partition
1.1.4.1 2 A Ensure separate partition exists for /var/tmp
1.1.4.2 1 A Ensure noexec option set on /var/tmp partition
1.1.4.3 1 A Ensure nosuid option set on /var/tmp partition
1.1.4.4 1 A Ensure nodev option set on /var/tmp partition
1.1.5.1 2 A Ensure separate partition exists for /var/log
1.1.6.1 2 A Ensure separate partition exists for /var/log/audit
1.1.7.1 2 A Ensure separate partition exists for /home
1.1.7.2 1 A Ensure nodev option set on /home partition
1.1.7.3 1 A Ensure nosuid option set on /home partition
1.1.8.1 1 A Ensure nodev option set on /dev/shm partition
1.1.8.2 1 A Ensure noexec option set on /dev/shm partition
1.1.8.3 1 A Ensure nosuid option set on /dev/shm partition
1.1.9 1 A Disable Automounting
1.1.10 1 A Disable USB Storage
1.2.1 1 A Ensure message of the day is configured properly
1.2.2 1 A Ensure local login warning banner is configured properly
1.2.3 1 A Ensure remote login warning banner is configured properly
1.2.4 1 A Ensure permissions on /etc/motd are configured
1.2.5 1 A Ensure permissions on /etc/issue are configured
1.2.6 1 A Ensure permissions on /etc/issue.net are configured
1.3.1 1 M Ensure GPG keys are configured
1.3.2 1 A Ensure gpgcheck is globally activated
1.3.3 1 M Ensure package manager repositories are configured
1.4.1 1 A Ensure AIDE is installed
1.4.2 1 A Ensure filesystem integrity is regularly checked
1.5.1 1 A Ensure bootloader password is set
1.5.2 1 A Ensure permissions on bootloader config are configured
1.5.3 1 A Ensure authentication required for single user mode
1.6.1 1 A Ensure core dumps are restricted
1.6.2 1 A Ensure address space layout randomization (ASLR) is enabled
1.7.1.1 1 A Ensure SELinux is installed
1.7.1.2 1 A Ensure SELinux is not disabled in bootloader configuration
1.7.1.3 1 A Ensure SELinux policy is configured
1.7.1.4 1 A Ensure the SELinux mode is not disabled
1.7.1.5 2 A Ensure the SELinux mode is not disabled
1.7.1.6 1 A Ensure no unconfined services exist
1.7.1.7 1 A Ensure SETroubleshoot is not installed
1.7.1.8 1 A Ensure the MCS Translation Service (mcstrans) is not installed
1.8.1 2 M Ensure GNOME Display Manager is removed
1.8.2 1 A Ensure GDM login banner is configured
1.8.3 1 A Ensure last logged in user display is disabled
1.8.4 1 A Ensure XDMCP is not enabled
1.8.5 1 A Ensure automatic mounting of removable media is disabled
1.9 1 M Ensure updates, patches, and additional security software are installed
1.10 1 A Ensure system-wide crypto policy is not legacy
1.11 2 A Ensure system-wide crypto policy is FUTURE or FIPS
2.1.1 1 A Ensure xinetd is not installed
2.2.1.1 1 M Ensure time synchronization is in use
2.2.1.2 1 A Ensure chrony is configured
2.2.2 1 A Ensure X Window System is not installed
2.2.3 1 A Ensure rsync service is not enabled
2.2.4 1 A Ensure Avahi Server is not enabled
2.2.5 1 A Ensure SNMP Server is not enabled
2.2.6 1 A Ensure HTTP Proxy Server is not enabled
2.2.7 1 A Ensure Samba is not enabled
2.2.8 1 A Ensure IMAP and POP3 server is not enabled
2.2.9 1 A Ensure HTTP server is not enabled
2.2.10 1 A Ensure FTP Server is not enabled
2.2.11 1 A Ensure DNS Server is not enabled
2.2.12 1 A Ensure NFS is not enabled
2.2.13 1 A Ensure RPC is not enabled
2.2.14 1 A Ensure LDAP server is not enabled
2.2.15 1 A Ensure DHCP Server is not enabled
2.2.16 1 A Ensure CUPS is not enabled
2.2.17 1 A Ensure NIS Server is not enabled
2.2.18 1 A Ensure mail transfer agent is configured for local-only mode
2.3.1 1 A Ensure NIS Client is not installed
2.3.2 1 A Ensure telnet client is not installed
2.3.3 1 A Ensure LDAP client is not installed
3.1.1 2 M Verify if IPv6 is enabled on the system
3.1.2 1 A Ensure SCTP is disabled
3.1.3 1 A Ensure DCCP is disabled
3.1.4 1 A Ensure wireless interfaces are disabled
3.2.1 1 A Ensure IP forwarding is disabled
3.2.2 1 A Ensure packet redirect sending is disabled
3.3.1 1 A Ensure source routed packets are not accepted
3.3.2 1 A Ensure ICMP redirects are not accepted
3.3.3 1 A Ensure secure ICMP redirects are not accepted
3.3.4 1 A Ensure suspicious packets are logged
3.3.5 1 A Ensure broadcast ICMP requests are ignored
3.3.6 1 A Ensure bogus ICMP responses are ignored
3.3.7 1 A Ensure Reverse Path Filtering is enabled
3.3.8 1 A Ensure TCP SYN Cookies is enabled
3.3.9 1 A Ensure IPv6 router advertisements are not accepted
3.4.1.1 1 A Ensure a Firewall package is installed
3.4.2.1 1 A Ensure firewalld service is enabled and running
3.4.2.2 1 A Ensure iptables is not enabled
3.4.2.3 1 A Ensure nftables is not enabled
3.4.2.4 1 M Ensure default zone is set
3.4.2.5 1 M Ensure network interfaces are assigned to appropriate zone
3.4.2.6 1 M Ensure unnecessary services and ports are not accepted
3.4.3.1 1 M Ensure iptables are flushed
3.4.3.2 1 M Ensure a table exists
3.4.3.3 1 M Ensure base chains exist
3.4.3.4 1 M Ensure loopback traffic is configured
3.4.3.5 1 M Ensure outbound and established connections are configured
3.4.3.6 1 M Ensure default deny firewall policy
3.4.3.7 1 A Ensure nftables service is enabled
3.4.3.8 1 M Ensure nftables rules are permanent
3.4.4.1.1 1 A Ensure iptables packages are installed
3.4.4.1.2 1 A Ensure nftables is not installed
3.4.4.1.3 1 A Ensure firewalld is not installed or stopped and masked
3.4.4.2.1 1 M Ensure default deny firewall policy
3.4.4.2.2 1 M Ensure loopback traffic is configured
3.4.4.2.3 1 M Ensure outbound and established connections are configured
3.4.4.2.4 1 M Ensure firewall rules exist for all open ports
3.4.4.3.1 1 M Ensure IPv6 default deny firewall policy
3.4.4.3.2 1 M Ensure IPv6 loopback traffic is configured
3.4.4.3.3 1 M Ensure IPv6 outbound and established connections are configured
3.4.4.3.4 1 M Ensure IPv6 firewall rules exist for all open ports
4.1.1.1 2 A Ensure auditd is installed
4.1.1.2 2 A Ensure auditd service is enabled
4.1.1.3 2 A Ensure auditing for processes that start prior to auditd is enabled
4.1.1.4 2 A Ensure audit_backlog_limit is sufficient
4.1.2.1 2 A Ensure audit log storage size is configured
4.1.2.2 2 A Ensure audit logs are not automatically deleted
4.1.2.3 2 A Ensure system is disabled when audit logs are full
4.1.3.1 2 A Ensure changes to system administration scope (sudoers) is collected
4.1.3.2 2 A Ensure actions as another user are always logged
4.1.3.3 2 A Ensure events that modify the sudo log file are collected
4.1.3.4 2 A Ensure events that modify date and time information are collected
4.1.3.5 2 A Ensure events that modify the system's network environment are collected
4.1.3.6 2 A Ensure use of privileged commands are collected
4.1.3.7 2 A Ensure unsuccessful file access attempts are collected
4.1.3.8 2 A Ensure events that modify user/group information are collected
4.1.3.9 2 A Ensure discretionary access control permission modification events are collected
4.1.3.10 2 A Ensure successful file system mounts are collected
4.1.3.11 2 A Ensure session initiation information is collected
4.1.3.12 2 A Ensure login and logout events are collected
4.1.3.13 2 A Ensure file deletion events by users are collected
4.1.3.14 2 A Ensure events that modify the system's Mandatory Access Controls are collected
4.1.3.15 2 A Ensure successful and unsuccessful attempts to use the chcon command are recorded
4.1.3.16 2 A Ensure successful and unsuccessful attempts to use the chsh command are recorded
4.1.3.17 2 A Ensure successful and unsuccessful attempts to use the newgrp command are recorded
4.1.3.18 2 A Ensure successful and unsuccessful attempts to use the setfacl command are recorded
4.1.3.19 2 A Ensure successful and unsuccessful attempts to use the chacl command are recorded
4.1.3.20 2 A Ensure successful and unsuccessful attempts to use the kmod command are recorded
4.1.3.21 2 A Ensure successful and unsuccessful attempts to use the gpasswd command are recorded
4.1.3.22 2 A Ensure successful and unsuccessful attempts to use the chage command are recorded
4.1.3.23 2 A Ensure successful and unsuccessful attempts to use the usermod command are recorded
4.1.3.24 2 A Ensure successful and unsuccessful attempts to use the pam_timestamp_check command are recorded
4.1.3.25 2 A Ensure successful and unsuccessful uses of the finit_module syscall are recorded
4.1.3.26 2 A Ensure kernel module loading unloading and modification is collected
4.1.3.27 2 M Ensure the running and on disk configuration is the same
4.1.3.28 2 A Ensure the audit configuration is immutable
4.1.4.1 1 A Ensure audit log files are not read or write-accessible by unauthorized users
4.1.4.2 1 A Ensure only authorized users own audit log files
4.1.4.3 1 A Ensure only authorized groups ownership of audit log files
4.1.4.4 1 A Ensure the audit log directory is 0750 or more restrictive
4.1.4.5 1 A Ensure audit configuration files are 0640 or more restrictive
4.1.4.6 1 A Ensure only authorized accounts own the audit configuration files
4.1.4.7 1 A Ensure only authorized groups own the audit configuration files
4.1.4.8 1 A Ensure audit tools are mode of 0755 or more restrictive
4.1.4.9 1 A Ensure audit tools are owned by root
4.1.4.10 1 A Ensure audit tools are group-owned by root
4.1.4.11 1 A Ensure cryptographic mechanisms are used to protect the integrity of audit tools
4.2.1.1 1 A Ensure rsyslog is installed
4.2.1.2 1 A Ensure rsyslog Service is enabled
4.2.1.3 1 A Ensure rsyslog default file permissions configured
4.2.1.4 1 M Ensure logging is configured
4.2.1.5 1 A Ensure rsyslog is configured to send logs to a remote log host
4.2.1.6 1 M Ensure remote rsyslog messages are only accepted on designated log hosts
4.2.2.1 1 A Ensure journald is configured to send logs to rsyslog
4.2.2.2 1 A Ensure journald is configured to compress large log files
4.2.2.3 1 A Ensure journald is configured to write logfiles to persistent disk
4.2.3 1 A Ensure permissions on all logfiles are configured
4.3 1 M Ensure logrotate is configured
5.1.1 1 A Ensure cron daemon is enabled
5.1.2 1 A Ensure permissions on /etc/crontab are configured
5.1.3 1 A Ensure permissions on /etc/cron.hourly are configured
5.1.4 1 A Ensure permissions on /etc/cron.daily are configured
5.1.5 1 A Ensure permissions on /etc/cron.weekly are configured
5.1.6 1 A Ensure permissions on /etc/cron.monthly are configured
5.1.7 1 A Ensure permissions on /etc/cron.d are configured
5.1.8 1 A Ensure at/cron is restricted to authorized users
5.2.1 1 A Ensure permissions on /etc/ssh/sshd_config are configured
5.2.2 1 A Ensure SSH access is limited
5.2.3 1 A Ensure permissions on SSH private host key files are configured
5.2.4 1 A Ensure permissions on SSH public host key files are configured
5.2.5 1 A Ensure SSH LogLevel is appropriate
5.2.6 2 A Ensure SSH X11 forwarding is disabled
5.2.7 1 A Ensure SSH MaxAuthTries is set to 4 or less
5.2.8 1 A Ensure SSH IgnoreRhosts is enabled
5.2.9 1 A Ensure SSH HostbasedAuthentication is disabled
5.2.10 1 A Ensure SSH root login is disabled
5.2.11 1 A Ensure SSH PermitEmptyPasswords is disabled
5.2.12 1 A Ensure SSH PermitUserEnvironment is disabled
5.2.13 1 A Ensure SSH Idle Timeout Interval is configured
5.2.14 1 A Ensure SSH LoginGraceTime is set to one minute or less
5.2.15 1 A Ensure SSH warning banner is configured
5.2.16 1 A Ensure SSH PAM is enabled
5.2.17 2 A Ensure SSH AllowTcpForwarding is disabled
5.2.18 1 A Ensure SSH MaxStartups is configured
5.2.19 1 A Ensure SSH MaxSessions is set to 10 or less
5.2.20 1 A Ensure system-wide crypto policy is not over-ridden
5.3.1 1 A Ensure sudo is installed
5.3.2 1 A Ensure sudo commands use pty
5.3.3 1 A Ensure sudo log file exists
5.3.4 2 A Ensure users must provide password for escalation
5.3.5 1 A Ensure re-authentication for privilege escalation is not disabled globally
5.3.6 1 A Ensure sudo authentication timeout is configured correctly
5.4.1 1 M Create custom authselect profile
5.4.2 1 M Select authselect profile
5.4.3 1 A Ensure authselect includes with-faillock
5.5.1 1 A Ensure password creation requirements are configured
5.5.2 1 A Ensure lockout for failed password attempts is configured
5.5.3 1 A Ensure password reuse is limited
5.5.4 1 A Ensure password hashing algorithm is SHA-512
5.6.1.1 1 A Ensure password expiration is 365 days or less
5.6.1.2 1 A Ensure minimum days between password changes is 7 or more
5.6.1.3 1 A Ensure password expiration warning days is 7 or more
5.6.1.4 1 A Ensure inactive password lock is 30 days or less
5.6.1.5 1 A Ensure all users last password change date is in the past
5.6.2 1 A Ensure system accounts are secured
5.6.3 1 A Ensure default user shell timeout is 900 seconds or less
5.6.4 1 A Ensure default group for the root account is GID 0
5.6.5 1 A Ensure default user umask is 027 or more restrictive
5.7 1 M Ensure root login is restricted to system console
5.8 1 A Ensure access to the su command is restricted
6.1.1 2 M Audit system file permissions
6.1.2 1 A Ensure sticky bit is set on all world-writable directories
6.1.3 1 A Ensure permissions on /etc/passwd are configured
6.1.4 1 A Ensure permissions on /etc/shadow are configured
6.1.5 1 A Ensure permissions on /etc/group are configured
6.1.6 1 A Ensure permissions on /etc/gshadow are configured
6.1.7 1 A Ensure permissions on /etc/passwd- are configured
6.1.8 1 A Ensure permissions on /etc/shadow- are configured
6.1.9 1 A Ensure permissions on /etc/group- are configured
6.1.10 1 A Ensure permissions on /etc/gshadow- are configured
6.1.11 1 A Ensure no world writable files exist
6.1.12 1 A Ensure no unowned files or directories exist
6.1.13 1 A Ensure no ungrouped files or directories exist
6.1.14 1 M Audit SUID executables
6.1.15 1 M Audit SGID executables
6.2.1 1 A Ensure password fields are not empty
6.2.2 1 A Ensure root PATH Integrity
6.2.3 1 A Ensure root is the only UID 0 account
6.2.4 1 A Ensure users home directories permissions are 750 or more restrictive
6.2.5 1 A Ensure users own their home directories
6.2.6 1 A Ensure users dot files are not group or world writable
6.2.7 1 A Ensure no users have .forward files
6.2.8 1 A Ensure no users have .netrc files
6.2.9 1 A Ensure users .netrc Files are not group or world accessible
6.2.10 1 A Ensure no users have .rhosts files
6.2.11 1 A Ensure all groups in /etc/passwd exist in /etc/group
6.2.12 1 A Ensure no duplicate UIDs exist
6.2.13 1 A Ensure no duplicate GIDs exist
6.2.14 1 A Ensure no duplicate user names exist
6.2.15 1 A Ensure no duplicate group names exist
6.2.16 1 A Ensure all users home directories exist
"""

NOT_REPORTED = ("not in the host agent's report (it reports sshd settings, login.defs, pwquality, accounts, "
                "world-writable files under system paths, missing patches and containers)")

# decidable from what the agent already reports; the host loader does not keep the fact yet
_SSHD_PENDING = "the agent reports sshd {key}; loaders/hosts.py does not load it yet"
PENDING: dict[str, str] = {
    "5.2.2": _SSHD_PENDING.format(key="AllowUsers / AllowGroups / DenyUsers / DenyGroups"),
    "5.2.5": _SSHD_PENDING.format(key="LogLevel"),
    "5.2.8": _SSHD_PENDING.format(key="IgnoreRhosts"),
    "5.2.9": _SSHD_PENDING.format(key="HostbasedAuthentication"),
    "5.2.12": _SSHD_PENDING.format(key="PermitUserEnvironment"),
    "5.2.15": _SSHD_PENDING.format(key="Banner"),
    "5.2.16": _SSHD_PENDING.format(key="UsePAM"),
    "5.2.17": _SSHD_PENDING.format(key="AllowTcpForwarding"),
    "5.2.18": _SSHD_PENDING.format(key="MaxStartups"),
    "5.2.19": _SSHD_PENDING.format(key="MaxSessions"),
    "5.5.4": "the agent reports login.defs ENCRYPT_METHOD; loaders/hosts.py does not load it yet",
    "6.2.12": "the agent reports every account's uid; loaders/hosts.py does not derive duplicates yet",
    "6.2.14": "the agent reports every account's name; loaders/hosts.py does not derive duplicates yet",
}

NOTES: dict[str, str] = {
    "1.9": "manual per the benchmark; Skypath reads the agent's missing security updates",
    "5.5.1": "pwquality minlen and minclass (the agent's pwquality facts)",
    "6.1.11": "world-writable files under the system paths the agent walks",
}

_PROFILE = {"1": "Level 1", "2": "Level 2"}
_ASSESSMENT = {"A": "automated", "M": "manual"}


def _requirements() -> tuple[Requirement, ...]:
    out = []
    for line in _LIST.strip().splitlines():
        rid, profile, status, title = line.split(" ", 3)
        pending = PENDING.get(rid)
        out.append(Requirement(
            id=rid, section=rid.split(".")[0], title=title, assessment=_ASSESSMENT[status],
            profile=_PROFILE[profile], pending=pending, note=NOTES.get(rid, ""),
            not_decidable=None if pending or rid in DECIDED else NOT_REPORTED,
        ))
    return tuple(out)


# decided by catalog items (the coverage test checks each is mapped)
DECIDED = frozenset({"1.9", "5.2.6", "5.2.7", "5.2.10", "5.2.11", "5.2.13", "5.2.14", "5.5.1", "5.6.1.1",
                     "5.6.1.2", "5.6.1.3", "6.1.11", "6.2.1", "6.2.3"})

FRAMEWORK = Framework(
    package=PACKAGE,
    title="CIS Alibaba Cloud Linux 3 Benchmark v1.0.0",
    source="CIS Alibaba Cloud Linux 3 Benchmark v1.0.0 (as listed in ComplianceAsCode/content "
           "controls/cis_alinux3.yml, version 1.0.0)",
    sections=SECTIONS,
    requirements=_requirements(),
)
