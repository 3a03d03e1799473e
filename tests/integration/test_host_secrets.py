"""Secrets planted in host reports never reach the graph, through a snapshot's `hosts` or an agent upload,
and the host checks decide as they do on the clean reports."""

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
from backend.entitlements import PlanBiller
from backend.ingest import ingest_snapshot
from checks.catalog import CATALOG
from checks.scan import run_items
from graph_schema.store import delete_account, ensure_schema
from tests.helpers.api_server import serve
from tests.helpers.planted import PLANTED, planted
from tests.helpers.sample import sample_doc, write_sample

UPLOADED = "planted-upload-01"
WEB = "i-bp1web01000000001"


@pytest.fixture(scope="module")
def server(neo4j_driver: Driver) -> Iterator[str]:
    with serve(neo4j_driver) as url:
        yield url


def every_property(driver: Driver, account: str) -> str:
    """Every property value of every node of the account and of every relationship touching one, as text."""
    nodes = driver.execute_query("MATCH (n {account_id: $a}) RETURN properties(n) AS p", a=account).records
    rels = driver.execute_query("MATCH (n {account_id: $a})-[r]-() RETURN properties(r) AS p", a=account).records
    assert nodes and rels
    return json.dumps([r["p"] for r in [*nodes, *rels]], default=str)


def host_results(driver: Driver, account: str) -> dict[str, dict[str, str]]:
    billing.set_plan(driver, account, model="payg", edition="ultimate", cspm=True)
    items = [i for i in CATALOG if i.asset_type == "Host"]
    results = run_items(driver, account, items, PlanBiller(billing.load_plan(driver, account))).results
    by_host: dict[str, dict[str, str]] = {}
    for r in results:
        by_host.setdefault(r.asset_id, {})[r.check_id] = r.status
    return by_host


def test_planted_secrets_never_reach_the_graph(neo4j_driver: Driver, server: str, tmp_path: Path,
                                               fresh_account_id: str) -> None:
    clean_account, account = fresh_account_id, str(int(fresh_account_id) + 1)
    web = next(h for h in sample_doc()["hosts"] if h["host_id"] == WEB)

    def plant_hosts(doc: dict[str, Any]) -> None:
        doc["hosts"] = [planted(h) for h in doc["hosts"]]

    try:
        ingest_snapshot(neo4j_driver, write_sample(tmp_path, clean_account))
        ingest_snapshot(neo4j_driver, write_sample(tmp_path, account, mutate=plant_hosts))
        token = create_token(neo4j_driver, "operator", [account], kind="agent")["token"]
        upload = httpx.post(f"{server}/api/v1/agent/report", json=planted(web, host_id=UPLOADED),
                            headers={"Authorization": f"Bearer {token}"}, timeout=60)
        assert upload.status_code == 200, upload.text

        text = every_property(neo4j_driver, account)
        assert UPLOADED in text and WEB in text  # both routes wrote their hosts
        assert [s for s in PLANTED if s in text] == []

        clean, dirty = host_results(neo4j_driver, clean_account), host_results(neo4j_driver, account)
        assert dirty[WEB] == clean[WEB] and dirty[UPLOADED] == clean[WEB]
        assert {h: dirty[h] for h in clean} == clean
        assert "NOT_PASS" in clean[WEB].values()
    finally:
        delete_account(neo4j_driver, clean_account)
        delete_account(neo4j_driver, account)


def test_a_report_stored_by_an_earlier_version_is_removed(neo4j_driver: Driver, sample_account: str) -> None:
    neo4j_driver.execute_query("MATCH (h:Host {account_id: $a}) SET h.report = $r", a=sample_account,
                               r=json.dumps(planted({"host_id": "old"})))
    ensure_schema(neo4j_driver)
    assert [s for s in PLANTED if s in every_property(neo4j_driver, sample_account)] == []
