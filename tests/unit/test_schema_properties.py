"""The node schemas are not decorative: every property a check item's Cypher or a remediation's context query
reads is declared by a product (or the core model) and produced by its loader on the recorded accounts, and a
loader writing a property its product does not declare fails the load."""

from __future__ import annotations

import re
from collections import defaultdict
from functools import cache

import pytest

from checks.analysis import analyse
from checks.catalog import CATALOG
from checks.remediation import REMEDIATIONS
from graph_schema.model import COMMON_PROPERTIES, schemas
from graph_schema.store import GraphBatch, UndeclaredPropertyError, check_declared
from loaders.products import products
from loaders.snapshot import ReplayTransport, parse_snapshot
from loaders.sync import collect_account, parse_collected_at
from loaders.synthetic import generate
from tests.helpers.extra_products import with_extra_products, with_product_samples
from tests.helpers.sample import sample_doc

NODE_VAR = re.compile(r"\((\w+):(\w+(?:\|\w+)*)")
REL_VAR = re.compile(r"\[(\w+):(\w+(?:\|\w+)*)")
READ = re.compile(r"(?<![\w.'])([A-Za-z_]\w*)\.([A-Za-z_]\w*)\b")
# what the writer itself keeps on every node (keys, hash, staleness) and the sync's own record on the account
WRITER_KEYS = frozenset({"uid", "account_id", "_h", "_stale"})
SYNC_RECORD = frozenset({"current_sync", "raw_digest", "analysis_version", "failed_scopes", "source"})


def reads(query: str, bound: dict[str, str] | None = None) -> set[tuple[str, str, str]]:
    """(kind, label or type, property) for every `var.prop` whose variable the query binds to a label."""
    nodes = dict(bound or {})
    nodes.update(dict(NODE_VAR.findall(query)))
    rels = dict(REL_VAR.findall(query))
    text = re.sub(r"'[^']*'", "''", query)  # literals ('acs:log:…') are not reads
    found = set()
    for var, prop in READ.findall(text):
        if var in nodes:
            found.update(("node", label, prop) for label in nodes[var].split("|"))
        elif var in rels:
            found.update(("rel", rel_type, prop) for rel_type in rels[var].split("|"))
    return found


@cache
def produced() -> dict[str, set[str]]:
    """Properties the loaders and the analysis write, per label, on the recorded accounts (the sample, the
    recorded extra products, the synthetic generator's)."""
    written: dict[str, set[str]] = defaultdict(set)
    for doc in (with_product_samples(with_extra_products(sample_doc())), generate(400)):
        snap = parse_snapshot(doc)
        got = collect_account(ReplayTransport(snap), collected_at=parse_collected_at(snap.collected_at),
                              host_reports=snap.hosts)
        analyse(got.batch, snap.account_id, got.scopes)
        check_declared(got.batch)
        for label, rows in got.batch.nodes.items():
            for row in rows.values():
                written[label] |= set(row)
    written["Account"] |= SYNC_RECORD
    return written


def queries() -> list[tuple[str, str, dict[str, str]]]:
    found = []
    for item in CATALOG:
        if item.custom_query:
            continue
        bound = {"n": item.asset_type}
        for query in (item.evaluation_query(), item.visual_query):
            found.append((item.id, query, bound))
    for item_id, rem in REMEDIATIONS.items():
        found.append((f"remediation {item_id}", rem.context_query, {}))
    return found


def test_the_walk_finds_reads() -> None:
    assert reads("MATCH (n:RdsInstance) WHERE n.tde_enabled AND 'x.y' = n.engine") == {
        ("node", "RdsInstance", "tde_enabled"), ("node", "RdsInstance", "engine")}
    assert ("rel", "CAN_ACCESS", "write") in reads("MATCH (p)-[c:CAN_ACCESS]->(b:OssBucket) WHERE c.write")
    assert len(queries()) > len(CATALOG)


def test_every_property_read_is_declared_and_produced() -> None:
    declared = schemas()
    rel_props = {r.type: set(r.properties) | {"scope", "_h"} for r in declared.rels}
    problems = []
    for where, query, bound in queries():
        for kind, name, prop in sorted(reads(query, bound)):
            if prop in WRITER_KEYS:
                continue
            if kind == "rel":
                if name in rel_props and prop not in rel_props[name]:
                    problems.append(f"{where}: reads [:{name}].{prop}, declared by no relationship schema")
                continue
            if name not in declared.nodes:
                continue  # tenant records (ItemState, CheckRun …) are not collected assets
            if prop not in declared.allowed(name):
                problems.append(f"{where}: reads {name}.{prop}, declared by no product")
            elif prop not in produced().get(name, set()) and prop not in COMMON_PROPERTIES:
                problems.append(f"{where}: reads {name}.{prop}, declared but produced by no loader")
    assert not problems, "\n".join(problems)


def test_every_declared_property_is_produced() -> None:
    """No stale declaration (like `tde_status` declared while `tde_enabled` was written)."""
    declared = schemas()
    stale = {label: sorted(set(s.properties) - produced().get(label, set()))
             for label, s in declared.nodes.items() if label in produced()}
    assert not {k: v for k, v in stale.items() if v}, stale


def test_an_undeclared_property_fails_the_load() -> None:
    batch = GraphBatch("1234567890123456")
    batch.node("RdsInstance", "rm-1", "rds:cn-hangzhou", region="cn-hangzhou", tde_status="Enabled")
    with pytest.raises(UndeclaredPropertyError, match="tde_status"):
        check_declared(batch)
    batch = GraphBatch("1234567890123456")
    batch.node("NoSuchThing", "x", "x:global")
    with pytest.raises(UndeclaredPropertyError, match="NoSuchThing"):
        check_declared(batch)


def test_a_product_name_and_version_are_declared_once() -> None:
    seen: dict[str, str] = {}
    for product in products():
        for api in product.apis:
            assert api.code not in seen, f"{api.code} declared by {seen.get(api.code)} and {product.name}"
            seen[api.code] = product.name
    assert {"Ecs", "Vpc", "Rds", "Ram", "Oss", "Actiontrail", "Slb", "Kms", "Sls"} <= set(seen)
