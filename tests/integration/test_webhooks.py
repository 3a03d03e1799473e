"""Webhook alerts against a local HTTP server on 127.0.0.1: signed (HMAC-SHA256, the receiver verifies),
retried on 500, delivered once per change set however often it is asked; the secret is not in the graph."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from typing import Any

import pytest
from neo4j import Driver

from backend.console import run_read_only
from backend.notify import add_webhook, alert_from_changes, deliver_now, list_webhooks, remove_webhook
from checks.cypher_guard import CypherRefused
from tests.helpers.webhook_receiver import Receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver(failures=2)
    yield r
    r.server.shutdown()


def _alert(account: str) -> dict[str, Any]:
    doc = {"account_id": account,
           "findings": {"scan_id": "scan-1", "new": [
               {"check_id": "ACS_OSS_BucketPublicAcl", "asset_id": "acme-prod-data", "severity": "high",
                "title": "OSS bucket ACL is not public", "before": "PASS"},
               {"check_id": "ACS_X_Low", "asset_id": "a", "severity": "low", "title": "", "before": None}],
               "regressed": []},
           "attack_paths": {"path_run_id": "paths-1", "new": [
               {"entry": "EcsInstance:i-1", "target": "OssBucket:b", "severity": "high", "type": "ecs_role_oss"}]}}
    alert = alert_from_changes(doc)
    assert alert is not None
    return alert


def test_signed_retried_and_delivered_once(neo4j_driver: Driver, redis_client: Any, receiver: Receiver,
                                           fresh_account_id: str) -> None:
    hook = add_webhook(neo4j_driver, receiver.url, "generic", [fresh_account_id], "test")
    try:
        assert "secret" not in json.dumps(list_webhooks(neo4j_driver, fresh_account_id))
        stored = neo4j_driver.execute_query("MATCH (w:Webhook {id: $id}) RETURN properties(w) AS p",
                                            id=hook["id"]).records[0]["p"]
        assert hook["secret"] not in json.dumps(stored, default=str), "the secret is not in the graph"
        with pytest.raises(CypherRefused):  # and the console of a tenant the webhook serves cannot read it
            run_read_only(neo4j_driver, fresh_account_id, "MATCH (w:Webhook) RETURN w.url AS url")

        alert = _alert(fresh_account_id)
        assert [f["check_id"] for f in alert["new_findings"]] == ["ACS_OSS_BucketPublicAcl"]  # critical/high only
        result = deliver_now(neo4j_driver, hook["id"], alert, attempts=4, base_delay=0.05)
        assert result["status"] == "delivered"
        assert [a["http_status"] for a in result["attempts"]] == [500, 500, 200]  # retried on 500
        assert len(receiver.received) == 3
        for headers, body, _ in receiver.received:
            expected = "sha256=" + hmac.new(hook["secret"].encode(), headers["X-Skypath-Timestamp"].encode() + b"."
                                            + body, hashlib.sha256).hexdigest()
            assert hmac.compare_digest(headers["X-Skypath-Signature"], expected)
            assert headers["X-Skypath-Delivery"] == result["delivery_id"]
        sent = json.loads(receiver.received[-1][1])
        assert sent["new_attack_paths"][0]["target"] == "OssBucket:b" and sent["delivery_id"] == result["delivery_id"]

        again = deliver_now(neo4j_driver, hook["id"], alert, attempts=4, base_delay=0.05)
        assert again["status"] == "duplicate" and len(receiver.received) == 3  # one change, one delivery

        tampered = receiver.received[-1][1].replace(b"acme-prod-data", b"acme-other-data")
        headers = receiver.received[-1][0]
        forged = "sha256=" + hmac.new(hook["secret"].encode(), headers["X-Skypath-Timestamp"].encode() + b"."
                                      + tampered, hashlib.sha256).hexdigest()
        assert forged != headers["X-Skypath-Signature"]
    finally:
        remove_webhook(neo4j_driver, hook["id"])
    assert redis_client.get(f"skypath:webhook-secret:{hook['id']}") is None


@pytest.mark.parametrize("kind", ["slack", "dingtalk", "lark"])
def test_chat_bodies(neo4j_driver: Driver, fresh_account_id: str, kind: str) -> None:
    r = Receiver(failures=0)
    hook = add_webhook(neo4j_driver, r.url, kind, [fresh_account_id], "test")
    try:
        assert deliver_now(neo4j_driver, hook["id"], _alert(fresh_account_id), attempts=1)["status"] == "delivered"
        _, body, path = r.received[0]
        doc = json.loads(body)
        text = {"slack": lambda: doc["text"], "dingtalk": lambda: doc["markdown"]["text"],
                "lark": lambda: doc["content"]["text"]}[kind]()
        assert "ACS_OSS_BucketPublicAcl" in text and "OssBucket:b" in text
        if kind == "dingtalk":
            assert "timestamp=" in path and "sign=" in path
        if kind == "lark":
            assert doc["sign"] and doc["timestamp"]
    finally:
        remove_webhook(neo4j_driver, hook["id"])
        r.server.shutdown()


def test_bad_webhook_input_is_a_clear_error(neo4j_driver: Driver) -> None:
    from backend.notify import NotifyError

    with pytest.raises(NotifyError, match="http"):
        add_webhook(neo4j_driver, "ftp://x", "generic", ["1"], "test")
    with pytest.raises(NotifyError, match="--kind"):
        add_webhook(neo4j_driver, "http://127.0.0.1:1/x", "teams", ["1"], "test")
