"""The scan engine: one set-based evaluation query per check item over the whole account.

Order of statuses for an (item, asset) pair: NOT_SUPPORTED (region/product/version limitation) →
WHITELIST → NOT_CHECK (no entitlement, quota gone, data missing or denied) → PASS / NOT_PASS.
Billing is injected (`Biller`), so this engine has no billing rules of its own: it asks whether an
item may run and what it costs, and has the quota debited in the same transaction that records
the results.
"""

from __future__ import annotations

import uuid
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import neo4j
from neo4j import Driver, ManagedTransaction

from checks.cypher_guard import CypherRefused, run_tenant_read, validate_read_only
from checks.model import CheckItem
from graph_schema.store import IdentifierError, checked_id

PASS, NOT_PASS, NOT_CHECK, WHITELIST, NOT_SUPPORTED = "PASS", "NOT_PASS", "NOT_CHECK", "WHITELIST", "NOT_SUPPORTED"
STATUSES = (PASS, NOT_PASS, NOT_CHECK, WHITELIST, NOT_SUPPORTED)
BILLABLE = (PASS, NOT_PASS)
CUSTOM_ITEM_TIMEOUT_SECONDS = 20.0  # one custom item's query in a scan (server-side transaction timeout)
# why a result is NOT_CHECK; the billing ones are skips, not news: findings keep the last decided status
QUOTA_EXHAUSTED = "quota exhausted — not re-checked"
NOT_COLLECTED = "the data it needs was not collected"
UNDECIDABLE = "the collected data does not decide it"


class ScanError(RuntimeError):
    pass


class Entitlement(Protocol):
    @property
    def allowed(self) -> bool: ...

    @property
    def cost(self) -> int: ...

    @property
    def reason(self) -> str: ...


class Biller(Protocol):
    def decide(self, operation: str, item: CheckItem) -> Entitlement: ...

    def charge(self, tx: ManagedTransaction, operation: str, item: CheckItem, assets: list[str], scan_id: str) -> int:
        """Debit up to len(assets) authorizations; return how many were granted."""
        ...

    def charge_instances(self, tx: ManagedTransaction, instances: list[str], scan_id: str) -> None: ...


@dataclass
class Result:
    check_id: str
    asset_type: str
    asset_id: str
    region: str
    status: str
    severity: str
    tier: str
    reason: str | None = None  # NOT_CHECK only: why it was not decided
    skipped: bool = False  # not run for billing (plan or quota): the last decided status still stands

    def as_dict(self) -> dict[str, Any]:
        doc = {"check_id": self.check_id, "asset_type": self.asset_type, "asset_id": self.asset_id,
               "region": self.region, "status": self.status, "severity": self.severity, "tier": self.tier}
        if self.reason:
            doc["reason"] = self.reason
        return doc


@dataclass
class ScanReport:
    account_id: str
    scan_id: str
    status: str = "completed"
    authorizations_consumed: int = 0
    results: list[Result] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "account_id": self.account_id,
            "scan_id": self.scan_id,
            "status": self.status,
            "authorizations_consumed": self.authorizations_consumed,
            "results": [r.as_dict() for r in self.results],
        }

    def summary(self) -> dict[str, int]:
        counts = dict.fromkeys(STATUSES, 0)
        for r in self.results:
            counts[r.status] += 1
        return counts


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def new_scan_id(operation: str = "scan") -> str:
    return f"{operation}-{uuid.uuid4().hex[:16]}"


def account_exists(driver: Driver, account_id: str) -> bool:
    with driver.session() as session:
        rec = session.run("MATCH (a:Account {uid: $uid}) RETURN a.current_sync AS s", uid=f"{account_id}:{account_id}").single()
    return rec is not None


def whitelist_set(driver: Driver, account_id: str) -> set[tuple[str, str]]:
    with driver.session() as session:
        rows = session.run(
            "MATCH (w:Whitelist {account_id: $account}) RETURN w.check_id AS c, w.asset_id AS a", account=account_id
        ).data()
    return {(r["c"], r["a"]) for r in rows}


