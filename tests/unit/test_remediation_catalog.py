"""The whole catalog's remediation declarations are honest: an item either has an executable remediation (every API
action it may send, undo steps included, is implemented by the emulator and sendable by the live transport), or it
is manual (no action declared, the steps in its text). No item declares an action `remediate` refuses."""

from __future__ import annotations

from typing import Any

import pytest

from checks.catalog import CATALOG
from checks.catalog.ecs_more import EXPOSED_SERVICES
from checks.remediation import REMEDIATIONS, ApiRequest, RemediationError, plan_for, sg_ports
from loaders.emulated import WRITE_HANDLERS
from loaders.products import apis
from loaders.transport_live import OSS_ACTIONS

CLOUD = [item for item in CATALOG if item.kind == "cloud"]


def live_can_send(product: str, action: str) -> bool:
    """RPC products go through their SDK's generic call_api (any action); OSS through oss2, action by action."""
    return (product in apis() and apis()[product].style == "rpc") or (product == "Oss" and action in OSS_ACTIONS)


@pytest.mark.parametrize("item", CLOUD, ids=[i.id for i in CLOUD])
def test_every_item_is_executable_or_manual(item: Any) -> None:
    rem = REMEDIATIONS.get(item.id)
    if rem is None:
        assert item.remediation_action is None, f"{item.id} declares {item.remediation_action} but remediate refuses it"
        assert item.remediation.strip(), item.id
        with pytest.raises(RemediationError, match="cannot be remediated automatically"):
            plan_for(item.id, {})
        return
    assert item.remediation_action in {action for _, action in rem.calls}, (item.id, item.remediation_action)
    for product, action in rem.calls:
        assert (product, action) in WRITE_HANDLERS, f"{item.id}: the emulator does not implement {product}:{action}"
        assert live_can_send(product, action), f"{item.id}: the live transport cannot send {product}:{action}"
    assert rem.effect


def test_remediations_are_for_catalog_items_only() -> None:
    assert set(REMEDIATIONS) <= {i.id for i in CLOUD}
    assert len(REMEDIATIONS) >= 90


def test_every_port_item_shares_the_generic_builder_with_its_own_ports() -> None:
    for suffix, _, ports, _, _, protocol in EXPOSED_SERVICES:
        item = next(i for i in CATALOG if i.id == f"ACS_ECS_SecurityGroupPublic{suffix}")
        assert sg_ports(item) == (protocol, ports), item.id
    assert sg_ports(next(i for i in CATALOG if i.id == "ACS_ECS_SecurityGroupPublicDatabasePorts")) == (
        "tcp", (1433, 3306, 5432, 6379, 9200, 27017))
    assert sg_ports(next(i for i in CATALOG if i.id == "ACS_ECS_SecurityGroupPublicWideRange")) is None  # manual


def rule(rid: str, protocol: str, lo: int, hi: int, v4: str = "0.0.0.0/0", v6: str = "", policy: str = "accept",
         direction: str = "ingress", priority: int = 1) -> dict[str, Any]:
    port_range = "-1/-1" if protocol == "all" else f"{lo}/{hi}"
    return {"id": rid, "protocol": protocol, "port_from": lo, "port_to": hi, "port_range": port_range,
            "source_cidr": v4, "source_ipv6_cidr": v6, "policy": policy, "direction": direction, "priority": priority}


def summary(reqs: list[ApiRequest]) -> list[tuple[str, str, str, str]]:
    return [(r.action[:4], r.params["IpProtocol"], r.params["PortRange"],
             r.params.get("SourceCidrIp") or r.params.get("Ipv6SourceCidrIp", "")) for r in reqs]


