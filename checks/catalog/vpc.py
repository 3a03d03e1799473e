"""VPC items: flow logs on every VPC (CIS 3.3) and the flow-log service in use at all (CIS 2.5)."""

from __future__ import annotations

from checks.model import CheckItem, Example

CIS = "CIS_ALIBABA_CLOUD_2_0"
MLPS = "MLPS_2_0_L3"

ITEMS: tuple[CheckItem, ...] = (
    CheckItem(
        id="ACS_VPC_FlowLogEnabled", title="Every VPC has an active flow log", product="VPC", asset_type="Vpc",
        severity="medium", tier="paid", collected="n.flow_logs_collected", fails="NOT n.flow_log_active",
        refs={CIS: "3.3", MLPS: "8.1.3.5"},
        description="No active flow log captures the VPC's traffic: connections to and from its resources leave no "
                    "record to investigate.",
        remediation="CreateFlowLog ResourceType=VPC ResourceId=<vpc> TrafficType=All ProjectName=<SLS project> "
                    "LogStoreName=<logstore>.",
        passing_example=Example({"flow_logs_collected": True, "flow_log_active": True}),
        failing_example=Example({"flow_logs_collected": True, "flow_log_active": False})),
    CheckItem(
        id="ACS_VPC_FlowLogServiceUsed", title="The VPC flow log service is enabled", product="VPC",
        asset_type="Account", severity="low", tier="paid",
        applies="EXISTS { MATCH (v:Vpc {account_id: n.account_id}) }", collected="n.flow_logs_collected",
        fails="coalesce(n.active_flow_logs, 0) = 0", refs={CIS: "2.5", MLPS: "8.1.3.5"},
        description="The account has VPCs and no active VPC flow log at all.",
        remediation="Enable flow logs (CreateFlowLog) on the VPCs, delivered to a Log Service logstore.",
        passing_example=Example({"flow_logs_collected": True, "active_flow_logs": 2}, (("", "Vpc", {}),)),
        failing_example=Example({"flow_logs_collected": True, "active_flow_logs": 0}, (("", "Vpc", {}),))),
)
