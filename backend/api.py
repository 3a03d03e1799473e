"""GraphQL API (strawberry on FastAPI), REST health and agent upload, and the web console.

Every resolver is tenant-scoped: a token sees only its accounts, and an account it may not see
looks exactly like one that does not exist. Every mutation is audited. The schema lives in
`backend/graphql/` (one module per area); this module serves it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from strawberry.fastapi import GraphQLRouter

from backend.auth import AuthError, authenticate, cached_identity
from backend.graphql.context import (
    CACHE,
    RESPONSES,
    VERSIONS,
    Context,
    _audit,
    _Changes,
    _response_scope,
    _VersionedCache,
)
from backend.graphql.schema import schema
from backend.response_cache import GraphQLResponseCache
from loaders import inputs

__all__ = ["CACHE", "RESPONSES", "VERSIONS", "Context", "_VersionedCache", "create_app", "schema"]

GRAPHIQL_ASSETS = {"graphiql.min.js": "text/javascript", "graphiql.min.css": "text/css",
                   "react.production.min.js": "text/javascript", "react-dom.production.min.js": "text/javascript"}


class _Router(GraphQLRouter[Context, None]):
    """GraphiQL from the vendored files, with a token field (no browser extension needed to send the header)."""

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        return HTMLResponse((files("backend") / "static" / "graphiql.html").read_text())


def _wants_graphiql(request: Request) -> bool:
    """A browser opening /graphql (GET, HTML, no query): it gets the GraphiQL page, nothing else."""
    return (request.method == "GET" and "query" not in request.query_params
            and "text/html" in request.headers.get("accept", ""))


@dataclass
class AppState:
    driver: Any


def create_app(driver: Any | None = None, graphiql: bool = True) -> FastAPI:
    from backend.runtime import get_driver

    state = AppState(driver or get_driver())
    app = FastAPI(title="Skypath", version="0.1.0", description="CSPM and attack paths for Alibaba Cloud")

    async def context_getter(request: Request) -> Context:
        if graphiql and _wants_graphiql(request):
            return Context(state.driver, None)  # the GraphiQL page holds no data: its token is entered in the page
        header = request.headers.get("authorization", "")
        token = header[7:].strip() if header.lower().startswith("bearer ") else None
        try:
            identity = cached_identity(token)
            if identity is None:
                identity = await asyncio.to_thread(authenticate, state.driver, token)
        except AuthError as exc:
            raise HTTPException(status_code=401, detail=str(exc), headers={"WWW-Authenticate": "Bearer"}) from exc
        if identity.kind != "api":
            raise HTTPException(status_code=403, detail="agent tokens can only upload host reports")
        return Context(state.driver, identity)

    router: GraphQLRouter[Context, None] = _Router(schema, context_getter=context_getter,
                                                   graphql_ide="graphiql" if graphiql else None)
    app.include_router(router, prefix="/graphql")
    app.add_middleware(GraphQLResponseCache, cache=RESPONSES, caller=_response_scope)

    @app.get("/graphiql/{name}", include_in_schema=False)
    def graphiql_asset(name: str) -> Response:
        """GraphiQL's own files (vendored, gzip-compressed): no CDN."""
        if name not in GRAPHIQL_ASSETS:
            raise HTTPException(status_code=404, detail="not found")
        body = (files("backend") / "static" / "graphiql" / f"{name}.gz").read_bytes()
        return Response(body, media_type=GRAPHIQL_ASSETS[name],
                        headers={"Content-Encoding": "gzip", "Cache-Control": "public, max-age=86400"})

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    def readyz() -> JSONResponse:
        try:
            state.driver.verify_connectivity()
        except Exception as exc:  # noqa: BLE001 - readiness reports any failure
            return JSONResponse({"status": "unavailable", "neo4j": str(exc)}, status_code=503)
        return JSONResponse({"status": "ready"})

    @app.post("/api/v1/agent/report")
    async def agent_report(request: Request) -> JSONResponse:
        from backend.ingest import IngestError, ingest_hosts
        from loaders.hosts import MAX_REPORT_BYTES

        header = request.headers.get("authorization", "")
        token = header[7:].strip() if header.lower().startswith("bearer ") else None
        try:
            identity = await asyncio.to_thread(authenticate, state.driver, token)
        except AuthError as exc:
            raise HTTPException(status_code=401, detail=str(exc)) from exc
        too_large = HTTPException(status_code=413, detail=f"report larger than {MAX_REPORT_BYTES} bytes")
        if int(request.headers.get("content-length") or 0) > MAX_REPORT_BYTES:
            raise too_large
        chunks, size = [], 0
        async for chunk in request.stream():  # chunked uploads (or a false Content-Length) stop at the limit too
            size += len(chunk)
            if size > MAX_REPORT_BYTES:
                raise too_large
            chunks.append(chunk)
        try:
            report = inputs.loads_json(b"".join(chunks), "the report")
            account_id = inputs.account_id(request.query_params.get("account") or (
                identity.accounts[0] if identity.accounts else ""), "account")
        except inputs.InputError as exc:
            raise HTTPException(status_code=400, detail=str(exc)) from exc
        if not isinstance(report, dict):
            raise HTTPException(status_code=400, detail="a host report is a JSON object")
        if not identity.can_see(account_id) or not identity.at_least("operator") and identity.kind != "agent":
            raise HTTPException(status_code=404, detail="account not found")
        try:
            result = await asyncio.to_thread(ingest_hosts, state.driver, account_id, [report], "upload")
        except IngestError as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from exc
        await _audit(state.driver, account_id, identity.name, "agent.report", {"host_id": report.get("host_id")})
        _Changes(account_id).__exit__()
        return JSONResponse(result)

    _mount_console(app)
    return app


CONSOLE_DIR = Path(__file__).parent / "static" / "console"  # built from frontend/ by `make console`


def _mount_console(app: FastAPI) -> None:
    """The web console: the single page at / and its hashed assets (everything local, no CDN)."""
    from fastapi.staticfiles import StaticFiles

    index = CONSOLE_DIR / "index.html"

    @app.get("/", response_class=HTMLResponse)
    def console() -> HTMLResponse:
        if not index.is_file():
            return HTMLResponse("<!doctype html><title>Skypath</title><p>Skypath: the web console is not built; run "
                                "<code>make console</code> (npm ci &amp;&amp; npm run build in frontend/).</p>",
                                status_code=503)
        return HTMLResponse(index.read_text(), headers={"Cache-Control": "no-cache"})

    app.mount("/assets", StaticFiles(directory=CONSOLE_DIR / "assets", check_dir=False), name="console-assets")

