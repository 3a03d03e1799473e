"""Editions, plans and authorizations (spec/billing.md) as one table of data plus one decision function.

`decide(plan, operation, item)` answers "may this plan run operation O of item I, and what does it
cost (authorizations)?". Scan, verify, remediate and paths all ask it; none of them has billing ifs.
Quota debits happen inside the transaction that records the operation (see `debit`), serialised on
the account's Plan node, so concurrent scans can never overspend.

Quota periods (the spec is silent on quota changes; this is the rule): every `set_plan` starts a new
period (`Plan.period`, quota_used 0) unless it changes an *active* subscription into a subscription —
then the period, and what it consumed, carry on: `--quota` omitted keeps the total, and a `--quota`
below the authorizations already used in the period is refused, so quota_used never exceeds
quota_total. Every ledger entry carries its period, and the ledger entries of the current period sum
to quota_used (`ledger_total`). Expiry zeroes the remaining quota (quota_total drops to quota_used).
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from neo4j import Driver, ManagedTransaction

from checks.model import CheckItem
from graph_schema.model import ASSET_LABELS
from loaders import inputs

MODELS = ("free", "subscription", "payg", "trial", "per-instance")
EDITIONS = ("free", "anti-virus", "advanced", "enterprise", "ultimate", "value-added")
OPERATIONS = ("scan", "verify", "remediate", "paths")
TRIAL_DAYS = 7
PER_INSTANCE_USD_DAY = 0.0732
PER_INSTANCE_USD_MONTH = 1.46
RECOMMENDED_QUOTA_PER_INSTANCE = 20
LEGACY_CUTOFF = date(2023, 7, 7)
LEDGER_MAX_PAGE = 10_000

# Baseline categories each edition includes (nothing consumed). Trial = Enterprise.
EDITION_BASELINE: dict[str, frozenset[str] | None] = {
    "advanced": frozenset({"weak_password"}),
    "enterprise": frozenset({"weak_password", "account", "ssh", "password_policy", "file", "patch"}),
    "ultimate": frozenset({"weak_password", "account", "ssh", "password_policy", "file", "patch", "container"}),
}
# Editions whose baseline items come only through CSPM, one authorization per operation: the spec's one
# CSPM-metered baseline row is "anti-virus / value-added edition with CSPM". The free edition is not in
# that row, so free edition + CSPM gets no baseline items (the "no edition that includes them" row):
# CSPM adds cloud items and paths to it, not host baselines.
CSPM_METERED_BASELINE_EDITIONS = frozenset({"anti-virus", "value-added"})
SERVICE_LINKED_ROLE = "AliyunServiceRoleForSasCspm"


class BillingError(ValueError):
    pass


class ActivationError(BillingError):
    """Cloud items on an account without the CSPM service-linked role."""


@dataclass
class Plan:
    account_id: str
    model: str = "free"
    edition: str = "free"
    cspm: bool = False
    quota_total: int = 0
    quota_used: int = 0
    expires: str | None = None
    legacy_free: bool = False
    started: str | None = None
    period: str | None = None  # the quota period the ledger entries belong to (see the module docstring)

    @property
    def expired(self) -> bool:
        if not self.expires:
            return False
        try:
            when = inputs.iso_moment(inputs.iso_date(self.expires, "expires"))
        except inputs.InputError:
            return True  # fail closed: a date written before dates were parsed strictly, and unreadable
        return when <= datetime.now(UTC)

    @property
    def cspm_active(self) -> bool:
        """CSPM bought (subscription quota, payg switch, per-instance) or the trial, and not expired."""
        if self.expired:
            return False
        if self.model == "trial":
            return True
        if self.model == "per-instance":
            return True
        return self.cspm and self.model in ("subscription", "payg")

    @property
    def metered_by_quota(self) -> bool:
        return self.model == "subscription" and self.cspm_active

    @property
    def effective_edition(self) -> str:
        if self.expired:
            return "free"
        return "enterprise" if self.model == "trial" else self.edition

    @property
    def quota_remaining(self) -> int:
        return max(0, self.quota_total - self.quota_used)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    cost: int  # authorizations per asset for a successful (PASS/NOT_PASS) operation
    reason: str = ""
    enabled_by: str = ""  # the plan that would allow a refused operation


# The cloud-item table of billing.md: (cspm?, tier, operation) → (allowed, cost).
CLOUD_RULES: dict[tuple[bool, str, str], tuple[bool, int]] = {
    (False, "free", "scan"): (True, 0),
    (False, "free", "verify"): (True, 0),
    (False, "free", "remediate"): (False, 0),
    (False, "paid", "scan"): (False, 0),
    (False, "paid", "verify"): (False, 0),
    (False, "paid", "remediate"): (False, 0),
    (True, "free", "scan"): (True, 0),
    (True, "free", "verify"): (True, 0),
    (True, "free", "remediate"): (True, 1),
    (True, "paid", "scan"): (True, 1),
    (True, "paid", "verify"): (True, 1),
    (True, "paid", "remediate"): (True, 1),
}


def decide(plan: Plan, operation: str, item: CheckItem | None = None) -> Decision:
    if operation not in OPERATIONS:
        raise BillingError(f"unknown operation {operation!r}")
    if operation == "paths":
        if plan.cspm_active:
            return Decision(True, 0)
        return Decision(False, 0, "attack path analysis needs CSPM", "CSPM (subscription or pay-as-you-go) or the trial")
    assert item is not None
    if item.kind == "baseline":
        return _decide_baseline(plan, operation, item)
    cspm = plan.cspm_active
    # a legacy-free account keeps the free items of its edition (until the edition expires): for it such an
    # item is a free item — with or without CSPM — so scanning it costs nothing
    legacy = _legacy_free(plan, item)
    tier = "free" if legacy else item.tier
    allowed, cost = CLOUD_RULES[(cspm, tier, operation)]
    if plan.model == "per-instance":
        cost = 0  # billed per scanned instance per day instead
    if not allowed:
        # the scan's NOT_CHECK reason says it short: "paid item — needs CSPM"
        return Decision(False, 0, f"{tier} item — needs CSPM" if operation != "remediate"
                        else f"remediation of {tier} item {item.id} needs CSPM",
                        "CSPM (subscription with quota, or pay-as-you-go) or the 7-day trial")
    if item.kspm and plan.effective_edition != "ultimate":
        return Decision(False, 0, f"{operation} of container (KSPM) item {item.id} needs the Ultimate edition "
                        f"with CSPM (the account has {plan.effective_edition})", "the Ultimate edition with CSPM")
    return Decision(True, cost, f"legacy free item of the {plan.effective_edition} edition" if legacy else "")


def _legacy_free(plan: Plan, item: CheckItem) -> bool:
    return plan.legacy_free and not plan.expired and plan.effective_edition in item.legacy_free_editions


def _decide_baseline(plan: Plan, operation: str, item: CheckItem) -> Decision:
    edition = plan.effective_edition
    included = EDITION_BASELINE.get(edition)
    if included is not None:
        if item.category in included:
            return Decision(True, 0, f"included in the {edition} edition")
        return Decision(False, 0, f"baseline category {item.category} is not in the {edition} edition",
                        "the Ultimate edition" if item.category == "container" else "the Enterprise or Ultimate edition")
    if edition in CSPM_METERED_BASELINE_EDITIONS and plan.cspm_active:
        cost = 0 if plan.model == "per-instance" else 1
        return Decision(True, cost, "baseline through CSPM")
    if edition in CSPM_METERED_BASELINE_EDITIONS:
        return Decision(False, 0, f"baseline items are not included in the {edition} edition without CSPM",
                        "the Advanced/Enterprise/Ultimate edition, or CSPM")
    return Decision(False, 0, f"baseline items are not included in the {edition} edition"
                    + (" (CSPM adds cloud items, not host baselines)" if plan.cspm_active else ""),
                    "the Advanced/Enterprise/Ultimate edition, or an Anti-virus/Value-added edition with CSPM")


# ---------------------------------------------------------------- activation

def require_activation(driver: Driver, account_id: str, items: Any) -> None:
    """The one activation rule (spec/billing.md, Activation), asked by every entry point that runs items:
    cloud items need the service-linked role AliyunServiceRoleForSasCspm among the account's RAM roles;
    baseline items do not. An account whose RAM roles were not collected is not refused here (its RAM
    items report NOT_CHECK); an account that is not loaded is left to the caller's own error."""
    if not any(getattr(i, "kind", "cloud") == "cloud" for i in items):
        return
    with driver.session() as session:
        rec = session.run("MATCH (a:Account {uid: $uid}) RETURN a.cspm_role_present AS p, a.ram_collected AS r",
                          uid=f"{account_id}:{account_id}").single()
    if rec is not None and rec["r"] and not rec["p"]:
        raise ActivationError(
            f"account {account_id} has not authorized CSPM: the service-linked role {SERVICE_LINKED_ROLE} is "
            f"missing. Run `skypath activate --account {account_id} --live` (CreateServiceLinkedRole), or run "
            "baseline items only (--package CIS_ALIBABA_CLOUD_LINUX_3)"
        )


