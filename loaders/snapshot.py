"""Snapshot files (`skypath-snapshot/1`): validation, replay and recording.

Replay answers a collector's request from the recorded calls. A request matches a recorded call on
(product, action, region) and on every recorded param except page-size params; params the recorded
call lacks are ignored (see spec/snapshot-format.md).
"""

from __future__ import annotations

import gzip
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loaders.inputs import InputError, account_id, loads_json
from loaders.transport import ApiError, CallKey, MissingCallError

SNAPSHOT_FORMAT = "skypath-snapshot/1"
PAGE_SIZE_PARAMS = frozenset({"PageSize", "MaxItems", "MaxResults", "max-keys", "size"})
# cursors: a request must match the recorded one (page 2 is not page 1); value of the first page
CURSORS: dict[str, str] = {"PageNumber": "1", "Marker": "", "NextToken": "", "marker": "", "offset": "0"}


class SnapshotError(ValueError):
    """A snapshot that cannot be used; the message names the call and field."""


@dataclass
class Snapshot:
    account_id: str
    account_name: str
    collected_at: str
    calls: list[dict[str, Any]]
    # None: the snapshot has no `hosts` key (hosts not collected); a list, even empty, replaces the account's hosts
    hosts: list[dict[str, Any]] | None = None

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "format": SNAPSHOT_FORMAT,
            "account_id": self.account_id,
            "account_name": self.account_name,
            "collected_at": self.collected_at,
            "calls": self.calls,
        }
        if self.hosts is not None:
            doc["hosts"] = self.hosts
        return doc


def read_snapshot_document(path: str | Path) -> Any:
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise SnapshotError(f"cannot read snapshot {p}: {exc.strerror or exc}") from exc
    try:
        if p.suffix == ".gz" or raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
    except (OSError, EOFError) as exc:
        raise SnapshotError(f"snapshot {p} is not a valid gzip file: {exc}") from exc
    try:
        return loads_json(raw, f"snapshot {p}")
    except InputError as exc:
        raise SnapshotError(str(exc)) from exc


def parse_snapshot(doc: Any, source: str = "snapshot") -> Snapshot:
    """Validate the top level and every call's envelope; raise SnapshotError naming the field."""
    if not isinstance(doc, dict):
        raise SnapshotError(f"{source}: top level must be a JSON object, got {type(doc).__name__}")
    fmt = doc.get("format")
    if fmt != SNAPSHOT_FORMAT:
        raise SnapshotError(f"{source}: field 'format' must be {SNAPSHOT_FORMAT!r}, got {fmt!r}")
    try:
        account = account_id(doc.get("account_id"), f"{source}: field 'account_id'")
    except InputError as exc:
        raise SnapshotError(str(exc)) from exc
    calls = doc.get("calls")
    if not isinstance(calls, list):
        raise SnapshotError(f"{source}: field 'calls' must be a list, got {type(calls).__name__}")
    for i, call in enumerate(calls):
        where = f"{source}: calls[{i}]"
        if not isinstance(call, dict):
            raise SnapshotError(f"{where} must be an object")
        for key in ("product", "action", "region"):
            if not isinstance(call.get(key), str) or not call.get(key):
                raise SnapshotError(f"{where} ({call.get('action', '?')}): field '{key}' must be a non-empty string")
        params = call.get("params", {})
        if not isinstance(params, dict):
            raise SnapshotError(f"{where} ({call['action']}): field 'params' must be an object")
        if "error" in call:
            err = call["error"]
            if not isinstance(err, dict) or not isinstance(err.get("code"), str):
                raise SnapshotError(f"{where} ({call['action']}): field 'error' must be an object with a 'code' string")
        elif "response" not in call:
            raise SnapshotError(f"{where} ({call['action']}): needs 'response' or 'error'")
    hosts = doc.get("hosts")
    if hosts is not None and (not isinstance(hosts, list) or not all(isinstance(h, dict) for h in hosts)):
        raise SnapshotError(f"{source}: field 'hosts' must be a list of objects")
    collected_at = doc.get("collected_at") or ""
    if not isinstance(collected_at, str):
        raise SnapshotError(f"{source}: field 'collected_at' must be a string")
    name = doc.get("account_name") or ""
    return Snapshot(account, str(name), collected_at, calls, hosts)


