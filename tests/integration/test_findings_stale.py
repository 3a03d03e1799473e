"""Quota exhaustion does not hide what is known: a re-scan that runs out keeps its contract (NOT_CHECK,
quota_exhausted), and `findings` (CLI and GraphQL) keeps every failing finding failing, marked stale."""

from __future__ import annotations

import asyncio
import json
import random
from pathlib import Path
from typing import Any

from neo4j import Driver

from backend import billing
from backend.api import Context, schema
from backend.auth import authenticate, create_token
from backend.ingest import ingest_snapshot
from graph_schema.store import delete_account
from tests.helpers.cli import run, run_json
from tests.helpers.sample import write_sample

FINDINGS = """query($a: String!, $after: String) { account(id: $a) {
  findings(status: [NOT_PASS], first: 500, after: $after) { totalCount pageInfo { hasNextPage endCursor }
    edges { node { checkId assetId status stale checkedStatus reason item { title remediation } asset { id } } } } } }"""


def _graphql_failing(driver: Driver, account: str) -> list[dict[str, Any]]:
    identity = authenticate(driver, create_token(driver, "viewer", [account])["token"])
    nodes: list[dict[str, Any]] = []
    after = None
    while True:
        result = asyncio.run(schema.execute(FINDINGS, variable_values={"a": account, "after": after},
                                            context_value=Context(driver, identity)))
        assert result.errors is None, result.errors
        page = result.data["account"]["findings"]
        nodes += [e["node"] for e in page["edges"]]
        assert page["totalCount"] >= len(nodes)
        if not page["pageInfo"]["hasNextPage"]:
            return nodes
        after = page["pageInfo"]["endCursor"]


def test_a_quota_exhausted_rescan_keeps_every_failing_finding_visible(neo4j_driver: Driver, tmp_path: Path) -> None:
    account = str(random.randint(10**15, 10**16 - 1))
    try:
        ingest_snapshot(neo4j_driver, write_sample(tmp_path, account))
        billing.set_plan(neo4j_driver, account, model="subscription", edition="ultimate", cspm=True, quota=100_000)
        first = run_json("scan", "--account", account)
        assert first["status"] == "completed"
        failing = {(r["check_id"], r["asset_id"]) for r in first["results"] if r["status"] == "NOT_PASS"}
        assert len(failing) > 100
        used = billing.billing_show(neo4j_driver, account)["quota_used"]
        billing.set_plan(neo4j_driver, account, model="subscription", edition="ultimate", cspm=True, quota=used + 10)

        again = run_json("scan", "--account", account)  # the contract: JSON, exit 0, quota_exhausted, NOT_CHECK
        assert again["status"] == "quota_exhausted" and again["authorizations_consumed"] == 10
        rechecked = {(r["check_id"], r["asset_id"]) for r in again["results"] if r["status"] in ("PASS", "NOT_PASS")}
        skipped = [r for r in again["results"] if r["status"] == "NOT_CHECK" and (r["check_id"], r["asset_id"]) in failing]
        assert len(skipped) > 100 and all(r["reason"] == "quota exhausted — not re-checked" for r in skipped)

        shown = {(r["check_id"], r["asset_id"]): r for r in run_json("findings", "--account", account)["results"]}
        assert {k for k, r in shown.items() if r["status"] == "NOT_PASS"} == failing
        for key in failing - rechecked:
            assert shown[key]["stale"] is True and shown[key]["checked_status"] == "NOT_CHECK", shown[key]
        assert all(shown[k]["stale"] is False for k in failing & rechecked)

        nodes = _graphql_failing(neo4j_driver, account)
        assert {(n["checkId"], n["assetId"]) for n in nodes} == failing
        stale = {(n["checkId"], n["assetId"]) for n in nodes if n["stale"]}
        assert stale == failing - rechecked
        assert all(n["checkedStatus"] == "NOT_CHECK" and n["reason"] for n in nodes if n["stale"])
        assert all(n["item"]["title"] and n["asset"]["id"] == n["assetId"] for n in nodes)

        table = run("findings", "--account", account, "--status", "NOT_PASS")
        assert "not re-checked in the latest scan" in table.stdout
        assert "NOT_PASS*" in table.stdout

        exhausted = run("scan", "--account", account, ok=False)  # the table form: exit 3, says what to do
        assert exhausted.returncode == 3, exhausted.stderr
        assert "quota ran out" in exhausted.stderr and "billing set" in exhausted.stderr
    finally:
        delete_account(neo4j_driver, account)


def test_free_plan_items_say_why_they_did_not_run(neo4j_driver: Driver, tmp_path: Path) -> None:
    account = str(random.randint(10**15, 10**16 - 1))
    try:
        ingest_snapshot(neo4j_driver, write_sample(tmp_path, account))
        billing.set_plan(neo4j_driver, account, model="free")
        proc = run("scan", "--account", account, "--check", "ACS_ECS_PublicInstanceAdminRole",
                   "--check", "ACS_OSS_BucketPublicAcl", "--format", "json")
        doc = json.loads(proc.stdout)
        paid = [r for r in doc["results"] if r["check_id"] == "ACS_ECS_PublicInstanceAdminRole"
                and r["status"] != "NOT_SUPPORTED"]
        free = [r for r in doc["results"] if r["check_id"] == "ACS_OSS_BucketPublicAcl"]
        assert paid and all(r["status"] == "NOT_CHECK" and r["reason"] == "paid item — needs CSPM" for r in paid)
        assert free and all("reason" not in r for r in free if r["status"] in ("PASS", "NOT_PASS"))
        assert "billing set" in proc.stderr and "--cspm" in proc.stderr
    finally:
        delete_account(neo4j_driver, account)
