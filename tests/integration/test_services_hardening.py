"""The local Neo4j the project starts: defence in depth for tenant Cypher in its configuration, private files,
and an initial password that never appears on a command line (real neo4j-admin, real JDK)."""

from __future__ import annotations

import os
import secrets
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest

from backend import services

REQUIRED = {
    "dbms.security.allow_csv_import_from_file_urls": "false",
    "internal.dbms.cypher_ip_blocklist": "0.0.0.0/0,::/0",
    "dbms.security.procedures.allowlist": "",
    "db.transaction.timeout": services.SERVER_TRANSACTION_TIMEOUT,
    "db.memory.transaction.max": services.TRANSACTION_MEMORY_MAX,
    "server.default_listen_address": "127.0.0.1",
}


def _conf(path: Path) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line and not line.startswith("#"))
    return {k: v for k, v in pairs}


def test_the_written_configuration_closes_files_network_and_unbounded_transactions(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SKYPATH_HOME", str(tmp_path))
    dirs = services._neo4j_dirs()
    services._write_neo4j_conf(dirs, 7999)
    conf = _conf(dirs["conf"] / "neo4j.conf")
    assert {k: conf.get(k) for k in REQUIRED} == REQUIRED
    assert stat.S_IMODE((dirs["conf"] / "neo4j.conf").stat().st_mode) == 0o600


def test_initial_password_is_never_on_a_command_line_and_files_are_private(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SKYPATH_HOME", str(tmp_path))
    dirs = services._neo4j_dirs()
    services._write_neo4j_conf(dirs, 7999)
    commands: list[list[str]] = []
    real_run = subprocess.run

    def recording_run(cmd: list[str], *args: Any, **kwargs: Any) -> Any:
        commands.append([str(c) for c in cmd])
        return real_run(cmd, *args, **kwargs)

    monkeypatch.setattr(services.subprocess, "run", recording_run)
    password = secrets.token_urlsafe(24)
    env = dict(os.environ, NEO4J_HOME=str(dirs["home"]), NEO4J_CONF=str(dirs["conf"]))
    services._set_initial_password(services.find_java(), services.ensure_neo4j_jars(), env, dirs, password)
    admin = [c for c in commands if "set-initial-password" in c]
    assert admin and not any(password in arg for c in admin for arg in c)
    auth = dirs["data"] / "dbms" / "auth.ini"
    assert auth.exists() and password not in auth.read_text()  # stored hashed
    assert not list(dirs["run"].glob("*.args"))  # the argument file is gone
    services._private_tree(dirs["home"])
    for path in [dirs["home"], *dirs["home"].rglob("*")]:
        assert stat.S_IMODE(path.stat().st_mode) == (0o700 if path.is_dir() else 0o600), path

