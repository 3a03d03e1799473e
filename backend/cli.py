"""`skypath` — the command line (typer + rich). `--format json` prints exactly one JSON document."""

from __future__ import annotations

import functools
import inspect
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

app = typer.Typer(help="Skypath: CSPM and attack paths for Alibaba Cloud, on Neo4j.", no_args_is_help=True,
                  add_completion=False, pretty_exceptions_enable=False)
services_app = typer.Typer(help="Local Neo4j and Redis (no Docker).", no_args_is_help=True)
billing_app = typer.Typer(help="Plans, quota and usage.", no_args_is_help=True)
whitelist_app = typer.Typer(help="Whitelist a check item for an asset.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens.", no_args_is_help=True)
policy_app = typer.Typer(help="Custom policies (named selections of items).", no_args_is_help=True)
account_app = typer.Typer(help="Loaded accounts.", no_args_is_help=True)
app.add_typer(services_app, name="services")
app.add_typer(billing_app, name="billing")
app.add_typer(whitelist_app, name="whitelist")
app.add_typer(token_app, name="token")
app.add_typer(policy_app, name="policy")
app.add_typer(account_app, name="account")

out = Console(emoji=False)
err = Console(stderr=True, emoji=False)
WHO = os.environ.get("SKYPATH_USER") or f"cli:{os.environ.get('USER', 'local')}"
FORMAT_HELP = "table (default) or json"


def fail(message: str, code: int = 1) -> NoReturn:
    err.print(f"[bold red]error:[/] {message}", highlight=False, markup=True)
    raise typer.Exit(code)


def emit_json(doc: Any) -> None:
    sys.stdout.write(json.dumps(doc, indent=2, sort_keys=False, default=str) + "\n")


def check_format(fmt: str, allowed: tuple[str, ...] = ("table", "json")) -> str:
    if fmt not in allowed:
        fail(f"--format must be {' or '.join(repr(a) for a in allowed)}, got {fmt!r}", 2)
    return fmt


@contextmanager
def errors() -> Iterator[None]:
    """Map every expected error to a clear message on stderr and a non-zero exit."""
    from backend.auth import AuthError
    from backend.billing import BillingError
    from backend.console import CypherRefused
    from backend.ingest import IngestError
    from checks.packages import SelectionError
    from checks.paths import WhatIfError
    from checks.scan import ScanError
    from loaders.transport import ApiError

    try:
        yield
    except typer.Exit:
        raise
    except (IngestError, BillingError, CypherRefused, SelectionError, ScanError, AuthError, WhatIfError) as exc:
        fail(str(exc))
    except ApiError as exc:
        fail(f"Alibaba Cloud API error {exc.code}: {exc.message}")
    except ServiceUnavailable as exc:
        fail(str(exc))
    except KeyError as exc:
        fail(str(exc.args[0]) if exc.args else str(exc))


class ServiceUnavailable(RuntimeError):
    pass


def driver() -> Any:
    from neo4j.exceptions import AuthError as NeoAuthError
    from neo4j.exceptions import ServiceUnavailable as NeoUnavailable

    from backend.runtime import get_driver

    try:
        d = get_driver()
    except (NeoUnavailable, NeoAuthError, OSError, ValueError, FileNotFoundError) as exc:
        raise ServiceUnavailable(
            f"cannot reach Neo4j ({exc}); run `skypath services up` or set SKYPATH_NEO4J_URI"
        ) from exc
    return d


WIDE = 100  # narrower terminals drop the optional columns of a table
SEVERITY_ORDER = {"critical": 0, "high": 1, "medium": 2, "low": 3}


def cell(value: Any) -> str:
    """A value as a person reads it: no Python reprs (True, None, dicts, long floats)."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None or value == "":
        return "-"
    if isinstance(value, float):
        return f"{value:.2f}"
    if isinstance(value, dict):
        return ", ".join(f"{k} {cell(v)}" for k, v in value.items()) or "-"
    if isinstance(value, list | tuple):
        return ", ".join(cell(v) for v in value) or "-"
    return str(value)


def table(title: str, columns: list[str], rows: list[list[Any]], optional: tuple[str, ...] = ()) -> None:
    """A table that stays readable at 80 columns: long values (ids) wrap inside their cell, never cut to an
    ambiguous `…`; `optional` columns are left out on terminals narrower than WIDE."""
    keep = [i for i, c in enumerate(columns) if c not in optional or out.width >= WIDE]
    t = Table(title=title, show_lines=False)
    for i in keep:
        t.add_column(columns[i], overflow="fold")
    for r in rows:
        t.add_row(*[x if isinstance(x, Text) else Text(cell(x)) for x in (r[i] for i in keep)])
    out.print(t)


def counts_line(counts: dict[str, int]) -> str:
    return " · ".join(f"{k} {v}" for k, v in counts.items() if v) or "no results"


def require_account(d: Any, account: str) -> None:
    """An account that is not loaded is an error (a typo must not look like an empty account)."""
    from checks.scan import ScanError, account_exists

    if not account_exists(d, account):
        raise ScanError(f"account {account} is not loaded: run `skypath ingest --snapshot FILE` first "
                        "(`skypath account list` shows the loaded ones)")


def check_choices(option: str, values: list[str] | None, valid: tuple[str, ...]) -> list[str]:
    unknown = [v for v in values or [] if v not in valid]
    if unknown:
        fail(f"{option} {unknown[0]!r} is not one of: {', '.join(valid)}", 2)
    return list(values or [])


@contextmanager
def progress_bar(description: str, total: int | None) -> Iterator[Callable[..., None]]:
    """A progress bar on stderr (stdout stays one clean JSON document), shown on terminals only.
    Yields `advance(n=1, description=None)`."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    bar = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(bar_width=20), MofNCompleteColumn(),
                   TimeElapsedColumn(), console=err, transient=True, disable=not err.is_terminal)
    with bar:
        task = bar.add_task(description, total=total)

        def advance(n: int = 1, description: str | None = None) -> None:
            bar.update(task, advance=n, **({"description": description} if description else {}))

        yield advance


# ---------------------------------------------------------------- services

@services_app.command("up")
def services_up(fmt: str = typer.Option("table", "--format", help=FORMAT_HELP)) -> None:
    """Start Neo4j and Redis on loopback (idempotent)."""
    from backend import services

    check_format(fmt)
    try:
        info = services.services_up()
    except services.ServiceError as exc:  # type: ignore[attr-defined]
        fail(str(exc))
    emit_json(info) if fmt == "json" else out.print_json(data=info)


@services_app.command("down")
def services_down(fmt: str = typer.Option("table", "--format", help=FORMAT_HELP)) -> None:
    """Stop the local Neo4j and Redis."""
    from backend import services

    check_format(fmt)
    info = services.services_down()
    emit_json(info) if fmt == "json" else out.print_json(data=info)


