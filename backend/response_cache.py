"""A short-lived, per-process cache of GraphQL *query* responses, in front of the GraphQL router.

Dashboards poll the same pages: under 50 concurrent clients, executing one page costs a few ms of
CPU in strawberry, serving its bytes again costs microseconds. An entry is keyed by the operation
(query text, variables, operation name) and by what the caller may see (role, accounts), so two
tokens of the same scope share it and no response crosses scopes. It lives `TTL_SECONDS` (the
staleness the API already accepts for data versions), and any mutation executed by this process
clears the cache (read-your-writes within one process). Mutations, errors and callers whose token
is not verified yet are never served from it.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from graphql import GraphQLError, OperationDefinitionNode, OperationType, parse

from loaders.inputs import InputError, loads_json

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

WORKER = str(os.getpid()).encode()
MAX_REQUEST_BYTES = 1_000_000  # GraphQL documents are capped at 2000 tokens: a megabyte is plenty


class ResponseCache:
    TTL_SECONDS = 1.0

    def __init__(self, size: int = 512, max_body: int = 2_000_000):
        self.size = size
        self.max_body = max_body
        self.entries: OrderedDict[str, tuple[float, int, list[tuple[bytes, bytes]], bytes]] = OrderedDict()
        self._read_only: OrderedDict[str, bool] = OrderedDict()

    def clear(self) -> None:
        self.entries.clear()

    def read_only(self, query: str, operation: str | None) -> bool:
        """Is the selected operation a query (not a mutation or subscription)? Parsed once per text."""
        key = f"{operation}\0{query}"
        known = self._read_only.get(key)
        if known is None:
            try:
                ops = [d for d in parse(query).definitions if isinstance(d, OperationDefinitionNode)]
            except GraphQLError:
                ops = []
            chosen = [o for o in ops if operation is None or (o.name and o.name.value == operation)]
            known = len(chosen) == 1 and chosen[0].operation == OperationType.QUERY
            self._read_only[key] = known
            if len(self._read_only) > 1024:
                self._read_only.popitem(last=False)
        return known

    def key(self, caller: tuple[Any, ...], body: bytes) -> str | None:
        try:  # any content type: a body the router will refuse must not recurse here first
            doc = loads_json(body, "the request body")
        except InputError:
            return None
        if not isinstance(doc, dict) or not isinstance(doc.get("query"), str):
            return None
        operation = doc.get("operationName")
        if not self.read_only(doc["query"], operation if isinstance(operation, str) else None):
            return None
        text = json.dumps([caller, doc["query"], doc.get("variables"), operation], sort_keys=True, default=str)
        return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()

    def get(self, key: str) -> tuple[int, list[tuple[bytes, bytes]], bytes] | None:
        hit = self.entries.get(key)
        if hit is None or time.monotonic() - hit[0] >= self.TTL_SECONDS:
            return None
        return hit[1], hit[2], hit[3]

    def put(self, key: str, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        if status != 200 or len(body) > self.max_body or (b'"errors"' in body and "errors" in json.loads(body)):
            return
        self.entries[key] = (time.monotonic(), status, headers, body)
        self.entries.move_to_end(key)
        while len(self.entries) > self.size:
            self.entries.popitem(last=False)


class GraphQLResponseCache:
    """ASGI middleware in front of POST /graphql: refuses bodies that are too large or not JSON with a clear
    error, and serves read-only operations of verified callers from `cache`."""

    def __init__(self, app: ASGIApp, cache: ResponseCache, caller: Callable[[str | None], tuple[Any, ...] | None],
                 path: str = "/graphql"):
        self.app, self.cache, self.caller, self.path = app, cache, caller, path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"].rstrip("/") != self.path:
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        body, replay = await _buffer(receive)
        if len(body) > MAX_REQUEST_BYTES:
            await _refuse(send, 413, "request body too large")
            return
        if b"json" in headers.get(b"content-type", b""):
            try:  # strawberry answers 500 to a body that is not UTF-8 JSON, or JSON that is not an object
                doc = loads_json(body, "the request body")  # nesting bounded before decoding
            except InputError as exc:
                await _refuse(send, 400, str(exc))
                return
            if not isinstance(doc, dict):
                await _refuse(send, 400, 'the request body must be a JSON object: {"query": …, "variables": {…}}')
                return
        auth = headers.get(b"authorization", b"").decode("latin-1")
        caller = self.caller(auth[7:].strip() if auth.lower().startswith("bearer ") else None)
        if caller is None:
            await self.app(scope, replay, _tagged(send, b"bypass"))
            return
        key = self.cache.key(caller, body)
        hit = self.cache.get(key) if key else None
        if hit is not None:
            status, stored, payload = hit
            await send({"type": "http.response.start", "status": status,
                        "headers": [*stored, (b"x-skypath-cache", b"hit"), (b"x-skypath-worker", WORKER)]})
            await send({"type": "http.response.body", "body": payload})
            return
        captured: dict[str, Any] = {"body": []}

        tagged = _tagged(send, b"miss")

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                captured["status"], captured["headers"] = message["status"], list(message.get("headers") or [])
            elif message["type"] == "http.response.body":
                captured["body"].append(message.get("body", b""))
            await tagged(message)

        await self.app(scope, replay, capture)
        if key and "status" in captured:
            self.cache.put(key, captured["status"], captured["headers"], b"".join(captured["body"]))


def _tagged(send: Send, outcome: bytes) -> Send:
    """`send` that marks the response with the cache outcome and the worker process that answered it."""
    async def tag(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*(message.get("headers") or []), (b"x-skypath-cache", outcome),
                                              (b"x-skypath-worker", WORKER)]}
        await send(message)
    return tag


async def _refuse(send: Send, status: int, message: str) -> None:
    body = json.dumps({"errors": [{"message": message}]}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


async def _buffer(receive: Receive) -> tuple[bytes, Receive]:
    """Read the request body (up to just past MAX_REQUEST_BYTES), and a `receive` that hands it to the app."""
    chunks: list[bytes] = []
    size = 0
    while size <= MAX_REQUEST_BYTES:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        size += len(chunks[-1])
        if not message.get("more_body"):
            break
    body = b"".join(chunks)
    delivered = False

    async def replay() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return body, replay
