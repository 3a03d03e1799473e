"""ActionTrail check items."""

from __future__ import annotations

from checks.model import CheckItem, Example

CIS = "CIS_ALIBABA_CLOUD_2_0"
MLPS = "MLPS_2_0_L3"

MULTI_REGION_TRAIL = (
    "EXISTS { MATCH (t:Trail {account_id: n.account_id}) "
    "WHERE toLower(t.trail_region) = 'all' AND toLower(t.status) = 'enable' }"
)

ITEMS: tuple[CheckItem, ...] = (
    CheckItem(
        id="ACS_ACTIONTRAIL_MultiRegionTrail", title="An enabled ActionTrail trail covers all regions",
        product="ACTIONTRAIL", asset_type="Account", severity="high", tier="free",
        collected="coalesce(n.actiontrail_collected, false)", fails=f"NOT ({MULTI_REGION_TRAIL})",
        refs={CIS: "2.1", MLPS: "8.1.4.3"},
        description="No trail with TrailRegion All and Status Enable.",
        remediation="CreateTrail with TrailRegion=All delivering to OSS/SLS, then StartLogging.",
        remediation_action="CreateTrail",
        passing_example=Example({"actiontrail_collected": True}, (("OWNS_TRAIL", "Trail", {"trail_region": "All", "status": "Enable"}),)),
        failing_example=Example({"actiontrail_collected": True}, (("OWNS_TRAIL", "Trail", {"trail_region": "cn-hangzhou", "status": "Enable"}),)),
    ),
)
