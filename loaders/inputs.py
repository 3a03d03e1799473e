"""Limits on what enters from outside (snapshots, host reports, API bodies, CLI options), checked once here.

Bad input gets a clear `InputError` (a ValueError) naming where it was, never a RecursionError, a
"Exceeds the limit (4300 digits)" ValueError deep in a library, or a Neo4j index-key error mid-write:
- JSON nesting is bounded *before* decoding (C-speed passes, about a third of the decoding time), so a
  body of 200,000 `[` costs a few passes and no recursion;
- integers must fit the 64-bit integers Neo4j stores (checked as the decoder meets them);
- account ids are ASCII digits only: `str.isdigit()` also accepts '１７３８' (full width), a look-alike tenant;
(Identifier lengths are bounded where ids become node keys: graph_schema/store.py `checked_id`, and
loaders/sync.py names the call whose answer holds one.)
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from typing import Any

MAX_JSON_DEPTH = 64  # snapshots nest about 12 deep (envelope + the APIs' {"X": {"X": [...]}}), reports 4
INT64 = 2**63 - 1
ACCOUNT_ID = re.compile(r"[0-9]{1,32}")  # [0-9], not \d: \d matches every Unicode decimal digit
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
ISO_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?(Z|[+-][0-9]{2}:[0-9]{2})?")

_ESCAPE = re.compile(rb"\\.")
_STRUCTURE_OR_QUOTE = b'[]{}"'
_NOT_STRUCTURE = bytes(c for c in range(256) if c not in _STRUCTURE_OR_QUOTE)
_STRING = re.compile(rb'"[^"]*"')
_INNERMOST_PAIR = re.compile(rb"\[\]|\{\}")


class InputError(ValueError):
    """Input refused before anything was written; the message names where."""


def json_depth_within(data: str | bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Does the JSON text nest at most `limit` arrays/objects deep? In C-speed passes: escapes dropped, every
    byte but brackets and quotes dropped, strings (now quoted brackets or nothing) dropped; then balanced
    brackets lose one level per pass. Text whose brackets do not balance is not JSON, and is left to the
    decoder to report — unless it opens more than `limit` levels, which the decoder would recurse into."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    # `""` first: mostly empty strings; where it joins two strings, nothing stood between them
    brackets = _STRING.sub(b"", _ESCAPE.sub(b"", raw).translate(None, _NOT_STRUCTURE).replace(b'""', b""))
    for _ in range(limit):
        if not brackets:
            return True
        peeled = _INNERMOST_PAIR.sub(b"", brackets)
        if peeled == brackets:  # unbalanced: not JSON; the decoder says so unless it would nest too deep
            return len(brackets) <= limit
        brackets = peeled
    return not brackets


_NUMBER_RUN = re.compile(rb"(?<![.0-9eE+-])-?[0-9]{19,}(?![.0-9eE])")  # integers long enough to overflow
_LONG_DIGIT_RUN = re.compile(rb"[0-9]{19}")


def check_decoded(text: bytes, where: str, depth: int = MAX_JSON_DEPTH) -> None:
    """The limits `loads_json` applies, on the JSON text of a value a streaming parser decoded (its nesting
    at most `depth`, its integers 64-bit): the same InputError for the same input."""
    if not json_depth_within(text, depth):
        raise InputError(f"{where} nests deeper than {MAX_JSON_DEPTH} levels")
    check_integers(text, where)


def check_integers(text: bytes, where: str) -> None:
    """The 64-bit bound `loads_json` applies to integers, on the JSON text of a decoded value."""
    if _LONG_DIGIT_RUN.search(text) is None:  # one scan: almost every text has no 19-digit run at all
        return
    for number in _NUMBER_RUN.finditer(_STRING.sub(b"", _ESCAPE.sub(b"", text))):
        try:
            _int64(number.group().decode())
        except InputError as exc:
            raise InputError(f"{where}: {exc}") from exc


def _int64(text: str) -> int:
    if len(text.lstrip("-")) > 19 or abs(value := int(text)) > INT64:
        raise InputError(f"integer {text[:24]}{'…' if len(text) > 24 else ''} is out of the 64-bit range")
    return value


def loads_json(data: str | bytes, where: str) -> Any:
    """`json.loads` with the limits above; every failure is an InputError naming `where`."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
    except UnicodeDecodeError as exc:
        raise InputError(f"{where} is not valid UTF-8: {exc}") from exc
    if not json_depth_within(data):
        raise InputError(f"{where} nests deeper than {MAX_JSON_DEPTH} levels")
    try:
        return json.loads(text, parse_int=_int64)
    except InputError as exc:
        raise InputError(f"{where}: {exc}") from exc
    except (json.JSONDecodeError, RecursionError) as exc:
        raise InputError(f"{where} is not valid JSON: {exc}") from exc


def account_id(value: Any, where: str = "account id") -> str:
    """An Alibaba Cloud account id: 1-32 ASCII digits (exactly what a Skypath tenant key may be)."""
    if not isinstance(value, str) or not ACCOUNT_ID.fullmatch(value):
        shown = repr(value) if not isinstance(value, str) or len(value) <= 40 else repr(value[:40] + "…")
        raise InputError(f"{where} must be the account id, 1-32 ASCII digits (0-9); got {shown}")
    return value


def iso_date(value: str, where: str) -> str:
    """A strict ISO-8601 date (`2027-01-31`) or time (`2027-01-31T00:00:00Z`): returned unchanged.
    `01/01/2020`, `2020`, `tomorrow` or full-width digits are refused, never read as "no date"."""
    if not (ISO_DATE.fullmatch(value) or ISO_TIME.fullmatch(value)):
        raise InputError(f"{where} must be an ISO date (YYYY-MM-DD) or time (YYYY-MM-DDTHH:MM:SSZ); got {value!r}")
    try:
        if ISO_DATE.fullmatch(value):
            date.fromisoformat(value)
        else:
            datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InputError(f"{where} is not a valid date: {value!r} ({exc})") from exc
    return value


def iso_moment(value: str) -> datetime:
    """An `iso_date` value as an aware datetime (a bare date is its midnight, UTC)."""
    when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return when if when.tzinfo else when.replace(tzinfo=UTC)
