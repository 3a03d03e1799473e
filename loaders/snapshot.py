"""Snapshot files (`skypath-snapshot/1`): validation, replay and recording.

Replay answers a collector's request from the recorded calls. A request matches a recorded call on
(product, action, region) and on every recorded param except page-size params; params the recorded
call lacks are ignored (see spec/snapshot-format.md).
"""

from __future__ import annotations

import gzip
import json
import zlib
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ijson
from ijson.common import ObjectBuilder

from loaders.inputs import MAX_JSON_DEPTH, InputError, account_id, check_decoded, check_integers, loads_json
from loaders.transport import ApiError, CallKey, MissingCallError

SNAPSHOT_FORMAT = "skypath-snapshot/1"
PAGE_SIZE_PARAMS = frozenset({"PageSize", "MaxItems", "MaxResults", "max-keys", "size"})
# cursors: a request must match the recorded one (page 2 is not page 1); value of the first page
CURSORS: dict[str, str] = {"PageNumber": "1", "CurrentPage": "1", "Marker": "", "NextToken": "", "marker": "",
                           "offset": "0"}


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


class PackedResponse:
    """A recorded response kept as compressed JSON until the collector asks for it (a Python object tree
    is ~10x its JSON text: a whole 100k-asset snapshot held as objects is most of an ingest's memory)."""

    __slots__ = ("data",)

    def __init__(self, text: bytes):
        self.data = zlib.compress(text, 1)

    def unpack(self) -> Any:
        return json.loads(zlib.decompress(self.data))


_TOP_FIELDS = ("format", "account_id", "account_name", "collected_at", "hosts")


def stream_snapshot(path: str | Path) -> Snapshot:
    """`load_snapshot` reading the file incrementally: the calls are parsed one at a time (ijson's C parser)
    and each response is packed as it arrives, so memory grows with the largest call, not with the file.
    The small top-level fields before `calls` come from the same read; any after it (`hosts`) from a
    second pass that builds nothing else. Same validation and messages as `load_snapshot`."""
    p = Path(path)
    try:
        with p.open("rb") as raw:
            gz = raw.read(2) == b"\x1f\x8b" or p.suffix == ".gz"

        def opened() -> Any:
            return gzip.open(p, "rb") if gz else p.open("rb")

        where = f"snapshot {p}"
        with opened() as fh:
            _check_depth(fh, where)
        with opened() as fh:
            doc = _fields_before_calls(ijson.parse(fh, use_float=True))
        if isinstance(doc, dict) and doc.get("calls") is _STREAMED:
            with opened() as fh:
                doc["calls"] = [_packed(call, where) for call in ijson.items(fh, "calls.item", use_float=True)]
            for key in _TOP_FIELDS:
                if key not in doc:
                    with opened() as fh:
                        found = list(ijson.items(fh, key, use_float=True))
                    if found:
                        doc[key] = found[0]
        check_decoded(json.dumps({k: v for k, v in doc.items() if k != "calls"} if isinstance(doc, dict) else doc)
                      .encode(), where)
    except InputError as exc:
        raise SnapshotError(str(exc)) from exc
    except OSError as exc:
        if isinstance(exc, FileNotFoundError | PermissionError | IsADirectoryError):
            raise SnapshotError(f"cannot read snapshot {p}: {exc.strerror or exc}") from exc
        raise SnapshotError(f"snapshot {p} is not a valid gzip file: {exc}") from exc
    except EOFError as exc:
        raise SnapshotError(f"snapshot {p} is not a valid gzip file: {exc}") from exc
    except (ijson.JSONError, UnicodeDecodeError) as exc:
        if "integer overflow" in str(exc):  # yajl's own bound is the 64-bit range loads_json applies
            raise SnapshotError(f"snapshot {p}: an integer is out of the 64-bit range ({exc})") from exc
        raise SnapshotError(f"snapshot {p} is not valid JSON: {exc}") from exc
    return parse_snapshot(doc, source=str(p))


_STREAMED = object()  # stands for the calls array until its own pass reads it


def _check_depth(fh: Any, where: str) -> None:
    """Refuse a document nested deeper than `loads_json` allows, before anything builds it: a prefix-tracking
    parse of 200,000 open brackets grows quadratically (it took 18 GB). One event pass, no values kept
    (~1.5 s for a 59 MB snapshot); a bomb is refused at its 65th bracket."""
    depth = 0
    for event, _ in ijson.basic_parse(fh, use_float=True):
        if event in ("start_map", "start_array"):
            depth += 1
            if depth > MAX_JSON_DEPTH:
                raise InputError(f"{where} nests deeper than {MAX_JSON_DEPTH} levels")
        elif event in ("end_map", "end_array"):
            depth -= 1


def _packed(call: Any, where: str) -> Any:
    """A call with its response packed, within the limits `loads_json` applies to a whole snapshot (its nesting
    was bounded by `_check_depth` over the whole document; its integers are checked here)."""
    if not isinstance(call, dict):
        return call
    response = call.pop("response", _STREAMED)
    check_integers(json.dumps(call).encode(), where)
    if response is not _STREAMED:
        text = json.dumps(response, separators=(",", ":")).encode()
        check_integers(text, where)
        call["response"] = PackedResponse(text)
    return call


def _fields_before_calls(events: Iterator[tuple[str, str, Any]]) -> Any:
    """The top-level object up to its `calls` array (which stays `_STREAMED`); the whole value if it is
    not an object or `calls` is not an array (parse_snapshot then names the fault)."""
    _, event, value = next(events)
    if event != "start_map":
        return _build(event, value, events)
    doc: dict[str, Any] = {}
    for _, event, key in events:
        if event == "end_map":
            break
        _, first_event, first_value = next(events)
        if key == "calls" and first_event == "start_array":
            doc["calls"] = _STREAMED
            break
        doc[key] = _build(first_event, first_value, events)
    return doc


def _build(event: str, value: Any, events: Iterator[tuple[str, str, Any]]) -> Any:
    """One JSON value from its first event on."""
    builder = ObjectBuilder()
    builder.event(event, value)
    depth = 1 if event in ("start_map", "start_array") else 0
    while depth:
        _, event, value = next(events)
        builder.event(event, value)
        if event in ("start_map", "start_array"):
            depth += 1
        elif event in ("end_map", "end_array"):
            depth -= 1
    return builder.value


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
        response = recorded["response"]
        return response.unpack() if isinstance(response, PackedResponse) else response
