"""The product declarations: every module of this package that defines `PRODUCT` (a loaders.declaration.Product)
is one product. Adding a product is adding a module here — nothing registers it elsewhere."""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from graph_schema.model import NodeSchema, RelSchema
from loaders.declaration import Api, AttackRole, Product
from loaders.listing import FilteredView, Listing

_discovering: list[bool] = []


@cache
def products() -> tuple[Product, ...]:
    """Every declared product, in transform order. A declaration module must not ask for the products while it
    is imported (the answer would miss itself)."""
    if _discovering:
        raise RuntimeError("a product declaration asked for the declared products while being imported")
    _discovering.append(True)
    try:
        return _discover()
    finally:
        _discovering.clear()


def _discover() -> tuple[Product, ...]:
    found = []
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        product = getattr(module, "PRODUCT", None)
        if isinstance(product, Product):
            found.append(product)
    names = [p.name for p in found]
    if len(set(names)) != len(names):
        raise ValueError(f"two product declarations share a name: {sorted(names)}")
    return tuple(sorted(found, key=lambda p: (p.order, p.name)))


@cache
def apis() -> dict[str, Api]:
    """Every declared OpenAPI product by its snapshot code (`Rds`); a code is declared once."""
    by_code: dict[str, Api] = {}
    for product in products():
        for api in product.apis:
            if by_code.setdefault(api.code, api) is not api:
                raise ValueError(f"API {api.code} is declared twice")
    return by_code


def api(code: str) -> Api:
    return apis()[code]


def schemas() -> tuple[list[NodeSchema], list[RelSchema]]:
    """The node and relationship schemas the products declare (graph_schema.model merges them with its core)."""
    seen_rels: dict[str, RelSchema] = {}
    for product in products():
        for rel in product.rels:
            seen_rels.setdefault(rel.type, rel)
    return [n for p in products() for n in p.nodes], list(seen_rels.values())


def listing(code: str, action: str) -> Listing | None:
    found = apis().get(code)
    return found.listings.get(action) if found else None


def view(code: str, action: str) -> FilteredView | None:
    found = apis().get(code)
    return found.views.get(action) if found else None


def by_version() -> dict[str, str]:
    """API version → product code (the emulator tells RPC products apart by the version a request names)."""
    return {a.version: a.code for a in apis().values() if a.version}


def global_codes() -> frozenset[str]:
    return frozenset(a.code for a in apis().values() if a.is_global)


def _roles(role: str) -> list[tuple[str, AttackRole]]:
    """(declaring product's name, role) of every declared attack-path role of one kind, in declaration order."""
    return [(p.name, r) for p in products() for r in p.attack_roles if r.role == role]


@cache
def attack_targets() -> dict[str, AttackRole]:
    """The declared attack-path targets by node label (a label is a target once), in declaration order."""
    out: dict[str, AttackRole] = {}
    for _, role in _roles("target"):
        if out.setdefault(role.label, role) is not role:
            raise ValueError(f"{role.label} is declared an attack-path target twice")
    return out


@cache
def product_of_target(label: str) -> str:
    """The name of the product declaring `label` a target (`oss`): attack-path types name it."""
    return next(name for name, role in _roles("target") if role.label == label)


def attack_labels(role: str) -> frozenset[str]:
    """The labels declared with an attack-path `role` (entry, target, pivot)."""
    return frozenset(r.label for _, r in _roles(role))
