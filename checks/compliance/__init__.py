"""Compliance frameworks as data: each package's requirements (id → section, title) and, for the
requirements Skypath cannot decide from what it collects, why not.

A check item names the requirement it evidences in `refs[package]` (one requirement per package; a
requirement may be evidenced by several items). Every requirement of a framework is in exactly one
of three states, and `tests/unit/test_compliance_coverage.py` holds the catalog to it:

- mapped: at least one catalog item refers to it;
- pending: decidable from data the snapshot format already records, not implemented yet (`pending`
  says what is missing);
- not decidable: `not_decidable` says why (the data is not collected, or the benchmark's check is a
  manual review).

An item referring to an id the framework does not have is an error, and so is a requirement that is
mapped and also declared not decidable.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class Requirement:
    id: str
    section: str
    title: str
    assessment: str = ""  # the framework's own: "automated" / "manual" ("" when it has none)
    profile: str = ""  # CIS profile: "Level 1" / "Level 2"
    not_decidable: str | None = None  # why Skypath cannot decide it from what it collects
    pending: str | None = None  # decidable from recorded data, not implemented yet: what is missing
    note: str = ""  # how Skypath decides it, where that is partial or differs from the framework's audit

    @property
    def decidable(self) -> bool:
        return self.not_decidable is None


@dataclass(frozen=True)
class Framework:
    package: str
    title: str
    source: str  # where the requirement list comes from
    sections: dict[str, str]  # section id → name, in the framework's order
    requirements: tuple[Requirement, ...]
    scope: str = ""  # what part of the framework the table covers, when not all of it
    by_id: dict[str, Requirement] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        table = {r.id: r for r in self.requirements}
        if len(table) != len(self.requirements):
            raise ValueError(f"{self.package}: duplicate requirement ids")
        for r in self.requirements:
            if r.section not in self.sections:
                raise ValueError(f"{self.package} {r.id}: unknown section {r.section!r}")
            if r.not_decidable is not None and r.pending is not None:
                raise ValueError(f"{self.package} {r.id}: pending and not decidable at once")
        object.__setattr__(self, "by_id", table)


class _HasRefs(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def refs(self) -> dict[str, str]: ...


def natural_key(text: str) -> list[Any]:
    """'1.10' after '1.9', '8.1.4.10' after '8.1.4.2'."""
    return [(0, int(x), "") if x.isdigit() else (1, 0, x) for x in re.split(r"[.\s-]+", text) if x]


def mapped_items(framework: Framework, items: Iterable[_HasRefs]) -> dict[str, list[str]]:
    """requirement id → ids of the items that refer to it (requirements no item refers to are absent)."""
    out: dict[str, list[str]] = {}
    for item in items:
        ref = item.refs.get(framework.package)
        if ref is not None:
            out.setdefault(ref, []).append(item.id)
    return out


def problems(framework: Framework, items: Iterable[_HasRefs]) -> list[str]:
    """What is wrong between the catalog and the framework's table (empty: consistent)."""
    mapped = mapped_items(framework, items)
    out = [f"{item_id} refers to {framework.package} {ref!r}, which is not a requirement of it"
           for ref, ids in sorted(mapped.items()) if ref not in framework.by_id for item_id in ids]
    for r in framework.requirements:
        if r.id in mapped and r.not_decidable is not None:
            out.append(f"{framework.package} {r.id} is mapped to {mapped[r.id]} but declared not decidable")
        if r.id in mapped and r.pending is not None:
            out.append(f"{framework.package} {r.id} is mapped to {mapped[r.id]} but still declared pending")
        if r.id not in mapped and r.not_decidable is None and r.pending is None:
            out.append(f"{framework.package} {r.id} ({r.title}) is mapped to no item and has no reason")
    return out


def coverage(framework: Framework, items: Iterable[_HasRefs]) -> dict[str, Any]:
    """mapped / decidable / total, with the ids behind each count."""
    mapped = mapped_items(framework, items)
    known = [r for r in framework.requirements if r.id in mapped]
    return {
        "package": framework.package,
        "total": len(framework.requirements),
        "decidable": sum(1 for r in framework.requirements if r.decidable),
        "mapped": len(known),
        "pending": [r.id for r in framework.requirements if r.id not in mapped and r.pending is not None],
        "not_decidable": [r.id for r in framework.requirements if not r.decidable],
    }


def _frameworks() -> dict[str, Framework]:
    from checks.compliance import cis_alibaba_cloud_2_0, cis_alibaba_cloud_linux_3, mlps_2_0_l3, weak_password

    return {m.FRAMEWORK.package: m.FRAMEWORK
            for m in (cis_alibaba_cloud_2_0, mlps_2_0_l3, cis_alibaba_cloud_linux_3, weak_password)}


FRAMEWORKS: dict[str, Framework] = _frameworks()


def framework(package: str) -> Framework:
    try:
        return FRAMEWORKS[package]
    except KeyError:
        raise KeyError(f"no requirements table for package {package!r}") from None


__all__ = ["FRAMEWORKS", "Framework", "Requirement", "coverage", "framework", "mapped_items", "natural_key", "problems"]
