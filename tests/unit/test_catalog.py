"""The catalog as data: ids, tiers, packages, coverage of the spec's core."""

from __future__ import annotations

import re
from collections import Counter

from backend.settings import contract_dir
from checks.catalog import BY_ID, CATALOG
from checks.model import PACKAGES
from checks.packages import package_items, resolve

CORE_SPEC = (contract_dir() / "spec" / "check-items.md").read_text()
CORE_ROWS = re.findall(r"^\| `((?:ACS|HOST)_[A-Za-z0-9_]+)` \| ([^|]+)\|", CORE_SPEC, re.M)


def test_at_least_120_items_unique_ids() -> None:
    assert len(CATALOG) >= 120
    assert len({i.id for i in CATALOG}) == len(CATALOG)


def test_every_core_item_exists_with_its_tier() -> None:
    core_cloud = re.findall(r"^\| `(ACS_[A-Za-z0-9_]+)` \|[^|]+\|[^|]+\| (free|paid) \|", CORE_SPEC, re.M)
    assert len(core_cloud) == 26
    for check_id, tier in core_cloud:
        assert BY_ID[check_id].tier == tier, check_id
        assert BY_ID[check_id].kind == "cloud"
    for check_id, category in re.findall(r"^\| `(HOST_[A-Za-z0-9_]+)` \| (\w+) \|", CORE_SPEC, re.M):
        assert BY_ID[check_id].kind == "baseline" and BY_ID[check_id].category == category, check_id


def test_every_item_has_examples_remediation_and_refs() -> None:
    for item in CATALOG:
        assert item.passing_example and item.failing_example, item.id
        assert item.remediation and item.title and item.refs, item.id
        assert "$account_id" in item.population_query and "$account_id" in item.failing_query


def test_packages() -> None:
    for package in PACKAGES:
        assert package_items(package), package
    assert {i.category for i in package_items("WEAK_PASSWORD")} == {"weak_password"}
    assert all(i.kind == "baseline" for i in package_items("CIS_ALIBABA_CLOUD_LINUX_3"))
    assert all(i.kind == "cloud" for i in package_items("CIS_ALIBABA_CLOUD_2_0"))
    cis = Counter(i.refs["CIS_ALIBABA_CLOUD_2_0"].split(".")[0] for i in package_items("CIS_ALIBABA_CLOUD_2_0"))
    assert set(cis) >= {"1", "2", "4", "5", "6"}


def test_resolve_selection() -> None:
    assert len(resolve(None, None, None)) == len(CATALOG)
    assert [i.id for i in resolve(["ACS_OSS_BucketLogging"], None, None)] == ["ACS_OSS_BucketLogging"]
    both = resolve(["ACS_OSS_BucketLogging"], "WEAK_PASSWORD", None)
    weak = {i.id for i in CATALOG if "WEAK_PASSWORD" in i.refs}
    assert "HOST_ACCOUNT_WeakPassword" in weak
    assert {i.id for i in both} == {"ACS_OSS_BucketLogging"} | weak
