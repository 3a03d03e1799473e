"""Which stale nodes a sync may delete: a lost permission never deletes, a region or product gone does."""

from __future__ import annotations

import pytest

from graph_schema.store import SyncScopes

SCOPES = SyncScopes(
    ok=frozenset({"ecs:cn-hangzhou", "derived", "account"}),
    visited=frozenset({"ecs:cn-hangzhou", "ecs:cn-shanghai", "ram:global"}),
    complete_products=frozenset({"ecs", "rds", "oss"}),
)


@pytest.mark.parametrize(("scope", "deletable"), [
    ("ecs:cn-hangzhou", True),        # came back ok
    ("ecs:cn-shanghai", False),       # visited and failed: kept
    ("ecs:eu-central-1", True),       # every ECS region was enumerated and this one has nothing now
    ("rds:cn-beijing", True),
    ("ram:global", False),            # RAM answered with an error
    ("slb:cn-hangzhou", False),       # SLB's regions were not enumerated by this sync
    ("oss:global", True),             # no OSS call recorded at all: no buckets
    ("derived:cn-hangzhou", True),    # recomputed whole every sync
    ("hosts:i-1", False),             # no host reports in this sync
])
def test_deletable(scope: str, deletable: bool) -> None:
    assert SCOPES.deletable(scope) is deletable


def test_failed_are_the_visited_scopes_not_ok() -> None:
    assert SCOPES.failed == {"ecs:cn-shanghai", "ram:global"}


def test_only_failed_scopes_leave_stale_leftovers() -> None:
    assert SCOPES.stale("ecs:cn-shanghai") and SCOPES.stale("ram:global")
    assert not SCOPES.stale("ecs:cn-hangzhou") and not SCOPES.stale("slb:cn-hangzhou")
    host_upload = SyncScopes(ok=frozenset({"hosts:i-1"}))
    assert not any(host_upload.stale(s) for s in ("oss:global", "ecs:cn-hangzhou", "ram:global"))
