"""Live collection through the official Alibaba Cloud SDKs, and recording into a snapshot.

RPC products go through their official product clients (`alibabacloud_ecs20140526.client.Client`, …)
and the generic `call_api` they inherit, so read and write actions share one path; OSS goes through
`oss2`, keeping the raw XML bodies the snapshot contract stores.
"""

from __future__ import annotations

import copy
import gzip
import importlib
import json
import os
import random
import re
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlparse

from loaders.declaration import Api
from loaders.products import apis
from loaders.regions import ALL_REGIONS
from loaders.snapshot import SNAPSHOT_FORMAT, Snapshot
from loaders.transport import ApiError, CallKey, Transport

# the generic OpenAPI client: every product client inherits its `call_api`; used for products declared without one
GENERIC_SDK_MODULE = "alibabacloud_tea_openapi.client"


def _rpc_api(product: str) -> Api | None:
    found = apis().get(product)
    return found if found is not None and found.style == "rpc" else None


# with an endpoint override the SDK's hosts end in this (unresolvable) domain and go through the
# emulator as their HTTP proxy: it reads the project and region back from the Host header
SLS_EMULATED_DOMAIN = "log.emulator"
THROTTLING_CODES = frozenset({"Throttling", "Throttling.User", "Throttling.Api", "ServiceUnavailable",
                              "RequestLimitExceeded", "Throttling.Resource"})
# OSS sub-resources: action → (HTTP method, sub-resource query)
OSS_ACTIONS: dict[str, tuple[str, str]] = {
    "GetBucketAcl": ("GET", "acl"), "GetBucketPolicy": ("GET", "policy"), "GetBucketEncryption": ("GET", "encryption"),
    "GetBucketLogging": ("GET", "logging"), "GetBucketVersioning": ("GET", "versioning"),
    "PutBucketAcl": ("PUT", "acl"), "PutBucketPolicy": ("PUT", "policy"), "DeleteBucketPolicy": ("DELETE", "policy"),
    "PutBucketEncryption": ("PUT", "encryption"), "PutBucketLogging": ("PUT", "logging"),
    "PutBucketVersioning": ("PUT", "versioning"),
}


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def retry_call(fn: Any, *, max_retries: int = 5, base_delay: float = 0.5, sleep: Any = time.sleep) -> Any:
    """Call `fn()`, retrying throttling errors with exponential backoff and jitter (bounded)."""
    for attempt in range(max_retries + 1):
        try:
            return fn()
        except ApiError as exc:
            throttled = exc.code in THROTTLING_CODES or exc.http_status in (429, 503)
            if not throttled or attempt == max_retries:
                raise
            sleep(base_delay * (2**attempt) * (0.5 + random.random()))
    raise AssertionError("unreachable")