def recommended_quota(instances: int) -> int:
    return instances * RECOMMENDED_QUOTA_PER_INSTANCE


# ---------------------------------------------------------------- persistence (the Plan node)

def plan_uid(account_id: str) -> str:
    return f"{account_id}:plan"


def load_plan(driver: Driver, account_id: str) -> Plan:
    with driver.session() as session:
        rec = session.run("MATCH (p:Plan {uid: $uid}) RETURN p", uid=plan_uid(account_id)).single()
    if rec is None:
        return Plan(account_id)
    return _plan_from(dict(rec["p"]), account_id)


def _plan_from(props: dict[str, Any], account_id: str) -> Plan:
    fields = {k: props[k] for k in Plan.__dataclass_fields__ if k in props}
    fields["account_id"] = account_id
    plan = Plan(**fields)
    if plan.expired and plan.model == "subscription" and plan.quota_total:
        # quota resets to zero on expiry and cannot be transferred
        plan.quota_total = plan.quota_used
    return plan


def set_plan(
    driver: Driver,
    account_id: str,
    *,
    model: str,
    edition: str | None = None,
    cspm: bool = False,
    quota: int | None = None,
    expires: str | None = None,
    legacy_free: bool = False,
    who: str = "cli",
) -> Plan:
    """Set the account's plan. Quota periods: see the module docstring.

    The current plan is read under its write lock, in the transaction that writes the new one: a scan
    debiting meanwhile waits, so what it consumed is carried on, never overwritten by a stale read."""
    if model not in MODELS:
        raise BillingError(f"--model must be one of {', '.join(MODELS)}; got {model!r}")
    if edition is not None and edition not in EDITIONS:
        raise BillingError(f"--edition must be one of {', '.join(EDITIONS)}; got {edition!r}")
    if quota is not None and not 0 <= quota <= inputs.INT64:
        raise BillingError(f"--quota must be zero or more, and at most {inputs.INT64}")
    try:
        account_id = inputs.account_id(account_id, "--account")
        if expires is not None:
            expires = inputs.iso_date(expires, "--expires")
    except inputs.InputError as exc:
        raise BillingError(str(exc)) from exc

    def write(tx: ManagedTransaction) -> Plan:
        new = _next_plan(lock_plan(tx, account_id), model=model, edition=edition, cspm=cspm, quota=quota,
                         expires=expires, legacy_free=legacy_free)
        _write_plan(tx, new, who)
        return new

    with driver.session() as session:
        return session.execute_write(write)


