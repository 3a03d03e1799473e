"""The web console in a real browser: Playwright drives Debian's headless chromium against the real API server
(a `skypath serve` subprocess) and the real Neo4j loaded with the sample account.

Every test fails on a console error, an uncaught page error, a failed request, a response >= 400 or a request
to a non-local host. Screenshots of every screen (1440x900) go to test-artifacts/browser/.
"""

from __future__ import annotations

import json
import math
import os
import random
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx
import pytest
from neo4j import Driver
from playwright.sync_api import Browser, Page, expect, sync_playwright

from backend import billing
from backend.api import CONSOLE_DIR
from backend.auth import create_token
from backend.ingest import ingest_snapshot
from graph_schema.store import delete_account
from tests.helpers.sample import write_sample

CHROMIUM = "/usr/bin/chromium"  # Debian's package (`make browser`); Playwright cannot download browsers here
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
FIX = ("ACS_OSS_BucketPublicAcl", "acme-public-assets")  # a failing finding of the sample with an API fix


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def tenant(neo4j_driver: Driver, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    account = str(random.randint(10**15, 10**16 - 1))
    ingest_snapshot(neo4j_driver, write_sample(tmp_path_factory.mktemp("console"), account))
    billing.set_plan(neo4j_driver, account, model="payg", edition="ultimate", cspm=True)
    tokens = {role: create_token(neo4j_driver, role, [account])["token"] for role in ("viewer", "operator", "admin")}
    yield {"account": account, "tokens": tokens}
    delete_account(neo4j_driver, account)


@pytest.fixture(scope="module")
def server(tenant: dict[str, Any]) -> Iterator[str]:
    """`skypath serve` as a subprocess (the shipped entry point), with the account scanned through the API."""
    assert (CONSOLE_DIR / "index.html").is_file(), "the console is not built: run `make console`"
    port = _free_port()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log = open(ARTIFACTS / "server.log", "w")  # closed in the finally below
    proc = subprocess.Popen([str(Path(sys.executable).parent / "skypath"), "serve", "--port", str(port)],
                            stdout=log, stderr=subprocess.STDOUT, env=os.environ.copy())
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, "skypath serve did not start"
            time.sleep(0.2)
        api(url, tenant["tokens"]["admin"], "mutation($a: String!) { startScan(accountId: $a, runAsync: false) { status } }",
            {"a": tenant["account"]})
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()


def api(url: str, token: str, query: str, variables: dict[str, Any] | None = None, ok: bool = True) -> Any:
    resp = httpx.post(f"{url}/graphql", json={"query": query, "variables": variables or {}},
                      headers={"Authorization": f"Bearer {token}"}, timeout=120)
    assert resp.status_code == 200, resp.text
    doc = resp.json()
    if ok:
        assert not doc.get("errors"), doc["errors"]
        return doc["data"]
    return doc


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), "Debian's chromium is missing: run `make browser`"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"], headless=True)
        yield b
        b.close()


@dataclass
class Console:
    """One browser tab on the console, recording everything that went wrong in it."""

    page: Page
    url: str
    problems: list[str] = field(default_factory=list)

    def login(self, token: str) -> None:
        if self.page.url.startswith(self.url):
            self.settle()
        self.page.goto(f"{self.url}/")
        token_input = self.page.get_by_label("API token")
        expect(token_input).to_have_attribute("type", "password")  # masked
        token_input.fill(token)
        self.page.get_by_role("button", name="Log in").click()
        expect(self.page.get_by_role("navigation", name="screens")).to_be_visible()

    def open(self, route: str) -> None:
        self.settle()
        self.page.goto(f"{self.url}/#/{route}")

    def reload(self) -> None:
        self.settle()
        self.page.reload()

    def settle(self) -> None:
        """Let the screen's requests finish: a reload would abort them (a failed request the app did not cause)."""
        self.page.wait_for_function("() => (document.body.dataset.pending || '0') === '0'")

    def shot(self, name: str) -> None:
        self.settle()
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

    def assert_clean(self) -> None:
        assert self.problems == [], self.problems


@pytest.fixture
def console(browser: Browser, server: str) -> Iterator[Console]:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    c = Console(page, server)

    def on_request(request: Any) -> None:
        parsed = urlparse(request.url)
        if parsed.scheme in ("http", "https", "ws", "wss") and parsed.hostname not in LOCAL_HOSTS:
            c.problems.append(f"request to a non-local host: {request.url}")

    page.on("console", lambda m: c.problems.append(f"console {m.type}: {m.text}") if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: c.problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: c.problems.append(f"request failed: {r.url} {r.failure}"))
    page.on("response", lambda r: c.problems.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)
    page.on("request", on_request)
    yield c
    context.close()


