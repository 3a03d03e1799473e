"""The API's document cache: requests during a rebuild see the previous document, except after this
process changed the account (then they wait: read-your-writes)."""

from __future__ import annotations

import asyncio
import threading

from backend.api import _VersionedCache


def test_a_rebuild_serves_the_previous_document_unless_fresh_is_required() -> None:
    async def scenario(fresh: bool) -> tuple[str, str]:
        cache = _VersionedCache()
        await cache.get("paths", "1", "v1", lambda: "doc-v1")
        release = threading.Event()

        def slow_v2() -> str:
            release.wait(5)
            return "doc-v2"

        if fresh:
            cache.require_fresh("1")
        builder = asyncio.create_task(cache.get("paths", "1", "v2", slow_v2))
        await asyncio.sleep(0.05)  # the rebuild holds the lock now
        reader = asyncio.create_task(cache.get("paths", "1", "v2", lambda: "never built twice"))
        await asyncio.sleep(0.05)
        early = reader.result() if reader.done() else "waiting"
        release.set()
        return early, await builder

    assert asyncio.run(scenario(fresh=False)) == ("doc-v1", "doc-v2")
    assert asyncio.run(scenario(fresh=True)) == ("waiting", "doc-v2")
