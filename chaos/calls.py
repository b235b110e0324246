"""Generated calls and the oracle that says, without the hub's code, what they must produce.

A call is answered, missed or after hours *by construction*: answered and
missed calls are placed inside business hours (weekdays 09:00-13:00 and
14:00-18:00 Lisbon, away from the 2026 Portuguese holidays written below),
after-hours calls on evenings, weekends and Good Friday. The oracle prices the
answered calls of each client's Lisbon month with the published tiers
(1.50 EUR for calls 1-99, 1.00 for 100-199, 0.50 from 200 on) and nothing else.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

LISBON = ZoneInfo("Europe/Lisbon")
SOURCE = "chaos"
FIRST_DAY = date(2026, 3, 2)
LAST_DAY = date(2026, 4, 30)
#: Portuguese national holidays that fall on a weekday between the two days above.
HOLIDAYS_2026 = frozenset({date(2026, 4, 3)})  # Good Friday
ANSWERED, MISSED, AFTER_HOURS = "answered", "missed", "after_hours"


@dataclass(frozen=True)
class Call:
    """One generated call and what it must become."""

    call_id: str
    client: str
    did: str
    caller: str
    offered: datetime
    expected: str
    talk_s: int

    @property
    def record_id(self) -> str:
        """The record id the hub derives from source and call id (sha256, as documented)."""
        digest = hashlib.sha256(f"{SOURCE}\x00{self.call_id}".encode()).hexdigest()
        return f"rec_{digest[:26]}"

    @property
    def month(self) -> str:
        """The Lisbon calendar month of the call."""
        return self.offered.astimezone(LISBON).strftime("%Y-%m")


def client_ids(count: int) -> list[str]:
    """`count` client ids, c01, c02, …"""
    return [f"c{i:02d}" for i in range(1, count + 1)]


def did_of(index: int) -> str:
    """The Lisbon number of the client at `index` (1-based)."""
    return f"+351217{index:06d}"


def _days(predicate: Any) -> list[date]:
    days = []
    day = FIRST_DAY
    while day <= LAST_DAY:
        if predicate(day):
            days.append(day)
        day += timedelta(days=1)
    return days


def _at(day: date, minutes: int) -> datetime:
    return datetime.combine(day, time(0), tzinfo=LISBON) + timedelta(minutes=minutes)


def generate(n_calls: int, n_clients: int, seed: int) -> list[Call]:
    """`n_calls` calls spread over March and April 2026, ordered by the time they are offered."""
    rng = random.Random(seed)
    open_days = _days(lambda d: d.weekday() < 5 and d not in HOLIDAYS_2026)
    weekend_days = _days(lambda d: d.weekday() >= 5)
    clients = client_ids(n_clients)
    calls = []
    for number in range(n_calls):
        index = rng.randrange(n_clients)
        roll = rng.random()
        if roll < 0.25:
            expected = AFTER_HOURS
            where = rng.random()
            if where < 0.4:
                offered = _at(rng.choice(open_days), rng.randrange(19 * 60, 22 * 60))
            elif where < 0.9:
                offered = _at(rng.choice(weekend_days), rng.randrange(10 * 60, 16 * 60))
            else:
                offered = _at(date(2026, 4, 3), rng.randrange(10 * 60, 12 * 60))
        else:
            expected = MISSED if roll < 0.35 else ANSWERED
            # Well inside a window, so that ringing and talking stay in it.
            start = rng.choice((9 * 60 + 5, 14 * 60 + 5))
            offered = _at(rng.choice(open_days), start + rng.randrange(0, 3 * 60 + 30))
        offered += timedelta(seconds=rng.randrange(60))
        caller = f"+3519{rng.randrange(10**7, 10**8)}" if rng.random() < 0.8 else f"+447{rng.randrange(10**8, 10**9)}"
        calls.append(
            Call(
                call_id=f"call-{seed}-{number:06d}",
                client=clients[index],
                did=did_of(index + 1),
                caller=caller,
                offered=offered,
                expected=expected,
                talk_s=rng.randrange(20, 240),
            )
        )
    calls.sort(key=lambda call: (call.offered, call.call_id))
    return calls


def events(call: Call) -> list[tuple[datetime, dict[str, Any]]]:
    """The timed JSON-lines objects of one call: its telephony events and the agent's wrap-up."""
    base: dict[str, Any] = {"type": "call", "source": SOURCE, "call_id": call.call_id}
    offered: dict[str, Any] = {
        **base,
        "kind": "offered",
        "at": call.offered.isoformat(),
        "did": call.did,
        "caller": call.caller,
    }
    out = [(call.offered, offered)]
    if call.expected == ANSWERED:
        answered_at = call.offered + timedelta(seconds=8)
        ended_at = answered_at + timedelta(seconds=call.talk_s)
        agent = "ana" if call.talk_s % 2 else "rui"
        out.append((answered_at, {**base, "kind": "answered", "at": answered_at.isoformat(), "agent": agent}))
        out.append((ended_at, {**base, "kind": "ended", "at": ended_at.isoformat()}))
        wrapup = {
            "type": "wrapup",
            "source": SOURCE,
            "call_id": call.call_id,
            "agent": agent,
            "answers": {"name": f"Cliente {call.call_id[-4:]}", "reason": "booking"},
            "language": "pt",
            "at": (ended_at + timedelta(seconds=15)).isoformat(),
        }
        out.append((ended_at + timedelta(seconds=15), wrapup))
    else:
        ended_at = call.offered + timedelta(seconds=25)
        out.append((ended_at, {**base, "kind": "ended", "at": ended_at.isoformat()}))
    return out


