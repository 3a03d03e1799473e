"""ECS: instances, security groups with rules, disks, instance RAM roles (EIPs are the VPC product's)."""

from __future__ import annotations

from typing import Any

from graph_schema.model import NodeSchema, RelSchema
from graph_schema.store import GraphBatch
from loaders.base import (
    CollectContext,
    CollectError,
    dig,
    dig_list,
    follow_next_token,
    paged,
)
from loaders.declaration import Api, AttackRole, Product
from loaders.listing import FilteredView, Listing
from loaders.regions import is_supported
from loaders.secgroup import internet_open_ranges, rule_from_permission

API = Api("Ecs", "2014-05-26", "ecs.{region}.aliyuncs.com", "alibabacloud_ecs20140526.client", listings={
    "DescribeInstances": Listing(("Instances", "Instance")),
    "DescribeInstanceRamRole": Listing(("InstanceRamRoleSets", "InstanceRamRoleSet")),
    "DescribeSecurityGroups": Listing(("SecurityGroups", "SecurityGroup"), style="token"),
    "DescribeDisks": Listing(("Disks", "Disk")),
}, views={
    # rules are recorded with Direction=all; a request for one direction is that answer filtered
    "DescribeSecurityGroupAttribute": FilteredView("Direction", "all", ("Permissions", "Permission"), "Direction"),
})
ECS = API.pair


def collect_region(ctx: CollectContext, region: str) -> dict[str, Any]:
    scope = f"ecs:{region}"
    raw: dict[str, Any] = {"region": region}
    ctx.mark(scope, "ok")
    raw["instances"] = paged(
        ctx, *ECS, "DescribeInstances", region, {"RegionId": region}, ("Instances", "Instance"), scope=scope
    )
    raw["ram_roles"] = paged(
        ctx, *ECS, "DescribeInstanceRamRole", region, {"RegionId": region},
        ("InstanceRamRoleSets", "InstanceRamRoleSet"), scope=scope,
    )
    groups = paged(
        ctx, *ECS, "DescribeSecurityGroups", region, {"RegionId": region},
        ("SecurityGroups", "SecurityGroup"), page_size=50, scope=scope,
    )
    raw["security_groups"] = groups
    raw["sg_attributes"] = {}
    if isinstance(groups, list):
        for sg in groups:
            sg_id = sg.get("SecurityGroupId")
            raw["sg_attributes"][sg_id] = follow_next_token(
                ctx, *ECS, "DescribeSecurityGroupAttribute", region,
                {"RegionId": region, "SecurityGroupId": sg_id, "Direction": "all"}, ("Permissions", "Permission"),
            )
    raw["disks"] = paged(
        ctx, *ECS, "DescribeDisks", region, {"RegionId": region}, ("Disks", "Disk"), scope=scope
    )
    return raw


def _ips(value: Any) -> list[str]:
    if isinstance(value, dict):
        value = value.get("IpAddress", [])
    if isinstance(value, str):
        return [value] if value else []
    return [str(v) for v in (value or []) if v]


