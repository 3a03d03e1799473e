"""More ECS/VPC items: service ports exposed to the internet, instance exposure, disks, EIPs."""

from __future__ import annotations

from checks.catalog.ecs import sg_port_item
from checks.model import CheckItem, Example

CIS = "CIS_ALIBABA_CLOUD_2_0"
MLPS = "MLPS_2_0_L3"
ACCESS = {MLPS: "8.1.3.2"}

# (id suffix, service, ports, severity, tier, protocol)
EXPOSED_SERVICES: tuple[tuple[str, str, tuple[int, ...], str, str, str], ...] = (
    ("Telnet", "Telnet", (23,), "high", "free", "tcp"),
    ("FTP", "FTP", (20, 21), "high", "free", "tcp"),
    ("SMB", "SMB/CIFS", (445,), "high", "free", "tcp"),
    ("NetBIOS", "NetBIOS", (137, 138, 139), "high", "paid", "tcp"),
    ("VNC", "VNC", (5900, 5901), "high", "paid", "tcp"),
    ("MySQL", "MySQL", (3306,), "high", "paid", "tcp"),
    ("PostgreSQL", "PostgreSQL", (5432,), "high", "paid", "tcp"),
    ("SQLServer", "SQL Server", (1433,), "high", "paid", "tcp"),
    ("Oracle", "Oracle listener", (1521,), "high", "paid", "tcp"),
    ("Redis", "Redis", (6379,), "high", "paid", "tcp"),
    ("MongoDB", "MongoDB", (27017, 27018), "high", "paid", "tcp"),
    ("Elasticsearch", "Elasticsearch", (9200, 9300), "high", "paid", "tcp"),
    ("Memcached", "Memcached", (11211,), "high", "paid", "tcp"),
    ("MemcachedUDP", "Memcached over UDP", (11211,), "high", "paid", "udp"),
    ("KubernetesAPI", "the Kubernetes API server", (6443,), "high", "paid", "tcp"),
    ("Kubelet", "the kubelet API", (10250, 10255), "high", "paid", "tcp"),
    ("Etcd", "etcd", (2379, 2380), "high", "paid", "tcp"),
    ("DockerAPI", "the Docker daemon API", (2375, 2376), "critical", "paid", "tcp"),
    ("Kafka", "Kafka", (9092,), "medium", "paid", "tcp"),
    ("ZooKeeper", "ZooKeeper", (2181,), "medium", "paid", "tcp"),
    ("Hadoop", "Hadoop HDFS/YARN", (8020, 8088, 50070), "high", "paid", "tcp"),
    ("LDAP", "LDAP", (389, 636), "medium", "paid", "tcp"),
    ("Rsync", "rsync", (873,), "high", "paid", "tcp"),
    ("NFS", "NFS", (2049,), "high", "paid", "tcp"),
    ("RPCBind", "RPC portmapper", (111,), "medium", "paid", "tcp"),
    ("WinRM", "Windows Remote Management", (5985, 5986), "high", "paid", "tcp"),
    ("Cassandra", "Cassandra", (9042, 9160), "high", "paid", "tcp"),
    ("RabbitMQ", "RabbitMQ", (5672, 15672), "medium", "paid", "tcp"),
    ("InfluxDB", "InfluxDB", (8086,), "medium", "paid", "tcp"),
    ("CouchDB", "CouchDB", (5984,), "high", "paid", "tcp"),
    ("Neo4j", "Neo4j", (7474, 7687), "high", "paid", "tcp"),
    ("Spark", "Spark master", (7077, 8081), "medium", "paid", "tcp"),
    ("Solr", "Solr", (8983,), "medium", "paid", "tcp"),
    ("SMTP", "SMTP", (25,), "medium", "paid", "tcp"),
    ("POP3", "POP3", (110,), "medium", "paid", "tcp"),
    ("IMAP", "IMAP", (143,), "medium", "paid", "tcp"),
    ("SNMP", "SNMP", (161,), "high", "paid", "udp"),
    ("DNS", "DNS", (53,), "medium", "paid", "udp"),
    ("NTP", "NTP", (123,), "medium", "paid", "udp"),
    ("TFTP", "TFTP", (69,), "high", "paid", "udp"),
)

