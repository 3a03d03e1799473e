"""The GraphQL API over real HTTP (uvicorn) against the real Neo4j: auth, tenants, no N+1, fuzzing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from neo4j import Driver

from backend import billing
from backend.auth import create_token
from backend.ingest import ingest_snapshot
from graph_schema.store import delete_account
from tests.helpers.api_server import serve
from tests.helpers.sample import write_sample


@pytest.fixture(scope="module")
def server(neo4j_driver: Driver) -> Any:
    with serve(neo4j_driver) as url:
        yield url


@pytest.fixture(scope="module")
def tenants(neo4j_driver: Driver, tmp_path_factory: pytest.TempPathFactory) -> Any:
    import random

    a, b = (str(random.randint(10**15, 10**16 - 1)) for _ in range(2))
    tmp = tmp_path_factory.mktemp("api")
    for acct in (a, b):
        ingest_snapshot(neo4j_driver, write_sample(tmp, acct))
        billing.set_plan(neo4j_driver, acct, model="payg", edition="ultimate", cspm=True)
    tokens = {
        "viewer_a": create_token(neo4j_driver, "viewer", [a])["token"],
        "operator_a": create_token(neo4j_driver, "operator", [a])["token"],
        "admin_b": create_token(neo4j_driver, "admin", [b])["token"],
        "agent_a": create_token(neo4j_driver, "operator", [a], kind="agent")["token"],
    }
    yield a, b, tokens
    delete_account(neo4j_driver, a)
    delete_account(neo4j_driver, b)


def gql(server: str, token: str | None, query: str, variables: dict[str, Any] | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.post(f"{server}/graphql", json={"query": query, "variables": variables or {}}, headers=headers, timeout=60)


def data(resp: httpx.Response) -> Any:
    assert resp.status_code == 200, resp.text
    doc = resp.json()
    assert not doc.get("errors"), doc["errors"]
    return doc["data"]


def test_health(server: str) -> None:
    assert httpx.get(f"{server}/healthz").json() == {"status": "ok"}
    assert httpx.get(f"{server}/readyz").json() == {"status": "ready"}
    assert "Skypath" in httpx.get(f"{server}/").text


def test_unauthenticated_is_401(server: str) -> None:
    assert gql(server, None, "{ accounts { id } }").status_code == 401
    assert gql(server, "skp_not-a-real-token", "{ accounts { id } }").status_code == 401


def test_agent_tokens_cannot_query(server: str, tenants: Any) -> None:
    _, _, tokens = tenants
    assert gql(server, tokens["agent_a"], "{ accounts { id } }").status_code == 403


TENANT_QUERY = """
query($id: String!) { account(id: $id) {
  id
  assets(first: 500) { edges { node { id type findings { edges { node { checkId status } } } } } pageInfo { hasNextPage } }
  findings(first: 500) { totalCount edges { node { checkId assetId status } } }
  scans { edges { node { id } } }
  billing { model quotaUsed usage { ledgerTotal } }
  ledger { edges { node { at } } pageInfo { hasNextPage } }
} }"""


def test_a_token_for_a_sees_nothing_of_b(server: str, tenants: Any) -> None:
    a, b, tokens = tenants
    data(gql(server, tokens["operator_a"], "mutation($a: String!) { startScan(accountId: $a) { scanId status } }", {"a": a}))
    own = data(gql(server, tokens["viewer_a"], TENANT_QUERY, {"id": a}))["account"]
    assert own["id"] == a and own["assets"]["edges"] and own["findings"]["totalCount"] > 0
    assert data(gql(server, tokens["viewer_a"], TENANT_QUERY, {"id": b}))["account"] is None
    listed = data(gql(server, tokens["viewer_a"], "{ accounts { edges { node { id } } } }"))["accounts"]["edges"]
    assert [x["node"]["id"] for x in listed] == [a]
    for mutation, args in (
        ("startScan(accountId: $b) { scanId }", {}),
        ('whitelist(accountId: $b, checkId: "ACS_ECS_SecurityGroupPublicSSH", assetId: "x", reason: "r") { checkId }', {}),
        ('runCypher(accountId: $b, query: "RETURN 1 AS x") { columns }', {}),
        ('remediate(accountId: $b, checkId: "ACS_OSS_BucketPublicAcl", assetId: "acme-public-assets") { checkId }', {}),
    ):
        resp = gql(server, tokens["operator_a"], f"mutation($b: String!) {{ {mutation} }}", {"b": b, **args})
        doc = resp.json()
        assert resp.status_code == 200 and doc.get("errors"), mutation
        assert "not found" in doc["errors"][0]["message"]


INTROSPECTION = """{ __schema { queryType { name } mutationType { name } types { name kind fields {
  name args { name defaultValue type { kind name ofType { kind name ofType { kind name ofType { kind name } } } } }
  type { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } }"""
# a value for every argument name the schema uses (an unknown required argument fails the walk below)
ARG_VALUES = {"id": "$acct", "accountId": "$acct", "package": '"CIS_ALIBABA_CLOUD_2_0"', "checkId": '"ACS_OSS_BucketPublicAcl"',
              "assetId": '"acme-public-assets"', "checkIds": '["ACS_OSS_BucketPublicAcl"]', "reason": '"r"',
              "query": '"MATCH (n:OssBucket {account_id: $account_id}) RETURN n.id AS id"', "model": '"payg"',
              "dryRun": "true", "runAsync": "false", "first": "2", "name": '"weekly"', "title": '"t"',
              "assetType": '"OssBucket"', "severity": "HIGH", "packages": '["WEAK_PASSWORD"]',
              "changes": '["close-exposure:sg-x"]', "source": '"live"', "everySeconds": "3600"}


def _unwrap(t: dict[str, Any]) -> tuple[str, str]:
    while t.get("ofType"):
        t = t["ofType"]
    return t["kind"], t["name"]


def _selection(types: dict[str, Any], type_name: str, depth: int, skipped: list[str]) -> str:
    parts = []
    for f in types[type_name]["fields"] or []:
        required = [a["name"] for a in f["args"] if a["type"]["kind"] == "NON_NULL" and a["defaultValue"] is None]
        if any(r not in ARG_VALUES for r in required):
            skipped.append(f"{type_name}.{f['name']}")
            continue
        args = ", ".join(f"{a['name']}: {ARG_VALUES[a['name']]}" for a in f["args"] if a["name"] in ARG_VALUES)
        call = f"{f['name']}({args})" if args else f["name"]
        kind, name = _unwrap(f["type"])
        if kind == "OBJECT":
            if depth >= 4:
                continue
            parts.append(f"{call} {{ {_selection(types, name, depth + 1, skipped)} }}")
        else:
            parts.append(call)
    return " ".join(parts) or "__typename"


def test_every_field_of_the_schema_hides_another_tenant(neo4j_driver: Driver, server: str, tenants: Any) -> None:
    """Walk the schema by introspection: every root query and every Account field, asked with A's token
    about B, and every mutation about B, shows nothing of B (B's account id appears nowhere)."""
    a, b, tokens = tenants
    admin_a = create_token(neo4j_driver, "admin", [a])["token"]
    schema = data(gql(server, admin_a, INTROSPECTION))["__schema"]
    types = {t["name"]: t for t in schema["types"] if t["kind"] == "OBJECT"}
    skipped: list[str] = []
    for root in (schema["queryType"]["name"], schema["mutationType"]["name"]):
        for field in types[root]["fields"]:
            if not any(arg["name"] in ("id", "accountId") for arg in field["args"]):
                continue  # account-free fields (catalog, packages) hold no tenant data
            single = {**types, root: {"fields": [field]}}
            operation = "query" if root == schema["queryType"]["name"] else "mutation"
            text = f"{operation}($acct: String!) {{ {_selection(single, root, 0, skipped)} }}"
            resp = gql(server, admin_a, text, {"acct": b})
            assert resp.status_code == 200, (field["name"], resp.text)
            doc = resp.json()
            assert b not in json.dumps(doc.get("data")), (field["name"], doc)
            assert doc.get("errors") or all(v is None for v in (doc.get("data") or {}).values()), (field["name"], doc)
    assert not skipped, f"fields the walk could not call (add their arguments to ARG_VALUES): {skipped}"
    own = data(gql(server, admin_a, f"query($acct: String!) {{ account(id: $acct) {{ "
                   f"{_selection(types, 'Account', 1, skipped)} }} }}", {"acct": a}))["account"]
    assert own["id"] == a and b not in json.dumps(own)


def test_scan_status_can_be_polled(server: str, tenants: Any) -> None:
    a, b, tokens = tenants
    started = data(gql(server, tokens["operator_a"],
                       'mutation($a: String!) { startScan(accountId: $a, checkIds: ["ACS_OSS_BucketLogging"]) { scanId } }',
                       {"a": a}))["startScan"]["scanId"]
    polled = data(gql(server, tokens["viewer_a"], "query($a: String!, $id: String!) { scan(accountId: $a, id: $id) "
                      "{ id status itemsDone } }", {"a": a, "id": started}))["scan"]
    assert polled == {"id": started, "status": "COMPLETED", "itemsDone": 1}
    hidden = data(gql(server, tokens["admin_b"], "query($a: String!, $id: String!) { scan(accountId: $a, id: $id) { id } }",
                      {"a": a, "id": started}))["scan"]
    assert hidden is None


def test_cypher_console_confines_reads_to_the_tenant(server: str, tenants: Any) -> None:
    a, b, tokens = tenants
    run = "query($a: String!, $q: String!) { runCypher(accountId: $a, query: $q) { rows } }"
    scoped = "MATCH (n:OssBucket {account_id: $account_id})-[*0..2]-(m) RETURN n, m.account_id AS owner"
    rows = data(gql(server, tokens["viewer_a"], run, {"a": a, "q": scoped}))["runCypher"]["rows"]
    assert rows and all(r["n"]["properties"]["account_id"] == a and r["owner"] == a for r in rows)
    for unscoped in ("MATCH (n:OssBucket) RETURN n.account_id AS x", "MATCH (n) RETURN count(n) AS x"):
        refused = gql(server, tokens["viewer_a"], run, {"a": a, "q": unscoped}).json()
        assert refused["errors"] and "tenant scope" in refused["errors"][0]["message"], refused
    bad = gql(server, tokens["viewer_a"], "mutation($a: String!) { runCypher(accountId: $a, query: \"CREATE (n:X)\") { rows } }",
              {"a": a}).json()
    assert bad["errors"] and "read-only" in bad["errors"][0]["message"]


def test_roles(server: str, tenants: Any) -> None:
    a, b, tokens = tenants
    resp = gql(server, tokens["viewer_a"], "mutation($a: String!) { startScan(accountId: $a) { scanId } }", {"a": a}).json()
    assert "operator" in resp["errors"][0]["message"]
    resp = gql(server, tokens["operator_a"], 'mutation($a: String!) { setPlan(accountId: $a, model: "free") { model } }',
               {"a": a}).json()
    assert "admin" in resp["errors"][0]["message"]
    ok = data(gql(server, tokens["admin_b"], 'mutation($b: String!) { setPlan(accountId: $b, model: "payg", cspm: true) { model cspm } }',
                  {"b": b}))
    assert ok["setPlan"] == {"model": "payg", "cspm": True}


def test_attack_paths_and_remediation_plan(server: str, tenants: Any) -> None:
    a, _, tokens = tenants
    doc = data(gql(server, tokens["viewer_a"], """query($a: String!) { account(id: $a) {
        attackPaths(first: 100) { totalCount edges { node { entry { id } target { id } nodes { type id label }
          edges { source target type detail } } } }
        chokePoints { edges { node { pathsCut change } } }
        remediationPlan(checkId: "ACS_OSS_BucketPublicAcl", assetId: "acme-public-assets") { requests { action } } } }""",
                    {"a": a}))
    paths = [e["node"] for e in doc["account"]["attackPaths"]["edges"]]
    assert len(paths) == doc["account"]["attackPaths"]["totalCount"] == 35
    assert all(len(p["edges"]) == len(p["nodes"]) - 1 for p in paths)
    assert all([e["source"] for e in p["edges"]] == [n["id"] for n in p["nodes"][:-1]] for p in paths)
    assert doc["account"]["remediationPlan"]["requests"][0]["action"] == "PutBucketAcl"


def test_assets_are_paged_with_cursors(server: str, tenants: Any) -> None:
    a, _, tokens = tenants
    seen: list[str] = []
    after = None
    for _ in range(50):
        page = data(gql(server, tokens["viewer_a"], """query($a: String!, $after: String) { account(id: $a) {
            assets(first: 10, after: $after) { edges { node { id type } } pageInfo { hasNextPage endCursor } } } }""",
                        {"a": a, "after": after}))["account"]["assets"]
        seen += [e["node"]["type"] + "/" + e["node"]["id"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen)) > 50


class CountingDriver:
    """The real driver, counting every query sent through it (execute_query and session runs)."""

    def __init__(self, inner: Driver):
        self.inner = inner
        self.queries = 0

    def execute_query(self, *args: Any, **kwargs: Any) -> Any:
        self.queries += 1
        return self.inner.execute_query(*args, **kwargs)

    def session(self, *args: Any, **kwargs: Any) -> Any:
        counter, session = self, self.inner.session(*args, **kwargs)

        class CountingSession:
            def __enter__(self) -> CountingSession:
                session.__enter__()
                return self

            def __exit__(self, *exc: Any) -> Any:
                return session.__exit__(*exc)

            def run(self, *a: Any, **k: Any) -> Any:
                counter.queries += 1
                return session.run(*a, **k)

            def execute_read(self, work: Any, *a: Any, **k: Any) -> Any:
                counter.queries += 1
                return session.execute_read(work, *a, **k)

        return CountingSession()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_no_n_plus_one(neo4j_driver: Driver, tenants: Any) -> None:
    """Asset findings resolve through one DataLoader batch, whatever the page size (counted at the driver)."""
    import asyncio

    from backend.api import VERSIONS, Context, schema
    from backend.auth import authenticate
    from backend.entitlements import PlanBiller
    from checks.catalog import CATALOG
    from checks.scan import run_items

    a, _, tokens = tenants
    billing.set_plan(neo4j_driver, a, model="payg", edition="ultimate", cspm=True)
    run_items(neo4j_driver, a, CATALOG, PlanBiller(billing.load_plan(neo4j_driver, a)))  # findings to load
    identity = authenticate(neo4j_driver, tokens["viewer_a"])

    def count(n: int) -> tuple[int, int]:
        VERSIONS.values.clear()  # the same work for both page sizes: no cached account row
        driver = CountingDriver(neo4j_driver)
        result = asyncio.run(schema.execute(
            "query($a: String!, $n: Int) { account(id: $a) { assets(first: $n) { edges { node { findings { edges { node { status } } } } } } } }",
            variable_values={"a": a, "n": n}, context_value=Context(driver, identity)))
        assert result.errors is None, result.errors
        edges = result.data["account"]["assets"]["edges"]
        assert len(edges) == n
        return driver.queries, sum(len(e["node"]["findings"]["edges"]) for e in edges)

    (few, _), (many, found) = count(5), count(60)
    assert few == many <= 3, (few, many)  # account row, asset page, one findings batch
    assert found > 0  # the batch really loaded findings


def test_depth_limit(server: str, tenants: Any) -> None:
    a, _, tokens = tenants
    deep = "{ accounts { id " + "".join("assets { edges { node { id " for _ in range(5)) + "}}}" * 5 + " } }"
    resp = gql(server, tokens["viewer_a"], deep)
    assert resp.status_code in (200, 400) and resp.json().get("errors")


def test_agent_upload(server: str, tenants: Any, neo4j_driver: Driver) -> None:
    a, _, tokens = tenants
    report = {"host_id": "i-uploaded000000001", "hostname": "up", "sshd": {"PermitRootLogin": "yes"}}
    resp = httpx.post(f"{server}/api/v1/agent/report", json=report, headers={"Authorization": f"Bearer {tokens['agent_a']}"})
    assert resp.status_code == 200, resp.text
    bad = httpx.post(f"{server}/api/v1/agent/report", content=b"{nope", headers={"Authorization": f"Bearer {tokens['agent_a']}"})
    assert bad.status_code == 400
    invalid = httpx.post(f"{server}/api/v1/agent/report", json={"hostname": "no id"},
                         headers={"Authorization": f"Bearer {tokens['agent_a']}"})
    assert invalid.status_code == 422 and "host_id" in invalid.text
    big = httpx.post(f"{server}/api/v1/agent/report", content=b"x" * (6 * 1024 * 1024),
                     headers={"Authorization": f"Bearer {tokens['agent_a']}"})
    assert big.status_code == 413
    assert httpx.post(f"{server}/api/v1/agent/report", json=report).status_code == 401
    hosts = neo4j_driver.execute_query("MATCH (h:Host {account_id: $a}) RETURN count(h) AS c", a=a).records[0]["c"]
    assert hosts == 4
    stale = neo4j_driver.execute_query("MATCH (n {account_id: $a}) WHERE n._stale RETURN count(n) AS c", a=a).records
    assert stale[0]["c"] == 0  # an upload is a partial sync: the rest of the account is still current


FIELDS = ["accounts { edges { node { id } } }", "checkItems { id }", "packages", "account(id: $id) { id }",
          "account(id: $id) { findings(first: 3) { totalCount } }", "account(id: $id) { assets(first: 2) { edges { cursor } } }",
          "account(id: $id) { attackPaths(first: 2) { totalCount } chokePoints(first: 2) { edges { node { change } } } }",
          "account(id: $id) { billing { model quotaUsed } ledger(first: 2) { pageInfo { endCursor } } "
          "scans(first: 2) { edges { node { id } } } }",
          'account(id: $id) { complianceReport(package: "MLPS_2_0_L3") { passRate } }']
MUTATIONS = [
    "startScan(accountId: $id, checkIds: [$s], runAsync: false) { status }",
    "startScan(accountId: $id, package: $s, runAsync: false) { status }",
    "verify(accountId: $id, checkId: $s, assetId: $t) { status }",
    "whitelist(accountId: $id, checkId: $s, assetId: $t, reason: $t) { checkId }",
    "remediate(accountId: $id, checkId: $s, assetId: $t) { checkId }",
    "runCypher(accountId: $id, query: $t) { columns }",
]


def _clear_error_or_data(resp: httpx.Response) -> None:
    assert resp.status_code < 500, resp.text
    assert "Traceback" not in resp.text
    if resp.headers.get("content-type", "").startswith("application/json"):
        body = resp.json()
        assert "data" in body or "errors" in body or "detail" in body, body
        for error in body.get("errors") or []:
            assert isinstance(error.get("message"), str) and error["message"], error
    else:  # e.g. an empty query: a 400 that says what is wrong
        assert resp.status_code == 400 and resp.text


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    mutation=st.sampled_from(MUTATIONS),
    check=st.one_of(st.sampled_from(["ACS_OSS_BucketPublicAcl", "MLPS_2_0_L3", "HOST_SSH_MaxAuthTries"]),
                    st.text(max_size=40)),
    text=st.one_of(st.sampled_from(["acme-public-assets", "MATCH (n) RETURN n", "CREATE (n) RETURN n",
                                    "MATCH (b:OssBucket {account_id: $account_id}) RETURN b.id"]), st.text(max_size=60)),
)
def test_fuzzed_mutations_never_500(server: str, tenants: Any, mutation: str, check: str, text: str) -> None:
    a, _, tokens = tenants
    resp = gql(server, tokens["operator_a"], f"mutation($id: String!, $s: String!, $t: String!) {{ {mutation} }}",
               {"id": a, "s": check, "t": text})
    _clear_error_or_data(resp)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.one_of(st.binary(max_size=200), st.text(max_size=200).map(str.encode),
                      st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=10),
                                   lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
                                       st.sampled_from(["query", "variables", "operationName", "x"]), inner, max_size=3),
                                   max_leaves=8).map(lambda doc: json.dumps(doc).encode())))