def load_snapshot(path: str | Path) -> Snapshot:
    return parse_snapshot(read_snapshot_document(path), source=str(path))


def _identity_param(key: str) -> bool:
    """Params that pick *which* thing or page is answered; they must match. Others only rank candidates."""
    return key.endswith(("Id", "Ids", "Name", "Names")) or key in CURSORS or key in ("bucket", "VersionId", "PolicyType")


def _first_page(key: str, value: Any) -> bool:
    return key in CURSORS and (not value or _norm(value) == CURSORS[key])


def _match_score(recorded: dict[str, Any], params: dict[str, Any]) -> int | None:
    """None when the recorded call cannot answer the request; else how many params agree. A recorded param
    must agree with the request (enumerations case-insensitively); params absent from either side only rank."""
    score = 0
    for key, value in recorded.items():
        if key in PAGE_SIZE_PARAMS:
            continue
        if key not in params:
            # a first-page request may omit the cursor that was recorded as 1 / 0 / empty
            if _first_page(key, value):
                continue
            if _identity_param(key) and key != "RegionId":
                return None
            continue
        if _norm(params[key]) == _norm(value):
            score += 1
        elif _identity_param(key) or _norm(params[key]).lower() != _norm(value).lower():
            return None  # the recording answers another question (e.g. Direction=all is not Direction=ingress)
    for key, value in params.items():
        # a cursor we send must have been recorded (page 2 is not page 1)
        if key in CURSORS and key not in recorded and not _first_page(key, value):
            return None
    return score


def _norm(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class ReplayTransport:
    """Answers collectors from a snapshot. Thread-safe (read-only after construction)."""

    def __init__(self, snapshot: Snapshot):
        self.snapshot = snapshot
        self.account_id = snapshot.account_id
        self._index: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
        self._regions: dict[str, set[str]] = defaultdict(set)
        # exact (product, action, region, params without page sizes) → call: O(1) for the common case
        self._exact: dict[tuple[str, str, str, frozenset[tuple[str, str]]], dict[str, Any]] = {}
        for call in snapshot.calls:
            product = call["product"].lower()
            self._index[(product, call["action"].lower(), call["region"])].append(call)
            self._regions[product].add(call["region"])
            key = (product, call["action"].lower(), call["region"], self._signature(call.get("params", {})))
            self._exact.setdefault(key, call)

    @staticmethod
    def _signature(params: dict[str, Any]) -> frozenset[tuple[str, str]]:
        return frozenset((k, _norm(v)) for k, v in params.items() if k not in PAGE_SIZE_PARAMS)

    def regions(self, product: str) -> list[str]:
        return sorted(r for r in self._regions.get(product.lower(), set()) if r != "global")

    def recorded_params(self, product: str, action: str) -> list[dict[str, Any]]:
        """The params of every recorded call of one action (lets replay enumerate what was fetched)."""
        return [
            dict(call.get("params", {}))
            for (prod, act, _), calls in self._index.items()
            if prod == product.lower() and act == action.lower()
            for call in calls
        ]

    def has_calls(self, product: str, region: str) -> bool:
        return region in self._regions.get(product.lower(), set())

    def find(self, product: str, action: str, region: str, params: dict[str, Any]) -> dict[str, Any] | None:
        exact = self._exact.get((product.lower(), action.lower(), region, self._signature(params)))
        if exact is not None:
            return exact
        best: dict[str, Any] | None = None
        best_score = -1
        for call in self._index.get((product.lower(), action.lower(), region), []):
            score = _match_score(call.get("params", {}), params)
            if score is not None and score > best_score:
                best, best_score = call, score
        return best

    def call(self, product: str, version: str, action: str, region: str, params: dict[str, Any]) -> Any:
        key = CallKey(product, action, region, {k: v for k, v in params.items() if k not in PAGE_SIZE_PARAMS})
        recorded = self.find(product, action, region, params)
        if recorded is None:
            raise MissingCallError(f"snapshot has no recorded answer for {key.describe()}")
        if "error" in recorded:
            err = recorded["error"]
            raise ApiError(
                str(err.get("code")), str(err.get("message", "")), int(err.get("http_status", 400) or 400), key
            )
        return recorded["response"]
