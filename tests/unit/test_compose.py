"""docker-compose.yml is the production path: no engine here, so parse and check it."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
REQUIRED_ENV = {"SKYPATH_NEO4J_URI", "SKYPATH_NEO4J_USER", "SKYPATH_NEO4J_PASSWORD", "SKYPATH_REDIS_URL"}


def test_services_and_images() -> None:
    assert set(SERVICES) >= {"neo4j", "redis", "api", "worker", "beat"}
    assert SERVICES["neo4j"]["image"].startswith("neo4j:5.26")
    assert "enterprise" not in SERVICES["neo4j"]["image"]
    assert SERVICES["redis"]["image"].startswith("redis:7")
    for name in ("api", "worker", "beat"):
        assert SERVICES[name]["build"] == "."


def test_every_service_has_a_healthcheck() -> None:
    for name, svc in SERVICES.items():
        assert svc.get("healthcheck", {}).get("test"), name


def test_app_services_share_the_cli_settings() -> None:
    for name in ("api", "worker", "beat"):
        env = SERVICES[name]["environment"]
        assert REQUIRED_ENV <= set(env), name
        assert env["SKYPATH_NEO4J_URI"].startswith("bolt://neo4j:")
        assert "@redis:6379" in env["SKYPATH_REDIS_URL"]


def test_commands_point_at_real_entry_points() -> None:
    from typer.main import get_command

    from backend.cli import app

    assert SERVICES["worker"]["command"][:2] == ["skypath", "worker"]
    assert SERVICES["beat"]["command"] == ["skypath", "beat"]
    assert SERVICES["api"]["command"][:2] == ["skypath", "serve"]
    commands = get_command(app).commands  # type: ignore[attr-defined]
    assert {"worker", "beat", "serve"} <= set(commands)
    # the worker's node name is what its healthcheck pings
    name = SERVICES["worker"]["command"][SERVICES["worker"]["command"].index("--name") + 1]
    assert name.replace("%h", "$$HOSTNAME") in SERVICES["worker"]["healthcheck"]["test"][1]
    import backend.tasks  # noqa: F401  the module the worker imports must exist


def test_secrets_are_not_hard_coded() -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    assert "NEO4J_AUTH: neo4j/${SKYPATH_NEO4J_PASSWORD" in text
    assert "neo4j/neo4j" not in text and "password123" not in text


def test_ports_bound_to_loopback() -> None:
    for name, svc in SERVICES.items():
        for port in svc.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), name


def test_app_healthchecks_use_what_the_image_has() -> None:
    """api/worker/beat run on python:3.11-slim plus the package: no procps, curl or wget there."""
    for name in ("api", "worker", "beat"):
        test = SERVICES[name]["healthcheck"]["test"]
        command = test[1]  # ["CMD-SHELL", "cmd …"] or ["CMD", "binary", …]
        assert command.split()[0] in {"python", "celery", "skypath"}, (name, command)


def test_neo4j_is_hardened_like_the_local_server() -> None:
    """The same settings `skypath services up` writes (backend/services.py), in the image's variable names."""
    from backend import services

    env = SERVICES["neo4j"]["environment"]
    assert env["NEO4J_dbms_security_allow__csv__import__from__file__urls"] == "false"
    assert env["NEO4J_internal_dbms_cypher__ip__blocklist"] == "0.0.0.0/0,::/0"
    assert env["NEO4J_dbms_security_procedures_allowlist"] == ""
    assert env["NEO4J_db_transaction_timeout"] == services.SERVER_TRANSACTION_TIMEOUT
    assert env["NEO4J_db_memory_transaction_max"] == services.TRANSACTION_MEMORY_MAX


def test_image_builds_the_web_console_from_the_lockfile() -> None:
    """The production image serves the built console: a Node stage runs `npm ci` and the build, the Python
    stage copies its output where FastAPI serves it (backend/static/console, vite's outDir)."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    vite = (ROOT / "frontend" / "vite.config.ts").read_text()
    assert "npm ci" in dockerfile and "npm run build" in dockerfile
    assert 'outDir: "../backend/static/console"' in vite
    assert "COPY --from=console /src/backend/static/console backend/static/console" in dockerfile
