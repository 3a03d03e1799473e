"""Webhook alerts: new critical/high findings and new attack paths of a scheduled run.

A webhook is a `Webhook` node (url, body kind, accounts) — a global record the read-only console refuses
(checks/cypher_guard.py admits tenant labels only) — and its HMAC secret lives in Redis only, never in the
graph. Every request is signed: `X-Skypath-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`
with `X-Skypath-Timestamp`; DingTalk and Lark bodies also carry their own signing schemes. Each change set
has a delivery key: once delivered (2xx) it is never sent again, whoever asks.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
import urllib.parse
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import httpx
import redis
from neo4j import Driver

from backend.pipeline import now_iso
from backend.settings import redis_url

KINDS = ("generic", "slack", "dingtalk", "lark")
ALERT_SEVERITIES = ("critical", "high")
SECRET_KEY = "skypath:webhook-secret:{id}"
DELIVERY_KEY = "skypath:webhook-delivery:{key}"
DELIVERED_TTL_SECONDS = 30 * 86400
CLAIM_TTL_SECONDS = 300
TIMEOUT_SECONDS = 10.0


class NotifyError(ValueError):
    pass


@lru_cache(maxsize=1)
def _redis(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, decode_responses=True)


def redis_client() -> redis.Redis:
    return _redis(redis_url())


# ---------------------------------------------------------------- webhooks (graph) and secrets (Redis)

def add_webhook(driver: Driver, url: str, kind: str, accounts: list[str], who: str,
                secret: str | None = None) -> dict[str, Any]:
    """Returns the webhook with its secret (shown once; only Redis keeps it)."""
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise NotifyError(f"the webhook url must be http(s)://host/…, got {url!r}")
    if kind not in KINDS:
        raise NotifyError(f"--kind must be one of {', '.join(KINDS)}, got {kind!r}")
    if not accounts or not all(a.isdigit() or a == "*" for a in accounts):
        raise NotifyError("give the account ids (digits, or * for every account) whose alerts it gets")
    hook_id = f"wh-{uuid.uuid4().hex[:12]}"
    secret = secret or secrets.token_urlsafe(32)
    redis_client().set(SECRET_KEY.format(id=hook_id), secret)
    driver.execute_query("CREATE (:Webhook {id: $id, url: $url, kind: $kind, accounts: $accounts, created: $now, "
                         "who: $who})", id=hook_id, url=url, kind=kind, accounts=accounts, now=now_iso(), who=who)
    return {"id": hook_id, "url": url, "kind": kind, "accounts": accounts, "secret": secret}


def list_webhooks(driver: Driver, account_id: str | None = None) -> list[dict[str, Any]]:
    rows = driver.execute_query(
        "MATCH (w:Webhook) WHERE $account IS NULL OR $account IN w.accounts OR '*' IN w.accounts "
        "RETURN w {.id, .url, .kind, .accounts, .created} AS w ORDER BY w.created", account=account_id, routing_="r",
    ).records
    return [dict(r["w"]) for r in rows]


def remove_webhook(driver: Driver, hook_id: str) -> bool:
    rows = driver.execute_query("MATCH (w:Webhook {id: $id}) DETACH DELETE w RETURN count(*) AS n", id=hook_id).records
    redis_client().delete(SECRET_KEY.format(id=hook_id))
    return bool(rows and rows[0]["n"])


def _webhook(driver: Driver, hook_id: str) -> dict[str, Any]:
    rows = driver.execute_query("MATCH (w:Webhook {id: $id}) RETURN w {.id, .url, .kind, .accounts} AS w",
                                id=hook_id, routing_="r").records
    if not rows:
        raise NotifyError(f"no webhook {hook_id}")
    return dict(rows[0]["w"])


# ---------------------------------------------------------------- what is alerted, and the bodies

def alert_from_changes(doc: dict[str, Any]) -> dict[str, Any] | None:
    """The alert of one run's drift document, or None when it has nothing to say."""
    findings = [f for f in doc["findings"]["new"] + doc["findings"]["regressed"] if f["severity"] in ALERT_SEVERITIES]
    paths = doc["attack_paths"]["new"]
    if not findings and not paths:
        return None
    return {
        "event": "skypath.posture_changed", "account_id": doc["account_id"],
        "scan_id": doc["findings"]["scan_id"], "path_run_id": doc["attack_paths"]["path_run_id"],
        "new_findings": [{k: f[k] for k in ("check_id", "asset_id", "severity", "title", "before")} for f in findings],
        "new_attack_paths": paths,
    }


def delivery_key(hook_id: str, alert: dict[str, Any]) -> str:
    """One change set, one key: the same run's alert asked twice (a retried task, a second notify) has it."""
    ident = json.dumps([hook_id, alert["account_id"], alert["scan_id"], alert["path_run_id"]])
    return hashlib.sha256(ident.encode()).hexdigest()[:32]


def _summary(alert: dict[str, Any]) -> str:
    if alert["event"] == "skypath.test":
        return f"Skypath: a test alert for account {alert['account_id']} (the webhook works)"
    lines = [f"Skypath: account {alert['account_id']}: {len(alert['new_findings'])} new critical/high findings, "
             f"{len(alert['new_attack_paths'])} new attack paths"]
    lines += [f"- [{f['severity']}] {f['check_id']} on {f['asset_id']}" for f in alert["new_findings"][:20]]
    lines += [f"- path [{p['severity']}] {p['entry']} → {p['target']}" for p in alert["new_attack_paths"][:20]]
    return "\n".join(lines)


