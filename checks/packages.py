"""Compliance packages, custom policies (named selections stored in the graph) and reports."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from typing import Any

from neo4j import Driver

from checks.catalog import BY_ID, CATALOG
from checks.compliance import Requirement, coverage, framework
from checks.model import PACKAGES, CheckItem

PACKAGE_TITLES = {package: framework(package).title for package in PACKAGES}
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


def compliance_report(package: str, findings: list[dict[str, Any]], account_id: str | None = None) -> dict[str, Any]:
    """The package's requirements from the latest results: section → requirement → items → pass rate, with
    titles, and a summary (sections with their pass rates, the requirements Skypath cannot decide and why).

    Pass rates count asset results: PASS / (PASS + NOT_PASS); NOT_CHECK, WHITELIST and NOT_SUPPORTED are
    reported beside them and never count as passing. A requirement is `pass` when its items have results, none
    NOT_PASS and none NOT_CHECK; `fail` when any is NOT_PASS; `incomplete` when none fails but some result is
    NOT_CHECK; `no_results` when its items have no result (no such assets, or not scanned); `pending` when no
    item decides it yet; `not_decidable` when the data it needs is not collected (the reason says which).
    """
    items = package_items(package)
    fw = framework(package)
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for f in findings:
        counts[f["check_id"]][f["status"]] += 1
    by_requirement: dict[str, list[CheckItem]] = defaultdict(list)
    for item in items:
        by_requirement[item.refs[package]].append(item)

    sections = []
    for section_id, section_title in fw.sections.items():
        rows = [_requirement_row(r, by_requirement.get(r.id, []), counts)
                for r in fw.requirements if r.section == section_id]
        sections.append({"id": section_id, "title": section_title, **_tally(rows), "requirements": rows})
    everything = [row for s in sections for row in s["requirements"]]
    cover = coverage(fw, items)

    def listed(state: str) -> list[dict[str, Any]]:
        return [{"id": r["id"], "section": s["id"], "title": r["title"], "reason": r["reason"]}
                for s in sections for r in s["requirements"] if r["status"] == state]

    doc: dict[str, Any] = {"package": package}
    if account_id is not None:
        doc["account_id"] = account_id
    doc.update({
        "title": fw.title, "source": fw.source, "scope": fw.scope or None, "items": len(items),
        "pass_rate": _tally(everything)["pass_rate"],
        "summary": {
            "requirements": cover["total"], "decidable": cover["decidable"], "mapped": cover["mapped"],
            **{k: v for k, v in _tally(everything).items() if k != "total"},
            "sections": [{k: v for k, v in s.items() if k != "requirements"} for s in sections],
            "not_decidable": listed("not_decidable"), "pending": listed("pending"),
        },
        "sections": sections,
    })
    return doc


RESULT_KEYS = {"PASS": "pass", "NOT_PASS": "not_pass", "NOT_CHECK": "not_checked", "WHITELIST": "whitelisted",
               "NOT_SUPPORTED": "not_supported"}
REQUIREMENT_STATES = ("pass", "fail", "incomplete", "no_results", "pending", "not_decidable")


def _rate(passed: int, failed: int) -> float | None:
    return round(passed / (passed + failed), 4) if passed + failed else None


def _results(counts: Counter[str]) -> dict[str, int]:
    return {key: counts.get(status, 0) for status, key in RESULT_KEYS.items()}


def _requirement_row(req: Requirement, items: list[CheckItem], counts: dict[str, Counter[str]]) -> dict[str, Any]:
    rows = []
    total: Counter[str] = Counter()
    for item in sorted(items, key=lambda i: i.id):
        c = counts.get(item.id, Counter())
        total.update(c)
        res = _results(c)
        rows.append({"check_id": item.id, "title": item.title, "severity": item.severity, **res,
                     "pass_rate": _rate(res["pass"], res["not_pass"])})
    res = _results(total)
    status: str
    reason: str | None
    if req.not_decidable is not None:
        status, reason = "not_decidable", req.not_decidable
    elif not items:
        status, reason = "pending", req.pending
    elif res["not_pass"]:
        status, reason = "fail", None
    elif res["not_checked"]:
        status, reason = "incomplete", None
    elif res["pass"]:
        status, reason = "pass", None
    else:
        status, reason = "no_results", None
    return {"id": req.id, "title": req.title, "assessment": req.assessment or None, "profile": req.profile or None,
            "status": status, "reason": reason, "note": req.note or None, **res,
            "pass_rate": _rate(res["pass"], res["not_pass"]), "items": rows}


def _tally(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Requirement states and the asset-level pass rate over `rows`."""
    states = Counter(r["status"] for r in rows)
    passed = sum(r["pass"] for r in rows)
    failed = sum(r["not_pass"] for r in rows)
    return {"total": len(rows), **{s: states.get(s, 0) for s in REQUIREMENT_STATES}, "pass_rate": _rate(passed, failed)}
