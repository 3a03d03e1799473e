"""Request context and the per-process caches behind the resolvers (versions, documents, responses)."""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Callable, Iterable
from typing import Any

from strawberry.dataloader import DataLoader
from strawberry.fastapi import BaseContext
from strawberry.types import Info

from backend.auth import AuthError, Identity, cached_identity
from backend.repository import Repository, audit
from backend.response_cache import ResponseCache
from loaders import inputs


class _VersionedCache:
    """Per-process cache of expensive per-account documents, keyed by the data version they derive from.

    One builder per key runs at a time. Requests that arrive while a new version is being built get the
    previous document (readers keep seeing the last complete state, as with a sync) — unless this process
    changed the account itself (`require_fresh`): then they wait for the new one (read-your-writes)."""

    def __init__(self, size: int = 32):
        self.size = size
        self.entries: dict[tuple[str, str], tuple[str, Any]] = {}
        self.locks: dict[tuple[str, str], asyncio.Lock] = {}
        self.fresh_required: set[str] = set()

    def require_fresh(self, account: str) -> None:
        self.fresh_required.add(account)

    async def get(self, kind: str, account: str, version: str, build: Any) -> Any:
        key = (kind, account)
        hit = self.entries.get(key)
        if hit is not None and hit[0] == version:
            return hit[1]
        lock = self.locks.setdefault(key, asyncio.Lock())
        if hit is not None and lock.locked() and account not in self.fresh_required:
            return hit[1]
        async with lock:
            hit = self.entries.get(key)
            if hit is not None and hit[0] == version:
                return hit[1]
            value = await asyncio.to_thread(build)
            if len(self.entries) >= self.size:
                self.entries.pop(next(iter(self.entries)))
            self.entries[key] = (version, value)
            self.fresh_required.discard(account)
            # long-lived documents (hundreds of thousands of objects) leave the collector's generations:
            # full collections would otherwise walk them and stall every request in flight
            gc.freeze()
            return value


CACHE = _VersionedCache()


class _Versions:
    """Per-process data versions (and account rows), re-read at most once a second per (kind, account) by
    one reader at a time: while it reads, the others use the last value, so a busy second costs one query
    and a change made elsewhere shows within about a second. Mutations in this process invalidate at once."""

    TTL_SECONDS = 1.0

    def __init__(self) -> None:
        self.values: dict[tuple[str, str], tuple[float, Any]] = {}
        self.locks: dict[tuple[str, str], asyncio.Lock] = {}

    async def get(self, kind: str, account_id: str, read: Any) -> Any:
        key = (kind, account_id)
        hit = self.values.get(key)
        if hit is not None and time.monotonic() - hit[0] < self.TTL_SECONDS:
            return hit[1]
        lock = self.locks.setdefault(key, asyncio.Lock())
        if hit is not None and lock.locked():
            return hit[1]  # another request is refreshing it
        async with lock:
            again = self.values.get(key)
            if again is not None and again is not hit and time.monotonic() - again[0] < self.TTL_SECONDS:
                return again[1]
            value = await asyncio.to_thread(read)
            self.values[key] = (time.monotonic(), value)
            return value

    def invalidate(self, account_id: str) -> None:
        for key in [k for k in self.values if k[1] == account_id]:
            self.values.pop(key, None)


VERSIONS = _Versions()
RESPONSES = ResponseCache()


class _Changes:
    """`with _Changes(account_id):` around a mutation: afterwards (even after a failure part-way) this
    process forgets the account's versions and every cached response."""

    def __init__(self, account_id: str):
        self.account_id = account_id

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        VERSIONS.invalidate(self.account_id)
        CACHE.require_fresh(self.account_id)
        RESPONSES.clear()


def _response_scope(token: str | None) -> tuple[Any, ...] | None:
    """What a cached response may be shared by: callers of the same role and accounts (None: not cacheable)."""
    try:
        ident = cached_identity(token)
    except AuthError:
        return None
    if ident is None or ident.kind != "api":
        return None
    return (ident.role, tuple(sorted(ident.accounts)))


async def _audit(driver: Any, account_id: str, who: str, action: str, detail: dict[str, Any]) -> None:
    await asyncio.to_thread(audit, driver, account_id, who, action, detail)


async def _version(kind: str, account_id: str, read: Any) -> str:
    return str(await VERSIONS.get(kind, account_id, read))


def _findings_version(repo: Repository, account_id: str) -> str:
    rows = repo.read("MATCH (st:ItemState {account_id: $a}) RETURN max(st.updated) AS v, count(st) AS n", a=account_id)
    return f"{rows[0]['v']}|{rows[0]['n']}" if rows else ""


async def _account_rows(repo: Repository, account_id: str) -> list[dict[str, Any]]:
    """The account's row (name, collected_at, current sync), cached like a version."""
    rows: list[dict[str, Any]] = await VERSIONS.get("account", account_id, lambda: repo.accounts([account_id]))
    return rows


class Context(BaseContext):
    def __init__(self, driver: Any, identity: Identity | None):
        super().__init__()
        self.driver = driver
        self.identity = identity
        self.repo = Repository(driver)
        self._loaders: dict[tuple[str, str], DataLoader[Any, Any]] = {}
        self._items: dict[str, Any] = {}

    def require(self, account_id: str, role: str = "viewer") -> Identity:
        inputs.account_id(account_id, "accountId")  # a look-alike ('１７３８…') is refused, even for '*' tokens
        ident = self.identity
        if ident is None or not ident.can_see(account_id):
            raise PermissionError(f"account {account_id} not found")
        if not ident.at_least(role):
            raise PermissionError(f"this operation needs the {role} role")
        return ident

    def _loader(self, kind: str, account_id: str, read: Callable[[str, list[Any]], dict[Any, Any]],
                missing: Any) -> DataLoader[Any, Any]:
        """One batched loader per (kind, account) and request: N nodes asking cost one query."""
        key = (kind, account_id)
        if key not in self._loaders:
            async def load(keys: list[Any]) -> list[Any]:
                found = await asyncio.to_thread(read, account_id, list(keys))
                return [found.get(k, missing) for k in keys]

            self._loaders[key] = DataLoader(load_fn=load)
        return self._loaders[key]

    def findings_loader(self, account_id: str) -> DataLoader[str, list[dict[str, Any]]]:
        """Latest findings by asset id."""
        return self._loader("findings", account_id, self.repo.findings_for_assets, [])

    def asset_loader(self, account_id: str) -> DataLoader[tuple[str, str], dict[str, Any] | None]:
        """Asset rows by (type, id)."""
        return self._loader("assets", account_id, self.repo.assets_by_key, None)

    def properties_loader(self, account_id: str) -> DataLoader[tuple[str, str], dict[str, Any]]:
        """Graph properties of attack-path nodes by (type, id)."""
        return self._loader("properties", account_id, self.repo.node_properties, {})

    async def items(self, account_id: str, needed: Iterable[str] | None = None) -> dict[str, Any]:
        """The check items the account can run (the catalog and its custom items), read once per request — and
        not at all when every `needed` id is a catalog item."""
        from checks.catalog import BY_ID

        if needed is not None and all(c in BY_ID for c in needed):
            return BY_ID
        if account_id not in self._items:
            from checks.packages import account_items

            # custom items change rarely: read like a data version (at most once a second, at once after this
            # process's own change), not once per request
            self._items[account_id] = await VERSIONS.get("items", account_id,
                                                         lambda: account_items(self.driver, account_id))
        return self._items[account_id]  # type: ignore[no-any-return]


Ctx = Info[Context, None]