def evaluate_rows(item: CheckItem, rows: Sequence[dict[str, Any]], allowed: bool,
                  whitelist: set[tuple[str, str]], refused: str = "not allowed on this plan") -> list[Result]:
    """Pure: turn the item's evaluation rows into statuses (before billing); `refused` says why a
    not-allowed item is NOT_CHECK."""
    out = []
    for row in rows:
        reason = None
        if not row["supported"] or item.id in (row.get("unsupported") or []):
            status = NOT_SUPPORTED
        elif (item.id, row["asset_id"]) in whitelist:
            status = WHITELIST
        elif not allowed:
            status, reason = NOT_CHECK, refused
        elif not row["collected"] or row["fails"] is None:
            # a custom item that failed or timed out says why in its note
            status, reason = NOT_CHECK, row.get("note") or (NOT_COLLECTED if not row["collected"] else UNDECIDABLE)
        else:
            status = NOT_PASS if row["fails"] else PASS
        out.append(Result(item.id, item.asset_type, str(row["asset_id"]), str(row.get("region") or "global"),
                          status, item.severity, item.tier, reason, skipped=not allowed and status == NOT_CHECK))
    out.sort(key=lambda r: r.asset_id)
    return out


def _plain_rows(result: neo4j.Result) -> list[dict[str, Any]]:
    """Rows of scalars and lists as dicts: 40 % cheaper than `Result.data()`, which walks every value for
    graph types the evaluation queries never return."""
    keys = result.keys()
    return [dict(zip(keys, values, strict=True)) for values in result.values()]


def _read_rows(driver: Driver, item: CheckItem, account_id: str, asset_id: str | None) -> list[dict[str, Any]]:
    params: dict[str, Any] = {"account_id": account_id, "asset_id": asset_id}
    with driver.session() as session:
        if asset_id is None:
            groups = session.execute_read(lambda tx: _plain_rows(tx.run(item.grouped_evaluation_query(), params)))
            rows = [{"asset_id": one, **facts} for facts in groups for one in facts.pop("asset_ids")]
        else:
            query = item.evaluation_query(one_asset=True)
            rows = session.execute_read(lambda tx: _plain_rows(tx.run(query, params)))
    if item.custom_query:
        failing = _custom_failing(driver, item.custom_query, account_id)
        for row in rows:
            if isinstance(failing, str):
                row["collected"], row["fails"], row["note"] = True, None, f"{item.id}: not checked, {failing}"
            else:
                row["collected"], row["fails"] = True, row["asset_id"] in failing
    return rows


def _custom_failing(driver: Driver, query: str, account_id: str,
                    timeout: float = CUSTOM_ITEM_TIMEOUT_SECONDS) -> set[str] | str:
    """A custom item's logic is the user's read-only query: its asset_ids fail, the rest pass. Checked again as
    it runs (stored once is not trusted forever) and run once with a time limit; a query that is refused,
    fails or times out is the reason its results are NOT_CHECK, and the scan goes on."""
    try:
        validate_read_only(driver, query)
        return run_tenant_read(driver, query, account_id, timeout,
                               lambda result: {r.get("asset_id") for r in result if isinstance(r.get("asset_id"), str)})
    except CypherRefused as exc:
        return str(exc)


READ_AHEAD = 2


def _read_ahead(driver: Driver, items: Sequence[CheckItem], account_id: str,
                asset_id: str | None) -> Iterator[tuple[CheckItem, list[dict[str, Any]]]]:
    """Each item's evaluation rows, in order, read up to READ_AHEAD items ahead on other sessions: the server
    evaluates the next items while this one is billed and written (the reads see only assets, which a scan
    never writes; billing and statuses stay strictly in item order)."""
    with ThreadPoolExecutor(max_workers=READ_AHEAD, thread_name_prefix="scan-read") as pool:
        pending = deque(pool.submit(_read_rows, driver, item, account_id, asset_id) for item in items[:READ_AHEAD])
        for n, item in enumerate(items):
            rows = pending.popleft().result()
            if n + READ_AHEAD < len(items):
                pending.append(pool.submit(_read_rows, driver, items[n + READ_AHEAD], account_id, asset_id))
            yield item, rows