def _next_plan(current: Plan, *, model: str, edition: str | None, cspm: bool, quota: int | None,
               expires: str | None, legacy_free: bool) -> Plan:
    """The plan `set_plan` writes, from the current (locked) one."""
    account_id = current.account_id
    active_subscription = current.model == "subscription" and not current.expired
    if active_subscription and model == "payg":
        raise BillingError(
            "switching a subscription directly to pay-as-you-go is refused while the subscription is active "
            f"(expires {current.expires or 'never'}); unsubscribe (`skypath billing set --account {account_id} "
            "--model free`) or let it expire first (its unused quota is then reset to zero)"
        )
    now = datetime.now(UTC)
    stamp = now.isoformat().replace("+00:00", "Z")
    if model == "trial":
        edition = "enterprise"
        expires = expires or (now + timedelta(days=TRIAL_DAYS)).isoformat().replace("+00:00", "Z")
        cspm = True
    if model == "payg" and edition is None:
        edition = "enterprise"
    if model == "free":
        edition = edition or "free"
        cspm = False
    if model == "per-instance":
        cspm = True
    new = Plan(
        account_id=account_id, model=model, edition=edition or current.edition or "free", cspm=cspm,
        quota_total=int(quota or 0) if model == "subscription" else 0,
        quota_used=0, expires=expires, legacy_free=legacy_free, started=stamp, period=f"{stamp}-{uuid.uuid4().hex[:8]}",
    )
    if model == "subscription" and active_subscription:
        # changing an active subscription continues its quota period: what was consumed stays consumed
        if quota is None:
            new.quota_total = current.quota_total
        elif quota < current.quota_used:
            raise BillingError(
                f"--quota {quota} is below the {current.quota_used} authorizations already used in the current "
                f"subscription period (quota_used never exceeds quota_total); use --quota {current.quota_used} or more"
            )
        new.quota_used = current.quota_used
        new.period = current.period or new.period
        new.started = current.started or new.started
    return new


