"""A hostile tenant against the console and custom check items, property-based: a marker tenant whose every
string property holds a secret marker, thousands of generated and mutated queries (nested subquery
expressions, pattern comprehensions inside list comprehensions / CASE / reduce / coalesce, CALL subqueries,
procedures, LOAD CSV with obfuscated URLs, comments, '//' in literals, unicode escapes, backquoted names).
None may return a marker, fetch a URL (a local HTTP server counts requests) or outlast the time limit."""

from __future__ import annotations

import http.server
import os
import random
import re
import secrets
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from neo4j import Driver

from backend.auth import create_token
from backend.console import AUDIT_LABELS, run_read_only
from backend.ingest import ingest_snapshot
from backend.repository import audit
from checks.custom import CustomCheckError, add_custom_check
from checks.cypher_guard import VALIDATION_TIMEOUT_SECONDS, CypherRefused
from checks.scan import _custom_failing
from graph_schema.store import delete_account
from tests.helpers.sample import write_sample

QUERY_TIMEOUT = 3.0
TIME_LIMIT = QUERY_TIMEOUT + VALIDATION_TIMEOUT_SECONDS + 5.0  # server timeouts plus driver round trips


class _CountingHandler(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        self.hits.append(self.path)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"a,b\n")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def url_trap() -> Iterator[tuple[int, list[str]]]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _CountingHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_port, _CountingHandler.hits
    server.shutdown()


def _marked(value: Any, marker: str) -> Any:
    if isinstance(value, str):
        return marker + value
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return [marker + v for v in value]
    return value


@pytest.fixture(scope="module")
def tenants(neo4j_driver: Driver, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The attacker's account, a marker tenant (every string property of its nodes and relationships holds
    the marker), an API token of the marker tenant and an audit entry of the attacker's own account."""
    attacker, victim = (str(random.randint(10**15, 10**16 - 1)) for _ in range(2))
    marker, audit_marker = f"mrk{secrets.token_hex(6)}", f"audit{secrets.token_hex(6)}"
    for account in (attacker, victim):
        ingest_snapshot(neo4j_driver, write_sample(Path(tmp_path_factory.mktemp(account)), account))
    for kind, match in (("node", "MATCH (x {account_id: $v})"), ("rel", "MATCH ({account_id: $v})-[x]->()")):
        rows = neo4j_driver.execute_query(f"{match} RETURN elementId(x) AS id, properties(x) AS p", v=victim).records
        marked = [{"id": r["id"], "p": {k: _marked(v, marker) for k, v in r["p"].items() if k != "account_id"}}
                  for r in rows]
        find = "MATCH (x) WHERE elementId(x) = r.id" if kind == "node" else "MATCH ()-[x]->() WHERE elementId(x) = r.id"
        neo4j_driver.execute_query(f"UNWIND $rows AS r {find} SET x += r.p", rows=marked)
    token = create_token(neo4j_driver, "admin", [victim], who="test")
    token_hash = neo4j_driver.execute_query("MATCH (t:ApiToken {id: $id}) RETURN t.hash AS h", id=token["id"]).records[0]["h"]
    audit(neo4j_driver, attacker, "operator@test", "api.cypher", {"query": audit_marker})
    yield {"attacker": attacker, "victim": victim, "secrets": [marker, victim, token_hash],
           "audit_marker": audit_marker}
    for account in (attacker, victim):
        delete_account(neo4j_driver, account)
    neo4j_driver.execute_query("MATCH (t:ApiToken {id: $id}) DETACH DELETE t", id=token["id"])


# ---------------------------------------------------------------- the hostile query generator

LABELS = ["RamUser", "ApiToken", "AuditEntry", "EcsInstance", "OssBucket", "RamRole", "Account", "Host", ""]
PROPS = ["id", "name", "hash", "detail", "account_id", "uid", "report", "accounts"]
VARIABLES = ["n", "t", "a", "x"]  # `a` and `x` are bound by some contexts, `n` and `t` never


def _node(var: str, label: str) -> str:
    return f"({var}{':' + label if label else ''})"


def _url(port: int, how: int) -> str:
    return [f"'http://127.0.0.1:{port}/a'", f"'ht' + 'tp://127.0.0.1:{port}/b'", f"'http:/' + '/127.0.0.1:{port}/c'",
            "'file:///etc/passwd'", f"'\\u0068ttp://127.0.0.1:{port}/d'", f"toLower('HTTP://127.0.0.1:{port}/e')",
            f"'http://localhost:{port}/f'"][how]


