"""API tokens: random, shown once, stored as SHA-256 hashes with a role and the accounts they may see."""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from typing import Any

from neo4j import Driver

ROLES = ("viewer", "operator", "admin")
ROLE_RANK = {r: i for i, r in enumerate(ROLES)}
TOKEN_PREFIX = "skp_"


class AuthError(PermissionError):
    pass


@dataclass(frozen=True)
class Identity:
    token_id: str
    role: str
    accounts: tuple[str, ...]
    kind: str = "api"  # api | agent

    def can_see(self, account_id: str) -> bool:
        return account_id in self.accounts or "*" in self.accounts

    def at_least(self, role: str) -> bool:
        return ROLE_RANK[self.role] >= ROLE_RANK[role]

    @property
    def name(self) -> str:
        return f"token:{self.token_id}"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(driver: Driver, role: str, accounts: list[str], kind: str = "api", who: str = "cli") -> dict[str, Any]:
    if role not in ROLES:
        raise AuthError(f"--role must be one of {', '.join(ROLES)}")
    if not accounts or not all(a == "*" or a.isdigit() for a in accounts):
        raise AuthError("--account takes account ids (digits); give at least one")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token_id = secrets.token_hex(6)
    with driver.session() as session:
        session.run(
            "CREATE (t:ApiToken {id: $id, hash: $hash, role: $role, accounts: $accounts, kind: $kind, "
            "created: toString(datetime()), who: $who})",
            id=token_id, hash=_hash(token), role=role, accounts=accounts, kind=kind, who=who,
        ).consume()
    return {"token": token, "id": token_id, "role": role, "accounts": accounts, "kind": kind}


# verified identities are remembered briefly (a revoked token stops working within this many seconds)
AUTH_CACHE_SECONDS = 15.0
_auth_cache: dict[str, tuple[float, Identity]] = {}


def authenticate(driver: Driver, token: str | None) -> Identity:
    if not token or not token.startswith(TOKEN_PREFIX):
        raise AuthError("missing or malformed bearer token")
    token_hash = _hash(token)
    hit = _auth_cache.get(token_hash)
    if hit is not None and time.monotonic() - hit[0] < AUTH_CACHE_SECONDS:
        return hit[1]
    identity = _lookup(driver, token_hash)
    if len(_auth_cache) > 10_000:
        _auth_cache.clear()
    _auth_cache[token_hash] = (time.monotonic(), identity)
    return identity


def _lookup(driver: Driver, token_hash: str) -> Identity:
    with driver.session() as session:
        rec = session.run(
            "MATCH (t:ApiToken {hash: $hash}) WHERE t.revoked IS NULL RETURN t.id AS id, t.role AS role, "
            "t.accounts AS accounts, t.kind AS kind",
            hash=token_hash,
        ).single()
    if rec is None:
        raise AuthError("unknown or revoked token")
    return Identity(rec["id"], rec["role"], tuple(rec["accounts"]), rec["kind"] or "api")
