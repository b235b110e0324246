"""The agent console over mod_callcenter: agent status, the calls it offers, the wrap-up.

`FreeSwitchDesk` is the `hub.web.desk_port.DeskPort` of a FreeSWITCH source
running in the same process:

* the agent's state buttons set the agent's mod_callcenter status over the
  event socket (``callcenter_config agent set status <agent>@<domain> '<status>'``);
  a status changed elsewhere (``agent-status-change``) shows in the console too;
* a call pops up for the agent mod_callcenter offers it to (``agent-offering``)
  and is the agent's once bridged (``bridge-agent-start``); when the offer fails
  (``bridge-agent-fail``) or the caller leaves the queue unanswered, the popup goes;
* the popup shows the client (``recado_client`` on the channel, else the queue,
  which is ``<client>@<domain>``), the caller, and the greeting in the language
  the engine decided for the call (``recado_language`` on the channel, else the
  call as the engine stored it);
* submitting the form sends the wrap-up to the hub under the caller channel's
  Unique-ID, the call id the source reports; the agent's phone hangs up, not the desk.

Console agents are mod_callcenter's agent names without ``@<domain>``; the
wrap-up names the agent as the source's mapping does, ``<id>@<domain>``.

It is also a `hub.web.desk_port.DialPort`: the calls of campaign phone contacts
are placed with ``originate`` and followed by `recado_freeswitch.contacts`.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from hub.core import directory
from hub.core import store as tables
from hub.core.campaigns import PhoneTask
from hub.core.clients import Client
from hub.core.models import Language, WrapUp
from hub.core.store import Store
from hub.sources import HubPort
from hub.web.desk import check_answers
from hub.web.desk_port import AgentChannels, AgentState, DeskError, DialProgress, Mark
from recado_freeswitch.connection import CommandError, ConnectionLost
from recado_freeswitch.contacts import ContactCalls
from recado_freeswitch.mapping import HeaderSource, e164
from recado_freeswitch.source import FreeSwitchSource

__all__ = ["STATUS", "FreeSwitchDesk", "FsDeskCall"]

log = logging.getLogger(__name__)

#: mod_callcenter's status for each console state.
STATUS = {
    AgentState.AVAILABLE: "Available",
    AgentState.ON_BREAK: "On Break",
    AgentState.LOGGED_OUT: "Logged Out",
}
_FROM_STATUS = {
    "Available": AgentState.AVAILABLE,
    "Available (On Demand)": AgentState.AVAILABLE,
    "On Break": AgentState.ON_BREAK,
    "Logged Out": AgentState.LOGGED_OUT,
}
#: What an agent name may hold: it goes into an API command line.
_AGENT = re.compile(r"^[A-Za-z0-9_.-]+(@[A-Za-z0-9_.-]+)?$")


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return None if value in ("", "_undef_") else value


@dataclass
class FsDeskCall:
    """A call mod_callcenter offered to an agent, until the agent's wrap-up."""

    call_id: str
    client: Client
    caller: str
    language: Language
    offered_at: datetime
    agent: str | None = None
    state: str = "ringing"


@dataclass(frozen=True)
class _Stored:
    """What the engine knows of a call: its client and the decided language."""

    client: Client | None
    language: str | None
    caller: str | None


