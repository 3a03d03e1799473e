"""A busy port never breaks the local services: the service moves to a free port and keeps its password."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from backend import services


def test_a_busy_port_moves_and_keeps_the_password(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SKYPATH_HOME", str(tmp_path))
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        busy = holder.getsockname()[1]
        (tmp_path / "credentials.json").write_text(json.dumps({
            "neo4j": {"password": "n-secret", "bolt_port": busy}, "redis": {"password": "r-secret", "port": busy}}))
        moved = services._port_for("redis", "port")
        assert moved != busy and services._port_free(moved)
        creds = json.loads((tmp_path / "credentials.json").read_text())
        assert creds["redis"] == {"password": "r-secret", "port": moved}
        assert creds["neo4j"] == {"password": "n-secret", "bolt_port": busy}  # untouched until Neo4j starts


def test_a_free_port_stays(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SKYPATH_HOME", str(tmp_path))
    free = services._free_port(0)
    (tmp_path / "credentials.json").write_text(json.dumps({
        "neo4j": {"password": "n", "bolt_port": free}, "redis": {"password": "r", "port": free}}))
    assert services._port_for("neo4j", "bolt_port") == free
