"""How a listing action pages, as data: the emulator re-pages recorded items with it (any page size,
page number, NextToken or Marker a client asks for) and answers empty where nothing was recorded."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# a cursor the emulator hands out when it re-pages: "<prefix><offset>"
EMULATOR_CURSOR = "emu-offset-"


@dataclass(frozen=True)
class Listing:
    """A paged list action: where its items are, how it pages, what the API answers when it is empty."""

    list_path: tuple[str, ...]
    # "number" (PageNumber/PageSize, TotalCount), "token" (NextToken/MaxResults; PageNumber also accepted),
    # "marker" (Marker/MaxItems, IsTruncated: RAM List*), "none" (one answer, or paged in a way not re-paged)
    style: str = "number"
    default_size: int = 10
    # where the total is; dotted when nested ("PageInfo.TotalCount"): the page number and size sit beside it
    total_field: str = "TotalCount"
    # the body the real API answers for a region without any (besides the list at list_path)
    empty_extra: dict[str, Any] = field(default_factory=dict)
    page_param: str = "PageNumber"  # "number" style: the page cursor (Security Center's is CurrentPage)

    def __post_init__(self) -> None:
        if self.style not in ("number", "token", "marker", "none"):
            raise ValueError(f"listing style {self.style!r}")

    @property
    def size_params(self) -> tuple[str, ...]:
        return ("MaxItems",) if self.style == "marker" else ("PageSize", "MaxResults")

    @property
    def total_key(self) -> str:
        """The total's own key, in the object `page_info` gives."""
        return self.total_field.split(".")[-1]

    def total(self, body: dict[str, Any]) -> Any:
        """The total the body states (None when it states none)."""
        cur: Any = body
        for key in self.total_field.split("."):
            cur = cur.get(key) if isinstance(cur, dict) else None
        return cur

    def page_info(self, body: dict[str, Any]) -> dict[str, Any]:
        """The object holding the total, the page number and size (the body itself unless nested)."""
        holder = body
        for key in self.total_field.split(".")[:-1]:
            holder = holder.setdefault(key, {})
        return holder

    def empty(self) -> dict[str, Any]:
        """The real API's answer for no items."""
        body: dict[str, Any] = dict(self.empty_extra)
        if self.style == "marker":
            body["IsTruncated"] = False
        elif self.style != "none" and self.total_field:
            self.page_info(body).update({self.total_key: 0, self.page_param: 1})
        holder = body
        for key in self.list_path[:-1]:
            holder = holder.setdefault(key, {})
        holder[self.list_path[-1]] = []
        return body


@dataclass(frozen=True)
class FilteredView:
    """A request parameter the recording answers for every value at once: e.g. security-group rules were
    recorded with `Direction=all`, and a request for `Direction=ingress` is that answer filtered."""

    param: str
    recorded_value: str
    list_path: tuple[str, ...]
    item_field: str

    def narrow(self, body: dict[str, Any], wanted: str) -> dict[str, Any]:
        """`body` (a deep copy) with only the items whose item_field is `wanted`."""
        holder = body
        for key in self.list_path[:-1]:
            holder = holder.get(key) or {}
        items = holder.get(self.list_path[-1]) or []
        holder[self.list_path[-1]] = [i for i in items if str(i.get(self.item_field, "")).lower() == wanted.lower()]
        return body


def items_at(body: Any, path: tuple[str, ...]) -> list[Any]:
    cur = body
    for key in path:
        cur = cur.get(key) if isinstance(cur, dict) else None
    if isinstance(cur, dict):
        return [cur]
    return list(cur) if isinstance(cur, list) else []


def with_items(body: dict[str, Any], path: tuple[str, ...], items: list[Any]) -> dict[str, Any]:
    holder = body
    for key in path[:-1]:
        holder = holder.setdefault(key, {})
    holder[path[-1]] = items
    return body