class FreeSwitchDesk:
    """Agents and calls of the console over one FreeSWITCH source."""

    def __init__(self, source: FreeSwitchSource, hub: HubPort, store: Store) -> None:
        self.source = source
        self.hub = hub
        self.store = store
        self.domain = source.config.callcenter_domain
        self.agents: dict[str, AgentState] = {}
        self.calls: dict[str, FsDeskCall] = {}
        self.channels = AgentChannels()
        self.contacts = ContactCalls(source, self._send)
        source.listeners.append(self.on_event)
        source.listeners.append(self.contacts.on_event)

    # -- names -------------------------------------------------------------------------------

    def console_name(self, cc_agent: str) -> str:
        """The console's name of a mod_callcenter agent (``ana@default`` is ``ana``)."""
        return cc_agent.removesuffix(f"@{self.domain}")

    def cc_agent(self, agent: str) -> str:
        """mod_callcenter's name of a console agent (``ana`` is ``ana@default``)."""
        if not _AGENT.match(agent):
            raise DeskError(f"agent {agent!r}: expected letters, digits, '.', '_' or '-' (mod_callcenter agent names)")
        return agent if "@" in agent else f"{agent}@{self.domain}"

    # -- agents ------------------------------------------------------------------------------

    def states(self) -> dict[str, str]:
        """Every agent whose status the desk has set or seen, with its state."""
        return {name: state.value for name, state in self.agents.items()}

    async def set_state(self, agent: str, state: AgentState) -> None:
        """Set the agent's mod_callcenter status; `DeskError` when FreeSWITCH does not take it."""
        name = self.cc_agent(agent)
        conn = self.source.connection
        if conn is None or not self.source.connected:
            raise DeskError("not connected to FreeSWITCH; try again in a moment")
        command = f"callcenter_config agent set status {name} '{STATUS[state]}'"
        try:
            reply = (await conn.api(command)).strip()
        except (ConnectionLost, CommandError, TimeoutError) as exc:
            raise DeskError(f"FreeSWITCH did not set {name} {STATUS[state]!r}: {exc}") from None
        if not reply.startswith("+OK"):
            raise DeskError(f"FreeSWITCH refused to set {name} {STATUS[state]!r}: {reply or 'no answer'}")
        self.agents[agent] = state

    def subscribe(self, agent: str) -> asyncio.Queue[dict[str, Any]]:
        """A queue of this agent's events, for one open page."""
        return self.channels.subscribe(agent)

    def unsubscribe(self, agent: str, queue: asyncio.Queue[dict[str, Any]]) -> None:
        """The page closed."""
        self.channels.unsubscribe(agent, queue)

    def _send(self, agent: str, event: dict[str, Any]) -> None:
        self.channels.send(agent, event)

    def ringing_for(self, agent: str) -> Sequence[FsDeskCall]:
        """Calls mod_callcenter is offering this agent, oldest first."""
        return [c for c in self.calls.values() if c.state == "ringing" and c.agent == agent]

    def call_for(self, agent: str, call_id: str) -> FsDeskCall:
        """A call offered to this agent or bridged to it."""
        call = self.calls.get(call_id)
        if call is None or call.agent != agent:
            raise DeskError(f"no call {call_id!r} for agent {agent!r}")
        return call

    # -- calls -------------------------------------------------------------------------------

    async def answer(self, agent: str, call_id: str) -> FsDeskCall:
        """Open the script form of a call offered to the agent (the phone answers the call itself)."""
        call = self.call_for(agent, call_id)
        call.state = "talking"
        return call

    async def finish(
        self,
        agent: str,
        call_id: str,
        answers: dict[str, Any],
        notes: str | None,
        mark: Mark | None = None,
    ) -> None:
        """Send the script's answers (or the mark) to the hub as the call's wrap-up."""
        call = self.call_for(agent, call_id)
        if call.state != "talking":
            raise DeskError(f"call {call_id!r} is not being answered by {agent!r}")
        cleaned = {} if mark else check_answers(call.client, answers)
        wrapup = WrapUp(
            source=self.source.mapper.source,
            call_id=call_id,
            agent=self.cc_agent(agent),
            answers=cleaned,
            language=call.language,
            notes=notes or None,
            at=datetime.now(UTC),
            mark=mark,
        )
        try:
            await self.hub.wrapup(wrapup)
        except ValueError as exc:
            raise DeskError(str(exc)) from None
        del self.calls[call_id]

    # -- phone contacts of campaigns ---------------------------------------------------------

    @property
    def simulated(self) -> bool:
        """Calls are real: FreeSWITCH dials the people."""
        return False

    @property
    def message_slots(self) -> int:
        """How many message calls may be in progress at once (``message_calls``)."""
        return self.source.config.message_calls

    async def dial(self, task: PhoneTask, agent: str) -> DialProgress:
        """Ring the agent's phone, then the task's person (see `recado_freeswitch.contacts`)."""
        self.cc_agent(agent)  # the same names as mod_callcenter's, checked before going into a command
        return await self.contacts.dial(task, agent)

    @property
    def ready(self) -> bool:
        """Whether the event socket is up (calls are placed over it)."""
        return self.source.connected

    async def play_message(self, task: PhoneTask) -> Awaitable[DialProgress]:
        """Call the person to play the client's recorded message; returns once the call is placed."""
        return await self.contacts.play_message(task)

    def progress(self, contact_id: int) -> DialProgress | None:
        """The call of a contact placed here and not closed yet."""
        return self.contacts.progress(contact_id)

    async def close_contact(self, contact_id: int) -> None:
        """The outcome is recorded; the call itself ends at the phones, never from the console."""
        self.contacts.close(contact_id)

    # -- mod_callcenter ----------------------------------------------------------------------

    async def on_event(self, h: HeaderSource) -> None:
        """Follow mod_callcenter's ``callcenter::info`` events (a `FreeSwitchSource` listener)."""
        if _clean(h.get("Event-Name")) != "CUSTOM" or _clean(h.get("Event-Subclass")) != "callcenter::info":
            return
        action = _clean(h.get("CC-Action"))
        cc_agent = _clean(h.get("CC-Agent"))
        if action == "agent-status-change" and cc_agent:
            state = _FROM_STATUS.get(_clean(h.get("CC-Agent-Status")) or "")
            if state is not None:
                self.agents[self.console_name(cc_agent)] = state
            return
        call_id = _clean(h.get("CC-Member-Session-UUID"))
        if not call_id:
            return
        if action in ("agent-offering", "bridge-agent-start") and cc_agent:
            await self._offered(h, call_id, self.console_name(cc_agent), bridged=action == "bridge-agent-start")
        elif action == "bridge-agent-fail":
            call = self.calls.get(call_id)
            if call is not None and call.state == "ringing" and call.agent:
                # The agent did not pick up: mod_callcenter offers the caller to someone else.
                self._send(call.agent, {"type": "taken", "call_id": call_id})
                call.agent = None
        elif action == "member-queue-end":
            call = self.calls.get(call_id)
            if call is not None and call.state == "ringing":
                # The caller left before an agent took the call; one in progress waits for its form.
                del self.calls[call_id]
                if call.agent:
                    self._send(call.agent, {"type": "taken", "call_id": call_id})

    async def _offered(self, h: HeaderSource, call_id: str, agent: str, *, bridged: bool) -> None:
        call = self.calls.get(call_id)
        if call is None:
            call = await self._new_call(h, call_id)
            if call is None:
                return
            self.calls[call_id] = call
        if call.agent and call.agent != agent:
            self._send(call.agent, {"type": "taken", "call_id": call_id})
        call.agent = agent
        if bridged:
            call.state = "talking"
        self._send(agent, {"type": "ring", "call_id": call_id})

    async def _new_call(self, h: HeaderSource, call_id: str) -> FsDeskCall | None:
        """The call's client, caller and language, from the event and the engine's record of it."""
        queue = _clean(h.get("CC-Queue")) or ""
        client_id = _clean(h.get("variable_recado_client")) or queue.split("@")[0]
        stored = await asyncio.to_thread(self._stored, call_id, client_id)
        if stored.client is None:
            log.warning("call %s was offered from queue %r, which is no client's; not shown", call_id, queue)
            return None
        client = stored.client
        spoken = _clean(h.get("variable_recado_language")) or stored.language
        language = Language(spoken) if spoken in {lang.value for lang in Language} else client.languages[0]
        caller = stored.caller or e164(_clean(h.get("CC-Member-CID-Number"))) or "unknown"
        return FsDeskCall(call_id, client, caller, language, datetime.now(UTC))

    def _stored(self, call_id: str, client_id: str) -> _Stored:
        with self.store.connect() as conn:
            row = conn.execute(
                select(tables.calls.c.data).where(
                    tables.calls.c.source == self.source.mapper.source, tables.calls.c.call_id == call_id
                )
            ).first()
            data: dict[str, Any] = dict(row.data) if row is not None else {}
            client = directory.get_client(conn, str(data.get("client") or client_id))
        return _Stored(client, data.get("language"), data.get("caller"))