def test_fuzzed_request_bodies_never_500(server: str, tenants: Any, body: bytes) -> None:
    _, _, tokens = tenants
    resp = httpx.post(f"{server}/graphql", content=body, timeout=60,
                      headers={"Authorization": f"Bearer {tokens['viewer_a']}", "Content-Type": "application/json"})
    assert resp.status_code < 500, resp.text
    assert "Traceback" not in resp.text


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    field=st.sampled_from(FIELDS),
    noise=st.text(alphabet='{}()[]:$!@#"\\ abcXYZ019\n', max_size=30),
    first=st.integers(min_value=-5, max_value=100_000),
    cursor=st.text(max_size=20),
    mode=st.integers(min_value=0, max_value=3),
)
def test_fuzzed_queries_never_500(server: str, tenants: Any, field: str, noise: str, first: int, cursor: str, mode: int) -> None:
    a, _, tokens = tenants
    queries = [
        f"query($id: String!) {{ {field} }}",
        f"query($id: String!) {{ {field} {noise} }}",
        "query($id: String!, $n: Int, $c: String) { account(id: $id) { assets(first: $n, after: $c) { edges { cursor } } } }",
        noise,
    ]
    variables = {"id": a, "n": first, "c": cursor}
    _clear_error_or_data(gql(server, tokens["viewer_a"], queries[mode], variables))


