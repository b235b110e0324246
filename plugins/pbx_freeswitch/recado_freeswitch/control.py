"""Call control: the outbound-socket server that asks the hub what to do with each call.

The generated dialplan ends each DID's extension with
``socket <host>:<port> async full``: FreeSWITCH parks the call and connects
here. We send ``connect`` (the reply carries the channel's data), build the
offered event from it, ask ``hub.decide`` and carry the decision out with
``sendmsg`` executes, which FreeSWITCH runs in order. The socket stays open
until the call ends: an outbound socket that closes early hangs the call up.
"""

from __future__ import annotations

import asyncio
import logging
import uuid as uuidlib
from collections.abc import Mapping
from typing import Any

from hub.core.models import CallEvent, EventKind, RouteAction, RouteDecision
from hub.core.privacy import mask_phone
from hub.sources import HubPort
from recado_freeswitch.connection import CommandError, ConnectionLost, EslConnection
from recado_freeswitch.mapping import SOURCE, HeaderSource, e164, event_time
from recado_freeswitch.wire import sendmsg

__all__ = ["CallControl", "ControlSettings", "offer_from_channel", "originate", "plan"]

log = logging.getLogger(__name__)


class ControlSettings:
    """What call control needs from the source's settings."""

    def __init__(
        self,
        *,
        sounds_dir: str = "/usr/share/freeswitch/sounds/recado",
        sound_ext: str = "wav",
        domain: str = "default",
        ring_out_s: float = 20.0,
        source: str = SOURCE,
    ) -> None:
        self.sounds_dir = sounds_dir.rstrip("/")
        self.sound_ext = sound_ext
        self.domain = domain
        self.ring_out_s = ring_out_s
        self.source = source


def offer_from_channel(h: HeaderSource, source: str = SOURCE) -> CallEvent:
    """The offered event of a call, from the channel data FreeSWITCH sends on ``connect``."""
    uid = h.get("Unique-ID")
    if not uid:
        raise ConnectionLost("connect reply carries no Unique-ID")
    did = h.get("variable_recado_did") or h.get("Caller-Destination-Number")
    raw: dict[str, Any] = {"event": "CHANNEL_DATA", "unique_id": uid}
    name = h.get("Caller-Caller-ID-Name")
    if name and name != h.get("Caller-Caller-ID-Number"):
        raw["caller_name"] = name
    return CallEvent(
        source=source,
        call_id=uid,
        kind=EventKind.OFFERED,
        at=event_time(h, "Caller-Channel-Created-Time"),
        did=did,
        caller=e164(h.get("Caller-Caller-ID-Number")),
        raw=raw,
    )


def plan(decision: RouteDecision, settings: ControlSettings) -> list[tuple[str, str]]:
    """The dialplan applications (name, argument) that carry a decision out, in order."""
    steps: list[tuple[str, str]] = []
    if decision.client:
        steps += [
            ("set", f"recado_client={decision.client}"),
            ("set", f"recado_language={decision.language.value}"),
        ]
    if decision.action is RouteAction.ANSWER:
        queue = decision.queue or decision.client or ""
        if decision.agent_gender != "any":
            steps.append(("set", f"recado_agent_gender={decision.agent_gender}"))
        if decision.preferred_agents:
            steps.append(("set", f"recado_preferred_agents={','.join(decision.preferred_agents)}"))
        steps += [("answer", ""), ("callcenter", f"{queue}@{settings.domain}")]
    elif decision.action in (RouteAction.PLAY_MESSAGE, RouteAction.REFUSE) and decision.message:
        path = f"{settings.sounds_dir}/{decision.message}.{settings.sound_ext}"
        steps += [
            ("set", f"recado_message={decision.message}"),
            ("answer", ""),
            ("playback", path),
            ("hangup", "NORMAL_CLEARING"),
        ]
    elif decision.action is RouteAction.REFUSE:
        steps.append(("hangup", "CALL_REJECTED" if decision.client else "UNALLOCATED_NUMBER"))
    else:
        # Not answered: the caller hears ringing until the ring-out time, as with nobody there.
        steps += [("ring_ready", ""), ("sleep", str(int(settings.ring_out_s * 1000)))]
        steps.append(("hangup", "NO_ANSWER"))
    return steps


class CallControl:
    """Serves FreeSWITCH's outbound-socket connections, one per call."""

    def __init__(self, hub: HubPort, settings: ControlSettings) -> None:
        self.hub = hub
        self.settings = settings
        self._sessions: dict[asyncio.Task[None], EslConnection] = {}

    async def serve(self, host: str, port: int) -> asyncio.Server:
        """Start listening; FreeSWITCH's ``socket`` application connects here."""
        return await asyncio.start_server(self._accept, host, port)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        conn = EslConnection(reader, writer)
        self._sessions[task] = conn
        try:
            await self.session(conn)
        except (ConnectionLost, CommandError, OSError, TimeoutError) as exc:
            log.warning("call control session ended early: %s", exc)
        except Exception:
            log.exception("call control session failed")
        finally:
            self._sessions.pop(task, None)
            await conn.close()

    async def session(self, conn: EslConnection) -> None:
        """One call: read its data, ask the hub, carry the decision out, stay until it ends."""
        channel = await conn.command("connect")
        offer = offer_from_channel(channel, self.settings.source)
        await conn.command("myevents")
        decision = await self.hub.decide(offer)
        log.info(
            "call %s from %s: %s",
            offer.call_id,
            mask_phone(offer.caller),
            decision.action.value,
        )
        for app, arg in plan(decision, self.settings):
            data = sendmsg(offer.call_id, app, arg, event_uuid=str(uuidlib.uuid4()))
            await conn.request(data, what=f"sendmsg {app}")
        await conn.closed.wait()

    async def close(self) -> None:
        """End every session in progress (their calls go on in FreeSWITCH's dialplan)."""
        sessions = dict(self._sessions)
        for conn in sessions.values():
            await conn.close()
        if sessions:
            # Closing the socket ends each session by itself; cancelling a server's
            # connection task would only make asyncio log it.
            await asyncio.wait(list(sessions), timeout=2)


async def originate(
    conn: EslConnection,
    destination: str,
    *,
    call_id: str | None = None,
    caller_id: str | None = None,
    variables: Mapping[str, str] | None = None,
    endpoint: str = "sofia/gateway/default",
    then: str = "&park()",
) -> str:
    """Place an outbound call with ``bgapi originate``; returns its Unique-ID.

    The Unique-ID is chosen here (``origination_uuid``) so the call's events
    are recognised from the first one; ``recado_outbound=true`` marks them.
    Raises `CommandError` when FreeSWITCH reports that the call failed.
    """
    uid = call_id or str(uuidlib.uuid4())
    pairs = {"origination_uuid": uid, "recado_outbound": "true", **(variables or {})}
    if caller_id:
        pairs["origination_caller_id_number"] = caller_id
    for key, value in pairs.items():
        if any(c in f"{key}{value}" for c in ",{} \n"):
            raise ValueError(f"originate variable {key!r} holds a character it cannot carry")
    dial = "{" + ",".join(f"{k}={v}" for k, v in pairs.items()) + "}" + f"{endpoint}/{destination}"
    result = await conn.bgapi(f"originate {dial} {then}")
    output = (result.body or "").strip()
    if not output.startswith("+OK"):
        raise CommandError("originate", output or "-ERR no result")
    return uid
