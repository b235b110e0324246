"""The ingest reader fuzzed: whatever a line holds, it becomes an event, a wrap-up, or a `LineError`.

`recado ingest` reads files that other systems wrote. A line that is not a
valid event must be reported by number and skipped, never crash the run or
hang it: no exception but `LineError` may leave `parse_line` or `read_lines`.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.core.ingest import LineError, parse_line, read_lines
from hub.core.models import CallEvent, WrapUp

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
VALID = [
    {
        "type": "call",
        "call_id": "c1",
        "kind": "offered",
        "at": "2026-03-02T09:15:00Z",
        "did": "+351217000001",
        "caller": "+351912345678",
    },
    {"type": "call", "call_id": "c1", "kind": "answered", "at": "2026-03-02T09:15:04+00:00", "agent": "ana"},
    {"type": "wrapup", "call_id": "c1", "agent": "ana", "language": "pt", "answers": {"name": "Rui"}},
]
FIELDS = [
    "type",
    "source",
    "call_id",
    "kind",
    "at",
    "did",
    "caller",
    "agent",
    "raw",
    "answers",
    "language",
    "notes",
    "extra",
]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)
objects = st.fixed_dictionaries(
    {"type": st.sampled_from(["call", "wrapup", "other", ""]) | json_values},
    optional={
        name: json_values | st.sampled_from(["offered", "ended", "2026-03-02T09:15:00Z", "pt", "x"])
        for name in FIELDS[1:]
    },
)


def parsed_or_line_error(number: int, text: str) -> CallEvent | WrapUp | LineError | None:
    """What `parse_line` made of `text`; a `LineError` is returned, anything else raised propagates."""
    try:
        return parse_line(number, text)
    except LineError as exc:
        return exc


@FUZZ
@given(st.text(max_size=300), st.integers(min_value=1, max_value=10**6))
def test_any_text_is_an_event_a_wrapup_a_blank_or_a_line_error_naming_its_line(text: str, number: int) -> None:
    result = parsed_or_line_error(number, text)
    assert result is None or isinstance(result, CallEvent | WrapUp | LineError)
    if isinstance(result, LineError):
        assert str(result).startswith(f"line {number}: ")
    if result is None:
        assert not text.strip()


@FUZZ
@given(objects)
def test_any_json_object_is_an_event_a_wrapup_or_a_line_error(data: dict[str, Any]) -> None:
    result = parsed_or_line_error(3, json.dumps(data))
    assert isinstance(result, CallEvent | WrapUp | LineError)


@FUZZ
@given(st.sampled_from(VALID), st.data())
def test_a_valid_line_with_characters_cut_or_added_is_still_an_event_or_a_line_error(
    line: dict[str, Any], data: st.DataObject
) -> None:
    text = json.dumps(line)
    start = data.draw(st.integers(min_value=0, max_value=len(text)))
    end = data.draw(st.integers(min_value=start, max_value=min(len(text), start + 6)))
    filler = data.draw(st.text(max_size=6))
    result = parsed_or_line_error(1, text[:start] + filler + text[end:])
    assert isinstance(result, CallEvent | WrapUp | LineError)


@FUZZ
@given(st.lists(st.text(max_size=40) | st.sampled_from([json.dumps(v) for v in VALID]), max_size=20))
def test_read_lines_yields_every_non_blank_line_in_order_with_its_number(lines: list[str]) -> None:
    out = list(read_lines(lines))
    expected = [n for n, text in enumerate(lines, start=1) if text.strip()]
    # A line of text may hold a line break; `read_lines` numbers the items it was given.
    assert [number for number, _ in out] == expected
    assert all(isinstance(item, CallEvent | WrapUp | LineError) for _, item in out)


def test_a_line_of_a_megabyte_is_a_line_error() -> None:
    with pytest.raises(LineError, match=r"^line 9: "):
        parse_line(9, '{"type": "call", "call_id": "' + "x" * 1_000_000 + '"}')


def test_deeply_nested_json_is_a_line_error() -> None:
    with pytest.raises(LineError, match=r"^line 4: "):
        parse_line(4, "[" * 100_000)


def test_a_number_too_long_to_convert_is_a_line_error() -> None:
    with pytest.raises(LineError, match=r"^line 5: "):
        parse_line(5, '{"type": "wrapup", "call_id": "c1", "answers": {"n": ' + "1" * 5000 + "}}")
