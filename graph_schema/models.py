"""neomodel models for convenient reads, generated from the same declarations as the writer.

Bulk writes go through graph_schema/store.py (UNWIND batches); these models are for reading a
handful of nodes in Python (`models.EcsInstance.nodes.filter(account_id=…)`). Properties not
declared here stay in the graph; every model has the keys and the scope/region/supported flags.
"""

from __future__ import annotations

from typing import Any

from neo4j import Driver
from neomodel import BooleanProperty, StringProperty, StructuredNode, db

from graph_schema.model import NODE_SCHEMAS


def _model(label: str) -> type[StructuredNode]:
    attrs: dict[str, Any] = {
        "__label__": label,
        "__module__": __name__,
        "uid": StringProperty(required=True),
        "account_id": StringProperty(required=True),
        # neomodel reserves `id`: the asset id is exposed as `asset_id`
        "asset_id": StringProperty(required=True, db_property="id"),
        "scope": StringProperty(),
        "region": StringProperty(),
        "supported": BooleanProperty(),
    }
    return type(label, (StructuredNode,), attrs)


MODELS: dict[str, type[StructuredNode]] = {schema.label: _model(schema.label) for schema in NODE_SCHEMAS}


def bind(driver: Driver) -> None:
    """Point neomodel at the driver the rest of Skypath uses (no second connection pool)."""
    db.set_connection(driver=driver)


def find(label: str, account_id: str, **filters: Any) -> list[StructuredNode]:
    """Nodes of one label in one account (tenant-scoped by construction)."""
    return list(MODELS[label].nodes.filter(account_id=account_id, **filters))