def transform_region(raw: dict[str, Any], batch: GraphBatch) -> None:
    region = raw["region"]
    scope = f"ecs:{region}"
    supported = is_supported("ecs", region)
    instances = raw.get("instances")
    sg_ids: set[str] = set()
    groups = raw.get("security_groups")
    if isinstance(groups, list):
        for sg in groups:
            sg_id = sg.get("SecurityGroupId")
            if not sg_id:
                raise CollectError(f"Ecs:DescribeSecurityGroups in {region}: a group has no SecurityGroupId")
            sg_ids.add(sg_id)
            attr = raw.get("sg_attributes", {}).get(sg_id)
            props: dict[str, Any] = {
                "region": region, "supported": supported, "name": sg.get("SecurityGroupName"),
                "vpc_id": sg.get("VpcId"), "rules_collected": isinstance(attr, dict),
            }
            if isinstance(attr, dict):
                perms = dig_list(attr, "Permissions", "Permission", call="Ecs:DescribeSecurityGroupAttribute")
                rules = []
                for i, perm in enumerate(perms):
                    if not isinstance(perm, dict):
                        raise CollectError(f"Ecs:DescribeSecurityGroupAttribute {sg_id}: Permission[{i}] is not an object")
                    rule = rule_from_permission(perm)
                    rules.append(rule)
                    rule_id = perm.get("SecurityGroupRuleId") or f"{sg_id}/rule-{i}"
                    batch.node(
                        "SecurityGroupRule", rule_id, scope, region=region, security_group_id=sg_id,
                        direction=rule.direction, protocol=rule.protocol, port_from=rule.port_from,
                        port_to=rule.port_to, port_range=str(perm.get("PortRange") or ""),
                        source_cidr=rule.source_v4, source_ipv6_cidr=rule.source_v6,
                        source_group_id=perm.get("SourceGroupId") or "", policy=rule.policy,
                        priority=rule.priority, nic_type=perm.get("NicType"),
                    )
                    batch.rel("HAS_RULE", ("SecurityGroup", sg_id), ("SecurityGroupRule", rule_id), scope)
                tcp = internet_open_ranges(rules, "tcp")
                udp = internet_open_ranges(rules, "udp")
                props.update(
                    inet_tcp_from=[a for a, _ in tcp], inet_tcp_to=[b for _, b in tcp],
                    inet_udp_from=[a for a, _ in udp], inet_udp_to=[b for _, b in udp],
                    inner_access_policy=attr.get("InnerAccessPolicy"),
                )
            batch.node("SecurityGroup", sg_id, scope, **props)

    roles: dict[str, str] = {}
    if isinstance(raw.get("ram_roles"), list):
        for item in raw["ram_roles"]:
            if item.get("InstanceId") and item.get("RamRoleName"):
                roles[item["InstanceId"]] = item["RamRoleName"]

    if isinstance(instances, list):
        for inst in instances:
            iid = inst.get("InstanceId")
            if not iid:
                raise CollectError(f"Ecs:DescribeInstances in {region}: an instance has no InstanceId")
            public_ips = _ips(inst.get("PublicIpAddress"))
            eip_ip = dig(inst, "EipAddress", "IpAddress", default="") or ""
            eip_ips = [eip_ip] if eip_ip else []  # EIPs bound through the VPC listing join in link_eips
            meta = inst.get("MetadataOptions") or {}
            tags = {t.get("TagKey"): t.get("TagValue") for t in dig_list(inst, "Tags", "Tag") if isinstance(t, dict)}
            batch.node(
                "EcsInstance", iid, scope, region=region, supported=supported, name=inst.get("InstanceName"),
                status=inst.get("Status"), zone=inst.get("ZoneId"), os_type=inst.get("OSType"),
                instance_type=inst.get("InstanceType"), public_ips=public_ips, eip_ips=eip_ips,
                is_public=bool(public_ips or eip_ips), vpc_id=dig(inst, "VpcAttributes", "VpcId"),
                metadata_collected=isinstance(meta, dict) and bool(meta),
                metadata_http_tokens=str(meta.get("HttpTokens") or "") if isinstance(meta, dict) else None,
                metadata_http_endpoint=str(meta.get("HttpEndpoint") or "") if isinstance(meta, dict) else None,
                ram_role_name=roles.get(iid), tags=[f"{k}={v}" for k, v in sorted(tags.items()) if k],
                role_collected=isinstance(raw.get("ram_roles"), list),
            )
            for sg_id in dig_list(inst, "SecurityGroupIds", "SecurityGroupId", call="Ecs:DescribeInstances"):
                batch.rel("MEMBER_OF", ("EcsInstance", iid), ("SecurityGroup", str(sg_id)), scope)

    disks = raw.get("disks")
    if isinstance(disks, list):
        for disk in disks:
            did = disk.get("DiskId")
            if not did:
                raise CollectError(f"Ecs:DescribeDisks in {region}: a disk has no DiskId")
            encrypted = disk.get("Encrypted")
            batch.node(
                "Disk", did, scope, region=region, supported=supported, instance_id=disk.get("InstanceId") or "",
                encrypted=bool(encrypted) if isinstance(encrypted, bool) else str(encrypted).lower() == "true",
                kms_key_id=disk.get("KMSKeyId") or "", category=disk.get("Category"), type=disk.get("Type"),
                size=disk.get("Size"),
            )
            if disk.get("InstanceId"):
                batch.rel("ATTACHED_TO", ("Disk", did), ("EcsInstance", disk["InstanceId"]), scope)


