"""The agents' desk of the demo source: agent states, ringing calls and live notifications.

A call placed at the desk is offered to the engine like any PBX call; when the
engine says answer, it rings every available agent who serves the client. The
first agent to answer takes it; submitting the script form ends the call and is
the wrap-up. Each agent's open pages get the events through a queue (SSE).
It is the demo's `hub.web.desk_port.DeskPort`.

It is also the demo's `hub.web.desk_port.DialPort`: the people of campaign phone
contacts answer at once, except those whose number ends in one of
`Desk.no_answer_endings` (``0``), who never do; nothing is dialled for real.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from hub.core.campaigns import PhoneTask
from hub.core.clients import Client, FieldType, normalize_e164
from hub.core.models import CallEvent, EventKind, Language, RouteAction, RouteDecision, WrapUp
from hub.core.outbound import call_id_of
from hub.sources import HubPort
from hub.web.desk_port import AgentChannels, AgentState, DeskError, DialProgress

__all__ = ["SOURCE", "AgentState", "Desk", "DeskCall", "DeskError", "check_answers"]

SOURCE = "console"


@dataclass
class DeskCall:
    """A call at the desk, from ringing to wrap-up."""

    call_id: str
    client: Client
    caller: str
    language: Language
    decision: RouteDecision
    offered_at: datetime
    agent: str | None = None
    state: str = "ringing"


@dataclass
class Desk:
    """Agents and calls of the console source, shared by every page of one process."""

    hub: HubPort
    #: A caller who rings this long without an answer hangs up (the call is missed).
    ring_timeout_s: float = 120.0
    agents: dict[str, AgentState] = field(default_factory=dict)
    calls: dict[str, DeskCall] = field(default_factory=dict)
    channels: AgentChannels = field(default_factory=AgentChannels)
    #: Campaign contacts whose number ends in one of these never answer the demo's calls.
    no_answer_endings: tuple[str, ...] = ("0",)
    #: The time of the demo's outbound call events (the wall clock; tests set their own).
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    dials: dict[int, DialProgress] = field(default_factory=dict)
    _numbers: itertools.count[int] = field(default_factory=itertools.count)

    # -- agents ------------------------------------------------------------------

    def states(self) -> dict[str, str]:
        """Every agent seen, with its state."""
        return {name: state.value for name, state in self.agents.items()}

    def set_state(self, agent: str, state: AgentState) -> None:
        """Change an agent's state; an available agent gets the calls already ringing."""
        self.agents[agent] = state
        if state is AgentState.AVAILABLE:
            for call in self.calls.values():
                if call.state == "ringing" and _serves(call.client, agent):
                    self._send(agent, {"type": "ring", "call_id": call.call_id})

    def subscribe(self, agent: str) -> asyncio.Queue[dict[str, Any]]:
        """A queue of this agent's events, for one open page."""
        self.agents.setdefault(agent, AgentState.LOGGED_OUT)
        return self.channels.subscribe(agent)

    def unsubscribe(self, agent: str, queue: asyncio.Queue[dict[str, Any]]) -> None:
        """The page closed."""
        self.channels.unsubscribe(agent, queue)

    def _send(self, agent: str, event: dict[str, Any]) -> None:
        self.channels.send(agent, event)

    def ringing_for(self, agent: str) -> list[DeskCall]:
        """Calls ringing that this agent may take, oldest first."""
        if self.agents.get(agent) is not AgentState.AVAILABLE:
            return []
        return [c for c in self.calls.values() if c.state == "ringing" and _serves(c.client, agent)]

    def call_for(self, agent: str, call_id: str) -> DeskCall:
        """A call this agent may see: ringing for it, or its own."""
        call = self.calls.get(call_id)
        if call is None or not _serves(call.client, agent) or (call.agent not in (None, agent)):
            raise DeskError(f"no call {call_id!r} for agent {agent!r}")
        return call

    # -- calls ---------------------------------------------------------------------

    async def hang_up_unanswered(self, now: datetime | None = None) -> list[str]:
        """Callers ringing longer than `ring_timeout_s` hang up; return the ids of their calls."""
        now = now or datetime.now(UTC)
        gone = [
            call.call_id
            for call in self.calls.values()
            if call.state == "ringing" and (now - call.offered_at).total_seconds() > self.ring_timeout_s
        ]
        for call_id in gone:
            del self.calls[call_id]
            await self.hub.ingest(CallEvent(source=SOURCE, call_id=call_id, kind=EventKind.ENDED, at=now))
            for agent in self.agents:
                self._send(agent, {"type": "taken", "call_id": call_id})
        return gone

    async def place_call(self, client: Client, caller: str, did: str | None = None) -> RouteDecision:
        """A caller dials one of the client's numbers; ring the agents if the engine says answer."""
        try:
            caller = normalize_e164(caller)
        except ValueError as exc:
            raise DeskError(f"caller: {exc}") from None
        await self.hang_up_unanswered()
        call_id = f"desk-{int(time.time())}-{next(self._numbers)}"
        now = datetime.now(UTC)
        offer = CallEvent(
            source=SOURCE, call_id=call_id, kind=EventKind.OFFERED, at=now, did=did or client.dids[0], caller=caller
        )
        decision = await self.hub.decide(offer)
        if decision.action is not RouteAction.ANSWER:
            # Played a message or refused: the caller hangs up after it.
            await self.hub.ingest(CallEvent(source=SOURCE, call_id=call_id, kind=EventKind.ENDED, at=datetime.now(UTC)))
            return decision
        self.calls[call_id] = DeskCall(call_id, client, caller, decision.language, decision, now)
        for agent, state in self.agents.items():
            if state is AgentState.AVAILABLE and _serves(client, agent):
                self._send(agent, {"type": "ring", "call_id": call_id})
        return decision

    async def answer(self, agent: str, call_id: str) -> DeskCall:
        """The agent takes a ringing call."""
        call = self.call_for(agent, call_id)
        if call.state != "ringing":
            raise DeskError(f"call {call_id!r} was already answered")
        if self.agents.get(agent) is not AgentState.AVAILABLE:
            raise DeskError(f"agent {agent!r} is not available")
        call.state, call.agent = "talking", agent
        await self.hub.ingest(
            CallEvent(source=SOURCE, call_id=call_id, kind=EventKind.ANSWERED, at=datetime.now(UTC), agent=agent)
        )
        for other in self.agents:
            if other != agent:
                self._send(other, {"type": "taken", "call_id": call_id})
        return call

    async def finish(
        self,
        agent: str,
        call_id: str,
        answers: dict[str, Any],
        notes: str | None,
        mark: Literal["spam", "wrong_number"] | None = None,
    ) -> None:
        """The agent submits the script form (or marks the call as spam or a wrong number).

        The call ends and the answers are its wrap-up; a marked call needs no answers.
        """
        call = self.call_for(agent, call_id)
        if call.state != "talking" or call.agent != agent:
            raise DeskError(f"call {call_id!r} is not being answered by {agent!r}")
        cleaned = {} if mark else check_answers(call.client, answers)
        now = datetime.now(UTC)
        await self.hub.ingest(CallEvent(source=SOURCE, call_id=call_id, kind=EventKind.ENDED, at=now, agent=agent))
        await self.hub.wrapup(
            WrapUp(
                source=SOURCE,
                call_id=call_id,
                agent=agent,
                answers=cleaned,
                language=call.language,
                notes=notes or None,
                at=now,
                mark=mark,
            )
        )
        del self.calls[call_id]

    # -- outbound contacts (simulated) ----------------------------------------------

    @property
    def simulated(self) -> bool:
        """The demo dials nobody: its people answer by themselves."""
        return True

    @property
    def message_slots(self) -> int:
        """Simulated message calls take no line: one at a time is plenty."""
        return 1

    @property
    def ready(self) -> bool:
        """The demo's people are always there."""
        return True

    def progress(self, contact_id: int) -> DialProgress | None:
        """The call of a contact dialled here and not closed yet."""
        return self.dials.get(contact_id)

    async def _contact_event(
        self, task: PhoneTask, kind: EventKind, agent: str | None, raw: dict[str, Any] | None = None
    ) -> datetime:
        at = self.clock()
        event = CallEvent(
            source=SOURCE,
            call_id=call_id_of(task.contact_id),
            kind=kind,
            at=at,
            did=task.caller_id,
            caller=task.number,
            agent=agent,
            raw=raw or {},
        )
        await self.hub.ingest(event)
        return at

    async def _ring(self, task: PhoneTask, progress: DialProgress) -> bool:
        """The person's phone rings: whether they answer."""
        progress.placed, progress.state = True, "ringing"
        await self._contact_event(task, EventKind.OUTBOUND_STARTED, progress.agent)
        if task.number.endswith(self.no_answer_endings):
            progress.state, progress.cause = "failed", "NO_ANSWER"
            progress.ended_at = await self._contact_event(
                task, EventKind.OUTBOUND_FAILED, progress.agent, {"hangup_cause": "NO_ANSWER"}
            )
            return False
        progress.state = "answered"
        progress.answered_at = await self._contact_event(task, EventKind.OUTBOUND_ANSWERED, progress.agent)
        return True

    async def dial(self, task: PhoneTask, agent: str) -> DialProgress:
        """The agent calls the task's person, who answers at once (or never: see `no_answer_endings`)."""
        current = self.dials.get(task.contact_id)
        if current is not None and current.state in ("dialling", "ringing", "answered"):
            raise DeskError(f"contact {task.contact_id} is being called already")
        progress = DialProgress(task.contact_id, agent)
        self.dials[task.contact_id] = progress
        await self._ring(task, progress)
        self._send(agent, progress.as_event())
        return progress

    async def play_message(self, task: PhoneTask) -> Awaitable[DialProgress]:
        """Call the person and "play" the message: answered, played, hung up (or never answered)."""
        progress = DialProgress(task.contact_id, None)
        if await self._ring(task, progress):
            await self._contact_event(task, EventKind.MESSAGE_PLAYED, None, {"message": "campaign"})
            progress.message_played = True
            progress.state = "ended"
            progress.ended_at = await self._contact_event(task, EventKind.ENDED, None)
        over: asyncio.Future[DialProgress] = asyncio.get_running_loop().create_future()
        over.set_result(progress)
        return over

    async def close_contact(self, contact_id: int) -> None:
        """The outcome is recorded: a person still on the line hangs up."""
        progress = self.dials.pop(contact_id, None)
        if progress is None or progress.state != "answered":
            return
        progress.state = "ended"
        progress.ended_at = self.clock()
        await self.hub.ingest(
            CallEvent(
                source=SOURCE,
                call_id=call_id_of(contact_id),
                kind=EventKind.ENDED,
                at=progress.ended_at,
                agent=progress.agent,
            )
        )


def _serves(client: Client, agent: str) -> bool:
    return not client.agents.preferred or agent in client.agents.preferred


def check_answers(client: Client, answers: dict[str, Any]) -> dict[str, Any]:
    """The script's answers, typed; `DeskError` naming the first missing or invalid field."""
    cleaned: dict[str, Any] = {}
    for script_field in client.script.fields:
        raw = answers.get(script_field.name)
        value = raw.strip() if isinstance(raw, str) else raw
        if script_field.type is FieldType.BOOL:
            if value in (None, ""):
                if script_field.required:
                    raise DeskError(f"{script_field.name}: required")
                continue
            cleaned[script_field.name] = value in (True, "true", "yes", "on", "1")
            continue
        if value in (None, ""):
            if script_field.required:
                raise DeskError(f"{script_field.name}: required")
            continue
        if script_field.type is FieldType.CHOICE and value not in (script_field.choices or []):
            raise DeskError(f"{script_field.name}: expected one of {', '.join(script_field.choices or [])}")
        if script_field.type is FieldType.EMAIL and "@" not in str(value):
            raise DeskError(f"{script_field.name}: {value!r} is not an email address")
        cleaned[script_field.name] = value
    return cleaned
