"""The catalog: every check item, one declaration each, grouped by product module. A module of this package
that defines `ITEMS` and is not listed below joins the catalog after them (in name order): adding a product's
items is adding its module."""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import replace
from types import ModuleType

from checks.catalog import (
    actiontrail,
    actiontrail_more,
    ecs,
    ecs_more,
    host,
    host_more,
    kms,
    oss,
    oss_more,
    ram,
    ram_more,
    rds,
    rds_more,
    slb,
    sls,
)
from checks.model import LEGACY_EDITIONS, CheckItem

_LISTED = (
    ecs, ecs_more, oss, oss_more, rds, rds_more, ram, ram_more, actiontrail, actiontrail_more, slb, kms, sls, host,
    host_more,
)


def _discovered() -> tuple[ModuleType, ...]:
    listed = {m.__name__ for m in _LISTED}
    found = [importlib.import_module(f"{__name__}.{info.name}") for info in sorted(pkgutil.iter_modules(__path__),
                                                                                   key=lambda i: i.name)]
    return tuple(m for m in found if m.__name__ not in listed and hasattr(m, "ITEMS"))


_MODULES = (*_LISTED, *_discovered())

# Legacy free items (spec/billing.md, --legacy-free): accounts that authorized CSPM before 2023-07-07 keep the
# free items of their edition — Anti-virus 80+, Advanced 90+, Enterprise/Ultimate 250+. One rule, by tier and
# severity, for the cloud items: Anti-virus keeps the free items and the critical/high paid ones, Advanced also
# the medium ones, Enterprise/Ultimate every cloud item (the catalog has fewer than 250 cloud items, so all of
# them). Baseline items follow the editions' own baseline rules. An item's own declaration adds to this table.
LEGACY_FREE_RULES: dict[tuple[str, str], tuple[str, ...]] = {
    ("free", "critical"): LEGACY_EDITIONS,
    ("free", "high"): LEGACY_EDITIONS,
    ("free", "medium"): LEGACY_EDITIONS,
    ("free", "low"): LEGACY_EDITIONS,
    ("paid", "critical"): ("anti-virus", "advanced", "enterprise", "ultimate"),
    ("paid", "high"): ("anti-virus", "advanced", "enterprise", "ultimate"),
    ("paid", "medium"): ("advanced", "enterprise", "ultimate"),
    ("paid", "low"): ("enterprise", "ultimate"),
}


def legacy_free_editions(item: CheckItem) -> tuple[str, ...]:
    """The legacy editions for which `item` is free: the table's (cloud items) plus the item's own declaration."""
    table = LEGACY_FREE_RULES[(item.tier, item.severity)] if item.kind == "cloud" else ()
    editions = set(table) | set(item.legacy_free_editions)
    return tuple(e for e in LEGACY_EDITIONS if e in editions)


def _with_legacy(item: CheckItem) -> CheckItem:
    editions = legacy_free_editions(item)
    return item if editions == item.legacy_free_editions else replace(item, legacy_free_editions=editions)


CATALOG: tuple[CheckItem, ...] = tuple(_with_legacy(item) for module in _MODULES for item in module.ITEMS)
BY_ID: dict[str, CheckItem] = {item.id: item for item in CATALOG}

if len(BY_ID) != len(CATALOG):
    _seen: set[str] = set()
    _dupes = [i.id for i in CATALOG if i.id in _seen or _seen.add(i.id)]  # type: ignore[func-returns-value]
    raise RuntimeError(f"duplicate check ids: {_dupes}")


def get_item(check_id: str) -> CheckItem:
    try:
        return BY_ID[check_id]
    except KeyError:
        raise KeyError(f"unknown check item {check_id!r}") from None
