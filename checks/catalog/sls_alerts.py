"""Log Service alert rules (CIS 2.10-2.22): for each watched event, an enabled alert rule whose query names it.

An alert answers a requirement when its query mentions every token of one of the requirement's token sets (case
does not matter): the event names and identity types the benchmark's own queries use."""

from __future__ import annotations

from checks.model import CheckItem, Example

CIS = "CIS_ALIBABA_CLOUD_2_0"
MLPS = "MLPS_2_0_L3"

# suffix, CIS id (None: no CIS recommendation), what is watched, token sets (any set whose tokens all appear)
WATCHED: tuple[tuple[str, str | None, str, tuple[tuple[str, ...], ...]], ...] = (
    ("RamRoleChanges", "2.10", "RAM role changes", (("createrole", "deleterole"), ("attachpolicytorole",))),
    ("CloudFirewallChanges", "2.11", "Cloud Firewall changes", (("cloudfw", "controlpolicy"),)),
    ("VpcRouteChanges", "2.12", "VPC route table changes", (("createrouteentry",), ("deleterouteentry",),
                                                           ("modifyrouteentry",))),
    ("VpcChanges", "2.13", "VPC changes", (("createvpc", "deletevpc"),)),
    ("OssPermissionChanges", "2.14", "OSS permission changes", (("putbucketacl",), ("putobjectacl",))),
    ("RdsConfigChanges", "2.15", "RDS instance configuration changes", (("rds", "modifydbinstance"),
                                                                         ("rds", "modifysecurityips"))),
    ("UnauthorizedApiCalls", "2.16", "unauthorized API calls", (("nopermission",), ("forbidden", "errorcode"))),
    ("ConsoleSigninWithoutMfa", "2.17", "console sign-ins without MFA", (("consolesignin", "mfa"),)),
    ("RootUsage", "2.18", "use of the root account", (("root-account",), ("root", "useridentity"))),
    ("ConsoleAuthFailures", "2.19", "console authentication failures", (("consolesignin", "fail"),)),
    ("CmkDisableOrDeletion", "2.20", "disabling or scheduled deletion of customer keys",
     (("disablekey",), ("schedulekeydeletion",))),
    ("OssBucketPolicyChanges", "2.21", "OSS bucket policy changes", (("putbucketpolicy",), ("deletebucketpolicy",))),
    ("SecurityGroupChanges", "2.22", "security group changes", (("authorizesecuritygroup",),
                                                                ("revokesecuritygroup",))),
    ("TrailChanges", None, "ActionTrail being stopped, deleted or changed", (("stoplogging",), ("deletetrail",),
                                                                              ("updatetrail",))),
)


def _watches(token_sets: tuple[tuple[str, ...], ...]) -> str:
    sets = " OR ".join("(" + " AND ".join(f"a.query CONTAINS '{t}'" for t in tokens) + ")" for tokens in token_sets)
    return f"EXISTS {{ MATCH (a:SlsAlert {{account_id: n.account_id}}) WHERE a.enabled AND ({sets}) }}"


def alert_item(suffix: str, section: str | None, what: str, token_sets: tuple[tuple[str, ...], ...]) -> CheckItem:
    query = " ".join(token_sets[0])
    return CheckItem(
        id=f"ACS_SLS_Alert{suffix}", title=f"A Log Service alert watches {what}", product="SLS", asset_type="Account",
        severity="low", tier="paid", collected="n.sls_alerts_collected", fails=f"NOT {_watches(token_sets)}",
        refs={**({CIS: section} if section else {}), MLPS: "8.1.5.4"},
        description=f"No enabled Log Service alert rule queries the ActionTrail logs for {what}: nobody is told when "
                    "it happens.",
        remediation=f"Manual: in the project ActionTrail delivers to, create an alert rule over its logstore whose query "
                    f"selects {what} (the benchmark's query names the events: {', '.join(token_sets[0])}), with a "
                    "notification policy.",
        passing_example=Example({"sls_alerts_collected": True}, (("", "SlsAlert", {"enabled": True, "query": query}),)),
        failing_example=Example({"sls_alerts_collected": True}, (("", "SlsAlert", {"enabled": False, "query": query}),)))


ITEMS: tuple[CheckItem, ...] = tuple(alert_item(*watched) for watched in WATCHED)
