"""A product as one declaration (the model: Cartography's intel module + schema): the OpenAPI products it
calls with their SDK and version, how its listings page, how it collects and transforms, the node and
relationship schemas whose declared properties are all a loader may write, and — as data — the roles its
assets play in attack paths. Everything else (the live transport, the emulator, the sync, the writer, the
schema/property test) reads these declarations; a product's name/version pair is written once, here."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from graph_schema.model import NodeSchema, RelSchema
from graph_schema.store import GraphBatch
from loaders.base import CollectContext
from loaders.listing import FilteredView, Listing


@dataclass(frozen=True)
class Api:
    """One OpenAPI product as snapshots name it (`code`, `version`) and how to reach it live."""

    code: str
    version: str
    # host template ("ecs.{region}.aliyuncs.com") or a central host ("rds.aliyuncs.com")
    endpoint: str
    # the product's official SDK client module; None: the generic OpenAPI client (the same `call_api` every
    # product client inherits), so a new RPC product needs no new dependency
    sdk_module: str | None = None
    style: str = "rpc"  # "rpc", "roa" (SLS), "oss" (XML)
    is_global: bool = False
    # emulator tables: how listing actions page, and requests answered by filtering a recording
    listings: Mapping[str, Listing] = field(default_factory=dict)
    views: Mapping[str, FilteredView] = field(default_factory=dict)
    # ROA products: action → (path template, the param naming the host's sub-domain, e.g. SLS's project, or None);
    # the other params go to the query string. The emulator routes requests back to actions with the same table.
    routes: Mapping[str, tuple[str, str | None]] = field(default_factory=dict)

    @property
    def pair(self) -> tuple[str, str]:
        """(code, version), as every `Transport.call` takes them."""
        return (self.code, self.version)


ATTACK_MODES = ("read", "write", "admin")


@dataclass(frozen=True)
class AttackRole:
    """What an asset of `label` is in an attack path: an `entry` (reachable from outside when `exposed`
    holds), a `target` (data whose RAM actions mean read / write / admin), or a `pivot` (an identity or
    compute an intruder moves through).

    Targets are what the attack-path engine reads (checks/analysis.py derives CAN_ACCESS per declared mode,
    checks/paths.py and checks/path_index.py walk to them): a principal has a mode on a target when its
    policies allow one of that mode's actions on the target's `resource` ARN. Entries and pivots are
    structural (their edges — CAN_REACH, HAS_ROLE, AUTHENTICATES, CAN_ASSUME — are derived by the engine);
    their declarations must name exactly the labels the engine uses (a test holds them together)."""

    label: str
    role: str
    exposed: str = ""  # Cypher predicate over `n`: the asset is reachable from the internet
    read: tuple[str, ...] = ()
    write: tuple[str, ...] = ()
    admin: tuple[str, ...] = ()
    # the RAM resource ARN of one asset, with {region}, {account} and {id}: "acs:kvstore:{region}:{account}:instance/{id}"
    resource: str = ""

    def __post_init__(self) -> None:
        if self.role not in ("entry", "target", "pivot"):
            raise ValueError(f"{self.label}: attack-path role {self.role!r}")
        if not (self.label.isascii() and self.label.isidentifier() and self.label[:1].isupper()):
            raise ValueError(f"attack-path label {self.label!r} is not a node label")  # queries name it
        if self.role == "target":
            if not self.modes:
                raise ValueError(f"{self.label}: a target declares the actions of at least one mode")
            parts = self.resource.split(":", 4)
            if len(parts) != 5 or parts[0] != "acs" or not parts[1] or not parts[4].endswith("{id}") \
                    or any(c in self.prefix for c in "*?{}") or self.prefix != self.prefix.lower():
                raise ValueError(f"{self.label}: resource {self.resource!r} is not acs:<service>:…:<prefix>{{id}}")
            if any(":" not in action or "*" in action or "?" in action for _, actions in self.modes
                   for action in actions):
                raise ValueError(f"{self.label}: a mode's actions are concrete `service:Action` names")

    @property
    def modes(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """(mode, its actions) for every declared mode, in ATTACK_MODES order."""
        return tuple((m, getattr(self, m)) for m in ATTACK_MODES if getattr(self, m))

    @property
    def access(self) -> tuple[str, ...]:
        """The modes the account (full control) has on such a target."""
        return tuple(m for m, _ in self.modes)

    @property
    def service(self) -> str:
        """The RAM service of the resource ARN (`rds`)."""
        return self.resource.split(":", 2)[1]

    @property
    def prefix(self) -> str:
        """What precedes the asset id in the ARN's resource part (`dbinstance/`; '' for OSS buckets)."""
        return self.resource.split(":", 4)[4].removesuffix("{id}")

    def arn(self, account_id: str, region: str | None, asset_id: str) -> str:
        return self.resource.format(region=region or "*", account=account_id, id=asset_id)


@dataclass(frozen=True)
class Product:
    """One product: `collect(ctx, region)` talks to the transport only (region "global" for global products),
    `transform(raw, batch)` is pure; `finish(batch)` runs once every product is transformed (cross-product
    links). Products are collected in parallel and transformed in `order`."""

    name: str  # scope prefix (`rds:cn-hangzhou`) and region-limitation key (loaders/regions.py)
    apis: tuple[Api, ...]
    collect: Callable[[CollectContext, str], Any] | None = None
    transform: Callable[[Any, GraphBatch], None] | None = None
    nodes: tuple[NodeSchema, ...] = ()
    rels: tuple[RelSchema, ...] = ()
    is_global: bool = False
    order: int = 100
    finish: Callable[[GraphBatch], None] | None = None
    attack_roles: tuple[AttackRole, ...] = ()
    # the synthetic account generator's part: `synthetic(call, rng, region, count)` records `count` assets'
    # calls in the region through `call(product, version, action, region, params, response)`
    synthetic: Callable[[Callable[..., None], random.Random, str, int], None] | None = None
    synthetic_share: float = 0.01  # of the generated account's assets

    @property
    def title(self) -> str:
        """How errors name the product: its first API's code (`Rds`)."""
        return self.apis[0].code if self.apis else self.name

    @property
    def region_sources(self) -> tuple[str, ...]:
        """The snapshot product codes whose recorded regions this product visits."""
        return tuple(api.code.lower() for api in self.apis)
