"""Reading JSON lines of events and wrap-ups: bad lines reported by number, the rest processed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sample_clients import buy, clients_yaml
from sqlalchemy import select

from hub.core import directory
from hub.core import store as t
from hub.core.engine import Engine
from hub.core.ingest import LineError, ingest, parse_line, read_lines
from hub.core.models import CallEvent, EventKind, WrapUp
from hub.core.store import Store
from hub.plugins import Plugins
from hub.settings import Settings

OFFERED = (
    '{"type":"call","call_id":"c1","kind":"offered","at":"2026-03-02T09:15:00Z",'
    '"did":"+351217000001","caller":"+351912345678"}'
)
ANSWERED = '{"type":"call","call_id":"c1","kind":"answered","at":"2026-03-02T09:15:04Z","agent":"ana"}'
ENDED = '{"type":"call","call_id":"c1","kind":"ended","at":"2026-03-02T09:18:04Z"}'
WRAPUP = '{"type":"wrapup","call_id":"c1","agent":"ana","language":"pt","answers":{"name":"Rui","reason":"booking"}}'


def error_of(text: str | bytes, number: int = 7) -> str:
    """The message of the `LineError` that line `number` with `text` raises."""
    with pytest.raises(LineError) as caught:
        parse_line(number, text)
    return str(caught.value)


# --- one line ------------------------------------------------------------------------------------


def test_a_call_line_is_a_call_event() -> None:
    event = parse_line(1, OFFERED)
    assert isinstance(event, CallEvent)
    assert (event.call_id, event.kind, event.did) == ("c1", EventKind.OFFERED, "+351217000001")
    assert event.at.utcoffset() is not None


def test_a_wrapup_line_is_a_wrapup() -> None:
    wrapup = parse_line(1, WRAPUP)
    assert isinstance(wrapup, WrapUp)
    assert wrapup.answers == {"name": "Rui", "reason": "booking"}


def test_a_blank_line_is_nothing() -> None:
    assert parse_line(1, "   \n") is None


def test_a_line_that_is_not_json_names_its_number() -> None:
    assert error_of("not json") == "line 7: not JSON (Expecting value at column 1)"


def test_a_json_value_that_is_not_an_object_is_refused() -> None:
    assert error_of("[1, 2]") == "line 7: expected a JSON object, got list"


def test_an_unknown_type_is_refused_naming_the_expected_ones() -> None:
    assert error_of('{"type":"fax"}') == 'line 7: field type: expected "call" or "wrapup", got \'fax\''


def test_a_line_without_a_type_is_refused() -> None:
    assert error_of('{"call_id":"c1"}') == 'line 7: field type: expected "call" or "wrapup", got None'


def test_an_unknown_field_is_named() -> None:
    assert error_of(ANSWERED.replace("}", ',"colour":"red"}')) == "line 7: field colour: unknown field"


def test_a_time_without_offset_is_refused() -> None:
    message = error_of(ANSWERED.replace("09:15:04Z", "09:15:04"))
    assert message.startswith("line 7: field at: ")
    assert "timezone" in message


def test_a_wrong_type_is_named_with_its_field() -> None:
    assert error_of(ANSWERED.replace('"answered"', "3")).startswith("line 7: field kind: ")


def test_a_line_of_utf8_bytes_is_parsed() -> None:
    assert isinstance(parse_line(1, WRAPUP.replace("Rui", "João").encode()), WrapUp)


def test_a_line_that_is_not_utf8_names_its_number() -> None:
    assert error_of(b'{"type":"wrapup","call_id":"\xff"}') == (
        "line 7: not UTF-8 text (invalid start byte at byte 29)"
    )


def test_a_byte_order_mark_before_the_json_is_ignored() -> None:
    assert isinstance(parse_line(1, b"\xef\xbb\xbf" + OFFERED.encode()), CallEvent)


def test_every_problem_of_a_line_is_named() -> None:
    message = error_of('{"type":"call","call_id":"c1","kind":"rang","at":"soon"}')
    assert "field kind: " in message and "field at: " in message


# --- numbering -----------------------------------------------------------------------------------


def test_lines_are_numbered_from_one_counting_blank_lines() -> None:
    numbered = list(read_lines([OFFERED, "", "oops", ANSWERED]))
    assert [number for number, _ in numbered] == [1, 3, 4]
    assert isinstance(numbered[1][1], LineError)
    assert str(numbered[1][1]).startswith("line 3: ")


# --- through the engine --------------------------------------------------------------------------


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    """An engine over the sample clients, with acme holding a 12-month contract."""
    store = Store(f"sqlite:///{tmp_path / 'recado.db'}")
    plugins = Plugins(only={"email"})
    directory.apply_file(store, plugins.registry, tmp_path / "clients.yaml", text=clients_yaml(tmp_path / "mail"))
    buy(store, plugins, "acme")
    yield Engine(store, plugins.registry, Settings(database_url=store.url))
    store.dispose()


def records(engine: Engine) -> list[dict[str, object]]:
    """Every record the engine wrote."""
    with engine.store.connect() as conn:
        return [dict(row.data) for row in conn.execute(select(t.records.c.data))]


def test_the_example_becomes_one_answered_record(engine: Engine) -> None:
    report = ingest(engine, [OFFERED, ANSWERED, ENDED, WRAPUP])
    assert (report.events, report.wrapups, report.errors) == (3, 1, [])
    (record,) = records(engine)
    assert (record["disposition"], record["price_cents"], record["balance_after_cents"]) == ("answered", 150, 15450)


def test_bad_lines_are_reported_and_the_rest_processed(engine: Engine) -> None:
    report = ingest(engine, [OFFERED, "{", ANSWERED, ENDED, '{"type":"fax"}', WRAPUP])
    assert [error.split(":")[0] for error in report.errors] == ["line 2", "line 5"]
    assert [r["disposition"] for r in records(engine)] == ["answered"]


def test_a_call_to_a_number_of_no_client_is_reported_with_the_number(engine: Engine) -> None:
    report = ingest(engine, [OFFERED.replace("+351217000001", "+351217999999")])
    assert report.errors == ["line 1: call 'c1': number +351217999999 belongs to no client"]
    assert records(engine) == []


def test_calls_still_open_at_the_end_become_records(engine: Engine) -> None:
    report = ingest(engine, [OFFERED, ANSWERED])
    assert report.closed == 1
    assert [(r["disposition"], r["incomplete"]) for r in records(engine)] == [("answered", True)]


def test_keep_open_leaves_calls_in_progress_open(engine: Engine) -> None:
    report = ingest(engine, [OFFERED, ANSWERED], close_at_end=False)
    assert report.closed == 0
    assert records(engine) == []


def test_the_report_counts_lines_events_and_wrapups(engine: Engine) -> None:
    report = ingest(engine, [OFFERED, ANSWERED, ENDED, WRAPUP])
    assert report.as_dict() == {"lines": 4, "events": 3, "wrapups": 1, "closed_at_end": 0, "errors": []}
