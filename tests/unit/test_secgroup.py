"""Security-group rule precedence, the semantics spec/snapshot-format.md fixes."""

from __future__ import annotations

import pytest

from loaders.secgroup import internet_open_ranges, parse_port_range, rule_from_permission


def perm(port: str, *, proto: str = "TCP", policy: str = "Accept", priority: str = "1", v4: str = "0.0.0.0/0",
         v6: str = "", direction: str = "ingress") -> dict[str, str]:
    return {"Direction": direction, "IpProtocol": proto, "PortRange": port, "SourceCidrIp": v4,
            "Ipv6SourceCidrIp": v6, "Policy": policy, "Priority": priority}


def open22(perms: list[dict[str, str]]) -> bool:
    ranges = internet_open_ranges([rule_from_permission(p) for p in perms], "tcp")
    return any(lo <= 22 <= hi for lo, hi in ranges)


CASES = [
    ("single accept", [perm("22/22")], True),
    ("range covers 22", [perm("1/1024")], True),
    ("range misses 22", [perm("80/443")], False),
    ("all ports -1/-1", [perm("-1/-1", proto="ALL")], True),
    ("protocol all lowercase", [perm("1/65535", proto="all")], True),
    ("udp only", [perm("22/22", proto="UDP")], False),
    ("icmp only", [perm("-1/-1", proto="ICMP")], False),
    ("egress ignored", [perm("22/22", direction="egress")], False),
    ("private source", [perm("22/22", v4="10.0.0.0/8")], False),
    ("drop at higher precedence closes", [perm("22/22", priority="100"), perm("22/22", policy="Drop", priority="1")], False),
    ("accept at higher precedence wins", [perm("22/22", priority="1"), perm("22/22", policy="Drop", priority="100")], True),
    ("drop wins ties", [perm("22/22", priority="5"), perm("22/22", policy="drop", priority="5")], False),
    ("policy case-insensitive", [perm("22/22", policy="ACCEPT")], True),
    ("drop of a wider range closes", [perm("22/22", priority="10"), perm("1/65535", policy="Drop", priority="2")], False),
    ("drop of another port keeps 22", [perm("22/22", priority="10"), perm("23/23", policy="Drop", priority="1")], True),
    ("ipv6 accept opens", [perm("22/22", v4="", v6="::/0")], True),
    ("ipv4 drop does not close ipv6", [perm("22/22", v4="", v6="::/0", priority="100"),
                                       perm("22/22", policy="Drop", priority="1")], True),
    ("ipv6 drop closes ipv6", [perm("22/22", v4="", v6="::/0", priority="100"),
                               perm("22/22", v4="", v6="::/0", policy="Drop", priority="1")], False),
    ("priority is a string", [perm("22/22", priority="100"), perm("22/22", policy="Drop", priority="99")], False),
]


@pytest.mark.parametrize(("perms", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_port_22_open(perms: list[dict[str, str]], expected: bool) -> None:
    assert open22(perms) is expected


def test_ranges_merge_and_split() -> None:
    rules = [rule_from_permission(perm("1/65535", priority="50")), rule_from_permission(perm("22/22", policy="Drop"))]
    assert internet_open_ranges(rules) == [(1, 21), (23, 65535)]


@pytest.mark.parametrize(("text", "expected"), [("22/22", (22, 22)), ("-1/-1", (1, 65535)), ("1/65535", (1, 65535)),
                                                ("8080/8000", (8000, 8080)), ("", (1, 65535))])
def test_parse_port_range(text: str, expected: tuple[int, int]) -> None:
    assert parse_port_range(text) == expected