class LiveTransport:
    """The Transport over the real API (or the local emulator with `endpoint_override`)."""

    def __init__(self, account_id: str | None, credential: Any = None, endpoint_override: str | None = None,
                 max_retries: int = 5, access_key: tuple[str, str] | None = None):
        self.account_id = account_id or ""
        self.endpoint_override = endpoint_override
        self.max_retries = max_retries
        self._credential = credential
        self._access_key = access_key
        if endpoint_override and access_key is None and credential is None:
            self._access_key = ("emulator-key-id", "emulator-key-secret")
        self._clients: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()
        self._regions: list[str] | None = None

    @classmethod
    def from_profile(cls, name: str, account_id: str | None = None, endpoint_override: str | None = None) -> LiveTransport:
        """A named profile of the Alibaba Cloud CLI config (~/.aliyun/config.json; every mode the official
        credentials library reads: AK, StsToken, RamRoleArn, EcsRamRole, …). The account id, unless given,
        is the caller's (STS GetCallerIdentity)."""
        from alibabacloud_credentials.client import Client as CredentialClient
        from alibabacloud_credentials.provider import CLIProfileCredentialsProvider

        credential = CredentialClient(provider=CLIProfileCredentialsProvider(profile_name=name))
        try:
            credential.get_credential()
        except Exception as exc:  # noqa: BLE001 - the library raises plain exceptions for a bad profile
            raise ApiError("InvalidProfile", f"credentials profile {name!r}: {exc}", 400) from exc
        return cls(account_id, credential=credential, endpoint_override=endpoint_override).with_account_id()

    def with_account_id(self) -> LiveTransport:
        """Fill in the account id from the caller's identity when it is not known."""
        if not self.account_id:
            body = self.call(*apis()["Sts"].pair, "GetCallerIdentity", "global", {})
            self.account_id = str(body.get("AccountId") or "") if isinstance(body, dict) else ""
            if not self.account_id.isdigit():
                raise ApiError("UnknownAccount", "STS GetCallerIdentity returned no AccountId", 400)
        return self

    # -- clients
    def _config(self, endpoint: str, region: str) -> Any:
        from alibabacloud_tea_openapi import models as open_api_models

        cfg = open_api_models.Config(endpoint=endpoint, region_id=region if region != "global" else "cn-hangzhou")
        if self.endpoint_override:
            cfg.protocol = urlparse(self.endpoint_override).scheme or "http"
        if self._access_key:
            cfg.access_key_id, cfg.access_key_secret = self._access_key
        else:
            from alibabacloud_credentials.client import Client as CredentialClient

            cfg.credential = self._credential or CredentialClient()
        return cfg

    def _rpc_client(self, product: str, region: str) -> Any:
        declared = apis()[product]
        module_name = declared.sdk_module or GENERIC_SDK_MODULE
        if self.endpoint_override:
            endpoint = urlparse(self.endpoint_override).netloc
        else:
            endpoint = declared.endpoint.format(region=region)
        key = (product, endpoint)
        with self._lock:
            if key not in self._clients:
                module = importlib.import_module(module_name)
                self._clients[key] = module.Client(self._config(endpoint, region))
            return self._clients[key]

    # -- the Transport protocol
    def regions(self, product: str) -> list[str]:
        if self._regions is None:
            try:
                body = self.call(*apis()["Ecs"].pair, "DescribeRegions", "cn-hangzhou", {"RegionId": "cn-hangzhou"})
                self._regions = sorted(r["RegionId"] for r in body.get("Regions", {}).get("Region", []))
            except ApiError:
                self._regions = list(ALL_REGIONS)
        return list(self._regions)

    def call(self, product: str, version: str, action: str, region: str, params: dict[str, Any]) -> Any:
        key = CallKey(product, action, region, dict(params))
        if product == "Oss":
            return retry_call(lambda: self._oss(action, region, params, key), max_retries=self.max_retries)
        declared = apis().get(product)
        if declared is not None and declared.style == "roa":
            return retry_call(lambda: self._roa(declared, action, region, params, key), max_retries=self.max_retries)
        if _rpc_api(product) is None:
            raise ApiError("UnsupportedProduct", f"no SDK client for product {product}", 400, key)
        return retry_call(lambda: self._rpc(product, version, action, region, params, key), max_retries=self.max_retries)

    def _rpc(self, product: str, version: str, action: str, region: str, params: dict[str, Any], key: CallKey) -> Any:
        from alibabacloud_tea_openapi import models as open_api_models
        from alibabacloud_tea_util import models as util_models

        client = self._rpc_client(product, region)
        req_params = open_api_models.Params(
            action=action, version=version, protocol="HTTP" if self.endpoint_override else "HTTPS", pathname="/",
            method="POST", auth_type="AK", style="RPC", req_body_type="formData", body_type="json",
        )
        query = {k: _query_value(v) for k, v in params.items()}
        if region != "global" and "RegionId" not in query and not apis()[product].is_global:
            query["RegionId"] = region
        request = open_api_models.OpenApiRequest(query=query)
        try:
            resp = client.call_api(req_params, request, util_models.RuntimeOptions(autoretry=False, read_timeout=30000,
                                                                                connect_timeout=10000))
        except Exception as exc:  # noqa: BLE001 - every SDK failure becomes an ApiError
            raise _api_error(exc, key) from exc
        return resp.get("body") if isinstance(resp, dict) else resp

    def _sls_client(self, region: str) -> Any:
        domain = SLS_EMULATED_DOMAIN if self.endpoint_override else "log.aliyuncs.com"
        endpoint = f"{region}.{domain}"
        with self._lock:
            if ("Sls", endpoint) not in self._clients:
                cfg = self._config(endpoint, region)
                if self.endpoint_override:
                    cfg.http_proxy = self.endpoint_override
                self._clients[("Sls", endpoint)] = importlib.import_module(str(apis()["Sls"].sdk_module)).Client(cfg)
            return self._clients[("Sls", endpoint)]

    def _roa(self, declared: Api, action: str, region: str, params: dict[str, Any], key: CallKey) -> Any:
        """A ROA product's GET by its declared routes: SLS through its own client (project host names), the
        others through the generic OpenAPI client at their regional endpoint."""
        from alibabacloud_tea_openapi import models as open_api_models
        from alibabacloud_tea_util import models as util_models

        routes = declared.routes
        if action not in routes:
            raise ApiError("UnsupportedAction", f"{declared.code}:{action} is not supported", 400, key)
        template, host_param = routes[action]
        query = {k: _query_value(v) for k, v in params.items()}
        try:
            host_map = {"project": query.pop(host_param)} if host_param else {}
            path = template.format(**{name: quote(query.pop(name), safe="") for name in re.findall(r"{(\w+)}", template)})
        except KeyError as exc:
            raise ApiError("MissingParameter", f"{declared.code}:{action} needs {exc.args[0]}", 400, key) from exc
        req_params = open_api_models.Params(
            action=action, version=declared.version, protocol="HTTP" if self.endpoint_override else "HTTPS",
            pathname=path, method="GET", auth_type="AK", style="ROA", req_body_type="json", body_type="json",
        )
        request = open_api_models.OpenApiRequest(host_map=host_map, query=query)
        runtime = util_models.RuntimeOptions(autoretry=False, read_timeout=30000, connect_timeout=10000)
        try:
            if declared.code == "Sls":
                resp = self._sls_client(region).execute(req_params, request, runtime)
            else:
                resp = self._rpc_client(declared.code, region).call_api(req_params, request, runtime)
        except Exception as exc:  # noqa: BLE001 - every SDK failure becomes an ApiError
            raise _api_error(exc, key) from exc
        return resp.get("body") if isinstance(resp, dict) else resp

    def _oss(self, action: str, region: str, params: dict[str, Any], key: CallKey) -> Any:
        import oss2

        auth = self._oss_auth()
        endpoint = self.endpoint_override or (
            "https://oss-cn-hangzhou.aliyuncs.com" if region == "global" else f"https://oss-{region}.aliyuncs.com"
        )
        try:
            if action == "ListBuckets":
                service = oss2.Service(auth, endpoint)
                query = {"marker": params.get("marker", ""), "max-keys": "1000"}
                resp = service._do("GET", "", "", params=query)  # raw XML, as the snapshot stores it
                return resp.read().decode("utf-8")
            method, sub = OSS_ACTIONS[action]
            bucket = oss2.Bucket(auth, endpoint, params["bucket"], is_cname=bool(self.endpoint_override))
            if action == "GetBucketPolicy":
                return bucket.get_bucket_policy().policy
            if method == "GET":
                return bucket._Bucket__do_bucket("GET", params={sub: ""}).read().decode("utf-8")
            return _oss_write(bucket, action, params)
        except KeyError as exc:
            raise ApiError("UnsupportedAction", f"Oss:{action} is not supported", 400, key) from exc
        except oss2.exceptions.OssError as exc:
            raise ApiError(str(exc.code or type(exc).__name__), str(exc.message or exc), int(exc.status or 400), key) from exc

    def _oss_auth(self) -> Any:
        import oss2

        if self._access_key:
            return oss2.Auth(*self._access_key)
        from alibabacloud_credentials.client import Client as CredentialClient

        cred = (self._credential or CredentialClient()).get_credential()
        if cred.security_token:
            return oss2.StsAuth(cred.access_key_id, cred.access_key_secret, cred.security_token)
        return oss2.Auth(cred.access_key_id, cred.access_key_secret)


