"""Synthetic accounts: realistic `skypath-snapshot/1` recordings of any size, deterministic by seed.

Shapes are the real APIs' (the same ones the sample uses), paged as the APIs page, with the
usual mix of risky and hardened configuration and a RAM fan-out (roles, groups, custom and system
policies) that gives the attack-path analysis real work.
"""

from __future__ import annotations

import json
import random
from typing import Any

from loaders.products import api, products

REGIONS = ("cn-hangzhou", "cn-shanghai", "cn-beijing", "ap-southeast-1")
SYSTEM_POLICIES = {
    "AdministratorAccess": {"Version": "1", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]},
    "AliyunOSSReadOnlyAccess": {"Version": "1", "Statement": [{"Effect": "Allow", "Action": ["oss:Get*", "oss:List*"], "Resource": "*"}]},
    "AliyunOSSFullAccess": {"Version": "1", "Statement": [{"Effect": "Allow", "Action": "oss:*", "Resource": "*"}]},
    "AliyunECSFullAccess": {"Version": "1", "Statement": [{"Effect": "Allow", "Action": "ecs:*", "Resource": "*"}]},
    "AliyunRDSFullAccess": {"Version": "1", "Statement": [{"Effect": "Allow", "Action": "rds:*", "Resource": "*"}]},
}