def test_log_in_and_the_overview_numbers_equal_the_api(console: Console, tenant: dict[str, Any], server: str) -> None:
    account, token = tenant["account"], tenant["tokens"]["viewer"]
    console.login(token)
    assert console.page.evaluate("() => sessionStorage.getItem('skypath.token')") == token
    assert console.page.evaluate("() => localStorage.length") == 0  # the token lives in this tab only
    page = console.page
    expect(page.get_by_test_id("failing-total")).to_be_visible()
    totals = api(server, token, """query($a: String!) { account(id: $a) {
        all: findings(status: [NOT_PASS], first: 1) { totalCount }
        critical: findings(status: [NOT_PASS], severity: [CRITICAL], first: 1) { totalCount }
        high: findings(status: [NOT_PASS], severity: [HIGH], first: 1) { totalCount }
        medium: findings(status: [NOT_PASS], severity: [MEDIUM], first: 1) { totalCount }
        low: findings(status: [NOT_PASS], severity: [LOW], first: 1) { totalCount }
        billing { quotaUsed } scans(first: 5) { edges { node { id } } } }
      findingsSummary(accountId: $a) { byProduct { key count } byRegion { key count } } packages }""",
                 {"a": account})
    acct = totals["account"]
    assert acct["all"]["totalCount"] > 0
    expect(page.get_by_test_id("failing-total")).to_have_text(str(acct["all"]["totalCount"]))
    for sev in ("critical", "high", "medium", "low"):
        expect(page.get_by_test_id(f"by-severity-{sev}")).to_have_text(str(acct[sev]["totalCount"]))
    for facet, testid in (("byProduct", "by-product"), ("byRegion", "by-region")):
        for c in totals["findingsSummary"][facet]:
            expect(page.get_by_test_id(f"{testid}-{c['key']}")).to_have_text(str(c["count"]))
    assert sum(c["count"] for c in totals["findingsSummary"]["byProduct"]) == acct["all"]["totalCount"]
    expect(page.get_by_test_id("quota-used")).to_have_text(str(acct["billing"]["quotaUsed"]))
    for pkg in totals["packages"]:
        rate = api(server, token, "query($a: String!, $p: String!) { account(id: $a) { complianceReport(package: $p) { "
                   "passRate } } }", {"a": account, "p": pkg})["account"]["complianceReport"]["passRate"]
        expected = "n/a" if rate is None else f"{math.floor(rate * 1000 + 0.5) / 10:g}%"  # JS Math.round
        expect(page.get_by_test_id(f"rate-{pkg}")).to_have_text(expected)
    expect(page.get_by_test_id("recent-scans").locator("tbody tr")).to_have_count(len(acct["scans"]["edges"]))
    console.reload()  # the session and the screen survive a reload
    expect(page.get_by_test_id("failing-total")).to_have_text(str(acct["all"]["totalCount"]))
    console.assert_clean()


