"""A simulated PBX with its own clock: a month of calls for the demo and for tests.

It is a `Source` like any telephony plugin: it asks the hub for a decision on
every offered call and emits the events a real PBX would, in time order across
overlapping calls, with agents answering from each client's script.
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import Field

from hub.core.clients import Client, FieldType
from hub.core.models import CallEvent, EventKind, Language, RouteAction, WrapUp
from hub.sources import HubPort, Source, SourceConfig

LISBON = ZoneInfo("Europe/Lisbon")
FIRST_NAMES = [
    "Ana",
    "Rui",
    "Marta",
    "João",
    "Inês",
    "Pedro",
    "Sofia",
    "Miguel",
    "Beatriz",
    "Tiago",
    "Carla",
    "Nuno",
    "Helena",
    "Paulo",
    "Rita",
    "Emma",
    "James",
    "Olivia",
    "Lucas",
    "Chloé",
]
LAST_NAMES = [
    "Silva",
    "Santos",
    "Ferreira",
    "Pereira",
    "Oliveira",
    "Costa",
    "Rodrigues",
    "Martins",
    "Sousa",
    "Fernandes",
    "Gonçalves",
    "Smith",
    "Dubois",
    "García",
]
FOREIGN_PREFIXES = ["+4420", "+3314", "+3491", "+4930", "+1212"]


class SimulatorConfig(SourceConfig):
    """Settings of the simulated PBX."""

    month: str = Field(default="2026-03", pattern=r"^\d{4}-\d{2}$")
    calls: int = Field(default=400, ge=1, le=1_000_000)
    seed: int = 7
    agents: list[str] = Field(default_factory=lambda: ["ana", "rui", "marta", "joao"])
    after_hours_share: float = Field(default=0.15, ge=0, le=1)
    missed_share: float = Field(default=0.08, ge=0, le=1)
    foreign_share: float = Field(default=0.2, ge=0, le=1)
    forgot_wrapup_share: float = Field(default=0.02, ge=0, le=1)


@dataclass(order=True)
class _Step:
    at: datetime
    seq: int
    action: str = field(compare=False)
    call: dict[str, Any] = field(compare=False)


DayHook = Callable[[date], Awaitable[None]]


class SimulatorSource(Source):
    """Plays a month of calls for `clients` through the hub, as fast as the hub takes them."""

    kind = "simulator"

    def __init__(self, config: SimulatorConfig, clients: list[Client] | None = None) -> None:
        super().__init__(config)
        self.settings = config
        self.clients = clients or []
        self.on_new_day: DayHook | None = None
        self.rng = random.Random(config.seed)
        self._seq = itertools.count()

    # -- generation -----------------------------------------------------------

    def _month_days(self) -> list[date]:
        year, month = (int(part) for part in self.settings.month.split("-"))
        first = date(year, month, 1)
        days = []
        day = first
        while day.month == month:
            days.append(day)
            day += timedelta(days=1)
        return days

    def _offer_time(self, days: list[date]) -> datetime:
        rng = self.rng
        if rng.random() < self.settings.after_hours_share:
            day = rng.choice(days)
            hour = rng.choice([7, 8, 13, 18, 19, 20, 21])
        else:
            weekdays = [d for d in days if d.weekday() < 5]
            day = rng.choice(weekdays)
            hour = rng.choice([9, 10, 10, 11, 11, 12, 14, 15, 15, 16, 16, 17])
        local = datetime(day.year, day.month, day.day, hour, rng.randrange(60), rng.randrange(60), tzinfo=LISBON)
        return local.astimezone(UTC)

    def _caller(self) -> str:
        rng = self.rng
        if rng.random() < self.settings.foreign_share:
            return rng.choice(FOREIGN_PREFIXES) + "".join(str(rng.randrange(10)) for _ in range(7))
        prefix = rng.choice(["+35191", "+35192", "+35193", "+35196", "+35121"])
        return prefix + "".join(str(rng.randrange(10)) for _ in range(7))

    def _answers(self, client: Client, caller: str, name: str) -> dict[str, Any]:
        rng = self.rng
        answers: dict[str, Any] = {}
        for script_field in client.script.fields:
            if not script_field.required and rng.random() < 0.3:
                continue
            if script_field.type is FieldType.CHOICE and script_field.choices:
                answers[script_field.name] = rng.choice(script_field.choices)
            elif script_field.type is FieldType.PHONE:
                answers[script_field.name] = caller
            elif script_field.type is FieldType.EMAIL:
                answers[script_field.name] = name.split()[0].lower() + "@example.com"
            elif script_field.type is FieldType.DATE:
                answers[script_field.name] = (date(2026, 4, 1) + timedelta(days=rng.randrange(30))).isoformat()
            elif script_field.type is FieldType.BOOL:
                answers[script_field.name] = rng.random() < 0.5
            elif script_field.name in ("name", "nome"):
                answers[script_field.name] = name
            else:
                answers[script_field.name] = rng.choice(
                    [
                        "Pede orçamento",
                        "Quer marcar para a próxima semana",
                        "Pede que liguem de volta",
                        "Dúvida sobre a fatura",
                        "Asks for opening hours",
                    ]
                )
        return answers

    def plan(self) -> list[_Step]:
        """The offered step of every call of the month, in time order."""
        if not self.clients:
            return []
        days = self._month_days()
        weights = [3 if index == 0 else 2 if index == 1 else 1 for index in range(len(self.clients))]
        steps = []
        for number in range(self.settings.calls):
            client = self.rng.choices(self.clients, weights=weights)[0]
            caller = self._caller()
            name = f"{self.rng.choice(FIRST_NAMES)} {self.rng.choice(LAST_NAMES)}"
            call = {
                "call_id": f"sim-{self.settings.month}-{number:06d}",
                "client": client,
                "did": client.dids[0],
                "caller": caller,
                "name": name,
            }
            steps.append(_Step(self._offer_time(days), next(self._seq), "offer", call))
        heapq.heapify(steps)
        return steps

    # -- playing --------------------------------------------------------------------

    async def run(self, hub: HubPort) -> None:
        """Play the month through `hub`, then return."""
        queue = self.plan()
        today: date | None = None
        while queue:
            step = heapq.heappop(queue)
            day = step.at.astimezone(LISBON).date()
            if day != today:
                today = day
                if self.on_new_day is not None:
                    await self.on_new_day(day)
            for follow in await self._play(hub, step):
                heapq.heappush(queue, follow)

    def _event(self, call: dict[str, Any], kind: EventKind, at: datetime, **extra: Any) -> CallEvent:
        return CallEvent(source=self.kind, call_id=call["call_id"], kind=kind, at=at, **extra)

    async def _play(self, hub: HubPort, step: _Step) -> list[_Step]:
        rng = self.rng
        call = step.call
        at = step.at
        if step.action == "offer":
            offer = self._event(
                call,
                EventKind.OFFERED,
                at,
                did=call["did"],
                caller=call["caller"],
                raw={"caller_name": None},
            )
            decision = await hub.decide(offer)
            call["language"] = decision.language
            if decision.action is RouteAction.ANSWER and rng.random() >= self.settings.missed_share:
                return [_Step(at + timedelta(seconds=rng.randint(3, 20)), next(self._seq), "answer", call)]
            if decision.action is RouteAction.PLAY_MESSAGE:
                played = at + timedelta(seconds=25)
                await hub.ingest(self._event(call, EventKind.MESSAGE_PLAYED, played))
                return [_Step(played + timedelta(seconds=1), next(self._seq), "end", call)]
            return [_Step(at + timedelta(seconds=rng.randint(5, 40)), next(self._seq), "end", call)]
        if step.action == "answer":
            client: Client = call["client"]
            preferred = [a for a in client.agents.preferred if a in self.settings.agents]
            call["agent"] = rng.choice(preferred or self.settings.agents)
            call["answered"] = True
            await hub.ingest(self._event(call, EventKind.ANSWERED, at, agent=call["agent"]))
            talk = int(min(900, rng.lognormvariate(4.8, 0.5)))
            return [_Step(at + timedelta(seconds=talk), next(self._seq), "end", call)]
        if step.action == "end":
            await hub.ingest(self._event(call, EventKind.ENDED, at))
            if call.get("answered") and rng.random() >= self.settings.forgot_wrapup_share:
                return [_Step(at + timedelta(seconds=rng.randint(10, 90)), next(self._seq), "wrapup", call)]
            return []
        if step.action == "wrapup":
            client = call["client"]
            await hub.wrapup(
                WrapUp(
                    source=self.kind,
                    call_id=call["call_id"],
                    agent=call["agent"],
                    language=Language(call.get("language", "pt")),
                    answers=self._answers(client, call["caller"], call["name"]),
                    at=at,
                )
            )
        return []
