"""More ActionTrail items, per trail."""

from __future__ import annotations

from checks.model import CheckItem, Example

CIS = "CIS_ALIBABA_CLOUD_2_0"
MLPS = "MLPS_2_0_L3"
AUDIT = {MLPS: "8.1.4.3"}


def trail_item(check_id: str, title: str, severity: str, fails: str, refs: dict[str, str], description: str,
               remediation: str, action: str | None, passing: dict[str, object], failing: dict[str, object]) -> CheckItem:
    return CheckItem(
        id=check_id, title=title, product="ACTIONTRAIL", asset_type="Trail", severity=severity, tier="free",
        collected="n.status IS NOT NULL", fails=fails, refs=refs, description=description, remediation=remediation,
        remediation_action=action, passing_example=Example(passing), failing_example=Example(failing),
    )


ITEMS: tuple[CheckItem, ...] = (
    trail_item("ACS_ACTIONTRAIL_TrailLogging", "ActionTrail trails are logging", "high",
               "toLower(n.status) <> 'enable'", {CIS: "2.1", **AUDIT}, "The trail exists but is not logging.",
               "StartLogging for the trail.", "StartLogging", {"status": "Enable"}, {"status": "Disable"}),
    trail_item("ACS_ACTIONTRAIL_TrailAllEvents", "ActionTrail trails record read and write events", "medium",
               "toLower(coalesce(n.event_rw, '')) <> 'all'", {CIS: "2.1", **AUDIT},
               "The trail records only reads or only writes.", "UpdateTrail EventRW=All.", "UpdateTrail",
               {"status": "Enable", "event_rw": "All"}, {"status": "Enable", "event_rw": "Write"}),
    trail_item("ACS_ACTIONTRAIL_TrailAllRegions", "ActionTrail trails cover all regions", "medium",
               "toLower(coalesce(n.trail_region, '')) <> 'all'", {CIS: "2.1", **AUDIT},
               "The trail covers one region only.", "UpdateTrail TrailRegion=All.", "UpdateTrail",
               {"status": "Enable", "trail_region": "All"}, {"status": "Enable", "trail_region": "cn-hangzhou"}),
    trail_item("ACS_ACTIONTRAIL_TrailSLSIntegration", "ActionTrail delivers to Log Service", "low",
               "coalesce(n.sls_project_arn, '') = ''", {CIS: "2.3", MLPS: "8.1.5.4"},
               "Events are not delivered to an SLS project, so they cannot be alerted on in real time.",
               "Manual (needs an SLS project and a role ActionTrail writes with): `aliyun actiontrail UpdateTrail "
               "--Name <trail> --SlsProjectArn acs:log:<region>:<account>:project/<project> --SlsWriteRoleArn "
               "acs:ram::<account>:role/aliyunactiontraildefaultrole`.", None,
               {"status": "Enable", "sls_project_arn": "acs:log:cn-hangzhou:1:project/audit"},
               {"status": "Enable", "sls_project_arn": ""}),
    trail_item("ACS_ACTIONTRAIL_TrailOSSDelivery", "ActionTrail exports copies of all events to OSS", "medium",
               "coalesce(n.oss_bucket, '') = ''", {CIS: "2.1", **AUDIT},
               "The trail keeps no copy of its events in an OSS bucket (long-term, tamper-evident storage).",
               "Manual (choose a private, versioned bucket for the audit record): `aliyun actiontrail UpdateTrail "
               "--Name <trail> --OssBucketName <bucket> --OssKeyPrefix actiontrail`.", None,
               {"status": "Enable", "oss_bucket": "audit-logs"}, {"status": "Enable", "oss_bucket": ""}),
    trail_item("ACS_ACTIONTRAIL_TrailDelivery", "ActionTrail trails deliver events somewhere durable", "medium",
               "coalesce(n.oss_bucket, '') = '' AND coalesce(n.sls_project_arn, '') = ''", {CIS: "2.1", **AUDIT},
               "The trail delivers to neither OSS nor SLS: events older than 90 days are lost.",
               "Manual (choose where events are kept): `aliyun actiontrail UpdateTrail --Name <trail> --OssBucketName "
               "<private bucket>` and/or `--SlsProjectArn <project arn> --SlsWriteRoleArn <role arn>`.", None,
               {"status": "Enable", "oss_bucket": "audit-logs"}, {"status": "Enable", "oss_bucket": "", "sls_project_arn": ""}),
)
