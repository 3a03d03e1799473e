"""Path semantics of spec/cli.md on variations of the sample account."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from neo4j import Driver

from backend.ingest import ingest_snapshot
from checks.paths import analyse_paths
from graph_schema.store import delete_account
from tests.helpers.sample import sample_doc


def _pairs(driver: Driver, tmp: Path, mutate: Any) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    account = str(random.randint(10**15, 10**16 - 1))
    doc = sample_doc(account)
    mutate(doc, account)
    path = tmp / f"{account}.json"
    path.write_text(json.dumps(doc))
    try:
        ingest_snapshot(driver, path)
        paths = analyse_paths(driver, account)["paths"]
        firm = {(p["entry"]["id"], p["target"]["id"]) for p in paths if not p["conditional"]}
        conditional = {(p["entry"]["id"], p["target"]["id"]) for p in paths if p["conditional"]}
        return firm, conditional
    finally:
        delete_account(driver, account)


def _set_trust(doc: dict[str, Any], role: str, trust: dict[str, Any]) -> None:
    for call in doc["calls"]:
        if call["action"] == "GetRole" and call["params"]["RoleName"] == role:
            call["response"]["Role"]["AssumeRolePolicyDocument"] = json.dumps(trust)


def test_mfa_condition_makes_the_path_conditional(neo4j_driver: Driver, tmp_path: Path) -> None:
    def mutate(doc: dict[str, Any], account: str) -> None:
        _set_trust(doc, "DeployRole", {"Version": "1", "Statement": [{
            "Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"RAM": [f"acs:ram::{account}:root"]},
            "Condition": {"Bool": {"acs:MFAPresent": "true"}}}]})

    firm, conditional = _pairs(neo4j_driver, tmp_path, mutate)
    assert not any(e == "LTAI5tCiBotKey000001" for e, _ in firm)
    assert ("LTAI5tCiBotKey000001", "acme-prod-data") in conditional


def test_trust_star_trusts_everyone(neo4j_driver: Driver, tmp_path: Path) -> None:
    def mutate(doc: dict[str, Any], account: str) -> None:
        _set_trust(doc, "DeployRole", {"Version": "1", "Statement": [{
            "Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"RAM": "*"}}]})

    firm, _ = _pairs(neo4j_driver, tmp_path, mutate)
    assert ("LTAI5tCiBotKey000001", "acme-logs") in firm


def test_inactive_key_and_closed_port_are_not_entries(neo4j_driver: Driver, tmp_path: Path) -> None:
    def mutate(doc: dict[str, Any], account: str) -> None:
        for call in doc["calls"]:
            if call["action"] == "ListAccessKeys":
                for key in call["response"]["AccessKeys"]["AccessKey"]:
                    if key["AccessKeyId"] == "LTAI5tReporterKey001":
                        key["Status"] = "Inactive"

    firm, _ = _pairs(neo4j_driver, tmp_path, mutate)
    assert not any(e == "LTAI5tReporterKey001" for e, _ in firm)
    assert ("LTAI5tAliceKey000001", "acme-logs") in firm


def test_update_role_alone_is_escalation(neo4j_driver: Driver, tmp_path: Path) -> None:
    def mutate(doc: dict[str, Any], account: str) -> None:
        for call in doc["calls"]:
            if call["action"] == "GetPolicyVersion" and call["params"]["PolicyName"] == "rds-ops":
                call["response"]["PolicyVersion"]["PolicyDocument"] = json.dumps({"Version": "1", "Statement": [
                    {"Effect": "Allow", "Action": "ram:UpdateRole", "Resource": "*"}]})

    firm, _ = _pairs(neo4j_driver, tmp_path, mutate)
    assert any(e == "LTAI5tRdsOpKey000001" and t.endswith(":root") for e, t in firm)
