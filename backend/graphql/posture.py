"""GraphQL for continuous posture: schedules, task state and progress, drift. The root Query and Mutation
inherit these fields.
Values of any shape (a changed property) travel as JSON text in `String` fields."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import strawberry


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
    status: str | None = None
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
    properties: list[PropertyChange]


@strawberry.type
class FindingChange:
    check_id: str
    asset_id: str
    severity: str
    title: str
    before: str | None
    after: str | None


@strawberry.type
class PathChange:
    entry: str
    target: str
    severity: str
    type: str


@strawberry.type
class ExposureChange:
    type: str
    id: str
    property: str
    before_json: str
    after_json: str


@strawberry.type
class Changes:
    account_id: str
    since: str
    syncs: list[str]
    assets_added: list[AssetRef]
    assets_removed: list[AssetRef]
    assets_changed: list[ChangedAsset]
    findings_new: list[FindingChange]
    findings_resolved: list[FindingChange]
    findings_regressed: list[FindingChange]
    paths_new: list[PathChange]
    paths_removed: list[PathChange]
    exposure: list[ExposureChange]


def _schedule(row: dict[str, Any]) -> ScheduleType:
    return ScheduleType(**{k: row[k] for k in ("account_id", "source", "every_seconds", "package", "enabled",
                                               "queue", "updated", "last_run")})


def _task(doc: dict[str, Any]) -> TaskState:
    meta = doc.get("progress") or doc.get("result") or {}
    return TaskState(id=doc["id"], name=doc["name"], state=doc["state"], step=meta.get("step"),
                     phase=meta.get("phase"), calls=meta.get("calls"), status=meta.get("status"),
                     reason=meta.get("reason"), error=doc.get("error"))


def _changes(doc: dict[str, Any]) -> Changes:
    def findings(rows: list[dict[str, Any]]) -> list[FindingChange]:
        return [FindingChange(**{k: r[k] for k in ("check_id", "asset_id", "severity", "title", "before", "after")})
                for r in rows]

    def paths(rows: list[dict[str, Any]]) -> list[PathChange]:
        return [PathChange(**{k: r[k] for k in ("entry", "target", "severity", "type")}) for r in rows]

    assets = doc["assets"]
    return Changes(
        account_id=doc["account_id"], since=doc["since"], syncs=doc["syncs"],
        assets_added=[AssetRef(**a) for a in assets["added"]], assets_removed=[AssetRef(**a) for a in assets["removed"]],
        assets_changed=[ChangedAsset(type=a["type"], id=a["id"], properties=[
            PropertyChange(name=p, before_json=json.dumps(v["before"]), after_json=json.dumps(v["after"]))
            for p, v in a["properties"].items()]) for a in assets["changed"]],
        findings_new=findings(doc["findings"]["new"]), findings_resolved=findings(doc["findings"]["resolved"]),
        findings_regressed=findings(doc["findings"]["regressed"]),
        paths_new=paths(doc["attack_paths"]["new"]), paths_removed=paths(doc["attack_paths"]["removed"]),
        exposure=[ExposureChange(type=e["type"], id=e["id"], property=e["property"],
                                 before_json=json.dumps(e["before"]), after_json=json.dumps(e["after"]))
                  for e in doc["exposure"]],
    )


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
