"""Per-account schedules, stored in the graph (`Schedule`, unique by uid = account id), and the beat
scheduler that reads them: a change (set, remove, new interval or source) takes effect within
REFRESH_SECONDS, without restarting beat. No other database: the graph is the one source of truth."""

from __future__ import annotations

import os
import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from celery.beat import ScheduleEntry, Scheduler
from neo4j import Driver

from backend.pipeline import now_iso, parse_source

REFRESH_SECONDS = float(os.environ.get("SKYPATH_BEAT_REFRESH_SECONDS", "5"))
MIN_EVERY_SECONDS = 1
_EVERY = re.compile(r"^(\d+)([smhd]?)$")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
ENTRY_PREFIX = "skypath-sync:"
NEVER_RAN = datetime(2000, 1, 1, tzinfo=UTC)  # a schedule that never ran is due at once


class ScheduleError(ValueError):
    pass


def parse_every(text: str) -> int:
    """`90`, `90s`, `15m`, `6h`, `1d` → seconds."""
    match = _EVERY.match(text.strip())
    if not match or int(match.group(1)) * _UNIT_SECONDS[match.group(2)] < MIN_EVERY_SECONDS:
        raise ScheduleError(f"--every must be a positive number of seconds, or with s/m/h/d (e.g. 15m), got {text!r}")
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def set_schedule(driver: Driver, account_id: str, source: str, every_seconds: int, who: str,
                 package: str | None = None, enabled: bool = True, queue: str | None = None) -> dict[str, Any]:
    """Create or replace the account's schedule: sync from `source`, then scan (the catalog or a package),
    then analyse paths, every `every_seconds`, on the workers of `queue` (default: this deployment's)."""
    from backend.tasks import celery_app

    if not account_id.isdigit():
        raise ScheduleError("the account id is digits")
    kind, arg = parse_source(source)
    if kind == "snapshot" and not Path(arg).is_file():
        raise ScheduleError(f"snapshot {arg} is not a file the workers can read")
    if every_seconds < MIN_EVERY_SECONDS:
        raise ScheduleError("the interval is at least one second")
    if package:
        from checks.packages import package_items

        package_items(package)  # an unknown package is an error now, not in the worker
    rec = driver.execute_query(
        "MERGE (s:Schedule {uid: $account}) ON CREATE SET s.created = $now "
        "SET s.account_id = $account, s.source = $source, s.every_seconds = $every, s.package = $package, "
        "s.enabled = $enabled, s.queue = $queue, s.updated = $now, s.who = $who "
        "CREATE (:AuditEntry {account_id: $account, at: datetime(), who: $who, action: 'schedule.set', "
        "detail: $source + ' every ' + toString($every) + 's'}) RETURN s {.*} AS s",
        account=account_id, source=source, every=every_seconds, package=package, enabled=enabled, now=now_iso(),
        who=who, queue=queue or celery_app.conf.task_default_queue,
    ).records
    return _public(rec[0]["s"])


def remove_schedule(driver: Driver, account_id: str, who: str) -> bool:
    rec = driver.execute_query(
        "OPTIONAL MATCH (s:Schedule {uid: $account}) WITH s, s IS NOT NULL AS existed DETACH DELETE s "
        "WITH existed WHERE existed CREATE (:AuditEntry {account_id: $account, at: datetime(), who: $who, "
        "action: 'schedule.remove', detail: ''}) RETURN existed",
        account=account_id, who=who,
    ).records
    return bool(rec)


def list_schedules(driver: Driver, accounts: list[str] | None = None, queue: str | None = None) -> list[dict[str, Any]]:
    """Every schedule (the CLI), those of some accounts (the API, per caller) or of one queue (beat: a
    deployment's beat drives the schedules of its queue; other queues have their own beat and workers)."""
    rows = driver.execute_query(
        "MATCH (s:Schedule) WHERE ($accounts IS NULL OR s.account_id IN $accounts) AND ($queue IS NULL OR s.queue = $queue) "
        "RETURN s {.*} AS s ORDER BY s.account_id", accounts=accounts, queue=queue, routing_="r",
    ).records
    return [_public(r["s"]) for r in rows]


def _public(row: dict[str, Any]) -> dict[str, Any]:
    return {k: row.get(k) for k in ("account_id", "source", "every_seconds", "package", "enabled", "queue",
                                    "created", "updated", "who", "last_run")}


def mark_run(driver: Driver, account_id: str) -> None:
    """When the account's scheduled run last started: beat counts the next one from it, across restarts."""
    driver.execute_query("MATCH (s:Schedule {uid: $account}) SET s.last_run = $now", account=account_id,
                         now=now_iso())


def _last_run(row: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(row["last_run"].replace("Z", "+00:00")) if row.get("last_run") else NEVER_RAN


def entries(rows: list[dict[str, Any]], app: Any) -> dict[str, ScheduleEntry]:
    """Beat entries for the enabled schedules: one `skypath.run_schedule` task per account and interval, the
    next counted from the last run the graph recorded (a run not started within its interval expires: a
    backlog never piles up behind busy workers)."""
    out = {}
    for row in rows:
        if not row["enabled"]:
            continue
        name = ENTRY_PREFIX + row["account_id"]
        out[name] = ScheduleEntry(
            name=name, task="skypath.run_schedule", schedule=timedelta(seconds=row["every_seconds"]),
            args=(row["account_id"],), kwargs={"source": row["source"], "package": row["package"]},
            options={"queue": row["queue"], "expires": row["every_seconds"]}, app=app, last_run_at=_last_run(row),
        )
    return out


class GraphScheduler(Scheduler):
    """Beat's schedule is the graph's `Schedule` records, re-read every REFRESH_SECONDS. An entry whose
    settings did not change keeps its last run (so re-reading never fires a run early or late)."""

    def setup_schedule(self) -> None:
        self.max_interval = min(self.max_interval, REFRESH_SECONDS)
        self._read_at = 0.0
        self.data = {}
        self._refresh()

    def _refresh(self) -> None:
        from backend.runtime import get_driver

        try:
            rows = list_schedules(get_driver(), queue=self.app.conf.task_default_queue)
        except Exception as exc:  # noqa: BLE001 - the graph is away: keep the schedule we have, try again soon
            self.logger.warning("beat: cannot read schedules from the graph (%s); keeping %d entries",
                                exc, len(self.data))
            self._read_at = time.monotonic()
            return
        fresh = entries(rows, self.app)
        for name, entry in fresh.items():
            old = self.data.get(name)
            if old is not None and old.editable_fields_equal(entry):
                fresh[name] = old
        self.data = fresh
        self._read_at = time.monotonic()

    def get_schedule(self) -> dict[str, ScheduleEntry]:
        if time.monotonic() - getattr(self, "_read_at", 0.0) >= REFRESH_SECONDS:
            self._refresh()
        return self.data

    def set_schedule(self, schedule: dict[str, ScheduleEntry]) -> None:
        self.data = schedule

    schedule = property(get_schedule, set_schedule)  # type: ignore[assignment]