@st.composite
def _reader(draw: st.DrawFn, port: int) -> str:
    """An expression that tries to read another tenant, a token, the audit log, a procedure or a URL."""
    v, label, prop = draw(st.sampled_from(VARIABLES)), draw(st.sampled_from(LABELS)), draw(st.sampled_from(PROPS))
    node = _node(v, label)
    where = draw(st.sampled_from(["", f"WHERE {v}.account_id <> $account_id", f"WHERE {v}.account_id = $account_id OR true",
                                  f"WHERE {v}.account_id = $account_id"]))
    url = _url(port, draw(st.integers(0, 6)))
    return draw(st.sampled_from([
        f"COLLECT {{ MATCH {node} {where} RETURN {v}.{prop} }}",
        f"COUNT {{ MATCH {node} {where} }}",
        f"EXISTS {{ {node} {where} }}",
        f"[{node} {where} | {v}.{prop}]",
        f"[{node}-[r]-(o) | o.{prop}]",
        f"[p = {node}--() | [m IN nodes(p) | properties(m)]]",
        f"COLLECT {{ MATCH (a)--{node} RETURN {v}.{prop} }}",
        f"COLLECT {{ MATCH (a)--(b) MATCH {node} RETURN {v}.{prop} }}",
        f"COLLECT {{ MATCH (a) WITH a MATCH {node} RETURN {v}.{prop} }}",
        f"COLLECT {{ OPTIONAL MATCH {node} RETURN {v}.{prop} UNION MATCH (a) RETURN a.id }}",
        "COLLECT { CALL db.labels() YIELD label RETURN label }",
        "COLLECT { CALL dbms.listConfig() YIELD name, value RETURN name + value }",
        f"COLLECT {{ CALL {{ MATCH {node} RETURN {v} }} RETURN {v}.{prop} }}",
        f"COLLECT {{ LOAD CSV FROM {url} AS l RETURN l }}",
        f"COUNT {{ LOAD CSV FROM {url} AS l RETURN l }}",
        f"properties({v})",
        f"{v}.{prop}",
        f"[(a)--(m) WHERE COUNT {{ {node} }} > 0 | m.{prop}]",
        f"[(a)-[*1..3]-(m) | m.{prop}]",
    ]))


