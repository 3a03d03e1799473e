"""Session fixtures: a real Neo4j 5 and a real Redis.

Order: SKYPATH_NEO4J_URI / SKYPATH_REDIS_URL when set → else the project's own local services
(`skypath services up`, no Docker) → else testcontainers when a Docker engine exists. Tests isolate
by account id (a fresh random one per test), never by restarting the server.
"""

from __future__ import annotations

import os
import random
import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from neo4j import Driver, GraphDatabase


def _testcontainers() -> dict[str, str] | None:  # pragma: no cover - only where a Docker engine exists
    if shutil.which("docker") is None or os.environ.get("SKYPATH_NO_TESTCONTAINERS"):
        return None
    try:
        from testcontainers.neo4j import Neo4jContainer  # type: ignore[import-not-found]
        from testcontainers.redis import RedisContainer  # type: ignore[import-not-found]
    except ImportError:
        return None
    neo = Neo4jContainer("neo4j:5.26-community").start()
    red = RedisContainer("redis:7").start()
    return {
        "SKYPATH_NEO4J_URI": neo.get_connection_url(), "SKYPATH_NEO4J_USER": "neo4j",
        "SKYPATH_NEO4J_PASSWORD": neo.password,
        "SKYPATH_REDIS_URL": f"redis://{red.get_container_host_ip()}:{red.get_exposed_port(6379)}/0",
    }


@pytest.fixture(scope="session")
def services() -> dict[str, Any]:
    from backend import services as svc

    if not os.environ.get("SKYPATH_NEO4J_URI"):
        try:
            svc.services_up()
        except svc.ServiceError:
            env = _testcontainers()
            if env is None:
                raise
            os.environ.update(env)
    status = svc.services_status()
    assert status["neo4j"]["running"], status
    return status


@pytest.fixture(scope="session")
def neo4j_driver(services: dict[str, Any]) -> Iterator[Driver]:
    from backend.settings import neo4j_settings
    from graph_schema.store import ensure_schema

    s = neo4j_settings()
    driver = GraphDatabase.driver(s.uri, auth=(s.user, s.password), notifications_min_severity="OFF")
    ensure_schema(driver)
    yield driver
    driver.close()


@pytest.fixture(scope="session")
def redis_client(services: dict[str, Any]) -> Any:
    import redis

    from backend.settings import redis_url

    client = redis.Redis.from_url(redis_url())
    yield client
    client.close()


@pytest.fixture
def fresh_account_id() -> str:
    return str(random.randint(10**15, 10**16 - 1))


@pytest.fixture
def sample_account(neo4j_driver: Driver, tmp_path: Any) -> Iterator[str]:
    """A fresh account loaded from the sample snapshot, removed (with its records) afterwards."""
    from backend.ingest import ingest_snapshot
    from graph_schema.store import delete_account
    from tests.helpers.sample import write_sample

    account_id = str(random.randint(10**15, 10**16 - 1))
    ingest_snapshot(neo4j_driver, write_sample(tmp_path, account_id))
    yield account_id
    delete_account(neo4j_driver, account_id)


@pytest.fixture
def cspm_account(neo4j_driver: Driver, sample_account: str) -> str:
    """The sample account on pay-as-you-go with CSPM on the Ultimate edition: every item may run."""
    from backend import billing

    billing.set_plan(neo4j_driver, sample_account, model="payg", edition="ultimate", cspm=True)
    return sample_account
