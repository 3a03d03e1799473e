"""API tokens: random, shown once, stored as SHA-256 hashes with a role and the accounts they may see."""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from typing import Any

from neo4j import Driver

from loaders.inputs import ACCOUNT_ID

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
        # a look-alike id ('１７３８…', full width) is no account, also for a '*' token
        return ACCOUNT_ID.fullmatch(account_id) is not None and (account_id in self.accounts or "*" in self.accounts)

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
    if not accounts or not all(a == "*" or ACCOUNT_ID.fullmatch(a) for a in accounts):
        raise AuthError("--account takes account ids (1-32 ASCII digits) or '*'; give at least one")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token_id = secrets.token_hex(6)
    with driver.session() as session:
        session.run(
            "CREATE (t:ApiToken {id: $id, hash: $hash, role: $role, accounts: $accounts, kind: $kind, "
            "created: toString(datetime()), who: $who})",
            id=token_id, hash=_hash(token), role=role, accounts=accounts, kind=kind, who=who,
        ).consume()
    return {"token": token, "id": token_id, "role": role, "accounts": accounts, "kind": kind}


# verified identities are remembered briefly (a revoked token stops working within this many seconds),
# and so are refusals (a flood of bad tokens costs no database reads)
AUTH_CACHE_SECONDS = 15.0
REFUSAL_CACHE_SECONDS = 5.0
_auth_cache: dict[str, tuple[float, Identity | AuthError]] = {}


def cached_identity(token: str | None) -> Identity | None:
    """The identity of a token verified moments ago, without I/O (None: ask `authenticate`); a refusal
    remembered moments ago is raised again."""
    if not token or not token.startswith(TOKEN_PREFIX):
        raise AuthError("missing or malformed bearer token")
    hit = _auth_cache.get(_hash(token))
    if hit is None:
        return None
    at, outcome = hit
    if isinstance(outcome, AuthError):
        if time.monotonic() - at < REFUSAL_CACHE_SECONDS:
            raise outcome
        return None
    return outcome if time.monotonic() - at < AUTH_CACHE_SECONDS else None


def authenticate(driver: Driver, token: str | None) -> Identity:
    cached = cached_identity(token)
    if cached is not None:
        return cached
    assert token is not None  # cached_identity refused a missing token
    token_hash = _hash(token)
    if len(_auth_cache) > 10_000:
        _auth_cache.clear()
    try:
        identity = _lookup(driver, token_hash)
    except AuthError as exc:
        _auth_cache[token_hash] = (time.monotonic(), exc)
        raise
    _auth_cache[token_hash] = (time.monotonic(), identity)
    return identity


def revoke_token(driver: Driver, token_id: str, who: str = "cli") -> bool:
    """Mark a token revoked (it stops working within AUTH_CACHE_SECONDS in every API process)."""
    rows = driver.execute_query(
        "MATCH (t:ApiToken {id: $id}) WHERE t.revoked IS NULL SET t.revoked = toString(datetime()), t.revoked_by = $who "
        "RETURN t.id AS id", id=token_id, who=who).records
    _auth_cache.clear()
    return bool(rows)


def list_tokens(driver: Driver) -> list[dict[str, Any]]:
    """Every token's record, never its hash."""
    rows = driver.execute_query(
        "MATCH (t:ApiToken) RETURN t.id AS id, t.role AS role, t.accounts AS accounts, coalesce(t.kind, 'api') AS kind, "
        "t.created AS created, t.who AS who, t.revoked AS revoked ORDER BY t.created, t.id", routing_="r").records
    return [dict(r) for r in rows]


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
