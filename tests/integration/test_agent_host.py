"""The agent on this very machine, and a fake root's report through ingest and the baseline checks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from neo4j import Driver

from backend import agent
from backend.billing import Plan, decide
from backend.ingest import ingest_hosts, ingest_snapshot
from checks.catalog import CATALOG
from checks.scan import run_items
from graph_schema.store import delete_account
from loaders.hosts import validate_host
from tests.helpers.sample import write_sample
from tests.unit.test_agent import build_root

ROOT = Path(__file__).resolve().parents[2]


def test_agent_runs_on_this_host(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    proc = subprocess.run([sys.executable, "-m", "backend.agent", "--output", str(out)], cwd=ROOT,
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(out.read_text())
    validate_host(report)
    assert report["agent_version"] == agent.AGENT_VERSION and report["host_id"]
    assert isinstance(report["accounts"], list) and any(a["name"] == "root" for a in report["accounts"])
    assert isinstance(report.get("world_writable", []), list)
    assert "$6$" not in out.read_text() and "$y$" not in out.read_text()


class Ultimate:
    def __init__(self, account: str):
        self.plan = Plan(account, model="payg", edition="ultimate", cspm=True)

    def decide(self, op, item):  # type: ignore[no-untyped-def]
        return decide(self.plan, op, item)

    def charge(self, tx, op, item, assets, scan_id):  # type: ignore[no-untyped-def]
        return len(assets)

    def charge_instances(self, *args):  # type: ignore[no-untyped-def]
        return None


def test_fake_root_report_gives_the_designed_results(neo4j_driver: Driver, tmp_path: Path, fresh_account_id: str) -> None:
    fake = tmp_path / "root"
    fake.mkdir()
    build_root(fake)
    report = agent.collect(str(fake), runner=lambda cmd: None)
    try:
        ingest_snapshot(neo4j_driver, write_sample(tmp_path, fresh_account_id))
        ingest_hosts(neo4j_driver, fresh_account_id, [report])
        items = [i for i in CATALOG if i.kind == "baseline"]
        results = run_items(neo4j_driver, fresh_account_id, items, Ultimate(fresh_account_id), asset_id=None).results
        mine = {r.check_id: r.status for r in results if r.asset_id == "i-bp1fakeroot000001"}
        assert mine["HOST_ACCOUNT_WeakPassword"] == "NOT_PASS"
        assert mine["HOST_ACCOUNT_EmptyPassword"] == "NOT_PASS"
        assert mine["HOST_ACCOUNT_ExtraUidZero"] == "NOT_PASS"
        assert mine["HOST_SSH_PermitRootLogin"] == "NOT_PASS"
        assert mine["HOST_SSH_PermitEmptyPasswords"] == "PASS"
        assert mine["HOST_SSH_MaxAuthTries"] == "NOT_PASS"
        assert mine["HOST_PASSWD_MinLength"] == "NOT_PASS"
        assert mine["HOST_PASSWD_MaxDays"] == "NOT_PASS"
        assert mine["HOST_FILE_WorldWritable"] == "NOT_PASS"
        assert mine["HOST_PATCH_CriticalMissing"] == "NOT_CHECK"  # no package manager in a fake root
        assert mine["HOST_CONTAINER_Privileged"] == "NOT_CHECK"
        # the sample's own hosts are untouched by a hosts-only ingest
        sample_hosts = {r.asset_id for r in results}
        assert {"i-bp1web01000000001", "i-bp1app01000000001", "i-bp1bastion0000001"} <= sample_hosts
    finally:
        delete_account(neo4j_driver, fresh_account_id)
