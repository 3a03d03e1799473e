"""The CLI contract (spec/cli.md) through real subprocesses: one JSON document on stdout, errors on stderr."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from neo4j import Driver

from graph_schema.store import delete_account
from tests.helpers.cli import ROOT, run, run_json
from tests.helpers.sample import expected, write_sample


@pytest.fixture(scope="module")
def account(neo4j_driver: Driver, tmp_path_factory: pytest.TempPathFactory) -> Any:
    account_id = str(random.randint(10**15, 10**16 - 1))
    path = write_sample(tmp_path_factory.mktemp("cli"), account_id)
    doc = run_json("ingest", "--snapshot", str(path))
    assert doc["account_id"] == account_id
    run_json("billing", "set", "--account", account_id, "--model", "payg", "--edition", "ultimate", "--cspm")
    yield account_id
    delete_account(neo4j_driver, account_id)


def test_scan_json_contract(account: str) -> None:
    doc = run_json("scan", "--account", account)
    assert set(doc) >= {"account_id", "scan_id", "status", "authorizations_consumed", "results"}
    assert doc["status"] == "completed"
    first = doc["results"][0]
    assert set(first) == {"check_id", "asset_type", "asset_id", "region", "status", "severity", "tier"}
    want = expected(account)["checks"]
    got: dict[str, dict[str, str]] = {}
    for r in doc["results"]:
        got.setdefault(r["check_id"], {})[r["asset_id"]] = r["status"]
    assert {k: got.get(k) for k in want} == want


def test_findings_verify_whitelist(account: str) -> None:
    run_json("scan", "--account", account, "--check", "ACS_ECS_SecurityGroupPublicSSH")
    findings = run_json("findings", "--account", account)
    ssh = {r["asset_id"]: r for r in findings["results"] if r["check_id"] == "ACS_ECS_SecurityGroupPublicSSH"}
    assert ssh["sg-bp1web0000000001"]["status"] == "NOT_PASS" and ssh["sg-bp1web0000000001"]["first_seen"]
    verified = run_json("verify", "--account", account, "--check", "ACS_ECS_SecurityGroupPublicSSH",
                        "--asset", "sg-bp1web0000000001")
    assert [r["status"] for r in verified["results"]] == ["NOT_PASS"]
    run("whitelist", "add", "--account", account, "--check", "ACS_ECS_SecurityGroupPublicSSH",
        "--asset", "sg-bp1web0000000001", "--reason", "bastion replacement pending")
    again = run_json("scan", "--account", account, "--check", "ACS_ECS_SecurityGroupPublicSSH")
    status = {r["asset_id"]: r["status"] for r in again["results"]}
    assert status["sg-bp1web0000000001"] == "WHITELIST"
    run("whitelist", "remove", "--account", account, "--check", "ACS_ECS_SecurityGroupPublicSSH",
        "--asset", "sg-bp1web0000000001")


def test_paths_json(account: str) -> None:
    doc = run_json("paths", "--account", account)
    pairs = sorted([p["entry"]["id"], p["target"]["id"]] for p in doc["paths"] if not p.get("conditional"))
    assert pairs == sorted(expected(account)["path_pairs"])
    p = doc["paths"][0]
    assert set(p) >= {"id", "type", "severity", "entry", "target", "access", "nodes", "edges"}
    assert doc["choke_points"][0]["paths_cut"] >= 1 and doc["choke_points"][0]["change"]


def test_what_if_detach_role_removes_paths(account: str) -> None:
    doc = run_json("paths", "--account", account, "--what-if", "detach-role:i-bp1bastion0000001")
    assert doc["what_if"]["paths_removed"] == 9


def test_cypher_read_and_refusals(account: str) -> None:
    doc = run_json("cypher", "--account", account, "--query",
                   "MATCH (b:OssBucket {account_id: $account_id}) RETURN count(b) AS c")
    assert doc == {"columns": ["c"], "rows": [{"c": 5}]}
    for bad in ("CREATE (n:X) RETURN n", "MATCH (n) DETACH DELETE n", "MATCH (n) SET n.x = 1",
                "MERGE (n:X {a: 1})", "CALL dbms.listConfig()", "LOAD CSV FROM 'file:///etc/passwd' AS l RETURN l"):
        proc = run("cypher", "--account", account, "--query", bad, "--format", "json", ok=False)
        assert proc.returncode != 0 and proc.stdout == "" and "error" in proc.stderr.lower(), bad


def test_errors_go_to_stderr_with_nonzero_exit(account: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    proc = run("ingest", "--snapshot", str(bad), "--format", "json", ok=False)
    assert proc.returncode != 0 and proc.stdout == "" and "JSON" in proc.stderr
    proc = run("scan", "--account", account, "--check", "ACS_NOPE_Nothing", "--format", "json", ok=False)
    assert proc.returncode != 0 and "unknown check item" in proc.stderr


def test_paths_refused_on_free_plan(neo4j_driver: Driver, tmp_path: Path) -> None:
    account_id = str(random.randint(10**15, 10**16 - 1))
    try:
        run_json("ingest", "--snapshot", str(write_sample(tmp_path, account_id)))
        run_json("billing", "set", "--account", account_id, "--model", "free")
        proc = run("paths", "--account", account_id, "--format", "json", ok=False)
        assert proc.returncode != 0 and "CSPM" in proc.stderr
        shown = run_json("billing", "show", "--account", account_id)
        assert shown["model"] == "free" and shown["recommended_quota"] > 0
    finally:
        delete_account(neo4j_driver, account_id)


def test_token_create(account: str) -> None:
    doc = run_json("token", "create", "--role", "viewer", "--account", account)
    assert doc["token"].startswith("skp_") and doc["role"] == "viewer" and doc["accounts"] == [account]


def test_live_ingest_from_a_named_profile(neo4j_driver: Driver, tmp_path: Path) -> None:
    """`ingest --live --account-profile NAME`: credentials from the CLI config, the account id from STS."""
    from backend.emulator import Emulator
    from loaders.snapshot import parse_snapshot
    from tests.helpers.sample import sample_doc

    account_id = str(random.randint(10**15, 10**16 - 1))
    home = tmp_path / "home"
    (home / ".aliyun").mkdir(parents=True)
    (home / ".aliyun" / "config.json").write_text(json.dumps({"current": "ops", "profiles": [
        {"name": "ops", "mode": "AK", "access_key_id": "LTAI-test", "access_key_secret": "secret", "region_id": "cn-hangzhou"}]}))
    env = {**os.environ, "HOME": str(home)}
    record = tmp_path / "recorded.json"
    try:
        with Emulator(parse_snapshot(sample_doc(account_id))) as emu:
            proc = subprocess.run([sys.executable, "-m", "backend.cli", "ingest", "--live", "--account-profile", "ops",
                                   "--endpoint", emu.endpoint, "--record", str(record), "--format", "json"],
                                  cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
            assert proc.returncode == 0, proc.stderr
            doc = json.loads(proc.stdout)
            assert doc["account_id"] == account_id and doc["counts"]["EcsInstance"] == 8
            assert json.loads(record.read_text())["account_id"] == account_id
            bad = subprocess.run([sys.executable, "-m", "backend.cli", "ingest", "--live", "--account-profile", "nope",
                                  "--endpoint", emu.endpoint], cwd=ROOT, env=env, capture_output=True, text=True,
                                 timeout=300)
            assert bad.returncode != 0 and "nope" in bad.stderr and "Traceback" not in bad.stderr, bad.stderr
    finally:
        delete_account(neo4j_driver, account_id)


def test_demo_runs_twice_in_a_row() -> None:
    """`skypath demo` (what `make demo` runs) is idempotent: the second run loads, scans and bills again."""
    import re

    for _ in range(2):
        proc = run("demo")
        text = proc.stdout
        assert "attack paths" in text and "choke points" in text, text[-2000:]
        before, total, after = map(int, re.search(r"quota before (\d+)/\d+ → after (\d+)/(\d+)", text).group(1, 3, 2))
        assert after > before and after <= total  # authorizations consumed, never past the quota
        assert "http://127.0.0.1:8000/" in text and re.search(r"^skp_[\w-]{20,}$", text, re.M), text[-600:]  # console


def test_compliance_report_json_and_table(account: str) -> None:
    """`skypath compliance`: section → requirement → items → pass rate, with the undecidable listed and why."""
    run_json("scan", "--account", account)
    doc = run_json("compliance", "--account", account, "--package", "CIS_ALIBABA_CLOUD_2_0")
    assert doc["package"] == "CIS_ALIBABA_CLOUD_2_0" and doc["account_id"] == account
    assert [s["id"] for s in doc["sections"]] == [str(n) for n in range(1, 9)]
    reqs = {r["id"]: r for s in doc["sections"] for r in s["requirements"]}
    assert len(reqs) == doc["summary"]["requirements"] == 85
    ssh = reqs["4.3"]
    want = list(expected(account)["checks"]["ACS_ECS_SecurityGroupPublicSSH"].values())
    item = next(i for i in ssh["items"] if i["check_id"] == "ACS_ECS_SecurityGroupPublicSSH")
    assert (item["pass"], item["not_pass"], item["not_supported"]) == (
        want.count("PASS"), want.count("NOT_PASS"), want.count("NOT_SUPPORTED"))
    assert item["pass_rate"] == round(item["pass"] / (item["pass"] + item["not_pass"]), 4)
    assert ssh["status"] == "fail" and ssh["title"].endswith("port 22")
    assert reqs["1.1"]["status"] == "not_decidable" and reqs["1.1"]["reason"]  # no API tells it
    # decidable, but the sample has no Kubernetes cluster: no result, not a pass
    assert reqs["7.1"]["status"] == "no_results"
    assert {r["id"] for r in doc["summary"]["not_decidable"]} == {k for k, r in reqs.items()
                                                                  if r["status"] == "not_decidable"}
    table = run("compliance", "--account", account, "--package", "MLPS_2_0_L3")
    assert "MLPS" in table.stdout and "8.1.4.1" in table.stdout and "Not decided by Skypath" in table.stdout
    assert run_json("report", "--account", account, "--package", "WEAK_PASSWORD")["summary"]["requirements"] == 1
    proc = run("compliance", "--account", account, "--package", "NOPE", "--format", "json", ok=False)
    assert proc.returncode != 0 and proc.stdout == "" and "unknown package" in proc.stderr
