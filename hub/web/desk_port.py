"""What the agent console needs of a desk: agent states, calls offered to agents, the wrap-up.

The demo source's `hub.web.desk.Desk` plays the PBX itself; a telephony plugin
implements the same protocol over its PBX (agent states in the PBX's queue
module, calls as the PBX offers them) and hands its desk to
`hub.web.console.mount`. The console only speaks to this protocol.

A desk that can also call the people of campaign phone contacts implements
`DialPort` besides (the console's Tasks panel and the message calls use it).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal, Protocol, runtime_checkable

from hub.core.campaigns import PhoneTask
from hub.core.clients import Client
from hub.core.models import Language

__all__ = [
    "AgentChannels",
    "AgentState",
    "DeskCallView",
    "DeskError",
    "DeskPort",
    "DialDesk",
    "DialPort",
    "DialProgress",
    "DialState",
    "Mark",
]

#: The buttons that close a call that was not a real one for the client.
Mark = Literal["spam", "wrong_number"]


class AgentState(StrEnum):
    """What an agent is doing."""

    AVAILABLE = "available"
    ON_BREAK = "on_break"
    LOGGED_OUT = "logged_out"


class DeskError(ValueError):
    """The desk cannot do what was asked (call taken, agent not available, form incomplete …)."""


class AgentChannels:
    """The open console pages of each agent, and sending them events (ring, taken …).

    A page that does not keep up loses events rather than holding up the desk: the
    page reloads its state on the next event it gets.
    """

    def __init__(self) -> None:
        self._queues: dict[str, set[asyncio.Queue[dict[str, Any]]]] = {}

    def subscribe(self, agent: str) -> asyncio.Queue[dict[str, Any]]:
        """A queue of this agent's events, for one open page."""
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=100)
        self._queues.setdefault(agent, set()).add(queue)
        return queue

    def unsubscribe(self, agent: str, queue: asyncio.Queue[dict[str, Any]]) -> None:
        """The page closed."""
        self._queues.get(agent, set()).discard(queue)

    def send(self, agent: str, event: dict[str, Any]) -> None:
        """Give `event` to every open page of `agent`."""
        for queue in list(self._queues.get(agent, ())):
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(event)


class DeskCallView(Protocol):
    """A call as the console shows it, from ringing to wrap-up."""

    @property
    def call_id(self) -> str:
        """The call's id at its source."""

    @property
    def client(self) -> Client:
        """The client whose number was called."""

    @property
    def caller(self) -> str:
        """The caller's number."""

    @property
    def language(self) -> Language:
        """The language to greet the caller in (the engine's decision)."""

    @property
    def agent(self) -> str | None:
        """The agent who has the call, once someone has it."""

    @property
    def state(self) -> str:
        """``ringing`` until an agent has it, then ``talking`` until the wrap-up."""


@runtime_checkable
class DeskPort(Protocol):
    """Agents and calls behind one console, shared by every page of one process."""

    @property
    def calls(self) -> Mapping[str, DeskCallView]:
        """The calls at the desk by id, ringing or in progress."""

    def states(self) -> dict[str, str]:
        """Every agent seen, with its state."""

    def set_state(self, agent: str, state: AgentState) -> Awaitable[None] | None:
        """Change an agent's state (a desk that asks a PBX returns an awaitable)."""

    def subscribe(self, agent: str) -> asyncio.Queue[dict[str, Any]]:
        """A queue of this agent's events (``ring``, ``taken``), for one open page."""

    def unsubscribe(self, agent: str, queue: asyncio.Queue[dict[str, Any]]) -> None:
        """The page closed."""

    def ringing_for(self, agent: str) -> Sequence[DeskCallView]:
        """Calls ringing for this agent, oldest first."""

    def call_for(self, agent: str, call_id: str) -> DeskCallView:
        """A call this agent may see: ringing for it, or its own; `DeskError` otherwise."""

    async def answer(self, agent: str, call_id: str) -> DeskCallView:
        """The agent takes a ringing call."""

    async def finish(
        self,
        agent: str,
        call_id: str,
        answers: dict[str, Any],
        notes: str | None,
        mark: Mark | None = None,
    ) -> None:
        """The agent submits the script form (or marks the call): the call's wrap-up."""


# -- outbound contacts: an optional capability of a desk ------------------------------------------

#: Where the call of one phone contact stands, as the console shows it to the agent.
DialState = Literal["dialling", "ringing", "answered", "ended", "failed"]


@dataclass
class DialProgress:
    """The call of one phone contact, as far as the desk has followed it.

    ``placed`` says whether the person's number was dialled at all: a call that failed
    before (the agent's phone did not answer, FreeSWITCH refused the gateway) leaves the
    contact untouched, and the agent may call again or give the task back.
    """

    contact_id: int
    agent: str | None
    state: DialState = "dialling"
    placed: bool = False
    #: Why the call failed or ended (a FreeSWITCH hangup cause such as ``NO_ANSWER``).
    cause: str | None = None
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    message_played: bool = False
    #: The agent's state before the call (restored once the outcome is recorded).
    resume_state: str | None = None

    def as_event(self) -> dict[str, Any]:
        """The ``dial`` event sent to the agent's open pages."""
        return {"type": "dial", "contact_id": self.contact_id, "state": self.state, "cause": self.cause}


@runtime_checkable
class DialPort(Protocol):
    """A desk that also places the calls of campaign phone contacts.

    The desk reports each call's events to the hub under the call id ``contact-<id>``
    (`hub.core.outbound_events` turns them into the contact's progress and, for
    ``message`` campaigns, its outcome). ``simulated`` desks (the demo's) play the person
    themselves: nothing is dialled, so they never run unattended.
    """

    @property
    def simulated(self) -> bool:
        """True when no real call is made (the demo's desk)."""

    @property
    def message_slots(self) -> int:
        """How many recorded-message calls may be in progress at once."""

    @property
    def ready(self) -> bool:
        """Whether calls can be placed right now (the PBX is connected)."""

    async def dial(self, task: PhoneTask, agent: str) -> DialProgress:
        """Call the task's person for `agent`; returns once the call is placed (`DeskError` when it cannot be)."""

    async def play_message(self, task: PhoneTask) -> Awaitable[DialProgress]:
        """Call the person to play the recorded message; returns once the call is placed.

        The awaitable returned gives the call's progress once it is over. `DeskError`
        when the call cannot be placed (the contact is then untouched).
        """

    def progress(self, contact_id: int) -> DialProgress | None:
        """The call of a contact this desk placed and has not closed yet."""

    async def close_contact(self, contact_id: int) -> None:
        """The outcome is recorded: forget the contact's call (the demo's person hangs up)."""


@runtime_checkable
class DialDesk(DeskPort, DialPort, Protocol):
    """A console desk that also places the calls of phone contacts."""
