"""The representative path of an (entry, target) pair, on hand-made attack graphs (no database)."""

from __future__ import annotations

from checks.paths import AttackGraph, Edge, compute_paths, path_json

ACCT = "1234567890123456"
KEY = ("AccessKey", "LTAIkey")
USER = ("RamUser", f"acs:ram::{ACCT}:user/u")
OTHER = ("RamUser", f"acs:ram::{ACCT}:user/admin")
ROLE = ("RamRole", f"acs:ram::{ACCT}:role/r")
ROLE2 = ("RamRole", f"acs:ram::{ACCT}:role/r2")
BUCKET = ("OssBucket", "data")


def graph(*edges: Edge) -> AttackGraph:
    g = AttackGraph(ACCT, entries=[KEY], targets_by_label={"OssBucket": ["data"]})
    g.edges = [Edge("AUTHENTICATES", KEY, USER, "access key of the user"), *edges]
    return g


def only_path(g: AttackGraph) -> dict[str, object]:
    paths = [p for p in compute_paths(g) if p.target == BUCKET]
    assert len(paths) == 1
    return path_json(ACCT, paths[0])


def test_unconditional_beats_a_shorter_conditional_path() -> None:
    g = graph(Edge("CAN_ACCESS", USER, BUCKET, "oss:GetObject via p", True, ("read",)),
              Edge("CAN_ASSUME", USER, ROLE, "sts:AssumeRole via p"),
              Edge("CAN_ACCESS", ROLE, BUCKET, "oss:GetObject via q", False, ("read",)))
    doc = only_path(g)
    assert doc["conditional"] is False
    assert [n["id"] for n in doc["nodes"]] == ["LTAIkey", USER[1], ROLE[1], "data"]
    assert doc["alternatives"] == 1


def test_unconditional_pivot_chain_beats_a_shorter_conditional_one() -> None:
    g = graph(Edge("CAN_ASSUME", USER, ROLE2, "sts:AssumeRole via p", True),
              Edge("CAN_ASSUME", USER, ROLE, "sts:AssumeRole via p"),
              Edge("CAN_ASSUME", ROLE, ROLE2, "sts:AssumeRole via q"),
              Edge("CAN_ACCESS", ROLE2, BUCKET, "oss:PutObject via s", False, ("write",)))
    doc = only_path(g)
    assert doc["conditional"] is False
    assert [n["id"] for n in doc["nodes"]] == ["LTAIkey", USER[1], ROLE[1], ROLE2[1], "data"]


def test_severity_before_length() -> None:
    g = graph(Edge("CAN_ACCESS", USER, BUCKET, "oss:GetObject via p", False, ("read",)),
              Edge("CAN_ASSUME", USER, ROLE, "sts:AssumeRole via p"),
              Edge("CAN_ACCESS", ROLE, BUCKET, "oss:PutObject via q", False, ("write",)))
    doc = only_path(g)
    assert doc["access"] == ["write"] and doc["severity"] == "high"


def test_conditional_modes_are_marked_and_do_not_rate_the_path() -> None:
    g = graph(Edge("CAN_ACCESS", USER, BUCKET, "oss:GetObject; oss:PutObject", False, ("read", "write"),
                   conditional_access=("write",)))
    doc = only_path(g)
    assert doc["conditional"] is False
    assert doc["access"] == ["read", "write"] and doc["conditional_access"] == ["write"]
    assert doc["severity"] == "medium"  # read for sure (access key entry); the write needs a condition


def test_taking_over_a_principal_is_a_pivot() -> None:
    g = graph(Edge("CAN_ESCALATE", USER, OTHER, "create_access_key_for_other via p"),
              Edge("CAN_ESCALATE", OTHER, ("Account", ACCT), "full_admin via q", access=("admin",)))
    pairs = {(p.entry, p.target): p for p in compute_paths(g)}
    assert (KEY, ("Account", ACCT)) in pairs and (KEY, BUCKET) in pairs
    assert not pairs[(KEY, BUCKET)].conditional
    assert [e.kind for e in pairs[(KEY, BUCKET)].edges] == ["AUTHENTICATES", "CAN_ESCALATE", "CAN_ESCALATE", "CONTROLS"]
