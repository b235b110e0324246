"""Calls of campaign phone contacts over a FreeSWITCH source: placed with ``bgapi originate``, then followed.

Agent tasks ring the agent first::

    originate {…recado_leg=agent…}user/ana &bridge({…recado_leg=callee…}sofia/gateway/<gw>/<number>)

The agent's phone rings (showing the person's name and number); once the agent
picks up, FreeSWITCH dials the person from the client's number. Nobody is ever
answered by silence, and a task whose agent does not pick up leaves the contact
untouched. Message tasks call the person and play the recorded message::

    originate {…recado_leg=callee,recado_message=campaign,ignore_early_media=true…}sofia/gateway/<gw>/<number>
        &playback(<sounds_dir>/<client>/campaign_<language>.wav)

The person's leg is reported to the hub by the source's mapping (call id
``contact-<id>``: outbound_started, outbound_answered, message_played, ended or
outbound_failed). This module follows the same events, and the originate job's
result, to tell the agent's console how the call is going.
"""

from __future__ import annotations

import asyncio
import logging
import uuid as uuidlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from hub.core.campaigns import PhoneTask
from hub.core.privacy import mask_phone
from hub.web.desk_port import DeskError, DialProgress
from recado_freeswitch.connection import CommandError, ConnectionLost
from recado_freeswitch.dialstring import (
    DialStringError,
    Leg,
    bridge_to,
    caller_name,
    dial_number,
    originate_line,
    playback,
    token,
)
from recado_freeswitch.mapping import HeaderSource, event_time
from recado_freeswitch.source import FreeSwitchConfig, FreeSwitchSource

__all__ = ["ContactCall", "ContactCalls", "agent_task_command", "message_task_command"]

log = logging.getLogger(__name__)

#: Sends one event to an agent's open console pages.
Send = Callable[[str, dict[str, Any]], None]


def _number_for_gateway(number: str, config: FreeSwitchConfig) -> str:
    number = dial_number(number, what="contact number")
    if config.number_format == "digits":
        return number[1:]
    if config.number_format == "00":
        return "00" + number[1:]
    return number


def _callee(task: PhoneTask, config: FreeSwitchConfig, uid: str, extra: dict[str, str]) -> Leg:
    """The person's leg: dialled through the gateway, showing the client's number."""
    pairs = {
        "origination_uuid": uid,
        "origination_caller_id_number": dial_number(task.caller_id, what="client number"),
        "originate_timeout": str(config.outbound_ring_s),
        "recado_contact": str(task.contact_id),
        "recado_leg": "callee",
        "recado_client": task.client,
        "recado_did": task.caller_id,
        **extra,
    }
    name = caller_name(task.client_name)
    if name:
        pairs["origination_caller_id_name"] = name
    gateway = token(config.gateway, "gateway")
    return Leg(f"sofia/gateway/{gateway}/{_number_for_gateway(task.number, config)}", pairs)


def agent_task_command(task: PhoneTask, agent: str, config: FreeSwitchConfig, agent_uid: str, callee_uid: str) -> str:
    """The originate line of an agent task: the agent's phone first, then the person."""
    agent = token(agent, "agent")
    callee = _callee(task, config, callee_uid, {"recado_agent": agent})
    pairs = {
        "origination_uuid": agent_uid,
        # The agent's phone shows who is about to be called.
        "origination_caller_id_number": dial_number(task.number, what="contact number"),
        "originate_timeout": str(config.agent_ring_s),
        "recado_contact": str(task.contact_id),
        "recado_leg": "agent",
        "recado_agent": agent,
    }
    name = caller_name(task.name)
    if name:
        pairs["origination_caller_id_name"] = name
    return originate_line(Leg(config.agent_endpoint.replace("{agent}", agent), pairs), bridge_to(callee))


def message_task_command(task: PhoneTask, config: FreeSwitchConfig, callee_uid: str) -> str:
    """The originate line of a message task: the person, then the recorded message once they answer."""
    # Without ignore_early_media the message would start on the ringing tone's early media.
    extra = {"recado_message": "campaign", "ignore_early_media": "true"}
    callee = _callee(task, config, callee_uid, extra)
    return originate_line(callee, playback(config.message_file(task.client, task.language.value)))


