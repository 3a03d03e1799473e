"""The schema's shape, by introspection: typed (no JSON but the console's rows), enums for severities and
statuses, and every list that can grow past a page is a Relay connection."""

from __future__ import annotations

from typing import Any

import pytest

from backend.graphql.schema import schema

# plain lists that stay small whatever the account (each with why); every other list must be a connection
BOUNDED_LISTS = {
    ("Query", "packages"): "the compliance packages (4)",
    ("CheckItem", "refs"): "one per compliance package",
    ("AttackPath", "access"): "read, write, admin",
    ("AttackPath", "conditionalAccess"): "read, write, admin",
    ("AttackPath", "nodes"): "a path has at most MAX_PIVOTS + 3 nodes",
    ("AttackPath", "edges"): "len(nodes) - 1",
    ("PathNode", "properties"): "one node's properties",
    ("WhatIf", "changes"): "the changes the client asked for",
    ("CypherResult", "columns"): "the columns of the client's query",
    ("ComplianceReport", "sections"): "a package's chapters",
    ("Requirement", "items"): "the items mapped to one requirement",
    ("Remediation", "requests"): "a plan's few calls",
    ("Remediation", "warnings"): "a plan's warnings",
    ("Remediation", "responses"): "one per call made",
    ("ApiCall", "params"): "one call's parameters",
    ("Policy", "packages"): "compliance packages",
    ("ChangedAsset", "properties"): "one asset's changed properties",
    ("Query", "tasks"): "the account's last RECENT_TASKS (50) tasks",
    ("Query", "assetTypes"): "the asset labels of the graph schema",
    ("FindingsSummary", "bySeverity"): "four severities",
    ("FindingsSummary", "byProduct"): "the products Skypath collects",
    ("FindingsSummary", "byRegion"): "Alibaba Cloud's regions (about 30)",
    ("AssetView", "properties"): "one asset's properties",
    ("AssetView", "nodes"): "the asset and at most NEIGHBOURS_SHOWN neighbours",
    ("AssetView", "edges"): "at most NEIGHBOURS_SHOWN",
}
# fields that must be connections (the lists the issue names, and the other growing ones)
MUST_BE_CONNECTIONS = [("Account", f) for f in ("findings", "assets", "attackPaths", "chokePoints", "scans", "ledger",
                                                 "auditLog")] + [
    ("Scan", "results"), ("ScanOutcome", "results"), ("Asset", "findings"), ("Query", "accounts"),
    ("Query", "checkItems"), ("Usage", "byDay"), ("Usage", "byItem"), ("ComplianceSection", "requirements"),
    ("WhatIf", "removedPairs"), ("LedgerEntry", "assets")] + [
    ("Changes", f) for f in ("syncs", "assetsAdded", "assetsRemoved", "assetsChanged", "findingsNew", "findingsResolved",
                             "findingsRegressed", "pathsNew", "pathsRemoved", "exposure")]


@pytest.fixture(scope="module")
def types() -> dict[str, Any]:
    result = schema.introspect()
    return {t["name"]: t for t in result["__schema"]["types"]}


def _unwrap(t: dict[str, Any]) -> tuple[list[str], str]:
    kinds = []
    while t.get("ofType"):
        kinds.append(t["kind"])
        t = t["ofType"]
    return kinds, t["name"]


