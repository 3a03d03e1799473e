"""Attack-path targets come from the product declarations: KVStore, PolarDB, MongoDB, NAS and ACK assets are
targets exactly as OSS and RDS are — reached through the declared actions of each mode on the asset's ARN,
through wildcard grants and Deny, through escalation (full control gives every declared mode) — and the
persisted index answers the same as the exhaustive walk."""

from __future__ import annotations

import json
import random
from collections import Counter
from typing import Any

import pytest
from neo4j import Driver

from backend.ingest import ingest_snapshot
from checks.path_index import PathIndex
from checks.paths import (
    ENTRY_LABELS,
    choke_points,
    compute_paths,
    load_attack_graph,
    path_json,
    target_access,
)
from graph_schema.store import delete_account
from loaders.declaration import AttackRole
from loaders.products import attack_labels, attack_targets
from tests.helpers.extra_products import with_product_samples
from tests.helpers.sample import sample_doc

PRODUCTS = ["kvstore", "polardb", "mongodb", "nas", "ack"]
KEY = "LTAI5tRdsOpKey000001"  # rds-operator's active key: an entry point whose user holds `rds-ops`
KV_READ, KV_OTHERS = "r-bp1openpublic001", ("r-bp1hardened00001", "r-bp1legacycache01")
MONGO_DENIED = "dds-bp1oldsessions1"
BASTION = "i-bp1bastion0000001"


def _doc() -> dict[str, Any]:
    """The sample with every new product's recording, and `rds-ops` granting on them through named ARNs,
    wildcards, a Deny and an action no mode declares."""
    account = str(random.randint(10**15, 10**16 - 1))
    doc = with_product_samples(sample_doc(account), PRODUCTS)
    for call in doc["calls"]:
        if call["action"] == "GetPolicyVersion" and call["params"].get("PolicyName") == "rds-ops":
            policy = json.loads(call["response"]["PolicyVersion"]["PolicyDocument"])
            policy["Statement"] += [
                {"Effect": "Allow", "Action": "kvstore:DescribeBackups", "Resource": f"acs:kvstore:*:*:instance/{KV_READ}"},
                {"Effect": "Allow", "Action": "polardb:*", "Resource": "*"},
                {"Effect": "Allow", "Action": "dds:ModifySecurityIps", "Resource": "*"},
                {"Effect": "Deny", "Action": "dds:*", "Resource": f"acs:dds:*:*:dbinstance/{MONGO_DENIED}"},
                {"Effect": "Allow", "Action": "nas:DescribeFileSystems", "Resource": "*"},
                {"Effect": "Allow", "Action": "cs:DescribeClusterUserKubeconfig", "Resource": "acs:cs:cn-hangzhou:*:cluster/*"},
            ]
            call["response"]["PolicyVersion"]["PolicyDocument"] = json.dumps(policy)
    return doc


@pytest.fixture(scope="module")
def loaded(neo4j_driver: Driver, tmp_path_factory: pytest.TempPathFactory) -> Any:
    doc = _doc()
    path = tmp_path_factory.mktemp("targets") / "account.json"
    path.write_text(json.dumps(doc))
    ingest_snapshot(neo4j_driver, path)
    account = str(doc["account_id"])
    graph = load_attack_graph(neo4j_driver, account)
    paths = [path_json(account, p) for p in compute_paths(graph)]
    yield account, graph, paths
    delete_account(neo4j_driver, account)


def _from_key(paths: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(p["target"]["type"], p["target"]["id"]): p for p in paths if p["entry"]["id"] == KEY}


def test_every_declared_target_kind_is_in_the_graph(loaded: Any) -> None:
    _, graph, _ = loaded
    for label in ("KvstoreInstance", "PolardbCluster", "MongodbInstance", "NasFileSystem", "AckCluster"):
        assert graph.targets_by_label.get(label), label


def test_grants_reach_exactly_the_declared_modes_on_the_named_assets(loaded: Any) -> None:
    _, _, paths = loaded
    got = _from_key(paths)
    kv = got[("KvstoreInstance", KV_READ)]
    assert kv["access"] == ["read"] and kv["type"] == "accesskey_user_kvstore" and kv["severity"] == "medium"
    assert "kvstore:DescribeBackups via Custom/rds-ops" == kv["edges"][-1]["detail"]
    assert not any(("KvstoreInstance", other) in got for other in KV_OTHERS)  # the grant names one instance
    polardb = [p for (label, _), p in got.items() if label == "PolardbCluster"]
    assert len(polardb) == 2 and all(p["access"] == ["read", "write", "admin"] for p in polardb)
    assert all(p["severity"] == "high" for p in polardb)  # a key (not the internet) that may write
    mongo = {tid: p["access"] for (label, tid), p in got.items() if label == "MongodbInstance"}
    assert mongo == {"dds-bp1catalog00001": ["admin"]}  # the Deny wins on the other
    assert not any(label == "NasFileSystem" for label, _ in got)  # no declared NAS action is allowed
    ack = {tid: p["access"] for (label, tid), p in got.items() if label == "AckCluster"}
    assert ack == {"c8f2prodcluster0001": ["read"], "c3a1legacycluster01": ["read"]}


def test_escalation_controls_every_declared_target_with_its_declared_modes(loaded: Any) -> None:
    _, graph, paths = loaded
    escalated = [p for p in paths if not p["conditional"] and any(e["type"] == "CAN_ESCALATE" for e in p["edges"])]
    by_label = {p["target"]["type"]: p["access"] for p in escalated}
    for label, role in attack_targets().items():
        if graph.targets_by_label.get(label):
            assert by_label[label] == list(role.access), label
    assert by_label["NasFileSystem"] == ["admin"] and by_label["OssBucket"] == ["read", "write"]
    # the bastion's OpsRole may attach policies to roles: it escalates, and reaches every target of every kind
    reached = Counter(p["target"]["type"] for p in escalated if p["entry"]["id"] == BASTION)
    for label, ids in graph.targets_by_label.items():
        assert reached[label] == len(ids), label


def test_the_index_answers_as_the_exhaustive_walk(loaded: Any) -> None:
    _, graph, paths = loaded
    index = PathIndex.build(graph)
    assert list(index.lines()) == [json.dumps(p) for p in paths]
    assert index.choke_points == choke_points(graph, compute_paths(graph))
    assert list(index.paths(target=KV_READ)) == [p for p in paths if p["target"]["id"] == KV_READ]


def test_the_declarations_name_the_engine_entries_and_valid_targets() -> None:
    assert attack_labels("entry") == set(ENTRY_LABELS)
    assert target_access("OssBucket") == ("read", "write") and target_access("RdsInstance") == ("admin",)
    with pytest.raises(ValueError, match="resource"):
        AttackRole("X", "target", admin=("x:Do",), resource="acs:x:{region}:{account}:thing/*")
    with pytest.raises(ValueError, match="concrete"):
        AttackRole("X", "target", admin=("x:*",), resource="acs:x:{region}:{account}:thing/{id}")
    with pytest.raises(ValueError, match="at least one mode"):
        AttackRole("X", "target", resource="acs:x:{region}:{account}:thing/{id}")
    with pytest.raises(ValueError, match="node label"):
        AttackRole("X) DETACH DELETE (n", "target", admin=("x:Do",), resource="acs:x:{region}:{account}:thing/{id}")
