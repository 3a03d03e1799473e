"""Hostile or malformed input gets a clear 4xx / CLI error (no 500, no traceback) and leaves the data intact:
deep nesting, huge integers, a 10 MB identifier, loose dates, look-alike (full-width) account ids."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from neo4j import Driver

from backend import billing
from backend.auth import create_token
from tests.helpers.api_server import serve
from tests.helpers.cli import run, run_json
from tests.helpers.sample import sample_doc

FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
DEEP = "[" * 200_000
HUGE_INT = "7" * 5000


def full_width(account: str) -> str:
    return account.translate(FULL_WIDTH)


def snapshot_text(account: str, doc: dict[str, Any] | None = None) -> str:
    return json.dumps(doc or sample_doc(account))


def graph_state(driver: Driver, account: str) -> dict[str, Any]:
    """What must stay intact: every node of the account (by label) and the plan."""
    rows = driver.execute_query("MATCH (n {account_id: $a}) WHERE NOT n:AuditEntry "
                                "RETURN labels(n)[0] AS l, count(*) AS c", a=account).records
    return {"counts": {r["l"]: r["c"] for r in rows}, "plan": billing.billing_show(driver, account)["quota_total"]}


def said(proc: Any) -> str:
    """The CLI's stderr with rich's line wrapping undone."""
    return " ".join(proc.stderr.split())


def look_alike_nodes(driver: Driver, account: str) -> int:
    return int(driver.execute_query("MATCH (n) WHERE n.account_id = $a RETURN count(n) AS c",
                                    a=full_width(account)).records[0]["c"])


@pytest.fixture(scope="module")
def server(neo4j_driver: Driver) -> Iterator[str]:
    with serve(neo4j_driver) as url:
        yield url


@pytest.fixture
def loaded(cspm_account: str, neo4j_driver: Driver) -> Iterator[tuple[str, dict[str, Any]]]:
    yield cspm_account, graph_state(neo4j_driver, cspm_account)


def test_api_refuses_deep_huge_and_look_alike_input(server: str, neo4j_driver: Driver,
                                                    loaded: tuple[str, dict[str, Any]]) -> None:
    account, before = loaded
    viewer = create_token(neo4j_driver, "viewer", [account])["token"]
    admin_all = create_token(neo4j_driver, "admin", ["*"])["token"]
    agent = create_token(neo4j_driver, "operator", [account], kind="agent")["token"]
    json_headers = {"Content-Type": "application/json"}

    for body in (DEEP, '{"query": "{ accounts { id } }", "variables": ' + "[" * 100_000 + "]" * 100_000 + "}",
                 '{"query": "{ accounts { id } }", "variables": {"n": ' + HUGE_INT + "}}"):
        resp = httpx.post(f"{server}/graphql", content=body, timeout=60,
                          headers={**json_headers, "Authorization": f"Bearer {viewer}"})
        assert resp.status_code == 400, resp.text
        assert "nests deeper" in resp.text or "64-bit" in resp.text

    for content_type in ("text/plain", "application/graphql", "multipart/form-data; boundary=x"):
        resp = httpx.post(f"{server}/graphql", content=DEEP, timeout=60,
                          headers={"Content-Type": content_type, "Authorization": f"Bearer {viewer}"})
        assert 400 <= resp.status_code < 500, (content_type, resp.status_code)

    upload = f"{server}/api/v1/agent/report"
    auth = {**json_headers, "Authorization": f"Bearer {agent}"}
    deep_report = '{"host_id": "deep", "x": ' + '{"a": ' * 100_000 + "1" + "}" * 100_000 + "}"
    for body, message in ((deep_report, "nests deeper"),
                          ('{"host_id": "big", "accounts": [{"name": "r", "uid": ' + HUGE_INT + "}]}", "64-bit"),
                          ('{"host_id": "long", "instance_id": "' + "i" * (1024 * 1024) + '"}', "instance_id")):
        resp = httpx.post(upload, content=body, headers=auth, timeout=60)
        assert resp.status_code in (400, 413, 422) and message in resp.text, resp.text[:300]
    resp = httpx.post(upload, params={"account": full_width(account)}, json={"host_id": "h"}, headers=auth, timeout=60)
    assert resp.status_code == 400 and "ASCII digits" in resp.text

    mutation = ('mutation($a: String!) { setPlan(accountId: $a, model: "payg", edition: "ultimate", cspm: true) '
                "{ model } }")
    resp = httpx.post(f"{server}/graphql", json={"query": mutation, "variables": {"a": full_width(account)}},
                      headers={"Authorization": f"Bearer {admin_all}"}, timeout=60)
    assert resp.status_code == 200 and "ASCII digits" in json.dumps(resp.json()["errors"])
    query = "query($a: String!) { account(id: $a) { id } }"
    resp = httpx.post(f"{server}/graphql", json={"query": query, "variables": {"a": full_width(account)}},
                      headers={"Authorization": f"Bearer {admin_all}"}, timeout=60)
    assert resp.status_code == 200 and resp.json()["data"]["account"] is None

    assert look_alike_nodes(neo4j_driver, account) == 0
    assert graph_state(neo4j_driver, account) == before


def test_cli_refuses_deep_huge_long_and_look_alike_input(tmp_path: Path, neo4j_driver: Driver,
                                                         loaded: tuple[str, dict[str, Any]]) -> None:
    account, before = loaded
    long_id = sample_doc(account)
    for call in long_id["calls"]:
        if call["action"] == "DescribeInstances" and call["response"]["Instances"]["Instance"]:
            call["response"]["Instances"]["Instance"][0]["InstanceId"] = "i" * (10 * 1024 * 1024)
            break
    look_alike = sample_doc(account)
    look_alike["account_id"] = full_width(account)
    cases = {
        "deep.json": ('{"format": "skypath-snapshot/1", "account_id": "' + account + '", "calls": ' + DEEP + "}",
                      "nests deeper than 64"),
        "huge.json": (snapshot_text(account).replace('"calls": [', '"n": ' + HUGE_INT + ', "calls": [', 1),
                      "64-bit"),
        "long.json": (snapshot_text(account, long_id), "Ecs:DescribeInstances in cn-hangzhou: field InstanceId"),
        "lookalike.json": (snapshot_text(account, look_alike), "ASCII digits"),
    }
    for name, (text, message) in cases.items():
        (tmp_path / name).write_text(text)
        proc = run("ingest", "--snapshot", str(tmp_path / name), ok=False)
        assert proc.returncode != 0 and message in said(proc), (name, proc.stderr[-500:])
        assert "Traceback" not in proc.stderr
    (tmp_path / "hosts.json").write_text('{"host_id": "h", "x": ' + '{"a": ' * 100_000 + "1" + "}" * 100_000 + "}")
    for args, message in (
        (("ingest", "--hosts", str(tmp_path / "hosts.json"), "--account", account), "nests deeper"),
        (("billing", "set", "--account", account, "--model", "subscription", "--quota", "5", "--expires",
          "01/01/2020"), "--expires must be an ISO date"),
        (("billing", "show", "--account", full_width(account)), "ASCII digits"),
        (("scan", "--account", full_width(account)), "ASCII digits"),
        (("ingest", "--hosts", str(tmp_path / "hosts.json"), "--account", full_width(account)), "ASCII digits"),
        (("token", "create", "--role", "viewer", "--account", full_width(account)), "ASCII digits"),
        (("billing", "set", "--account", account, "--model", "subscription", "--quota", "9" * 30), "--quota must be"),
        (("billing", "ledger", "--account", account, "--first", "9" * 30), "--first must be between"),
        (("whitelist", "add", "--account", account, "--check", "ACS_OSS_BucketPublicAcl", "--asset", "a" * 100_000,
          "--reason", "r"), "asset id 'aaaa"),
    ):
        proc = run(*args, ok=False)
        assert proc.returncode != 0 and message in said(proc), (args[:2], proc.stderr[-500:])
        assert "Traceback" not in proc.stderr
    assert run_json("billing", "show", "--account", account)["model"] == "payg"  # the loose date changed nothing
    assert look_alike_nodes(neo4j_driver, account) == 0
    assert graph_state(neo4j_driver, account) == before