def write_jsonl(calls: list[Call], path: Path) -> int:
    """Write every call's events in time order (calls interleave, as on a real switch); return lines."""
    timed = [(at, seq, item) for seq, call in enumerate(calls) for at, item in events(call)]
    timed.sort(key=lambda entry: (entry[0], entry[1]))
    with path.open("w", encoding="utf-8") as handle:
        for _, _, item in timed:
            handle.write(json.dumps(item) + "\n")
    return len(timed)


def tier_price(k: int) -> int:
    """Price in cents of the k-th answered call of a client's month (no negotiated rate)."""
    if k < 100:
        return 150
    if k < 200:
        return 100
    return 50


@dataclass(frozen=True)
class Oracle:
    """What the calls must produce."""

    expected: dict[str, Call]
    debits_by_client: dict[str, int]
    answered_by_client: dict[str, int]

    @classmethod
    def of(cls, calls: list[Call]) -> Oracle:
        """Compute records and debits from the calls alone."""
        per_month: dict[tuple[str, str], int] = defaultdict(int)
        for call in calls:
            if call.expected == ANSWERED:
                per_month[(call.client, call.month)] += 1
        debits: dict[str, int] = defaultdict(int)
        answered: dict[str, int] = defaultdict(int)
        for (client, _month), count in per_month.items():
            debits[client] += sum(tier_price(k) for k in range(1, count + 1))
            answered[client] += count
        return cls({call.record_id: call for call in calls}, dict(debits), dict(answered))


def clients_yaml(n_clients: int, url: str, secret_env: str) -> str:
    """The clients' file: each client one webhook destination, its secret read from `secret_env`."""
    lines = ["clients:"]
    for index, client in enumerate(client_ids(n_clients), start=1):
        lines += [
            f"  - id: {client}",
            f'    name: "Cliente {index}"',
            '    nif: "509999999"',
            f'    dids: ["{did_of(index)}"]',
            "    languages: [pt, en]",
            "    script:",
            "      version: 1",
            "      fields:",
            "        - {name: name, label: {pt: Nome, en: Name}, type: text}",
            "        - {name: reason, label: {pt: Motivo, en: Reason}, type: choice, choices: [booking, info]}",
            "    destinations:",
            "      - id: hook",
            "        kind: webhook",
            f'        settings: {{url: "{url}", secret: {{"$env": "{secret_env}"}}, timeout: 5}}',
        ]
    return "\n".join(lines) + "\n"
