"""Transformers fed random shapes: a clear CollectError (or a clean result), never a crash."""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graph_schema.store import GraphBatch
from loaders.base import CollectError
from loaders.hosts import HostReportError
from loaders.hosts import transform as hosts_transform
from loaders.snapshot import ReplayTransport, SnapshotError, parse_snapshot
from loaders.sync import collect_account, parse_collected_at
from tests.helpers.sample import sample_doc

BASE = sample_doc()
ACTIONS = sorted({c["action"] for c in BASE["calls"] if "response" in c})
values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=10,
)


def _replace_somewhere(response: Any, path: list[int], value: Any) -> Any:
    """Swap one nested value (chosen by `path`) of a response for `value`."""
    if not path or not isinstance(response, (dict, list)) or not response:
        return value
    keys = list(response) if isinstance(response, dict) else list(range(len(response)))
    key = keys[path[0] % len(keys)]
    response[key] = _replace_somewhere(response[key], path[1:], value)
    return response


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(action=st.sampled_from(ACTIONS), path=st.lists(st.integers(0, 20), max_size=5), value=values)
def test_transformers_never_crash(action: str, path: list[int], value: Any) -> None:
    doc = copy.deepcopy(BASE)
    call = next(c for c in doc["calls"] if c["action"] == action and "response" in c)
    call["response"] = _replace_somewhere(call["response"], path, value)
    snap = parse_snapshot(doc)
    try:
        collect_account(ReplayTransport(snap), collected_at=parse_collected_at(snap.collected_at), host_reports=snap.hosts)
    except (CollectError, SnapshotError, LookupError, ValueError):
        pass  # a clear, named error is the contract; anything else (TypeError, AttributeError…) is a bug


@settings(max_examples=150, deadline=None)
@given(report=st.dictionaries(st.sampled_from(["host_id", "accounts", "sshd", "pwquality", "containers",
                                                 "missing_patches", "world_writable", "os"]), values, max_size=6))
def test_host_reports_never_crash(report: dict[str, Any]) -> None:
    try:
        hosts_transform([report], GraphBatch("1"))
    except HostReportError:
        pass
    json.dumps(report, default=str)
