"""The real services the project brings up itself: Neo4j 5.26 over Bolt and Redis."""

from __future__ import annotations

import os
import stat
from typing import Any

from neo4j import Driver

from backend import services as svc
from backend.settings import credentials_path, external_neo4j


def test_neo4j_write_and_read_over_bolt(neo4j_driver: Driver, fresh_account_id: str) -> None:
    neo4j_driver.execute_query("CREATE (:Probe {account_id: $a, value: 42})", a=fresh_account_id)
    rows = neo4j_driver.execute_query("MATCH (p:Probe {account_id: $a}) RETURN p.value AS v", a=fresh_account_id).records
    assert [r["v"] for r in rows] == [42]
    neo4j_driver.execute_query("MATCH (p:Probe {account_id: $a}) DELETE p", a=fresh_account_id)


def test_redis_set_get(redis_client: Any, fresh_account_id: str) -> None:
    key = f"skypath:test:{fresh_account_id}"
    redis_client.set(key, "ok", ex=60)
    assert redis_client.get(key) == b"ok"
    redis_client.delete(key)


def test_status_reports_server_version(services: dict[str, Any]) -> None:
    status = svc.services_status()
    assert status["neo4j"]["version"].startswith("5.26")
    assert status["neo4j"]["edition"] == "community"
    assert status["redis"]["version"]


def test_credentials_are_private_and_not_default(services: dict[str, Any]) -> None:
    if external_neo4j():
        return
    path = credentials_path()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    creds = path.read_text()
    assert '"password": "neo4j"' not in creds


def test_up_is_idempotent(services: dict[str, Any]) -> None:
    if external_neo4j():
        return
    before = svc.services_status()
    again = svc.services_up()
    assert again["started"] == []
    assert again["neo4j"]["uri"] == before["neo4j"]["uri"] and again["redis"]["url"] == before["redis"]["url"]
