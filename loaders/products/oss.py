"""OSS buckets: ACL, bucket policy, encryption, logging, versioning (XML bodies, policy JSON text)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Any

from graph_schema.model import NodeSchema, RelSchema
from graph_schema.store import GraphBatch
from loaders.base import NOT_CONFIGURED, CollectContext, CollectError, Gap, json_object
from loaders.declaration import Api, AttackRole, Product
from loaders.regions import GLOBAL, is_supported

API = Api("Oss", "", "oss-{region}.aliyuncs.com", "oss2", style="oss", is_global=True)
OSS = API.pair
DETAIL_ACTIONS = ("GetBucketAcl", "GetBucketPolicy", "GetBucketEncryption", "GetBucketLogging", "GetBucketVersioning")


def _xml(body: Any, call: str) -> ET.Element:
    if not isinstance(body, str):
        raise CollectError(f"{call}: response must be an XML string, got {type(body).__name__}")
    try:
        return ET.fromstring(body.encode("utf-8"))
    except ET.ParseError as exc:
        raise CollectError(f"{call}: response is not valid XML: {exc}") from exc


def _text(root: ET.Element, path: str) -> str:
    el = root.find(path)
    return (el.text or "").strip() if el is not None and el.text else ""


def collect(ctx: CollectContext, region: str = GLOBAL) -> dict[str, Any]:
    scope = "oss:global"
    ctx.mark(scope, "ok")
    buckets: list[dict[str, str]] = []
    marker = ""
    for _ in range(10_000):
        params: dict[str, Any] = {"marker": marker} if marker else {}
        body = ctx.call(*OSS, "ListBuckets", GLOBAL, params, scope=scope)
        if isinstance(body, Gap) or body is NOT_CONFIGURED:
            return {"buckets": body if isinstance(body, Gap) else [], "details": {}}
        root = _xml(body, "Oss:ListBuckets")
        for b in root.iter("Bucket"):
            name = _text(b, "Name")
            if not name:
                raise CollectError("Oss:ListBuckets: a Bucket has no Name")
            region = _text(b, "Region") or _text(b, "Location").removeprefix("oss-")
            buckets.append({"name": name, "region": region, "created": _text(b, "CreationDate"),
                            "storage_class": _text(b, "StorageClass")})
        if _text(root, "IsTruncated").lower() == "true" and _text(root, "NextMarker"):
            marker = _text(root, "NextMarker")
        else:
            break
    details: dict[str, dict[str, Any]] = {}
    for bucket in buckets:
        details[bucket["name"]] = {
            action: ctx.call(*OSS, action, bucket["region"], {"bucket": bucket["name"]}) for action in DETAIL_ACTIONS
        }
    return {"buckets": buckets, "details": details}


def parse_policy_text(body: str, bucket: str) -> dict[str, Any]:
    if not isinstance(body, str | bytes):
        raise CollectError(f"Oss:GetBucketPolicy {bucket}: the policy is not valid JSON: got {type(body).__name__}")
    return json_object(body, f"Oss:GetBucketPolicy {bucket}: the policy")


def transform(raw: dict[str, Any], batch: GraphBatch) -> None:
    buckets = raw.get("buckets")
    if not isinstance(buckets, list):
        return
    for b in buckets:
        name = b["name"]
        d = raw["details"].get(name, {})
        props: dict[str, Any] = {"region": b["region"], "supported": is_supported("oss", b["region"]),
                                 "storage_class": b.get("storage_class"), "created": b.get("created")}
        acl = d.get("GetBucketAcl")
        props["acl_collected"] = isinstance(acl, str)
        if isinstance(acl, str):
            props["acl"] = _text(_xml(acl, f"Oss:GetBucketAcl {name}"), ".//Grant") or "private"
        pol = d.get("GetBucketPolicy")
        props["policy_collected"] = isinstance(pol, str) or pol is NOT_CONFIGURED
        if isinstance(pol, str):
            doc = parse_policy_text(pol, name)
            props["policy_document"] = json.dumps(doc, sort_keys=True)
        enc = d.get("GetBucketEncryption")
        props["encryption_collected"] = isinstance(enc, str) or enc is NOT_CONFIGURED
        if isinstance(enc, str):
            rule = _xml(enc, f"Oss:GetBucketEncryption {name}")
            props["encryption_algorithm"] = _text(rule, ".//SSEAlgorithm")
            props["encryption_kms_key_id"] = _text(rule, ".//KMSMasterKeyID")  # set: a customer master key
        elif enc is NOT_CONFIGURED:
            props["encryption_algorithm"] = props["encryption_kms_key_id"] = ""
        log = d.get("GetBucketLogging")
        props["logging_collected"] = isinstance(log, str)
        if isinstance(log, str):
            root = _xml(log, f"Oss:GetBucketLogging {name}")
            target = _text(root, ".//LoggingEnabled/TargetBucket")
            props["logging_enabled"] = bool(target)
            props["logging_target"] = target
        ver = d.get("GetBucketVersioning")
        props["versioning_collected"] = isinstance(ver, str)
        if isinstance(ver, str):
            props["versioning_status"] = _text(_xml(ver, f"Oss:GetBucketVersioning {name}"), ".//Status")
        batch.node("OssBucket", name, "oss:global", **props)
    for name, row in batch.nodes.get("OssBucket", {}).items():
        log_bucket = row.get("logging_target")
        if log_bucket and batch.has_node("OssBucket", log_bucket):
            batch.rel("LOGS_TO", ("OssBucket", name), ("OssBucket", log_bucket), "oss:global")


PRODUCT = Product(
    "oss", (API,), collect, transform, is_global=True, order=40,
    nodes=(NodeSchema("OssBucket", "an OSS bucket", (
        "created", "storage_class", "acl", "acl_collected", "policy_document", "policy_collected", "encryption_algorithm",
        "encryption_kms_key_id", "encryption_collected", "logging_enabled", "logging_target", "logging_collected",
        "versioning_status", "versioning_collected",
        # set by the analysis from the bucket policy (checks/analysis.py annotate_buckets)
        "policy_public", "policy_public_write", "policy_secure_transport")),),
    rels=(RelSchema("LOGS_TO", "Trail|OssBucket", "OssBucket", "delivery/logging target"),),
    # the contract's modes (shared/spec/cli.md "Targets"): read = oss:GetObject, write = oss:PutObject
    attack_roles=(AttackRole(
        "OssBucket", "target", exposed="n.acl IN ['public-read', 'public-read-write'] OR n.policy_public",
        read=("oss:GetObject",), write=("oss:PutObject",), resource="acs:oss:{region}:{account}:{id}"),),
)