def run_items(
    driver: Driver,
    account_id: str,
    items: Sequence[CheckItem],
    biller: Biller,
    *,
    operation: str = "scan",
    asset_id: str | None = None,
    who: str = "cli",
    scan_id: str | None = None,
    progress: Callable[[CheckItem, list[Result]], None] | None = None,
) -> ScanReport:
    """Run the items; `progress` is told each item's results as they are recorded."""
    if not account_exists(driver, account_id):
        raise ScanError(f"account {account_id} is not loaded: run `skypath ingest --snapshot FILE` first")
    report = ScanReport(account_id, scan_id or new_scan_id(operation))
    whitelist = whitelist_set(driver, account_id)
    decisions = {item.id: biller.decide(operation, item) for item in items}
    # billable items first: when a subscription runs dry, the scan stops and everything after is NOT_CHECK
    ordered = sorted(items, key=lambda i: (0 if decisions[i.id].allowed and decisions[i.id].cost > 0 else 1, i.id))
    with driver.session() as session:
        session.run(
            # MERGE: a queued scan (API, Celery) already has its node, with the id the caller polls
            "MERGE (s:Scan {account_id: $account, id: $id}) "
            "SET s.operation = $op, s.status = 'running', s.started = $now, s.who = $who, s.items = $items",
            id=report.scan_id, account=account_id, op=operation, now=_now(), who=who, items=[i.id for i in items],
        ).consume()
    exhausted = False
    scanned_instances: set[str] = set()
    for item, rows in _read_ahead(driver, ordered, account_id, asset_id):
        decision = decisions[item.id]
        results = evaluate_rows(item, rows, decision.allowed and not exhausted, whitelist,
                                decision.reason if not decision.allowed else QUOTA_EXHAUSTED)
        report.notes.extend(sorted({row["note"] for row in rows if row.get("note")}))
        if asset_id is not None and not results:
            raise ScanError(f"asset {asset_id} is not in the population of {item.id} for account {account_id}")
        billable = [r for r in results if r.status in BILLABLE]
        original = [r.status for r in billable]

        def record(tx: ManagedTransaction, results: list[Result] = results, billable: list[Result] = billable,
                   item: CheckItem = item, cost: int = decision.cost, original: list[str] = original) -> int:
            # a retried transaction starts from the evaluated statuses again
            for r, status in zip(billable, original, strict=True):
                r.status, r.reason, r.skipped = status, None, False
            granted = len(billable)
            if cost > 0 and billable:
                granted = biller.charge(tx, operation, item, [r.asset_id for r in billable], report.scan_id)
                for r in billable[granted:]:
                    r.status, r.reason, r.skipped = NOT_CHECK, QUOTA_EXHAUSTED, True
            if billable and operation != "remediate":
                biller.charge_instances(tx, [r.asset_id for r in billable[:granted]], report.scan_id)
            _write_run(tx, account_id, report.scan_id, operation, item, results)
            return granted if cost > 0 else 0

        with driver.session() as session:
            granted = session.execute_write(record)
        report.authorizations_consumed += granted
        if decision.cost > 0 and granted < len(billable):
            exhausted = True
            report.status = "quota_exhausted"
        scanned_instances.update(r.asset_id for r in results if r.status in BILLABLE)
        report.results.extend(results)
        if progress is not None:
            progress(item, results)
    report.results.sort(key=lambda r: (r.check_id, r.asset_id))
    with driver.session() as session:
        session.run(
            "MATCH (s:Scan {id: $id}) SET s.status = $status, s.finished = $now, s.authorizations = $auth, "
            "s.summary = $summary",
            id=report.scan_id, status=report.status, now=_now(), auth=report.authorizations_consumed,
            summary=[f"{k}={v}" for k, v in report.summary().items()],
        ).consume()
    return report


