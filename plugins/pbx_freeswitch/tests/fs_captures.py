"""Reading the event captures in ``fixtures/`` (see fixtures/README.md for their sources)."""

from __future__ import annotations

import re
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent / "fixtures"
_HEADER = re.compile(r"^([A-Za-z0-9_\-]+): ?(.*)$")

#: Captures whose text is a single event's header lines, values decoded, one header per line
#: except for multi-line values.
DECODED_EVENTS = sorted(p.name for p in FIXTURES.glob("*.txt") if p.name.startswith(("webitel_", "fsdocs_callcenter_")))
#: Every capture that is one event's text (wire-encoded, decoded or damaged as published).
EVENT_TEXTS = sorted(p.name for p in FIXTURES.glob("*.txt") if p.name != "switchio_eventstream1.txt")


def read_capture(name: str) -> list[tuple[str, str]]:
    """Headers of a decoded capture; a line that is not ``Name: value`` continues the last value."""
    pairs: list[tuple[str, str]] = []
    for line in (FIXTURES / name).read_text(encoding="utf-8").split("\n"):
        match = _HEADER.match(line)
        if match:
            pairs.append((match.group(1), match.group(2)))
        elif pairs:
            key, value = pairs[-1]
            pairs[-1] = (key, value + "\n" + line)
    while pairs and pairs[-1][1].endswith("\n"):
        pairs[-1] = (pairs[-1][0], pairs[-1][1][:-1])
    return pairs


def capture_bytes(name: str) -> bytes:
    """The capture file as published."""
    return (FIXTURES / name).read_bytes()


def event_text(name: str) -> bytes:
    """A single-event capture without a published envelope (fsdocs_CHANNEL_STATE has one)."""
    data = capture_bytes(name)
    if data.startswith(b"Content-Length:"):
        data = data.partition(b"\n\n")[2]
    return data