def request_id(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032X}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def generate(assets: int = 1000, seed: int = 7, account_id: str = "1900000000000001") -> dict[str, Any]:
    """A snapshot with about `assets` assets (ECS, SGs, disks, buckets, RDS, RAM identities, keys)."""
    rng = random.Random(seed)
    more = random.Random(seed + 1)
    n_inst = max(2, int(assets * 0.30))
    n_sg = max(1, int(assets * 0.04))
    n_disk = max(2, int(assets * 0.33))
    n_bucket = max(1, int(assets * 0.04))
    n_rds = max(1, int(assets * 0.03))
    n_user = max(2, int(assets * 0.08))
    n_role = max(2, int(assets * 0.02))
    n_policy = max(2, int(assets * 0.03))
    n_group = max(1, int(assets * 0.005))
    calls: list[dict[str, Any]] = []

    def call(product: str, version: str, action: str, region: str, params: dict[str, Any], response: Any) -> None:
        calls.append({"product": product, "version": version, "action": action, "region": region,
                      "params": params, "response": response})

    def err(product: str, version: str, action: str, region: str, params: dict[str, Any], code: str, status: int) -> None:
        calls.append({"product": product, "version": version, "action": action, "region": region, "params": params,
                      "error": {"code": code, "message": code, "http_status": status}})

    by_region: dict[str, dict[str, list[Any]]] = {r: {"sg": [], "inst": [], "disk": [], "rds": [], "eip": []} for r in REGIONS}
    sgs = []
    for i in range(n_sg):
        region = REGIONS[i % len(REGIONS)]
        sg_id = f"sg-syn{i:08d}"
        sgs.append((region, sg_id))
        by_region[region]["sg"].append(sg_id)
    role_names = [f"role-{i:05d}" for i in range(n_role)]
    for i in range(n_inst):
        region = REGIONS[i % len(REGIONS)]
        iid = f"i-syn{i:08d}"
        public = rng.random() < 0.2
        groups = [s for r, s in rng.sample(sgs, min(2, len(sgs))) if r == region] or [by_region[region]["sg"][0]] if by_region[region]["sg"] else []
        by_region[region]["inst"].append({
            "InstanceId": iid, "InstanceName": f"node-{i}", "RegionId": region, "ZoneId": f"{region}-a", "Status": "Running",
            "InstanceType": "ecs.g7.large", "OSType": "linux", "OSName": "Alibaba Cloud Linux 3",
            "VpcAttributes": {"VpcId": f"vpc-{region}", "PrivateIpAddress": {"IpAddress": [f"172.16.{i // 250 % 250}.{i % 250}"]}},
            "PublicIpAddress": {"IpAddress": [f"47.{i // 65536 % 250}.{i // 256 % 256}.{i % 256}"] if public else []},
            "EipAddress": {"AllocationId": "", "IpAddress": "", "InternetChargeType": ""},
            "SecurityGroupIds": {"SecurityGroupId": groups},
            "MetadataOptions": {"HttpEndpoint": "enabled", "HttpTokens": rng.choice(["optional", "required"])},
            "Tags": {"Tag": []}, "_role": rng.choice(role_names) if rng.random() < 0.5 else None,
        })
    for i in range(n_disk):
        region = REGIONS[i % len(REGIONS)]
        insts = by_region[region]["inst"]
        by_region[region]["disk"].append({
            "DiskId": f"d-syn{i:08d}", "InstanceId": insts[i % len(insts)]["InstanceId"] if insts else "",
            "RegionId": region, "Type": "system" if i % 3 else "data", "Category": "cloud_essd", "Size": 40,
            "Encrypted": rng.random() < 0.6, "KMSKeyId": "", "Status": "In_use",
        })
    for i in range(n_rds):
        region = REGIONS[i % len(REGIONS)]
        by_region[region]["rds"].append({
            "DBInstanceId": f"rm-syn{i:08d}", "RegionId": region, "Engine": "MySQL",
            "EngineVersion": rng.choice(["8.0", "5.7", "5.5"]), "DBInstanceNetType": rng.choice(["Intranet", "Internet"]),
            "Category": rng.choice(["Basic", "HighAvailability"]), "DBInstanceStatus": "Running",
        })

    for region in REGIONS:
        data = by_region[region]
        record_pages(call, *api("Ecs").pair, "DescribeInstances", region, [
            {k: v for k, v in x.items() if k != "_role"} for x in data["inst"]], ("Instances", "Instance"), 100, rng)
        roles = [{"InstanceId": x["InstanceId"], "RamRoleName": x["_role"]} for x in data["inst"] if x["_role"]]
        record_pages(call, *api("Ecs").pair, "DescribeInstanceRamRole", region, roles,
               ("InstanceRamRoleSets", "InstanceRamRoleSet"), 100, rng)
        record_pages(call, *api("Ecs").pair, "DescribeSecurityGroups", region,
               [{"SecurityGroupId": s, "SecurityGroupName": s, "VpcId": f"vpc-{region}"} for s in data["sg"]],
               ("SecurityGroups", "SecurityGroup"), 50, rng)
        for j, sg_id in enumerate(data["sg"]):
            perms = [{"SecurityGroupRuleId": f"sgr-{sg_id}-{k}", "Direction": "ingress", "IpProtocol": "TCP",
                      "PortRange": p, "SourceCidrIp": src, "Ipv6SourceCidrIp": "", "Policy": pol, "Priority": pri}
                     for k, (p, src, pol, pri) in enumerate([
                         ("443/443", "0.0.0.0/0", "Accept", "1"),
                         ("22/22", "0.0.0.0/0" if j % 4 == 0 else "10.0.0.0/8", "Accept", "1"),
                         ("3306/3306", "0.0.0.0/0" if j % 9 == 0 else "172.16.0.0/12", "Accept", "1"),
                         ("3389/3389", "0.0.0.0/0", "Drop", "1"),
                         ("1/65535", "0.0.0.0/0" if j % 25 == 0 else "192.168.0.0/16", "Accept", "100"),
                     ])]
            call(*api("Ecs").pair, "DescribeSecurityGroupAttribute", region,
                 {"RegionId": region, "SecurityGroupId": sg_id, "Direction": "all"},
                 {"RequestId": request_id(rng), "RegionId": region, "SecurityGroupId": sg_id, "InnerAccessPolicy": "Accept",
                  "Permissions": {"Permission": perms}})
        record_pages(call, *api("Ecs").pair, "DescribeDisks", region, data["disk"], ("Disks", "Disk"), 100, rng)
        record_pages(call, *api("Vpc").pair, "DescribeEipAddresses", region, data["eip"], ("EipAddresses", "EipAddress"), 50, rng)
        vpcs = [{"VpcId": f"vpc-{region}", "VpcName": "main", "CidrBlock": "172.16.0.0/12", "IsDefault": False},
                {"VpcId": f"vpc-{region}-default", "VpcName": "", "CidrBlock": "172.31.0.0/16", "IsDefault": True}]
        record_pages(call, *api("Vpc").pair, "DescribeVpcs", region, vpcs, ("Vpcs", "Vpc"), 50, more)
        record_pages(call, *api("Vpc").pair, "DescribeFlowLogs", region, [
            {"FlowLogId": f"fl-{region}", "ResourceType": "VPC", "ResourceId": f"vpc-{region}", "TrafficType": "All",
             "Status": more.choice(["Active", "Inactive"])}], ("FlowLogs", "FlowLog"), 50, more)
        record_pages(call, *api("Rds").pair, "DescribeDBInstances", region, data["rds"], ("Items", "DBInstance"), 100, rng,
               total_key="TotalRecordCount")
        for db in data["rds"]:
            p = {"DBInstanceId": db["DBInstanceId"]}
            call(*api("Rds").pair, "DescribeDBInstanceAttribute", region, p,
                 {"RequestId": request_id(rng), "Items": {"DBInstanceAttribute": [{**db, "Port": "3306"}]}})
            call(*api("Rds").pair, "DescribeDBInstanceIPArrayList", region, p, {"RequestId": request_id(rng), "Items": {
                "DBInstanceIPArray": [{"DBInstanceIPArrayName": "default", "SecurityIPList": rng.choice(["10.0.0.0/8", "0.0.0.0/0"])}]}})
            call(*api("Rds").pair, "DescribeDBInstanceTDE", region, p, {"RequestId": request_id(rng), "TDEStatus": rng.choice(["Enabled", "Disabled"])})
            call(*api("Rds").pair, "DescribeDBInstanceSSL", region, p, {"RequestId": request_id(rng), "SSLEnabled": rng.choice(["Yes", "No"])})
            call(*api("Rds").pair, "DescribeBackupPolicy", region, p, {"RequestId": request_id(rng), "BackupRetentionPeriod": rng.choice([3, 7, 30])})
            call(*api("Rds").pair, "DescribeSQLCollectorPolicy", region, p, {"RequestId": request_id(rng), "SQLCollectorStatus": rng.choice(["Enable", "Disabled"])})
            call(*api("Rds").pair, "DescribeDBInstanceEncryptionKey", region, p, {"RequestId": request_id(more), **more.choice([
                {"EncryptionKey": f"key-syn{db['DBInstanceId'][-6:]}", "Creator": account_id, "EncryptionKeyStatus": "Enabled"},
                {"EncryptionKey": "", "Creator": "Rds", "EncryptionKeyStatus": "Enabled"}])})
        call(*api("Actiontrail").pair, "DescribeTrails", region, {"RegionId": region, "IncludeShadowTrails": True},
             {"RequestId": request_id(rng), "TrailList": []})

    # OSS
    buckets = [(f"syn-bucket-{i:06d}", REGIONS[i % len(REGIONS)]) for i in range(n_bucket)]
    xml = "".join(f"<Bucket><Name>{n}</Name><Region>{r}</Region><Location>oss-{r}</Location>"
                  f"<CreationDate>2024-01-01T00:00:00.000Z</CreationDate><StorageClass>Standard</StorageClass></Bucket>"
                  for n, r in buckets)
    call("Oss", "", "ListBuckets", "global", {}, f'<?xml version="1.0" encoding="UTF-8"?>\n<ListAllMyBucketsResult><Buckets>{xml}</Buckets></ListAllMyBucketsResult>')
    for name, region in buckets:
        p = {"bucket": name}
        acl = rng.choice(["private"] * 8 + ["public-read"])
        call("Oss", "", "GetBucketAcl", region, p, f"<AccessControlPolicy><AccessControlList><Grant>{acl}</Grant></AccessControlList></AccessControlPolicy>")
        if rng.random() < 0.3:
            pol = {"Version": "1", "Statement": [{"Effect": "Deny", "Action": ["oss:*"], "Principal": ["*"],
                   "Resource": [f"acs:oss:*:{account_id}:{name}/*"], "Condition": {"Bool": {"acs:SecureTransport": ["false"]}}}]}
            call("Oss", "", "GetBucketPolicy", region, p, json.dumps(pol))
        else:
            err("Oss", "", "GetBucketPolicy", region, p, "NoSuchBucketPolicy", 404)
        if rng.random() < 0.5:
            call("Oss", "", "GetBucketEncryption", region, p, "<ServerSideEncryptionRule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault></ServerSideEncryptionRule>")
        else:
            err("Oss", "", "GetBucketEncryption", region, p, "NoSuchServerSideEncryptionRule", 404)
        call("Oss", "", "GetBucketLogging", region, p, "<BucketLoggingStatus></BucketLoggingStatus>")
        call("Oss", "", "GetBucketVersioning", region, p, f"<VersioningConfiguration><Status>{rng.choice(['Enabled', 'Suspended'])}</Status></VersioningConfiguration>")

    # RAM
    custom = {}
    # mostly narrow grants; a few broad ones, as real accounts have
    kinds = [0] * 45 + [1] * 15 + [2] * 15 + [3] * 1 + [4] * 24
    for i in range(n_policy):
        kind = kinds[i % len(kinds)]
        if kind == 0:
            b = buckets[rng.randrange(len(buckets))][0]
            doc = {"Version": "1", "Statement": [{"Effect": "Allow", "Action": ["oss:GetObject", "oss:PutObject"], "Resource": [f"acs:oss:*:*:{b}/*"]}]}
        elif kind == 1:
            doc = {"Version": "1", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": f"acs:ram:*:{account_id}:role/{rng.choice(role_names).lower()}"}]}
        elif kind == 2:
            db = f"rm-syn{rng.randrange(n_rds):08d}"
            doc = {"Version": "1", "Statement": [{"Effect": "Allow", "Action": ["rds:ModifySecurityIps", "rds:Describe*"], "Resource": f"acs:rds:*:*:dbinstance/{db}"}]}
        elif kind == 3:
            doc = {"Version": "1", "Statement": [{"Effect": "Allow", "Action": "oss:Get*", "Resource": "*"},
                                                 {"Effect": "Deny", "Action": "oss:*", "Resource": f"acs:oss:*:*:{buckets[0][0]}/*"}]}
        else:
            doc = {"Version": "1", "Statement": [{"Effect": "Allow", "Action": ["ecs:Describe*", "vpc:Describe*"], "Resource": "*"}]}
        custom[f"policy-{i:05d}"] = doc
    policy_docs = {("Custom", k): v for k, v in custom.items()} | {("System", k): v for k, v in SYSTEM_POLICIES.items()}
    custom_names = sorted(custom)
    users = [f"user-{i:05d}" for i in range(n_user)]
    groups = [f"group-{i:04d}" for i in range(n_group)]
    _marker(call, "ListUsers", {}, ("Users", "User"), [{"UserName": u, "UserId": str(10**15 + i)} for i, u in enumerate(users)], rng)
    _marker(call, "ListRoles", {}, ("Roles", "Role"), [{"RoleName": r, "RoleId": str(i), "Arn": f"acs:ram::{account_id}:role/{r.lower()}"} for i, r in enumerate(role_names + ["AliyunServiceRoleForSasCspm"])], rng)
    _marker(call, "ListGroups", {}, ("Groups", "Group"), [{"GroupName": g} for g in groups], rng)

    def pol_entry(ptype: str, name: str) -> dict[str, Any]:
        return {"PolicyName": name, "PolicyType": ptype, "DefaultVersion": "v1"}

    members: dict[str, list[str]] = {g: [] for g in groups}
    for i, u in enumerate(users):
        p = {"UserName": u}
        direct = [pol_entry("Custom", rng.choice(custom_names))] if rng.random() < 0.4 else []
        if i % 97 == 0:
            direct.append(pol_entry("System", "AliyunOSSReadOnlyAccess"))
        call(*api("Ram").pair, "ListPoliciesForUser", "global", p, {"RequestId": request_id(rng), "Policies": {"Policy": direct}})
        g = [groups[i % len(groups)]] if rng.random() < 0.7 else []
        for x in g:
            members[x].append(u)
        call(*api("Ram").pair, "ListGroupsForUser", "global", p, {"RequestId": request_id(rng), "Groups": {"Group": [{"GroupName": x} for x in g]}})
        keys = [{"AccessKeyId": f"LTAISYN{i:013d}", "Status": rng.choice(["Active", "Active", "Inactive"]),
                 "CreateDate": rng.choice(["2026-10-01T00:00:00Z", "2025-01-01T00:00:00Z"])}] if rng.random() < 0.6 else []
        call(*api("Ram").pair, "ListAccessKeys", "global", p, {"RequestId": request_id(rng), "AccessKeys": {"AccessKey": keys}})
        if rng.random() < 0.5:
            call(*api("Ram").pair, "GetLoginProfile", "global", p, {"RequestId": request_id(rng), "LoginProfile": {"UserName": u}})
        else:
            err(*api("Ram").pair, "GetLoginProfile", "global", p, "EntityNotExist.User.LoginProfile", 404)
        if rng.random() < 0.5:
            call(*api("Ram").pair, "GetUserMFAInfo", "global", p, {"RequestId": request_id(rng), "MFADevice": {"SerialNumber": f"acs:ram::{account_id}:mfa/{u}"}})
        else:
            err(*api("Ram").pair, "GetUserMFAInfo", "global", p, "EntityNotExist.User.MFADevice", 404)
        # beyond the spec's minimum, from their own random stream (the base account stays the same by seed)
        call(*api("Ram").pair, "GetUser", "global", p, {"RequestId": request_id(more), "User": {
            "UserName": u, "CreateDate": "2024-01-10T02:00:00Z",
            "LastLoginDate": more.choice(["2026-11-18T09:00:00Z", "2026-03-01T09:00:00Z", ""])}})
    call(*api("Ram").pair, "ListVirtualMFADevices", "global", {}, {"RequestId": request_id(more), "VirtualMFADevices": {
        "VirtualMFADevice": [{"SerialNumber": f"acs:ram::{account_id}:mfa/{u}", "ActivateDate": "2024-02-01T00:00:00Z",
                              "User": {"UserName": u}} for u in users[::3]]
        + [{"SerialNumber": f"acs:ram::{account_id}:mfa/unbound", "ActivateDate": ""}]}})
    call(*api("Ims").pair, "GetAccountSecurityPracticeReport", "global", {}, {
        "RequestId": request_id(more), "AccountSecurityPracticeInfo": {"Score": 70, "AccountSecurityPracticeUserInfo": {
            "RootWithAccessKey": 0, "BindMfa": True, "SubUser": len(users), "UnusedAkNum": 0}}})
    for gi, group in enumerate(groups):
        p = {"GroupName": group}
        pols = [pol_entry("System", "AdministratorAccess")] if gi == 0 else [pol_entry("Custom", rng.choice(custom_names))]
        call(*api("Ram").pair, "ListPoliciesForGroup", "global", p, {"RequestId": request_id(rng), "Policies": {"Policy": pols}})
        _marker(call, "ListUsersForGroup", p, ("Users", "User"), [{"UserName": u} for u in members[group]], rng)
    for r in role_names + ["AliyunServiceRoleForSasCspm"]:
        p = {"RoleName": r}
        trust = {"Version": "1", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                 "Principal": {"Service": ["ecs.aliyuncs.com"]} if rng.random() < 0.7 else {"RAM": [f"acs:ram::{account_id}:root"]}}]}
        call(*api("Ram").pair, "GetRole", "global", p, {"RequestId": request_id(rng), "Role": {"RoleName": r, "Arn": f"acs:ram::{account_id}:role/{r.lower()}",
                                                                                            "AssumeRolePolicyDocument": json.dumps(trust)}})
        pols = [] if r.startswith("Aliyun") else [pol_entry("Custom", rng.choice(custom_names))]
        if r == role_names[0]:
            pols.append(pol_entry("System", "AliyunOSSFullAccess"))
        call(*api("Ram").pair, "ListPoliciesForRole", "global", p, {"RequestId": request_id(rng), "Policies": {"Policy": pols}})
    for (ptype, name), doc in sorted(policy_docs.items()):
        p = {"PolicyName": name, "PolicyType": ptype}
        call(*api("Ram").pair, "GetPolicy", "global", p, {"RequestId": request_id(rng), "Policy": {**p, "DefaultVersion": "v1", "AttachmentCount": 1}})
        call(*api("Ram").pair, "GetPolicyVersion", "global", {**p, "VersionId": "v1"},
             {"RequestId": request_id(rng), "PolicyVersion": {"VersionId": "v1", "IsDefaultVersion": True, "PolicyDocument": json.dumps(doc)}})
    call(*api("Ram").pair, "GetPasswordPolicy", "global", {}, {"RequestId": request_id(rng), "PasswordPolicy": {
        "MinimumPasswordLength": 8, "RequireLowercaseCharacters": True, "RequireUppercaseCharacters": True,
        "RequireNumbers": True, "RequireSymbols": False, "PasswordReusePrevention": 0, "MaxLoginAttemps": 5}})
    # the further products generate their own recorded calls (their declaration's `synthetic`)
    for product in products():
        if product.synthetic is not None:
            per_region = -(-max(1, int(assets * product.synthetic_share)) // len(REGIONS))
            for region in REGIONS:
                product.synthetic(call, more, region, per_region)
    return {"format": "skypath-snapshot/1", "account_id": account_id, "account_name": f"synthetic-{assets}",
            "collected_at": "2026-11-20T08:00:00Z", "calls": calls, "hosts": []}


def record_pages(call: Any, product: str, version: str, action: str, region: str, items: list[Any],
           path: tuple[str, str], size: int, rng: random.Random, total_key: str = "TotalCount") -> None:
    pages = max(1, -(-len(items) // size))
    for page in range(1, pages + 1):
        chunk = items[(page - 1) * size: page * size]
        call(product, version, action, region, {"RegionId": region, "PageNumber": page, "PageSize": size},
             {"RequestId": request_id(rng), total_key: len(items), "PageNumber": page, "PageSize": size,
              path[0]: {path[1]: chunk}})


def _marker(call: Any, action: str, params: dict[str, Any], path: tuple[str, str], items: list[Any],
            rng: random.Random, size: int = 1000) -> None:
    pages = max(1, -(-len(items) // size))
    for page in range(pages):
        req = {**params, "MaxItems": size}
        if page:
            req["Marker"] = f"m{page}"
        resp: dict[str, Any] = {"RequestId": request_id(rng), "IsTruncated": page < pages - 1, path[0]: {path[1]: items[page * size:(page + 1) * size]}}
        if page < pages - 1:
            resp["Marker"] = f"m{page + 1}"
        call(*api("Ram").pair, action, "global", req, resp)


def main(argv: list[str] | None = None) -> None:
    import argparse
    import gzip

    parser = argparse.ArgumentParser(description="write a synthetic skypath-snapshot/1")
    parser.add_argument("--assets", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--account", default="1900000000000001")
    parser.add_argument("--output", required=True)
    args = parser.parse_args(argv)
    doc = json.dumps(generate(args.assets, args.seed, args.account)).encode()
    with open(args.output, "wb") as fh:
        fh.write(gzip.compress(doc, 3) if args.output.endswith(".gz") else doc)


if __name__ == "__main__":
    main()
