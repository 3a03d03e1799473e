"""The graph model as data: one declaration per node label and relationship type.

Every asset node carries `account_id` (its tenant), `id` (the identifier of the spec's identifier
table), `uid` (`<account_id>:<id>`, the unique MERGE key), `scope` (the collection scope that
produced it, e.g. `ecs:cn-hangzhou`, so a failed scope never deletes what it could not see) and
`_h` (a hash of its properties, so an unchanged asset costs no write on re-ingest).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class NodeSchema:
    label: str
    description: str
    properties: tuple[str, ...] = ()
    # an asset is something a check item can be about and that billing counts as an instance
    asset: bool = True
    extra_indexes: tuple[str, ...] = ()


@dataclass(frozen=True)
class RelSchema:
    type: str
    source: str
    target: str
    description: str
    derived: bool = False
    properties: tuple[str, ...] = field(default_factory=tuple)


NODE_SCHEMAS: tuple[NodeSchema, ...] = (
    NodeSchema("Account", "the tenant root: one Alibaba Cloud account", ("name", "current_sync", "collected_at"), asset=True),
    NodeSchema("Region", "a region the account has assets in", ("supported",), asset=False),
    NodeSchema("Internet", "the 0.0.0.0/0 and ::/0 source, one per account", (), asset=False),
    NodeSchema(
        "EcsInstance",
        "an ECS instance",
        ("name", "status", "region", "zone", "os_type", "public_ips", "eip_ips", "is_public", "vpc_id",
         "metadata_http_tokens", "metadata_http_endpoint", "instance_type", "ram_role_name", "tags"),
    ),
    NodeSchema(
        "SecurityGroup",
        "an ECS security group with its ingress exposure computed after rule precedence",
        ("name", "vpc_id", "rules_collected", "inet_tcp_from", "inet_tcp_to", "inet_udp_from", "inet_udp_to",
         "inner_access_policy"),
    ),
    NodeSchema(
        "SecurityGroupRule",
        "one permission of a security group",
        ("direction", "protocol", "port_from", "port_to", "port_range", "source_cidr", "source_ipv6_cidr",
         "source_group_id", "policy", "priority", "nic_type", "security_group_id"),
        asset=False,
    ),
    NodeSchema("Disk", "an ECS block storage disk", ("instance_id", "encrypted", "kms_key_id", "category", "type", "size")),
    NodeSchema("Eip", "an elastic IP address", ("ip_address", "instance_id", "instance_type", "status")),
    NodeSchema(
        "RdsInstance",
        "an ApsaraDB RDS instance",
        ("engine", "engine_version", "category", "net_type", "status", "security_ips", "whitelist_collected",
         "tde_status", "ssl_enabled", "backup_retention_days", "sql_collector_status", "connection_string", "port"),
    ),
    NodeSchema(
        "OssBucket",
        "an OSS bucket",
        ("region", "acl", "policy_document", "policy_public", "policy_secure_transport", "encryption_algorithm",
         "encryption_kms_key_id", "logging_enabled", "versioning_status", "acl_collected", "policy_collected", "encryption_collected",
         "logging_collected", "versioning_collected"),
    ),
    NodeSchema("RamUser", "a RAM user", ("name", "user_id", "has_login_profile", "mfa_enabled", "login_collected", "mfa_collected")),
    NodeSchema("RamGroup", "a RAM group", ("name",)),
    NodeSchema("RamRole", "a RAM role", ("name", "role_id", "trust_policy", "trust_external", "max_session_duration")),
    NodeSchema("RamPolicy", "a RAM policy (default version document stored)", ("name", "policy_type", "default_version", "document", "attachment_count", "full_admin")),
    NodeSchema("AccessKey", "a RAM user's access key (the secret is never collected)", ("user_name", "status", "created", "age_days")),
    NodeSchema("ServicePrincipal", "a cloud service a role trusts (e.g. ecs.aliyuncs.com)", (), asset=False),
    NodeSchema("ExternalPrincipal", "another account, or '*', that a trust policy names", (), asset=False),
    NodeSchema("AllTargets", "every OSS bucket (or RDS instance) of the account: the target of wildcard grants",
               ("target_label",), asset=False),
    NodeSchema("Trail", "an ActionTrail trail", ("home_region", "trail_region", "status", "oss_bucket", "sls_project_arn")),
    NodeSchema("LoadBalancer", "a classic SLB instance with its listeners",
               ("name", "address_type", "listener_protocols", "listener_ports", "delete_protection")),
    NodeSchema(
        "Host",
        "a server as its host agent reported it",
        ("hostname", "instance_id", "os_name", "os_version", "agent_collected_at"),
    ),
    NodeSchema("KmsKey", "a KMS key (ListKeys + DescribeKey)",
               ("arn", "key_state", "key_spec", "key_usage", "origin", "protection_level", "creator", "customer_managed",
                "automatic_rotation", "rotation_interval_days", "deletion_protection", "material_expires_in_days",
                "details_collected")),
    NodeSchema("SlsLogstore", "a Simple Log Service logstore (id: project/logstore)",
               ("project", "name", "ttl_days", "permanent", "encrypted", "encrypt_type", "customer_key",
                "details_collected")),
)

# Per-account records that are not collected assets (results, billing, audit, user settings): each carries
# `account_id` and hangs off nothing of another tenant; indexed on account_id so tenant-scoped reads seek.
TENANT_RECORD_LABELS: dict[str, str] = {
    "Scan": "one scan run", "CheckRun": "one check item's results in one scan",
    "ItemState": "the latest status per asset of one check item", "Whitelist": "a whitelisted (item, asset)",
    "Plan": "the account's billing plan", "LedgerEntry": "one billed operation (append-only)",
    "InstanceDay": "an instance scanned on a day (per-instance plan)", "AuditEntry": "one audited action",
    "CustomCheck": "a user's check item", "CustomPolicy": "a user's named selection of items",
    "Schedule": "the account's scheduled sync (source, interval)",
    "SyncRecord": "what one sync changed (assets added/removed/changed, derived edges)",
    "PathRun": "one attack-path analysis: the (entry, target) pairs found",
}
# Records keyed by `uid` (MERGE targets or one per id): unique on uid like every node schema label, so concurrent
# writers meet on one node. Each with the property that tells which of two duplicates is newer (a database from
# before the constraint may hold duplicates: ensure_schema keeps the newest).
UID_RECORD_LABELS: dict[str, str] = {
    "ItemState": "updated", "Whitelist": "at", "Plan": "started", "InstanceDay": "day", "CustomCheck": "updated",
    "CustomPolicy": "updated", "Schedule": "updated", "SyncRecord": "at", "PathRun": "at",
}
# nodes without an account: API tokens (their `accounts` list says what they may see) and webhooks (their
# `accounts` list says whose alerts they get; the console refuses both, their secrets are not in the graph)
GLOBAL_RECORD_INDEXES: dict[str, tuple[str, ...]] = {"ApiToken": ("hash",)}
# global records looked up by another unique key: a uniqueness constraint each
RECORD_UNIQUE_KEYS: dict[str, str] = {"Webhook": "id"}

NODE_LABELS: frozenset[str] = frozenset(s.label for s in NODE_SCHEMAS)
ASSET_LABELS: frozenset[str] = frozenset(s.label for s in NODE_SCHEMAS if s.asset)

REL_SCHEMAS: tuple[RelSchema, ...] = (
    RelSchema("RESOURCE", "Account", "*", "the account owns the asset"),
    RelSchema("IN_REGION", "*", "Region", "the asset lives in the region"),
    RelSchema("MEMBER_OF", "EcsInstance", "SecurityGroup", "instance is in the security group"),
    RelSchema("HAS_RULE", "SecurityGroup", "SecurityGroupRule", "the group's permission"),
    RelSchema("ATTACHED_TO", "Disk", "EcsInstance", "disk attached to instance"),
    RelSchema("BOUND_TO", "Eip", "EcsInstance", "EIP bound to instance"),
    RelSchema("HAS_ROLE", "EcsInstance", "RamRole", "instance RAM role"),
    RelSchema("IN_GROUP", "RamUser", "RamGroup", "user is a member of the group"),
    RelSchema("ATTACHED", "RamUser|RamGroup|RamRole", "RamPolicy", "policy attached to the principal"),
    RelSchema("TRUSTS", "RamRole", "RamUser|RamRole|Account|ServicePrincipal|ExternalPrincipal", "trust policy principal", properties=("conditional", "condition")),
    RelSchema("AUTHENTICATES", "AccessKey", "RamUser", "the key signs requests as the user"),
    RelSchema("RUNS_ON", "Host", "EcsInstance", "the host is this ECS instance"),
    RelSchema("LOGS_TO", "Trail|OssBucket", "OssBucket", "delivery/logging target"),
    # derived by the analysis (checks/analysis.py) in the same transaction as the assets
    RelSchema("CAN_REACH", "Internet", "EcsInstance", "internet reaches the instance on ports", derived=True, properties=("ports", "via")),
    RelSchema("CAN_ASSUME", "RamUser|RamRole|RamGroup|EcsInstance", "RamRole", "principal may assume the role", derived=True, properties=("conditional", "via")),
    RelSchema("CAN_ACCESS", "RamUser|RamRole|RamGroup", "OssBucket|RdsInstance|AllTargets", "effective data access", derived=True, properties=("read", "write", "admin", "via", "conditional", "conditional_modes")),
    RelSchema("CAN_ESCALATE", "RamUser|RamRole|RamGroup", "Account|RamUser|RamRole|RamGroup", "RAM privilege escalation or full admin (→ Account), or taking over another principal", derived=True, properties=("technique", "target", "via", "conditional")),
)

REL_TYPES: frozenset[str] = frozenset(r.type for r in REL_SCHEMAS)
DERIVED_REL_TYPES: frozenset[str] = frozenset(r.type for r in REL_SCHEMAS if r.derived)


def node_uid(account_id: str, node_id: str) -> str:
    return f"{account_id}:{node_id}"