PORT_ITEMS = tuple(
    sg_port_item(f"ACS_ECS_SecurityGroupPublic{suffix}", f"Security group exposes {service} to the internet", ports,
                 severity, tier, ACCESS, protocol)
    for suffix, service, ports, severity, tier, protocol in EXPOSED_SERVICES
)


# an instance's internet exposure is known when it has no public address, or when the rules of every
# group it is a member of were collected (the analysis marks unknown exposure as unreachable)
REACH_COLLECTED = (
    "(n.is_public = false OR (n.is_public AND EXISTS { (n)-[:MEMBER_OF]->(:SecurityGroup) } AND "
    "NOT EXISTS { (n)-[:MEMBER_OF]->(g:SecurityGroup) WHERE NOT coalesce(g.rules_collected, false) }))"
)
REACHABLE = "coalesce(n.internet_reachable, false)"
KNOWN_GROUP = ("MEMBER_OF", "SecurityGroup", {"rules_collected": True})
ADMIN_ROLE = ("HAS_ROLE", "RamRole", {"policies_collected": True})
# "_then" (read by the table-driven test): related nodes of the related node, here the role's escalation edge
ESCALATING_ROLE = ("HAS_ROLE", "RamRole", {"policies_collected": True, "_then": (
    ("CAN_ESCALATE", "Account", {"_rel": {"technique": "full_admin"}}),)})
ROLE_POLICIES_COLLECTED = "NOT EXISTS { (n)-[:HAS_ROLE]->(r:RamRole) WHERE NOT coalesce(r.policies_collected, false) }"


def _public(**props: object) -> dict[str, object]:
    return {"is_public": True, "internet_reachable": True, **props}


def instance_item(check_id: str, title: str, severity: str, tier: str, fails: str, description: str,
                  remediation: str, passing: Example, failing: Example, collected: str = "n.role_collected",
                  action: str | None = None, refs: dict[str, str] | None = None) -> CheckItem:
    return CheckItem(
        id=check_id, title=title, product="ECS", asset_type="EcsInstance", severity=severity, tier=tier,
        collected=collected, fails=fails, refs=refs or {MLPS: "8.1.4.4"}, description=description,
        remediation=remediation, remediation_action=action, passing_example=passing, failing_example=failing,
    )


def disk_item(check_id: str, title: str, applies: str, refs: dict[str, str], description: str,
              passing: dict[str, object], failing: dict[str, object]) -> CheckItem:
    """Disk encryption by population (system / attached data / unattached): `Encrypted` is false."""
    return CheckItem(
        id=check_id, title=title, product="ECS", asset_type="Disk", severity="medium", tier="paid", applies=applies,
        collected="n.encrypted IS NOT NULL", fails="n.encrypted = false", refs=refs, description=description,
        remediation="Disks cannot be encrypted in place: snapshot the disk, create an encrypted disk from the snapshot "
        "(or re-create the instance from an encrypted image copy) and swap it in.",
        passing_example=Example({**passing, "encrypted": True}), failing_example=Example({**failing, "encrypted": False}),
    )


