"""A check item is a declaration; its logic is Cypher predicates over one node `n` of its asset label.

The engine composes the population query, the failing query and the visual query from the same
predicates, so an item's logic is written once:

- `applies`: which nodes of `asset_type` the item is about (default: all of the account's);
- `collected`: the data the decision needs was collected (else the result is NOT_CHECK, never PASS) — and
  the asset was seen by the latest sync (not `_stale`: kept only because its scope failed);
- `fails`: the asset does not pass.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

SEVERITIES = ("critical", "high", "medium", "low")
TIERS = ("free", "paid")
KINDS = ("cloud", "baseline")
BASELINE_CATEGORIES = ("weak_password", "account", "ssh", "password_policy", "file", "patch", "container")
LEGACY_EDITIONS = ("anti-virus", "advanced", "enterprise", "ultimate")
ID_PATTERN = re.compile(r"^(ACS|HOST)_[A-Z0-9]+_[A-Za-z0-9]+$")

PACKAGES = ("CIS_ALIBABA_CLOUD_2_0", "MLPS_2_0_L3", "CIS_ALIBABA_CLOUD_LINUX_3", "WEAK_PASSWORD")


@dataclass(frozen=True)
class Example:
    """A minimal node for the item's table-driven test: properties (and related nodes)."""

    props: dict[str, Any]
    # (rel type out of n, or "<TYPE" into n, or "" for none; label; props, with "_rel" holding the relationship's)
    related: tuple[tuple[str, str, dict[str, Any]], ...] = ()


@dataclass(frozen=True)
class CheckItem:
    id: str
    title: str
    product: str
    asset_type: str
    severity: str
    tier: str
    fails: str
    collected: str = "true"
    applies: str = "true"
    kind: str = "cloud"
    category: str | None = None
    description: str = ""
    refs: dict[str, str] = field(default_factory=dict)  # package id → requirement/section
    remediation: str = ""
    remediation_action: str | None = None  # the OpenAPI action that fixes it (see checks/remediation.py)
    legacy_free_editions: tuple[str, ...] = ()
    visual: str | None = None
    passing_example: Example | None = None
    failing_example: Example | None = None
    custom: bool = False
    custom_query: str | None = None  # custom items: read-only Cypher returning the failing asset_id
    # a container (KSPM) cloud item: only the Ultimate edition with CSPM runs it (spec/billing.md)
    kspm: bool = False

    def __post_init__(self) -> None:
        if not ID_PATTERN.match(self.id):
            raise ValueError(f"check id {self.id!r} must look like ACS_<PRODUCT>_<Name> or HOST_<AREA>_<Name>")
        if self.severity not in SEVERITIES:
            raise ValueError(f"{self.id}: severity {self.severity!r} not in {SEVERITIES}")
        if self.tier not in TIERS:
            raise ValueError(f"{self.id}: tier {self.tier!r} not in {TIERS}")
        if self.kind not in KINDS:
            raise ValueError(f"{self.id}: kind {self.kind!r} not in {KINDS}")
        if self.kind == "baseline" and self.category not in BASELINE_CATEGORIES:
            raise ValueError(f"{self.id}: baseline items need a category in {BASELINE_CATEGORIES}")
        for pkg in self.refs:
            if pkg not in PACKAGES:
                raise ValueError(f"{self.id}: unknown compliance package {pkg}")

    @property
    def id_expr(self) -> str:
        return "n.arn" if self.asset_type == "Account" else "n.id"

    @property
    def population_query(self) -> str:
        return (
            f"MATCH (n:{self.asset_type} {{account_id: $account_id}}) WHERE {self.applies} "
            f"RETURN {self.id_expr} AS asset_id"
        )

    @property
    def failing_query(self) -> str:
        if self.custom_query:
            return self.custom_query
        return (
            f"MATCH (n:{self.asset_type} {{account_id: $account_id}}) "
            f"WHERE ({self.applies}) AND ({self.collected}) AND ({self.fails}) RETURN {self.id_expr} AS asset_id"
        )

    def evaluation_query(self, one_asset: bool = False) -> str:
        """One set-based query: every asset of the population with what the engine needs. An asset kept from
        an earlier sync because its scope failed in the latest one (`_stale`) is not collected."""
        only = f" AND {self.id_expr} = $asset_id" if one_asset else ""
        return f"{self._population_match()}{only} RETURN {self._facts()}"

    def _population_match(self) -> str:
        return f"MATCH (n:{self.asset_type} {{account_id: $account_id}}) WHERE ({self.applies})"

    def _facts(self) -> str:
        """Per asset: its id, region and what decides its status."""
        return (
            f"{self.id_expr} AS asset_id, coalesce(n.region, 'global') AS region, "
            "coalesce(n.supported, true) AS supported, coalesce(n.unsupported_checks, []) AS unsupported, "
            f"coalesce(({self.collected}), false) AND NOT coalesce(n._stale, false) AS collected, "
            f"({self.fails}) AS fails"
        )

    def grouped_evaluation_query(self) -> str:
        """The population's evaluation with its assets grouped by outcome: one row per (region, outcome) with
        the asset ids listed. The same facts as `evaluation_query`, in a few rows instead of one per asset:
        a driver decodes a list of ids far faster than as many records."""
        return (f"{self._population_match()} WITH {self._facts()} "
                "RETURN region, supported, unsupported, collected, fails, collect(asset_id) AS asset_ids")

    @property
    def visual_query(self) -> str:
        return self.visual or (
            f"MATCH (n:{self.asset_type} {{account_id: $account_id}}) WHERE {self.id_expr} = $asset_id "
            "OPTIONAL MATCH (n)-[r]-(m) WHERE m.account_id = $account_id RETURN n, r, m LIMIT 100"
        )

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id, "title": self.title, "product": self.product, "asset_type": self.asset_type,
            "severity": self.severity, "tier": self.tier, "kind": self.kind, "category": self.category,
            "description": self.description, "refs": dict(self.refs), "remediation": self.remediation,
            "remediation_action": self.remediation_action, "legacy_free_editions": list(self.legacy_free_editions),
            "population_query": self.population_query, "failing_query": self.failing_query,
            "visual_query": self.visual_query, "custom": self.custom,
        }


def item_factory(product: str, asset_type: str) -> Callable[..., CheckItem]:
    """A declaration helper for one product's items: positional fields in a fixed order."""

    def make(check_id: str, title: str, severity: str, tier: str, collected: str, fails: str,
             refs: dict[str, str], description: str, remediation: str, action: str | None,
             passing: dict[str, Any], failing: dict[str, Any]) -> CheckItem:
        return CheckItem(
            id=check_id, title=title, product=product, asset_type=asset_type, severity=severity, tier=tier,
            collected=collected, fails=fails, refs=refs, description=description, remediation=remediation,
            remediation_action=action, passing_example=Example(passing), failing_example=Example(failing),
        )

    return make