SG_CASES: list[tuple[str, str, list[dict[str, Any]], list[tuple[str, str, str, str]]]] = [
    ("only the internet rule for the port goes",
     "ACS_ECS_SecurityGroupPublicSSH",
     [rule("sgr-1", "tcp", 22, 22), rule("sgr-2", "tcp", 80, 80), rule("sgr-3", "tcp", 22, 22, v4="10.0.0.0/8"),
      rule("sgr-4", "tcp", 22, 22, policy="drop"), rule("sgr-5", "tcp", 22, 22, direction="egress")],
     [("Revo", "TCP", "22/22", "0.0.0.0/0")]),
    ("a range is narrowed: the other ports stay open",
     "ACS_ECS_SecurityGroupPublicSSH", [rule("sgr-1", "tcp", 1, 65535)],
     [("Auth", "TCP", "1/21", "0.0.0.0/0"), ("Auth", "TCP", "23/65535", "0.0.0.0/0"),
      ("Revo", "TCP", "1/65535", "0.0.0.0/0")]),
    ("an ALL rule keeps the other protocols",
     "ACS_ECS_SecurityGroupPublicFTP", [rule("sgr-1", "all", 1, 65535)],
     [("Auth", "TCP", "1/19", "0.0.0.0/0"), ("Auth", "TCP", "22/65535", "0.0.0.0/0"),
      ("Auth", "UDP", "1/65535", "0.0.0.0/0"), ("Auth", "ICMP", "-1/-1", "0.0.0.0/0"),
      ("Revo", "ALL", "-1/-1", "0.0.0.0/0")]),
    ("IPv6 in any spelling, UDP item",
     "ACS_ECS_SecurityGroupPublicMemcachedUDP",
     [rule("sgr-1", "udp", 11211, 11211, v4="", v6="::0/0"), rule("sgr-2", "tcp", 11211, 11211, v4="", v6="::/0")],
     [("Revo", "UDP", "11211/11211", "::0/0")]),
    ("all ports: only rules that open every port go",
     "ACS_ECS_SecurityGroupPublicAllPorts", [rule("sgr-1", "tcp", 1, 65535), rule("sgr-2", "tcp", 443, 443)],
     [("Revo", "TCP", "1/65535", "0.0.0.0/0")]),
    ("nothing from the internet: nothing to do",
     "ACS_ECS_SecurityGroupPublicRDP", [rule("sgr-1", "tcp", 3389, 3389, v4="192.168.0.0/16")], []),
]


@pytest.mark.parametrize(("why", "check_id", "rules", "want"), SG_CASES, ids=[c[0] for c in SG_CASES])
def test_sg_builder(why: str, check_id: str, rules: list[dict[str, Any]], want: list[tuple[str, str, str, str]]) -> None:
    reqs = plan_for(check_id, {"sg": "sg-1", "region": "cn-hangzhou", "rules": rules, "account_id": "1"})
    assert summary(reqs) == want
    for req in reqs:  # each step can be undone by its inverse
        assert req.undo is not None
        assert {req.action, req.undo.action} == {"RevokeSecurityGroup", "AuthorizeSecurityGroup"}
        assert {k: v for k, v in req.undo.params.items()} == {
            k: v for k, v in req.params.items() if k not in ("SecurityGroupRuleId.1", "Description")}
    revokes = [r for r in reqs if r.action == "RevokeSecurityGroup"]
    assert all(r.params["SecurityGroupRuleId.1"].startswith("sgr-") for r in revokes)


PASSWORD_CASES = [
    ({"pw_min_length": 8, "pw_max_login_attempts": 0, "pw_max_age": 0, "pw_reuse_prevention": 0},
     {"MinimumPasswordLength": 14, "MaxLoginAttemps": 5, "MaxPasswordAge": 90, "PasswordReusePrevention": 5}),
    ({"pw_min_length": 20, "pw_max_login_attempts": 3, "pw_max_age": 30, "pw_reuse_prevention": 24},
     {"MinimumPasswordLength": 20, "MaxLoginAttemps": 3, "MaxPasswordAge": 30, "PasswordReusePrevention": 24}),
]


@pytest.mark.parametrize(("current", "want"), PASSWORD_CASES)
def test_password_policy_keeps_stricter_values(current: dict[str, Any], want: dict[str, Any]) -> None:
    (req,) = plan_for("ACS_RAM_PasswordMinLength14", {"n": current, "region": "global", "account_id": "1"})
    assert {k: req.params[k] for k in want} == want
    assert all(req.params[k] is True for k in req.params if k.startswith("Require"))


def test_rds_whitelist_builders_drop_only_their_entries() -> None:
    n = {"id": "rm-1", "whitelist_groups": '[{"name": "default", "ips": ["10.0.0.0/8", "0.0.0.0/0", "1.0.0.0/4"]},'
         '{"name": "ops", "ips": ["192.168.0.1"]}]'}
    ctx = {"n": n, "region": "cn-hangzhou", "account_id": "1"}
    (public,) = plan_for("ACS_RDS_DBInstanceWhitelistPublic", ctx)
    (wide,) = plan_for("ACS_RDS_DBInstanceWhitelistWide", ctx)
    assert public.params["SecurityIps"] == "10.0.0.0/8,1.0.0.0/4"
    assert wide.params["SecurityIps"] == "10.0.0.0/8,0.0.0.0/0"
    assert public.undo is not None and public.undo.params["SecurityIps"] == "10.0.0.0/8,0.0.0.0/0,1.0.0.0/4"