def _wrapped(port: int) -> st.SearchStrategy[str]:
    def wrap(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return st.tuples(st.sampled_from([
            "[x IN [1] | {}]", "CASE WHEN true THEN {} END", "CASE {} WHEN null THEN 1 ELSE 2 END",
            "reduce(s = [], x IN [1] | s + {})", "coalesce(null, {})", "head([{}])", "{{k: {}}}", "[{}][0]",
            "toString({})", "[x IN [1] WHERE {} IS NOT NULL]", "any(x IN [1] WHERE {} IS NULL)",
            "COLLECT {{ RETURN {} AS w }}", "size([{}])",
        ]), inner).map(lambda pair: pair[0].format(pair[1]))
    return st.recursive(_reader(port), wrap, max_leaves=3)


@st.composite
def hostile_query(draw: st.DrawFn, port: int) -> str:
    w = draw(_wrapped(port))
    v, label, prop = draw(st.sampled_from(VARIABLES)), draw(st.sampled_from(LABELS)), draw(st.sampled_from(PROPS))
    node, url = _node(v, label), _url(port, draw(st.integers(0, 6)))
    query = draw(st.sampled_from([
        f"RETURN {w} AS asset_id",
        f"MATCH (a:EcsInstance {{account_id: $account_id}}) RETURN {w} AS asset_id",
        f"MATCH (a {{account_id: $account_id}}) WITH a RETURN {w} AS asset_id",
        f"UNWIND [1] AS x RETURN {w} AS asset_id",
        f"MATCH (a:EcsInstance {{account_id: $account_id}}) WHERE {w} IS NOT NULL RETURN a.id AS asset_id",
        f"CALL {{ RETURN {w} AS o }} RETURN o AS asset_id",
        f"MATCH (a:RamUser {{account_id: $account_id}}) CALL (a) {{ RETURN {w} AS o }} RETURN o AS asset_id",
        f"UNWIND [{w}] AS asset_id RETURN asset_id",
        f"MATCH (a:EcsInstance {{account_id: $account_id}}) RETURN a.id AS asset_id ORDER BY {w}",
        f"MATCH {node} RETURN {v}.{prop} AS asset_id",
        f"MATCH {node} WHERE {v}.account_id = $account_id RETURN {v}.{prop} AS asset_id",
        f"MATCH (a {{account_id: $account_id}}), {node} RETURN {v}.{prop} AS asset_id",
        f"MATCH (a:Account {{account_id: $account_id}}) CALL {{ MATCH {node} RETURN {v} }} RETURN {v}.{prop} AS asset_id",
        f"LOAD CSV FROM {url} AS l RETURN l AS asset_id",
        "CALL db.labels() YIELD label RETURN label AS asset_id",
        f"MATCH (a:EcsInstance {{account_id: $account_id}}) RETURN a.id AS asset_id UNION MATCH {node} RETURN {v}.{prop} AS asset_id",
    ]))
    for _ in range(draw(st.integers(0, 3))):
        query = draw(st.sampled_from(MUTATIONS))(query, draw(st.integers(0, 10**6)))
    return query


def _at(query: str, seed: int) -> int:
    return seed % (len(query) + 1)


MUTATIONS = [
    lambda q, s: q.replace(" ", "\n", 1 + s % 5),
    lambda q, s: q.replace(" ", " /* ' */ ", 1 + s % 3),
    lambda q, s: q.replace(" RETURN ", " // x'\nRETURN ", 1),
    lambda q, s: q.replace(" RETURN ", " RETURN '//' AS c, " if s % 2 else " RETURN '/*', ", 1),
    lambda q, s: re.sub(r"\b(n|t|a|RamUser|ApiToken|AuditEntry|labels|db)\b", r"`\1`", q),
    lambda q, s: q.replace("MATCH", "match").replace("RETURN", "ReTuRn").replace("COLLECT", "collect"),
    lambda q, s: q.replace("'http", "'\\u0068ttp").replace("'//", "'\\u002f/"),
    lambda q, s: q[:_at(q, s)] + q[_at(q, s) + 1:],
    lambda q, s: q[:_at(q, s)] + "'\"`{}()[]/*\\"[s % 11] + q[_at(q, s):],
    lambda q, s: q[:_at(q, s)] + q[_at(q, s):_at(q, s) + 8] * 2 + q[_at(q, s) + 8:],
    lambda q, s: f"CYPHER runtime=slotted {q}" if s % 2 else f"EXPLAIN {q}",
    lambda q, s: q + ";" if s % 2 else q + " // '",
]


def _assert_no_secret(text: str, secrets_: list[str], query: str) -> None:
    for secret in secrets_:
        assert secret not in text, f"{secret!r} leaked by {query!r}: {text[:500]}"


@given(data=st.data())
@settings(max_examples=int(os.environ.get("SKYPATH_HOSTILE_EXAMPLES", "2500")), deadline=None, derandomize=False,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
def test_generated_hostile_queries_never_leak_fetch_or_hang(neo4j_driver: Driver, tenants: dict[str, Any],
                                                            url_trap: tuple[int, list[str]], data: st.DataObject) -> None:
    port, hits = url_trap
    query = data.draw(hostile_query(port))
    started = time.monotonic()
    if data.draw(st.booleans()):  # the console of a viewer: the audit log is hidden too
        try:
            text = repr(run_read_only(neo4j_driver, tenants["attacker"], query, limit=50, hidden_labels=AUDIT_LABELS,
                                      timeout=QUERY_TIMEOUT))
        except CypherRefused as exc:
            text = str(exc)
        _assert_no_secret(text, [*tenants["secrets"], tenants["audit_marker"]], query)
    else:  # a custom check item as a scan runs it (checked again, then run with a time limit)
        # the scan's own limit is CUSTOM_ITEM_TIMEOUT_SECONDS; the same path with the console's keeps this quick
        failing = _custom_failing(neo4j_driver, query, tenants["attacker"], timeout=QUERY_TIMEOUT)
        _assert_no_secret(repr(failing), tenants["secrets"], query)
    assert time.monotonic() - started < TIME_LIMIT, query
    assert hits == [], f"{query!r} fetched {hits}"


ISSUE_PAYLOADS = [
    "RETURN [x IN [1] | COLLECT { MATCH (n:RamUser) WHERE n.account_id <> $account_id "
    "RETURN n.account_id + ' ' + n.id }][0] AS asset_id",
    "RETURN [x IN [1] | COLLECT { MATCH (t:ApiToken) RETURN t.id + ' ' + t.role + ' ' + t.hash }][0] AS asset_id",
    "RETURN [x IN [1] | COLLECT { CALL db.labels() YIELD label RETURN label }][0] AS asset_id",
    "RETURN [x IN [1] | COLLECT { LOAD CSV FROM 'http://127.0.0.1:1/' AS l RETURN l[0] }][0] AS asset_id",
]


@pytest.mark.parametrize("query", ISSUE_PAYLOADS)
def test_the_reported_payloads_are_neither_run_nor_stored(neo4j_driver: Driver, tenants: dict[str, Any],
                                                          query: str) -> None:
    with pytest.raises(CypherRefused):
        run_read_only(neo4j_driver, tenants["attacker"], query)
    with pytest.raises(CustomCheckError, match="refused"):
        add_custom_check(neo4j_driver, tenants["attacker"], "ACS_CUSTOM_Hostile", "t", "EcsInstance", "high", query,
                         "admin@test")
    stored = neo4j_driver.execute_query("MATCH (c:CustomCheck {account_id: $a}) RETURN count(c) AS n",
                                        a=tenants["attacker"]).records[0]["n"]
    assert stored == 0


def test_viewers_do_not_reach_the_audit_log_operators_do(neo4j_driver: Driver, tenants: dict[str, Any]) -> None:
    a = tenants["attacker"]
    for query in ("MATCH (e:AuditEntry {account_id: $account_id}) RETURN e.detail AS d",
                  "MATCH (e {account_id: $account_id}) RETURN e.detail AS d",
                  "MATCH (e:`AuditEntry`) WHERE e.account_id = $account_id RETURN e.detail AS d"):
        with pytest.raises(CypherRefused, match="AuditEntry"):
            run_read_only(neo4j_driver, a, query, hidden_labels=AUDIT_LABELS)
    doc = run_read_only(neo4j_driver, a, "MATCH (e:AuditEntry {account_id: $account_id}) RETURN e.detail AS d")
    assert tenants["audit_marker"] in repr(doc["rows"])
    edges = neo4j_driver.execute_query("MATCH (e:AuditEntry)--() RETURN count(*) AS n").records[0]["n"]
    assert edges == 0  # nothing expands into the audit log from a tenant node


def test_legit_console_queries_still_answer(neo4j_driver: Driver, tenants: dict[str, Any]) -> None:
    a = tenants["attacker"]
    doc = run_read_only(neo4j_driver, a, "MATCH (n:EcsInstance {account_id: $account_id}) RETURN n.id AS id "
                        "ORDER BY id", hidden_labels=AUDIT_LABELS)
    assert doc["rows"]
    doc = run_read_only(neo4j_driver, a, "MATCH (n:EcsInstance {account_id: $account_id}) "
                        "RETURN n.id AS id, COUNT { (n)--() } AS degree, [(n)--(m) | labels(m)[0]] AS next, "
                        "COLLECT { MATCH (n)-[*1..2]-(m) RETURN DISTINCT m.account_id } AS owners",
                        hidden_labels=AUDIT_LABELS)
    assert doc["rows"] and all(set(row["owners"]) == {a} and row["degree"] >= 1 for row in doc["rows"])


def test_a_custom_item_that_runs_too_long_is_not_checked_and_the_scan_goes_on(neo4j_driver: Driver,
                                                                             tenants: dict[str, Any],
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from backend import billing
    from backend.entitlements import PlanBiller
    from checks.custom import custom_items
    from checks.packages import select_items
    from checks.scan import run_items

    a = tenants["attacker"]
    monkeypatch.setattr("checks.scan.CUSTOM_ITEM_TIMEOUT_SECONDS", 1.0)
    add_custom_check(neo4j_driver, a, "ACS_CUSTOM_Slow", "slow", "EcsInstance", "high",
                     "MATCH (n:EcsInstance {account_id: $account_id}) UNWIND range(1, 2000000000) AS i "
                     "WITH n, i WHERE i < 0 RETURN n.id AS asset_id", "admin@test")
    billing.set_plan(neo4j_driver, a, model="payg", edition="ultimate", cspm=True)
    items = [*select_items(neo4j_driver, a, ["ACS_ECS_DiskEncrypted"], None, None), *custom_items(neo4j_driver, a)]
    report = run_items(neo4j_driver, a, items, PlanBiller(billing.load_plan(neo4j_driver, a)))
    slow = [r for r in report.results if r.check_id == "ACS_CUSTOM_Slow"]
    # NOT_CHECK (never PASS) wherever the item would have been evaluated
    assert any(r.status == "NOT_CHECK" for r in slow) and not any(r.status in ("PASS", "NOT_PASS") for r in slow)
    assert any("ACS_CUSTOM_Slow" in note and "query failed" in note for note in report.notes), report.notes
    assert any(r.check_id != "ACS_CUSTOM_Slow" and r.status in ("PASS", "NOT_PASS") for r in report.results)