def _write_plan(tx: ManagedTransaction, plan: Plan, who: str) -> None:
    props = asdict(plan)
    tx.run(
        "MATCH (p:Plan {uid: $uid}) SET p += $props, p.account_id = $account "
        "CREATE (e:AuditEntry {account_id: $account, at: datetime(), who: $who, action: 'billing.set', detail: $detail})",
        uid=plan_uid(plan.account_id), props=props, account=plan.account_id, who=who, detail=str(props),
    ).consume()


def lock_plan(tx: ManagedTransaction, account_id: str) -> Plan:
    """Take the write lock on the account's Plan node for the rest of the transaction."""
    rec = tx.run(
        "MERGE (p:Plan {uid: $uid}) ON CREATE SET p.account_id = $account, p.model = 'free', p.edition = 'free', "
        "p.cspm = false, p.quota_total = 0, p.quota_used = 0 "
        "SET p._lock = coalesce(p._lock, 0) + 1 RETURN p",
        uid=plan_uid(account_id), account=account_id,
    ).single()
    assert rec is not None
    return _plan_from(dict(rec["p"]), account_id)


@dataclass
class Debit:
    granted: int
    amount_usd: float = 0.0


def debit(
    tx: ManagedTransaction,
    plan: Plan,
    *,
    operation: str,
    check_id: str,
    assets: list[str],
    scan_id: str,
    who: str,
    item: CheckItem | None = None,
) -> Debit:
    """Consume one authorization per asset in `assets` (`plan` read under its write lock, same transaction).

    The decision to bill was taken before the lock; it is checked again here: a plan that expired, lost
    CSPM or changed meanwhile grants nothing (the caller marks the pairs NOT_CHECK) — it never falls
    through to unmetered granting. Every positive cost comes from CSPM (see `decide`).
    Subscription: grants at most the remaining quota. Pay-as-you-go / trial: grants all, metered.
    """
    if not assets:
        return Debit(0)
    if not plan.cspm_active:
        return Debit(0)
    if item is not None:
        still = decide(plan, operation, item)
        if not still.allowed or still.cost <= 0:
            return Debit(0)
    granted = len(assets)
    if plan.metered_by_quota:
        granted = min(granted, plan.quota_remaining)
    plan.quota_used += granted
    if granted:
        tx.run(
            "MATCH (p:Plan {uid: $uid}) SET p.quota_used = $used "
            "CREATE (e:LedgerEntry {account_id: $account, at: datetime(), day: toString(date()), operation: $op, "
            "check_id: $check, assets: $assets, amount: $amount, scan_id: $scan, who: $who, model: $model, "
            "period: $period})",
            uid=plan_uid(plan.account_id), used=plan.quota_used, account=plan.account_id, op=operation,
            check=check_id, assets=assets[:granted], amount=granted, scan=scan_id, who=who, model=plan.model,
            period=plan.period,
        ).consume()
    return Debit(granted)


