"""The catalog: every check item, one declaration each, grouped by product module."""

from __future__ import annotations

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
from checks.model import CheckItem

_MODULES = (
    ecs, ecs_more, oss, oss_more, rds, rds_more, ram, ram_more, actiontrail, actiontrail_more, slb, kms, sls, host,
    host_more,
)

CATALOG: tuple[CheckItem, ...] = tuple(item for module in _MODULES for item in module.ITEMS)
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
