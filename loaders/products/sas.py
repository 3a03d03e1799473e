"""Security Center (SAS 2018-12-03): the account's edition and which servers run its agent (optional calls: a
recording without them leaves these facts unknown)."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from graph_schema.model import NodeSchema
from graph_schema.store import GraphBatch
from loaders.base import CollectContext, CollectError, Gap, dig
from loaders.declaration import Api, Product
from loaders.regions import GLOBAL
from loaders.synthetic import request_id

API = Api("Sas", "2018-12-03", "tds.aliyuncs.com", is_global=True)
SCOPE = "sas:global"
PAGE = 100
# DescribeVersionConfig `Version`: 1 Basic, 2/3 Enterprise, 5 Advanced, 6 Anti-virus, 7 Ultimate, 10 value-added only
EDITIONS = {1: "basic", 2: "enterprise", 3: "enterprise", 5: "advanced", 6: "anti-virus", 7: "ultimate",
            10: "value-added"}


def _servers(ctx: CollectContext) -> list[Any] | Gap | None:
    """DescribeCloudCenterInstances pages by CurrentPage until PageInfo.TotalCount servers are in."""
    servers: list[Any] = []
    page = 1
    while True:
        body = ctx.call(*API.pair, "DescribeCloudCenterInstances", GLOBAL, {"CurrentPage": page, "PageSize": PAGE},
                        optional=True)
        if not isinstance(body, dict):
            return body if isinstance(body, Gap) else None
        got = body.get("Instances") or []
        servers.extend(got)
        total = dig(body, "PageInfo", "TotalCount", default=len(servers))
        try:
            if not got or len(servers) >= int(total):
                return servers
        except (TypeError, ValueError) as exc:
            raise CollectError("Sas:DescribeCloudCenterInstances: field PageInfo.TotalCount is not a number") from exc
        page += 1


def collect(ctx: CollectContext, region: str = GLOBAL) -> dict[str, Any]:
    ctx.mark(SCOPE, "ok")
    return {"version": ctx.call(*API.pair, "DescribeVersionConfig", GLOBAL, {}, optional=True),
            "servers": _servers(ctx),
            "notices": ctx.call(*API.pair, "DescribeNoticeConfig", GLOBAL, {}, optional=True),
            "vul_config": ctx.call(*API.pair, "DescribeVulConfig", GLOBAL, {}, optional=True)}


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
    servers = raw.get("servers")
    if not isinstance(servers, list):
        return
    online = {str(s.get("InstanceId")) for s in servers
              if isinstance(s, dict) and str(s.get("ClientStatus") or "").lower() == "online"}
    for iid, row in batch.nodes.get("EcsInstance", {}).items():
        row["sas_agent_collected"] = True
        row["sas_agent_online"] = iid in online


def synthetic(call: Callable[..., None], rng: random.Random, region: str, count: int) -> None:
    """The edition once (with the first region); agents are reported for the generated ECS instances' ids."""
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


PRODUCT = Product(
    "sas", (API,), collect, transform, is_global=True, synthetic=synthetic,
    nodes=(NodeSchema("Account", "", ("sas_collected", "sas_edition", "sas_notices_collected", "sas_silent_notices",
                                       "sas_vul_config_collected", "sas_vul_scan_off")),
           NodeSchema("EcsInstance", "", ("sas_agent_collected", "sas_agent_online"))),
)
