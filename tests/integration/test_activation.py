"""Activation: cloud checks need the service-linked role AliyunServiceRoleForSasCspm."""

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


# ---------------------------------------------------------------- the one rule at every entry point

@pytest.fixture
def unactivated(neo4j_driver: Driver, tmp_path: Path) -> Any:
    """An account whose RAM roles lack the service-linked role, on a plan that allows everything else."""
    account = str(random.randint(10**15, 10**16 - 1))
    path = tmp_path / "no-role.json"
    path.write_text(json.dumps(without_role(account)))
    ingest_snapshot(neo4j_driver, path)
    billing.set_plan(neo4j_driver, account, model="payg", edition="ultimate", cspm=True)
    yield account, path
    delete_account(neo4j_driver, account)


CLOUD_CHECK, CLOUD_ASSET = "ACS_OSS_BucketPublicAcl", "acme-public-assets"
REFUSAL = ("AliyunServiceRoleForSasCspm", "skypath activate")


def _refused(exc: BaseException) -> None:
    assert isinstance(exc, billing.ActivationError)
    assert all(word in str(exc) for word in REFUSAL), exc


def test_require_activation_is_about_cloud_items_only(neo4j_driver: Driver, unactivated: Any) -> None:
    from checks.catalog import BY_ID, CATALOG

    account, _ = unactivated
    with pytest.raises(billing.ActivationError) as exc:
        billing.require_activation(neo4j_driver, account, [BY_ID[CLOUD_CHECK]])
    _refused(exc.value)
    billing.require_activation(neo4j_driver, account, [i for i in CATALOG if i.kind == "baseline"])
    billing.require_activation(neo4j_driver, account, [])


@pytest.mark.parametrize(
    "args",
    [
        ["verify", "--check", CLOUD_CHECK, "--asset", CLOUD_ASSET, "--format", "json"],
        ["remediate", "--check", CLOUD_CHECK, "--asset", CLOUD_ASSET, "--format", "json"],
        ["remediate", "--check", CLOUD_CHECK, "--asset", CLOUD_ASSET, "--execute", "--format", "json"],
    ],
    ids=["verify", "remediate-dry-run", "remediate-execute"],
)
def test_cli_verify_and_remediate_refused(unactivated: Any, args: list[str]) -> None:
    account, _ = unactivated
    proc = subprocess.run([sys.executable, "-m", "backend.cli", args[0], "--account", account, *args[1:]], cwd=ROOT,
                          env=dict(os.environ), capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0 and proc.stdout == ""
    assert all(word in proc.stderr for word in REFUSAL), proc.stderr


def test_api_scan_verify_remediate_refused(neo4j_driver: Driver, unactivated: Any) -> None:
    from fastapi.testclient import TestClient

    from backend.api import create_app
    from backend.auth import create_token

    account, _ = unactivated
    token = create_token(neo4j_driver, "admin", [account])["token"]
    one = "$a: String!, $c: String!, $s: String!"
    mutations = {
        "startScan": "mutation($a: String!) { startScan(accountId: $a) { scanId } }",
        "startScanChecks": "mutation($a: String!, $c: String!) { startScan(accountId: $a, checkIds: [$c]) { scanId } }",
        "verify": f"mutation({one}) {{ verify(accountId: $a, checkId: $c, assetId: $s) {{ scanId }} }}",
        "remediate": f"mutation({one}) {{ remediate(accountId: $a, checkId: $c, assetId: $s) {{ checkId }} }}",
        "remediateExecute": f"mutation({one}) {{ remediate(accountId: $a, checkId: $c, assetId: $s, dryRun: false) "
                            "{ checkId } }",
    }
    with TestClient(create_app(neo4j_driver)) as client:
        for name, query in mutations.items():
            variables = {"a": account, "c": CLOUD_CHECK, "s": CLOUD_ASSET}
            if "$s" not in query:
                variables.pop("s")
            if "$c" not in query:
                variables.pop("c")
            resp = client.post("/graphql", json={"query": query, "variables": variables},
                               headers={"Authorization": f"Bearer {token}"}).json()
            assert resp.get("errors"), (name, resp)
            assert all(word in resp["errors"][0]["message"] for word in REFUSAL), (name, resp)
        ok = client.post("/graphql", json={"query": 'mutation($a: String!) { startScan(accountId: $a, package: '
                                                    '"CIS_ALIBABA_CLOUD_LINUX_3") { status } }', "variables": {"a": account}},
                         headers={"Authorization": f"Bearer {token}"}).json()
        assert not ok.get("errors") and ok["data"]["startScan"]["status"] == "COMPLETED", ok
    scans = neo4j_driver.execute_query("MATCH (s:Scan {account_id: $a}) RETURN count(s) AS n", a=account).records
    assert scans[0]["n"] == 1  # only the baseline scan ran


def test_celery_tasks_refused(neo4j_driver: Driver, unactivated: Any) -> None:
    from backend.tasks import scan_after_sync, scan_task, sync_task

    account, path = unactivated
    with pytest.raises(billing.ActivationError) as exc:
        scan_task(account, None, "test")
    _refused(exc.value)
    with pytest.raises(billing.ActivationError) as exc:
        scan_task(account, [CLOUD_CHECK], "test")
    _refused(exc.value)
    synced = sync_task(account, f"snapshot:{path}")  # the scheduled chain: the sync runs, its scan is refused
    assert synced["status"] == "completed"
    with pytest.raises(billing.ActivationError) as exc:
        scan_after_sync(synced)
    _refused(exc.value)
    baseline = scan_task(account, ["HOST_ACCOUNT_WeakPassword"], "test")
    assert baseline["status"] == "completed"
    scans = neo4j_driver.execute_query("MATCH (s:Scan {account_id: $a}) RETURN count(s) AS n", a=account).records
    assert scans[0]["n"] == 1


def test_remediation_functions_refused(neo4j_driver: Driver, unactivated: Any) -> None:
    from backend.remediate import plan
    from backend.remediation_runtime import execute_for_account

    account, _ = unactivated
    for call in (lambda: plan(neo4j_driver, account, CLOUD_CHECK, CLOUD_ASSET),
                 lambda: execute_for_account(neo4j_driver, account, CLOUD_CHECK, CLOUD_ASSET, "test")):
        with pytest.raises(billing.ActivationError) as exc:
            call()
        _refused(exc.value)