def test_store_tokens_hashed(neo4j_driver: Driver, tenants: Any) -> None:
    _, _, tokens = tenants
    stored = neo4j_driver.execute_query("MATCH (t:ApiToken) RETURN t.hash AS h").records
    hashes = {r["h"] for r in stored}
    assert tokens["viewer_a"] not in hashes and all(len(h) == 64 for h in hashes)


def test_web_console_is_served(server: str) -> None:
    """The single-page console (frontend/, built by `make console`) and its bundle come from this server."""
    import re

    html = httpx.get(f"{server}/").text
    scripts = re.findall(r'<script[^>]+src="(/assets/[^"]+\.js)"', html)
    assert scripts, html
    bundle = httpx.get(f"{server}{scripts[0]}")
    assert bundle.status_code == 200 and "javascript" in bundle.headers["content-type"]
    assert "runCypher" in bundle.text and "attackPaths" in bundle.text


Path  # noqa: B018 - keep the import for type checkers


def test_cached_pages_never_hide_a_write_nor_cross_tenants(neo4j_driver: Driver, server: str, tenants: Any,
                                                           tmp_path: Path) -> None:
    import random

    _, b, _ = tenants
    a = str(random.randint(10**15, 10**16 - 1))  # an account of its own: other tests whitelist and change plans
    ingest_snapshot(neo4j_driver, write_sample(tmp_path, a))
    billing.set_plan(neo4j_driver, a, model="payg", edition="ultimate", cspm=True)
    tokens = {role: create_token(neo4j_driver, role.split("_")[0], [a])["token"] for role in ("viewer_a", "operator_a")}
    page = ("query($a: String!) { account(id: $a) { findings(checkId: \"ACS_OSS_BucketPublicAcl\", first: 10) "
            "{ edges { node { assetId status } } } } }")

    def statuses(token: str, account: str) -> tuple[dict[str, str], str]:
        resp = gql(server, token, page, {"a": account})
        rows = data(resp)["account"]
        return ({e["node"]["assetId"]: e["node"]["status"] for e in rows["findings"]["edges"]} if rows else {},
                resp.headers.get("x-skypath-cache", ""))

    scan = "mutation($a: String!) { startScan(accountId: $a, checkIds: [\"ACS_OSS_BucketPublicAcl\"], runAsync: false) { status } }"
    data(gql(server, tokens["operator_a"], scan, {"a": a}))
    verifying = gql(server, tokens["viewer_a"], "{ packages }")  # a token's first request verifies it (never cached)
    data(verifying)
    assert verifying.headers.get("x-skypath-cache") == "bypass" and verifying.headers.get("x-skypath-worker")
    first, _ = statuses(tokens["viewer_a"], a)
    again, how = statuses(tokens["viewer_a"], a)
    assert again == first and first["acme-public-assets"] == "NOT_PASS" and how == "hit"
    whitelist = ("mutation($a: String!) { whitelist(accountId: $a, checkId: \"ACS_OSS_BucketPublicAcl\", "
                 "assetId: \"acme-public-assets\", reason: \"public by design\") { checkId } }")
    data(gql(server, tokens["operator_a"], whitelist, {"a": a}))
    data(gql(server, tokens["operator_a"], scan, {"a": a}))
    after, how = statuses(tokens["viewer_a"], a)
    assert after["acme-public-assets"] == "WHITELIST" and how == "miss"  # the write is visible at once
    assert statuses(tokens["viewer_a"], b)[0] == {}  # the same page for another tenant: not served from A's entry
    delete_account(neo4j_driver, a)


