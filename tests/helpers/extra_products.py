"""Recorded SLB, KMS and SLS answers (the real APIs' shapes) to add to a snapshot document: the sample
account has none, and these products are collected only where a recording holds them."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

REGION = "cn-hangzhou"
LB_ID = "lb-bp1public000001"
CMK_ID = "key-hzz62f1cb66fa42qo3"
SERVICE_KEY_ID = "key-hzz6servicekey0001"
PROJECT = "acme-audit"


def _call(product: str, version: str, action: str, params: dict[str, Any], response: Any) -> dict[str, Any]:
    return {"product": product, "version": version, "action": action, "region": REGION, "params": params,
            "response": response}


def _slb(action: str, params: dict[str, Any], response: Any) -> dict[str, Any]:
    return _call("Slb", "2014-05-15", action, {"RegionId": REGION, **params}, response)


def _kms(action: str, params: dict[str, Any], response: Any) -> dict[str, Any]:
    return _call("Kms", "2016-01-20", action, params, response)


def _sls(action: str, params: dict[str, Any], response: Any) -> dict[str, Any]:
    return _call("Sls", "2020-12-30", action, params, response)


def _key_metadata(account_id: str, key_id: str, creator: str, rotation: str, deletion_protection: str) -> dict[str, Any]:
    return {"KeyMetadata": {
        "KeyId": key_id, "Arn": f"acs:kms:{REGION}:{account_id}:key/{key_id}", "KeyState": "Enabled",
        "KeySpec": "Aliyun_AES_256", "KeyUsage": "ENCRYPT/DECRYPT", "Origin": "Aliyun_KMS",
        "ProtectionLevel": "SOFTWARE", "Creator": creator, "AutomaticRotation": rotation,
        "RotationInterval": "31536000s" if rotation == "Enabled" else "", "DeletionProtection": deletion_protection,
        "CreationDate": "2026-01-05T08:00:00Z", "LastRotationDate": "2026-01-05T08:00:00Z", "MaterialExpireTime": "",
    }}


def extra_calls(account_id: str) -> list[dict[str, Any]]:
    return [
        _slb("DescribeLoadBalancers", {"PageNumber": 1, "PageSize": 100}, {
            "TotalCount": 1, "PageNumber": 1, "PageSize": 100, "LoadBalancers": {"LoadBalancer": [{
                "LoadBalancerId": LB_ID, "LoadBalancerName": "web", "AddressType": "internet",
                "Address": "47.96.1.1", "RegionId": REGION}]}}),
        _slb("DescribeLoadBalancerAttribute", {"LoadBalancerId": LB_ID}, {
            "LoadBalancerId": LB_ID, "DeleteProtection": "off", "ListenerPortsAndProtocol": {"ListenerPortAndProtocol": [
                {"ListenerPort": 80, "ListenerProtocol": "http"}, {"ListenerPort": 443, "ListenerProtocol": "https"}]}}),
        _slb("DescribeLoadBalancerHTTPSListenerAttribute", {"LoadBalancerId": LB_ID, "ListenerPort": 443}, {
            "ListenerPort": 443, "TLSCipherPolicy": "tls_cipher_policy_1_0", "Status": "running"}),
        _kms("ListKeys", {"PageNumber": 1, "PageSize": 100}, {
            "TotalCount": 2, "PageNumber": 1, "PageSize": 100, "Keys": {"Key": [
                {"KeyId": CMK_ID, "KeyArn": f"acs:kms:{REGION}:{account_id}:key/{CMK_ID}"},
                {"KeyId": SERVICE_KEY_ID, "KeyArn": f"acs:kms:{REGION}:{account_id}:key/{SERVICE_KEY_ID}"}]}}),
        _kms("DescribeKey", {"KeyId": CMK_ID}, _key_metadata(account_id, CMK_ID, account_id, "Disabled", "Disabled")),
        _kms("DescribeKey", {"KeyId": SERVICE_KEY_ID}, _key_metadata(account_id, SERVICE_KEY_ID, "Oss", "Enabled", "Enabled")),
        _sls("ListProject", {"offset": 0, "size": 500}, {
            "count": 1, "total": 1, "projects": [{"projectName": PROJECT, "region": REGION, "status": "Normal"}]}),
        _sls("ListLogStores", {"project": PROJECT, "offset": 0, "size": 500}, {
            "count": 2, "total": 2, "logstores": ["actiontrail", "app"]}),
        _sls("GetLogStore", {"project": PROJECT, "logstore": "actiontrail"}, {
            "logstoreName": "actiontrail", "ttl": 3650, "shardCount": 2, "telemetryType": "",
            "encrypt_conf": {"enable": True, "encrypt_type": "default"}}),
        _sls("GetLogStore", {"project": PROJECT, "logstore": "app"}, {
            "logstoreName": "app", "ttl": 30, "shardCount": 2, "telemetryType": ""}),
        _sls("ListAlerts", {"project": PROJECT, "offset": 0, "size": 500}, {"count": 0, "total": 0, "results": []}),
    ]


def with_extra_products(doc: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    out["calls"] = out["calls"] + extra_calls(out["account_id"])
    return out


PRODUCT_SAMPLES = Path(__file__).resolve().parent.parent / "data" / "products"


def product_sample(name: str) -> dict[str, Any]:
    """A product's recorded sample calls (tests/data/products/<name>.json): `{"product", "description", "calls"}`."""
    return json.loads((PRODUCT_SAMPLES / f"{name}.json").read_text())


def with_product_samples(doc: dict[str, Any], names: list[str] | None = None) -> dict[str, Any]:
    """The document with every product sample's calls added (or the named ones), re-keyed to its account."""
    out = copy.deepcopy(doc)
    for path in sorted(PRODUCT_SAMPLES.glob("*.json")):
        if names is None or path.stem in names:
            text = path.read_text().replace("{account_id}", out["account_id"])
            out["calls"] = out["calls"] + json.loads(text)["calls"]
    return out
