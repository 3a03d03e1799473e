"""Host agent reports: validation (pydantic) and rows. Hashes never arrive here by design."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from graph_schema.store import GraphBatch

MAX_REPORT_BYTES = 5 * 1024 * 1024


class HostReportError(ValueError):
    pass


class HostAccount(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str
    uid: int
    password: str | None = None  # set | empty | locked (other values are kept, never treated as empty)
    weak_password: bool | None = None


class MissingPatch(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str
    severity: str = "unknown"
    package: str = ""


class Container(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str
    image: str = ""
    privileged: bool | None = None


class HostReport(BaseModel):
    model_config = ConfigDict(extra="allow")
    host_id: str = Field(min_length=1, max_length=256)
    instance_id: str | None = None
    hostname: str | None = None
    os: dict[str, Any] | None = None
    agent_version: str | None = None
    collected_at: str | None = None
    sshd: dict[str, Any] | None = None
    login_defs: dict[str, Any] | None = None
    pwquality: dict[str, Any] | None = None
    accounts: list[HostAccount] | None = None
    world_writable: list[str] | None = None
    missing_patches: list[MissingPatch] | None = None
    containers: list[Container] | None = None


def validate_host(report: Any, where: str = "host report") -> HostReport:
    if not isinstance(report, dict):
        raise HostReportError(f"{where}: must be a JSON object")
    try:
        return HostReport.model_validate(report)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise HostReportError(f"{where}: field {loc}: {first['msg']}") from exc


def _int(value: Any) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def host_row(report: HostReport) -> dict[str, Any]:
    """Flatten a report into properties the baseline check items query (absent → None)."""
    sshd = {k.lower(): str(v).strip().lower() for k, v in (report.sshd or {}).items()}
    login_defs = report.login_defs or {}
    pwq = report.pwquality or {}
    os_info = report.os or {}
    accounts = report.accounts
    row: dict[str, Any] = {
        "hostname": report.hostname,
        "instance_id": report.instance_id or "",
        "os_name": os_info.get("name"),
        "os_version": str(os_info.get("version", "")),
        "agent_collected_at": report.collected_at,
        "sshd_collected": report.sshd is not None,
        "ssh_permit_root_login": sshd.get("permitrootlogin"),
        "ssh_permit_empty_passwords": sshd.get("permitemptypasswords"),
        "ssh_password_authentication": sshd.get("passwordauthentication"),
        "ssh_max_auth_tries": _int(sshd.get("maxauthtries")),
        "ssh_x11_forwarding": sshd.get("x11forwarding"),
        "ssh_protocol": sshd.get("protocol"),
        "ssh_client_alive_interval": _int(sshd.get("clientaliveinterval")),
        "ssh_login_grace_time": _int(str(sshd.get("logingracetime", "")).rstrip("s")) if "logingracetime" in sshd else None,
        "pass_max_days": _int(login_defs.get("PASS_MAX_DAYS")),
        "pass_min_days": _int(login_defs.get("PASS_MIN_DAYS")),
        "pass_warn_age": _int(login_defs.get("PASS_WARN_AGE")),
        "pwquality_minlen": _int(pwq.get("minlen")),
        "pwquality_minclass": _int(pwq.get("minclass")),
        "accounts_collected": accounts is not None,
        "weak_password_collected": accounts is not None and any(a.weak_password is not None for a in accounts),
        "weak_password_accounts": [a.name for a in accounts or [] if a.weak_password],
        "empty_password_accounts": [a.name for a in accounts or [] if str(a.password).lower() == "empty"],
        "extra_uid0_accounts": [a.name for a in accounts or [] if a.uid == 0 and a.name != "root"],
        "world_writable_collected": report.world_writable is not None,
        "world_writable": report.world_writable or [],
        "patches_collected": report.missing_patches is not None,
        "critical_patches": [p.id for p in report.missing_patches or [] if str(p.severity).lower() in ("critical", "high")],
        "missing_patch_count": len(report.missing_patches or []),
        "containers_collected": report.containers is not None,
        "privileged_containers": [c.id for c in report.containers or [] if c.privileged],
        "container_count": len(report.containers or []),
        "report": json.dumps(report.model_dump(exclude_none=True), sort_keys=True),
    }
    return row


def transform(hosts: list[dict[str, Any]], batch: GraphBatch, source: str = "snapshot") -> None:
    for i, raw in enumerate(hosts):
        report = validate_host(raw, f"{source}: hosts[{i}]")
        row = host_row(report)
        # one scope per host: an agent upload replaces its own host only
        scope = f"hosts:{report.host_id}"
        batch.node("Host", report.host_id, scope, supported=True, **row)
        if report.instance_id:
            batch.rel("RUNS_ON", ("Host", report.host_id), ("EcsInstance", report.instance_id), scope)