@services_app.command("status")
def services_status(fmt: str = typer.Option("table", "--format", help=FORMAT_HELP)) -> None:
    """Report Neo4j (version and edition as the server says) and Redis."""
    from backend import services

    check_format(fmt)
    info = services.services_status()
    emit_json(info) if fmt == "json" else out.print_json(data=info)


# ---------------------------------------------------------------- ingest

@app.command()
def ingest(
    snapshot: str = typer.Option(None, "--snapshot", help="a skypath-snapshot/1 file (.json or .json.gz)"),
    live: bool = typer.Option(False, "--live", help="collect live through the official SDKs"),
    account_profile: str = typer.Option(None, "--account-profile", help="credential profile name (live)"),
    account: str = typer.Option(None, "--account", help="account id (live, and --hosts)"),
    record: str = typer.Option(None, "--record", help="write the live calls as a snapshot"),
    endpoint: str = typer.Option(None, "--endpoint", help="send live calls to this endpoint (the emulator)"),
    hosts: str = typer.Option(None, "--hosts", help="host agent report(s) to load for --account"),
    fmt: str = typer.Option("table", "--format", help=FORMAT_HELP),
) -> None:
    """Load an account into the graph: from a snapshot, live, or host reports."""
    from backend import ingest as ing

    check_format(fmt)
    chosen = sum(bool(x) for x in (snapshot, live, hosts))
    if chosen != 1:
        fail("give exactly one of --snapshot FILE, --live or --hosts FILE", 2)
    with errors():
        d = driver()
        if hosts:
            if not account:
                fail("--hosts needs --account ID", 2)
            result: dict[str, Any] = ing.ingest_hosts(d, account, ing.read_host_reports(hosts), source=hosts)
        else:
            with progress_bar("collecting", None) as advance:
                calls = [0]

                def tick(_call: str) -> None:
                    calls[0] += 1
                    advance(description=f"collecting · {calls[0]} calls")

                if snapshot:
                    res = ing.ingest_snapshot(d, snapshot, progress=tick)
                else:
                    res = _ingest_live(d, account_profile, account, record, endpoint, tick)
            result = res.as_dict()
    if fmt == "json":
        emit_json(result)
    else:
        out.print(f"[green]ingested[/] account {result['account_id']}" + (f" sync {result.get('sync_id')}" if result.get("sync_id") else ""))
        if "counts" in result:
            table("assets", ["label", "count"], [[k, v] for k, v in result["counts"].items()])
            failed = {k: v for k, v in result["scopes"].items() if v != "ok"}
            if failed:
                err.print("[yellow]scopes not collected[/] (their previous state is kept): "
                          + "; ".join(f"{k}: {v}" for k, v in failed.items()), highlight=False)
        write = result.get("write")
        out.print(f"write: {cell(write)}" if not isinstance(write, dict) else
                  "write: " + ", ".join(f"{k} {cell(v)}" for k, v in write.items()), highlight=False)


def _ingest_live(d: Any, profile: str | None, account: str | None, record: str | None, endpoint: str | None,
                 tick: Callable[[str], None]) -> Any:
    from backend import ingest as ing
    from loaders.transport_live import LiveTransport, RecordingTransport

    if profile:
        transport = LiveTransport.from_profile(profile, account_id=account, endpoint_override=endpoint)
    else:  # the default credential chain (or the emulator's test key)
        transport = LiveTransport(account, endpoint_override=endpoint).with_account_id()
    recorder = RecordingTransport(transport, transport.account_id) if record else None
    try:
        return ing.ingest_transport(d, recorder or transport, progress=tick)
    finally:
        if recorder and record:  # also when the ingest failed: the recording shows what the API answered
            recorder.write(record)


# ---------------------------------------------------------------- billing

@billing_app.command("set")
def billing_set(
    account: str = typer.Option(..., "--account"),
    model: str = typer.Option(..., "--model", help="free | subscription | payg | trial | per-instance"),
    edition: str = typer.Option(None, "--edition", help="free | anti-virus | advanced | enterprise | ultimate | value-added"),
    cspm: bool = typer.Option(False, "--cspm", help="the CSPM service is bought"),
    quota: int = typer.Option(None, "--quota", help="subscription authorizations"),
    expires: str = typer.Option(None, "--expires", help="ISO date the plan expires"),
    legacy_free: bool = typer.Option(False, "--legacy-free", help="authorized CSPM before 2023-07-07"),
    fmt: str = typer.Option("table", "--format", help=FORMAT_HELP),
) -> None:
    """Set the account's plan."""
    from backend import billing

    check_format(fmt)
    with errors():
        d = driver()
        billing.set_plan(d, account, model=model, edition=edition, cspm=cspm, quota=quota, expires=expires,
                         legacy_free=legacy_free, who=WHO)
        doc = billing.billing_show(d, account) if fmt == "json" else billing.billing_details(d, account)
    emit_json(doc) if fmt == "json" else _show_plan(doc)


@billing_app.command("show")
def billing_show_cmd(account: str = typer.Option(..., "--account"),
                     fmt: str = typer.Option("table", "--format", help=FORMAT_HELP)) -> None:
    """Show the plan, quota and usage."""
    from backend import billing

    check_format(fmt)
    with errors():
        d = driver()
        require_account(d, account)
        doc = (billing.billing_show if fmt == "json" else billing.billing_details)(d, account)
    emit_json(doc) if fmt == "json" else _show_plan(doc)


@billing_app.command("ledger")
def billing_ledger(account: str = typer.Option(..., "--account"), after: str = typer.Option(None, "--after"),
                   first: int = typer.Option(50, "--first"),
                   fmt: str = typer.Option("table", "--format", help=FORMAT_HELP)) -> None:
    """Page through the append-only ledger."""
    from backend import billing

    check_format(fmt)
    with errors():
        d = driver()
        require_account(d, account)
        doc = billing.ledger_page(d, account, after, first)
    if fmt == "json":
        emit_json(doc)
    else:
        table("ledger", ["at", "operation", "check", "amount", "scan", "who"],
              [[e.get("at"), e.get("operation"), e.get("check_id"), e.get("amount"), e.get("scan_id"), e.get("who")]
               for e in doc["entries"]], optional=("scan", "who"))
        if doc["has_next_page"]:
            out.print(f"more: --after {doc['end_cursor']}", highlight=False)


def _show_plan(doc: dict[str, Any]) -> None:
    table(f"plan of {doc['account_id']}", ["field", "value"],
          [[k.replace("_", " "), v] for k, v in doc.items() if k not in ("usage", "account_id")]
          + [["ledger total", doc["usage"]["ledger_total"]]])


# ---------------------------------------------------------------- scans

