"""File Storage NAS (`NAS` 2017-06-26): file systems with encryption, their mount targets and the rules of the
permission groups those mount targets use (optional calls: a recording without them holds no file systems)."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from graph_schema.model import NodeSchema
from graph_schema.store import GraphBatch
from loaders.base import CollectContext, CollectError, dig_list, paged
from loaders.declaration import Api, AttackRole, Product
from loaders.instances import OPEN_CIDRS
from loaders.listing import Listing
from loaders.regions import is_supported
from loaders.synthetic import record_pages, request_id

API = Api("NAS", "2017-06-26", "nas.{region}.aliyuncs.com", listings={
    "DescribeFileSystems": Listing(("FileSystems", "FileSystem")),
})


def collect_region(ctx: CollectContext, region: str) -> dict[str, Any]:
    scope = f"nas:{region}"
    ctx.mark(scope, "ok")
    systems = paged(ctx, *API.pair, "DescribeFileSystems", region, {"RegionId": region}, ("FileSystems", "FileSystem"),
                    scope=scope, optional=True)
    groups = sorted({(str(m.get("AccessGroupName")), str(fs.get("FileSystemType") or "standard"))
                     for fs in (systems if isinstance(systems, list) else []) if isinstance(fs, dict)
                     for m in dig_list(fs, "MountTargets", "MountTarget") if m.get("AccessGroupName")})
    rules = {f"{name}/{fs_type}": paged(ctx, *API.pair, "DescribeAccessRules", region,
                                        {"RegionId": region, "AccessGroupName": name, "FileSystemType": fs_type},
                                        ("AccessRules", "AccessRule"), optional=True) for name, fs_type in groups}
    return {"region": region, "systems": systems, "rules": rules}


def _rule_facts(rules: list[Any]) -> dict[str, Any]:
    open_rules = [r for r in rules if str(r.get("SourceCidrIp")) in OPEN_CIDRS]
    return {"access_rules_collected": True,
            "open_to_all": bool(open_rules),
            "open_write": any(str(r.get("RWAccess")) == "RDWR" for r in open_rules),
            "root_squash_off": any(str(r.get("UserAccess")) == "no_squash" for r in rules),
            "rule_cidrs": sorted({str(r.get("SourceCidrIp")) for r in rules})}


def transform_region(raw: dict[str, Any], batch: GraphBatch) -> None:
    systems, region = raw.get("systems"), raw["region"]
    if not isinstance(systems, list):
        return
    for fs in systems:
        fid = fs.get("FileSystemId") if isinstance(fs, dict) else None
        if not fid:
            raise CollectError(f"NAS:DescribeFileSystems in {region}: a file system has no FileSystemId")
        mounts = dig_list(fs, "MountTargets", "MountTarget", call="NAS:DescribeFileSystems")
        fs_type = str(fs.get("FileSystemType") or "standard")
        # EncryptType 0: none, 1: the NAS-managed key, 2: a customer-managed KMS key
        encrypt = int(fs.get("EncryptType") or 0)
        props: dict[str, Any] = {
            "region": region, "supported": is_supported("nas", region), "fs_type": fs_type,
            "protocol": fs.get("ProtocolType"), "status": fs.get("Status"), "encrypted": encrypt > 0,
            "encrypted_with_kms": encrypt == 2, "mount_target_count": len(mounts),
            "classic_mount_target": any(str(m.get("NetworkType")).lower() == "classic" for m in mounts),
        }
        rules = [raw["rules"].get(f"{m.get('AccessGroupName')}/{fs_type}") for m in mounts]
        if mounts and all(isinstance(r, list) for r in rules):
            props.update(_rule_facts([x for r in rules if isinstance(r, list) for x in r]))
        elif not mounts:
            props.update(_rule_facts([]))
        batch.node("NasFileSystem", str(fid), f"nas:{region}", **props)


def synthetic(call: Callable[..., None], rng: random.Random, region: str, count: int) -> None:
    systems = [{"FileSystemId": f"{i:03d}{region[-4:]}syn", "FileSystemType": "standard", "ProtocolType": "NFS",
                "Status": "Running", "EncryptType": rng.choice([0, 1, 2]),
                "MountTargets": {"MountTarget": [{"MountTargetDomain": f"m{i}.{region}.nas.aliyuncs.com",
                                                  "NetworkType": "Vpc", "AccessGroupName": rng.choice(
                                                      ["DEFAULT_VPC_GROUP_NAME", "open-group"])}]}}
               for i in range(count)]
    record_pages(call, *API.pair, "DescribeFileSystems", region, systems, ("FileSystems", "FileSystem"), 50, rng)
    for name, cidr, squash in (("DEFAULT_VPC_GROUP_NAME", "172.16.0.0/12", "root_squash"),
                               ("open-group", "0.0.0.0/0", "no_squash")):
        call(*API.pair, "DescribeAccessRules", region, {"RegionId": region, "AccessGroupName": name,
                                                        "FileSystemType": "standard", "PageNumber": 1, "PageSize": 100},
             {"RequestId": request_id(rng), "TotalCount": 1, "PageNumber": 1, "PageSize": 100, "AccessRules": {
                 "AccessRule": [{"AccessRuleId": "1", "SourceCidrIp": cidr, "RWAccess": "RDWR", "UserAccess": squash,
                                 "Priority": 1}]}})


PRODUCT = Product(
    "nas", (API,), collect_region, transform_region, synthetic=synthetic,
    nodes=(NodeSchema("NasFileSystem", "a File Storage NAS file system with its mount targets' access rules", (
        "fs_type", "protocol", "status", "encrypted", "encrypted_with_kms", "mount_target_count",
        "classic_mount_target", "access_rules_collected", "open_to_all", "open_write", "root_squash_off",
        "rule_cidrs")),),
    # file data is reached over the network through access rules, not RAM: whoever may write the rules can
    # let their own network mount it (read and write the files) — administering the file system
    attack_roles=(AttackRole("NasFileSystem", "target", exposed="n.open_to_all",
                             admin=("nas:CreateAccessRule", "nas:ModifyAccessRule"),
                             resource="acs:nas:{region}:{account}:filesystem/{id}"),),
)
