"""Security Center items: the edition (CIS 8.1), its agent on every server (CIS 8.2, 4.6), notifications (8.5: the high-risk ones)
and the vulnerability scan's settings (8.7)."""

from __future__ import annotations

from checks.model import CheckItem, Example

CIS = "CIS_ALIBABA_CLOUD_2_0"
MLPS = "MLPS_2_0_L3"
RUNNING = "coalesce(n.status, 'Running') = 'Running'"


def agent_item(check_id: str, title: str, section: str | None, description: str, severity: str = "medium",
               applies: str = RUNNING) -> CheckItem:
    return CheckItem(
        id=check_id, title=title, product="SAS", asset_type="EcsInstance", severity=severity, tier="paid",
        applies=applies, collected="n.sas_agent_collected", fails="NOT n.sas_agent_online",
        refs={**({CIS: section} if section else {}), MLPS: "8.1.4.5"}, description=description,
        remediation="Install the Security Center agent on the instance (console: Settings › Agent › Install, or "
                    "InstallCloudMonitor / the one-line installer) and check it reports online.",
        passing_example=Example({"status": "Running", "is_public": True, "sas_agent_collected": True,
                                 "sas_agent_online": True}),
        failing_example=Example({"status": "Running", "is_public": True, "sas_agent_collected": True,
                                 "sas_agent_online": False}))


MLPS_ONLY = {MLPS: "8.1.5.4"}
# DescribeNoticeConfig projects of the benchmark's high-risk categories: vulnerabilities (the vulnerability notice,
# its older project name, emergency vulnerability intelligence), baseline risks, alerts, AccessKey leaks
HIGH_RISK_NOTICES = ("yundun_security_Weekreport", "sas_vulnerability", "yundun_sas_vul_Emergency", "sas_healthcheck",
                     "sas_suspicious", "yundun_sas_ak_leakage")


def notice_item(check_id: str, title: str, counted: str, refs: dict[str, str], description: str,
                failing_project: str) -> CheckItem:
    """Silent notice items (Route 0) over the account's notification settings; `counted` is a predicate over
    one silent project `p`."""
    return CheckItem(
        id=check_id, title=title, product="SAS", asset_type="Account", severity="medium", tier="paid",
        collected="n.sas_notices_collected", fails=f"any(p IN coalesce(n.sas_silent_notices, []) WHERE {counted})",
        refs=refs, description=description,
        remediation="ModifyNoticeConfig Project=<project> Route=<1 SMS + 2 email + 4 in-site> for each silent item "
                    "(Settings › Notifications).",
        passing_example=Example({"sas_notices_collected": True, "sas_silent_notices": []}),
        failing_example=Example({"sas_notices_collected": True, "sas_silent_notices": [failing_project]}))


ITEMS: tuple[CheckItem, ...] = (
    agent_item("ACS_SAS_AgentOnline", "Every running ECS instance runs the Security Center agent", "8.2",
               "Security Center does not list the instance with an online agent: no intrusion detection, "
               "vulnerability or baseline scan covers it."),
    agent_item("ACS_SAS_PublicInstanceAgent", "Internet-facing instances run the Security Center agent", None,
               "The instance has a public address and no online Security Center agent: the most exposed servers "
               "go unwatched.", severity="high", applies=f"{RUNNING} AND coalesce(n.is_public, false)"),
    agent_item("ACS_ECS_EndpointProtection", "Endpoint protection is installed on every running instance", "4.6",
               "No endpoint protection (the Security Center agent) reports from the instance."),
    CheckItem(
        id="ACS_SAS_EditionAdvanced", title="Security Center is the Advanced edition or higher", product="SAS",
        asset_type="Account", severity="medium", tier="free", collected="n.sas_collected",
        fails="NOT n.sas_edition IN ['advanced', 'enterprise', 'ultimate']", refs={CIS: "8.1", MLPS: "8.1.4.5"},
        description="The account's Security Center edition (Basic, Anti-virus, value-added only) has no threat "
                    "detection and response for its servers.",
        remediation="Manual: upgrade Security Center to Advanced, Enterprise or Ultimate (a purchase).",
        passing_example=Example({"sas_collected": True, "sas_edition": "enterprise"}),
        failing_example=Example({"sas_collected": True, "sas_edition": "basic"})),
    notice_item("ACS_SAS_NotificationsOn", "Security Center notifies someone of every alert type", "true", MLPS_ONLY,
                "A Security Center notice item (vulnerabilities, alerts, baseline, weekly report …) is routed to no "
                "channel: nobody hears of it.", "sas_vulnerability"),
    # CIS 8.5 asks it of the high-risk items only (a silent weekly report or log-overflow notice does not fail it)
    notice_item("ACS_SAS_HighRiskNotificationsOn", "Security Center notifies someone of every high-risk item",
                f"p IN {list(HIGH_RISK_NOTICES)}", {CIS: "8.5", MLPS: "8.1.5.4"},
                "A high-risk Security Center notice (vulnerabilities, emergency vulnerabilities, baseline risks, "
                "alerts, AccessKey leaks) is routed to no channel: nobody hears of it.", "sas_suspicious"),
    CheckItem(
        id="ACS_SAS_VulnerabilityScanOn", title="Security Center scans every vulnerability type and priority",
        product="SAS", asset_type="Account", severity="medium", tier="paid",
        collected="n.sas_vul_config_collected AND n.sas_vul_levels_ignored IS NOT NULL",
        fails="size(coalesce(n.sas_vul_scan_off, [])) > 0 OR size(n.sas_vul_levels_ignored) > 0",
        refs={CIS: "8.7", MLPS: "8.1.4.4"},
        description="The periodic vulnerability scan is off for a type (Linux CVE, Windows, web CMS, emergency, "
                    "application), or does not report high (asap) or medium (later) priority vulnerabilities: "
                    "servers are not checked for them.",
        remediation="ModifyVulConfig Type=<type> Config=on for each type that is off; ModifyConcernNecessity "
                    "ConcernNecessity=asap,later,nntf.",
        passing_example=Example({"sas_vul_config_collected": True, "sas_vul_scan_off": [],
                                 "sas_vul_levels_ignored": []}),
        failing_example=Example({"sas_vul_config_collected": True, "sas_vul_scan_off": [],
                                 "sas_vul_levels_ignored": ["later"]})),
)
