"""A local Alibaba Cloud OpenAPI emulator: the official SDKs, pointed at 127.0.0.1, are answered
from a snapshot (RPC products and OSS), and write calls change the emulated account."""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlparse

from loaders.emulated import GLOBAL_PRODUCTS, VERSION_PRODUCTS, EmulatedAccount, oss_body_params, xml_escape
from loaders.products import apis
from loaders.regions import ALL_REGIONS
from loaders.snapshot import Snapshot, load_snapshot
from loaders.transport import ApiError, MissingCallError
from loaders.transport_live import SLS_EMULATED_DOMAIN, roa_route

OSS_SUBRESOURCES = {"acl": "Acl", "policy": "Policy", "encryption": "Encryption", "logging": "Logging",
                    "versioning": "Versioning"}
OSS_METHODS = {"GET": "Get", "PUT": "Put", "DELETE": "Delete"}
OSS_VIRTUAL_HOST = re.compile(r"^(?P<bucket>[a-z0-9][a-z0-9-]{1,62})\.oss-(?P<region>[a-z0-9-]+)\.aliyuncs\.com$")


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:  # quiet
        return

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("x-oss-request-id", "emulator")
        self.end_headers()
        self.wfile.write(body)

    def _dispatch(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        url = urlparse(self.path)
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        auth = self.headers.get("Authorization", "")
        version = self.headers.get("x-acs-version") or query.get("Version")
        # a client reaching us as its HTTP proxy sends the absolute URL of the real endpoint; one pointed at us
        # directly sends our address as Host (then only parameters say the region)
        host = (url.netloc or self.headers.get("Host", "")).split(":")[0].lower()
        try:
            if self.headers.get("x-log-apiversion"):
                self._sls(url.netloc or self.headers.get("Host", ""), url.path, query, auth)
            elif version:
                self._rpc(version, host, url.path, query, body, auth)
            else:
                self._oss(host, url.path, query, body, auth)
        except Exception as exc:  # noqa: BLE001 - the emulator answers every failure as an API error
            self._send(500, json.dumps({"Code": "InternalError", "Message": str(exc)}).encode(), "application/json")

    def _rpc(self, version: str, host: str, path: str, query: dict[str, str], body: bytes, auth: str) -> None:
        params = dict(query)
        if body:
            params.update(dict(parse_qsl(body.decode(), keep_blank_values=True)))
        action = self.headers.get("x-acs-action") or params.pop("Action", "")
        for k in ("Version", "Format", "Timestamp", "SignatureNonce", "SignatureMethod", "SignatureVersion",
                  "Signature", "AccessKeyId"):
            params.pop(k, None)
        if not auth and "AccessKeyId" not in query:
            self._rpc_error(ApiError("MissingAccessKeyId", "AccessKeyId is mandatory for this action.", 400))
            return
        product = VERSION_PRODUCTS.get(version)
        if product is None:
            # what Alibaba Cloud's gateway answers for an API it does not serve
            self._rpc_error(ApiError("InvalidAction.NotFound", f"Specified api is not found, please check your url "
                                     f"and method. ({action or '?'} of version {version} is not emulated)", 404))
            return
        if apis()[product].routes:
            # a ROA product: the action's path parameters (e.g. /clusters/{ClusterId}) are request parameters
            route = roa_route(product, path)
            if route is None:
                self._rpc_error(ApiError("InvalidAction.NotFound", f"{path} is not an API of {product}", 404))
                return
            action = route[0]
            params.update(route[1])
        # the region: the RegionId parameter, else the regional endpoint the client chose (actiontrail.cn-hangzhou…);
        # a central endpoint (rds.aliyuncs.com) without RegionId leaves it open: any recorded region may answer
        region: str | None = "global" if product in GLOBAL_PRODUCTS else (
            params.get("RegionId") or params.get("region_id") or region_of_host(host, self.server.state.all_regions()))
        state = self.server.state
        try:
            if state.is_write(product, action):
                result = state.write(product, action, region or "global", params)
            else:
                result = state.read(product, action, region, _typed(params))
        except ApiError as exc:
            self._rpc_error(exc)
            return
        except MissingCallError as exc:
            self._rpc_error(ApiError("InvalidAction.NotRecorded", str(exc), 404))
            return
        self._send(200, json.dumps(result).encode(), "application/json;charset=utf-8")

    def _rpc_error(self, exc: ApiError) -> None:
        doc = {"Code": exc.code, "Message": exc.message, "RequestId": "emulator", "HostId": "127.0.0.1"}
        self._send(exc.http_status, json.dumps(doc).encode(), "application/json;charset=utf-8")

    def _sls(self, host: str, path: str, query: dict[str, str], auth: str) -> None:
        """Simple Log Service (ROA), reached as the SDK's HTTP proxy: `[<project>.]<region>.log.emulator`."""
        project, _, region = host.split(":")[0].removesuffix(f".{SLS_EMULATED_DOMAIN}").rpartition(".")
        route = roa_route("Sls", path)
        try:
            if not auth:
                raise ApiError("Unauthorized", "the request is not signed", 401)
            if route is None or self.command != "GET":
                raise ApiError("NotImplemented", f"{self.command} {path} is not emulated", 501)
            action, path_params = route
            params: dict[str, Any] = {**query, **path_params, **({"project": project} if project else {})}
            try:
                result = self.server.state.read("Sls", action, region, params)
            except MissingCallError as exc:
                raise ApiError("InvalidAction.NotRecorded", str(exc), 404) from exc
        except ApiError as exc:
            doc = {"errorCode": exc.code, "errorMessage": exc.message}
            self._send(exc.http_status, json.dumps(doc).encode(), "application/json")
            return
        self._send(200, json.dumps(result).encode(), "application/json")

    def _oss(self, host: str, path: str, query: dict[str, str], body: bytes, auth: str) -> None:
        if not auth:
            self._oss_error(ApiError("AccessDenied", "anonymous access is not emulated", 403))
            return
        state = self.server.state
        parts = [p for p in path.split("/") if p]
        # virtual-hosted style, the SDKs' default: <bucket>.oss-<region>.aliyuncs.com/?acl
        virtual = OSS_VIRTUAL_HOST.match(host)
        if virtual:
            parts = [virtual.group("bucket"), *parts]
        try:
            if not parts:
                marker = query.get("marker")
                text = state.read("Oss", "ListBuckets", "global", {"marker": marker} if marker else {})
                self._send(200, str(text).encode(), "application/xml")
                return
            bucket = parts[0]
            sub = next((s for s in OSS_SUBRESOURCES if s in query), None)
            if sub is None or self.command not in OSS_METHODS:
                raise ApiError("NotImplemented", f"{self.command} {path}?{'&'.join(query)} is not emulated", 501)
            action = f"{OSS_METHODS[self.command]}Bucket{OSS_SUBRESOURCES[sub]}"
            region = _bucket_region(state, bucket)
            if self.command == "GET":
                text = state.read("Oss", action, region, {"bucket": bucket})
                ctype = "application/json" if sub == "policy" else "application/xml"
                self._send(200, str(text).encode(), ctype)
                return
            headers = {k.lower(): v for k, v in self.headers.items()}
            state.write("Oss", action, region, {"bucket": bucket, **oss_body_params(action, body, headers)})
            self._send(204 if self.command == "DELETE" else 200, b"", "application/xml")
        except ApiError as exc:
            self._oss_error(exc)
        except MissingCallError as exc:
            self._oss_error(ApiError("NoSuchKey", str(exc), 404))

    def _oss_error(self, exc: ApiError) -> None:
        body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{xml_escape(exc.code)}</Code>'
                f"<Message>{xml_escape(exc.message)}</Message><RequestId>emulator</RequestId>"
                "<HostId>127.0.0.1</HostId></Error>")
        self._send(exc.http_status, body.encode(), "application/xml")


