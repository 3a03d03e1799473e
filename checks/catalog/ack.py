"""Container Service for Kubernetes (ACK) items, CIS 7.x and 2.4: container (KSPM) items, run only on the Ultimate
edition with CSPM (spec/billing.md)."""

from __future__ import annotations

from checks.model import CheckItem, Example

CIS = "CIS_ALIBABA_CLOUD_2_0"
MLPS = "MLPS_2_0_L3"
DETAIL = "n.detail_collected"


def ack_item(check_id: str, title: str, severity: str, section: str | None, collected: str, fails: str, description: str,
             remediation: str, passing: dict[str, object], failing: dict[str, object], mlps: str = "8.1.4.3") -> CheckItem:
    base = {"detail_collected": True, "checks_collected": True}
    return CheckItem(id=check_id, title=title, product="ACK", asset_type="AckCluster", severity=severity, tier="paid",
                     collected=collected, fails=fails, refs={**({CIS: section} if section else {}), MLPS: mlps},
                     description=description,
                     remediation=remediation, kspm=True, passing_example=Example({**base, **passing}),
                     failing_example=Example({**base, **failing}))


def log_service(check_id: str, section: str) -> CheckItem:
    return ack_item(check_id, "ACK cluster logs go to Log Service", "medium", section, DETAIL,
                    "NOT n.log_service_enabled",
                    "The Log Service component (logtail-ds) is not installed: container and control-plane logs "
                    "are not kept.", "Install the logtail-ds component (cluster › Operations › Add-ons › Logs and "
                    "Monitoring).", {"log_service_enabled": True}, {"log_service_enabled": False})


ITEMS: tuple[CheckItem, ...] = (
    log_service("ACS_ACK_LogServiceEnabled", "7.1"),
    log_service("ACS_ACK_ClusterLogDelivery", "2.4"),
    ack_item("ACS_ACK_CloudMonitorEnabled", "ACK cluster is monitored by CloudMonitor", "low", "7.2", DETAIL,
             "NOT n.cloud_monitor_enabled", "No CloudMonitor component reports the cluster's nodes and workloads.",
             "Install the CloudMonitor (arms-cmonitor) component.", {"cloud_monitor_enabled": True},
             {"cloud_monitor_enabled": False}),
    ack_item("ACS_ACK_RbacEnabled", "ACK cluster authorizes with RBAC", "high", "7.3",
             f"{DETAIL} AND n.rbac_enabled IS NOT NULL", "NOT n.rbac_enabled",
             "RBAC authorization is off: every authenticated identity may do anything in the cluster.",
             "Upgrade the cluster to Kubernetes 1.16 or later (RBAC is always on), then grant with RAM + RBAC.",
             {"rbac_enabled": True}, {"rbac_enabled": False}, mlps="8.1.4.2"),
    ack_item("ACS_ACK_ClusterCheckWeekly", "An ACK cluster check ran in the last week", "low", "7.4",
             "n.checks_collected", "coalesce(n.last_check_days, 100000) > 7",
             "No cluster check finished in the last 7 days (or ever).",
             "Run a cluster check (RunClusterCheck) at least weekly, e.g. from a scheduled job.",
             {"last_check_days": 2.0}, {"last_check_days": 30.0}),
    ack_item("ACS_ACK_DashboardDisabled", "The Kubernetes dashboard is not installed", "medium", "7.5", DETAIL,
             "n.dashboard_enabled", "The kubernetes-dashboard component is installed: a web UI with cluster "
             "credentials, a frequent way in.", "Uninstall the kubernetes-dashboard component.",
             {"dashboard_enabled": False}, {"dashboard_enabled": True}, mlps="8.1.4.4"),
    ack_item("ACS_ACK_BasicAuthDisabled", "ACK cluster does not accept basic authentication", "high", "7.6", DETAIL,
             "n.basic_auth_enabled", "The API server accepts static user names and passwords.",
             "Recreate the cluster without basic authentication (ACK managed clusters never enable it).",
             {"basic_auth_enabled": False}, {"basic_auth_enabled": True}, mlps="8.1.4.1"),
    ack_item("ACS_ACK_NetworkPolicyEnabled", "ACK cluster enforces network policies", "medium", "7.7", DETAIL,
             "NOT n.network_policy_enabled",
             "No network-policy engine (Terway with NetworkPolicy, or Calico): every pod may reach every other.",
             "Enable NetworkPolicy support of Terway (or install Calico) and write policies.",
             {"network_policy_enabled": True}, {"network_policy_enabled": False}, mlps="8.1.3.2"),
    ack_item("ACS_ACK_EniMultiIp", "ACK cluster uses Terway ENI multi-IP mode", "low", "7.8", DETAIL,
             "NOT n.eni_multi_ip", "Pods do not get VPC addresses from elastic network interfaces (terway-eniip): "
             "security groups and VPC flow logs do not see pods.", "Create clusters with the Terway network plug-in "
             "in ENI multi-IP mode.", {"eni_multi_ip": True}, {"eni_multi_ip": False}, mlps="8.1.3.2"),
    ack_item("ACS_ACK_PrivateCluster", "ACK API server has no internet endpoint", "high", "7.9",
             "n.public_api_server IS NOT NULL", "n.public_api_server",
             "The cluster's API server is reachable from the internet.",
             "Unbind the API server's EIP (or delete its internet SLB) and reach it from the VPC.",
             {"public_api_server": False}, {"public_api_server": True}, mlps="8.1.3.1"),
    ack_item("ACS_ACK_VersionSupported", "ACK cluster runs a supported Kubernetes version", "medium", None,
             "n.version_supported IS NOT NULL", "NOT n.version_supported",
             "The cluster's Kubernetes minor version is out of ACK support: no security fixes.",
             "UpgradeCluster to a supported version (one minor version at a time).",
             {"version_supported": True}, {"version_supported": False}, mlps="8.1.4.4"),
)