@dataclass
class ContactCall:
    """One call placed for a contact, until it is over."""

    task: PhoneTask
    progress: DialProgress
    job: str
    agent_leg: str | None
    callee_leg: str
    mode: str
    callee_seen: bool = False
    done: asyncio.Event = field(default_factory=asyncio.Event)


class ContactCalls:
    """Places the calls of phone contacts over one FreeSWITCH source and follows them."""

    def __init__(self, source: FreeSwitchSource, send: Send) -> None:
        self.source = source
        self.send = send
        self.calls: dict[int, ContactCall] = {}
        self._by_job: dict[str, ContactCall] = {}
        self._by_leg: dict[str, ContactCall] = {}
        #: (client, language) whose recorded message FreeSWITCH did not find: not played again until restart.
        self.missing_messages: dict[tuple[str, str], str] = {}

    @property
    def config(self) -> FreeSwitchConfig:
        """The source's settings."""
        return self.source.config

    async def _originate(self, call: ContactCall, line: str) -> None:
        conn = self.source.connection
        if conn is None or not self.source.connected:
            raise DeskError("not connected to FreeSWITCH; try again in a moment")
        self._by_job[call.job] = call
        if call.agent_leg:
            self._by_leg[call.agent_leg] = call
        self._by_leg[call.callee_leg] = call
        try:
            await conn.command(f"bgapi {line}", {"Job-UUID": call.job})
        except (ConnectionLost, CommandError, TimeoutError) as exc:
            self._forget(call)
            raise DeskError(f"FreeSWITCH did not place the call: {exc}") from None

    def _forget(self, call: ContactCall) -> None:
        self._by_job.pop(call.job, None)
        self._by_leg.pop(call.callee_leg, None)
        if call.agent_leg:
            self._by_leg.pop(call.agent_leg, None)

    async def dial(self, task: PhoneTask, agent: str) -> DialProgress:
        """Ring `agent`'s phone, then the person; returns once FreeSWITCH took the command."""
        current = self.calls.get(task.contact_id)
        if current is not None and not current.done.is_set():
            raise DeskError(f"contact {task.contact_id} is being called already")
        if current is not None:
            self._forget(current)
        agent_uid, callee_uid = str(uuidlib.uuid4()), str(uuidlib.uuid4())
        try:
            line = agent_task_command(task, agent, self.config, agent_uid, callee_uid)
        except DialStringError as exc:
            raise DeskError(f"contact {task.contact_id} cannot be called: {exc}") from None
        progress = DialProgress(task.contact_id, agent)
        call = ContactCall(task, progress, str(uuidlib.uuid4()), agent_uid, callee_uid, "agent")
        await self._originate(call, line)
        self.calls[task.contact_id] = call
        log.info("contact %s: ringing agent %s to call %s", task.contact_id, agent, mask_phone(task.number))
        return progress

    async def play_message(self, task: PhoneTask) -> Awaitable[DialProgress]:
        """Call the person to play the recorded message; returns once placed, with the awaitable of its end."""
        missing = self.missing_messages.get((task.client, task.language.value))
        if missing is not None:
            raise DeskError(f"the recorded message {missing} is missing at FreeSWITCH: put it there and restart")
        callee_uid = str(uuidlib.uuid4())
        try:
            line = message_task_command(task, self.config, callee_uid)
        except DialStringError as exc:
            raise DeskError(f"contact {task.contact_id} cannot be called: {exc}") from None
        call = ContactCall(task, DialProgress(task.contact_id, None), str(uuidlib.uuid4()), None, callee_uid, "message")
        await self._originate(call, line)
        log.info("contact %s: calling %s to play the message", task.contact_id, mask_phone(task.number))
        return asyncio.create_task(self._message_call_over(call))

    async def _message_call_over(self, call: ContactCall) -> DialProgress:
        limit = self.config.outbound_ring_s + self.config.message_max_s + self.config.command_timeout_s
        try:
            async with asyncio.timeout(limit):
                await call.done.wait()
        except TimeoutError:
            # The hub still hears of the call's end from the source (after a resync if need be).
            log.warning("contact %s: no end of the message call after %.0f s", call.task.contact_id, limit)
        finally:
            self._forget(call)
        return call.progress

    def progress(self, contact_id: int) -> DialProgress | None:
        """The call of a contact placed here and not closed yet."""
        call = self.calls.get(contact_id)
        return None if call is None else call.progress

    def close(self, contact_id: int) -> None:
        """The outcome is recorded: stop following the contact's call (it goes on at the phones)."""
        call = self.calls.pop(contact_id, None)
        if call is not None:
            self._forget(call)

    # -- following the calls -------------------------------------------------------------------

    async def on_event(self, h: HeaderSource) -> None:
        """Follow the originate jobs and the legs of contact calls (a `FreeSwitchSource` listener)."""
        name = h.get("Event-Name")
        if name == "BACKGROUND_JOB":
            call = self._by_job.pop(h.get("Job-UUID") or "", None)
            if call is not None:
                self._job_done(call, _body(h).strip())
            return
        call = self._by_leg.get(h.get("Unique-ID") or "")
        if call is None:
            return
        if h.get("Unique-ID") == call.agent_leg:
            self._agent_leg(call, name, h)
        else:
            self._callee_leg(call, name, h)

    def _changed(self, call: ContactCall) -> None:
        if call.progress.agent:
            self.send(call.progress.agent, call.progress.as_event())

    def _failed(self, call: ContactCall, cause: str | None) -> None:
        progress = call.progress
        if progress.state in ("ended", "failed"):
            return
        progress.state, progress.cause = "failed", cause
        call.done.set()
        self._changed(call)

    def _job_done(self, call: ContactCall, result: str) -> None:
        if result.startswith("+OK"):
            return
        cause = result.removeprefix("-ERR").strip() or "FAILED"
        if not call.callee_seen:
            # Nothing was dialled: the agent's phone (or the gateway) refused before.
            log.info("contact %s: call not placed (%s)", call.task.contact_id, cause)
            self._failed(call, cause)

    def _agent_leg(self, call: ContactCall, name: str | None, h: HeaderSource) -> None:
        if name == "CHANNEL_HANGUP_COMPLETE" and not call.callee_seen:
            self._failed(call, h.get("Hangup-Cause") or "NO_ANSWER")

    def _callee_leg(self, call: ContactCall, name: str | None, h: HeaderSource) -> None:
        progress = call.progress
        if name == "CHANNEL_CREATE" and not call.callee_seen:
            call.callee_seen, progress.placed, progress.state = True, True, "ringing"
            self._changed(call)
        elif name == "CHANNEL_ANSWER" and progress.answered_at is None:
            progress.state, progress.answered_at = "answered", event_time(h)
            self._changed(call)
        elif name == "CHANNEL_EXECUTE_COMPLETE" and h.get("Application") == "playback":
            response = h.get("Application-Response") or ""
            progress.message_played = progress.message_played or response == "FILE PLAYED"
            if response == "FILE NOT FOUND":
                path = h.get("Application-Data") or "?"
                self.missing_messages[(call.task.client, call.task.language.value)] = path
                log.error("FreeSWITCH has no recorded message %s: message calls of %s wait", path, call.task.client)
        elif name == "CHANNEL_HANGUP_COMPLETE":
            call.callee_seen = progress.placed = True
            progress.ended_at = event_time(h)
            if progress.answered_at is None:
                self._failed(call, h.get("Hangup-Cause") or "NO_ANSWER")
                return
            progress.state, progress.cause = "ended", h.get("Hangup-Cause")
            call.done.set()
            self._changed(call)


def _body(h: HeaderSource) -> str:
    """The body of a BACKGROUND_JOB event (a `Message` carries it as ``body``)."""
    body = getattr(h, "body", None)
    return body if isinstance(body, str) else ""
