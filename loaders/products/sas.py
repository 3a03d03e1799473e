"""Security Center (SAS 2018-12-03): the account's edition, its notification and vulnerability-scan settings,
which servers run its agent and the OS vulnerabilities it found unfixed on them (optional calls: a recording
without them leaves these facts unknown)."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from graph_schema.model import NodeSchema
from graph_schema.store import GraphBatch
from loaders.base import CollectContext, CollectError, Gap, dig
from loaders.declaration import Api, Product
from loaders.listing import Listing
from loaders.regions import GLOBAL
from loaders.synthetic import request_id

API = Api("Sas", "2018-12-03", "tds.aliyuncs.com", is_global=True, listings={
    "DescribeCloudCenterInstances": Listing(("Instances",), default_size=20, total_field="PageInfo.TotalCount",
                                            page_param="CurrentPage"),
    "DescribeVulList": Listing(("VulRecords",), page_param="CurrentPage"),
})
SCOPE = "sas:global"
PAGE = 100
# DescribeVersionConfig `Version`: 1 Basic, 2/3 Enterprise, 5 Advanced, 6 Anti-virus, 7 Ultimate, 10 value-added only
# DescribeVulList types that are the operating system's own patches (CIS 4.5): Linux software, Windows system
OS_VUL_TYPES = ("cve", "sys")
# DescribeConcernNecessity: the fix priorities the scan reports; CIS 8.7 wants high (asap) and medium (later)
REQUIRED_VUL_LEVELS = ("asap", "later")
EDITIONS = {1: "basic", 2: "enterprise", 3: "enterprise", 5: "advanced", 6: "anti-virus", 7: "ultimate",
            10: "value-added"}


def _pages(ctx: CollectContext, action: str, params: dict[str, Any], list_key: str,
           total_path: tuple[str, ...]) -> list[Any] | Gap | None:
    """A SAS listing: pages by CurrentPage until the total at `total_path` is in (or a page comes back empty)."""
    items: list[Any] = []
    page = 1
    while True:
        body = ctx.call(*API.pair, action, GLOBAL, {**params, "CurrentPage": page, "PageSize": PAGE}, optional=True)
        if not isinstance(body, dict):
            return body if isinstance(body, Gap) else None
        got = body.get(list_key) or []
        items.extend(got)
        total = dig(body, *total_path, default=len(items))
        try:
            if not got or len(items) >= int(total):
                return items
        except (TypeError, ValueError) as exc:
            raise CollectError(f"Sas:{action}: field {'.'.join(total_path)} is not a number") from exc
        page += 1


def collect(ctx: CollectContext, region: str = GLOBAL) -> dict[str, Any]:
    ctx.mark(SCOPE, "ok")
    return {"version": ctx.call(*API.pair, "DescribeVersionConfig", GLOBAL, {}, optional=True),
            "servers": _pages(ctx, "DescribeCloudCenterInstances", {}, "Instances", ("PageInfo", "TotalCount")),
            "notices": ctx.call(*API.pair, "DescribeNoticeConfig", GLOBAL, {}, optional=True),
            "vul_config": ctx.call(*API.pair, "DescribeVulConfig", GLOBAL, {}, optional=True),
            "vul_levels": ctx.call(*API.pair, "DescribeConcernNecessity", GLOBAL, {}, optional=True),
            "os_vuls": {t: _pages(ctx, "DescribeVulList", {"Type": t, "Dealed": "n"}, "VulRecords", ("TotalCount",))
                        for t in OS_VUL_TYPES}}


def transform(raw: dict[str, Any], batch: GraphBatch) -> None:
    account = batch.nodes["Account"][batch.account_id]
    version = raw.get("version")
    if isinstance(version, dict):
        account["sas_collected"] = True
        account["sas_edition"] = EDITIONS.get(int(version.get("Version") or 1), "basic")
    notices = raw.get("notices")
    if isinstance(notices, dict):
        # a notice item with Route 0 notifies nobody (Route is a bitmask of SMS, email, in-site message)
        items = [n for n in notices.get("NoticeConfigList") or [] if isinstance(n, dict)]
        account["sas_notices_collected"] = True
        account["sas_silent_notices"] = sorted(str(n.get("Project")) for n in items if not int(n.get("Route") or 0))
    vul = raw.get("vul_config")
    if isinstance(vul, dict):
        targets = [t for t in vul.get("TargetConfigs") or [] if isinstance(t, dict)]
        account["sas_vul_config_collected"] = True
        account["sas_vul_scan_off"] = sorted(str(t.get("Type")) for t in targets if str(t.get("Config")).lower() != "on")
    levels = raw.get("vul_levels")
    if isinstance(levels, dict):
        concerned = {str(v).lower() for v in levels.get("ConcernNecessity") or []}
        account["sas_vul_levels_ignored"] = [lv for lv in REQUIRED_VUL_LEVELS if lv not in concerned]
    servers = raw.get("servers")
    if not isinstance(servers, list):
        return
    online = {str(s.get("InstanceId")) for s in servers
              if isinstance(s, dict) and str(s.get("ClientStatus") or "").lower() == "online"}
    os_vuls = raw.get("os_vuls") or {}
    # unfixed OS vulnerabilities per instance, known only when every OS type was listed in full
    unfixed: dict[str, int] | None = None
    if all(isinstance(os_vuls.get(t), list) for t in OS_VUL_TYPES):
        unfixed = {}
        for record in (r for t in OS_VUL_TYPES for r in os_vuls[t] if isinstance(r, dict)):
            iid = str(record.get("InstanceId") or "")
            unfixed[iid] = unfixed.get(iid, 0) + 1
    for iid, row in batch.nodes.get("EcsInstance", {}).items():
        row["sas_agent_collected"] = True
        row["sas_agent_online"] = iid in online
        if unfixed is not None and iid in online:
            # an instance without an online agent is not scanned: its empty list says nothing
            row["sas_unfixed_os_vuls"] = unfixed.get(iid, 0)


def synthetic(call: Callable[..., None], rng: random.Random, region: str, count: int) -> None:
    """The settings once (with the first region); agents and unfixed OS vulnerabilities are reported for the
    generated ECS instances' ids."""
    if region != "cn-hangzhou":
        return
    call(*API.pair, "DescribeVersionConfig", GLOBAL, {}, {"RequestId": request_id(rng), "Version": rng.choice([1, 3, 7]),
                                                           "IsTrialVersion": 0, "InstanceId": "sas-syn0001"})
    call(*API.pair, "DescribeNoticeConfig", GLOBAL, {}, {"RequestId": request_id(rng), "NoticeConfigList": [
        {"Project": p, "Route": rng.choice([0, 7])} for p in ("yundun_security_Weeklyreport", "sas_vulnerability",
                                                                "yundun_aegis_AV_true", "sas_healthcheck")]})
    call(*API.pair, "DescribeVulConfig", GLOBAL, {}, {"RequestId": request_id(rng), "TargetConfigs": [
        {"Type": t, "Config": rng.choice(["on", "off"])} for t in ("cve", "sys", "cms", "emg", "app")]})
    agents = [{"InstanceId": f"i-syn{i:08d}", "ClientStatus": rng.choice(["online", "online", "offline"]),
               "RegionId": region} for i in range(0, 200, 2)]
    call(*API.pair, "DescribeCloudCenterInstances", GLOBAL, {"CurrentPage": 1, "PageSize": PAGE}, {
        "RequestId": request_id(rng), "Instances": agents,
        "PageInfo": {"TotalCount": len(agents), "CurrentPage": 1, "PageSize": PAGE, "Count": len(agents)}})
    call(*API.pair, "DescribeConcernNecessity", GLOBAL, {}, {
        "RequestId": request_id(rng), "ConcernNecessity": rng.choice([["asap", "later", "nntf"], ["asap"]])})
    scanned = [a for a in agents if a["ClientStatus"] == "online"]
    for vul_type in OS_VUL_TYPES:
        records = [{"InstanceId": a["InstanceId"], "RegionId": region, "Type": vul_type, "Name": f"syn-{vul_type}-{n}",
                    "Necessity": rng.choice(["asap", "later", "nntf"]), "Status": 1}
                   for a in rng.sample(scanned, min(len(scanned), PAGE // 4)) for n in range(rng.randint(1, 3))][:PAGE]
        call(*API.pair, "DescribeVulList", GLOBAL, {"Type": vul_type, "Dealed": "n", "CurrentPage": 1, "PageSize": PAGE},
             {"RequestId": request_id(rng), "VulRecords": records, "TotalCount": len(records), "CurrentPage": 1,
              "PageSize": PAGE})


PRODUCT = Product(
    "sas", (API,), collect, transform, is_global=True, synthetic=synthetic,
    nodes=(NodeSchema("Account", "", ("sas_collected", "sas_edition", "sas_notices_collected", "sas_silent_notices",
                                       "sas_vul_config_collected", "sas_vul_scan_off", "sas_vul_levels_ignored")),
           NodeSchema("EcsInstance", "", ("sas_agent_collected", "sas_agent_online", "sas_unfixed_os_vuls"))),
)
