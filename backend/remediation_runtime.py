"""Where remediation calls go: the live API (profile / credential chain), the local emulator
(`--endpoint` or $SKYPATH_ALIBABA_ENDPOINT), or — for an account loaded from a snapshot — an
emulated copy of that account kept under SKYPATH_HOME/state, so fixes are verifiable offline."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from neo4j import Driver

from backend.ingest import ingest_transport
from backend.remediate import endpoint_from_env, execute
from backend.settings import skypath_home
from checks.remediation import RemediationError
from loaders.emulated import EmulatedAccount, EmulatedTransport
from loaders.snapshot import load_snapshot
from loaders.transport import ApiError


def _account_source(driver: Driver, account_id: str) -> tuple[str | None, str | None, str | None]:
    rec = driver.execute_query("MATCH (a:Account {uid: $uid}) RETURN a.source AS s, a.name AS n, a.collected_at AS c",
                               uid=f"{account_id}:{account_id}").records
    if not rec:
        raise RemediationError(f"account {account_id} is not loaded")
    return rec[0]["s"], rec[0]["n"], rec[0]["c"]


def _state_path(account_id: str) -> Path:
    return skypath_home() / "state" / f"{account_id}.json"


def _offline_state(driver: Driver, account_id: str) -> EmulatedAccount:
    source, _, _ = _account_source(driver, account_id)
    state_file = _state_path(account_id)
    if state_file.exists():
        return EmulatedAccount(load_snapshot(state_file))
    if not source or not source.startswith("snapshot:"):
        raise RemediationError(
            "no API to send the fix to: pass --account-profile NAME (live), or --endpoint URL / "
            "$SKYPATH_ALIBABA_ENDPOINT (the emulator)"
        )
    return EmulatedAccount(load_snapshot(source.removeprefix("snapshot:")))


def _save_state(state: EmulatedAccount) -> None:
    path = _state_path(state.account_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state.snapshot.to_json()))
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
    transport, state = _transport(driver, account_id, endpoint, profile)
    _, name, collected_at = _account_source(driver, account_id)
    emulated = state is not None or bool(endpoint or endpoint_from_env())

    def reingest(t: Any) -> None:
        hosts = state.snapshot.hosts if state is not None else None
        # an emulated account keeps its recording time so age-based checks stay reproducible
        ingest_transport(driver, t, account_name=name or "", collected_at=collected_at if emulated else None,
                         host_reports=hosts)

    try:
        doc = execute(driver, account_id, check_id, asset_id, transport, reingest, who)
    except ApiError as exc:
        raise RemediationError(f"the API refused the fix: {exc}") from exc
    if state is not None and state.writes:
        _save_state(state)
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
        body = transport.call("ResourceManager", "2020-03-31", "CreateServiceLinkedRole", "global",
                              {"ServiceName": "cspm.sas.aliyuncs.com"})
    except ApiError as exc:
        raise RemediationError(f"CreateServiceLinkedRole failed: {exc}") from exc
    _, name, collected_at = _account_source(driver, account_id)
    ingest_transport(driver, transport, account_name=name or "", collected_at=collected_at if state else None,
                     host_reports=state.snapshot.hosts if state else None)
    if state is not None:
        _save_state(state)
    driver.execute_query(
        "CREATE (:AuditEntry {account_id: $a, at: datetime(), who: $who, action: 'activate', detail: $d})",
        a=account_id, who=who, d=json.dumps(body, default=str),
    )
    return {"account_id": account_id, "service_linked_role": "AliyunServiceRoleForSasCspm", "response": body}
