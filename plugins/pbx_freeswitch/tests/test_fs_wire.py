"""What the plugin writes on the wire: FreeSWITCH's value encoding, commands, sendmsg."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from recado_freeswitch.dispatch import Dispatcher
from recado_freeswitch.wire import command, sendmsg, url_encode

from hub.core.models import CallEvent, EventKind, WrapUp


@pytest.mark.parametrize(
    ("value", "wire"),
    [
        ("2009-08-16 00:26:08", "2009-08-16%2000%3A26%3A08"),
        ("sofia/internal/1000@192.168.1.100", "sofia/internal/1000%40192.168.1.100"),
        ("+351 912", "%2B351%20912"),
        ("Conceição", "Concei%C3%A7%C3%A3o"),
        ("already %41 encoded", "already%20%41%20encoded"),
        ("lower %4a is not", "lower%20%254a%20is%20not"),
        ("100%", "100%25"),
        ("a\nb", "a%0Ab"),
        ("~/plain-text_ok.", "~/plain-text_ok."),
    ],
)
def test_values_are_encoded_as_switch_url_encode_does(value: str, wire: str) -> None:
    assert url_encode(value) == wire


def test_command_with_headers_ends_with_an_empty_line() -> None:
    assert command("bgapi status", {"Job-UUID": "j1"}) == b"bgapi status\nJob-UUID: j1\n\n"


def test_command_refuses_a_line_break_that_would_end_it_early() -> None:
    with pytest.raises(ValueError, match="one line"):
        command("api status\n\nexit")


def test_sendmsg_carries_the_application_argument_as_a_text_body() -> None:
    data = sendmsg("u1", "playback", "/sounds/a b.wav", event_uuid="e1")
    head, _, body = data.partition(b"\n\n")
    assert head.split(b"\n") == [
        b"sendmsg u1",
        b"call-command: execute",
        b"execute-app-name: playback",
        b"Event-UUID: e1",
        b"content-type: text/plain",
        b"Content-Length: 15",
    ]
    assert body == b"/sounds/a b.wav"


class GatedHub:
    """A hub whose ingest of one call waits at a gate."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []
        self.gate = asyncio.Event()

    async def ingest(self, event: CallEvent) -> None:
        if event.call_id == "slow" and event.kind is EventKind.OFFERED:
            await self.gate.wait()
        self.seen.append((event.call_id, event.kind.value))

    async def decide(self, offer: CallEvent) -> None:  # pragma: no cover - not used here
        raise AssertionError

    async def wrapup(self, wrapup: WrapUp) -> None:  # pragma: no cover - not used here
        raise AssertionError


def event(call_id: str, kind: EventKind) -> CallEvent:
    return CallEvent(source="freeswitch", call_id=call_id, kind=kind, at=datetime.now(UTC))


async def test_events_of_one_call_stay_in_order_while_other_calls_go_on() -> None:
    hub = GatedHub()
    dispatcher = Dispatcher(hub)  # type: ignore[arg-type]
    for call_id in ("slow", "fast"):
        for kind in (EventKind.OFFERED, EventKind.ANSWERED, EventKind.ENDED):
            await dispatcher.submit(event(call_id, kind))
    async with asyncio.timeout(5):
        while len(hub.seen) < 3:
            await asyncio.sleep(0.005)
    assert hub.seen == [("fast", "offered"), ("fast", "answered"), ("fast", "ended")]
    hub.gate.set()
    async with asyncio.timeout(5):
        await dispatcher.join()
    assert [k for c, k in hub.seen if c == "slow"] == ["offered", "answered", "ended"]