def test_scan_results_risk_filter_and_bounded_paths(neo4j_driver: Driver, server: str, tenants: Any) -> None:
    a, _, tokens = tenants
    billing.set_plan(neo4j_driver, a, model="payg", edition="ultimate", cspm=True)
    scan = data(gql(server, tokens["operator_a"], 'mutation($a: String!) { startScan(accountId: $a, checkIds: '
                    '["ACS_OSS_BucketPublicAcl", "ACS_OSS_BucketLogging"], runAsync: false) { scanId } }', {"a": a}))
    scan_id = scan["startScan"]["scanId"]
    page = "query($a: String!, $id: String!, $c: String) { scan(accountId: $a, id: $id) { results(first: 3, after: $c) " \
           "{ edges { node { checkId assetId status } } pageInfo { hasNextPage endCursor } } } }"
    seen: list[tuple[str, str]] = []
    cursor = None
    while True:
        results = data(gql(server, tokens["viewer_a"], page, {"a": a, "id": scan_id, "c": cursor}))["scan"]["results"]
        seen += [(e["node"]["checkId"], e["node"]["assetId"]) for e in results["edges"]]
        if not results["pageInfo"]["hasNextPage"]:
            break
        cursor = results["pageInfo"]["endCursor"]
    assert len(seen) == 10 and seen == sorted(seen) and len(set(seen)) == 10  # 2 items × 5 buckets, each once
    risky = data(gql(server, tokens["viewer_a"], 'query($a: String!) { account(id: $a) { assets(risk: CRITICAL, '
                     'type: "OssBucket", first: 50) { edges { node { id } } } } }', {"a": a}))
    critical_ids = {e["node"]["id"] for e in risky["account"]["assets"]["edges"]}
    all_buckets = data(gql(server, tokens["viewer_a"], 'query($a: String!) { account(id: $a) { assets(type: "OssBucket") '
                           '{ edges { node { id } } } } }', {"a": a}))["account"]["assets"]["edges"]
    assert critical_ids < {e["node"]["id"] for e in all_buckets}
    bad = gql(server, tokens["viewer_a"], 'query($a: String!) { account(id: $a) { assets(risk: SEVERE) { edges { cursor } } } }',
              {"a": a}).json()
    assert bad["errors"] and "Severity" in bad["errors"][0]["message"]
    paths = data(gql(server, tokens["viewer_a"], "query($a: String!) { account(id: $a) { attackPaths(first: 5) { totalCount "
                     "edges { node { id } } } } }", {"a": a}))["account"]["attackPaths"]
    assert paths["totalCount"] > 5 and len(paths["edges"]) == 5
    huge = gql(server, tokens["viewer_a"], "query($a: String!) { account(id: $a) { attackPaths(first: 100000) "
               "{ edges { node { id } } } } }", {"a": a}).json()
    assert huge["errors"] and "first must be between" in huge["errors"][0]["message"]


