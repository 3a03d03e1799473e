"""The graph model as data: one declaration per node label and relationship type.

Every asset node carries `account_id` (its tenant), `id` (the identifier of the spec's identifier
table), `uid` (`<account_id>:<id>`, the unique MERGE key), `scope` (the collection scope that
produced it, e.g. `ecs:cn-hangzhou`, so a failed scope never deletes what it could not see) and
`_h` (a hash of its properties, so an unchanged asset costs no write on re-ingest).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cache, cached_property


@dataclass(frozen=True)
class NodeSchema:
    label: str
    description: str
    properties: tuple[str, ...] = ()
    # an asset is something a check item can be about and that billing counts as an instance
    asset: bool = True
    extra_indexes: tuple[str, ...] = ()


@dataclass(frozen=True)
class RelSchema:
    type: str
    source: str
    target: str
    description: str
    derived: bool = False
    properties: tuple[str, ...] = field(default_factory=tuple)


# Nodes no single product owns: the tenant root (products add the account-level facts they collect, e.g. RAM's
# password policy), regions, the internet, and the analysis' principals and wildcard target. Every product's
# own schemas are in its declaration (loaders/products/).
CORE_NODE_SCHEMAS: tuple[NodeSchema, ...] = (
    NodeSchema("Account", "the tenant root: one Alibaba Cloud account",
               ("name", "arn", "collected_at", "scopes_ok", "scopes_failed",
                # the sync's own record (backend/ingest.py)
                "current_sync", "raw_digest", "analysis_version", "failed_scopes", "source"), asset=True),
    NodeSchema("Region", "a region the account has assets in", ("supported",), asset=False),
    NodeSchema("Internet", "the 0.0.0.0/0 and ::/0 source, one per account", ("name",), asset=False),
    NodeSchema("ServicePrincipal", "a cloud service a role trusts (e.g. ecs.aliyuncs.com)", (), asset=False),
    NodeSchema("ExternalPrincipal", "another account, or '*', that a trust policy names", (), asset=False),
    NodeSchema("AllTargets", "every OSS bucket (or RDS instance) of the account: the target of wildcard grants",
               ("target_label",), asset=False),
)
# any asset row may carry these, whatever the label (`unsupported_checks`: the check ids NOT_SUPPORTED on it,
# e.g. by engine version; the scan engine reads it on every item)
COMMON_PROPERTIES = frozenset({"id", "scope", "region", "supported", "unsupported_checks"})

# Per-account records that are not collected assets (results, billing, audit, user settings): each carries
# `account_id` and hangs off nothing of another tenant; indexed on account_id so tenant-scoped reads seek.
TENANT_RECORD_LABELS: dict[str, str] = {
    "Scan": "one scan run", "CheckRun": "one check item's results in one scan",
    "ItemState": "the latest status per asset of one check item", "Whitelist": "a whitelisted (item, asset)",
    "Plan": "the account's billing plan", "LedgerEntry": "one billed operation (append-only)",
    "InstanceDay": "an instance scanned on a day (per-instance plan)", "AuditEntry": "one audited action",
    "CustomCheck": "a user's check item", "CustomPolicy": "a user's named selection of items",
    "Schedule": "the account's scheduled sync (source, interval)",
    "SyncRecord": "what one sync changed (assets added/removed/changed, derived edges)",
    "PathRun": "one attack-path analysis: the (entry, target) pairs found",
    "AttackPathIndex": "the compact attack-path index of the account's current data (checks/path_index.py)",
}
# Records keyed by `uid` (MERGE targets or one per id): unique on uid like every node schema label, so concurrent
# writers meet on one node. Each with the property that tells which of two duplicates is newer (a database from
# before the constraint may hold duplicates: ensure_schema keeps the newest).
UID_RECORD_LABELS: dict[str, str] = {
    "ItemState": "updated", "Whitelist": "at", "Plan": "started", "InstanceDay": "day", "CustomCheck": "updated",
    "CustomPolicy": "updated", "Schedule": "updated", "SyncRecord": "at", "PathRun": "at", "AttackPathIndex": "version",
}
# nodes without an account: API tokens (their `accounts` list says what they may see) and webhooks (their
# `accounts` list says whose alerts they get; the console refuses both, their secrets are not in the graph)
GLOBAL_RECORD_INDEXES: dict[str, tuple[str, ...]] = {"ApiToken": ("hash",)}
# global records looked up by another unique key: a uniqueness constraint each
RECORD_UNIQUE_KEYS: dict[str, str] = {"Webhook": "id"}

CORE_REL_SCHEMAS: tuple[RelSchema, ...] = (
    RelSchema("RESOURCE", "Account", "*", "the account owns the asset"),
    RelSchema("IN_REGION", "*", "Region", "the asset lives in the region"),
    # derived by the analysis (checks/analysis.py) in the same transaction as the assets
    RelSchema("CAN_REACH", "Internet", "EcsInstance", "internet reaches the instance on ports", derived=True, properties=("ports", "via")),
    RelSchema("CAN_ASSUME", "RamUser|RamRole|RamGroup|EcsInstance", "RamRole", "principal may assume the role", derived=True, properties=("conditional", "via")),
    RelSchema("CAN_ACCESS", "RamUser|RamRole|RamGroup", "OssBucket|RdsInstance|AllTargets", "effective data access", derived=True, properties=("read", "write", "admin", "via", "conditional", "conditional_modes")),
    RelSchema("CAN_ESCALATE", "RamUser|RamRole|RamGroup", "Account|RamUser|RamRole|RamGroup", "RAM privilege escalation or full admin (→ Account), or taking over another principal", derived=True, properties=("technique", "target", "via", "conditional")),
)

@dataclass(frozen=True)
class Schemas:
    """Every node and relationship schema: the core ones above and those the product declarations own. The
    derived sets are computed once (every relationship a batch adds is checked against `rel_types`)."""

    nodes: dict[str, NodeSchema]
    rels: tuple[RelSchema, ...]

    @cached_property
    def node_labels(self) -> frozenset[str]:
        return frozenset(self.nodes)

    @cached_property
    def asset_labels(self) -> frozenset[str]:
        return frozenset(label for label, s in self.nodes.items() if s.asset)

    @cached_property
    def rel_types(self) -> frozenset[str]:
        return frozenset(r.type for r in self.rels)

    @cached_property
    def derived_rel_types(self) -> frozenset[str]:
        return frozenset(r.type for r in self.rels if r.derived)

    def allowed(self, label: str) -> frozenset[str]:
        """The properties a row of `label` may carry."""
        schema = self.nodes.get(label)
        return COMMON_PROPERTIES | frozenset(schema.properties) if schema else frozenset()


def merge_schemas(nodes: list[NodeSchema], rels: list[RelSchema]) -> Schemas:
    """One schema per label: a product may add properties to a label another declares (e.g. the Account's
    password-policy facts); the first declaration keeps its description and asset flag."""
    merged: dict[str, NodeSchema] = {}
    for schema in nodes:
        old = merged.get(schema.label)
        if old is None:
            merged[schema.label] = schema
        else:
            extra = tuple(p for p in schema.properties if p not in old.properties)
            merged[schema.label] = replace(old, properties=old.properties + extra,
                                           extra_indexes=old.extra_indexes + schema.extra_indexes)
    return Schemas(merged, tuple(rels))


# The product declarations live with the loaders (they hold collect and transform code); the graph model only
# knows the package that declares them and reads it once, on first use — never at import, so importing this
# module imports no loader.
PRODUCT_DECLARATIONS = "loaders.products"


@cache
def schemas() -> Schemas:
    declared = importlib.import_module(PRODUCT_DECLARATIONS)
    nodes, rels = declared.schemas()
    return merge_schemas([*CORE_NODE_SCHEMAS, *nodes], [*CORE_REL_SCHEMAS, *rels])


def __getattr__(name: str) -> object:
    """The aggregate names readers import (`from graph_schema.model import ASSET_LABELS`)."""
    views: dict[str, Callable[[Schemas], object]] = {
        "NODE_SCHEMAS": lambda s: tuple(s.nodes.values()), "NODE_LABELS": lambda s: s.node_labels,
        "ASSET_LABELS": lambda s: s.asset_labels, "REL_SCHEMAS": lambda s: s.rels,
        "REL_TYPES": lambda s: s.rel_types, "DERIVED_REL_TYPES": lambda s: s.derived_rel_types,
    }
    if name in views:
        return views[name](schemas())
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def node_uid(account_id: str, node_id: str) -> str:
    return f"{account_id}:{node_id}"
