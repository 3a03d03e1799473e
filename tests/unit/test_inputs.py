"""loaders/inputs.py: the limits every outside input goes through."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graph_schema.store import MAX_ID_LENGTH, GraphBatch, IdentifierError
from loaders.inputs import MAX_JSON_DEPTH, InputError, account_id, iso_date, json_depth_within, loads_json


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("text, within", [
    (nested(MAX_JSON_DEPTH), True), (nested(MAX_JSON_DEPTH + 1), False), ("[" * 200_000, False),
    ('{"a": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}', True),
    ('{"a": "\\"[[[[", "b": [1, {"c": []}]}', True), ('{"k[": "", "": "]]", "x": "\\\\"}', True), ('["[", "", "]"]', True),
    ('["\\u005b", "\\\\", ' + '"[",' * 100 + '"{"]', True), ("[1, 2", True), ("", True), ('"unterminated [[[', True),
    ('{"a": [' * 40 + "1" + "]}" * 40, False), ('{"a": [' * 32 + "1" + "]}" * 32, True),
])
def test_depth_scan(text: str, within: bool) -> None:
    assert json_depth_within(text) is within


@pytest.mark.parametrize("text, message", [
    (nested(100_000), "nests deeper"), ("[" * 200_000, "nests deeper"), ("7" * 5000, "64-bit"),
    (f"[{2**63}]", "64-bit"), ('{"a": 1', "not valid JSON"), (b"\xff\xfe", "UTF-8"), ("[1, 2", "not valid JSON"),
])
def test_loads_json_refuses_clearly(text: str | bytes, message: str) -> None:
    with pytest.raises(InputError, match=message) as err:
        loads_json(text, "the body")
    assert str(err.value).startswith("the body")


def test_loads_json_reads_what_json_reads() -> None:
    doc = {"a": [1, -2, 2**63 - 1, -(2**63) + 1, 1.5, "x[y]{z}\"", None, True], "b": {"c": nested(10)}}
    assert loads_json(json.dumps(doc), "x") == doc


@pytest.mark.parametrize("value", ["１７３８２９１０４５５６１２３４", "١٢٣", "12a", "", " 12", "12\n", "1" * 33, 12, None, "²"])
def test_account_ids_are_ascii_digits_only(value: object) -> None:
    with pytest.raises(InputError, match="ASCII digits"):
        account_id(value, "--account")


def test_account_id_accepts_ascii_digits() -> None:
    assert account_id("1738291045561234") == "1738291045561234"


@pytest.mark.parametrize("value", ["01/01/2020", "2020", "2020-1-1", "2020-02-30", "２０２０-01-01", "2020-01-01 00:00",
                                   "2020-01-01T25:00:00Z", "never", ""])
def test_dates_are_strict_iso(value: str) -> None:
    with pytest.raises(InputError, match="--expires"):
        iso_date(value, "--expires")


@pytest.mark.parametrize("value", ["2027-01-31", "2027-01-31T00:00:00Z", "2027-01-31T08:00:00+08:00",
                                   "2027-01-31T00:00:00.123456Z", "2027-01-31T00:00"])
def test_iso_dates_and_times_pass_unchanged(value: str) -> None:
    assert iso_date(value, "--expires") == value


def test_node_ids_are_bounded() -> None:
    batch = GraphBatch("1")
    batch.node("EcsInstance", "i" * MAX_ID_LENGTH, "ecs:cn-hangzhou")
    with pytest.raises(IdentifierError, match="EcsInstance id"):
        batch.node("EcsInstance", "i" * (MAX_ID_LENGTH + 1), "ecs:cn-hangzhou")


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63) + 1, 2**63 - 1) | st.text(alphabet='[]{}"\\ab\u00e9\n', max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(alphabet='[]{}"\\k', max_size=4), inner,
                                                                max_size=4),
    max_leaves=40,
)


def true_depth(value: object) -> int:
    if isinstance(value, list):
        return 1 + max((true_depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((true_depth(v) for v in value.values()), default=0)
    return 0


@settings(max_examples=400, deadline=None)
@given(JSON_VALUES, st.booleans())
def test_depth_scan_agrees_with_the_decoded_depth(value: object, ascii_only: bool) -> None:
    text = json.dumps(value, ensure_ascii=ascii_only)
    depth = true_depth(value)
    assert json_depth_within(text, limit=max(depth, 1))
    if depth > 1:
        assert not json_depth_within(text, limit=depth - 1)
    assert loads_json(text, "x") == value