def _by_severity(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(results, key=lambda r: (SEVERITY_ORDER.get(r["severity"], 9), r["check_id"], r["asset_id"]))


def _print_results(title: str, account: str, results: list[dict[str, Any]], everything: bool) -> None:
    """Results worst first (`everything`: PASS too; else what needs attention), then one summary line and
    what the NOT_CHECK results need."""
    shown = [r for r in _by_severity(results) if everything or r["status"] not in ("PASS", "NOT_SUPPORTED")]
    rows = [[r["severity"], r["status"] + ("*" if r.get("stale") else ""), r["check_id"], r["asset_id"], r["region"],
             r["tier"]] for r in shown]
    table(title, ["severity", "status", "check", "asset", "region", "tier"], rows, optional=("region", "tier"))
    counts: dict[str, int] = {}
    for r in results:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    hidden = len(results) - len(shown)
    out.print(f"{len(results)} results: {counts_line(counts)}"
              + (f" ({hidden} passing or not supported not listed; --status PASS lists them)" if hidden else ""),
              highlight=False)
    stale = [r for r in results if r.get("stale")]
    if stale:
        out.print(f"* {len(stale)} not re-checked in the latest scan ({stale[0].get('reason') or 'skipped'}): "
                  "their last decided status is shown", highlight=False)
    _explain_not_checked(account, results)


def _explain_not_checked(account: str, results: list[dict[str, Any]]) -> None:
    """Why results are NOT_CHECK."""
    reasons: dict[str, int] = {}
    for r in results:
        if r["status"] == "NOT_CHECK":
            reasons[r.get("reason") or "not decided"] = reasons.get(r.get("reason") or "not decided", 0) + 1
    for reason, n in reasons.items():
        out.print(f"not checked: {n} ({reason})", highlight=False)


def _advise(account: str, results: list[dict[str, Any]]) -> None:
    """On stderr (any format): items the plan did not run, and the command that runs them."""
    from backend.fixes import plan_advice

    if any("needs CSPM" in (r.get("reason") or "") for r in results):
        err.print(plan_advice(account), highlight=False)


def _report_scan(doc: dict[str, Any], title: str, fmt: str) -> None:
    """Print a scan or verification; a scan that ran out of quota says so and what to do, and exits 3 in table
    mode (the JSON document keeps the contract: exit 0, `status: quota_exhausted`)."""
    from backend.fixes import quota_advice

    if fmt == "json":
        emit_json(doc)
    else:
        _print_results(title, doc["account_id"], doc["results"], everything=False)
        out.print(f"status: {doc['status']} · authorizations consumed: {doc['authorizations_consumed']}",
                  highlight=False)
    _advise(doc["account_id"], doc["results"])
    if doc["status"] == "quota_exhausted":
        err.print(f"[bold yellow]quota exhausted:[/] {quota_advice(doc['account_id'])}", highlight=False)
        if fmt != "json":
            raise typer.Exit(3)


def _run_scan(d: Any, account: str, items: list[Any], **kwargs: Any) -> dict[str, Any]:
    """Run items with a progress bar (items done, results so far)."""
    from backend import billing
    from backend.entitlements import PlanBiller
    from checks.scan import run_items

    billing.require_activation(d, account, items)
    with progress_bar("scanning", len(items)) as advance:
        seen = [0]

        def tick(item: Any, results: list[Any]) -> None:
            seen[0] += len(results)
            advance(description=f"scanning · {seen[0]} results")

        report = run_items(d, account, items, PlanBiller(billing.load_plan(d, account), WHO), who=WHO,
                           progress=tick, **kwargs)
    return report.as_dict()


@app.command()
def scan(
    account: str = typer.Option(..., "--account"),
    check: list[str] = typer.Option(None, "--check", help="check item id (repeatable)"),
    package: str = typer.Option(None, "--package", help="compliance package id"),
    policy: str = typer.Option(None, "--policy", help="custom policy name"),
    fmt: str = typer.Option("table", "--format", help=FORMAT_HELP),
) -> None:
    """Run check items (one set-based query per item), consuming authorizations per the plan. Exit status 3:
    the subscription's quota ran out (table output; the JSON says `quota_exhausted`)."""
    from checks.packages import select_items

    check_format(fmt)
    with errors():
        d = driver()
        require_account(d, account)
        doc = _run_scan(d, account, select_items(d, account, check, package, policy))
    _report_scan(doc, f"scan {doc['scan_id']}", fmt)


@app.command()
def findings(account: str = typer.Option(..., "--account"),
             status: list[str] = typer.Option(None, "--status", help="only these statuses (repeatable)"),
             severity: list[str] = typer.Option(None, "--severity", help="only these severities (repeatable)"),
             fmt: str = typer.Option("table", "--format", help=FORMAT_HELP)) -> None:
    """The latest result per (check item, asset), worst severity first, with first/last seen. A finding the latest
    scan did not re-check (quota ran out, plan) keeps its last decided status, marked stale."""
    from checks.model import SEVERITIES
    from checks.packages import account_items
    from checks.scan import STATUSES, latest_findings

    check_format(fmt)
    statuses = check_choices("--status", status, STATUSES)
    severities = check_choices("--severity", severity, SEVERITIES)
    with errors():
        d = driver()
        require_account(d, account)
        results = latest_findings(d, account, account_items(d, account))
    results = [r for r in _by_severity(results) if (not statuses or r["status"] in statuses)
               and (not severities or r["severity"] in severities)]
    if fmt == "json":
        emit_json({"account_id": account, "results": results})
    else:
        _print_results(f"findings of {account}", account, results, everything=bool(statuses))
    _advise(account, results)


@app.command()
def verify(account: str = typer.Option(..., "--account"), check: str = typer.Option(..., "--check"),
           asset: str = typer.Option(..., "--asset"), fmt: str = typer.Option("table", "--format", help=FORMAT_HELP)) -> None:
    """Re-check one finding from the current data."""
    from checks.packages import select_items

    check_format(fmt)
    with errors():
        d = driver()
        require_account(d, account)
        [item] = select_items(d, account, [check], None, None)  # a catalog or a custom item of the account
        doc = _run_scan(d, account, [item], operation="verify", asset_id=asset)
    _report_scan(doc, f"verify {check} on {asset}", fmt)


@whitelist_app.command("add")
def whitelist_add(account: str = typer.Option(..., "--account"), check: str = typer.Option(..., "--check"),
                  asset: str = typer.Option(..., "--asset"), reason: str = typer.Option(..., "--reason"),
                  fmt: str = typer.Option("table", "--format", help=FORMAT_HELP)) -> None:
    """Whitelist an item for an asset (later scans report WHITELIST, consume nothing)."""
    from checks.packages import select_items
    from checks.scan import whitelist_add as add

    check_format(fmt)
    with errors():
        d = driver()
        require_account(d, account)
        select_items(d, account, [check], None, None)  # a catalog or a custom item of the account
        entry = add(d, account, check, asset, reason, WHO)
    emit_json(entry) if fmt == "json" else out.print(f"whitelisted {check} on {asset}: {reason}")


@whitelist_app.command("remove")
def whitelist_remove(account: str = typer.Option(..., "--account"), check: str = typer.Option(..., "--check"),
                     asset: str = typer.Option(..., "--asset"),
                     fmt: str = typer.Option("table", "--format", help=FORMAT_HELP)) -> None:
    """Remove a whitelist entry."""
    from checks.scan import whitelist_remove as remove

    check_format(fmt)
    with errors():
        d = driver()
        require_account(d, account)
        existed = remove(d, account, check, asset, WHO)
    if not existed:
        fail(f"no whitelist entry for {check} on {asset}")
    emit_json({"removed": True, "check_id": check, "asset_id": asset}) if fmt == "json" else out.print("removed")


@app.command("checks")
def list_checks(package: str = typer.Option(None, "--package"),
                fmt: str = typer.Option("table", "--format", help=FORMAT_HELP)) -> None:
    """The catalog of check items."""
    from checks.catalog import CATALOG
    from checks.packages import package_items

    check_format(fmt)
    with errors():
        items = package_items(package) if package else list(CATALOG)
    if fmt == "json":
        emit_json({"items": [i.summary() for i in items]})
    else:
        table(f"{len(items)} check items", ["id", "severity", "tier", "kind", "asset", "title"],
              [[i.id, i.severity, i.tier, i.kind, i.asset_type, i.title] for i in items])


@app.command("custom-check")
def custom_check(
    account: str = typer.Option(..., "--account"),
    check_id: str = typer.Option(..., "--id", help="ACS_CUSTOM_<Name>"),
    asset_type: str = typer.Option(..., "--asset-type", help="node label, e.g. EcsInstance"),
    query: str = typer.Option(..., "--query", help="read-only Cypher returning asset_id, scoped by $account_id"),
    title: str = typer.Option(..., "--title"),
    severity: str = typer.Option("medium", "--severity"),
    fmt: str = typer.Option("table", "--format", help=FORMAT_HELP),
) -> None:
    """Store a custom check item (its Cypher is validated as read-only first)."""
    from checks.custom import CustomCheckError, add_custom_check

    check_format(fmt)
    with errors():
        try:
            row = add_custom_check(driver(), account, check_id, title, asset_type, severity, query, WHO)
        except CustomCheckError as exc:
            fail(str(exc))
    emit_json(row) if fmt == "json" else out.print(f"custom check {check_id} stored")


@app.command()
def compliance(account: str = typer.Option(..., "--account"), package: str = typer.Option(..., "--package"),
               fmt: str = typer.Option("table", "--format", help=FORMAT_HELP)) -> None:
    """Compliance report for a package from the latest results: section → requirement → items → pass rate,
    and the requirements Skypath cannot decide, with the reason."""
    from checks.catalog import BY_ID
    from checks.packages import compliance_report
    from checks.scan import latest_findings

    check_format(fmt)
    with errors():
        d = driver()
        require_account(d, account)
        doc = compliance_report(package, latest_findings(d, account, BY_ID), account)
    if fmt == "json":
        emit_json(doc)
        return
    summary = doc["summary"]
    rows: list[list[Any]] = []
    for s in doc["sections"]:
        decided = [r for r in s["requirements"] if r["status"] not in ("not_decidable", "pending")]
        if decided:
            rows.append([s["id"], "", "", "", "", "", _rate_text(s["pass_rate"]), Text(s["title"], style="bold")])
        rows.extend([r["id"], r["status"], len(r["items"]), r["pass"], r["not_pass"], r["not_checked"],
                     _rate_text(r["pass_rate"]), r["title"]] for r in decided)
    _compact_table(f"{doc['title']} — account {account}: pass rate {_rate_text(doc['pass_rate'])}",
                   ["req", "status", "items", "pass", "fail", "n/c", "rate", "title"], rows)
    _compact_table("Sections: requirements by state (n/d: not decidable)",
                   ["section", "total", "pass", "fail", "incomplete", "no results", "pending", "n/d", "rate", "title"],
                   [[s["id"], *(s[k] for k in ("total", "pass", "fail", "incomplete", "no_results", "pending",
                                               "not_decidable")), _rate_text(s["pass_rate"]), s["title"]]
                    for s in summary["sections"]])
    undecided = [[r["id"], state, r["reason"] or ""] for key, state in (("pending", "pending"),
                 ("not_decidable", "not decidable")) for r in summary[key]]
    if undecided:
        _compact_table(f"Not decided by Skypath: {len(undecided)} of {summary['requirements']}",
                       ["req", "state", "why"], undecided, wrap_last=True)


def _compact_table(title: str, columns: list[str], rows: list[list[Any]], wrap_last: bool = False) -> None:
    """Short columns keep their width and never wrap; the last one (a title or reason) takes the rest and is
    cut to one line, or wrapped when asked."""
    t = Table(title=title, show_lines=False)
    widths = [max([len(c), *(len(str(r[i])) for r in rows)]) for i, c in enumerate(columns[:-1])]
    for c, width in zip(columns[:-1], widths, strict=True):
        t.add_column(c, no_wrap=True, min_width=width)
    rest = max(20, out.width - sum(widths) - 3 * len(columns) - 1)
    t.add_column(columns[-1], no_wrap=not wrap_last, overflow="fold" if wrap_last else "ellipsis", max_width=rest)
    for r in rows:
        t.add_row(*[x if isinstance(x, Text) else Text(str(x)) for x in r])
    out.print(t)


def _rate_text(rate: float | None) -> str:
    return "-" if rate is None else f"{rate:.0%}"


@app.command(hidden=True)
def report(account: str = typer.Option(..., "--account"), package: str = typer.Option(..., "--package"),
           fmt: str = typer.Option("table", "--format", help=FORMAT_HELP)) -> None:
    """Old name of `compliance`."""
    compliance(account, package, fmt)


@policy_app.command("save")
def policy_save(account: str = typer.Option(..., "--account"), name: str = typer.Option(..., "--name"),
                check: list[str] = typer.Option(None, "--check"), package: list[str] = typer.Option(None, "--package"),
                fmt: str = typer.Option("table", "--format", help=FORMAT_HELP)) -> None:
    """Store a custom policy: a named selection of items and packages."""
    from checks.packages import save_policy

    check_format(fmt)
    with errors():
        doc = save_policy(driver(), account, name, list(check or []), list(package or []), WHO)
    emit_json(doc) if fmt == "json" else out.print(f"policy {name}: {len(doc['items'])} items")


# ---------------------------------------------------------------- paths, cypher, tokens

@app.command()
def paths(account: str = typer.Option(..., "--account"),
          what_if: list[str] = typer.Option(None, "--what-if", help="a proposed change, e.g. detach-role:i-…"),
          entry: str | None = typer.Option(None, "--entry", help="only the paths from this entry (instance or key id)"),
          target: str | None = typer.Option(None, "--target", help="only the paths to this target (bucket, RDS or account id)"),
          limit: int | None = typer.Option(None, "--limit", min=0, help="at most this many paths"),
          fmt: str = typer.Option("table", "--format", help="table (default), json, or jsonl (one path per line, "
                                                              "then the choke points: for very large accounts)")) -> None:
    """Attack paths, worst first, and choke points with the fix each maps to (needs CSPM or the trial)."""
    from backend import billing
    from backend.fixes import choke_fixes
    from checks.path_index import JSON_PATH_LIMIT, load_index
    from checks.path_index import what_if as what_if_report

    check_format(fmt, ("table", "json", "jsonl"))
    if what_if and fmt == "jsonl":
        fail("--what-if needs --format table or json", 2)
    with errors():
        d = driver()
        require_account(d, account)
        decision = billing.decide(billing.load_plan(d, account), "paths")
        if not decision.allowed:
            fail(f"attack path analysis is refused on this plan: {decision.reason}; it needs {decision.enabled_by} "
                 f"(`skypath billing set --account {account} --model payg --cspm`)")
        index = load_index(d, account)
        chokes = index.choke_points
        for c, fix in zip(chokes, choke_fixes(d, account, chokes), strict=True):
            c["fix"] = fix
        if fmt == "jsonl":  # one path per line as the index produces it: constant memory at any size
            write = sys.stdout.write
            for line in index.worst_first_lines(limit=limit, entry=entry, target=target):
                write(line + "\n")
            write(json.dumps({"account_id": account, "choke_points": chokes}) + "\n")
            sys.stdout.flush()
            return
        selected = index.count(entry, target)
        count = selected if limit is None else min(limit, selected)
        most = int(os.environ.get("SKYPATH_PATHS_JSON_LIMIT", JSON_PATH_LIMIT))
        if count > most:
            fail(f"account {account} has {count} attack paths, too many for one document (limit {most}): "
                 "use --format jsonl (streamed, one path per line) or narrow with --target, --entry or --limit")
        doc: dict[str, Any] = {"account_id": account, "paths": [
            json.loads(line) for line in index.worst_first_lines(limit=limit, entry=entry, target=target)]}
        if what_if:  # two compact indexes (with and without the change), the removed pairs listed up to the limit
            with progress_bar("analysing the change", 1):
                w = what_if_report(d, account, list(what_if))
            removed = w["removed_pairs"]
            shown = len(removed) if limit is None else min(limit, len(removed))
            if shown > most:
                fail(f"the change removes {len(removed)} attack paths, too many to list (limit {most}): "
                     "narrow the list with --limit")
            doc["what_if"] = {**w, "removed_pairs": removed[0:shown]}
        doc["choke_points"] = chokes
    if fmt == "json":
        emit_json(doc)
        return
    _print_paths(doc["paths"], None)
    _print_chokes(doc["choke_points"], None)
    if "what_if" in doc:
        w = doc["what_if"]
        out.print(f"what if {', '.join(w['changes'])}: {w['paths_removed']} paths removed, "
                  f"{w['paths_remaining']} remain", highlight=False)
        for entry, target in w["removed_pairs"]:
            out.print(f"  no longer: {entry} → {target}", highlight=False)


def _paths_by_severity(paths: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(paths, key=lambda p: SEVERITY_ORDER.get(p["severity"], 9))  # stable: the report's order next


def _print_paths(paths: list[dict[str, Any]], limit: int | None) -> None:
    counts: dict[str, int] = {}
    for p in paths:
        counts[p["severity"]] = counts.get(p["severity"], 0) + 1
    shown = paths[:limit] if limit else paths
    title = f"{len(paths)} attack paths ({counts_line(counts)})" + (f", the {len(shown)} worst" if limit else "")
    table(title, ["severity", "entry", "target", "access", "type", "conditional"],
          [[p["severity"], p["entry"]["id"], p["target"]["id"], p["access"], p["type"], p["conditional"]]
           for p in shown], optional=("type", "conditional"))


def _print_chokes(chokes: list[dict[str, Any]], limit: int | None) -> None:
    """Each choke point with the change and the fix: the check item, the asset, the exact command."""
    out.rule("choke points (one change cuts the most paths)")
    for n, c in enumerate(chokes[:limit] if limit else chokes, 1):
        out.print(f"{n}. cuts {c['paths_cut']} paths: {c['change']}", highlight=False)
        fix = c.get("fix")
        if fix is None:
            out.print("   fix: by hand (no failing check item maps to it)", highlight=False)
            continue
        out.print(f"   fix: {fix['check_id']} on {fix['asset_id']} ({fix['severity']})", highlight=False)
        if fix["automated"]:
            out.print(f"   run: {fix['command']}", highlight=False)
        else:
            out.print(f"   by hand: {fix['manual_steps']}", highlight=False)


@app.command()
def cypher(account: str = typer.Option(..., "--account"), query: str = typer.Option(..., "--query"),
           limit: int = typer.Option(1000, "--limit"), fmt: str = typer.Option("table", "--format", help=FORMAT_HELP)) -> None:
    """Read-only Cypher console ($account_id is bound; writes are refused)."""
    from backend.console import run_read_only

    check_format(fmt)
    with errors():
        d = driver()
        require_account(d, account)
        doc = run_read_only(d, account, query, limit=max(1, min(limit, 10_000)))
    if fmt == "json":
        emit_json(doc)
    else:
        table("result", doc["columns"], [[json.dumps(r[c], default=str) for c in doc["columns"]] for r in doc["rows"]])


@token_app.command("create")
def token_create(role: str = typer.Option(..., "--role"), account: list[str] = typer.Option(..., "--account"),
                 agent: bool = typer.Option(False, "--agent", help="a host-agent upload token"),
                 fmt: str = typer.Option("table", "--format", help=FORMAT_HELP)) -> None:
    """Create an API token (shown once, stored hashed) for loaded accounts (`*`: every account)."""
    from backend.auth import create_token

    check_format(fmt)
    with errors():
        d = driver()
        for a in account:
            if a != "*":
                require_account(d, a)
        doc = create_token(d, role, list(account), kind="agent" if agent else "api", who=WHO)
    emit_json(doc) if fmt == "json" else out.print(f"token (shown once): {doc['token']}\nid: {doc['id']} "
                                                    f"(`skypath token revoke --id {doc['id']}`)", highlight=False)


@token_app.command("list")
def token_list(fmt: str = typer.Option("table", "--format", help=FORMAT_HELP)) -> None:
    """The API tokens (never the secrets): id, role, accounts, kind, created, revoked."""
    from backend.auth import list_tokens

    check_format(fmt)
    with errors():
        tokens = list_tokens(driver())
    if fmt == "json":
        emit_json({"tokens": tokens})
    else:
        table(f"{len(tokens)} tokens", ["id", "role", "accounts", "kind", "created", "revoked"],
              [[t["id"], t["role"], t["accounts"], t["kind"], t["created"], t["revoked"]] for t in tokens],
              optional=("kind", "created"))


@token_app.command("revoke")
def token_revoke(token_id: str = typer.Option(..., "--id", help="the token's id (from `token create`)"),
                 fmt: str = typer.Option("table", "--format", help=FORMAT_HELP)) -> None:
    """Revoke an API token (it stops working within 15 seconds everywhere)."""
    from backend.auth import revoke_token

    check_format(fmt)
    with errors():
        if not revoke_token(driver(), token_id, who=WHO):
            fail(f"no active token with id {token_id}")
    emit_json({"revoked": token_id}) if fmt == "json" else out.print(f"revoked token {token_id}")


# ---------------------------------------------------------------- accounts

@account_app.command("list")
def account_list(fmt: str = typer.Option("table", "--format", help=FORMAT_HELP)) -> None:
    """The loaded accounts."""
    check_format(fmt)
    with errors():
        rows = driver().execute_query(
            "MATCH (a:Account) WHERE a.uid = a.account_id + ':' + a.account_id RETURN a.account_id AS account_id, "
            "a.name AS name, a.collected_at AS collected_at ORDER BY account_id", routing_="r").records
    accounts = [dict(r) for r in rows]
    if fmt == "json":
        emit_json({"accounts": accounts})
    else:
        table(f"{len(accounts)} accounts", ["account", "name", "collected"],
              [[a["account_id"], a["name"], a["collected_at"]] for a in accounts])


@account_app.command("remove")
def account_remove(account: str = typer.Option(..., "--account"),
                   yes: bool = typer.Option(False, "--yes", help="do not ask (needed when not on a terminal)"),
                   fmt: str = typer.Option("table", "--format", help=FORMAT_HELP)) -> None:
    """Remove an account and everything of it: assets, results, plan, ledger, audit, custom items."""
    from graph_schema.store import delete_account

    check_format(fmt)
    with errors():
        d = driver()
        require_account(d, account)
        if not yes:
            if not sys.stdin.isatty():
                fail(f"removing account {account} deletes all its data: pass --yes", 2)
            typer.confirm(f"remove account {account} and all its data?", abort=True, err=True)
        delete_account(d, account)
    emit_json({"removed": account}) if fmt == "json" else out.print(f"removed account {account}", highlight=False)


# ---------------------------------------------------------------- remediation, emulator, activation, serve, demo

@app.command()
def remediate(
    account: str = typer.Option(..., "--account"),
    check: str = typer.Option(..., "--check"),
    asset: str = typer.Option(..., "--asset"),
    execute: bool = typer.Option(False, "--execute", help="call the API (default: dry run, print the plan)"),
    endpoint: str = typer.Option(None, "--endpoint", help="OpenAPI endpoint (the emulator); else $SKYPATH_ALIBABA_ENDPOINT"),
    account_profile: str = typer.Option(None, "--account-profile", help="live credentials profile"),
    fmt: str = typer.Option("table", "--format", help=FORMAT_HELP),
) -> None:
    """Plan (dry run, default) or execute the fix for one finding, then re-collect and verify."""
    from backend.remediate import plan
    from checks.remediation import RemediationError

    check_format(fmt)
    with errors():
        d = driver()
        require_account(d, account)
        try:
            if execute:
                from backend.remediation_runtime import execute_for_account

                with progress_bar(f"fixing {check} on {asset} · calls, re-collect, verify", None):
                    doc = execute_for_account(d, account, check, asset, WHO, endpoint=endpoint, profile=account_profile)
            else:
                doc = plan(d, account, check, asset)
        except RemediationError as exc:
            fail(str(exc))
    if fmt == "json":
        emit_json(doc)
        return
    out.print(f"[bold]{'EXECUTED' if execute else 'DRY RUN'}[/] {check} on {asset} (now {cell(doc.get('current_status'))})")
    for req in doc.get("requests", []):
        params = " ".join(f"--{k} {v if isinstance(v, str) else json.dumps(v)}" for k, v in req["params"].items())
        out.print(f"  {req['product']} {req['action']} ({req['region']}) {params}", highlight=False)
    out.print(f"effect: {cell(doc.get('effect'))}", highlight=False)
    for w in doc.get("warnings", []):
        out.print(f"[yellow]warning:[/] {w}", highlight=False)
    if doc.get("note"):
        out.print(f"note: {doc['note']}", highlight=False)
    if "attack_paths_cut" in doc:
        out.print(f"attack paths cut: {doc['attack_paths_cut']}", highlight=False)
    if execute:
        out.print(f"verified: {cell(doc.get('verified'))} ({cell(doc.get('status_before'))} → "
                  f"{cell(doc.get('status_after'))}), authorizations: {cell(doc.get('authorizations_consumed'))}",
                  highlight=False)
    elif doc.get("requests"):
        out.print(f"to make these calls: skypath remediate --account {account} --check {check} --asset {asset} "
                  "--execute", highlight=False)


@app.command()
def emulator(snapshot: str = typer.Option(..., "--snapshot"), host: str = typer.Option("127.0.0.1", "--host"),
             port: int = typer.Option(18080, "--port")) -> None:
    """Serve a snapshot as a local Alibaba Cloud OpenAPI (the SDKs can point at it)."""
    from backend.emulator import serve_forever

    if host not in ("127.0.0.1", "localhost", "::1"):
        fail("the emulator only listens on loopback", 2)
    serve_forever(snapshot, host, port)


@app.command()
def activate(account: str = typer.Option(..., "--account"), live: bool = typer.Option(False, "--live"),
             endpoint: str = typer.Option(None, "--endpoint"), account_profile: str = typer.Option(None, "--account-profile"),
             fmt: str = typer.Option("table", "--format", help=FORMAT_HELP)) -> None:
    """Authorize CSPM: create the service-linked role AliyunServiceRoleForSasCspm (CreateServiceLinkedRole)."""
    from backend.remediation_runtime import activate_account

    check_format(fmt)
    if not live and not endpoint:
        fail("activation calls the Resource Management API: pass --live (or --endpoint for the emulator)", 2)
    with errors():
        doc = activate_account(driver(), account, WHO, endpoint=endpoint, profile=account_profile)
    emit_json(doc) if fmt == "json" else out.print(
        f"activated: account {doc['account_id']} has the service-linked role {doc['service_linked_role']}",
        highlight=False)


@app.command()
def serve(host: str = typer.Option("127.0.0.1", "--host"), port: int = typer.Option(8000, "--port"),
          workers: int = typer.Option(1, "--workers", help="worker processes (each with its own driver)")) -> None:
    """GraphQL API at /graphql, web console at /."""
    import uvicorn

    with errors():
        driver()  # fail early and clearly when Neo4j is unreachable
    if workers > 1:
        uvicorn.run("backend.api:create_app", factory=True, host=host, port=port, workers=workers, log_level="warning")
    else:
        from backend.api import create_app

        uvicorn.run(create_app(driver()), host=host, port=port, log_level="info")


@app.command()
def demo(snapshot: str = typer.Option(None, "--snapshot", help="default: the contract sample account")) -> None:
    """The main job: services up, the sample account ingested, plan set, scan + paths, a summary."""
    from pathlib import Path

    from backend import billing, services
    from backend.entitlements import PlanBiller
    from backend.fixes import choke_fixes
    from backend.ingest import ingest_snapshot
    from backend.settings import samples_dir
    from checks.catalog import CATALOG
    from checks.paths import analyse_paths
    from checks.scan import run_items

    path = Path(snapshot) if snapshot else samples_dir() / "sample-account.json"
    if not path.exists():
        fail(f"snapshot {path} not found (pass --snapshot FILE)")
    with errors():
        out.rule("[bold]1. services")
        info = services.services_up()
        for name in ("neo4j", "redis"):
            out.print(f"{name}: {cell(info.get(name))}", highlight=False)
        out.rule("[bold]2. ingest")
        d = driver()
        res = ingest_snapshot(d, path)
        account = res.account_id
        table(f"account {account}", ["label", "count"], [[k, v] for k, v in res.counts.items()])
        out.rule("[bold]3. plan")
        before = billing.billing_show(d, account)
        recommended = max(before["recommended_quota"], 50)
        if before["model"] == "subscription" and (before["quota_remaining"] or 0) < recommended:
            # an earlier demo consumed this period's quota: buy more, as a user would (the period goes on)
            quota = before["quota_used"] + recommended
            out.print(f"topping the subscription up to {quota} authorizations ({before['quota_remaining']} left)")
        else:
            quota = max(before["quota_total"], recommended) if before["model"] == "subscription" else recommended
        billing.set_plan(d, account, model="subscription", edition="ultimate", cspm=True, quota=quota, who=WHO)
        before = billing.billing_show(d, account)
        out.print(f"subscription, Ultimate + CSPM, quota {before['quota_total']} "
                  f"(recommended {before['recommended_quota']}), used {before['quota_used']}")
        out.rule("[bold]4. scan")
        with progress_bar("scanning", len(CATALOG)) as advance:
            report = run_items(d, account, CATALOG, PlanBiller(billing.load_plan(d, account), WHO), who=WHO,
                               progress=lambda item, results: advance())
        after = billing.billing_show(d, account)
        out.print(f"{len(CATALOG)} items, {len(report.results)} results: {counts_line(report.summary())}",
                  highlight=False)
        out.print(f"quota before {before['quota_used']}/{before['quota_total']} → after "
                  f"{after['quota_used']}/{after['quota_total']} ({report.authorizations_consumed} consumed)")
        failing = _by_severity([r.as_dict() for r in report.results if r.status == "NOT_PASS"])
        table(f"top findings ({len(failing)} failing)", ["severity", "check", "asset", "region"],
              [[r["severity"], r["check_id"], r["asset_id"], r["region"]] for r in failing[:15]], optional=("region",))
        out.rule("[bold]5. attack paths")
        with progress_bar("analysing attack paths", 3) as step:
            doc = analyse_paths(d, account, progress=lambda stage, n: step(description=f"{n} {stage}"))
        _print_paths(_paths_by_severity(doc["paths"]), 20)
        _print_chokes([{**c, "fix": fix} for c, fix in zip(doc["choke_points"], choke_fixes(d, account, doc["choke_points"]),
                                                           strict=True)], 5)
        out.rule("[bold]6. console")
        from backend.auth import create_token

        viewer = create_token(d, "viewer", [account], who=WHO)
        out.print("run `.venv/bin/skypath serve`, then open the console at http://127.0.0.1:8000/")
        out.print(f"viewer token (read-only, account {account}):")
        out.print(viewer["token"], soft_wrap=True, markup=False)  # one unbroken line, whatever the terminal width
        out.print(f"operator actions need `.venv/bin/skypath token create --role operator --account {account}`")


# ---------------------------------------------------------------- continuous posture: schedules, workers, drift, alerts

schedule_app = typer.Typer(help="Scheduled syncs (sync → scan → paths → alerts), kept in the graph.", no_args_is_help=True)
notify_app = typer.Typer(help="Webhook alerts on new critical/high findings and new attack paths.", no_args_is_help=True)
app.add_typer(schedule_app, name="schedule")
app.add_typer(notify_app, name="notify")


@contextmanager
def posture_errors() -> Iterator[None]:
    from backend.drift import DriftError
    from backend.notify import NotifyError
    from backend.pipeline import SourceError
    from backend.schedule import ScheduleError

    with errors():
        try:
            yield
        except (DriftError, NotifyError, SourceError, ScheduleError) as exc:
            fail(str(exc))


@schedule_app.command("set")
def schedule_set(account: str = typer.Option(..., "--account"),
                 snapshot: str = typer.Option(None, "--snapshot", help="sync from this snapshot file"),
                 account_profile: str = typer.Option(None, "--account-profile", help="sync live with this profile"),
                 live: bool = typer.Option(False, "--live", help="sync live with the default credential chain"),
                 every: str = typer.Option(..., "--every", help="interval: 90s, 15m, 6h, 1d"),
                 package: str = typer.Option(None, "--package", help="scan this package (default: the catalog)"),
                 disabled: bool = typer.Option(False, "--disabled", help="keep it, but do not run it"),
                 fmt: str = typer.Option("table", "--format", help=FORMAT_HELP)) -> None:
    """Create or replace the account's schedule (beat picks it up within seconds, no restart)."""
    from pathlib import Path

    from backend.schedule import parse_every, set_schedule

    check_format(fmt)
    if sum(bool(x) for x in (snapshot, account_profile, live)) != 1:
        fail("give exactly one of --snapshot FILE, --account-profile NAME or --live", 2)
    source = (f"snapshot:{Path(snapshot).resolve()}" if snapshot else
              f"profile:{account_profile}" if account_profile else "live")
    with posture_errors():
        doc = set_schedule(driver(), account, source, parse_every(every), WHO, package, enabled=not disabled)
    emit_json(doc) if fmt == "json" else out.print(f"schedule of {account}: {source} every {doc['every_seconds']} s")


@schedule_app.command("list")
def schedule_list(fmt: str = typer.Option("table", "--format", help=FORMAT_HELP)) -> None:
    """Every account's schedule."""
    from backend.schedule import list_schedules

    check_format(fmt)
    with posture_errors():
        rows = list_schedules(driver())
    if fmt == "json":
        emit_json({"schedules": rows})
    else:
        table("schedules", ["account", "source", "every (s)", "package", "enabled"],
              [[r["account_id"], r["source"], r["every_seconds"], r["package"] or "", r["enabled"]] for r in rows])


@schedule_app.command("remove")
def schedule_remove(account: str = typer.Option(..., "--account"),
                    fmt: str = typer.Option("table", "--format", help=FORMAT_HELP)) -> None:
    """Stop syncing the account on a schedule."""
    from backend.schedule import remove_schedule

    check_format(fmt)
    with posture_errors():
        if not remove_schedule(driver(), account, WHO):
            fail(f"account {account} has no schedule")
    emit_json({"removed": account}) if fmt == "json" else out.print(f"removed the schedule of {account}")


@app.command()
def worker(concurrency: int = typer.Option(2, "--concurrency", help="processes (tasks run at once)"),
           name: str = typer.Option("skypath@%h", "--name", help="the worker's node name"),
           pool: str = typer.Option("prefork", "--pool", help="prefork | solo | threads"),
           loglevel: str = typer.Option("INFO", "--loglevel")) -> None:
    """A Celery worker: syncs, scans, attack paths, remediation, alerts (queue $SKYPATH_CELERY_QUEUE)."""
    from backend import runtime
    from backend.tasks import celery_app

    with errors():
        driver().close()  # fail early and clearly when Neo4j is unreachable (pool processes open their own)
    runtime._driver.cache_clear()
    celery_app.worker_main(["worker", f"--concurrency={concurrency}", f"--hostname={name}", f"--pool={pool}",
                            f"--loglevel={loglevel}", f"--queues={celery_app.conf.task_default_queue}"])


@app.command()
def beat(loglevel: str = typer.Option("INFO", "--loglevel")) -> None:
    """Celery beat driven by the graph's schedules (`skypath schedule set`); run exactly one."""
    from backend.tasks import celery_app

    with errors():
        driver()
    celery_app.start(["beat", f"--loglevel={loglevel}", "--scheduler=backend.schedule:GraphScheduler"])


@app.command()
def changes(account: str = typer.Option(..., "--account"),
            since: str = typer.Option(None, "--since", help="a scan id or an ISO date (default: the latest sync)"),
            fmt: str = typer.Option("table", "--format", help=FORMAT_HELP)) -> None:
    """What changed: assets (which properties), findings new/resolved/regressed, attack paths, exposure."""
    from backend.drift import changes as drift_changes

    check_format(fmt)
    with posture_errors():
        doc = drift_changes(driver(), account, since)
    if fmt == "json":
        emit_json(doc)
        return
    out.print(f"changes of {account} since {doc['since']} (syncs: {', '.join(doc['syncs']) or 'none'})")
    assets = doc["assets"]
    table("assets", ["change", "type", "id", "properties"],
          [["added", a["type"], a["id"], ""] for a in assets["added"]]
          + [["removed", a["type"], a["id"], ""] for a in assets["removed"]]
          + [["changed", a["type"], a["id"], ", ".join(a["properties"])] for a in assets["changed"]])
    table("findings", ["change", "severity", "check", "asset"],
          [[kind, f["severity"], f["check_id"], f["asset_id"]] for kind in ("new", "regressed", "resolved")
           for f in doc["findings"][kind]])
    table("attack paths", ["change", "severity", "entry", "target"],
          [[kind, p["severity"], p["entry"], p["target"]] for kind in ("new", "removed") for p in doc["attack_paths"][kind]])
    if not doc["attack_paths"]["compared"]:
        out.print(f"attack paths: {doc['attack_paths']['baseline_total']} → {doc['attack_paths']['total']} "
                  f"({doc['attack_paths']['note']})", highlight=False)
    table("exposure", ["type", "id", "property", "before", "after"],
          [[e["type"], e["id"], e["property"], e["before"], e["after"]] for e in doc["exposure"]])


@notify_app.command("add")
def notify_add(url: str = typer.Option(..., "--url"),
               kind: str = typer.Option("generic", "--kind", help="generic | slack | dingtalk | lark"),
               account: list[str] = typer.Option(..., "--account", help="account id (repeatable; * for all)"),
               secret: str = typer.Option(None, "--secret", help="the HMAC secret (default: generated, shown once)"),
               fmt: str = typer.Option("table", "--format", help=FORMAT_HELP)) -> None:
    """Add a webhook (its secret is kept in Redis only, never in the graph)."""
    from backend.notify import add_webhook

    check_format(fmt)
    with posture_errors():
        doc = add_webhook(driver(), url, kind, list(account), WHO, secret)
    emit_json(doc) if fmt == "json" else out.print(f"webhook {doc['id']} (secret, shown once: {doc['secret']})")


@notify_app.command("list")
def notify_list(account: str = typer.Option(None, "--account"),
                fmt: str = typer.Option("table", "--format", help=FORMAT_HELP)) -> None:
    """The webhooks (without secrets)."""
    from backend.notify import list_webhooks

    check_format(fmt)
    with posture_errors():
        rows = list_webhooks(driver(), account)
    if fmt == "json":
        emit_json({"webhooks": rows})
    else:
        table("webhooks", ["id", "kind", "url", "accounts"], [[r["id"], r["kind"], r["url"], ",".join(r["accounts"])] for r in rows])


@notify_app.command("remove")
def notify_remove(hook_id: str = typer.Option(..., "--id"),
                  fmt: str = typer.Option("table", "--format", help=FORMAT_HELP)) -> None:
    """Remove a webhook and its secret."""
    from backend.notify import remove_webhook

    check_format(fmt)
    with posture_errors():
        if not remove_webhook(driver(), hook_id):
            fail(f"no webhook {hook_id}")
    emit_json({"removed": hook_id}) if fmt == "json" else out.print(f"removed webhook {hook_id}")


@notify_app.command("test")
def notify_test(hook_id: str = typer.Option(..., "--id"), account: str = typer.Option("0", "--account"),
                fmt: str = typer.Option("table", "--format", help=FORMAT_HELP)) -> None:
    """Send a signed test alert now (retried with backoff) and say what the receiver answered."""
    from backend.notify import deliver_now, sample_alert

    check_format(fmt)
    with posture_errors():
        doc = deliver_now(driver(), hook_id, sample_alert(account), attempts=3, base_delay=1.0)
    if fmt == "json":
        emit_json(doc)
    else:
        out.print(f"{doc['status']} after {len(doc['attempts'])} attempt(s): {doc['attempts'][-1]}")
    if doc["status"] != "delivered":
        raise typer.Exit(1)


def _strict_account_ids(typer_app: typer.Typer) -> None:
    """Every command's `--account` is read by one rule (loaders.inputs.account_id, ASCII digits): a look-alike
    tenant ('１７３８…', full width) never enters through the CLI, whichever command."""
    for command in typer_app.registered_commands:
        if command.callback is not None and "account" in inspect.signature(command.callback).parameters:
            command.callback = _checked_account(command.callback)
    for group in typer_app.registered_groups:
        if group.typer_instance is not None:
            _strict_account_ids(group.typer_instance)


def _checked_account(command: Callable[..., Any]) -> Callable[..., Any]:
    from loaders.inputs import InputError, account_id

    @functools.wraps(command)
    def checked(*args: Any, **kwargs: Any) -> Any:
        given = kwargs.get("account")
        for value in given if isinstance(given, list) else [given]:
            if value is None or value == "*" and isinstance(given, list):  # `token create --account '*'`
                continue
            try:
                account_id(value, "--account")
            except InputError as exc:
                fail(str(exc), 2)
        return command(*args, **kwargs)

    return checked


_strict_account_ids(app)


def main() -> None:  # pragma: no cover - console entry
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
