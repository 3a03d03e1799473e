"""The full catalog over the generated 100k-asset account, set-based (one query per item) vs a
per-asset baseline (the same evaluation query pinned to one asset), measured in the same run."""

from __future__ import annotations

import random
import time
from typing import Any

from common import driver, ensure_account, record

PER_ASSET_SAMPLE = 400


class MeteredPlan:
    """Pay-as-you-go with CSPM on Ultimate: every item runs; debits are real ledger writes."""

    def __init__(self, d: Any, account: str):
        from backend import billing
        from backend.entitlements import PlanBiller

        self.inner = PlanBiller(billing.load_plan(d, account), "bench")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def main() -> None:
    from checks.catalog import CATALOG
    from checks.scan import evaluate_rows, run_items

    d = driver()
    account = ensure_account(d)
    started = time.perf_counter()
    report = run_items(d, account, CATALOG, MeteredPlan(d, account), who="bench")
    scan_seconds = time.perf_counter() - started
    by_id = {item.id: item for item in CATALOG}
    pairs = [(by_id[r.check_id], r.asset_id) for r in report.results]
    rng = random.Random(1)
    sample = rng.sample(pairs, min(PER_ASSET_SAMPLE, len(pairs)))
    started = time.perf_counter()
    for item, asset_id in sample:
        rows = d.execute_query(item.evaluation_query(one_asset=True), account_id=account, asset_id=asset_id,
                               routing_="r").records
        evaluate_rows(item, [dict(r) for r in rows], True, set())
    per_asset_seconds = time.perf_counter() - started
    per_asset_total = per_asset_seconds / len(sample) * len(pairs)
    record("scan", {
        "items": len(CATALOG),
        "results": len(report.results),
        "scan_seconds": round(scan_seconds, 2),
        "results_per_second": round(len(report.results) / scan_seconds),
        "per_asset_baseline_sample": len(sample),
        "per_asset_baseline_seconds_extrapolated": round(per_asset_total, 1),
        "speedup_vs_per_asset": round(per_asset_total / scan_seconds, 1),
        "authorizations_consumed": report.authorizations_consumed,
        "targets": {"scan_seconds": 30, "speedup_vs_per_asset": 20},
    })


if __name__ == "__main__":
    main()