def _write_run(tx: ManagedTransaction, account_id: str, scan_id: str, operation: str, item: CheckItem,
               results: list[Result]) -> None:
    """One CheckRun per (scan, item) with parallel lists, merged into the item's latest state.

    The state keeps, beside each asset's latest status, its last decided status (PASS / NOT_PASS) and when:
    a result skipped for billing (plan or quota) keeps it, so `findings` still shows what is known, marked stale."""
    now = _now()
    ids = [r.asset_id for r in results]
    statuses = [r.status for r in results]
    regions = [r.region for r in results]
    reasons = [r.reason or "" for r in results]
    tx.run(
        "MATCH (s:Scan {id: $scan}) "
        "CREATE (s)-[:HAS_RUN]->(:CheckRun {account_id: $account, scan_id: $scan, check_id: $check, at: $now, "
        "operation: $op, asset_ids: $ids, statuses: $statuses, regions: $regions, reasons: $reasons})",
        scan=scan_id, account=account_id, check=item.id, now=now, op=operation, ids=ids, statuses=statuses,
        regions=regions, reasons=reasons,
    ).consume()
    rec = tx.run(
        # one node per (account, item) (uid unique); locked before it is read, so a concurrent scan or verify
        # of the same item merges into what this one writes instead of overwriting it with a stale read
        "MERGE (st:ItemState {uid: $uid}) ON CREATE SET st.account_id = $account, st.check_id = $check, "
        "st.asset_ids = [], st.statuses = [], st.regions = [], st.first_seen = [], st.last_seen = [], st.scan_ids = [] "
        "SET st._lock = true RETURN st.asset_ids AS ids, st.statuses AS statuses, st.regions AS regions, "
        "st.first_seen AS first, st.last_seen AS last, st.scan_ids AS scans, st.reasons AS reasons, "
        "st.decided AS decided, st.decided_at AS decided_at",
        uid=f"{account_id}:{item.id}", account=account_id, check=item.id,
    ).single()
    assert rec is not None
    state = {a: list(row) for a, row in zip(rec["ids"], _state_rows(dict(rec)), strict=True)}
    for r in results:
        old = state.get(r.asset_id)
        first = old[2] if old and old[0] == r.status else now
        if r.status in BILLABLE:
            decided, decided_at = r.status, now
        elif r.skipped and old:
            decided, decided_at = old[6], old[7]
        else:
            decided, decided_at = "", ""
        state[r.asset_id] = [r.status, r.region, first, now, scan_id, r.reason or "", decided, decided_at]
    if operation == "scan":
        # a full scan defines the population: assets no longer in it drop out of the latest state
        population = set(ids)
        state = {a: v for a, v in state.items() if a in population}
    keys = sorted(state)
    columns = list(zip(*(state[k] for k in keys), strict=True)) if keys else [()] * 8
    tx.run(
        "MATCH (st:ItemState {uid: $uid}) SET st.asset_ids = $ids, st.statuses = $statuses, st.regions = $regions, "
        "st.first_seen = $first, st.last_seen = $last, st.scan_ids = $scans, st.reasons = $reasons, "
        "st.decided = $decided, st.decided_at = $decided_at, st.updated = $now",
        uid=f"{account_id}:{item.id}", ids=keys, statuses=list(columns[0]), regions=list(columns[1]),
        first=list(columns[2]), last=list(columns[3]), scans=list(columns[4]), reasons=list(columns[5]),
        decided=list(columns[6]), decided_at=list(columns[7]), now=now,
    ).consume()


STATE_COLUMNS = ("statuses", "regions", "first", "last", "scans", "reasons", "decided", "decided_at")


def _state_rows(row: dict[str, Any]) -> list[tuple[Any, ...]]:
    """An ItemState's parallel lists as one tuple per asset (states written before reasons and decided
    statuses were kept have none: empty strings)."""
    n = len(row["ids"])
    cols = [row.get(c) or [""] * n for c in STATE_COLUMNS]
    return [state_row(t) for t in zip(*cols, strict=True)] if n else []


