"""Channels of the ESL emulator and the event headers FreeSWITCH gives them.

Header names, order and values follow ``switch_event_prep_for_delivery``
(the Event-* / FreeSWITCH-* block) and ``switch_channel_event_set_data`` /
``switch_caller_profile_event_set_data`` (channel, caller and variable_*
headers), trimmed to the headers a consumer of these events reads.
"""

from __future__ import annotations

import itertools
import time
import uuid as uuidlib
from dataclasses import dataclass, field
from datetime import UTC, datetime

STATE_NUMBERS = {
    "CS_NEW": 0,
    "CS_INIT": 1,
    "CS_ROUTING": 2,
    "CS_SOFT_EXECUTE": 3,
    "CS_EXECUTE": 4,
    "CS_EXCHANGE_MEDIA": 5,
    "CS_PARK": 6,
    "CS_CONSUME_MEDIA": 7,
    "CS_HIBERNATE": 8,
    "CS_RESET": 9,
    "CS_HANGUP": 10,
    "CS_REPORTING": 11,
    "CS_DESTROY": 12,
}


class Clock:
    """The emulated switch's clock: real time moved to a chosen moment (rules depend on it)."""

    offset_us = 0

    def set(self, when: datetime | None) -> None:
        """Make the clock read ``when`` now (None: the real time)."""
        real = time.time_ns() // 1000
        self.offset_us = 0 if when is None else int(when.timestamp() * 1_000_000) - real


CLOCK = Clock()


def now_us() -> int:
    """Microseconds since the epoch, as Event-Date-Timestamp and *-Time headers carry them."""
    return time.time_ns() // 1000 + CLOCK.offset_us


