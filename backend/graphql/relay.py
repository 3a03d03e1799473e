"""One pagination style for every list that can grow: Relay connections (`edges { cursor node }`, `pageInfo`,
`totalCount`), `first` (1..MAX_PAGE, default 50) and `after` (an `endCursor` of the same field)."""

from __future__ import annotations

import asyncio
import bisect
import json
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, TypeVar

import strawberry

from backend.repository import ClientError, CursorError, decode_cursor, encode_cursor

MAX_PAGE = 500
DEFAULT_PAGE = 50

T = TypeVar("T")


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo
    # the total, or how to count it: counted only when a client asks for totalCount
    count: strawberry.Private[int | Callable[[], Awaitable[int]]]

    @strawberry.field(description="How many items match, over all pages.")
    async def total_count(self) -> int:
        return self.count if isinstance(self.count, int) else await self.count()


def page_size(first: int | None) -> int:
    n = DEFAULT_PAGE if first is None else first
    if n < 1 or n > MAX_PAGE:
        raise ClientError(f"first must be between 1 and {MAX_PAGE}")
    return n


def connection(nodes: Sequence[Any], cursors: Sequence[str], has_next: bool, has_previous: bool,
               count: int | Callable[[], Awaitable[int]]) -> Connection[Any]:
    edges = [Edge(cursor=c, node=n) for n, c in zip(nodes, cursors, strict=True)]
    return Connection(edges=edges, count=count, page_info=PageInfo(
        has_next_page=has_next, has_previous_page=has_previous,
        start_cursor=edges[0].cursor if edges else None, end_cursor=edges[-1].cursor if edges else None))


def from_list(rows: Sequence[Any], first: int | None, after: str | None, kind: str,
              node: Callable[[Any], Any] = lambda r: r) -> Connection[Any]:
    """A page of an in-memory list; the cursor is a position in it."""
    n = page_size(first)
    start = 0
    if after is not None:
        text = decode_cursor(after, kind)
        if not text.isdigit():
            raise CursorError(kind)
        start = int(text) + 1
    page = rows[start:start + n]
    return connection([node(r) for r in page], [encode_cursor(kind, str(start + i)) for i in range(len(page))],
                      start + n < len(rows), start > 0, len(rows))


def from_sorted(rows: Sequence[Any], first: int | None, after: str | None, kind: str,
                key: Callable[[Any], tuple[Any, ...]], node: Callable[[Any], Any]) -> Connection[Any]:
    """A page of an in-memory list sorted by `key`; the cursor is the key of the last row seen, so a page stays
    right when the list changes between requests."""
    n = page_size(first)
    start = 0
    if after is not None:
        try:
            wanted = tuple(json.loads(decode_cursor(after, kind)))
        except (ValueError, TypeError):
            raise CursorError(kind) from None
        sample = key(rows[0]) if rows else wanted
        if len(wanted) != len(sample) or any(type(w) is not type(s) for w, s in zip(wanted, sample, strict=True)):
            raise CursorError(kind)
        start = bisect.bisect_right(rows, wanted, key=key)
    page = rows[start:start + n]
    return connection([node(r) for r in page], [encode_cursor(kind, json.dumps(list(key(r)))) for r in page],
                      start + n < len(rows), start > 0, len(rows))


async def keyset_page(info: Any, kind: str, first: int | None, after: str | None,
                      read: Callable[[int, tuple[str, str] | None], list[dict[str, Any]]],
                      node: Callable[[dict[str, Any]], Any], count: Callable[[], int]) -> Connection[Any]:
    """A page of records read by keyset on (at, element id): `read(n, after_key)` returns up to n + 1 rows."""
    n = page_size(first)
    key: tuple[str, str] | None = None
    if after is not None:
        try:
            at, element = json.loads(decode_cursor(after, kind))
            key = (str(at), str(element))
        except (ValueError, TypeError):
            raise CursorError(kind) from None
    rows = await asyncio.to_thread(read, n, key)
    page = rows[:n]

    async def total() -> int:
        return await asyncio.to_thread(count)

    return connection([node(r) for r in page], [encode_cursor(kind, json.dumps([r["at"], r["element"]])) for r in page],
                      len(rows) > n, key is not None, total)
