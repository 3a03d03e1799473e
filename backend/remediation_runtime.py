"""Where remediation calls go: the live API (profile / credential chain), the local emulator
(`--endpoint` or $SKYPATH_ALIBABA_ENDPOINT), or — for an account loaded from a snapshot — an
emulated copy of that account kept under SKYPATH_HOME/state, so fixes are verifiable offline.

The emulated copy is tied to the graph it was made for: it records the Account's `raw_digest`
(the digest of the answers the graph was built from) after every offline remediation. When the
account was ingested since (`ingest --snapshot newer.json`: another digest), the copy is stale and
is rebuilt from the snapshot the account now comes from (its `source`): the newest snapshot is the
truth, and a fix made offline on an older copy is not carried over (the newer snapshot shows
whether the real account has it).
"""

from __future__ import annotations

import fcntl
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from neo4j import Driver

from backend.ingest import ingest_transport
from backend.remediate import endpoint_from_env, execute
from backend.settings import skypath_home
from checks.remediation import RemediationError
from loaders.emulated import EmulatedAccount, EmulatedTransport
from loaders.products import api
from loaders.snapshot import load_snapshot, parse_snapshot
from loaders.transport import ApiError

STATE_FORMAT = "skypath-emulated-state/1"


def _account_source(driver: Driver, account_id: str) -> tuple[str | None, str | None, str | None]:
    rec = driver.execute_query("MATCH (a:Account {uid: $uid}) RETURN a.source AS s, a.name AS n, a.collected_at AS c",
                               uid=f"{account_id}:{account_id}").records
    if not rec:
        raise RemediationError(f"account {account_id} is not loaded")
    return rec[0]["s"], rec[0]["n"], rec[0]["c"]


def _graph_digest(driver: Driver, account_id: str) -> str | None:
    rec = driver.execute_query("MATCH (a:Account {uid: $uid}) RETURN a.raw_digest AS d",
                               uid=f"{account_id}:{account_id}").records
    return rec[0]["d"] if rec else None


def _state_path(account_id: str) -> Path:
    return skypath_home() / "state" / f"{account_id}.json"


@contextmanager
def _state_lock(account_id: str) -> Iterator[None]:
    """One offline remediation of an account at a time (load → fix → save is a read-modify-write)."""
    path = _state_path(account_id).with_suffix(".lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _saved_state(account_id: str, digest: str | None) -> EmulatedAccount | None:
    """The saved copy when it was made for the graph as it is now (same raw_digest), else None (stale)."""
    path = _state_path(account_id)
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict) or doc.get("format") != STATE_FORMAT or not digest or doc.get("raw_digest") != digest:
        return None  # a copy of older answers (or of the pre-digest format): the graph was ingested since
    return EmulatedAccount(parse_snapshot(doc["snapshot"], str(path)))


def _offline_state(driver: Driver, account_id: str) -> EmulatedAccount:
    source, _, _ = _account_source(driver, account_id)
    saved = _saved_state(account_id, _graph_digest(driver, account_id))
    if saved is not None:
        return saved
    if not source or not source.startswith("snapshot:"):
        raise RemediationError(
            "no API to send the fix to: pass --account-profile NAME (live), or --endpoint URL / "
            "$SKYPATH_ALIBABA_ENDPOINT (the emulator)"
        )
    return EmulatedAccount(load_snapshot(source.removeprefix("snapshot:")))


def _save_state(driver: Driver, state: EmulatedAccount) -> None:
    """Save the copy with the digest of the graph it now matches (the re-collect after the fix wrote it)."""
    path = _state_path(state.account_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"format": STATE_FORMAT, "raw_digest": _graph_digest(driver, state.account_id),
                               "snapshot": state.snapshot.to_json()}))
    tmp.replace(path)


def _transport(driver: Driver, account_id: str, endpoint: str | None, profile: str | None) -> tuple[Any, EmulatedAccount | None]:
    from loaders.transport_live import LiveTransport

    endpoint = endpoint or endpoint_from_env()
    if endpoint:
        return LiveTransport(account_id, endpoint_override=endpoint), None
    if profile:
        return LiveTransport.from_profile(profile, account_id=account_id), None
    state = _offline_state(driver, account_id)
    return EmulatedTransport(state), state


def execute_for_account(driver: Driver, account_id: str, check_id: str, asset_id: str, who: str,
                        endpoint: str | None = None, profile: str | None = None) -> dict[str, Any]:
    if endpoint or endpoint_from_env() or profile:
        return _execute(driver, account_id, check_id, asset_id, who, endpoint, profile)
    with _state_lock(account_id):
        return _execute(driver, account_id, check_id, asset_id, who, None, None)


def _execute(driver: Driver, account_id: str, check_id: str, asset_id: str, who: str,
             endpoint: str | None, profile: str | None) -> dict[str, Any]:
    transport, state = _transport(driver, account_id, endpoint, profile)
    _, name, collected_at = _account_source(driver, account_id)
    emulated = state is not None or bool(endpoint or endpoint_from_env())

    def reingest(t: Any) -> None:
        hosts = state.snapshot.hosts if state is not None else None
        # an emulated account keeps its recording time so age-based checks stay reproducible
        ingest_transport(driver, t, account_name=name or "", collected_at=collected_at if emulated else None,
                         host_reports=hosts)

    digest_before = _graph_digest(driver, account_id)
    try:
        doc = execute(driver, account_id, check_id, asset_id, transport, reingest, who)
    except ApiError as exc:
        raise RemediationError(f"the API refused the fix: {exc}") from exc
    finally:
        # keep the copy when the graph was re-collected from it (even if verifying failed afterwards); when the
        # graph was not (a call failed and was undone, re-collecting failed), the copy in memory is dropped so
        # copy and graph stay the same account
        if state is not None and state.writes and _graph_digest(driver, account_id) != digest_before:
            _save_state(driver, state)
    if state is not None and state.writes:
        doc["applied_to"] = f"emulated copy of the account ({_state_path(account_id)})"
    elif endpoint or endpoint_from_env():
        doc["applied_to"] = f"emulator at {endpoint or endpoint_from_env()}"
    else:
        doc["applied_to"] = "live account"
    return doc


def activate_account(driver: Driver, account_id: str, who: str, endpoint: str | None = None,
                     profile: str | None = None) -> dict[str, Any]:
    """CreateServiceLinkedRole for CSPM, then re-collect so scans see the role."""
    transport, state = _transport(driver, account_id, endpoint, profile)
    try:
        body = transport.call(*api("ResourceManager").pair, "CreateServiceLinkedRole", "global",
                              {"ServiceName": "cspm.sas.aliyuncs.com"})
    except ApiError as exc:
        raise RemediationError(f"CreateServiceLinkedRole failed: {exc}") from exc
    _, name, collected_at = _account_source(driver, account_id)
    ingest_transport(driver, transport, account_name=name or "", collected_at=collected_at if state else None,
                     host_reports=state.snapshot.hosts if state else None)
    if state is not None:
        _save_state(driver, state)
    driver.execute_query(
        "CREATE (:AuditEntry {account_id: $a, at: datetime(), who: $who, action: 'activate', detail: $d})",
        a=account_id, who=who, d=json.dumps(body, default=str),
    )
    return {"account_id": account_id, "service_linked_role": "AliyunServiceRoleForSasCspm", "response": body}