def region_of_host(host: str, known: list[str]) -> str | None:
    """The region a regional endpoint names (`actiontrail.cn-hangzhou.aliyuncs.com`,
    `ecs-cn-hangzhou.aliyuncs.com`, `bucket.oss-cn-hangzhou.aliyuncs.com`); None for a central endpoint."""
    name = host.removesuffix(".aliyuncs.com")
    if name == host:
        return None
    found = [r for r in {*ALL_REGIONS, *known} if name.endswith(r) and name[:-len(r)][-1:] in (".", "-")]
    return max(found, key=len) if found else None


def _typed(params: dict[str, str]) -> dict[str, Any]:
    return dict(params)


def _bucket_region(state: EmulatedAccount, bucket: str) -> str:
    for call in state.calls("Oss", "GetBucketAcl") + state.calls("Oss", "GetBucketPolicy"):
        if call.get("params", {}).get("bucket") == bucket:
            return str(call["region"])
    return "global"


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: EmulatedAccount


class Emulator:
    """`with Emulator(snapshot) as emu:` … `emu.endpoint` is http://127.0.0.1:PORT."""

    def __init__(self, snapshot: Snapshot, host: str = "127.0.0.1", port: int = 0):
        self.state = EmulatedAccount(snapshot)
        self._server = _Server((host, port), _Handler)
        self._server.state = self.state
        self._thread: threading.Thread | None = None

    @property
    def endpoint(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host.decode() if isinstance(host, bytes) else host}:{port}"

    @property
    def writes(self) -> list[dict[str, Any]]:
        return self.state.writes

    def snapshot(self) -> Snapshot:
        return self.state.snapshot

    def start(self) -> Emulator:
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True, name="skypath-emulator")
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve_forever(snapshot_path: str, host: str = "127.0.0.1", port: int = 18080) -> None:
    emulator = Emulator(load_snapshot(snapshot_path), host, port)
    print(f"emulating account {emulator.state.account_id} at {emulator.endpoint} (Ctrl-C to stop)", flush=True)
    try:
        emulator._server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        emulator._server.server_close()
