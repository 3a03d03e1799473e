"""The GraphQL response cache: only queries, never across caller scopes, short-lived, no errors kept."""

from __future__ import annotations

import json

import pytest

from backend.response_cache import ResponseCache

QUERY = json.dumps({"query": "query($a: String!) { account(id: $a) { id } }", "variables": {"a": "1"}}).encode()
VIEWER_A = ("viewer", ("1",))


def test_queries_have_keys_and_mutations_do_not() -> None:
    cache = ResponseCache()
    assert cache.key(VIEWER_A, QUERY)
    mutation = json.dumps({"query": "mutation { runCypher(accountId: \"1\", query: \"RETURN 1\") { rows } }"}).encode()
    assert cache.key(VIEWER_A, mutation) is None
    both = json.dumps({"query": "query q { packages } mutation m { setPlan(accountId: \"1\", model: \"free\") { model } }",
                       "operationName": "m"}).encode()
    assert cache.key(VIEWER_A, both) is None
    assert cache.key(VIEWER_A, json.dumps({**json.loads(both), "operationName": "q"}).encode())
    assert cache.key(VIEWER_A, b"not json") is None and cache.key(VIEWER_A, b'{"query": "{ bad"}') is None


def test_scopes_and_variables_make_different_keys() -> None:
    cache = ResponseCache()
    other_vars = json.dumps({"query": json.loads(QUERY)["query"], "variables": {"a": "2"}}).encode()
    keys = {cache.key(VIEWER_A, QUERY), cache.key(("viewer", ("2",)), QUERY), cache.key(("admin", ("1",)), QUERY),
            cache.key(VIEWER_A, other_vars)}
    assert len(keys) == 4


def test_entries_expire_and_errors_are_not_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    cache = ResponseCache()
    key = cache.key(VIEWER_A, QUERY)
    assert key
    cache.put(key, 200, [], b'{"data": {"account": null}, "errors": [{"message": "x"}]}')
    assert cache.get(key) is None
    cache.put(key, 200, [], b'{"data": {"account": {"id": "1", "note": "errors"}}}')
    assert cache.get(key) is not None
    clock = [1000.0]
    monkeypatch.setattr("backend.response_cache.time.monotonic", lambda: clock[0])
    cache.put(key, 200, [], b'{"data": {}}')
    clock[0] += ResponseCache.TTL_SECONDS + 0.01
    assert cache.get(key) is None
