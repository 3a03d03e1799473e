"""Connection settings: from SKYPATH_* environment variables, else the local services' credentials file."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote


@dataclass(frozen=True)
class Neo4jSettings:
    uri: str
    user: str
    password: str


def project_root() -> Path:
    return Path(__file__).resolve().parent.parent


def contract_dir() -> Path:
    """The contract (`spec/`, `samples/`): `../shared` beside the checkout, else its copy in `contract/`
    (a clone elsewhere has no `../shared`; a test keeps the copy identical to it)."""
    shared = project_root().parent / "shared"
    return shared if (shared / "samples" / "sample-account.json").exists() else project_root() / "contract"


def samples_dir() -> Path:
    return contract_dir() / "samples"


def skypath_home() -> Path:
    return Path(os.environ.get("SKYPATH_HOME") or project_root() / ".skypath")


def credentials_path() -> Path:
    return skypath_home() / "credentials.json"


def read_credentials() -> dict[str, Any]:
    path = credentials_path()
    if not path.exists():
        return {}
    return json.loads(path.read_text())


def external_neo4j() -> bool:
    """SKYPATH_NEO4J_URI points at a Neo4j someone else runs: start none."""
    return bool(os.environ.get("SKYPATH_NEO4J_URI"))


def external_redis() -> bool:
    """SKYPATH_REDIS_URL points at a Redis someone else runs: start none."""
    return bool(os.environ.get("SKYPATH_REDIS_URL"))


def neo4j_settings() -> Neo4jSettings:
    if os.environ.get("SKYPATH_NEO4J_URI"):
        return Neo4jSettings(
            os.environ["SKYPATH_NEO4J_URI"],
            os.environ.get("SKYPATH_NEO4J_USER", "neo4j"),
            os.environ.get("SKYPATH_NEO4J_PASSWORD", ""),
        )
    creds = read_credentials().get("neo4j")
    if not creds:
        raise FileNotFoundError(
            f"no Neo4j settings: set SKYPATH_NEO4J_URI or run `skypath services up` (expected {credentials_path()})"
        )
    return Neo4jSettings(f"bolt://127.0.0.1:{creds['bolt_port']}", "neo4j", creds["password"])


def redis_url() -> str:
    if os.environ.get("SKYPATH_REDIS_URL"):
        return os.environ["SKYPATH_REDIS_URL"]
    creds = read_credentials().get("redis")
    if not creds:
        return "redis://127.0.0.1:6379/0"
    return f"redis://:{quote(creds['password'], safe='')}@127.0.0.1:{creds['port']}/0"