def test_custom_items_policies_and_whitelist_removal_through_the_api(neo4j_driver: Driver, server: str,
                                                                     tenants: Any) -> None:
    a, _, tokens = tenants
    billing.set_plan(neo4j_driver, a, model="payg", edition="ultimate", cspm=True)
    admin = create_token(neo4j_driver, "admin", [a])["token"]
    add = ("mutation($a: String!, $q: String!) { addCustomCheck(accountId: $a, checkId: \"ACS_CUSTOM_PublicNamed\", "
           "title: \"public-named buckets\", assetType: \"OssBucket\", severity: HIGH, query: $q) { id } }")
    good = "MATCH (b:OssBucket {account_id: $account_id}) WHERE b.id CONTAINS 'public' RETURN b.id AS asset_id"
    data(gql(server, admin, add, {"a": a, "q": good}))
    for bad in ("MATCH (b:OssBucket) RETURN b.id AS asset_id", "MATCH (b {account_id: $account_id}) SET b.x = 1 "
                "RETURN b.id AS asset_id"):
        refused = gql(server, admin, add, {"a": a, "q": bad}).json()
        assert refused["errors"] and "refused" in refused["errors"][0]["message"], refused
    assert gql(server, tokens["operator_a"], add, {"a": a, "q": good}).json()["errors"]  # admin only
    data(gql(server, tokens["operator_a"], 'mutation($a: String!) { savePolicy(accountId: $a, name: "weekly", '
             'checkIds: ["ACS_CUSTOM_PublicNamed", "ACS_OSS_BucketPublicAcl"]) { name } }', {"a": a}))
    ran = data(gql(server, tokens["operator_a"], 'mutation($a: String!) { startScan(accountId: $a, policy: "weekly", '
                   'runAsync: false) { results(first: 100) { edges { node { checkId assetId status severity } } } } }',
                   {"a": a}))["startScan"]["results"]["edges"]
    ran = [e["node"] for e in ran]
    assert {r["checkId"] for r in ran} == {"ACS_CUSTOM_PublicNamed", "ACS_OSS_BucketPublicAcl"}
    custom = {r["assetId"]: r for r in ran if r["checkId"] == "ACS_CUSTOM_PublicNamed"}
    assert custom["acme-public-assets"]["status"] == "NOT_PASS" and custom["acme-logs"]["status"] == "PASS"
    found = data(gql(server, tokens["viewer_a"], 'query($a: String!) { account(id: $a) { findings(checkId: '
                     '"ACS_CUSTOM_PublicNamed", first: 10) { edges { node { assetType severity } } } } }', {"a": a}))
    assert {(e["node"]["assetType"], e["node"]["severity"]) for e in found["account"]["findings"]["edges"]} == {
        ("OssBucket", "HIGH")}
    pair = 'accountId: $a, checkId: "ACS_CUSTOM_PublicNamed", assetId: "acme-public-assets"'
    data(gql(server, tokens["operator_a"], f'mutation($a: String!) {{ whitelist({pair}, reason: "by design") {{ checkId }} }}',
             {"a": a}))
    assert data(gql(server, tokens["operator_a"], f"mutation($a: String!) {{ removeWhitelist({pair}) }}", {"a": a}))[
        "removeWhitelist"] is True
    assert data(gql(server, tokens["operator_a"], f"mutation($a: String!) {{ removeWhitelist({pair}) }}", {"a": a}))[
        "removeWhitelist"] is False
    neo4j_driver.execute_query("MATCH (c:CustomCheck {account_id: $a}) DETACH DELETE c", a=a)