def test_top_attack_path_drawn_and_choke_point_what_if(console: Console, tenant: dict[str, Any], server: str) -> None:
    account, token = tenant["account"], tenant["tokens"]["viewer"]
    console.login(token)
    console.open("paths")
    page = console.page
    top_page = api(server, token, """query($a: String!) { account(id: $a) { attackPaths(first: 1) { totalCount
        edges { node { id nodes { type id } } } } } }""", {"a": account})["account"]["attackPaths"]
    top = {"totalCount": top_page["totalCount"], "nodes": [e["node"] for e in top_page["edges"]]}
    assert top["totalCount"] > 0
    rows = page.get_by_test_id("paths-table").locator("tbody tr")
    expect(rows).to_have_count(min(25, top["totalCount"]))
    rows.first.click()
    expect(page).to_have_url(f"{server}/#/paths?path={top['nodes'][0]['id']}")
    drawn = lambda: page.evaluate("() => window.__cy.paths.nodes().map(n => n.id()).sort()")  # noqa: E731
    expected_nodes = sorted(f"{n['type']}:{n['id']}" for n in top["nodes"][0]["nodes"])
    page.wait_for_function("n => window.__cy && window.__cy.paths && window.__cy.paths.nodes().length === n",
                           arg=len(expected_nodes))
    assert drawn() == expected_nodes
    assert page.evaluate("() => window.__cy.paths.edges().length") == len(expected_nodes) - 1

    # click the choke point where it is drawn (a real mouse click on the canvas)
    at = page.evaluate("""() => { const cy = window.__cy.paths; const n = cy.nodes('.choke')[0];
        const box = cy.container().getBoundingClientRect(); const p = n.renderedPosition();
        return {x: box.left + p.x, y: box.top + p.y, id: n.id()}; }""")
    page.mouse.click(at["x"], at["y"])
    expect(page.get_by_test_id("choke-note")).to_be_visible()
    node_type, _, node_id = at["id"].partition(":")
    chokes = _choke_points(server, token, account)
    choke = next(c for c in chokes if (c["type"], c["id"]) == (node_type, node_id))
    expect(page.get_by_test_id("choke-note")).to_contain_text(f"cuts {choke['pathsCut']} paths")
    page.get_by_test_id("choke-note").get_by_test_id("whatif-toggle").click()
    what = _what_if(server, token, account, choke["whatIf"])
    assert what["pathsRemoved"] > 0
    expect(page.get_by_test_id("whatif-removed")).to_have_text(str(what["pathsRemoved"]))
    expect(page.get_by_test_id("whatif-cut").locator("li")).to_have_count(min(30, len(what["removedPairs"])))
    listed = api(server, token, """query($a: String!) { account(id: $a) { attackPaths(first: 25) { edges { node { id
        entry { id } target { id } } } } } }""", {"a": account})["account"]["attackPaths"]["edges"]
    cut_ids = [e["node"]["id"] for e in listed if (e["node"]["entry"]["id"], e["node"]["target"]["id"]) in what["removedPairs"]]
    assert top["nodes"][0]["id"] in cut_ids  # the drawn path is one the change cuts
    expect(page.get_by_test_id("cut-badge")).to_have_count(len(cut_ids))
    expect(page.locator(f"tr[data-row='{top['nodes'][0]['id']}']").get_by_test_id("cut-badge")).to_be_visible()
    assert page.evaluate("() => window.__cy.paths.elements('.cut').length") > 0
    assert "whatif=" in page.url
    console.reload()  # the selection, the node and the what-if are in the URL
    expect(page.get_by_test_id("whatif-removed")).to_have_text(str(what["pathsRemoved"]))
    console.assert_clean()


def _choke_points(server: str, token: str, account: str) -> list[dict[str, Any]]:
    doc = api(server, token, """query($a: String!) { account(id: $a) { chokePoints(first: 50) { edges { node {
        type id pathsCut whatIf } } } } }""", {"a": account})
    return [e["node"] for e in doc["account"]["chokePoints"]["edges"]]


def _what_if(server: str, token: str, account: str, change: str) -> dict[str, Any]:
    doc = api(server, token, """query($a: String!, $w: [String!]!) { account(id: $a) { whatIf(changes: $w) {
        pathsRemoved removedPairs(first: 500) { edges { node { entry target } } } } } }""", {"a": account, "w": [change]})
    what = doc["account"]["whatIf"]
    return {"pathsRemoved": what["pathsRemoved"],
            "removedPairs": [(e["node"]["entry"], e["node"]["target"]) for e in what["removedPairs"]["edges"]]}


def test_every_choke_points_what_if_cuts_paths(tenant: dict[str, Any], server: str) -> None:
    """The console's what-if toggle sends each choke point's `whatIf` change: every one is a valid change that cuts
    at least one (entry, target) pair."""
    account, token = tenant["account"], tenant["tokens"]["viewer"]
    chokes = _choke_points(server, token, account)
    assert {c["type"] for c in chokes} >= {"AccessKey", "SecurityGroup"}
    for c in chokes:
        assert c["whatIf"], c
        assert _what_if(server, token, account, c["whatIf"])["pathsRemoved"] >= 1, c


