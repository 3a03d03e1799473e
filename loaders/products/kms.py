"""Key Management Service: the keys of each region with their state, rotation and deletion protection
(optional calls: a recording without them simply holds no keys)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from graph_schema.model import NodeSchema
from graph_schema.store import GraphBatch
from loaders.base import CollectContext, CollectError, dig, paged
from loaders.declaration import Api, Product
from loaders.listing import Listing
from loaders.regions import is_supported

API = Api("Kms", "2016-01-20", "kms.{region}.aliyuncs.com", "alibabacloud_kms20160120.client", listings={
    "ListKeys": Listing(("Keys", "Key")),
})
KMS = API.pair
SECONDS_PER_DAY = 86400


def collect_region(ctx: CollectContext, region: str) -> dict[str, Any]:
    scope = f"kms:{region}"
    ctx.mark(scope, "ok")
    keys = paged(ctx, *KMS, "ListKeys", region, {"RegionId": region}, ("Keys", "Key"),
                           scope=scope, optional=True)
    details: dict[str, Any] = {}
    if isinstance(keys, list):
        for key in keys:
            key_id = key.get("KeyId") if isinstance(key, dict) else None
            if key_id:
                details[key_id] = ctx.call(*KMS, "DescribeKey", region, {"KeyId": key_id}, optional=True)
    return {"region": region, "keys": keys, "details": details,
            "collected_at": ctx.collected_at.isoformat()}


def _time(text: Any) -> datetime | None:
    if not text:
        return None
    try:
        value = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _interval_days(text: Any) -> float | None:
    """RotationInterval is seconds with an `s` suffix ("31536000s")."""
    if text in (None, ""):
        return None
    try:
        return float(str(text).strip().rstrip("s")) / SECONDS_PER_DAY
    except ValueError:
        return None


def key_props(meta: dict[str, Any], collected_at: datetime | None) -> dict[str, Any]:
    """The facts the KMS check items read, from DescribeKey's KeyMetadata."""
    creator = str(meta.get("Creator") or "")
    expires = _time(meta.get("MaterialExpireTime"))
    return {
        "arn": meta.get("Arn"), "key_state": meta.get("KeyState"), "key_spec": meta.get("KeySpec"),
        "key_usage": meta.get("KeyUsage"), "origin": meta.get("Origin"), "protection_level": meta.get("ProtectionLevel"),
        "creator": creator,
        # keys that cloud services create for themselves name the service as creator; customers' keys an account UID
        "customer_managed": creator.isdigit() if creator else None,
        "automatic_rotation": meta.get("AutomaticRotation") or "Disabled",
        "rotation_interval_days": _interval_days(meta.get("RotationInterval")),
        "deletion_protection": str(meta.get("DeletionProtection") or "").lower() == "enabled",
        "last_rotation_date": meta.get("LastRotationDate"), "delete_date": meta.get("DeleteDate"),
        "material_expires_in_days": ((expires - collected_at).total_seconds() / SECONDS_PER_DAY
                                     if expires and collected_at else None),
    }


def transform_region(raw: dict[str, Any], batch: GraphBatch) -> None:
    keys = raw.get("keys")
    if not isinstance(keys, list):
        return
    region = raw["region"]
    collected_at = _time(raw.get("collected_at"))
    for key in keys:
        key_id = key.get("KeyId") if isinstance(key, dict) else None
        if not key_id:
            raise CollectError(f"Kms:ListKeys in {region}: a key has no KeyId")
        detail = raw.get("details", {}).get(key_id)
        meta = dig(detail, "KeyMetadata") if isinstance(detail, dict) else None
        props: dict[str, Any] = {"region": region, "supported": is_supported("kms", region), "arn": key.get("KeyArn"),
                                 "details_collected": isinstance(meta, dict) and bool(meta)}
        if isinstance(meta, dict) and meta:
            props.update(key_props(meta, collected_at))
            props["arn"] = props["arn"] or key.get("KeyArn")
        batch.node("KmsKey", key_id, f"kms:{region}", **props)


PRODUCT = Product(
    "kms", (API,), collect_region, transform_region, order=70,
    nodes=(NodeSchema("KmsKey", "a KMS key (ListKeys + DescribeKey)", (
        "arn", "key_state", "key_spec", "key_usage", "origin", "protection_level", "creator", "customer_managed",
        "automatic_rotation", "rotation_interval_days", "deletion_protection", "material_expires_in_days",
        "last_rotation_date", "delete_date", "details_collected")),),
)
