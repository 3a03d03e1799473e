"""Every check item, table-driven on the real Neo4j: its passing example must PASS, its failing example
must be NOT_PASS, and the passing example without the data the `collected` predicate reads must be
NOT_CHECK (never PASS).

An example is a node of the item's asset type with the example's properties (`id` may be given; it
defaults to `asset-1`), plus its related nodes: each `(rel, label, props)` creates a node of `label`
related to the asset by `(n)-[:rel]->(m)` (or `(m)-[:REL]->(n)` for `"<REL"`, or no relationship for
`""`); `props["_rel"]` holds the relationship's properties and `props["_then"]` further related nodes
of `m` itself (for two-hop facts such as instance → role → escalation).
"""

from __future__ import annotations

import re

import pytest
from neo4j import Driver

from checks.catalog import CATALOG
from checks.model import CheckItem, Example
from tests.helpers.items import status_of


def collected_props(item: CheckItem) -> set[str]:
    """The node properties the `collected` predicate reads."""
    return set(re.findall(r"\bn\.([A-Za-z_][A-Za-z0-9_]*)", item.collected))


def test_every_item_is_exercised() -> None:
    assert len(CATALOG) >= 120
    for item in CATALOG:
        assert isinstance(item.passing_example, Example) and isinstance(item.failing_example, Example), item.id


@pytest.mark.parametrize("item", CATALOG, ids=[i.id for i in CATALOG])
def test_item_passes_fails_and_never_passes_without_data(neo4j_driver: Driver, item: CheckItem) -> None:
    passing, failing = item.passing_example, item.failing_example
    assert passing is not None and failing is not None
    assert status_of(neo4j_driver, item, dict(passing.props), passing.related) == "PASS"
    assert status_of(neo4j_driver, item, dict(failing.props), failing.related) == "NOT_PASS"
    reads = collected_props(item)
    if reads:
        # the data the decision needs is absent: the passing example must not pass any more
        stripped = {k: v for k, v in passing.props.items() if k not in reads}
        assert status_of(neo4j_driver, item, stripped, passing.related) == "NOT_CHECK"
        if item.applies.strip() == "true":
            assert status_of(neo4j_driver, item, {}) == "NOT_CHECK"


def test_items_over_related_data_never_pass_without_it(neo4j_driver: Driver) -> None:
    """Items whose `collected` reads a related node (not `n.…`): without it they are NOT_CHECK."""
    from checks.catalog import BY_ID

    patches = BY_ID["ACS_ECS_InstanceOsPatches"]
    assert status_of(neo4j_driver, patches, {}) == "NOT_CHECK"  # no host agent, no Security Center scan
    assert status_of(neo4j_driver, patches, {}, (("<RUNS_ON", "Host", {"missing_patch_count": 0}),)) == "NOT_CHECK"
    # the host agent's report decides it alone, and either source reporting missing patches fails it
    reported = {"patches_collected": True, "missing_patch_count": 0}
    assert status_of(neo4j_driver, patches, {}, (("<RUNS_ON", "Host", reported),)) == "PASS"
    assert status_of(neo4j_driver, patches, {}, (("<RUNS_ON", "Host", {**reported, "missing_patch_count": 3}),)) \
        == "NOT_PASS"
    assert status_of(neo4j_driver, patches, {"sas_unfixed_os_vuls": 1}, (("<RUNS_ON", "Host", reported),)) \
        == "NOT_PASS"


def test_cis_notifications_count_only_the_high_risk_items(neo4j_driver: Driver) -> None:
    """CIS 8.5 asks for the high-risk notices; a silent log-overflow notice fails only the every-notice item."""
    from checks.catalog import BY_ID

    silent_log = {"sas_notices_collected": True, "sas_silent_notices": ["yundun_sas_log"]}
    assert status_of(neo4j_driver, BY_ID["ACS_SAS_HighRiskNotificationsOn"], silent_log) == "PASS"
    assert status_of(neo4j_driver, BY_ID["ACS_SAS_NotificationsOn"], silent_log) == "NOT_PASS"
    silent_alerts = {**silent_log, "sas_silent_notices": ["yundun_sas_log", "sas_suspicious"]}
    assert status_of(neo4j_driver, BY_ID["ACS_SAS_HighRiskNotificationsOn"], silent_alerts) == "NOT_PASS"