@dataclass
class Channel:
    """One call leg."""

    destination: str
    caller: str
    caller_name: str = ""
    direction: str = "inbound"
    uuid: str = field(default_factory=lambda: str(uuidlib.uuid4()))
    state: str = "CS_INIT"
    call_state: str = "RINGING"
    answer_state: str = "ringing"
    created_us: int = field(default_factory=now_us)
    answered_us: int = 0
    hangup_us: int = 0
    bridged_us: int = 0
    hangup_cause: str = ""
    variables: dict[str, str] = field(default_factory=dict)
    other_leg: Channel | None = None
    application: str = ""
    application_data: str = ""
    executed: list[tuple[str, str]] = field(default_factory=list)

    @property
    def name(self) -> str:
        """Channel-Name as mod_sofia writes it."""
        number = self.destination if self.direction == "outbound" else self.caller
        return f"sofia/internal/{number}@127.0.0.1"

    def caller_headers(self, prefix: str = "Caller") -> list[tuple[str, str]]:
        """The caller profile headers (``switch_caller_profile_event_set_data``)."""
        p = prefix
        return [
            (f"{p}-Direction", self.direction),
            (f"{p}-Logical-Direction", self.direction),
            (f"{p}-Username", self.caller),
            (f"{p}-Dialplan", "XML"),
            (f"{p}-Caller-ID-Name", self.caller_name or self.caller),
            (f"{p}-Caller-ID-Number", self.caller),
            (f"{p}-Orig-Caller-ID-Name", self.caller_name or self.caller),
            (f"{p}-Orig-Caller-ID-Number", self.caller),
            (f"{p}-Network-Addr", "127.0.0.1"),
            (f"{p}-ANI", self.caller),
            (f"{p}-Destination-Number", self.destination),
            (f"{p}-Unique-ID", self.uuid),
            (f"{p}-Source", "mod_sofia"),
            (f"{p}-Context", "public"),
            (f"{p}-Channel-Name", self.name),
            (f"{p}-Profile-Index", "1"),
            (f"{p}-Profile-Created-Time", str(self.created_us)),
            (f"{p}-Channel-Created-Time", str(self.created_us)),
            (f"{p}-Channel-Answered-Time", str(self.answered_us)),
            (f"{p}-Channel-Progress-Time", "0"),
            (f"{p}-Channel-Progress-Media-Time", "0"),
            (f"{p}-Channel-Hangup-Time", str(self.hangup_us)),
            (f"{p}-Channel-Transfer-Time", "0"),
            (f"{p}-Channel-Resurrect-Time", "0"),
            (f"{p}-Channel-Bridged-Time", str(self.bridged_us)),
            (f"{p}-Channel-Last-Hold", "0"),
            (f"{p}-Channel-Hold-Accum", "0"),
            (f"{p}-Screen-Bit", "true"),
            (f"{p}-Privacy-Hide-Name", "false"),
            (f"{p}-Privacy-Hide-Number", "false"),
        ]

    def data_headers(self) -> list[tuple[str, str]]:
        """``switch_channel_event_set_data``: channel, caller, other leg and variables."""
        out = [
            ("Channel-State", self.state),
            ("Channel-Call-State", self.call_state),
            ("Channel-State-Number", str(STATE_NUMBERS[self.state])),
            ("Channel-Name", self.name),
            ("Unique-ID", self.uuid),
            ("Call-Direction", self.direction),
            ("Presence-Call-Direction", self.direction),
            ("Channel-HIT-Dialplan", "true" if self.direction == "inbound" else "false"),
            ("Channel-Call-UUID", self.uuid),
            ("Answer-State", self.answer_state),
            *self.caller_headers(),
        ]
        if self.other_leg is not None:
            out.append(("Other-Type", "originatee" if self.direction == "inbound" else "originator"))
            out += self.other_leg.caller_headers("Other-Leg")
        out += [
            ("variable_direction", self.direction),
            ("variable_uuid", self.uuid),
            ("variable_call_uuid", self.uuid),
            ("variable_channel_name", self.name),
        ]
        out += [(f"variable_{k}", v) for k, v in self.variables.items()]
        return out

    def show_row(self, hostname: str) -> dict[str, str]:
        """A row of ``show channels as json``."""
        created = datetime.fromtimestamp(self.created_us / 1e6, UTC).astimezone()
        return {
            "uuid": self.uuid,
            "direction": self.direction,
            "created": created.strftime("%Y-%m-%d %H:%M:%S"),
            "created_epoch": str(self.created_us // 1_000_000),
            "name": self.name,
            "state": self.state,
            "cid_name": self.caller_name or self.caller,
            "cid_num": self.caller,
            "ip_addr": "127.0.0.1",
            "dest": self.destination,
            "application": self.application,
            "application_data": self.application_data,
            "dialplan": "XML",
            "context": "public",
            "read_codec": "PCMA",
            "read_rate": "8000",
            "read_bit_rate": "64000",
            "write_codec": "PCMA",
            "write_rate": "8000",
            "write_bit_rate": "64000",
            "secure": "",
            "hostname": hostname,
            "presence_id": "",
            "presence_data": "",
            "accountcode": "",
            "callstate": self.call_state,
            "callee_name": "",
            "callee_num": "",
            "callee_direction": "",
            "call_uuid": self.uuid,
            "sent_callee_name": "",
            "sent_callee_num": "",
            "initial_cid_name": self.caller_name or self.caller,
            "initial_cid_num": self.caller,
            "initial_ip_addr": "127.0.0.1",
            "initial_dest": self.destination,
            "initial_dialplan": "XML",
            "initial_context": "public",
        }


class EventStamp:
    """The Event-* / FreeSWITCH-* block every event starts with (one per emulated switch)."""

    def __init__(self, hostname: str = "fs-test") -> None:
        self.hostname = hostname
        self.core_uuid = str(uuidlib.uuid4())
        self._sequence = itertools.count(1000)

    def headers(self, name: str, subclass: str | None = None) -> list[tuple[str, str]]:
        """Headers of a new event named ``name``."""
        stamp = now_us()
        local = datetime.fromtimestamp(stamp / 1e6).strftime("%Y-%m-%d %H:%M:%S")
        gmt = datetime.fromtimestamp(stamp / 1e6, UTC).strftime("%a, %d %b %Y %H:%M:%S GMT")
        out = [("Event-Subclass", subclass)] if subclass else []
        out += [
            ("Event-Name", name),
            ("Core-UUID", self.core_uuid),
            ("FreeSWITCH-Hostname", self.hostname),
            ("FreeSWITCH-Switchname", self.hostname),
            ("FreeSWITCH-IPv4", "127.0.0.1"),
            ("FreeSWITCH-IPv6", "::1"),
            ("Event-Date-Local", local),
            ("Event-Date-GMT", gmt),
            ("Event-Date-Timestamp", str(stamp)),
            ("Event-Calling-File", "switch_channel.c"),
            ("Event-Calling-Function", "switch_channel_perform_event"),
            ("Event-Calling-Line-Number", "1"),
            ("Event-Sequence", str(next(self._sequence))),
        ]
        return out
