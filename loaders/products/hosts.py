"""Hosts: what the host agent reports (loaders/hosts.py reads the reports; no OpenAPI product is called)."""

from __future__ import annotations

from graph_schema.model import NodeSchema, RelSchema
from loaders.declaration import Product

PRODUCT = Product(
    "hosts", (),
    nodes=(NodeSchema("Host", "a server as its host agent reported it", (
        "hostname", "instance_id", "os_name", "os_version", "report", "agent_collected_at",
        "sshd_collected", "ssh_permit_root_login", "ssh_password_authentication", "ssh_permit_empty_passwords",
        "ssh_max_auth_tries", "ssh_protocol", "ssh_x11_forwarding", "ssh_client_alive_interval", "ssh_login_grace_time",
        "password_collected", "pass_max_days", "pass_min_days", "pass_warn_age", "pwquality_minlen", "pwquality_minclass",
        "accounts_collected", "empty_password_accounts", "extra_uid0_accounts", "weak_password_collected",
        "weak_password_accounts", "weak_password_unknown_accounts", "world_writable_collected", "world_writable",
        "patches_collected", "missing_patch_count", "critical_patches", "containers_collected", "container_count",
        "privileged_containers")),),
    rels=(RelSchema("RUNS_ON", "Host", "EcsInstance", "the host is this ECS instance"),),
)