OTHER_ITEMS: tuple[CheckItem, ...] = (
    instance_item("ACS_ECS_InstancePublicIP", "ECS instance has no public address", "low", "free",
                  "coalesce(n.is_public, false)", "The instance has a public IP or an EIP.",
                  "Put internet-facing services behind SLB/NAT and release the public address.",
                  Example({"is_public": False}), Example({"is_public": True}), collected="n.is_public IS NOT NULL",
                  refs={MLPS: "8.1.3.1"}),
    instance_item("ACS_ECS_InstanceInternetReachable", "ECS instance is not reachable from the internet", "medium", "paid",
                  REACHABLE,
                  "The instance has a public address and a security group that lets some TCP port in from the internet.",
                  "Close the internet ingress rules, or remove the public address.",
                  Example({"is_public": False, "internet_reachable": False}),
                  Example(_public(), (KNOWN_GROUP,)), collected=REACH_COLLECTED),
    instance_item("ACS_ECS_PublicInstanceWithRamRole", "Internet-reachable instances do not hold a RAM role", "high", "paid",
                  f"{REACHABLE} AND n.ram_role_name IS NOT NULL",
                  "An internet-reachable instance holds a RAM role: compromising it yields the role's credentials.",
                  "Detach the role, or make the instance unreachable and require metadata tokens.",
                  Example(_public(role_collected=True), (KNOWN_GROUP,)),
                  Example(_public(role_collected=True, ram_role_name="AppServerRole"), (KNOWN_GROUP,)),
                  collected=f"n.role_collected AND {REACH_COLLECTED}"),
    instance_item("ACS_ECS_PublicInstanceMetadataTokens", "Internet-reachable instances require metadata tokens", "high",
                  "paid", f"{REACHABLE} AND toLower(coalesce(n.metadata_http_tokens, '')) <> 'required'",
                  "An internet-reachable instance allows metadata access without session tokens (SSRF → credentials).",
                  "ModifyInstanceMetadataOptions HttpTokens=required.",
                  Example(_public(metadata_collected=True, metadata_http_tokens="required"), (KNOWN_GROUP,)),
                  Example(_public(metadata_collected=True, metadata_http_tokens="optional"), (KNOWN_GROUP,)),
                  collected=f"n.metadata_collected AND {REACH_COLLECTED}", action="ModifyInstanceMetadataOptions"),
    instance_item("ACS_ECS_PublicInstanceAdminRole", "Internet-reachable instances cannot become account administrator",
                  "critical", "paid", f"{REACHABLE} AND EXISTS {{ (n)-[:HAS_ROLE]->(:RamRole)-[:CAN_ESCALATE]->(:Account) }}",
                  "An internet-reachable instance holds a RAM role that is (or can make itself) administrator: one "
                  "SSRF or remote code execution on it takes over the account.",
                  "Replace the role by a least-privilege one, require metadata tokens and close the internet ingress.",
                  Example(_public(role_collected=True), (KNOWN_GROUP, ADMIN_ROLE)),
                  Example(_public(role_collected=True), (KNOWN_GROUP, ESCALATING_ROLE)),
                  collected=f"n.role_collected AND {REACH_COLLECTED} AND {ROLE_POLICIES_COLLECTED}",
                  refs={MLPS: "8.1.4.2"}),
    instance_item("ACS_ECS_InstanceClassicNetwork", "ECS instances run in a VPC, not the classic network", "medium",
                  "free", "n.vpc_id = ''", "The instance is on the legacy classic network (no VpcId): no network "
                  "isolation of its own.", "Migrate the instance to a VPC (classic-to-VPC migration).",
                  Example({"vpc_id": "vpc-bp1"}), Example({"vpc_id": ""}), collected="n.vpc_id IS NOT NULL",
                  refs={CIS: "3.1", MLPS: "8.1.2.1"}),
    CheckItem(
        id="ACS_ECS_SecurityGroupUnused", title="Security group is used by some instance", product="ECS",
        asset_type="SecurityGroup", severity="low", tier="free", collected="true",
        fails="NOT EXISTS { (n)<-[:MEMBER_OF]-(:EcsInstance) }", refs={MLPS: "8.1.3.2"},
        description="No instance is a member of the group: stale rules invite mistakes.",
        remediation="Delete the group (DeleteSecurityGroup) if nothing will use it.",
        passing_example=Example({}, (("<MEMBER_OF", "EcsInstance", {}),)), failing_example=Example({}),
    ),
    CheckItem(
        id="ACS_ECS_SecurityGroupInnerAccessAccept", title="Security group does not allow all traffic between members",
        product="ECS", asset_type="SecurityGroup", severity="low", tier="paid",
        collected="n.inner_access_policy IS NOT NULL", fails="toLower(n.inner_access_policy) = 'accept'",
        refs={MLPS: "8.1.3.2"},
        description="InnerAccessPolicy is Accept: every member reaches every other member on every port.",
        remediation="Manual (members may rely on reaching each other): first authorise what members need, e.g. "
        "`aliyun ecs AuthorizeSecurityGroup --RegionId <region> --SecurityGroupId <sg> --SourceGroupId <sg> "
        "--IpProtocol TCP --PortRange <p>/<p>`, then `aliyun ecs ModifySecurityGroupPolicy --RegionId <region> "
        "--SecurityGroupId <sg> --InnerAccessPolicy Drop`.",
        remediation_action=None,
        passing_example=Example({"inner_access_policy": "Drop"}), failing_example=Example({"inner_access_policy": "Accept"}),
    ),
    CheckItem(
        id="ACS_ECS_SecurityGroupPublicAllUDP", title="Security group opens every UDP port to the internet", product="ECS",
        asset_type="SecurityGroup", severity="high", tier="paid", collected="n.rules_collected",
        fails="any(i IN range(0, size(coalesce(n.inet_udp_from, [])) - 1) WHERE n.inet_udp_from[i] <= 1 AND n.inet_udp_to[i] >= 65535)",
        refs=ACCESS, description="Every UDP port is reachable from 0.0.0.0/0 or ::/0.",
        remediation="Replace the all-ports rule by the UDP ports the service needs.", remediation_action="RevokeSecurityGroup",
        passing_example=Example({"rules_collected": True, "inet_udp_from": [53], "inet_udp_to": [53]}),
        failing_example=Example({"rules_collected": True, "inet_udp_from": [1], "inet_udp_to": [65535]}),
    ),
    CheckItem(
        id="ACS_ECS_SecurityGroupPublicWideRange", title="Security group does not open wide TCP port ranges to the internet",
        product="ECS", asset_type="SecurityGroup", severity="medium", tier="paid", collected="n.rules_collected",
        fails="any(i IN range(0, size(coalesce(n.inet_tcp_from, [])) - 1) WHERE n.inet_tcp_to[i] - n.inet_tcp_from[i] >= 99)",
        refs={CIS: "3.5", **ACCESS},
        description="A TCP range of 100 ports or more is reachable from 0.0.0.0/0 or ::/0 (after rule precedence): "
        "rules are not fine grained.",
        remediation="Manual (only you know the ports the service listens on): for each of them `aliyun ecs "
        "AuthorizeSecurityGroup --RegionId <region> --SecurityGroupId <sg> --IpProtocol TCP --PortRange <p>/<p> "
        "--SourceCidrIp <cidr>`, then revoke the wide rule: `aliyun ecs RevokeSecurityGroup --RegionId <region> "
        "--SecurityGroupId <sg> --SecurityGroupRuleId.1 <rule id>`.",
        remediation_action=None,
        passing_example=Example({"rules_collected": True, "inet_tcp_from": [80, 443], "inet_tcp_to": [80, 443]}),
        failing_example=Example({"rules_collected": True, "inet_tcp_from": [8000], "inet_tcp_to": [9000]}),
    ),
    disk_item("ACS_ECS_SystemDiskEncrypted", "ECS system disks are encrypted", "toLower(coalesce(n.type, '')) = 'system'",
              {CIS: "4.2", MLPS: "8.1.4.8"}, "The system disk is not encrypted.",
              {"type": "system"}, {"type": "system"}),
    disk_item("ACS_ECS_DataDiskEncrypted", "Attached ECS data disks are encrypted",
              "toLower(coalesce(n.type, '')) = 'data' AND coalesce(n.instance_id, '') <> ''",
              {CIS: "4.2", MLPS: "8.1.4.8"}, "A data disk attached to an instance is not encrypted.",
              {"type": "data", "instance_id": "i-1"}, {"type": "data", "instance_id": "i-1"}),
    disk_item("ACS_ECS_UnattachedDiskEncrypted", "Unattached ECS disks are encrypted", "n.instance_id = ''",
              {CIS: "4.1", MLPS: "8.1.4.8"},
              "A disk that is attached to no instance is not encrypted.", {"instance_id": ""}, {"instance_id": ""}),
    CheckItem(
        id="ACS_ECS_DiskCustomerManagedKey", title="Encrypted disks use a customer-managed KMS key", product="ECS",
        asset_type="Disk", severity="low", tier="paid", applies="coalesce(n.encrypted, false)",
        collected="n.kms_key_id IS NOT NULL", fails="n.kms_key_id = ''", refs={MLPS: "8.1.4.8"},
        description="The disk is encrypted with the default service key, not a customer-managed KMS key.",
        remediation="Encrypt with a KMS customer master key you control (rotation, access policy).",
        passing_example=Example({"encrypted": True, "kms_key_id": "key-123"}),
        failing_example=Example({"encrypted": True, "kms_key_id": ""}),
    ),
    CheckItem(
        id="ACS_ECS_DiskUnattached", title="Disks are attached to an instance", product="ECS", asset_type="Disk",
        severity="low", tier="free", collected="n.instance_id IS NOT NULL", fails="n.instance_id = ''",
        refs={MLPS: "8.1.4.9"},
        description="The disk is not attached: forgotten data outside any instance's controls.",
        remediation="Snapshot and release the disk if it is no longer needed.",
        passing_example=Example({"instance_id": "i-1"}), failing_example=Example({"instance_id": ""}),
    ),
    CheckItem(
        id="ACS_VPC_EipUnbound", title="Elastic IPs are bound to a resource", product="VPC", asset_type="Eip",
        severity="low", tier="free", collected="n.instance_id IS NOT NULL", fails="n.instance_id = ''",
        refs={MLPS: "8.1.3.2"},
        description="The EIP is allocated but not bound (cost, and an address that may be re-bound by mistake).",
        remediation="ReleaseEipAddress if it is not needed.",
        passing_example=Example({"instance_id": "i-1"}), failing_example=Example({"instance_id": ""}),
    ),
)