def _reachable(types: dict[str, Any]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    todo = ["Query", "Mutation"]
    while todo:
        name = todo.pop()
        if name in seen or types[name]["kind"] not in ("OBJECT", "INTERFACE"):
            continue
        seen[name] = types[name]
        for f in types[name]["fields"]:
            todo.append(_unwrap(f["type"])[1])
        todo.extend(p["name"] for p in types[name].get("possibleTypes") or [])
    return seen


def test_no_json_scalar_but_the_console_rows(types: dict[str, Any]) -> None:
    untyped = [(t, f["name"]) for t, td in _reachable(types).items() for f in td["fields"]
               if _unwrap(f["type"])[1] == "JSON"]
    assert untyped == [("CypherResult", "rows")]


def test_every_growing_list_is_a_connection(types: dict[str, Any]) -> None:
    reachable = _reachable(types)
    plain = sorted((t, f["name"]) for t, td in reachable.items() for f in td["fields"]
                   if "LIST" in _unwrap(f["type"])[0] and not t.endswith("Connection"))
    assert [p for p in plain if p not in BOUNDED_LISTS] == []
    for type_name, field in MUST_BE_CONNECTIONS:
        f = next(x for x in reachable[type_name]["fields"] if x["name"] == field)
        connection = types[_unwrap(f["type"])[1]]
        assert connection["name"].endswith("Connection"), (type_name, field)
        fields = {x["name"]: x for x in connection["fields"]}
        assert set(fields) == {"edges", "pageInfo", "totalCount"}, (type_name, field)
        edge = types[_unwrap(fields["edges"]["type"])[1]]
        assert {x["name"] for x in edge["fields"]} == {"cursor", "node"}
        assert {a["name"] for a in f["args"]} >= {"first", "after"}, (type_name, field)
    page_info = {x["name"] for x in types["PageInfo"]["fields"]}
    assert page_info == {"hasNextPage", "hasPreviousPage", "startCursor", "endCursor"}


def test_severities_and_statuses_are_enums(types: dict[str, Any]) -> None:
    checked = 0
    for name, td in _reachable(types).items():
        for f in td["fields"]:
            if f["name"] in ("severity", "status", "checkedStatus", "currentStatus", "statusBefore", "statusAfter"):
                assert types[_unwrap(f["type"])[1]]["kind"] == "ENUM", (name, f["name"])
                checked += 1
            for arg in f["args"]:
                if arg["name"] in ("severity", "status", "risk"):
                    assert types[_unwrap(arg["type"])[1]]["kind"] == "ENUM", (name, f["name"], arg["name"])
                    checked += 1
    assert checked >= 15
    assert [v["name"] for v in types["Severity"]["enumValues"]] == ["CRITICAL", "HIGH", "MEDIUM", "LOW"]
    assert {v["name"] for v in types["FindingStatus"]["enumValues"]} == {
        "PASS", "NOT_PASS", "NOT_CHECK", "WHITELIST", "NOT_SUPPORTED"}


def test_run_cypher_is_a_query_and_the_mutation_a_deprecated_alias(types: dict[str, Any]) -> None:
    assert any(f["name"] == "runCypher" for f in types["Query"]["fields"])
    sdl = str(schema)
    assert 'runCypher(accountId: String!, query: String!, limit: Int! = 1000): CypherResult! @deprecated' in sdl


def test_an_unknown_enum_value_is_a_validation_error() -> None:
    import asyncio

    result = asyncio.run(schema.execute('{ checkItems(severity: [SEVERE]) { totalCount } }'))
    assert result.errors and "Severity" in result.errors[0].message
    ok = asyncio.run(schema.execute('{ checkItems(severity: [CRITICAL], first: 500) { totalCount '
                                    'edges { node { severity } } } }'))
    assert ok.errors is None and ok.data is not None
    nodes = [e["node"]["severity"] for e in ok.data["checkItems"]["edges"]]
    assert nodes and set(nodes) == {"CRITICAL"} and ok.data["checkItems"]["totalCount"] == len(nodes)


def test_a_bad_cursor_is_a_clear_error_and_no_logged_traceback(caplog: pytest.LogCaptureFixture) -> None:
    import asyncio
    import logging

    from backend.repository import encode_cursor

    first = asyncio.run(schema.execute('{ checkItems(first: 2) { pageInfo { endCursor } } }'))
    assert first.errors is None and first.data is not None
    good = first.data["checkItems"]["pageInfo"]["endCursor"]
    caplog.set_level(logging.DEBUG)
    for bad in ("bogus", "", encode_cursor("findings", '[0, "x", "y"]'), good + "x"):
        result = asyncio.run(schema.execute('query($c: String) { checkItems(after: $c) { totalCount } }',
                                            variable_values={"c": bad}))
        assert result.errors and "invalid cursor for checkItems" in result.errors[0].message, (bad, result.errors)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    page = asyncio.run(schema.execute('query($c: String) { checkItems(first: 2, after: $c) { edges { node { id } } } }',
                                      variable_values={"c": good}))
    assert page.errors is None and len(page.data["checkItems"]["edges"]) == 2


def test_client_errors_are_answered_bugs_are_logged() -> None:
    from backend.billing import BillingError
    from backend.graphql.schema import client_error
    from backend.repository import ClientError, CursorError

    for answered in (CursorError("findings"), ClientError("first must be between 1 and 500"), BillingError("refused"),
                     PermissionError("account 1 not found"), KeyError("unknown check item 'X'")):
        assert client_error(answered), answered
    for bug in (ValueError("zip() argument 2 is shorter than argument 1"), TypeError("x"), AttributeError("y")):
        assert not client_error(bug), bug


def test_depth_and_alias_limits_hold_when_validation_is_cached() -> None:
    """The limits' rules are made once, so a repeated document is validated once (the validation cache is keyed
    by the rule classes) — and a document over a limit is refused every time, from the cache too."""
    import asyncio

    from strawberry.extensions.validation_cache import _get_validate_cache

    deep = "{ accounts { edges { node { " + "assets { edges { node { " * 4 + "id" + " } } }" * 4 + " } } } }"
    aliased = "{ " + " ".join(f"a{i}: packages" for i in range(16)) + " }"
    fine = "query($a: String!) { account(id: $a) { id } }"
    cache = _get_validate_cache(256)

    async def errors(query: str) -> list[str]:
        result = await schema.execute(query, variable_values={"a": "1"})
        return [e.message for e in result.errors or []]

    for _ in range(2):
        assert any("exceeds maximum operation depth" in m for m in asyncio.run(errors(deep)))
        assert any("aliases" in m for m in asyncio.run(errors(aliased)))
    before = cache.cache_info()
    asyncio.run(errors(fine))
    asyncio.run(errors(fine))
    after = cache.cache_info()
    assert after.misses - before.misses <= 1 and after.hits - before.hits >= 1
