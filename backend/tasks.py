"""Celery (Redis broker and result backend): sync, scan, attack paths, remediation, and the scheduled chain
sync → scan → paths → alerts. Beat reads the schedules from the graph (`backend.schedule.GraphScheduler`).

- One account, one task at a time: every step holds the account's Redis lock (`account_lock`); a second
  sync or scan of a busy account is skipped with `status: skipped` and the holder named (or waits up to
  `lock_wait` seconds). A redelivered task (same task id) takes its own lock back.
- A task killed mid-way (even `kill -9`) is redelivered: `acks_late` + `reject_on_worker_lost`, and the broker
  restores unacknowledged messages after the visibility timeout. A sync writes in one transaction, so the
  previous sync is intact until the retry commits.
- Throttling and transient errors (Alibaba Cloud 5xx/throttling after the transport's own retries, Neo4j
  transient errors, Redis connection errors) are retried with exponential backoff.
- State and progress: `update_state(PROGRESS, meta)`; the API reads them (`backend/api_tasks.py`).

SKYPATH_CELERY_QUEUE and SKYPATH_CELERY_PREFIX (a key prefix in Redis) let several deployments share one
Redis without taking each other's tasks; SKYPATH_CELERY_VISIBILITY_TIMEOUT (seconds) bounds redelivery.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from celery import Celery, Task, chain
from celery.signals import worker_process_init

from backend.settings import redis_url

LOCK_TTL_SECONDS = 60
RECENT_TASKS = 50
MAX_RETRIES = 5


def _namespace() -> tuple[str, str]:
    return os.environ.get("SKYPATH_CELERY_QUEUE", "skypath"), os.environ.get("SKYPATH_CELERY_PREFIX", "")


def _configure(app: Celery, queue: str, prefix: str) -> None:
    visibility = float(os.environ.get("SKYPATH_CELERY_VISIBILITY_TIMEOUT", "3600"))
    transport = {"visibility_timeout": visibility, **({"global_keyprefix": prefix} if prefix else {})}
    app.conf.update(
        task_serializer="json", result_serializer="json", accept_content=["json"],
        task_acks_late=True, task_reject_on_worker_lost=True, worker_prefetch_multiplier=1,
        task_track_started=True, result_extended=True, result_expires=24 * 3600, timezone="UTC",
        task_default_queue=queue, broker_transport_options=transport,
        result_backend_transport_options={"global_keyprefix": prefix} if prefix else {},
        beat_scheduler="backend.schedule:GraphScheduler", broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
    )


celery_app = Celery("skypath", broker=redis_url(), backend=redis_url())
_configure(celery_app, *_namespace())


@worker_process_init.connect
def _own_connections(**_: Any) -> None:
    """A forked pool process opens its own Neo4j and Redis connections (never its parent's sockets)."""
    from backend import runtime
    from backend.notify import _redis

    runtime._driver.cache_clear()
    _redis.cache_clear()


def bind(queue: str, prefix: str) -> None:
    """Point this process's app at another queue and key prefix (tests: one namespace per run)."""
    from kombu import pools

    _configure(celery_app, queue, prefix)
    pools.reset()  # the next connections and producers are made with the new transport options
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    celery_app._backend_cache = None  # and the result backend reads the new prefix
    celery_app._local.__dict__.pop("backend", None)


def _key(name: str) -> str:
    """A Redis key of ours, under the same prefix as the broker's keys."""
    return f"{celery_app.conf.broker_transport_options.get('global_keyprefix', '')}skypath:{name}"


# ---------------------------------------------------------------- the per-account lock

class AccountBusy(RuntimeError):
    def __init__(self, account_id: str, holder: str):
        super().__init__(f"account {account_id} is busy: {holder} holds its lock")
        self.holder = holder


_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"
_REFRESH = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('expire', KEYS[1], ARGV[2]) else return 0 end"


@contextmanager
def account_lock(account_id: str, owner: str, wait_seconds: float = 0.0) -> Iterator[None]:
    """Hold the account's lock while the block runs (kept alive every TTL/3; a dead holder's lock lapses
    after LOCK_TTL_SECONDS). `owner` is `<task name>[<task id>]`: the same task redelivered takes it back."""
    from backend.notify import redis_client

    r = redis_client()
    key = _key(f"lock:account:{account_id}")
    deadline = time.monotonic() + wait_seconds
    while not r.set(key, owner, nx=True, ex=LOCK_TTL_SECONDS):
        holder = r.get(key)
        if holder == owner:
            break
        if time.monotonic() >= deadline:
            raise AccountBusy(account_id, holder or "another task")
        time.sleep(0.25)
    stop = threading.Event()

    def keep_alive() -> None:
        while not stop.wait(LOCK_TTL_SECONDS / 3):
            r.eval(_REFRESH, 1, key, owner, LOCK_TTL_SECONDS)

    thread = threading.Thread(target=keep_alive, name=f"lock-{account_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        r.eval(_RELEASE, 1, key, owner)


# ---------------------------------------------------------------- retries, progress, the account's task list

def is_transient(exc: BaseException) -> bool:
    """Worth retrying later: throttling or a server/transport hiccup (here or in the cause chain)."""
    from neo4j.exceptions import ServiceUnavailable, SessionExpired, TransientError
    from redis.exceptions import ConnectionError as RedisConnectionError

    from loaders.transport import ApiError
    from loaders.transport_live import THROTTLING_CODES

    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, TransientError | ServiceUnavailable | SessionExpired | RedisConnectionError):
            return True
        if isinstance(seen, ApiError) and (seen.code in THROTTLING_CODES or seen.http_status >= 500):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


class AccountTask(Task):  # type: ignore[misc]
    """A step on one account: locked, retried on transient errors, its progress visible."""

    max_retries = MAX_RETRIES

    def progress(self, **meta: Any) -> None:
        if self.request.id:
            self.update_state(state="PROGRESS", meta={**meta, "pid": os.getpid()})

    def locked(self, account_id: str, body: Any, lock_wait: float = 0.0) -> dict[str, Any]:
        _remember(account_id, self.request.id, self.name)
        owner = f"{self.name}[{self.request.id}]"
        try:
            with account_lock(account_id, owner, lock_wait):
                self.progress(account_id=account_id, step=self.name.removeprefix("skypath."), attempt=self.request.retries)
                result: dict[str, Any] = body()
                return {**result, "pid": os.getpid()}  # which worker process ran it (a redelivery shows)
        except AccountBusy as exc:
            return {"account_id": account_id, "status": "skipped", "reason": str(exc)}
        except Exception as exc:
            if is_transient(exc) and self.request.id:
                raise self.retry(exc=exc, countdown=min(300, 2 ** self.request.retries * 5)) from exc
            raise


def _remember(account_id: str, task_id: str | None, name: str) -> None:
    """The account's recent task ids (the API lists only these for the account: no guessing others' ids)."""
    if not task_id:
        return
    from backend.notify import redis_client

    key = _key(f"tasks:{account_id}")
    entry = json.dumps({"id": task_id, "name": name})
    pipe = redis_client().pipeline()
    pipe.lrem(key, 0, entry).lpush(key, entry).ltrim(key, 0, RECENT_TASKS - 1).expire(key, 7 * 86400)
    pipe.execute()


def recent_tasks(account_id: str) -> list[dict[str, Any]]:
    from backend.notify import redis_client

    return [json.loads(e) for e in redis_client().lrange(_key(f"tasks:{account_id}"), 0, RECENT_TASKS - 1)]


def task_state(account_id: str, task_id: str) -> dict[str, Any] | None:
    """State, progress and result of one of the account's tasks (None: not one of its tasks)."""
    known = {t["id"]: t["name"] for t in recent_tasks(account_id)}
    if task_id not in known:
        return None
    res = celery_app.AsyncResult(task_id)
    info = res.info
    doc: dict[str, Any] = {"id": task_id, "name": known[task_id], "state": res.state}
    if isinstance(info, dict):
        doc["progress" if res.state in ("PROGRESS", "STARTED") else "result"] = info
    elif info is not None:
        doc["error"] = str(info)
    return doc


def _skipped(previous: dict[str, Any]) -> dict[str, Any] | None:
    if previous.get("status") in ("skipped", "refused"):
        return {"account_id": previous["account_id"], "status": "skipped",
                "reason": f"the previous step did not run: {previous.get('reason', previous['status'])}"}
    return None


# ---------------------------------------------------------------- the tasks

@celery_app.task(bind=True, base=AccountTask, name="skypath.sync")
def sync_task(self: AccountTask, account_id: str, source: str, lock_wait: float = 0.0) -> dict[str, Any]:
    """Sync an account from `snapshot:PATH`, `profile:NAME` or `live`."""
    from backend.pipeline import sync_account
    from backend.runtime import get_driver

    calls = [0, 0.0]

    def tick(call: str) -> None:
        calls[0] += 1
        if time.monotonic() - calls[1] > 0.5:
            calls[1] = time.monotonic()
            self.progress(account_id=account_id, step="sync", phase="collect", calls=calls[0], last_call=call)

    def writing() -> None:
        self.progress(account_id=account_id, step="sync", phase="write", calls=calls[0])

    return self.locked(account_id, lambda: {**sync_account(get_driver(), account_id, source, tick, writing),
                                            "status": "completed"}, lock_wait)


@celery_app.task(bind=True, base=AccountTask, name="skypath.scan")
def scan_task(self: AccountTask, account_id: str, check_ids: list[str] | None, who: str, package: str | None = None,
              scan_id: str | None = None, policy: str | None = None, lock_wait: float = 60.0) -> dict[str, Any]:
    """A scan (the catalog, a package, a policy or some items), e.g. queued by the API with the id it polls."""
    from backend.pipeline import scan_account
    from backend.runtime import get_driver

    return self.locked(account_id, lambda: scan_account(get_driver(), account_id, who, check_ids, package, policy,
                                                        scan_id), lock_wait)


@celery_app.task(bind=True, base=AccountTask, name="skypath.scan_after_sync")
def scan_after_sync(self: AccountTask, previous: dict[str, Any], package: str | None = None) -> dict[str, Any]:
    from backend.pipeline import scan_account
    from backend.runtime import get_driver

    account_id = previous["account_id"]
    return _skipped(previous) or self.locked(
        account_id, lambda: scan_account(get_driver(), account_id, "scheduler", None, package), lock_wait=60.0)


@celery_app.task(bind=True, base=AccountTask, name="skypath.paths")
def paths_task(self: AccountTask, previous: dict[str, Any]) -> dict[str, Any]:
    """Attack paths after a scan (or on demand with {"account_id": …}); the pairs are kept for drift."""
    from backend.pipeline import paths_account
    from backend.runtime import get_driver

    account_id = previous["account_id"]
    return _skipped(previous) or self.locked(account_id, lambda: paths_account(get_driver(), account_id),
                                             lock_wait=60.0)


@celery_app.task(bind=True, base=AccountTask, name="skypath.remediate")
def remediate_task(self: AccountTask, account_id: str, check_id: str, asset_id: str, who: str,
                   endpoint: str | None = None, profile: str | None = None) -> dict[str, Any]:
    """Execute a fix, then re-collect and verify (the same runtime as `skypath remediate --execute`)."""
    from backend.remediation_runtime import execute_for_account
    from backend.runtime import get_driver

    def run() -> dict[str, Any]:
        doc: dict[str, Any] = execute_for_account(get_driver(), account_id, check_id, asset_id, who,
                                                  endpoint=endpoint, profile=profile)
        return {"account_id": account_id, "status": "completed", **doc}

    return self.locked(account_id, run, lock_wait=60.0)


@celery_app.task(name="skypath.notify")
def notify_task(previous: dict[str, Any]) -> dict[str, Any]:
    """After a scheduled run: the run's new critical/high findings and new attack paths (against the run
    before: the first run sets the baseline and alerts nothing), queued to every webhook of the account
    (deliveries are their own tasks: a slow receiver never holds the pipeline)."""
    from backend.drift import changes, previous_scan
    from backend.notify import alert_from_changes, delivery_key, list_webhooks
    from backend.runtime import get_driver

    account_id = previous["account_id"]
    if _skipped(previous):
        return {"account_id": account_id, "status": "skipped", "deliveries": 0}
    driver = get_driver()
    baseline = previous_scan(driver, account_id)
    if baseline is None:
        return {"account_id": account_id, "status": "completed", "deliveries": 0, "note": "the first run: a baseline"}
    alert = alert_from_changes(changes(driver, account_id, since=baseline))
    hooks = list_webhooks(driver, account_id) if alert else []
    for hook in hooks:
        assert alert is not None
        deliver_task.delay(hook["id"], alert, delivery_key(hook["id"], alert))
    return {"account_id": account_id, "status": "completed", "deliveries": len(hooks)}


@celery_app.task(bind=True, name="skypath.deliver_webhook", max_retries=MAX_RETRIES)
def deliver_task(self: Task, hook_id: str, alert: dict[str, Any], key: str) -> dict[str, Any]:
    from backend.notify import attempt_delivery, backoff_seconds
    from backend.runtime import get_driver

    result = attempt_delivery(get_driver(), hook_id, alert, key, self.request.id,
                              final=self.request.retries >= MAX_RETRIES)
    if result.status == "retry":
        raise self.retry(countdown=backoff_seconds(self.request.retries))
    return {"webhook": hook_id, "delivery_id": key, **result.as_dict()}


@celery_app.task(name="skypath.run_schedule")
def run_schedule(account_id: str, source: str, package: str | None = None) -> dict[str, Any]:
    """Beat's entry: queue the account's chain sync → scan → paths → alerts, and return its last task id."""
    from backend.runtime import get_driver
    from backend.schedule import mark_run

    mark_run(get_driver(), account_id)
    result = chain(sync_task.si(account_id, source), scan_after_sync.s(package), paths_task.s(),
                   notify_task.s()).apply_async()
    return {"account_id": account_id, "status": "queued", "chain": result.id}
