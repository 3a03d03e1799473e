"""Collect one account through any transport into a GraphBatch, with per-scope status.

Collection is the same for live, record and replay: only the transport differs.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import uuid
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from graph_schema.store import FULL_SYNC_SCOPES, MAX_ID_LENGTH, GraphBatch, SyncScopes
from loaders import hosts
from loaders.base import CollectContext, CollectError
from loaders.declaration import Product
from loaders.products import products
from loaders.regions import ALL_REGIONS, GLOBAL, is_supported
from loaders.transport import ApiError, MissingCallError, Transport

INTERNET_ID = "0.0.0.0/0"
# the end of an identifier field's name ("InstanceId", "PolicyName", "SecurityGroupIds": [...]) whose value is longer
# than a node id may be (graph_schema.store.MAX_ID_LENGTH), in the JSON text the digest serialises anyway; a value
# with escapes is left to `checked_id`, which refuses it while the batch is built
LONG_IDENTIFIER = re.compile(r'(?:Id|Name|Arn)s?(?=": \[?"[^"\\]' + f"{{{MAX_ID_LENGTH + 1}}})")


class DigestingTransport:
    """Wraps a transport and fingerprints every answer, so an unchanged account can be recognised."""

    def __init__(self, inner: Transport):
        self.inner = inner
        self.account_id = inner.account_id
        self._hashes: list[str] = []
        self._lock = threading.Lock()

    def regions(self, product: str) -> list[str]:
        return self.inner.regions(product)

    def __getattr__(self, name: str) -> Any:
        # optional capabilities of the wrapped transport (e.g. replay's recorded_params)
        return getattr(self.inner, name)

    def call(self, product: str, version: str, action: str, region: str, params: dict[str, Any]) -> Any:
        try:
            body = self.inner.call(product, version, action, region, params)
            outcome: Any = body
        except ApiError as exc:
            outcome = {"error": exc.code}
            self._add(product, action, region, params, outcome)
            raise
        self._add(product, action, region, params, outcome)
        return body

    def _add(self, product: str, action: str, region: str, params: dict[str, Any], outcome: Any) -> None:
        text = json.dumps([product, action, region, params, outcome], sort_keys=True, default=str)
        long_id = LONG_IDENTIFIER.search(text)
        if long_id is not None:
            field_name = text[text.rfind('"', 0, long_id.end()) + 1:long_id.end()]
            raise CollectError(f"{product}:{action} in {region}: field {field_name} holds an identifier longer than "
                               f"{MAX_ID_LENGTH} characters")
        digest = hashlib.blake2b(text.encode(), digest_size=16).hexdigest()
        with self._lock:
            self._hashes.append(digest)

    def digest(self, extra: Any = None) -> str:
        h = hashlib.blake2b(digest_size=20)
        for item in sorted(self._hashes):
            h.update(item.encode())
        h.update(json.dumps(extra, sort_keys=True, default=str).encode())
        return h.hexdigest()


@dataclass
class CollectedAccount:
    batch: GraphBatch
    sync_id: str
    collected_at: datetime
    scopes: dict[str, str]
    gaps: list[str] = field(default_factory=list)

    has_hosts: bool = False
    digest: str = ""
    # products whose every region (or, for global ones, whose absence) this sync enumerated
    complete_products: frozenset[str] = frozenset()

    @property
    def ok_scopes(self) -> set[str]:
        """Scopes that came back ok, plus what every sync recomputes. Hosts are only replaced when the
        snapshot carries a `hosts` list (agents may upload on their own)."""
        fixed = set(FULL_SYNC_SCOPES) if self.has_hosts else set(FULL_SYNC_SCOPES) - {"hosts"}
        return {s for s, status in self.scopes.items() if status == "ok"} | fixed

    @property
    def sync_scopes(self) -> SyncScopes:
        return SyncScopes(frozenset(self.ok_scopes), frozenset(self.scopes), self.complete_products)


def parse_collected_at(text: str | None) -> datetime:
    if not text:
        return datetime.now(UTC)
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValueError(f"field 'collected_at' is not an ISO-8601 time: {text!r}") from exc
    return value if value.tzinfo else value.replace(tzinfo=UTC)


SHAPE_ERRORS = (KeyError, TypeError, AttributeError, IndexError, ValueError)


def _guarded(product: str, fn: Callable[..., Any], *args: Any) -> Any:
    """Run one product's collect/transform; a response of an unexpected shape becomes a CollectError
    naming the product (and the missing or mistyped field) instead of a crash."""
    try:
        return fn(*args)
    except (CollectError, MissingCallError):
        raise
    except SHAPE_ERRORS as exc:
        raise CollectError(f"{product}: a response has an unexpected shape ({type(exc).__name__}: {exc})") from exc


def _recorded(transport: Transport, product: str) -> bool:
    """False only for a recording that holds no call at all for the product."""
    has_calls = getattr(transport, "has_calls", None)
    return True if has_calls is None else bool(has_calls(product, "global"))


def _regions(transport: Transport, product: str) -> list[str]:
    regions = transport.regions(product)
    return list(regions) if regions is not None else list(ALL_REGIONS)


def collect_account(
    transport: Transport,
    *,
    account_name: str = "",
    collected_at: datetime | None = None,
    host_reports: list[dict[str, Any]] | None = None,
    progress: Callable[[str], None] | None = None,
    workers: int = 4,
) -> CollectedAccount:
    """Run every collector and transformer; raises on malformed input before anything is written."""
    when = collected_at or datetime.now(UTC)
    transport = DigestingTransport(transport)
    ctx = CollectContext(transport=transport, account_id=transport.account_id, collected_at=when, progress=progress)
    account_id = transport.account_id
    batch = GraphBatch(account_id)
    batch.node(
        "Account", account_id, "account", name=account_name, arn=f"acs:ram::{account_id}:root",
        collected_at=when.isoformat().replace("+00:00", "Z"), supported=True,
    )
    batch.node("Internet", INTERNET_ID, "account", name="Internet", supported=True)

    declared = [p for p in products() if p.collect is not None and p.transform is not None]
    # every region any of a product's APIs has (live: every region); a global product is collected once, unless a
    # recording holds no call for it: then it simply holds no assets (spec: snapshot-format)
    regions = {p.name: sorted({r for code in p.region_sources for r in _regions(transport, code)})
               for p in declared if not p.is_global}
    recorded = {p.name: _recorded(transport, p.region_sources[0]) for p in declared if p.is_global}
    visits = [(p, r) for p in declared for r in ([GLOBAL] if p.is_global else regions[p.name])
              if not p.is_global or recorded[p.name]]
    # products in declared order, each product's regions sorted, each transformed as soon as its answers are in
    # and then dropped: at most `2 * workers` visits' raw answers are held, not the whole account's
    with ThreadPoolExecutor(max_workers=workers) as pool:
        queued = iter(visits)
        in_flight: deque[tuple[Product, Future[Any]]] = deque()  # (product, its collect's answers to come)

        def submit_next() -> None:
            visit = next(queued, None)
            if visit is not None:
                product, region = visit
                in_flight.append((product, pool.submit(_guarded, product.title, product.collect, ctx, region)))

        for _ in range(2 * workers):
            submit_next()
        while in_flight:
            product, collecting = in_flight.popleft()
            _guarded(product.title, product.transform, collecting.result(), batch)
            del collecting  # its answers go with it
            submit_next()
    for product in declared:
        if product.finish is not None:
            _guarded(product.title, product.finish, batch)
    hosts.transform(host_reports or [], batch)
    link_hosts(batch)
    add_regions(batch)
    digest = transport.digest([account_name, when.isoformat(), host_reports])  # no hosts key ≠ an empty list
    # every regional product visited all the regions the transport knows; an unrecorded global product has none
    complete = frozenset(regions) | frozenset(name for name, seen in recorded.items() if not seen)
    return CollectedAccount(batch, uuid.uuid4().hex[:16], when, dict(ctx.scopes), list(ctx.gaps),
                            has_hosts=host_reports is not None, digest=digest, complete_products=complete)


def link_hosts(batch: GraphBatch) -> None:
    """A host on an ECS instance inherits the instance's region support."""
    instances = batch.nodes.get("EcsInstance", {})
    for host in batch.nodes.get("Host", {}).values():
        inst = instances.get(host.get("instance_id") or "")
        if inst is not None:
            host["region"] = inst.get("region")
            host["supported"] = bool(inst.get("supported"))


def add_regions(batch: GraphBatch) -> None:
    regions = {row.get("region") for rows in batch.nodes.values() for row in rows.values()}
    odd = [r for r in regions if r and not isinstance(r, str)]
    if odd:
        raise CollectError(f"a response names a region that is not a string: {odd[0]!r}")
    for region in sorted(r for r in regions if r):
        batch.node("Region", region, "region", supported=is_supported("ecs", region))
