"""neomodel reads over what the bulk writer stored (same declarations, same tenant scoping)."""

from __future__ import annotations

from pathlib import Path

from neo4j import Driver

from backend.ingest import ingest_snapshot
from graph_schema import models
from graph_schema.store import delete_account
from tests.helpers.sample import write_sample


def test_models_read_the_loaded_account(neo4j_driver: Driver, tmp_path: Path, fresh_account_id: str) -> None:
    try:
        ingest_snapshot(neo4j_driver, write_sample(tmp_path, fresh_account_id))
        models.bind(neo4j_driver)
        instances = models.find("EcsInstance", fresh_account_id)
        assert len(instances) == 8 and all(i.account_id == fresh_account_id for i in instances)
        unsupported = models.find("EcsInstance", fresh_account_id, supported=False)
        assert [i.asset_id for i in unsupported] == ["i-p0wsyd0000000001"]
        assert [b.asset_id for b in models.find("OssBucket", fresh_account_id, asset_id="acme-logs")] == ["acme-logs"]
        assert models.find("OssBucket", "0000000000000000") == []
    finally:
        delete_account(neo4j_driver, fresh_account_id)
