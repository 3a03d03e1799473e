"""ECS check items: security-group exposure (after rule precedence), metadata, disks."""

from __future__ import annotations

from checks.model import CheckItem, Example

CIS = "CIS_ALIBABA_CLOUD_2_0"
MLPS = "MLPS_2_0_L3"


def tcp_open(*ports: int) -> str:
    """Cypher: some of `ports` is open to the internet (ranges computed at ingest after precedence)."""
    plist = ", ".join(str(p) for p in ports)
    return (
        f"any(p IN [{plist}] WHERE any(i IN range(0, size(coalesce(n.inet_tcp_from, [])) - 1) "
        "WHERE n.inet_tcp_from[i] <= p AND n.inet_tcp_to[i] >= p))"
    )


def udp_open(*ports: int) -> str:
    plist = ", ".join(str(p) for p in ports)
    return (
        f"any(p IN [{plist}] WHERE any(i IN range(0, size(coalesce(n.inet_udp_from, [])) - 1) "
        "WHERE n.inet_udp_from[i] <= p AND n.inet_udp_to[i] >= p))"
    )


def _sg_example(open_from: list[int], open_to: list[int]) -> Example:
    return Example({"rules_collected": True, "inet_tcp_from": open_from, "inet_tcp_to": open_to,
                    "inet_udp_from": open_from, "inet_udp_to": open_to})


PASSING_PORT = 443


def sg_port_item(
    check_id: str, title: str, ports: tuple[int, ...], severity: str, tier: str,
    refs: dict[str, str] | None = None, protocol: str = "tcp",
) -> CheckItem:
    """One declaration shape for every "port X open to the internet" item."""
    predicate = tcp_open(*ports) if protocol == "tcp" else udp_open(*ports)
    port_text = ", ".join(str(p) for p in ports)
    return CheckItem(
        id=check_id, title=title, product="ECS", asset_type="SecurityGroup", severity=severity, tier=tier,
        collected="n.rules_collected", fails=predicate, refs=refs or {MLPS: "8.1.3.2"},
        description=f"An ingress rule from 0.0.0.0/0 or ::/0 lets {protocol.upper()} {port_text} in and no rule of "
        "higher precedence (lower priority number; Drop on ties) drops it.",
        remediation=f"Revoke the rules that open {protocol.upper()} {port_text} to 0.0.0.0/0 or ::/0, or narrow their "
        "source to trusted CIDRs.",
        remediation_action="RevokeSecurityGroup",
        legacy_free_editions=("enterprise", "ultimate"),
        passing_example=_sg_example([PASSING_PORT], [PASSING_PORT]),
        failing_example=_sg_example([ports[0]], [ports[0]]),
    )


ITEMS: tuple[CheckItem, ...] = (
    sg_port_item("ACS_ECS_SecurityGroupPublicSSH", "Security group allows SSH (22) from the internet", (22,), "high",
                 "free", {CIS: "4.3", MLPS: "8.1.3.2"}),
    sg_port_item("ACS_ECS_SecurityGroupPublicRDP", "Security group allows RDP (3389) from the internet", (3389,),
                 "high", "free", {CIS: "4.4", MLPS: "8.1.3.2"}),
    CheckItem(
        id="ACS_ECS_SecurityGroupPublicAllPorts", title="Security group opens every TCP port to the internet",
        product="ECS", asset_type="SecurityGroup", severity="high", tier="paid", collected="n.rules_collected",
        fails="any(i IN range(0, size(coalesce(n.inet_tcp_from, [])) - 1) WHERE n.inet_tcp_from[i] <= 1 AND n.inet_tcp_to[i] >= 65535)",
        refs={MLPS: "8.1.3.2"},
        description="Every TCP port is reachable from 0.0.0.0/0 or ::/0 (-1/-1 or 1/65535 after precedence).",
        remediation="Replace the all-ports rule by rules for the ports the service needs, from trusted sources.",
        remediation_action="RevokeSecurityGroup", legacy_free_editions=("enterprise", "ultimate"),
        passing_example=_sg_example([22], [22]), failing_example=_sg_example([1], [65535]),
    ),
    sg_port_item("ACS_ECS_SecurityGroupPublicDatabasePorts", "Security group exposes database ports to the internet",
                 (1433, 3306, 5432, 6379, 9200, 27017), "high", "paid"),
    CheckItem(
        id="ACS_ECS_InstanceMetadataTokenRequired", title="ECS instance metadata requires tokens (IMDSv2 hardened mode)",
        product="ECS", asset_type="EcsInstance", severity="medium", tier="paid",
        collected="n.metadata_collected", fails="toLower(coalesce(n.metadata_http_tokens, '')) <> 'required'",
        refs={MLPS: "8.1.4.4"},
        description="MetadataOptions.HttpTokens is not `required`, so SSRF can read the instance role's credentials.",
        remediation="Call ModifyInstanceMetadataOptions with HttpTokens=required.",
        remediation_action="ModifyInstanceMetadataOptions",
        passing_example=Example({"metadata_collected": True, "metadata_http_tokens": "required"}),
        failing_example=Example({"metadata_collected": True, "metadata_http_tokens": "optional"}),
    ),
    CheckItem(
        id="ACS_ECS_DiskEncrypted", title="ECS disk is encrypted", product="ECS", asset_type="Disk",
        severity="medium", tier="paid", collected="n.encrypted IS NOT NULL", fails="n.encrypted = false",
        refs={CIS: "4.1", MLPS: "8.1.4.8"},
        description="The disk's `Encrypted` attribute is false.",
        remediation="Manual (disks cannot be encrypted in place; the swap needs downtime): `aliyun ecs CreateSnapshot "
        "--DiskId <disk>`, `aliyun ecs CreateDisk --RegionId <region> --ZoneId <zone> --SnapshotId <snapshot> "
        "--Encrypted true [--KMSKeyId <key>]`, stop the instance, `aliyun ecs DetachDisk` the old disk, `aliyun ecs "
        "AttachDisk` the new one (a system disk: `ReplaceSystemDisk` from an encrypted image copy), check, then delete "
        "the old disk.",
        passing_example=Example({"encrypted": True}), failing_example=Example({"encrypted": False}),
    ),
)
