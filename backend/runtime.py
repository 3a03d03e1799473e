"""Process-wide handles: the Neo4j driver (schema ensured once) and the Redis client."""

from __future__ import annotations

import threading
from functools import lru_cache

from neo4j import Driver, GraphDatabase

from graph_schema.store import ensure_schema

_lock = threading.Lock()
_schema_done: set[str] = set()


@lru_cache(maxsize=1)
def _driver(uri: str, user: str, password: str) -> Driver:
    return GraphDatabase.driver(uri, auth=(user, password), max_connection_pool_size=50,
                                notifications_min_severity="OFF")


def get_driver(ensure: bool = True) -> Driver:
    from backend.settings import neo4j_settings

    s = neo4j_settings()
    driver = _driver(s.uri, s.user, s.password)
    if ensure:
        with _lock:
            if s.uri not in _schema_done:
                ensure_schema(driver)
                _schema_done.add(s.uri)
    return driver