def _b64_hmac(key: str, message: bytes) -> str:
    return base64.b64encode(hmac.new(key.encode(), message, hashlib.sha256).digest()).decode()


# kind → (body of the alert, url for this timestamp): the DingTalk/Lark/Slack shapes and their own signing
def _generic(alert: dict[str, Any], secret: str, ts: str) -> dict[str, Any]:
    return alert


def _slack(alert: dict[str, Any], secret: str, ts: str) -> dict[str, Any]:
    return {"text": _summary(alert)}


def _dingtalk(alert: dict[str, Any], secret: str, ts: str) -> dict[str, Any]:
    return {"msgtype": "markdown", "markdown": {"title": "Skypath alert", "text": _summary(alert)}}


def _lark(alert: dict[str, Any], secret: str, ts: str) -> dict[str, Any]:
    # Lark: sign = base64(HMAC-SHA256(key="<timestamp>\n<secret>", message=""))
    return {"timestamp": ts, "sign": _b64_hmac(f"{ts}\n{secret}", b""), "msg_type": "text",
            "content": {"text": _summary(alert)}}


BODIES: dict[str, Callable[[dict[str, Any], str, str], dict[str, Any]]] = {
    "generic": _generic, "slack": _slack, "dingtalk": _dingtalk, "lark": _lark,
}


def _url(hook: dict[str, Any], secret: str, ts: str) -> str:
    if hook["kind"] != "dingtalk":
        return str(hook["url"])
    # DingTalk: &timestamp=<ms>&sign=urlencode(base64(HMAC-SHA256(secret, "<ms>\n<secret>")))
    ms = str(int(ts) * 1000)
    sign = _b64_hmac(secret, f"{ms}\n{secret}".encode())
    sep = "&" if "?" in hook["url"] else "?"
    return f"{hook['url']}{sep}timestamp={ms}&sign={urllib.parse.quote_plus(sign)}"


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """What a receiver recomputes to verify `X-Skypath-Signature`."""
    return "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


# ---------------------------------------------------------------- delivery

@dataclass
class Attempt:
    status: str  # delivered | duplicate | in_progress | retry | failed
    http_status: int | None = None
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def attempt_delivery(driver: Driver, hook_id: str, alert: dict[str, Any], key: str, owner: str,
                     final: bool) -> Attempt:
    """One try. `owner` (the task id) may retry its own claim; anyone else finds it taken or delivered.
    A 5xx, 429 or network error is worth retrying; a 4xx is not."""
    r = redis_client()
    slot = DELIVERY_KEY.format(key=key)
    if not r.set(slot, f"claimed:{owner}", nx=True, ex=CLAIM_TTL_SECONDS):
        held = r.get(slot) or ""
        if held == "delivered":
            return Attempt("duplicate", detail="this change set was already delivered")
        if held != f"claimed:{owner}":
            return Attempt("in_progress", detail="another delivery of this change set is under way")
    hook = _webhook(driver, hook_id)
    secret = r.get(SECRET_KEY.format(id=hook_id))
    if not secret:
        r.delete(slot)
        return Attempt("failed", detail=f"the secret of webhook {hook_id} is not in Redis: re-create the webhook")
    ts = str(int(time.time()))
    body = json.dumps(BODIES[hook["kind"]]({**alert, "delivery_id": key}, secret, ts), default=str).encode()
    headers = {"Content-Type": "application/json", "X-Skypath-Timestamp": ts, "X-Skypath-Delivery": key,
               "X-Skypath-Signature": signature(secret, ts, body), "User-Agent": "skypath-webhook/1"}
    try:
        resp = httpx.post(_url(hook, secret, ts), content=body, headers=headers, timeout=TIMEOUT_SECONDS)
    except httpx.HTTPError as exc:
        return _unsent(r, slot, final, None, f"{type(exc).__name__}: {exc}")
    if 200 <= resp.status_code < 300:
        r.set(slot, "delivered", ex=DELIVERED_TTL_SECONDS)
        return Attempt("delivered", resp.status_code)
    retryable = resp.status_code >= 500 or resp.status_code == 429
    return _unsent(r, slot, final or not retryable, resp.status_code, resp.text[:200])


def _unsent(r: redis.Redis, slot: str, final: bool, http_status: int | None, detail: str) -> Attempt:
    if final:
        r.delete(slot)  # given up: a later, deliberate send (notify test, the next run) may try again
        return Attempt("failed", http_status, detail)
    return Attempt("retry", http_status, detail)


def backoff_seconds(attempt: int, base: float = 2.0, cap: float = 300.0) -> float:
    return float(min(cap, base * 2 ** attempt))


def deliver_now(driver: Driver, hook_id: str, alert: dict[str, Any], attempts: int = 5, base_delay: float = 2.0,
                key: str | None = None) -> dict[str, Any]:
    """Deliver in this process with retries (the CLI's `notify test`; workers use the Celery task)."""
    key = key or delivery_key(hook_id, alert)
    owner = uuid.uuid4().hex
    tries: list[dict[str, Any]] = []
    for n in range(attempts):
        result = attempt_delivery(driver, hook_id, alert, key, owner, final=n == attempts - 1)
        tries.append(result.as_dict())
        if result.status != "retry":
            break
        time.sleep(backoff_seconds(n, base_delay))
    return {"webhook": hook_id, "delivery_id": key, "status": tries[-1]["status"], "attempts": tries}


def sample_alert(account_id: str) -> dict[str, Any]:
    return {"event": "skypath.test", "account_id": account_id, "scan_id": None, "path_run_id": f"test-{now_iso()}",
            "new_findings": [], "new_attack_paths": []}
