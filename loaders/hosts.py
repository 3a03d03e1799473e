"""Host agent reports: validation (pydantic) and the facts a Host node keeps.

A report is never stored as it came: a Host node holds only the facts of `HOST_FACTS` (what the host
check items read, and how the host is named), each of its declared shape. Whatever else a report
carries (unknown keys, password fields that are not a state, package names, images, environment or
key material an agent should never have sent) is dropped here, for agent uploads and snapshot `hosts`
alike. Hashes never leave the host by design; this makes sure none is kept if one does.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from graph_schema.store import GraphBatch

MAX_REPORT_BYTES = 5 * 1024 * 1024


class HostReportError(ValueError):
    pass


Name = Annotated[str, StringConstraints(max_length=256)]  # an account, patch or container id, a hostname
FilePath = Annotated[str, StringConstraints(max_length=4096)]  # PATH_MAX


class HostAccount(BaseModel):
    model_config = ConfigDict(extra="ignore")  # unknown keys are dropped, never kept
    name: Name
    uid: int
    password: str | None = None  # set | empty | locked; any other value is kept but is not collected
    weak_password: bool | None = None


class MissingPatch(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: Name
    severity: str = "unknown"
    package: str = ""


class Container(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: Name
    image: str = ""
    privileged: bool | None = None


class HostReport(BaseModel):
    model_config = ConfigDict(extra="ignore")
    host_id: str = Field(min_length=1, max_length=256)
    instance_id: Name | None = None
    hostname: Name | None = None
    os: dict[str, Any] | None = None
    agent_version: str | None = None
    collected_at: str | None = None
    sshd: dict[str, Any] | None = None
    login_defs: dict[str, Any] | None = None
    pwquality: dict[str, Any] | None = None
    accounts: list[HostAccount] | None = None
    world_writable: list[FilePath] | None = None
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


PASSWORD_STATES = ("set", "empty", "locked")
SSHD_TIME_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
SSHD_TIME = re.compile(r"([0-9]+)([smhdw]?)", re.I)
SSHD_TIME_FORMAT = re.compile(r"(?:[0-9]+[smhdw]?)+", re.I)
INTEGER = re.compile(r"[+-]?[0-9]+")
INT64_MAX = 2**63 - 1  # what a Neo4j integer holds


def _text(value: Any) -> str | None:
    """A collected setting as a stripped string; null, "" and non-scalars (lists, objects, booleans) are
    not a value a config file holds: not collected (None), never the string "None"."""
    if value is None or isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    text = str(value).strip()
    return text or None


def _int(value: Any) -> int | None:
    """An integer setting given as an int or a numeric string ("14", " 14 "); anything else → None."""
    if isinstance(value, float):
        if not value.is_integer():
            return None
        number = int(value)
    else:
        text = _text(value)
        if text is None or not INTEGER.fullmatch(text):
            return None
        number = int(text)
    return number if abs(number) <= INT64_MAX else None


def _seconds(value: Any) -> int | None:
    """An sshd time value (sshd_config(5) TIME FORMATS: `90`, `2m`, `1h30m`) in seconds; malformed → None."""
    text = _text(value)
    if text is None or not SSHD_TIME_FORMAT.fullmatch(text):
        return None
    seconds = sum(int(n) * SSHD_TIME_UNITS[u.lower()] for n, u in SSHD_TIME.findall(text))
    return seconds if seconds <= INT64_MAX else None


def _max_days(value: Any) -> int | None:
    """PASS_MAX_DAYS; a negative value disables expiry (login.defs(5)): stored as 99999, the usual "never"."""
    days = _int(value)
    return 99999 if days is not None and days < 0 else days


def _password_state(account: HostAccount) -> str | None:
    """`set` / `empty` / `locked`, any case; absent, null or any other value: not collected."""
    state = str(account.password).strip().lower() if account.password is not None else None
    return state if state in PASSWORD_STATES else None


def _is_flag(value: Any) -> bool:
    return isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return value is None or isinstance(value, int) and not isinstance(value, bool)


def _is_word(value: Any) -> bool:
    """An sshd setting as sshd prints it: one short token (`yes`, `prohibit-password`, `2`)."""
    return value is None or isinstance(value, str) and SSHD_WORD.fullmatch(value) is not None


def _is_text(value: Any) -> bool:
    return value is None or isinstance(value, str) and len(value) <= 256 and value.isprintable()


def _is_names(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) and len(v) <= 4096 for v in value)


SSHD_WORD = re.compile(r"[a-z0-9._:,@+-]{1,64}")
# The facts a Host node keeps, each with its shape: how the host is named, and what the host check items read
# (tests/unit/test_host_facts_allow_list.py holds the catalog to this table). A value not of its shape is not
# kept (None: not collected, its items say NOT_CHECK).
IDENTITY_FACTS = ("hostname", "instance_id", "os_name", "os_version", "agent_collected_at")
HOST_FACTS: dict[str, Callable[[Any], bool]] = {
    "hostname": _is_text, "instance_id": _is_text, "os_name": _is_text, "os_version": _is_text, "agent_collected_at": _is_text,
    "ssh_permit_root_login": _is_word, "ssh_permit_empty_passwords": _is_word, "ssh_password_authentication": _is_word,
    "ssh_max_auth_tries": _is_number, "ssh_x11_forwarding": _is_word, "ssh_protocol": _is_word,
    "ssh_client_alive_interval": _is_number, "ssh_login_grace_time": _is_number,
    "pass_max_days": _is_number, "pass_min_days": _is_number, "pass_warn_age": _is_number,
    "pwquality_minlen": _is_number, "pwquality_minclass": _is_number,
    "accounts_collected": _is_flag, "password_collected": _is_flag, "weak_password_collected": _is_flag,
    "weak_password_unknown_accounts": _is_names, "weak_password_accounts": _is_names, "empty_password_accounts": _is_names,
    "extra_uid0_accounts": _is_names,
    "world_writable_collected": _is_flag, "world_writable": _is_names,
    "patches_collected": _is_flag, "critical_patches": _is_names, "missing_patch_count": _is_number,
    "containers_collected": _is_flag, "privileged_containers": _is_names,
}


def declared_facts(row: dict[str, Any]) -> dict[str, Any]:
    """The row as a Host node keeps it: exactly the declared facts, a value out of its shape not kept."""
    if row.keys() != HOST_FACTS.keys():
        raise AssertionError(f"host facts not declared in HOST_FACTS: {sorted(row.keys() ^ HOST_FACTS.keys())}")
    return {fact: value if HOST_FACTS[fact](value) else None for fact, value in row.items()}


def host_row(report: HostReport) -> dict[str, Any]:
    """Flatten a report into properties the baseline check items query (absent → None).

    A fact that is absent (or null, or not a value of its kind) is not collected: the property is None
    (or its `*_collected` flag is false) and the items reading it give NOT_CHECK, never PASS. For account
    facts collected for some accounts only (shadow unreadable, an account missing from it, the weak-password
    time budget spent), `password_collected` / `weak_password_collected` say whether every account's fact is
    known; a known bad one still fails the item.
    """
    sshd: dict[str, str] = {}
    for key, value in (report.sshd or {}).items():
        text = _text(value)
        if text is not None:
            sshd.setdefault(str(key).strip().lower(), text.lower())
    login_defs = report.login_defs or {}
    pwq = report.pwquality or {}
    os_info = report.os or {}
    accounts = report.accounts
    states = [(a, _password_state(a)) for a in accounts or []]
    row: dict[str, Any] = {
        "hostname": report.hostname,
        "instance_id": report.instance_id or "",
        "os_name": _text(os_info.get("name")),
        "os_version": _text(os_info.get("version")) or "",
        "agent_collected_at": report.collected_at,
        "ssh_permit_root_login": sshd.get("permitrootlogin"),
        "ssh_permit_empty_passwords": sshd.get("permitemptypasswords"),
        "ssh_password_authentication": sshd.get("passwordauthentication"),
        "ssh_max_auth_tries": _int(sshd.get("maxauthtries")),
        "ssh_x11_forwarding": sshd.get("x11forwarding"),
        "ssh_protocol": sshd.get("protocol"),
        "ssh_client_alive_interval": _seconds(sshd.get("clientaliveinterval")),
        "ssh_login_grace_time": _seconds(sshd.get("logingracetime")),
        "pass_max_days": _max_days(login_defs.get("PASS_MAX_DAYS")),
        "pass_min_days": _int(login_defs.get("PASS_MIN_DAYS")),
        "pass_warn_age": _int(login_defs.get("PASS_WARN_AGE")),
        "pwquality_minlen": _int(pwq.get("minlen")),
        "pwquality_minclass": _int(pwq.get("minclass")),
        "accounts_collected": accounts is not None,
        "password_collected": accounts is not None and all(state is not None for _, state in states),
        "weak_password_collected": accounts is not None and all(a.weak_password is not None for a in accounts),
        "weak_password_unknown_accounts": [a.name for a in accounts or [] if a.weak_password is None],
        "weak_password_accounts": [a.name for a in accounts or [] if a.weak_password is True],
        "empty_password_accounts": [a.name for a, state in states if state == "empty"],
        "extra_uid0_accounts": [a.name for a in accounts or [] if a.uid == 0 and a.name != "root"],
        "world_writable_collected": report.world_writable is not None,
        "world_writable": report.world_writable or [],
        "patches_collected": report.missing_patches is not None,
        "critical_patches": [p.id for p in report.missing_patches or [] if str(p.severity).lower() in ("critical", "high")],
        "missing_patch_count": len(report.missing_patches or []),
        "containers_collected": report.containers is not None,
        "privileged_containers": [c.id for c in report.containers or [] if c.privileged],
    }
    return declared_facts(row)


def transform(hosts: list[dict[str, Any]], batch: GraphBatch, source: str = "snapshot") -> None:
    for i, raw in enumerate(hosts):
        report = validate_host(raw, f"{source}: hosts[{i}]")
        row = host_row(report)
        # one scope per host: an agent upload replaces its own host only
        scope = f"hosts:{report.host_id}"
        batch.node("Host", report.host_id, scope, supported=True, **row)
        if report.instance_id:
            batch.rel("RUNS_ON", ("Host", report.host_id), ("EcsInstance", report.instance_id), scope)
