"""The CLI as a person lives in it: errors that say what is wrong (and exit non-zero), worst first, readable at
80 columns (golden outputs), no Python reprs, tokens and accounts managed from the command line."""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from neo4j import Driver

from graph_schema.store import delete_account
from tests.helpers.cli import ROOT, run, run_json
from tests.helpers.sample import write_sample

GOLDEN = ROOT / "tests" / "golden"
SEVERITY = {"critical": 0, "high": 1, "medium": 2, "low": 3}
REPR = re.compile(r"\b(True|False|None)\b|\{'|': |\b\d+\.\d{4,}\b")  # a timestamp's fraction is no float


@pytest.fixture(scope="module")
def account(neo4j_driver: Driver, tmp_path_factory: pytest.TempPathFactory) -> Any:
    account_id = str(random.randint(10**15, 10**16 - 1))
    run_json("ingest", "--snapshot", str(write_sample(tmp_path_factory.mktemp("cli"), account_id)))
    run_json("billing", "set", "--account", account_id, "--model", "payg", "--edition", "ultimate", "--cspm")
    run_json("scan", "--account", account_id)
    yield account_id
    delete_account(neo4j_driver, account_id)


def at_80(*args: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([sys.executable, "-m", "backend.cli", *args], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "COLUMNS": "80"}, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return proc


def _unknown(*args: str) -> subprocess.CompletedProcess[str]:
    proc = run(*args, ok=False)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr, (args, proc.stderr)
    return proc


def test_an_unknown_account_is_an_error_everywhere() -> None:
    missing = "9" * 16
    for args in (["findings"], ["scan"], ["paths"], ["compliance", "--package", "MLPS_2_0_L3"],
                 ["cypher", "--query", "RETURN 1 AS x"], ["billing", "show"], ["billing", "ledger"],
                 ["verify", "--check", "ACS_OSS_BucketPublicAcl", "--asset", "x"],
                 ["whitelist", "add", "--check", "ACS_OSS_BucketPublicAcl", "--asset", "x", "--reason", "r"],
                 ["remediate", "--check", "ACS_OSS_BucketPublicAcl", "--asset", "x"], ["account", "remove", "--yes"]):
        proc = _unknown(args[0], *args[1:], "--account", missing, "--format", "json")
        assert proc.stdout == "" and f"account {missing} is not loaded" in " ".join(proc.stderr.split()), args


def test_severity_and_status_values_are_checked(account: str) -> None:
    bad = _unknown("findings", "--account", account, "--severity", "severe")
    assert bad.returncode == 2 and "critical, high, medium, low" in " ".join(bad.stderr.split())
    bad = _unknown("findings", "--account", account, "--status", "FAILED")
    assert bad.returncode == 2 and "PASS, NOT_PASS, NOT_CHECK, WHITELIST, NOT_SUPPORTED" in " ".join(bad.stderr.split())
    high = run_json("findings", "--account", account, "--severity", "high", "--status", "NOT_PASS")["results"]
    assert high and {(r["severity"], r["status"]) for r in high} == {("high", "NOT_PASS")}


def test_findings_and_paths_come_worst_first(account: str) -> None:
    results = run_json("findings", "--account", account)["results"]
    ranks = [SEVERITY[r["severity"]] for r in results]
    assert ranks == sorted(ranks) and ranks[0] == 0
    doc = run_json("paths", "--account", account)
    ranks = [SEVERITY[p["severity"]] for p in doc["paths"]]
    assert ranks == sorted(ranks) and ranks[0] == 0
    table = at_80("findings", "--account", account).stdout
    assert table.index("critical") < table.index("high") < table.index("medium")


def test_choke_points_name_the_fix(account: str) -> None:
    doc = run_json("paths", "--account", account)
    fixes = [c["fix"] for c in doc["choke_points"] if c.get("fix")]
    assert len(fixes) >= len(doc["choke_points"]) // 2
    for fix in fixes:
        assert fix["command"] == (f"skypath remediate --account {account} --check {fix['check_id']} "
                                  f"--asset {fix['asset_id']}")
        assert fix["automated"] or ("<user>" not in fix["manual_steps"] and "<key>" not in fix["manual_steps"])
    ssh = next(f for f in fixes if f["check_id"] == "ACS_ECS_SecurityGroupPublicSSH")
    plan = run_json("remediate", "--account", account, "--check", ssh["check_id"], "--asset", ssh["asset_id"])
    assert plan["requests"] and plan["dry_run"] is True  # the named command works as printed
    text = at_80("paths", "--account", account).stdout
    assert f"run: skypath remediate --account {account}" in text.replace("\n", " ")


def test_manual_steps_name_the_real_user_and_key(account: str) -> None:
    proc = _unknown("remediate", "--account", account, "--check", "ACS_RAM_AccessKeyRotation",
                    "--asset", "LTAI5tCiBotKey000001")
    message = " ".join(proc.stderr.split())
    assert "--UserName ci-bot" in message and "--UserAccessKeyId LTAI5tCiBotKey000001" in message
    assert "<user>" not in message and "<old>" not in message


def test_tokens_are_created_for_loaded_accounts_only_and_listed(account: str) -> None:
    refused = _unknown("token", "create", "--role", "viewer", "--account", "9" * 16, "--format", "json")
    assert "is not loaded" in refused.stderr and refused.stdout == ""
    made = run_json("token", "create", "--role", "viewer", "--account", account)
    listed = run_json("token", "list")["tokens"]
    mine = next(t for t in listed if t["id"] == made["id"])
    assert mine["accounts"] == [account] and mine["role"] == "viewer" and mine["revoked"] is None
    assert made["token"] not in json.dumps(listed) and all("hash" not in t for t in listed)
    run("token", "revoke", "--id", made["id"])
    assert next(t for t in run_json("token", "list")["tokens"] if t["id"] == made["id"])["revoked"]


def test_account_list_and_remove(neo4j_driver: Driver, tmp_path: Path) -> None:
    other = str(random.randint(10**15, 10**16 - 1))
    try:
        run_json("ingest", "--snapshot", str(write_sample(tmp_path, other)))
        assert other in [a["account_id"] for a in run_json("account", "list")["accounts"]]
        refused = _unknown("account", "remove", "--account", other)  # not a terminal: --yes is needed
        assert refused.returncode == 2 and "--yes" in refused.stderr
        assert run_json("account", "remove", "--account", other, "--yes") == {"removed": other}
        assert other not in [a["account_id"] for a in run_json("account", "list")["accounts"]]
        assert "is not loaded" in _unknown("findings", "--account", other).stderr
    finally:
        delete_account(neo4j_driver, other)


def test_no_python_reprs_in_human_output(account: str) -> None:
    for args in (["billing", "show"], ["billing", "ledger", "--first", "3"], ["findings"], ["paths"],
                 ["scan", "--check", "ACS_OSS_BucketPublicAcl"], ["token", "list"]):
        proc = at_80(*args, *(["--account", account] if args[0] != "token" else []))
        assert not REPR.search(proc.stdout), (args, REPR.search(proc.stdout), proc.stdout[:2000])


@pytest.mark.parametrize(("name", "args"), [
    ("findings-critical", ["findings", "--severity", "critical"]),
    ("paths", ["paths"]),
])
def test_golden_output_at_80_columns(account: str, name: str, args: list[str]) -> None:
    """Readable on an 80-column terminal: nothing wider, no id cut to an ellipsis (golden files; regenerate with
    SKYPATH_UPDATE_GOLDEN=1)."""
    text = at_80(*args, "--account", account).stdout.replace(account, "<account>")
    assert max(len(line) for line in text.splitlines()) <= 80 and "…" not in text
    golden = GOLDEN / f"{name}-80.txt"
    if os.environ.get("SKYPATH_UPDATE_GOLDEN"):
        golden.write_text(text)
    assert text == golden.read_text()


def test_paths_jsonl_streams_the_same_paths_as_json(account: str) -> None:
    """spec/cli.md: `paths --format jsonl` — one path object per line, then one choke-points line."""
    doc = run_json("paths", "--account", account)
    lines = [json.loads(line) for line in run("paths", "--account", account, "--format", "jsonl").stdout.splitlines()]
    *paths, last = lines
    assert sorted(paths, key=lambda p: p["id"]) == sorted(doc["paths"], key=lambda p: p["id"])
    assert last == {"account_id": account, "choke_points": doc["choke_points"]}
    bad = _unknown("paths", "--account", account, "--format", "yaml")
    assert bad.returncode == 2 and "'jsonl'" in bad.stderr
