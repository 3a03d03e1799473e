"""The common shape of a database-like product: a paged regional listing of instances, then per instance a few
detail calls, each read into facts by a pure function. A declaration names these and gets its collect and
transform (the calls are optional: a recording without them holds no such instances)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from graph_schema.store import GraphBatch
from loaders.base import CollectContext, CollectError, dig_list, paged
from loaders.declaration import Api
from loaders.regions import is_supported

Facts = Callable[[dict[str, Any]], dict[str, Any]]
OPEN_CIDRS = ("0.0.0.0/0", "0.0.0.0")


@dataclass(frozen=True)
class InstanceListing:
    api: Api
    scope: str  # the product's name: scope prefix and region-limitation key
    label: str
    action: str
    list_path: tuple[str, ...]
    id_field: str
    listing_facts: Facts  # the node's facts from its listing entry
    # detail action → its facts (from the answer's body); the call names the instance by id_param
    details: Mapping[str, Facts] = field(default_factory=dict)
    id_param: str = ""
    total_keys: tuple[str, ...] = ("TotalCount", "TotalRecordCount")

    def collect_region(self, ctx: CollectContext, region: str) -> dict[str, Any]:
        scope = f"{self.scope}:{region}"
        ctx.mark(scope, "ok")
        items = paged(ctx, *self.api.pair, self.action, region, {"RegionId": region}, self.list_path,
                      total_keys=self.total_keys, scope=scope, optional=True)
        ids = [str(i.get(self.id_field)) for i in (items if isinstance(items, list) else [])
               if isinstance(i, dict) and i.get(self.id_field)]
        details = {iid: {action: ctx.call(*self.api.pair, action, region, {"RegionId": region, self.id_param: iid},
                                          optional=True) for action in self.details} for iid in ids}
        return {"region": region, "items": items, "details": details}

    def transform_region(self, raw: dict[str, Any], batch: GraphBatch) -> None:
        items, region = raw.get("items"), raw["region"]
        if not isinstance(items, list):
            return
        for item in items:
            iid = item.get(self.id_field) if isinstance(item, dict) else None
            if not iid:
                raise CollectError(f"{self.api.code}:{self.action} in {region}: an entry has no {self.id_field}")
            props: dict[str, Any] = {"region": region, "supported": is_supported(self.scope, region),
                                     **self.listing_facts(item)}
            for action, facts in self.details.items():
                body = raw["details"].get(iid, {}).get(action)
                if isinstance(body, dict):
                    try:
                        props.update(facts(body))
                    except (KeyError, TypeError, ValueError) as exc:
                        raise CollectError(f"{self.api.code}:{action} {iid}: unexpected shape ({exc})") from exc
            batch.node(self.label, str(iid), f"{self.scope}:{region}", **props)


def whitelist_facts(ips: list[str]) -> dict[str, Any]:
    """A whitelist's addresses and whether it admits every address."""
    return {"whitelist_collected": True, "security_ips": ips, "whitelist_open": any(ip in OPEN_CIDRS for ip in ips)}


def comma_list(text: Any) -> list[str]:
    return [ip.strip() for ip in str(text or "").split(",") if ip.strip()]


def listed(body: Any, *path: str, call: str = "") -> list[Any]:
    return [x for x in dig_list(body, *path, call=call) if isinstance(x, dict)]


def int_field(body: dict[str, Any], key: str) -> int:
    return int(body[key])
