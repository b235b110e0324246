"""Reading events from JSON lines, as `recado ingest` does.

Each line is a JSON object with `"type": "call"` (a `CallEvent`) or
`"type": "wrapup"` (a `WrapUp`). A bad line is reported with its number and
skipped; the rest is processed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from pydantic import ValidationError

from hub.core.config_files import dotted
from hub.core.engine import Engine, IngestError
from hub.core.models import CallEvent, WrapUp
from hub.core.reconnect import patiently


class LineError(ValueError):
    """One input line cannot be used; the message names the line and the field."""


@dataclass
class IngestReport:
    """What an ingest run did."""

    lines: int = 0
    events: int = 0
    wrapups: int = 0
    closed: int = 0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "lines": self.lines,
            "events": self.events,
            "wrapups": self.wrapups,
            "closed_at_end": self.closed,
            "errors": self.errors,
        }


def parse_line(number: int, text: str | bytes) -> CallEvent | WrapUp | None:
    """Parse one line, as text or UTF-8 bytes (None for a blank line); raise `LineError` for a bad one."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")  # a byte order mark is not part of the JSON
        except UnicodeDecodeError as exc:
            raise LineError(f"line {number}: not UTF-8 text ({exc.reason} at byte {exc.start + 1})") from None
    if not text.strip():
        return None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LineError(f"line {number}: not JSON ({exc.msg} at column {exc.colno})") from None
    except RecursionError:
        raise LineError(f"line {number}: not usable JSON (nested too deeply)") from None
    except ValueError as exc:  # e.g. an integer of thousands of digits
        raise LineError(f"line {number}: not usable JSON ({exc})") from None
    if not isinstance(data, dict):
        raise LineError(f"line {number}: expected a JSON object, got {type(data).__name__}")
    kind = data.pop("type", None)
    model: type[CallEvent] | type[WrapUp]
    if kind == "call":
        model = CallEvent
    elif kind == "wrapup":
        model = WrapUp
    else:
        raise LineError(f'line {number}: field type: expected "call" or "wrapup", got {kind!r}')
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            where = dotted([part for part in error["loc"] if isinstance(part, str | int)])
            message = "unknown field" if error["type"] == "extra_forbidden" else error["msg"]
            problems.append(f"field {where}: {message}")
        raise LineError(f"line {number}: " + "; ".join(problems)) from None


def read_lines(lines: Iterable[str | bytes]) -> Iterator[tuple[int, CallEvent | WrapUp | LineError]]:
    """Number and parse lines; bad lines come out as `LineError`s, in place."""
    for number, text in enumerate(lines, start=1):
        try:
            item = parse_line(number, text)
        except LineError as exc:
            yield number, exc
            continue
        if item is not None:
            yield number, item


def ingest(engine: Engine, lines: Iterable[str | bytes], *, close_at_end: bool = True) -> IngestReport:
    """Feed lines to `engine`; with `close_at_end`, calls still open become final at the end."""
    report = IngestReport()
    for number, item in read_lines(lines):
        report.lines = number
        if isinstance(item, LineError):
            report.errors.append(str(item))
            continue
        try:
            if isinstance(item, WrapUp):
                patiently(partial(engine.wrapup, item))
                report.wrapups += 1
            else:
                patiently(partial(engine.handle, item))
                report.events += 1
        except IngestError as exc:
            report.errors.append(f"line {number}: {exc}")
    if close_at_end:
        report.closed = patiently(engine.close_all)
    return report
