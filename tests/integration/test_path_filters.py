"""The API's attack-path filters that name no entry or target (`through`, `type`, `conditional`) and the what-if
come from the compact index, and answer exactly what the exhaustive enumeration (the oracle) answers."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from neo4j import Driver

from checks.path_index import SEVERITIES, PathIndex, RankedReport
from checks.paths import compute_paths, load_attack_graph, path_json
from graph_schema.store import delete_account
from tests.helpers.sample import sample_doc
from tests.integration.test_path_index import _conditional_sample, _loaded, _wildcard_account


@pytest.fixture(params=[_wildcard_account, _conditional_sample], ids=["wildcard-heavy", "conditional-sample"])
def loaded(request: Any, neo4j_driver: Driver, tmp_path: Path) -> Any:
    account = _loaded(neo4j_driver, tmp_path, request.param())
    try:
        yield account, request.param is _conditional_sample
    finally:
        delete_account(neo4j_driver, account)


def _through_candidates(worst: list[dict[str, Any]], rng: random.Random) -> list[str]:
    """Node ids of every role a node plays: an entry, the Internet, a pivot, a wildcard's AllTargets, the account,
    a target reached directly and one reached only through the account, and one no path passes."""
    by_position: dict[str, set[str]] = {}
    for p in worst:
        ids = [n["id"] for n in p["nodes"]]
        by_position.setdefault("first", set()).add(ids[0])
        by_position.setdefault("middle", set()).update(ids[1:-1])
        by_position.setdefault("last", set()).add(ids[-1])
        by_position.setdefault("target", set()).add(p["target"]["id"])
        if any(e["type"] == "CONTROLS" for e in p["edges"]):
            by_position.setdefault("controlled", set()).add(p["target"]["id"])
    picked = ["no-such-node"]
    for ids in by_position.values():
        ordered = sorted(ids)
        picked.extend(rng.sample(ordered, min(4, len(ordered))))
    picked.extend(i for i in by_position.get("middle", ()) if i.startswith("all:") or i.endswith(":root"))
    return sorted(set(picked))


def test_through_type_conditional_equal_the_oracle(neo4j_driver: Driver, loaded: tuple[str, bool]) -> None:
    account, has_conditional = loaded
    graph = load_attack_graph(neo4j_driver, account)
    expected = [path_json(account, p) for p in compute_paths(graph)]
    worst = sorted(expected, key=lambda p: SEVERITIES.index(p["severity"]))
    report = RankedReport(PathIndex.build(graph))
    rng = random.Random(11)
    types = sorted({p["type"] for p in worst})
    assert len(types) > 1 and any(p["conditional"] for p in worst) == has_conditional

    def check(severity: list[str] | None, type_: str | None, through: str | None, conditional: bool | None) -> int:
        want = [p for p in worst if (severity is None or p["severity"] in severity)
                and (type_ is None or p["type"] == type_) and (conditional is None or p["conditional"] == conditional)
                and (through is None or any(n["id"] == through for n in p["nodes"]))]
        view = report.select(None, None, severity, type_, through, conditional)
        assert len(view) == len(want), (severity, type_, through, conditional)
        assert view[0:len(want)] == want, (severity, type_, through, conditional)
        for start in {0, len(want) // 2, max(0, len(want) - 3)}:
            assert view[start:start + 4] == want[start:start + 4]
        return len(want)

    kept = 0
    for through in _through_candidates(worst, rng):
        kept += check(None, None, through, None)
        check(None, rng.choice(types), through, rng.choice([None, True, False]))
    assert kept > 0
    for type_ in types:
        assert check(None, type_, None, None) > 0
        check(["critical", "medium"], type_, None, False)
    for conditional in (True, False):
        assert (check(None, None, None, conditional) > 0) == (has_conditional or not conditional)
        check(["high"], None, None, conditional)
    # with an entry or a target too: the narrowed list, filtered alike
    some = worst[len(worst) // 2]
    view = report.select(some["entry"]["id"], None, None, some["type"], some["nodes"][-1]["id"], some["conditional"])
    assert some in view[0:len(view)]
    assert check(None, "no_such_type", None, None) == 0


def test_unknown_filters_and_an_empty_account_answer_nothing(neo4j_driver: Driver, tmp_path: Path) -> None:
    account = _loaded(neo4j_driver, tmp_path, sample_doc(str(random.randint(10**15, 10**16 - 1))))
    try:
        report = RankedReport(PathIndex.build(load_attack_graph(neo4j_driver, account)))
        assert len(report.select(None, None, None, None, "", None)) == 0
        assert report.select(None, None, ["critical"], "no_such_type", "no-such-node", True)[0:10] == []
    finally:
        delete_account(neo4j_driver, account)


def test_what_if_from_the_index_equals_the_oracle(neo4j_driver: Driver, loaded: tuple[str, bool]) -> None:
    from backend.graphql.paths import what_if_change
    from checks.path_index import load_index, what_if
    from checks.paths import WhatIfError, analyse_paths

    account, _ = loaded
    graph = load_attack_graph(neo4j_driver, account)
    chokes = load_index(neo4j_driver, account).choke_points
    asked = [[c] for c in dict.fromkeys(filter(None, (what_if_change(c) for c in chokes)))][:6]
    choke_changes = len(asked)
    granting = {e: {n.strip() for v in e.via for n in v.split(" via ")[-1].split(",") if n.strip()} for e in graph.edges
                if e.dst[0] == "AllTargets"}
    alone = sorted({next(iter(names)) for names in granting.values() if len(names) == 1})
    if alone:  # a wildcard grant's only policy detached everywhere: a large cut
        asked.append([f"detach-policy:{alone[0]}"])
    assert bool(alone) == bool(granting)
    key = next(e.src[1] for e in graph.edges if e.kind == "AUTHENTICATES")
    exposed = next(e.dst[1] for e in graph.edges if e.kind == "EXPOSES")
    asked.append([f"disable-key:{key}", f"close-exposure:{exposed}"])
    assert len(asked) >= 3
    cut_most = 0
    for n, changes in enumerate(asked):
        oracle = analyse_paths(neo4j_driver, account, changes)["what_if"]
        answer = what_if(neo4j_driver, account, changes)
        pairs = answer["removed_pairs"]
        assert {k: v for k, v in answer.items() if k != "removed_pairs"} == {
            k: v for k, v in oracle.items() if k != "removed_pairs"}, changes
        listed = pairs[0:len(pairs)]
        assert sorted(listed) == oracle["removed_pairs"] and len(set(map(tuple, listed))) == len(listed), changes
        for start in {0, len(pairs) // 2, max(0, len(pairs) - 2)}:
            assert pairs[start:start + 3] == listed[start:start + 3]
        cut_most = max(cut_most, answer["paths_removed"])
        # a choke point's change removes its edge (one granted by several policies names them all)
        assert n >= choke_changes or answer["edges_removed"], changes
    assert cut_most > 0
    with pytest.raises(WhatIfError):
        what_if(neo4j_driver, account, ["detach-nothing:x"])


def test_api_filters_and_what_if_pages_and_cli_what_if(neo4j_driver: Driver, tmp_path: Path) -> None:
    """Through the API: filtered pages and their cursors, what-if removed pairs page by page; the CLI's what-if
    lists the removed pairs up to --limit and refuses a list above the document limit."""
    import json
    import os

    from backend import billing
    from backend.auth import create_token
    from backend.graphql.paths import what_if_change
    from checks.path_index import load_index, what_if
    from tests.helpers.api_server import serve
    from tests.helpers.cli import run
    from tests.integration.test_api import data, gql

    account = _loaded(neo4j_driver, tmp_path, _wildcard_account())
    try:
        billing.set_plan(neo4j_driver, account, model="payg", edition="ultimate", cspm=True)
        token = create_token(neo4j_driver, "viewer", [account])["token"]
        graph = load_attack_graph(neo4j_driver, account)
        worst = sorted((path_json(account, p) for p in compute_paths(graph)), key=lambda p: SEVERITIES.index(p["severity"]))
        role = Counter(p["nodes"][2]["id"] for p in worst if p["type"] == "internet_ecs_role_oss").most_common(1)[0][0]
        want = [p["id"] for p in worst if p["type"] == "internet_ecs_role_oss" and any(n["id"] == role for n in p["nodes"])]
        # the first choke point whose change cuts more than two pages of pairs
        for change in filter(None, map(what_if_change, load_index(neo4j_driver, account).choke_points)):
            expected_pairs = what_if(neo4j_driver, account, [change])["removed_pairs"]
            if len(expected_pairs) > 10:
                break
        with serve(neo4j_driver) as server:
            got: list[str] = []
            after = None
            while True:
                page = data(gql(server, token, """query($a: String!, $t: String!, $n: String!, $after: String) {
                    account(id: $a) { attackPaths(type: $t, through: $n, conditional: false, first: 7, after: $after) {
                    totalCount pageInfo { hasNextPage endCursor } edges { node { id } } } } }""",
                                {"a": account, "t": "internet_ecs_role_oss", "n": role, "after": after}))
                paths = page["account"]["attackPaths"]
                assert paths["totalCount"] == len(want)
                got += [e["node"]["id"] for e in paths["edges"]]
                if not paths["pageInfo"]["hasNextPage"]:
                    break
                after = paths["pageInfo"]["endCursor"]
            assert got == want and len(want) > 7
            pairs: list[list[str]] = []
            after = None
            for _ in range(2):
                what = data(gql(server, token, """query($a: String!, $w: [String!]!, $after: String) { account(id: $a) {
                    whatIf(changes: $w) { pathsRemoved removedPairs(first: 5, after: $after) { totalCount
                    pageInfo { endCursor } edges { node { entry target } } } } } }""",
                                {"a": account, "w": [change], "after": after}))["account"]["whatIf"]
                assert what["pathsRemoved"] == what["removedPairs"]["totalCount"] == len(expected_pairs)
                pairs += [[e["node"]["entry"], e["node"]["target"]] for e in what["removedPairs"]["edges"]]
                after = what["removedPairs"]["pageInfo"]["endCursor"]
            assert pairs == expected_pairs[0:10] and len(expected_pairs) > 10

        listed = json.loads(run("paths", "--account", account, "--format", "json", "--what-if", change,
                                "--limit", "4").stdout)
        assert listed["what_if"]["removed_pairs"] == expected_pairs[0:4] and len(listed["paths"]) == 4
        assert listed["what_if"]["paths_removed"] == len(expected_pairs)
        os.environ["SKYPATH_PATHS_JSON_LIMIT"] = "10"
        try:
            few = next(t for t, n in Counter(p["target"]["id"] for p in worst).items() if n <= 10)
            refused = run("paths", "--account", account, "--format", "json", "--what-if", change, "--target", few,
                          ok=False)  # the paths fit, the removed pairs do not
            assert refused.returncode != 0 and refused.stdout == "" and "--limit" in refused.stderr
            assert str(len(expected_pairs)) in refused.stderr
        finally:
            del os.environ["SKYPATH_PATHS_JSON_LIMIT"]
    finally:
        delete_account(neo4j_driver, account)
