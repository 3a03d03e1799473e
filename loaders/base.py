"""Collection helpers shared by every product module: paging, gaps vs facts, scope status.

A product module has three steps: `collect(ctx)` talks to the transport only and returns the raw
responses it got; `transform(raw, ctx, batch)` is pure and turns them into graph rows. A call that
fails with an access-denied error is a *gap* (the scope or attribute becomes `denied`, never PASS);
a "not configured" error is a *fact* returned as `NOT_CONFIGURED`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from loaders.inputs import InputError, loads_json
from loaders.transport import ApiError, MissingCallError, Transport


class CollectError(RuntimeError):
    """A response with a shape we cannot read; the message names the call and the field."""


class _NotConfigured:
    def __repr__(self) -> str:
        return "NOT_CONFIGURED"


NOT_CONFIGURED = _NotConfigured()


@dataclass
class Gap:
    """A call that did not answer: denied (permission), error (anything else) or missing (replay)."""

    status: str
    code: str
    message: str


@dataclass
class CollectContext:
    transport: Transport
    account_id: str
    collected_at: datetime
    scopes: dict[str, str] = field(default_factory=dict)
    gaps: list[str] = field(default_factory=list)
    progress: Callable[[str], None] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def mark(self, scope: str, status: str) -> None:
        """Record a scope's outcome; a worse outcome wins (error > denied > ok)."""
        rank = {"ok": 0, "missing": 1, "denied": 2, "error": 3}
        with self._lock:
            old = self.scopes.get(scope)
            if old is None or rank.get(status, 3) > rank.get(old, 3):
                self.scopes[scope] = status

    def call(
        self,
        product: str,
        version: str,
        action: str,
        region: str,
        params: dict[str, Any],
        *,
        scope: str | None = None,
        optional: bool = False,
    ) -> Any:
        """One API call. Returns the body, NOT_CONFIGURED, or a Gap (and marks the scope)."""
        try:
            body = self.transport.call(product, version, action, region, params)
        except ApiError as exc:
            if exc.not_configured:
                return NOT_CONFIGURED
            status = "denied" if exc.denied else "error"
            self._gap(scope, status, f"{product}:{action} in {region}: {exc.code} {exc.message}")
            return Gap(status, exc.code, exc.message)
        except MissingCallError as exc:
            if not optional:
                raise
            return Gap("missing", "MissingCall", str(exc))
        if self.progress:
            self.progress(f"{product}:{action}")
        return body

    def _gap(self, scope: str | None, status: str, message: str) -> None:
        with self._lock:
            self.gaps.append(message)
        if scope:
            self.mark(scope, status)


def dig(body: Any, *path: str, default: Any = None) -> Any:
    """Follow keys through nested dicts (the APIs' `{"Instances": {"Instance": [...]}}` shape)."""
    cur = body
    for key in path:
        if not isinstance(cur, dict):
            return default
        cur = cur.get(key)
        if cur is None:
            return default
    return cur


def dig_list(body: Any, *path: str, call: str = "") -> list[Any]:
    value = dig(body, *path, default=[])
    if isinstance(value, dict):
        # the APIs return a lone object where a one-element list was expected in some XML→JSON paths
        return [value]
    if not isinstance(value, list):
        raise CollectError(f"{call}: field {'.'.join(path)} must be a list, got {type(value).__name__}")
    return value


def fetch_page(ctx: CollectContext, product: str, version: str, action: str, region: str, params: dict[str, Any],
               list_path: tuple[str, ...], *, scope: str | None = None,
               optional: bool = False) -> tuple[dict[str, Any], list[Any]] | Gap | None:
    """One page of a listing: (body, its items), a Gap, or None when the API says "not configured"."""
    body = ctx.call(product, version, action, region, params, scope=scope, optional=optional)
    if isinstance(body, Gap):
        return body
    if body is NOT_CONFIGURED:
        return None
    if not isinstance(body, dict):
        raise CollectError(f"{product}:{action} in {region}: response must be a JSON object")
    return body, dig_list(body, *list_path, call=f"{product}:{action}")


