"""Composing several syncs' records into one asset delta (backend/drift.py), pure."""

from __future__ import annotations

from typing import Any

from backend.drift import _asset_changes


def _delta(added: dict[str, list[str]] | None = None, removed: dict[str, list[str]] | None = None,
           changed: dict[str, dict[str, dict[str, list[Any]]]] | None = None) -> dict[str, Any]:
    return {"added": added or {}, "removed": removed or {}, "changed": changed or {}, "derived": []}


def test_syncs_compose_into_the_net_change() -> None:
    deltas = [
        _delta(added={"OssBucket": ["new-then-gone", "stays"]}, removed={"AccessKey": ["k1"]},
               changed={"OssBucket": {"b": {"acl": ["private", "public-read"], "logging_enabled": [False, True]}}}),
        _delta(removed={"OssBucket": ["new-then-gone"]}, added={"AccessKey": ["k1"]},
               changed={"OssBucket": {"b": {"acl": ["public-read", "public-read-write"],
                                            "logging_enabled": [True, False]},
                                      "stays": {"acl": ["private", "public-read"]}}}),
    ]
    assets, exposure = _asset_changes(None, "1", deltas)  # type: ignore[arg-type]  # no child records: no reads
    assert assets["added"] == [{"type": "OssBucket", "id": "stays"}]  # added, then changed: still just added
    assert assets["removed"] == []  # k1 removed then back; new-then-gone came and went
    assert assets["changed"] == [{"type": "OssBucket", "id": "b", "properties": {
        "acl": {"before": "private", "after": "public-read-write"}}}]  # logging_enabled went back: no change
    assert exposure == [{"type": "OssBucket", "id": "b", "property": "acl", "before": "private",
                         "after": "public-read-write"}]


def test_a_first_sync_is_counted_not_listed() -> None:
    assets, _ = _asset_changes(None, "1", [{"initial": True, "added": {"EcsInstance": 3}}])  # type: ignore[arg-type]
    assert assets == {"added": [], "removed": [], "changed": [], "first_sync": {"EcsInstance": 3}}
