"""Celery app: scheduled ingest + scan (beat) and on-demand scans from the API (Redis broker)."""

from __future__ import annotations

import json
import os
from typing import Any

from celery import Celery

from backend.settings import redis_url

celery_app = Celery("skypath", broker=redis_url(), backend=redis_url())
celery_app.conf.update(
    task_serializer="json", result_serializer="json", accept_content=["json"], task_acks_late=True,
    worker_prefetch_multiplier=1, result_expires=24 * 3600, timezone="UTC",
)


def _schedule() -> dict[str, Any]:
    """SKYPATH_SCHEDULE: JSON list of {"account": ID, "snapshot": PATH | "profile": NAME, "every_minutes": N}."""
    raw = os.environ.get("SKYPATH_SCHEDULE", "[]")
    try:
        entries = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ValueError(f"SKYPATH_SCHEDULE is not valid JSON: {exc}") from exc
    beat: dict[str, Any] = {}
    for i, entry in enumerate(entries):
        beat[f"sync-{i}-{entry.get('account')}"] = {
            "task": "skypath.sync_and_scan",
            "schedule": float(entry.get("every_minutes", 360)) * 60,
            "args": [entry],
        }
    return beat


celery_app.conf.beat_schedule = _schedule()


@celery_app.task(name="skypath.sync_and_scan")
def sync_and_scan(entry: dict[str, Any]) -> dict[str, Any]:
    from backend import billing
    from backend.entitlements import PlanBiller
    from backend.ingest import ingest_snapshot, ingest_transport
    from backend.runtime import get_driver
    from checks.catalog import CATALOG
    from checks.scan import run_items

    driver = get_driver()
    if entry.get("snapshot"):
        result = ingest_snapshot(driver, entry["snapshot"])
    else:
        from loaders.transport_live import LiveTransport

        result = ingest_transport(driver, LiveTransport.from_profile(entry["profile"], account_id=entry.get("account")))
    account = result.account_id
    billing.require_activation(driver, account, CATALOG)
    report = run_items(driver, account, CATALOG, PlanBiller(billing.load_plan(driver, account), "scheduler"),
                       who="scheduler")
    return {"account_id": account, "sync_id": result.sync_id, "scan_id": report.scan_id, "status": report.status}


@celery_app.task(name="skypath.scan")
def scan_task(account_id: str, check_ids: list[str] | None, who: str, package: str | None = None,
              scan_id: str | None = None, policy: str | None = None) -> dict[str, Any]:
    """A scan queued by the API: the same selection (items, package, policy) and the scan id the caller polls."""
    from backend import billing
    from backend.entitlements import PlanBiller
    from backend.runtime import get_driver
    from checks.packages import select_items
    from checks.scan import run_items

    driver = get_driver()
    items = select_items(driver, account_id, check_ids, package, policy)
    billing.require_activation(driver, account_id, items)
    report = run_items(driver, account_id, items, PlanBiller(billing.load_plan(driver, account_id), who), who=who,
                       scan_id=scan_id)
    return {"scan_id": report.scan_id, "status": report.status, "authorizations_consumed": report.authorizations_consumed}