# the instance's missing patches come from the host agent's report (RUNS_ON) or from Security Center's unfixed
# Linux/Windows vulnerabilities on it (known only where its agent is online): either source saying so fails it
PATCHES_KNOWN = ("EXISTS { (h:Host)-[:RUNS_ON]->(n) WHERE coalesce(h.patches_collected, false) } "
                 "OR n.sas_unfixed_os_vuls IS NOT NULL")
PATCHES_MISSING = ("EXISTS { (h:Host)-[:RUNS_ON]->(n) WHERE coalesce(h.patches_collected, false) "
                   "AND coalesce(h.missing_patch_count, 0) > 0 } OR coalesce(n.sas_unfixed_os_vuls, 0) > 0")

CIS_ITEMS: tuple[CheckItem, ...] = (
    # CIS 2.0 3.2 asks the same of ports 22 and 3389 together (4.3 and 4.4 ask it port by port)
    sg_port_item("ACS_ECS_SecurityGroupPublicRemoteAdmin",
                 "Security group allows neither SSH (22) nor RDP (3389) from the internet", (22, 3389), "high",
                 "paid", {CIS: "3.2"}),
    instance_item("ACS_ECS_InstanceOsPatches", "ECS instances have the latest OS patches", "medium", "paid",
                  PATCHES_MISSING,
                  "Security updates are not installed: Security Center lists unfixed Linux software or Windows "
                  "system vulnerabilities on the instance, or the host agent reports missing updates. Instances "
                  "neither reports on (no online Security Center agent, no host report) are not checked.",
                  "Manual (updates may need a reboot and a maintenance window): on the instance run `dnf upgrade "
                  "--security` (Alibaba Cloud Linux / RHEL family; `apt-get upgrade` on Debian/Ubuntu), reboot if the "
                  "kernel changed, then let the host agent report again or re-run Security Center's vulnerability scan.",
                  Example({"sas_unfixed_os_vuls": 0}), Example({"sas_unfixed_os_vuls": 2}),
                  collected=PATCHES_KNOWN, refs={CIS: "4.5"}),
)

ITEMS: tuple[CheckItem, ...] = PORT_ITEMS + OTHER_ITEMS + CIS_ITEMS