def test_console_reads_filter_order_and_search_on_the_server(tenant: dict[str, Any], server: str) -> None:
    """The fields behind the findings, assets and asset screens: product/region filters agree with the summary,
    an order pages by cursor without gaps or repeats, search matches id or name, an asset's neighbours."""
    account, token = tenant["account"], tenant["tokens"]["viewer"]
    summary = api(server, token, """query($a: String!) { findingsSummary(accountId: $a) { total
        byProduct { key count } byRegion { key count } } }""", {"a": account})["findingsSummary"]
    count = """query($a: String!, $p: String, $r: String) { account(id: $a) {
        findings(status: [NOT_PASS], product: $p, region: $r, first: 1) { totalCount } } }"""
    for c in summary["byProduct"]:
        got = api(server, token, count, {"a": account, "p": c["key"]})["account"]["findings"]["totalCount"]
        assert got == c["count"], c
    for c in summary["byRegion"]:
        if c["key"] != "global":
            got = api(server, token, count, {"a": account, "r": c["key"]})["account"]["findings"]["totalCount"]
            assert got == c["count"], c
    by_asset = """query($a: String!, $after: String) { account(id: $a) { findings(status: [NOT_PASS], order: ASSET,
        first: 40, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { assetId checkId } } } } }"""
    seen, after = [], None
    while True:
        conn = api(server, token, by_asset, {"a": account, "after": after})["account"]["findings"]
        seen += [(e["node"]["assetId"], e["node"]["checkId"]) for e in conn["edges"]]
        if not conn["pageInfo"]["hasNextPage"]:
            break
        after = conn["pageInfo"]["endCursor"]
    assert seen == sorted(seen) and len(seen) == len(set(seen)) == summary["total"]
    found = api(server, token, """query($a: String!) { account(id: $a) { assets(search: "WEB", first: 100) { totalCount
        edges { node { id name } } } } }""", {"a": account})["account"]["assets"]
    assert found["totalCount"] == len(found["edges"]) > 0
    assert all("web" in (e["node"]["id"] + (e["node"]["name"] or "")).lower() for e in found["edges"])
    view = api(server, token, """query($a: String!) { assetView(accountId: $a, assetId: "i-bp1web01000000001") {
        type nodes { key type } edges { source target type } } }""", {"a": account})["assetView"]
    assert view["type"] == "EcsInstance" and {"SecurityGroup", "RamRole"} <= {n["type"] for n in view["nodes"]}
    keys = {n["key"] for n in view["nodes"]}
    assert all(e["source"] in keys and e["target"] in keys for e in view["edges"])
    assert api(server, token, """query($a: String!) { assetView(accountId: $a, assetId: "i-not-there") { id } }""",
               {"a": account})["assetView"] is None
    other = str(int(account) + 1)  # another tenant's id: exactly like an account that does not exist
    for read in ('findingsSummary(accountId: $a) { total }', 'assetView(accountId: $a, assetId: "i-bp1web01000000001") { id }'):
        refused = api(server, token, f"query($a: String!) {{ {read} }}", {"a": other}, ok=False)
        assert not (refused["data"] or {}).get(read.split("(")[0]) and f"account {other} not found" in refused["errors"][0]["message"]


def test_dry_run_a_remediation(console: Console, tenant: dict[str, Any], server: str) -> None:
    account, token = tenant["account"], tenant["tokens"]["operator"]
    console.login(token)
    console.open(f"remediation?check={FIX[0]}&asset={FIX[1]}")
    page = console.page
    page.get_by_test_id("dry-run").click()
    expect(page.get_by_test_id("dry-run-done")).to_be_visible()
    expect(page.get_by_test_id("remediation-result").get_by_test_id("plan-requests").last).to_contain_text("PutBucketAcl")
    expect(page.get_by_test_id("execute")).to_have_count(0)  # executing needs the admin role
    console.reload()
    expect(page.get_by_test_id("audit")).to_contain_text("api.remediate")
    status = api(server, token, """query($a: String!, $c: String!, $x: String!) { account(id: $a) { findings(checkId: $c,
        assetId: $x) { edges { node { status } } } } }""", {"a": account, "c": FIX[0], "x": FIX[1]})
    assert status["account"]["findings"]["edges"][0]["node"]["status"] == "NOT_PASS"  # a dry run changes nothing
    console.assert_clean()