def _oss_write(bucket: Any, action: str, params: dict[str, Any]) -> Any:
    import oss2
    from oss2.models import ServerSideEncryptionRule

    if action == "PutBucketAcl":
        bucket.put_bucket_acl(params.get("acl", oss2.BUCKET_ACL_PRIVATE))
    elif action == "PutBucketPolicy":
        bucket.put_bucket_policy(params["policy"])
    elif action == "DeleteBucketPolicy":
        bucket.delete_bucket_policy()
    elif action == "PutBucketEncryption":
        rule = ServerSideEncryptionRule()
        rule.sse_algorithm = params.get("SSEAlgorithm", "AES256")
        bucket.put_bucket_encryption(rule)
    elif action == "PutBucketLogging":
        bucket.put_bucket_logging(oss2.models.BucketLogging(params["TargetBucket"], params.get("TargetPrefix", "")))
    elif action == "PutBucketVersioning":
        config = oss2.models.BucketVersioningConfig()
        config.status = params.get("Status", "Enabled")
        bucket.put_bucket_versioning(config)
    return {"ok": True}


def roa_route(code: str, path: str) -> tuple[str, dict[str, str]] | None:
    """The action of ROA product `code` (and its path params) that a request path is, by its declared routes;
    None when none is."""
    for action, (template, _) in apis()[code].routes.items():
        pattern = "^" + re.sub(r"\\{(\w+)\\}", r"(?P<\1>[^/]+)", re.escape(template)) + "$"
        found = re.match(pattern, path)
        if found:
            return action, {k: unquote(v) for k, v in found.groupdict().items()}
    return None