def state_row(cols: tuple[Any, ...]) -> tuple[Any, ...]:
    """One asset's state columns (STATE_COLUMNS order); a decided latest status is its own last decided one."""
    return (*cols[:6], cols[0], cols[3]) if cols[0] in BILLABLE else cols


def finding(item: CheckItem | None, check_id: str, asset_id: str, cols: tuple[Any, ...]) -> dict[str, Any]:
    """One latest result. A NOT_CHECK that was a billing skip (plan or quota) shows the last decided status,
    `stale`: not re-checked by the latest scan, with `checked_status` and `reason` saying what that scan did."""
    status, region, first, last, scan, reason, decided, decided_at = cols
    doc = {"check_id": check_id, "asset_type": item.asset_type if item else "", "asset_id": asset_id,
           "region": region, "status": status, "severity": item.severity if item else "",
           "tier": item.tier if item else "", "first_seen": first, "last_seen": last, "scan_id": scan,
           "stale": False}
    if status == NOT_CHECK and decided:
        doc.update(status=decided, stale=True, checked_status=NOT_CHECK, decided_at=decided_at)
    if reason:
        doc["reason"] = reason
    return doc


def latest_findings(driver: Driver, account_id: str, items: dict[str, CheckItem]) -> list[dict[str, Any]]:
    with driver.session() as session:
        result = session.run(
            "MATCH (st:ItemState {account_id: $account}) RETURN st.check_id AS check_id, st.asset_ids AS ids, "
            "st.statuses AS statuses, st.regions AS regions, st.first_seen AS first, st.last_seen AS last, "
            "st.scan_ids AS scans, st.reasons AS reasons, st.decided AS decided, st.decided_at AS decided_at "
            "ORDER BY check_id",
            account=account_id,
        )
        # dict(record), not .data(): the values are lists of strings already, and .data()'s recursive copy of
        # ~9M of them was half of a 100k account's first findings page (2.9 of 5.6 s)
        rows = [dict(record) for record in result]
    return [finding(items.get(row["check_id"]), row["check_id"], a, cols)
            for row in rows for a, cols in zip(row["ids"], _state_rows(row), strict=True)]


def whitelist_add(driver: Driver, account_id: str, check_id: str, asset_id: str, reason: str, who: str) -> dict[str, Any]:
    if not reason.strip():
        raise ScanError("a whitelist entry needs a reason")
    try:  # the entry's uid holds the asset id: an index key has a size limit
        checked_id("asset", asset_id)
    except IdentifierError as exc:
        raise ScanError(str(exc)) from exc
    with driver.session() as session:
        rec = session.run(
            "MERGE (w:Whitelist {uid: $uid}) SET w.account_id = $account, w.check_id = $check, w.asset_id = $asset, "
            "w.reason = $reason, w.who = $who, w.at = $now "
            "CREATE (:AuditEntry {account_id: $account, at: datetime(), who: $who, action: 'whitelist.add', "
            "detail: $check + ' ' + $asset + ': ' + $reason}) RETURN w {.*} AS w",
            uid=f"{account_id}:{check_id}:{asset_id}", account=account_id, check=check_id, asset=asset_id,
            reason=reason, who=who, now=_now(),
        ).single()
    assert rec is not None
    entry = dict(rec["w"])
    entry.pop("uid", None)
    return entry


def whitelist_remove(driver: Driver, account_id: str, check_id: str, asset_id: str, who: str) -> bool:
    with driver.session() as session:
        rec = session.run(
            "OPTIONAL MATCH (w:Whitelist {uid: $uid}) WITH w, w IS NOT NULL AS existed DETACH DELETE w "
            "CREATE (:AuditEntry {account_id: $account, at: datetime(), who: $who, action: 'whitelist.remove', "
            "detail: $check + ' ' + $asset}) RETURN existed",
            uid=f"{account_id}:{check_id}:{asset_id}", account=account_id, check=check_id, asset=asset_id, who=who,
        ).single()
    return bool(rec and rec["existed"])
