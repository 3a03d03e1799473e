"""SQL audit (CIS 6.3) and its retention (CIS 6.4): an instance with no audit at all fails the retention
requirement too — no audit record is kept for six months — and its fix turns auditing on first."""

from __future__ import annotations

from typing import Any

import pytest
from neo4j import Driver

from checks.catalog import BY_ID
from checks.packages import compliance_report
from checks.remediation import REMEDIATIONS
from tests.helpers.items import status_of

RETENTION = BY_ID["ACS_RDS_DBInstanceAuditRetention"]
AUDIT = BY_ID["ACS_RDS_DBInstanceSQLAudit"]

CASES: list[tuple[str, dict[str, Any], str, str]] = [
    # (case, node properties, retention item (6.4), audit item (6.3))
    ("on, 180 days", {"sql_collector_enabled": True, "sql_audit_retention_days": 180}, "PASS", "PASS"),
    ("on, 365 days", {"sql_collector_enabled": True, "sql_audit_retention_days": 365}, "PASS", "PASS"),
    ("on, 30 days", {"sql_collector_enabled": True, "sql_audit_retention_days": 30}, "NOT_PASS", "PASS"),
    ("off, 365 days left from before", {"sql_collector_enabled": False, "sql_audit_retention_days": 365},
     "NOT_PASS", "NOT_PASS"),
    ("off, no retention", {"sql_collector_enabled": False}, "NOT_PASS", "NOT_PASS"),
    ("on, retention unknown", {"sql_collector_enabled": True}, "NOT_CHECK", "PASS"),
]


@pytest.mark.parametrize(("case", "props", "retention", "audit"), CASES, ids=[c[0] for c in CASES])
def test_audit_and_retention(neo4j_driver: Driver, case: str, props: dict[str, Any], retention: str,
                             audit: str) -> None:
    node = {"audit_collected": True, **props}
    assert status_of(neo4j_driver, RETENTION, node) == retention, case
    assert status_of(neo4j_driver, AUDIT, node) == audit, case


def test_not_collected_is_never_decided(neo4j_driver: Driver) -> None:
    assert status_of(neo4j_driver, RETENTION, {"audit_collected": False, "sql_collector_enabled": False}) == "NOT_CHECK"


@pytest.mark.parametrize(("props", "actions"), [
    ({"sql_collector_enabled": False, "sql_audit_retention_days": 30},
     ["ModifySQLCollectorPolicy", "ModifySQLCollectorRetention"]),
    ({"sql_collector_enabled": True, "sql_audit_retention_days": 30}, ["ModifySQLCollectorRetention"]),
])
def test_the_fix_turns_auditing_on_first(props: dict[str, Any], actions: list[str]) -> None:
    plan = REMEDIATIONS[RETENTION.id].build({"n": {"id": "rm-1", **props}, "region": "cn-hangzhou"})
    assert [r.action for r in plan] == actions
    assert plan[-1].params == {"DBInstanceId": "rm-1", "ConfigValue": 180}


def test_cis_6_4_fails_an_instance_with_no_audit(neo4j_driver: Driver) -> None:
    status = status_of(neo4j_driver, RETENTION, {"audit_collected": True, "sql_collector_enabled": False})
    findings = [{"check_id": RETENTION.id, "asset_id": "rm-1", "status": status}]
    report = compliance_report("CIS_ALIBABA_CLOUD_2_0", findings)
    row = next(r for s in report["sections"] for r in s["requirements"] if r["id"] == "6.4")
    assert row["status"] == "fail" and row["not_pass"] == 1
