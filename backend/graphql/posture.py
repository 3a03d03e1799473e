"""GraphQL for continuous posture: schedules, task state and progress, drift. The root Query and Mutation
inherit these fields.
Values of any shape (a changed property) travel as JSON text in `String` fields."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import strawberry

from backend.graphql.enums import Severity, TaskOutcome
from backend.graphql.relay import Connection, from_list


@strawberry.type
class ScheduleType:
    account_id: str
    source: str
    every_seconds: int
    package: str | None
    enabled: bool
    queue: str | None
    updated: str | None
    last_run: str | None


@strawberry.type
class TaskState:
    id: str
    name: str
    state: str
    step: str | None = None
    phase: str | None = None
    calls: int | None = None
    status: TaskOutcome | None = None
    reason: str | None = None
    error: str | None = None


@strawberry.type
class AssetRef:
    type: str
    id: str


@strawberry.type
class PropertyChange:
    name: str
    before_json: str
    after_json: str


@strawberry.type
class ChangedAsset:
    type: str
    id: str
    properties: list[PropertyChange] = strawberry.field(description="Bounded: one asset's changed properties.")


@strawberry.type
class FindingChange:
    check_id: str
    asset_id: str
    severity: Severity | None = strawberry.field(description="null: the item is gone (a removed custom item).")
    title: str
    before: str | None
    after: str | None


@strawberry.type
class PathChange:
    entry: str
    target: str
    severity: Severity
    type: str


@strawberry.type
class ExposureChange:
    type: str
    id: str
    property: str
    before_json: str
    after_json: str


@strawberry.type(description="What changed since a scan or date: every list a connection.")
class Changes:
    account_id: str
    since: str
    doc: strawberry.Private[dict[str, Any]]

    def _page(self, rows: list[Any], first: int | None, after: str | None, kind: str, node: Any) -> Connection[Any]:
        return from_list(rows, first, after, f"changes.{kind}", node)

    @strawberry.field
    def syncs(self, first: int | None = 50, after: str | None = None) -> Connection[str]:
        return self._page(self.doc["syncs"], first, after, "syncs", lambda s: s)

    @strawberry.field
    def assets_added(self, first: int | None = 50, after: str | None = None) -> Connection[AssetRef]:
        return self._page(self.doc["assets"]["added"], first, after, "assetsAdded", lambda a: AssetRef(**a))

    @strawberry.field
    def assets_removed(self, first: int | None = 50, after: str | None = None) -> Connection[AssetRef]:
        return self._page(self.doc["assets"]["removed"], first, after, "assetsRemoved", lambda a: AssetRef(**a))

    @strawberry.field
    def assets_changed(self, first: int | None = 50, after: str | None = None) -> Connection[ChangedAsset]:
        return self._page(self.doc["assets"]["changed"], first, after, "assetsChanged", lambda a: ChangedAsset(
            type=a["type"], id=a["id"], properties=[
                PropertyChange(name=p, before_json=json.dumps(v["before"]), after_json=json.dumps(v["after"]))
                for p, v in a["properties"].items()]))

    @strawberry.field
    def findings_new(self, first: int | None = 50, after: str | None = None) -> Connection[FindingChange]:
        return self._page(self.doc["findings"]["new"], first, after, "findingsNew", _finding)

    @strawberry.field
    def findings_resolved(self, first: int | None = 50, after: str | None = None) -> Connection[FindingChange]:
        return self._page(self.doc["findings"]["resolved"], first, after, "findingsResolved", _finding)

    @strawberry.field
    def findings_regressed(self, first: int | None = 50, after: str | None = None) -> Connection[FindingChange]:
        return self._page(self.doc["findings"]["regressed"], first, after, "findingsRegressed", _finding)

    @strawberry.field(description="Attack paths of the newest path run.")
    def paths_total(self) -> int:
        return int(self.doc["attack_paths"]["total"])

    @strawberry.field(description="Attack paths of the baseline's path run (0 without one).")
    def paths_baseline_total(self) -> int:
        return int(self.doc["attack_paths"]["baseline_total"])

    @strawberry.field(description="False when a run was above the pair limit and kept its count only: pathsNew "
                                  "and pathsRemoved are then empty, not 'no change'.")
    def paths_compared(self) -> bool:
        return bool(self.doc["attack_paths"]["compared"])

    @strawberry.field
    def paths_new(self, first: int | None = 50, after: str | None = None) -> Connection[PathChange]:
        return self._page(self.doc["attack_paths"]["new"], first, after, "pathsNew", _path)

    @strawberry.field
    def paths_removed(self, first: int | None = 50, after: str | None = None) -> Connection[PathChange]:
        return self._page(self.doc["attack_paths"]["removed"], first, after, "pathsRemoved", _path)

    @strawberry.field
    def exposure(self, first: int | None = 50, after: str | None = None) -> Connection[ExposureChange]:
        return self._page(self.doc["exposure"], first, after, "exposure", lambda e: ExposureChange(
            type=e["type"], id=e["id"], property=e["property"], before_json=json.dumps(e["before"]),
            after_json=json.dumps(e["after"])))


def _finding(r: dict[str, Any]) -> FindingChange:
    return FindingChange(check_id=r["check_id"], asset_id=r["asset_id"],
                         severity=Severity(r["severity"]) if r["severity"] else None,
                         title=r["title"], before=r["before"], after=r["after"])


def _path(r: dict[str, Any]) -> PathChange:
    return PathChange(entry=r["entry"], target=r["target"], severity=Severity(r["severity"]), type=r["type"])


def _schedule(row: dict[str, Any]) -> ScheduleType:
    return ScheduleType(**{k: row[k] for k in ("account_id", "source", "every_seconds", "package", "enabled",
                                               "queue", "updated", "last_run")})


def _task(doc: dict[str, Any]) -> TaskState:
    meta = doc.get("progress") or doc.get("result") or {}
    return TaskState(id=doc["id"], name=doc["name"], state=doc["state"], step=meta.get("step"),
                     phase=meta.get("phase"), calls=meta.get("calls"),
                     status=TaskOutcome(meta["status"]) if meta.get("status") else None,
                     reason=meta.get("reason"), error=doc.get("error"))


def _changes(doc: dict[str, Any]) -> Changes:
    return Changes(account_id=doc["account_id"], since=doc["since"], doc=doc)


@strawberry.type
class PostureQuery:
    @strawberry.field
    async def schedule(self, info: strawberry.Info, account_id: str) -> ScheduleType | None:
        from backend.schedule import list_schedules

        info.context.require(account_id, "viewer")
        rows = await asyncio.to_thread(list_schedules, info.context.driver, [account_id])
        return _schedule(rows[0]) if rows else None

    @strawberry.field
    async def tasks(self, info: strawberry.Info, account_id: str) -> list[TaskState]:
        """The account's recent Celery tasks (sync, scan, paths, remediation) with state and progress."""
        from backend.tasks import recent_tasks, task_state

        info.context.require(account_id, "viewer")

        def read() -> list[TaskState]:
            docs = [task_state(account_id, t["id"]) for t in recent_tasks(account_id)]
            return [_task(d) for d in docs if d]

        return await asyncio.to_thread(read)

    @strawberry.field
    async def task(self, info: strawberry.Info, account_id: str, id: str) -> TaskState | None:
        from backend.tasks import task_state

        info.context.require(account_id, "viewer")
        doc = await asyncio.to_thread(task_state, account_id, id)
        return _task(doc) if doc else None

    @strawberry.field
    async def changes(self, info: strawberry.Info, account_id: str, since: str | None = None) -> Changes:
        """What changed since a scan id or an ISO date (default: what the latest sync changed)."""
        from backend.drift import changes

        info.context.require(account_id, "viewer")
        return _changes(await asyncio.to_thread(changes, info.context.driver, account_id, since))


@strawberry.type
class PostureMutation:
    @strawberry.mutation
    async def set_schedule(self, info: strawberry.Info, account_id: str, source: str, every_seconds: int,
                           package: str | None = None, enabled: bool = True) -> ScheduleType:
        """Sync from `snapshot:PATH`, `profile:NAME` or `live`, then scan and analyse paths, every N seconds."""
        from backend.schedule import set_schedule

        ident = info.context.require(account_id, "admin")
        row = await asyncio.to_thread(set_schedule, info.context.driver, account_id, source, every_seconds,
                                      ident.name, package, enabled)
        return _schedule(row)

    @strawberry.mutation
    async def remove_schedule(self, info: strawberry.Info, account_id: str) -> bool:
        from backend.schedule import remove_schedule

        ident = info.context.require(account_id, "admin")
        removed: bool = await asyncio.to_thread(remove_schedule, info.context.driver, account_id, ident.name)
        return removed