def _api_error(exc: Exception, key: CallKey) -> ApiError:
    code = getattr(exc, "code", None) or type(exc).__name__
    message = getattr(exc, "message", None) or str(exc)
    data = getattr(exc, "data", None) or {}
    status = getattr(exc, "status_code", None) or (data.get("statusCode") if isinstance(data, dict) else None) or 400
    try:
        status = int(status)
    except (TypeError, ValueError):
        status = 400
    return ApiError(str(code), str(message)[:500], status, key)


class RecordingTransport:
    """Wraps a transport; records every call verbatim in the snapshot format."""

    def __init__(self, inner: Transport, account_id: str, account_name: str = ""):
        self.inner = inner
        self.account_id = account_id
        self.account_name = account_name
        self.calls: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def regions(self, product: str) -> list[str]:
        return self.inner.regions(product)

    def call(self, product: str, version: str, action: str, region: str, params: dict[str, Any]) -> Any:
        entry: dict[str, Any] = {"product": product, "version": version, "action": action, "region": region,
                                 "params": copy.deepcopy(params)}
        try:
            body = self.inner.call(product, version, action, region, params)
        except ApiError as exc:
            entry["error"] = {"code": exc.code, "message": exc.message, "http_status": exc.http_status}
            with self._lock:
                self.calls.append(entry)
            raise
        entry["response"] = copy.deepcopy(body)
        with self._lock:
            self.calls.append(entry)
        return body

    def snapshot(self, hosts: list[dict[str, Any]] | None = None) -> Snapshot:
        return Snapshot(self.account_id, self.account_name, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                        list(self.calls), None if hosts is None else list(hosts))

    def write(self, path: str | os.PathLike[str], hosts: list[dict[str, Any]] | None = None) -> None:
        doc = self.snapshot(hosts).to_json()
        assert doc["format"] == SNAPSHOT_FORMAT
        data = json.dumps(doc, indent=1).encode()
        target = Path(path)
        target.write_bytes(gzip.compress(data) if target.suffix == ".gz" else data)
