"""Compliance packages, custom policies (named selections stored in the graph) and reports."""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from neo4j import Driver

from checks.catalog import BY_ID, CATALOG
from checks.model import PACKAGES, CheckItem

PACKAGE_TITLES = {
    "CIS_ALIBABA_CLOUD_2_0": "CIS Alibaba Cloud Foundations Benchmark v2.0",
    "MLPS_2_0_L3": "China MLPS 2.0 (GB/T 22239-2019) level 3",
    "CIS_ALIBABA_CLOUD_LINUX_3": "CIS Alibaba Cloud Linux 3 Benchmark",
    "WEAK_PASSWORD": "Weak passwords (the Advanced edition's baseline)",
}
POLICY_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


class SelectionError(ValueError):
    pass


def package_items(package: str) -> list[CheckItem]:
    if package not in PACKAGES:
        raise SelectionError(f"unknown package {package!r}; known: {', '.join(PACKAGES)}")
    return [i for i in CATALOG if package in i.refs]


def resolve(checks: list[str] | None, package: str | None, policy_items: list[str] | None) -> list[CheckItem]:
    """--check ids, --package, --policy (union); nothing selected means the whole catalog."""
    chosen: dict[str, CheckItem] = {}
    for cid in checks or []:
        if cid not in BY_ID:
            raise SelectionError(f"unknown check item {cid!r}")
        chosen[cid] = BY_ID[cid]
    if package:
        for item in package_items(package):
            chosen[item.id] = item
    for cid in policy_items or []:
        if cid in BY_ID:
            chosen[cid] = BY_ID[cid]
    if not checks and not package and policy_items is None:
        return list(CATALOG)
    return [chosen[k] for k in sorted(chosen)]


def account_items(driver: Driver, account_id: str) -> dict[str, CheckItem]:
    """Every item the account can run: the catalog and its own custom items."""
    from checks.custom import custom_items

    return {**BY_ID, **{i.id: i for i in custom_items(driver, account_id)}}


def select_items(driver: Driver, account_id: str, checks: list[str] | None, package: str | None,
                 policy: str | None) -> list[CheckItem]:
    """What a scan runs: --check ids (catalog or the account's custom items), --package, --policy (union);
    nothing selected means the whole catalog and every custom item. Used by the CLI, the API and the workers."""
    known = account_items(driver, account_id)
    custom = {k: v for k, v in known.items() if k not in BY_ID}
    for cid in checks or []:
        if cid not in known:
            raise SelectionError(f"unknown check item {cid!r}")
    policy_ids = load_policy(driver, account_id, policy) if policy else None
    if not checks and not package and policy_ids is None:
        return list(CATALOG) + list(custom.values())
    chosen = {i.id: i for i in resolve([c for c in checks or [] if c in BY_ID], package, None)} if (
        package or any(c in BY_ID for c in checks or [])) else {}
    for cid in [*(checks or []), *(policy_ids or [])]:
        if cid in known:
            chosen[cid] = known[cid]
    return [chosen[k] for k in sorted(chosen)]


def save_policy(driver: Driver, account_id: str, name: str, checks: list[str], packages: list[str], who: str) -> dict[str, Any]:
    if not POLICY_NAME.match(name):
        raise SelectionError("policy names are 1-64 letters, digits, '.', '_' or '-'")
    known = account_items(driver, account_id)
    unknown = [c for c in checks if c not in known]
    if unknown:
        raise SelectionError(f"unknown check item {unknown[0]!r}")
    items = [known[c] for c in checks]
    for pkg in packages:
        items.extend(package_items(pkg))
    ids = sorted({i.id for i in items})
    if not ids:
        raise SelectionError("a policy needs at least one --check or --package")
    with driver.session() as session:
        session.run(
            "MERGE (p:CustomPolicy {uid: $uid}) SET p.account_id = $account, p.name = $name, p.items = $ids, "
            "p.packages = $packages, p.who = $who, p.updated = toString(datetime())",
            uid=f"{account_id}:{name}", account=account_id, name=name, ids=ids, packages=packages, who=who,
        ).consume()
    return {"name": name, "items": ids, "packages": packages}


def load_policy(driver: Driver, account_id: str, name: str) -> list[str]:
    with driver.session() as session:
        rec = session.run("MATCH (p:CustomPolicy {uid: $uid}) RETURN p.items AS items", uid=f"{account_id}:{name}").single()
    if rec is None:
        raise SelectionError(f"no custom policy named {name!r} for account {account_id}")
    return list(rec["items"])


def compliance_report(package: str, findings: list[dict[str, Any]]) -> dict[str, Any]:
    """requirement/section → items → pass rate, from the latest results."""
    items = package_items(package)
    by_item: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for f in findings:
        by_item[f["check_id"]][f["status"]] += 1
    sections: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in items:
        counts = by_item.get(item.id, {})
        checked = counts.get("PASS", 0) + counts.get("NOT_PASS", 0)
        sections[item.refs[package]].append({
            "check_id": item.id, "title": item.title, "pass": counts.get("PASS", 0),
            "not_pass": counts.get("NOT_PASS", 0), "not_checked": counts.get("NOT_CHECK", 0),
            "pass_rate": round(counts.get("PASS", 0) / checked, 4) if checked else None,
        })
    out_sections = []
    total_pass = total_checked = 0
    for section in sorted(sections, key=_section_key):
        rows = sections[section]
        p = sum(r["pass"] for r in rows)
        c = sum(r["pass"] + r["not_pass"] for r in rows)
        total_pass += p
        total_checked += c
        out_sections.append({"requirement": section, "items": rows, "pass_rate": round(p / c, 4) if c else None,
                             "compliant": c > 0 and p == c})
    return {"package": package, "title": PACKAGE_TITLES[package], "items": len(items),
            "pass_rate": round(total_pass / total_checked, 4) if total_checked else None, "sections": out_sections}


def _section_key(section: str) -> list[Any]:
    return [int(x) if x.isdigit() else x for x in re.split(r"[.\s]", section)]