def link_eips(batch: GraphBatch) -> None:
    """EIPs of the VPC listing bound to an instance of their region: BOUND_TO, and their addresses among the
    instance's (after its own `EipAddress`), which make it public."""
    instances = batch.nodes.get("EcsInstance", {})
    for alloc, eip in batch.nodes.get("Eip", {}).items():
        inst = instances.get(eip.get("instance_id") or "")
        if inst is None or inst.get("region") != eip.get("region"):
            continue
        batch.rel("BOUND_TO", ("Eip", alloc), ("EcsInstance", inst["id"]), eip["scope"])
        ip = str(eip.get("ip_address") or "")
        if str(eip.get("instance_type") or "").lower() in ("ecsinstance", "") and ip and ip not in inst["eip_ips"][:1]:
            inst["eip_ips"] = [*inst["eip_ips"], ip]
            inst["is_public"] = True


def finish(batch: GraphBatch) -> None:
    link_eips(batch)
    role_links(batch, batch.account_id)


def role_links(batch: GraphBatch, account_id: str) -> None:
    """Instance → RAM role edges, once RAM roles are known (role ids are ARNs)."""
    by_name = {str(row.get("name", "")).lower(): rid for rid, row in batch.nodes.get("RamRole", {}).items()}
    for iid, row in batch.nodes.get("EcsInstance", {}).items():
        name = row.get("ram_role_name")
        if not name:
            continue
        role_id = by_name.get(str(name).lower())
        if role_id is None:
            role_id = f"acs:ram::{account_id}:role/{str(name).lower()}"
        batch.rel("HAS_ROLE", ("EcsInstance", iid), ("RamRole", role_id), row["scope"])


PRODUCT = Product(
    "ecs", (API,), collect_region, transform_region, order=20, finish=finish,
    nodes=(
        NodeSchema("EcsInstance", "an ECS instance", (
            "name", "status", "zone", "os_type", "public_ips", "eip_ips", "is_public", "vpc_id", "metadata_collected",
            "metadata_http_tokens", "metadata_http_endpoint", "instance_type", "ram_role_name", "role_collected", "tags",
            # facts the analysis adds (checks/analysis.py: effective ingress after precedence)
            "internet_ports", "internet_reachable")),
        NodeSchema("SecurityGroup", "an ECS security group with its ingress exposure computed after rule precedence", (
            "name", "vpc_id", "rules_collected", "inet_tcp_from", "inet_tcp_to", "inet_udp_from", "inet_udp_to",
            "inner_access_policy")),
        NodeSchema("SecurityGroupRule", "one permission of a security group", (
            "direction", "protocol", "port_from", "port_to", "port_range", "source_cidr", "source_ipv6_cidr",
            "source_group_id", "policy", "priority", "nic_type", "security_group_id"), asset=False),
        NodeSchema("Disk", "an ECS block storage disk", ("instance_id", "encrypted", "kms_key_id", "category", "type",
                                                         "size")),
    ),
    rels=(
        RelSchema("MEMBER_OF", "EcsInstance", "SecurityGroup", "instance is in the security group"),
        RelSchema("HAS_RULE", "SecurityGroup", "SecurityGroupRule", "the group's permission"),
        RelSchema("ATTACHED_TO", "Disk", "EcsInstance", "disk attached to instance"),
        RelSchema("HAS_ROLE", "EcsInstance", "RamRole", "instance RAM role"),
    ),
    attack_roles=(AttackRole("EcsInstance", "entry", exposed="n.internet_reachable"),
                  AttackRole("EcsInstance", "pivot")),
)
