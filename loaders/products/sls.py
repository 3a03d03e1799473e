"""Simple Log Service (Sls 2020-12-30): every logstore of the region's projects with its retention and
encryption (optional calls: a recording without them simply holds no logstores).

ListProject and ListLogStores page by `offset`/`size` and answer `{"count", "total", <items>}`;
GetLogStore answers the logstore object (`ttl` in days, 3650 meaning permanent; `encrypt_conf`).
"""

from __future__ import annotations

from typing import Any

from graph_schema.model import NodeSchema
from graph_schema.store import GraphBatch
from loaders.base import CollectContext, CollectError, Gap, as_bool, fetch_page
from loaders.declaration import Api, Product
from loaders.listing import Listing
from loaders.regions import is_supported

API = Api("Sls", "2020-12-30", "{region}.log.aliyuncs.com", "alibabacloud_sls20201230.client", style="roa",
          listings={"ListProject": Listing(("projects",), style="none", total_field="",
                                           empty_extra={"count": 0, "total": 0})},
          routes={"ListProject": ("/", None), "ListLogStores": ("/logstores", "project"),
                  "GetLogStore": ("/logstores/{logstore}", "project"), "ListAlerts": ("/alerts", "project")})
SLS = API.pair
PAGE = 500


def _offset_paged(ctx: CollectContext, action: str, region: str, params: dict[str, Any], field: str,
                  scope: str | None = None) -> list[Any] | Gap:
    items: list[Any] = []
    while True:
        answer = fetch_page(ctx, *SLS, action, region, {**params, "offset": len(items), "size": PAGE}, (field,),
                            scope=scope, optional=True)
        if answer is None or isinstance(answer, Gap):
            return items if answer is None else answer
        body, got = answer
        items.extend(got)
        try:
            total = int(body.get("total", len(items)))
        except (TypeError, ValueError) as exc:
            raise CollectError(f"Sls:{action} in {region}: field total is not a number") from exc
        if not got or len(items) >= total:
            return items


def collect_region(ctx: CollectContext, region: str) -> dict[str, Any]:
    scope = f"sls:{region}"
    ctx.mark(scope, "ok")
    projects = _offset_paged(ctx, "ListProject", region, {}, "projects", scope=scope)
    logstores: dict[str, Any] = {}
    details: dict[str, Any] = {}
    alerts: dict[str, Any] = {}
    if isinstance(projects, list):
        for project in projects:
            name = project.get("projectName") if isinstance(project, dict) else None
            if not name:
                continue
            names = _offset_paged(ctx, "ListLogStores", region, {"project": name}, "logstores")
            logstores[name] = names
            alerts[name] = _offset_paged(ctx, "ListAlerts", region, {"project": name}, "results")
            for store in names if isinstance(names, list) else []:
                details[f"{name}/{store}"] = ctx.call(*SLS, "GetLogStore", region, {"project": name, "logstore": store},
                                                      optional=True)
    return {"region": region, "projects": projects, "logstores": logstores, "details": details, "alerts": alerts}


def logstore_props(body: dict[str, Any]) -> dict[str, Any]:
    """The facts the SLS check items read, from GetLogStore."""
    raw_enc = body.get("encrypt_conf")
    enc: dict[str, Any] = raw_enc if isinstance(raw_enc, dict) else {}
    try:
        ttl = int(body["ttl"])
    except (KeyError, TypeError, ValueError) as exc:
        raise CollectError(f"Sls:GetLogStore {body.get('logstoreName')}: field ttl is not a number") from exc
    return {
        "ttl_days": ttl, "permanent": ttl >= 3650, "telemetry_type": body.get("telemetryType") or "",
        "encrypted": bool(as_bool(enc.get("enable"))), "encrypt_type": str(enc.get("encrypt_type") or ""),
        "customer_key": bool(isinstance(enc.get("user_cmk_info"), dict) and enc["user_cmk_info"].get("cmk_key_id")),
    }


def _alerts(raw: dict[str, Any], batch: GraphBatch) -> None:
    """Alert rules with their queries (lower case, joined): the CIS 2.10-2.22 items look for the events they watch."""
    region, by_project = raw["region"], raw.get("alerts") or {}
    collected = bool(by_project) and all(isinstance(found, list) for found in by_project.values())
    for project, found in by_project.items():
        for alert in found if isinstance(found, list) else []:
            name = alert.get("name") if isinstance(alert, dict) else None
            if not name:
                raise CollectError(f"Sls:ListAlerts {project}: an alert has no name")
            queries = [q for q in (alert.get("configuration") or {}).get("queryList") or [] if isinstance(q, dict)]
            batch.node("SlsAlert", f"{project}/{name}", f"sls:{region}", region=region,
                       supported=is_supported("sls", region), project=project, name=name,
                       enabled=str(alert.get("status") or "").upper() == "ENABLED",
                       query=" | ".join(str(q.get("query") or "") for q in queries).lower(),
                       stores=[str(q.get("store") or "") for q in queries])
    if by_project:
        account = batch.nodes["Account"][batch.account_id]
        account["sls_alerts_collected"] = account.get("sls_alerts_collected", True) and collected


def transform_region(raw: dict[str, Any], batch: GraphBatch) -> None:
    projects = raw.get("projects")
    if not isinstance(projects, list):
        return
    _alerts(raw, batch)
    region = raw["region"]
    for project in projects:
        name = project.get("projectName") if isinstance(project, dict) else None
        if not name:
            raise CollectError(f"Sls:ListProject in {region}: a project has no projectName")
        names = raw.get("logstores", {}).get(name)
        for store in names if isinstance(names, list) else []:
            if not isinstance(store, str) or not store:
                raise CollectError(f"Sls:ListLogStores {name}: a logstore name must be a non-empty string")
            body = raw.get("details", {}).get(f"{name}/{store}")
            props: dict[str, Any] = {"region": region, "supported": is_supported("sls", region), "project": name,
                                     "name": store, "details_collected": isinstance(body, dict)}
            if isinstance(body, dict):
                props.update(logstore_props(body))
            batch.node("SlsLogstore", f"{name}/{store}", f"sls:{region}", **props)


PRODUCT = Product(
    "sls", (API,), collect_region, transform_region, order=80,
    nodes=(NodeSchema("SlsLogstore", "a Simple Log Service logstore (id: project/logstore)", (
        "project", "name", "ttl_days", "permanent", "telemetry_type", "encrypted", "encrypt_type", "customer_key",
        "details_collected")),
           NodeSchema("SlsAlert", "a Log Service alert rule (id: project/name) with its queries", (
               "project", "name", "enabled", "query", "stores"), asset=False),
           NodeSchema("Account", "", ("sls_alerts_collected",))),
)
