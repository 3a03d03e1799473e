"""Activation: cloud checks need the service-linked role AliyunServiceRoleForSasCspm."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
from neo4j import Driver

from backend import billing
from backend.emulator import Emulator
from backend.ingest import ingest_snapshot
from backend.remediation_runtime import activate_account
from graph_schema.store import delete_account
from loaders.snapshot import parse_snapshot
from tests.helpers.sample import sample_doc

ROOT = Path(__file__).resolve().parents[2]


def without_role(account: str) -> dict:
    doc = sample_doc(account)
    for call in doc["calls"]:
        if call["action"] == "ListRoles":
            call["response"]["Roles"]["Role"] = [r for r in call["response"]["Roles"]["Role"]
                                                 if r["RoleName"] != "AliyunServiceRoleForSasCspm"]
    doc["calls"] = [c for c in doc["calls"] if c["params"].get("RoleName") != "AliyunServiceRoleForSasCspm"]
    return doc


def scan(account: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "backend.cli", "scan", "--account", account, *extra, "--format", "json"],
                          cwd=ROOT, env=dict(os.environ), capture_output=True, text=True, timeout=300)


def test_scan_refused_until_activated_through_the_api(neo4j_driver: Driver, tmp_path: Path) -> None:
    account = str(random.randint(10**15, 10**16 - 1))
    doc = without_role(account)
    path = tmp_path / "no-role.json"
    path.write_text(json.dumps(doc))
    try:
        ingest_snapshot(neo4j_driver, path)
        billing.set_plan(neo4j_driver, account, model="payg", edition="ultimate", cspm=True)
        refused = scan(account)
        assert refused.returncode != 0 and "AliyunServiceRoleForSasCspm" in refused.stderr
        baseline_only = scan(account, "--package", "CIS_ALIBABA_CLOUD_LINUX_3")
        assert baseline_only.returncode == 0, baseline_only.stderr
        with Emulator(parse_snapshot(doc)) as emu:
            result = activate_account(neo4j_driver, account, "test", endpoint=emu.endpoint)
            assert [w["action"] for w in emu.writes] == ["CreateServiceLinkedRole"]
        assert result["service_linked_role"] == "AliyunServiceRoleForSasCspm"
        allowed = scan(account, "--check", "ACS_OSS_BucketPublicAcl")
        assert allowed.returncode == 0, allowed.stderr
        assert json.loads(allowed.stdout)["results"]
    finally:
        delete_account(neo4j_driver, account)


@pytest.mark.parametrize("flag", ["--live"])
def test_activate_cli_needs_an_api(flag: str) -> None:
    proc = subprocess.run([sys.executable, "-m", "backend.cli", "activate", "--account", "1"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0 and flag in proc.stderr
