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


def acct(name: str, uid: int, **facts: object) -> dict[str, object]:
    return {"name": name, "uid": uid, **facts}


SET_OK = {"password": "set", "weak_password": False}
# host report → the statuses it must give (partial or null facts: NOT_CHECK, never PASS)
CASES: dict[str, tuple[dict[str, object], dict[str, str]]] = {
    "no-shadow": ({"accounts": [acct("root", 0), acct("bob", 1000)]}, {
        "HOST_ACCOUNT_EmptyPassword": "NOT_CHECK", "HOST_ACCOUNT_WeakPassword": "NOT_CHECK",
        "HOST_ACCOUNT_WeakPasswordRoot": "NOT_CHECK", "HOST_ACCOUNT_ExtraUidZero": "PASS"}),
    "one-missing-from-shadow": ({"accounts": [acct("root", 0, **SET_OK), acct("bob", 1000)],
                                 "sshd": {"PasswordAuthentication": "yes"}}, {
        "HOST_ACCOUNT_EmptyPassword": "NOT_CHECK", "HOST_ACCOUNT_WeakPassword": "NOT_CHECK",
        "HOST_ACCOUNT_WeakPasswordRoot": "PASS", "HOST_SSH_WeakPasswordLogin": "NOT_CHECK"}),
    "known-bad-among-unknown": ({"accounts": [acct("root", 0, password="set", weak_password=True),
                                              acct("bob", 1000, password="empty"), acct("eve", 1001)],
                                 "sshd": {"PasswordAuthentication": "yes"}}, {
        "HOST_ACCOUNT_EmptyPassword": "NOT_PASS", "HOST_ACCOUNT_WeakPassword": "NOT_PASS",
        "HOST_ACCOUNT_WeakPasswordRoot": "NOT_PASS", "HOST_SSH_WeakPasswordLogin": "NOT_PASS"}),
    "complete-good": ({"accounts": [acct("root", 0, **SET_OK), acct("app", 1000, password="locked", weak_password=False)],
                       "sshd": {"PasswordAuthentication": "yes"}}, {
        "HOST_ACCOUNT_EmptyPassword": "PASS", "HOST_ACCOUNT_WeakPassword": "PASS",
        "HOST_ACCOUNT_WeakPasswordRoot": "PASS", "HOST_SSH_WeakPasswordLogin": "PASS"}),
    "odd-password-state": ({"accounts": [acct("root", 0, password="???", weak_password=False)]}, {
        "HOST_ACCOUNT_EmptyPassword": "NOT_CHECK", "HOST_ACCOUNT_WeakPassword": "PASS"}),
    "null-sshd": ({"sshd": {"PermitRootLogin": None, "PermitEmptyPasswords": None, "MaxAuthTries": None,
                            "PasswordAuthentication": None, "X11Forwarding": None, "LoginGraceTime": None}}, {
        "HOST_SSH_PermitRootLogin": "NOT_CHECK", "HOST_SSH_PermitEmptyPasswords": "NOT_CHECK",
        "HOST_SSH_MaxAuthTries": "NOT_CHECK", "HOST_SSH_PasswordAuthentication": "NOT_CHECK",
        "HOST_SSH_X11Forwarding": "NOT_CHECK", "HOST_SSH_PermitRootLoginAnyMethod": "NOT_CHECK",
        "HOST_SSH_LoginGraceTime": "NOT_CHECK"}),
    "bad-numbers": ({"login_defs": {"PASS_MAX_DAYS": None, "PASS_MIN_DAYS": "abc", "PASS_WARN_AGE": [7]},
                     "pwquality": {"minlen": "", "minclass": True}}, {
        "HOST_PASSWD_MaxDays": "NOT_CHECK", "HOST_PASSWD_MinDays": "NOT_CHECK", "HOST_PASSWD_WarnAge": "NOT_CHECK",
        "HOST_PASSWD_MinLength": "NOT_CHECK", "HOST_PASSWD_MinClass": "NOT_CHECK"}),
    "numbers-as-strings-or-ints": ({"login_defs": {"PASS_MAX_DAYS": 90, "PASS_MIN_DAYS": "7", "PASS_WARN_AGE": 7},
                                    "pwquality": {"minlen": "14", "minclass": 4},
                                    "sshd": {"MaxAuthTries": 4, "LoginGraceTime": "1m"}}, {
        "HOST_PASSWD_MaxDays": "PASS", "HOST_PASSWD_MinDays": "PASS", "HOST_PASSWD_WarnAge": "PASS",
        "HOST_PASSWD_MinLength": "PASS", "HOST_PASSWD_MinClass": "PASS", "HOST_SSH_MaxAuthTries": "PASS",
        "HOST_SSH_LoginGraceTime": "PASS"}),
    "never-expire-and-no-grace-limit": ({"login_defs": {"PASS_MAX_DAYS": "-1"}, "sshd": {"LoginGraceTime": "0"}}, {
        "HOST_PASSWD_MaxDays": "NOT_PASS", "HOST_SSH_LoginGraceTime": "NOT_PASS"}),
    "grace-time-in-minutes": ({"sshd": {"LoginGraceTime": "2m"}}, {"HOST_SSH_LoginGraceTime": "NOT_PASS"}),
    "apt-security-update-pending": ({"missing_patches": agent.parse_apt_security(
        "Inst liblzma5 [5.4.1-1] (5.4.1-1+deb12u2 Debian-Security:12/oldstable-security [amd64])\n")}, {
        "HOST_PATCH_CriticalMissing": "NOT_PASS", "HOST_PATCH_AnyMissing": "NOT_PASS"}),
}


def test_partial_and_null_facts_never_pass(neo4j_driver: Driver, tmp_path: Path, fresh_account_id: str) -> None:
    reports = [{"host_id": f"h-{name}", **report} for name, (report, _) in CASES.items()]
    try:
        ingest_snapshot(neo4j_driver, write_sample(tmp_path, fresh_account_id))
        ingest_hosts(neo4j_driver, fresh_account_id, reports)
        items = [i for i in CATALOG if i.kind == "baseline"]
        results = run_items(neo4j_driver, fresh_account_id, items, Ultimate(fresh_account_id), asset_id=None).results
        got = {(r.asset_id, r.check_id): r.status for r in results}
        wrong = {(name, check): (got.get((f"h-{name}", check)), want)
                 for name, (_, expected) in CASES.items() for check, want in expected.items()
                 if got.get((f"h-{name}", check)) != want}
        assert not wrong, wrong  # (case, item): (got, wanted)
    finally:
        delete_account(neo4j_driver, fresh_account_id)