def record_instances(tx: ManagedTransaction, plan: Plan, instances: list[str], scan_id: str, who: str) -> float:
    """Per-instance plan: each distinct asset instance scanned today is billed once per day."""
    if plan.model != "per-instance" or not plan.cspm_active or not instances:
        return 0.0
    rec = tx.run(
        "MERGE (d:InstanceDay {uid: $uid}) ON CREATE SET d.account_id = $account, d.day = toString(date()), "
        "d.instances = [] "
        "WITH d, [i IN $instances WHERE NOT i IN d.instances] AS new "
        "SET d.instances = d.instances + new "
        "WITH d, new WHERE size(new) > 0 "
        "CREATE (e:LedgerEntry {account_id: $account, at: datetime(), day: d.day, operation: 'instance-day', "
        "check_id: '', assets: new, amount: size(new), scan_id: $scan, who: $who, model: 'per-instance', "
        "usd: size(new) * $price, period: $period}) RETURN size(new) AS n",
        uid=f"{plan.account_id}:{datetime.now(UTC).date().isoformat()}", account=plan.account_id,
        instances=sorted(set(instances)), scan=scan_id, who=who, price=PER_INSTANCE_USD_DAY, period=plan.period,
    ).single()
    return (int(rec["n"]) if rec else 0) * PER_INSTANCE_USD_DAY


def _asset_count_query() -> str:
    """Asset instances of an account: every label the graph schema marks as an asset (one index lookup each)."""
    return " UNION ALL ".join(
        f"MATCH (n:{label} {{account_id: $account}}) RETURN count(n) AS c" for label in sorted(ASSET_LABELS)
    )


def asset_instances(driver: Driver, account_id: str) -> int:
    with driver.session() as session:
        return sum(int(r["c"]) for r in session.run(_asset_count_query(), account=account_id).data())


SHOW_KEYS = ("model", "edition", "cspm", "quota_total", "quota_used", "quota_remaining", "expires", "usage",
             "recommended_quota")


