"""Hosts: what the host agent reports (loaders/hosts.py reads the reports; no OpenAPI product is called)."""

from __future__ import annotations

from graph_schema.model import NodeSchema, RelSchema
from loaders.declaration import Product
from loaders.hosts import HOST_FACTS

PRODUCT = Product(
    "hosts", (),
    # only the declared facts of a report are kept (loaders/hosts.py HOST_FACTS)
    nodes=(NodeSchema("Host", "a server as its host agent reported it", tuple(HOST_FACTS)),),
    rels=(RelSchema("RUNS_ON", "Host", "EcsInstance", "the host is this ECS instance"),),
)