def test_compliance_report_is_the_cli_document(server: str, tenants: Any) -> None:
    from tests.helpers.cli import run_json

    a, _, tokens = tenants
    done = data(gql(server, tokens["operator_a"], "mutation($a: String!) { startScan(accountId: $a, runAsync: false) "
                    "{ scanId status } }", {"a": a}))
    assert done["startScan"]["status"] == "COMPLETED"
    for package in ("CIS_ALIBABA_CLOUD_2_0", "MLPS_2_0_L3"):
        doc = data(gql(server, tokens["viewer_a"], """query($id: String!, $p: String!) { account(id: $id) {
            complianceReport(package: $p) { package passRate itemCount summary { requirements counts { fail pass } }
              sections { id counts { total } requirements(first: 500) { edges { node { id status
                results { pass notPass passRate } items { checkId results { pass notPass } } } } } } } } }""",
                       {"id": a, "p": package}))["account"]["complianceReport"]
        cli = run_json("compliance", "--account", a, "--package", package)
        assert (doc["package"], doc["passRate"], doc["itemCount"]) == (cli["package"], cli["pass_rate"], cli["items"])
        assert doc["summary"]["counts"] == {"fail": cli["summary"]["fail"], "pass": cli["summary"]["pass"]}
        assert [s["id"] for s in doc["sections"]] == [s["id"] for s in cli["sections"]]
        for typed, plain in zip(doc["sections"], cli["sections"], strict=True):
            reqs = [e["node"] for e in typed["requirements"]["edges"]]
            assert [(r["id"], r["status"].lower(), r["results"]["pass"], r["results"]["notPass"]) for r in reqs] == [
                (r["id"], r["status"], r["pass"], r["not_pass"]) for r in plain["requirements"]]


