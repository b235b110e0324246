"""The calls of the ESL emulator: dialplan socket, applications, mod_callcenter, hangups.

Mixed into `fs_esl_emulator.EmulatedFreeSwitch`, whose state (channels, sessions,
``fire``) it uses. Event order follows FreeSWITCH: CHANNEL_CREATE, the socket
session, CHANNEL_EXECUTE/CHANNEL_EXECUTE_COMPLETE around each application,
callcenter::info member-queue-start / agent-offering / bridge-agent-start /
bridge-agent-end / member-queue-end, CHANNEL_BRIDGE/UNBRIDGE, and on hangup
CHANNEL_HANGUP, CHANNEL_HANGUP_COMPLETE, CHANNEL_DESTROY, then the session's
disconnect notice.
"""

from __future__ import annotations

import asyncio
import uuid as uuidlib
from typing import Any

from fs_channels import Channel, now_us


class CallsMixin:
    """Call behaviour of the emulated switch."""

    channels: dict[str, Channel]
    sessions: dict[str, Any]
    members: dict[str, asyncio.Event]
    socket_target: tuple[str, int] | None
    _apps: dict[str, asyncio.Queue[tuple[str, str, str]]]

    # -- calls -------------------------------------------------------------------------------

    def _queue(self, uid: str) -> asyncio.Queue[tuple[str, str, str]]:
        if uid not in self._apps:
            self._apps[uid] = asyncio.Queue()
            self._spawn(self._run_apps(uid))
        return self._apps[uid]

    async def _run_apps(self, uid: str) -> None:
        queue = self._apps[uid]
        while uid in self.channels:
            app, arg, event_uuid = await queue.get()
            chan = self.channels.get(uid)
            if chan is None:
                return
            chan.executed.append((app, arg))
            chan.application, chan.application_data = app, arg
            info = [("Application", app), ("Application-Data", arg)]
            if event_uuid:
                info.append(("Application-UUID", event_uuid))
            await self.fire("CHANNEL_EXECUTE", info, chan)
            response = await self._execute(chan, app, arg)
            await self.fire("CHANNEL_EXECUTE_COMPLETE", [*info, ("Application-Response", response)], chan)

    async def _execute(self, chan: Channel, app: str, arg: str) -> str:
        if app == "answer":
            await self.answer(chan)
        elif app in ("set", "export"):
            key, _, value = arg.partition("=")
            chan.variables[key] = value
        elif app == "playback":
            return "FILE PLAYED"
        elif app == "hangup":
            self._spawn(self.hangup(chan, arg or "NORMAL_CLEARING"))
        elif app == "callcenter":
            member = str(uuidlib.uuid4())
            chan.variables.update(cc_queue=arg, cc_member_uuid=member)
            done = self.members[chan.uuid] = asyncio.Event()
            await self.fire("CUSTOM", self._cc(chan, "member-queue-start"), subclass="callcenter::info")
            await done.wait()
        return "_none_"

    def _cc(self, chan: Channel, action: str, *extra: tuple[str, str]) -> list[tuple[str, str]]:
        return [
            ("CC-Queue", chan.variables.get("cc_queue", "")),
            ("CC-Action", action),
            *extra,
            ("CC-Member-UUID", chan.variables.get("cc_member_uuid", "")),
            ("CC-Member-Session-UUID", chan.uuid),
            ("CC-Member-CID-Name", chan.caller_name or chan.caller),
            ("CC-Member-CID-Number", chan.caller),
        ]

    async def incoming_call(self, did: str, caller: str, caller_name: str = "") -> Channel:
        """A call arrives on ``did``: CHANNEL_CREATE, then the dialplan's socket application."""
        chan = Channel(destination=did, caller=caller, caller_name=caller_name)
        self.channels[chan.uuid] = chan
        await self.fire("CHANNEL_CREATE", channel=chan)
        chan.state = "CS_EXECUTE"
        if self.socket_target is not None:
            await self.open_session(chan)
        return chan

    async def answer(self, chan: Channel) -> None:
        """The leg is answered."""
        chan.answer_state, chan.call_state, chan.answered_us = "answered", "ACTIVE", now_us()
        await self.fire("CHANNEL_ANSWER", channel=chan)

    async def offer_to_agent(self, chan: Channel, agent: str) -> None:
        """mod_callcenter offers the queued caller to ``agent`` (whose phone starts ringing)."""
        await self.fire(
            "CUSTOM",
            self._cc(chan, "agent-offering", ("CC-Agent", agent), ("CC-Agent-System", "single_box")),
            subclass="callcenter::info",
        )

    async def agent_answers(self, chan: Channel, agent: str) -> Channel:
        """mod_callcenter offers the queued caller to ``agent``, who answers; they are bridged."""
        number = agent.split("@")[0]
        await self.offer_to_agent(chan, agent)
        leg = Channel(destination=number, caller=chan.caller, direction="outbound")
        leg.variables.update(
            cc_agent=agent,
            cc_queue=chan.variables.get("cc_queue", ""),
            cc_member_session_uuid=chan.uuid,
        )
        self.channels[leg.uuid] = leg
        await self.fire("CHANNEL_CREATE", channel=leg)
        await self.answer(leg)
        await self.fire(
            "CUSTOM",
            self._cc(chan, "bridge-agent-start", ("CC-Agent", agent), ("CC-Agent-UUID", leg.uuid)),
            subclass="callcenter::info",
        )
        chan.variables["cc_agent"] = agent
        await self._bridge(chan, leg)
        return leg

    async def _bridge(self, chan: Channel, leg: Channel) -> None:
        chan.other_leg, leg.other_leg = leg, chan
        chan.bridged_us = leg.bridged_us = now_us()
        chan.variables["bridge_uuid"] = leg.uuid
        await self.fire("CHANNEL_BRIDGE", [("Bridge-A-Unique-ID", chan.uuid), ("Bridge-B-Unique-ID", leg.uuid)], chan)

    async def transfer(self, chan: Channel, agent: str) -> Channel:
        """The agent hands the caller to another agent (the first leg hangs up)."""
        old = chan.other_leg
        assert old is not None
        old_agent = old.variables.get("cc_agent", "")
        await self.fire(
            "CUSTOM",
            self._cc(chan, "bridge-agent-end", ("CC-Agent", old_agent), ("CC-Hangup-Cause", "NORMAL_CLEARING")),
            subclass="callcenter::info",
        )
        await self.fire("CHANNEL_UNBRIDGE", [("Bridge-A-Unique-ID", chan.uuid), ("Bridge-B-Unique-ID", old.uuid)], chan)
        chan.other_leg = None
        await self._end_leg(old, "NORMAL_CLEARING")
        leg = Channel(destination=agent.split("@")[0], caller=chan.caller, direction="outbound")
        leg.variables["cc_agent"] = agent
        self.channels[leg.uuid] = leg
        await self.fire("CHANNEL_CREATE", channel=leg)
        await self.answer(leg)
        chan.variables["cc_agent"] = agent
        await self._bridge(chan, leg)
        return leg

    async def hangup(self, chan: Channel, cause: str = "NORMAL_CLEARING") -> None:
        """The caller's leg ends (and with it the queue membership and a bridged agent leg)."""
        if chan.uuid not in self.channels:
            return
        other = chan.other_leg
        if chan.uuid in self.members:
            if other is not None:
                await self.fire(
                    "CUSTOM",
                    self._cc(chan, "bridge-agent-end", ("CC-Agent", other.variables.get("cc_agent", ""))),
                    subclass="callcenter::info",
                )
            answered = other is not None or "cc_agent" in chan.variables
            await self.fire(
                "CUSTOM",
                self._cc(chan, "member-queue-end", ("CC-Cause", "Terminated" if answered else "Cancel")),
                subclass="callcenter::info",
            )
            self.members.pop(chan.uuid).set()
        if other is not None and other.uuid in self.channels:
            other.other_leg = None
            await self._end_leg(other, cause)
        await self._end_leg(chan, cause)
        conn = self.sessions.pop(chan.uuid, None)
        if conn is not None:
            await conn.disconnect("linger" if conn.linger else "disconnect")

    async def _end_leg(self, chan: Channel, cause: str) -> None:
        chan.state, chan.call_state, chan.hangup_us = "CS_HANGUP", "HANGUP", now_us()
        chan.hangup_cause = cause
        chan.answer_state = "hangup"
        await self.fire("CHANNEL_HANGUP", [("Hangup-Cause", cause)], chan)
        chan.state = "CS_REPORTING"
        billsec = (chan.hangup_us - chan.answered_us) // 1_000_000 if chan.answered_us else 0
        chan.variables.update(hangup_cause=cause, billsec=str(billsec))
        await self.fire("CHANNEL_HANGUP_COMPLETE", [("Hangup-Cause", cause)], chan)
        chan.state = "CS_DESTROY"
        self.channels.pop(chan.uuid, None)
        await self.fire("CHANNEL_DESTROY", channel=chan)