def billing_show(driver: Driver, account_id: str) -> dict[str, Any]:
    """The `billing show --format json` document: exactly the keys of spec/billing.md (SHOW_KEYS).

    `usage.by_day` / `usage.by_item` cover the whole ledger; `usage.ledger_total` is the sum of the current
    quota period's entries, which equals quota_used."""
    plan = load_plan(driver, account_id)
    with driver.session() as session:
        by_day = session.run(
            "MATCH (e:LedgerEntry {account_id: $account}) RETURN e.day AS day, sum(e.amount) AS amount, "
            "sum(coalesce(e.usd, 0.0)) AS usd ORDER BY day",
            account=account_id,
        ).data()
        by_item = session.run(
            "MATCH (e:LedgerEntry {account_id: $account}) WHERE e.check_id <> '' "
            "RETURN e.check_id AS item, sum(e.amount) AS amount ORDER BY item",
            account=account_id,
        ).data()
    usage: dict[str, Any] = {
        "by_day": {r["day"]: r["amount"] for r in by_day},
        "by_item": {r["item"]: r["amount"] for r in by_item},
        "ledger_total": period_ledger_total(driver, account_id, plan.period),
    }
    if plan.model == "per-instance":
        usage["instances_by_day"] = {r["day"]: r["amount"] for r in by_day}
        usage["amount_usd"] = round(sum(r["usd"] for r in by_day), 4)
        usage["price_usd_per_instance_day"] = PER_INSTANCE_USD_DAY
        usage["price_usd_per_instance_month"] = PER_INSTANCE_USD_MONTH
    doc = {
        "model": plan.model,
        "edition": plan.effective_edition,
        "cspm": plan.cspm_active,
        "quota_total": plan.quota_total,
        "quota_used": plan.quota_used,
        "quota_remaining": plan.quota_remaining if plan.model == "subscription" else None,
        "expires": plan.expires,
        "usage": usage,
        "recommended_quota": recommended_quota(asset_instances(driver, account_id)),
    }
    assert tuple(doc) == SHOW_KEYS
    return doc


def billing_details(driver: Driver, account_id: str) -> dict[str, Any]:
    """For human output and the console: the spec document plus what it must not carry (account, legacy flag,
    quota period)."""
    plan = load_plan(driver, account_id)
    return {"account_id": account_id, **billing_show(driver, account_id), "legacy_free": plan.legacy_free,
            "period": plan.period}


def period_ledger_total(driver: Driver, account_id: str, period: str | None) -> int:
    """Authorizations the ledger records for one quota period (per-instance day entries are amounts of instances,
    not authorizations)."""
    with driver.session() as session:
        rec = session.run(
            "MATCH (e:LedgerEntry {account_id: $account}) WHERE e.operation <> 'instance-day' "
            "AND coalesce(e.period, '') = coalesce($period, '') RETURN coalesce(sum(e.amount), 0) AS s",
            account=account_id, period=period,
        ).single()
    return int(rec["s"]) if rec else 0


def ledger_page(driver: Driver, account_id: str, after: str | None = None, first: int = 50) -> dict[str, Any]:
    """Cursor paging over the append-only ledger (cursor = element id of the last entry seen). A cursor that is not
    one of the account's entries is an error, never a silent restart from the beginning."""
    if not 1 <= first <= LEDGER_MAX_PAGE:
        raise BillingError(f"--first must be between 1 and {LEDGER_MAX_PAGE}; got {first}")
    with driver.session() as session:
        rec = session.run(
            "MATCH (e:LedgerEntry {account_id: $account}) "
            "WITH e ORDER BY e.at, elementId(e) "
            "WITH collect(e) AS entries "
            "WITH entries, CASE WHEN $after IS NULL THEN 0 ELSE reduce(i = -1, k IN range(0, size(entries) - 1) | "
            "CASE WHEN elementId(entries[k]) = $after THEN k ELSE i END) + 1 END AS start "
            "RETURN start, [e IN entries[start..start + $n] | {cursor: elementId(e), entry: e {.*, at: toString(e.at)}}]"
            " AS rows",
            account=account_id, after=after, n=first + 1,
        ).single()
    start = int(rec["start"]) if rec else 0
    if after is not None and start == 0:
        raise BillingError(f"unknown ledger cursor {after!r} for account {account_id}: pass the end_cursor of a "
                           "previous page, or no --after to start from the first entry")
    rows = list(rec["rows"]) if rec else []
    has_next = len(rows) > first
    rows = rows[:first]
    return {"entries": [r["entry"] for r in rows], "end_cursor": rows[-1]["cursor"] if rows else after,
            "has_next_page": has_next}


__all__ = ["Plan", "Decision", "decide", "set_plan", "load_plan", "lock_plan", "debit", "billing_show",
           "billing_details", "ledger_page", "require_activation", "BillingError", "ActivationError"]