def test_paths_filters_choke_fixes_and_record_paging(neo4j_driver: Driver, server: str, tenants: Any) -> None:
    """attackPaths filters (entry, target, through, severity) agree with the unfiltered list; choke points carry
    their fix; ledger and auditLog page with cursors, a bad cursor is a clear error."""
    a, _, tokens = tenants
    viewer = tokens["viewer_a"]
    data(gql(server, tokens["operator_a"], "mutation($a: String!) { startScan(accountId: $a, runAsync: false) { status } }",
             {"a": a}))  # findings for the choke points' fixes
    every = data(gql(server, viewer, """query($a: String!) { account(id: $a) { attackPaths(first: 500) { totalCount
        edges { node { id severity entry { id } target { id } nodes { id } } } } } }""", {"a": a}))
    paths = [e["node"] for e in every["account"]["attackPaths"]["edges"]]
    ranks = [["CRITICAL", "HIGH", "MEDIUM", "LOW"].index(p["severity"]) for p in paths]
    assert ranks == sorted(ranks)  # worst first

    def ids(**filters: Any) -> set[str]:
        args = ", ".join(f"{k}: {v}" for k, v in filters.items())
        doc = data(gql(server, viewer, f"query($a: String!) {{ account(id: $a) {{ attackPaths(first: 500, {args}) "
                       "{ totalCount edges { node { id } } } } }", {"a": a}))["account"]["attackPaths"]
        assert doc["totalCount"] == len(doc["edges"])
        return {e["node"]["id"] for e in doc["edges"]}

    bastion = "i-bp1bastion0000001"
    assert ids(entry=f'"{bastion}"') == {p["id"] for p in paths if p["entry"]["id"] == bastion} != set()
    assert ids(target='"acme-prod-data"') == {p["id"] for p in paths if p["target"]["id"] == "acme-prod-data"} != set()
    role = next(n["id"] for p in paths for n in p["nodes"] if ":role/" in n["id"])
    assert ids(through=f'"{role}"') == {p["id"] for p in paths if role in [n["id"] for n in p["nodes"]]} != set()
    assert ids(severity="[MEDIUM]") == {p["id"] for p in paths if p["severity"] == "MEDIUM"} != set()

    chokes = data(gql(server, viewer, """query($a: String!) { account(id: $a) { chokePoints(first: 50) { edges { node {
        change cuts { type source target } fix { checkId assetId automated command item { title remediation } } } } } } }""",
                      {"a": a}))["account"]["chokePoints"]["edges"]
    fixes = [c["node"]["fix"] for c in chokes if c["node"]["fix"]]
    assert fixes and all(f["command"].startswith(f"skypath remediate --account {a} --check {f['checkId']}")
                         and f["item"]["title"] for f in fixes)

    operator = tokens["operator_a"]
    for field in ("ledger", "auditLog"):
        seen: list[str] = []
        after = None
        for _ in range(20):
            page = data(gql(server, operator, f"query($a: String!, $c: String) {{ account(id: $a) {{ {field}(first: 3, "
                            "after: $c) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { at } } } } }",
                            {"a": a, "c": after}))["account"][field]
            seen += [e["cursor"] for e in page["edges"]]
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
        assert len(seen) == len(set(seen)) and (len(seen) == page["totalCount"] or len(seen) >= 60), field
        bad = gql(server, operator, f'query($a: String!) {{ account(id: $a) {{ {field}(after: "nope") {{ totalCount }} }} }}',
                  {"a": a}).json()
        assert bad["errors"] and f"invalid cursor for {field}" in bad["errors"][0]["message"]
    assert "operator" in gql(server, viewer, "query($a: String!) { account(id: $a) { auditLog { totalCount } } }",
                             {"a": a}).json()["errors"][0]["message"]


def test_graphiql_is_served_from_local_files_with_a_token_field(server: str) -> None:
    """An air-gapped browser: the page needs no token header to open, loads nothing from outside, and its
    assets are served here."""
    import re

    page = httpx.get(f"{server}/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200 and 'id="token"' in page.text and "Authorization" in page.text
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources and all(s.startswith("/graphiql/") for s in sources), sources
    for source in sources:
        asset = httpx.get(f"{server}{source}")
        assert asset.status_code == 200 and len(asset.content) > 1000, source
        assert asset.headers["content-type"].startswith(("text/javascript", "text/css")), source
    assert httpx.get(f"{server}/graphiql/../api.py").status_code == 404
    assert httpx.get(f"{server}/graphql", params={"query": "{ packages }"},
                     headers={"Accept": "text/html"}).status_code == 401  # a query still needs the token