def paged(
    ctx: CollectContext,
    product: str,
    version: str,
    action: str,
    region: str,
    params: dict[str, Any],
    list_path: tuple[str, ...],
    *,
    total_keys: tuple[str, ...] = ("TotalCount", "TotalRecordCount"),
    page_size: int = 100,
    scope: str | None = None,
    optional: bool = False,
) -> list[Any] | Gap:
    """A listing, following the pages the API returns: a non-empty `NextToken` is sent back (sized by
    MaxResults) until none comes; otherwise `PageNumber` goes on until `TotalCount` items are in (or a page
    comes back empty). Never assumes its own page size."""
    items: list[Any] = []
    page, token, seen = 1, "", set()
    while True:
        sized = {"MaxResults": page_size, "NextToken": token} if token else {"PageNumber": page, "PageSize": page_size}
        answer = fetch_page(ctx, product, version, action, region, {**params, **sized}, list_path, scope=scope,
                            optional=optional)
        if answer is None or isinstance(answer, Gap):
            return items if answer is None else answer
        body, got = answer
        items.extend(got)
        next_token = str(body.get("NextToken") or "")
        if next_token:
            if next_token in seen:
                raise CollectError(f"{product}:{action} in {region}: NextToken {next_token!r} came back twice")
            seen.add(next_token)
            token = next_token
            continue
        if token:  # paging by token and none came back: the listing is complete
            return items
        total = next((body[k] for k in total_keys if k in body), None)
        try:
            total_n = int(total) if total is not None else None
        except (TypeError, ValueError) as exc:
            raise CollectError(f"{product}:{action} in {region}: field TotalCount is not a number: {total!r}") from exc
        if not got or total_n is None or len(items) >= total_n:
            return items
        page += 1


def follow_next_token(ctx: CollectContext, product: str, version: str, action: str, region: str,
                      params: dict[str, Any], list_path: tuple[str, ...], *, page_size: int = 1000,
                      scope: str | None = None) -> Any:
    """One object whose list at `list_path` may continue on NextToken pages (e.g. a security group's
    permissions): the first page's body with the pages' lists concatenated; a Gap or NOT_CONFIGURED as is."""
    first = ctx.call(product, version, action, region, params, scope=scope)
    if not isinstance(first, dict) or not first.get("NextToken"):
        return first
    merged = dict(first)
    items = list(dig_list(first, *list_path, call=f"{product}:{action}"))
    token, seen = str(first["NextToken"]), set()
    while token:
        if token in seen:
            raise CollectError(f"{product}:{action} in {region}: NextToken {token!r} came back twice")
        seen.add(token)
        body = ctx.call(product, version, action, region, {**params, "NextToken": token, "MaxResults": page_size},
                        scope=scope)
        if not isinstance(body, dict):
            return body  # a later page failed: the object is incomplete, not collected
        items.extend(dig_list(body, *list_path, call=f"{product}:{action}"))
        token = str(body.get("NextToken") or "")
    outer, inner = list_path[:-1], list_path[-1]
    holder = merged
    for key in outer:
        holder[key] = dict(holder.get(key) or {})
        holder = holder[key]
    holder[inner] = items
    merged.pop("NextToken", None)
    return merged


def paged_by_token(
    ctx: CollectContext,
    product: str,
    version: str,
    action: str,
    region: str,
    params: dict[str, Any],
    list_path: tuple[str, ...],
    *,
    token_param: str = "Marker",
    token_field: str = "Marker",
    truncated_field: str | None = "IsTruncated",
    scope: str | None = None,
    optional: bool = False,
) -> list[Any] | Gap:
    """Follow Marker / NextToken until none comes back."""
    items: list[Any] = []
    token: str | None = None
    for _ in range(100_000):
        req = dict(params)
        if token:
            req[token_param] = token
        answer = fetch_page(ctx, product, version, action, region, req, list_path, scope=scope, optional=optional)
        if answer is None or isinstance(answer, Gap):
            return items if answer is None else answer
        body, got = answer
        items.extend(got)
        token = body.get(token_field) or None
        if truncated_field is not None and truncated_field in body and not body.get(truncated_field):
            token = None
        if not token:
            return items
    raise CollectError(f"{product}:{action}: paging did not end")


def json_object(text: str | bytes, what: str) -> dict[str, Any]:
    """A JSON document embedded in an answer (a policy as text) that must be an object; `what` names it in
    the error, as in "Oss:GetBucketPolicy b: the policy"."""
    try:
        doc = loads_json(text, what)
    except InputError as exc:
        raise CollectError(str(exc)) from exc
    if not isinstance(doc, dict):
        raise CollectError(f"{what} must be a JSON object")
    return doc


def as_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if value is None:
        return None
    s = str(value).strip().lower()
    if s in ("true", "yes", "enable", "enabled", "on", "1"):
        return True
    if s in ("false", "no", "disable", "disabled", "off", "0", ""):
        return False
    return None
