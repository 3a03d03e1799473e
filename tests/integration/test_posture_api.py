"""GraphQL for continuous posture: schedules (admin sets, viewer reads, other tenants see nothing), drift,
and the account's tasks."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from neo4j import Driver

from backend.api import create_app
from backend.auth import create_token


def _gql(client: TestClient, token: str, query: str, **variables: Any) -> dict[str, Any]:
    resp = client.post("/graphql", json={"query": query, "variables": variables},
                       headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 200, resp.text
    return dict(resp.json())


SET = """mutation($a: String!, $s: String!) { setSchedule(accountId: $a, source: $s, everySeconds: 3600) {
  accountId source everySeconds enabled } }"""
READ = """query($a: String!) { schedule(accountId: $a) { source everySeconds }
  changes(accountId: $a) { since syncs { totalCount } assetsAdded { edges { node { id } } }
    assetsChanged { edges { node { id properties { name beforeJson afterJson } } } }
    findingsNew { edges { node { checkId severity } } } pathsNew { edges { node { entry severity } } }
    exposure { edges { node { id } } } }
  tasks(accountId: $a) { id state } }"""


def test_schedule_and_changes_over_graphql(neo4j_driver: Driver, sample_account: str, fresh_account_id: str) -> None:
    admin = create_token(neo4j_driver, "admin", [sample_account])["token"]
    viewer = create_token(neo4j_driver, "viewer", [sample_account])["token"]
    stranger = create_token(neo4j_driver, "admin", [fresh_account_id])["token"]
    client = TestClient(create_app(neo4j_driver))
    try:
        denied = _gql(client, viewer, SET, a=sample_account, s="live")
        assert "admin role" in denied["errors"][0]["message"]
        bad = _gql(client, admin, SET, a=sample_account, s="ftp:somewhere")
        assert "source must be" in bad["errors"][0]["message"]
        done = _gql(client, admin, SET, a=sample_account, s="live")["data"]["setSchedule"]
        assert done == {"accountId": sample_account, "source": "live", "everySeconds": 3600, "enabled": True}

        doc = _gql(client, viewer, READ, a=sample_account)
        assert "errors" not in doc, doc
        assert doc["data"]["schedule"] == {"source": "live", "everySeconds": 3600}
        assert doc["data"]["changes"]["syncs"]["totalCount"] and doc["data"]["changes"]["assetsChanged"]["edges"] == []
        assert doc["data"]["tasks"] == []

        other = _gql(client, stranger, READ, a=sample_account)
        assert other["data"] is None and "not found" in other["errors"][0]["message"]
        removed = _gql(client, admin, "mutation($a: String!) { removeSchedule(accountId: $a) }", a=sample_account)
        assert removed["data"]["removeSchedule"] is True
    finally:
        from backend.schedule import remove_schedule

        remove_schedule(neo4j_driver, sample_account, "test")