def test_whitelist_as_operator_and_not_as_viewer(console: Console, browser: Browser, tenant: dict[str, Any],
                                                 server: str, neo4j_driver: Driver) -> None:
    account = tenant["account"]
    route = f"findings?sel={FIX[0]}|{FIX[1]}"
    console.login(tenant["tokens"]["viewer"])
    console.open(route)
    page = console.page
    expect(page.get_by_test_id("plan")).to_be_visible()  # the viewer sees the plan…
    expect(page.get_by_test_id("whitelist")).to_have_count(0)  # …but no operator action
    expect(page.get_by_test_id("verify")).to_have_count(0)
    refused = api(server, tenant["tokens"]["viewer"], """mutation($a: String!, $c: String!, $x: String!) {
        whitelist(accountId: $a, checkId: $c, assetId: $x, reason: "viewer") { checkId } }""",
                  {"a": account, "c": FIX[0], "x": FIX[1]}, ok=False)
    assert "operator role" in refused["errors"][0]["message"]
    console.open("overview")
    page.get_by_role("button", name="Log out").click()

    console.login(tenant["tokens"]["operator"])
    console.open(route)
    page.get_by_label("Reason").fill("public by design: static website assets")
    page.get_by_test_id("whitelist").click()
    expect(page.get_by_test_id("whitelisted")).to_be_visible()
    rows = neo4j_driver.execute_query("MATCH (w:Whitelist {account_id: $a, check_id: $c, asset_id: $x}) RETURN w.reason AS r",
                                      a=account, c=FIX[0], x=FIX[1]).records
    assert [r["r"] for r in rows] == ["public by design: static website assets"]
    console.assert_clean()


def test_a_write_query_in_the_cypher_console_is_refused(console: Console, tenant: dict[str, Any],
                                                        neo4j_driver: Driver) -> None:
    console.login(tenant["tokens"]["admin"])
    console.open("cypher")
    page = console.page
    page.get_by_label("Read-only Cypher").fill("MATCH (n:EcsInstance {account_id: $account_id}) SET n.owned = true RETURN n")
    page.get_by_test_id("run").click()
    expect(page.get_by_test_id("cypher-error")).to_be_visible()
    expect(page.get_by_test_id("cypher-error")).to_contain_text("read")
    owned = neo4j_driver.execute_query("MATCH (n:EcsInstance {account_id: $a}) WHERE n.owned RETURN count(n) AS c",
                                       a=tenant["account"]).records[0]["c"]
    assert owned == 0
    page.get_by_label("Example queries").select_option(label="Access keys and their users")
    page.get_by_label("graph").check()
    page.get_by_test_id("run").click()
    expect(page.get_by_test_id("cypher-graph")).to_be_visible()
    page.wait_for_function("() => window.__cy && window.__cy.cypher && window.__cy.cypher.nodes().length > 0")
    console.assert_clean()


def test_keyboard_and_labels(console: Console, tenant: dict[str, Any]) -> None:
    """Every form control has a label, a finding opens from the keyboard, severity is also written out."""
    console.login(tenant["tokens"]["viewer"])
    console.open("findings")
    page = console.page
    first = page.get_by_test_id("findings-table").locator("tbody tr").first
    first.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("finding-graph")).to_be_visible()
    assert "sel=" in page.url
    badge = first.locator(".badge").first
    assert badge.inner_text().split()[-1] in ("critical", "high", "medium", "low")  # not only a colour
    for route in ("findings", "assets", "paths", "remediation", "compliance", "cypher"):
        console.open(route)
        expect(page.locator("main h1").first).to_be_visible()
        console.settle()
        unlabeled = page.evaluate("""() => [...document.querySelectorAll('input, select, textarea')]
            .filter(el => el.type !== 'hidden' && !(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
            .map(el => el.outerHTML)""")
        assert unlabeled == [], (route, unlabeled)
    console.assert_clean()


SCREENS = {
    "overview": "overview",
    "findings": f"findings?sel={FIX[0]}|{FIX[1]}",
    "assets": "assets?q=web",
    "asset": "assets?id=i-bp1web01000000001",
    "compliance": "compliance?section=1&req=1.4",
    "attack-paths": "paths",
    "remediation": f"remediation?check={FIX[0]}&asset={FIX[1]}",
    "billing": "billing",
    "cypher": "cypher?run=1&view=table",
}


def test_screenshots_of_every_screen(console: Console, tenant: dict[str, Any]) -> None:
    console.login(tenant["tokens"]["operator"])
    for name, route in SCREENS.items():
        console.open(route)
        expect(console.page.locator("main h1").first).to_be_visible()
        expect(console.page.get_by_role("status")).to_have_count(0)  # nothing still loading
        console.shot(name)
        assert (ARTIFACTS / f"{name}.png").stat().st_size > 10_000
    assert json.dumps(console.problems) == "[]", console.problems
