"""The freeswitch source end to end against the emulated FreeSWITCH: calls, control, faults."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import pytest
from fs_esl_emulator import EmulatedFreeSwitch
from fs_recording_hub import WAIT, RecordingHub
from recado_freeswitch.connection import CommandError
from recado_freeswitch.source import FreeSwitchConfig, FreeSwitchSource
from recado_freeswitch.wire import frame, serialize_event_plain

from hub.core.models import (
    CallEvent,
    Disposition,
    EventKind,
    Language,
    RouteAction,
    RouteDecision,
)

DID = "+351217000001"
CALLER = "+351912345678"


def answer(offer: CallEvent) -> RouteDecision:
    return RouteDecision(
        call_id=offer.call_id,
        client="acme",
        action=RouteAction.ANSWER,
        queue="acme",
        preferred_agents=["1001"],
        price_cents=150,
    )


def after_hours(offer: CallEvent) -> RouteDecision:
    return RouteDecision(
        call_id=offer.call_id,
        client="acme",
        action=RouteAction.PLAY_MESSAGE,
        disposition=Disposition.AFTER_HOURS,
        language=Language.EN,
        message="acme/after_hours_en",
    )


def interrupted(offer: CallEvent) -> RouteDecision:
    return RouteDecision(
        call_id=offer.call_id,
        client="acme",
        action=RouteAction.REFUSE,
        disposition=Disposition.REFUSED_NO_BALANCE,
        message="acme/unavailable_pt",
    )


def not_answered(offer: CallEvent) -> RouteDecision:
    return RouteDecision(
        call_id=offer.call_id,
        client="acme",
        action=RouteAction.NOT_ANSWERED,
        disposition=Disposition.AFTER_HOURS,
    )


@dataclass
class Setup:
    fs: EmulatedFreeSwitch
    hub: RecordingHub
    source: FreeSwitchSource


@contextlib.asynccontextmanager
async def running(policy: Callable[[CallEvent], RouteDecision], **settings: object) -> AsyncIterator[Setup]:
    fs = EmulatedFreeSwitch(heartbeat_s=settings.pop("heartbeat_s", None))  # type: ignore[arg-type]
    await fs.start()
    config = FreeSwitchConfig.model_validate(
        {
            "port": fs.port,
            "control_port": 0,
            "backoff_initial_s": 0.01,
            "backoff_max_s": 0.05,
            "ring_out_s": 0,
            **settings,
        }
    )
    hub = RecordingHub(policy)
    source = FreeSwitchSource(config)
    task = asyncio.create_task(source.run(hub))
    await asyncio.wait_for(source.online.wait(), WAIT)
    assert source.control_server is not None
    fs.socket_target = ("127.0.0.1", source.control_server.sockets[0].getsockname()[1])
    try:
        yield Setup(fs, hub, source)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await fs.stop()


async def queued(fs: EmulatedFreeSwitch, uuid: str) -> None:
    """Wait until the call sits in its callcenter queue."""
    async with asyncio.timeout(WAIT):
        while uuid not in fs.members:
            await asyncio.sleep(0.005)


async def reconnected(source: FreeSwitchSource, count: int) -> None:
    async with asyncio.timeout(WAIT):
        while source.connects < count or not source.connected:
            await asyncio.sleep(0.005)


async def test_answered_call_is_queued_then_answered_bridged_and_ended() -> None:
    async with running(answer) as s:
        call = await s.fs.incoming_call(DID, CALLER, "Ana Araújo")
        await queued(s.fs, call.uuid)
        assert call.executed == [
            ("set", "recado_client=acme"),
            ("set", "recado_language=pt"),
            ("set", "recado_preferred_agents=1001"),
            ("answer", ""),
            ("callcenter", "acme@default"),
        ]
        await s.fs.agent_answers(call, "1001@default")
        await s.fs.hangup(call)
        await s.hub.wait_for(call.uuid, EventKind.ENDED)
        assert s.hub.kinds(call.uuid) == ["offered", "answered", "bridged", "ended"]
        (answered,) = s.hub.of(call.uuid, EventKind.ANSWERED)
        assert answered.agent == "1001@default"
        assert answered.did == DID and answered.caller == CALLER
        assert answered.raw["client"] == "acme"
        (offer,) = s.hub.offers
        assert offer.call_id == call.uuid and offer.did == DID
        assert offer.raw["caller_name"] == "Ana Araújo"


async def test_after_hours_call_hears_the_message_and_hangs_up() -> None:
    async with running(after_hours, sounds_dir="/sounds") as s:
        call = await s.fs.incoming_call(DID, "+447700900123")
        await s.hub.wait_for(call.uuid, EventKind.ENDED)
        assert ("playback", "/sounds/acme/after_hours_en.wav") in call.executed
        assert call.executed[-1] == ("hangup", "NORMAL_CLEARING")
        assert s.hub.kinds(call.uuid) == ["offered", "message_played", "ended"]


async def test_interrupted_service_plays_unavailable_message() -> None:
    async with running(interrupted) as s:
        call = await s.fs.incoming_call(DID, CALLER)
        await s.hub.wait_for(call.uuid, EventKind.ENDED)
        assert ("playback", "/usr/share/freeswitch/sounds/recado/acme/unavailable_pt.wav") in (call.executed)
        assert "answered" not in s.hub.kinds(call.uuid)


async def test_not_answered_call_rings_out() -> None:
    async with running(not_answered) as s:
        call = await s.fs.incoming_call(DID, CALLER)
        await s.hub.wait_for(call.uuid, EventKind.ENDED)
        assert ("answer", "") not in call.executed
        assert call.executed[-1] == ("hangup", "NO_ANSWER")
        assert s.hub.kinds(call.uuid) == ["offered", "ended"]


async def test_caller_who_gives_up_in_the_queue_is_a_missed_call() -> None:
    async with running(answer) as s:
        call = await s.fs.incoming_call(DID, CALLER)
        await queued(s.fs, call.uuid)
        await s.fs.hangup(call)
        await s.hub.wait_for(call.uuid, EventKind.ENDED)
        assert s.hub.kinds(call.uuid) == ["offered", "ended"]


async def test_transfer_between_agents_is_a_second_bridge() -> None:
    async with running(answer) as s:
        call = await s.fs.incoming_call(DID, CALLER)
        await queued(s.fs, call.uuid)
        await s.fs.agent_answers(call, "1001@default")
        await s.fs.transfer(call, "1002@default")
        await s.fs.hangup(call)
        await s.hub.wait_for(call.uuid, EventKind.ENDED)
        assert s.hub.kinds(call.uuid) == ["offered", "answered", "bridged", "bridged", "ended"]
        assert [e.agent for e in s.hub.of(call.uuid, EventKind.BRIDGED)] == [
            "1001@default",
            "1002@default",
        ]


async def test_json_events_give_the_same_call_events() -> None:
    async with running(answer, event_format="json") as s:
        call = await s.fs.incoming_call(DID, CALLER)
        await queued(s.fs, call.uuid)
        await s.fs.agent_answers(call, "1001@default")
        await s.fs.hangup(call)
        await s.hub.wait_for(call.uuid, EventKind.ENDED)
        assert s.hub.kinds(call.uuid) == ["offered", "answered", "bridged", "ended"]


async def test_split_slow_frames_give_the_same_call_events() -> None:
    async with running(answer) as s:
        s.fs.chunk, s.fs.pause = 61, 0.0
        call = await s.fs.incoming_call(DID, CALLER)
        await queued(s.fs, call.uuid)
        await s.fs.agent_answers(call, "1001@default")
        await s.fs.hangup(call)
        await s.hub.wait_for(call.uuid, EventKind.ENDED)
        assert s.hub.kinds(call.uuid) == ["offered", "answered", "bridged", "ended"]


async def test_answer_while_disconnected_is_reported_once_after_reconnect() -> None:
    async with running(answer) as s:
        call = await s.fs.incoming_call(DID, CALLER)
        await queued(s.fs, call.uuid)
        await s.hub.wait_for(call.uuid, EventKind.OFFERED)
        s.fs.stalled = True  # refuse new logins until the agent has answered
        await s.fs.drop_inbound()
        await s.fs.agent_answers(call, "1001@default")
        s.fs.stalled = False
        await reconnected(s.source, 2)
        await s.hub.wait_for(call.uuid, EventKind.BRIDGED)
        await s.fs.hangup(call)
        await s.hub.wait_for(call.uuid, EventKind.ENDED)
        assert s.hub.kinds(call.uuid) == ["offered", "answered", "bridged", "ended"]
        assert s.hub.of(call.uuid, EventKind.ANSWERED)[0].agent == "1001@default"


async def test_call_that_ended_while_disconnected_is_ended_after_reconnect() -> None:
    async with running(answer) as s:
        call = await s.fs.incoming_call(DID, CALLER)
        await queued(s.fs, call.uuid)
        await s.fs.agent_answers(call, "1001@default")
        await s.hub.wait_for(call.uuid, EventKind.BRIDGED)
        s.fs.stalled = True
        await s.fs.drop_inbound()
        await s.fs.hangup(call)
        s.fs.stalled = False
        await s.hub.wait_for(call.uuid, EventKind.ENDED)
        assert s.hub.kinds(call.uuid) == ["offered", "answered", "bridged", "ended"]
        assert s.hub.of(call.uuid, EventKind.ENDED)[0].raw["event"] == "RESYNC"


async def test_reconnect_mid_call_duplicates_nothing() -> None:
    async with running(answer) as s:
        call = await s.fs.incoming_call(DID, CALLER)
        await queued(s.fs, call.uuid)
        await s.fs.agent_answers(call, "1001@default")
        await s.hub.wait_for(call.uuid, EventKind.BRIDGED)
        await s.fs.drop_inbound()
        await reconnected(s.source, 2)
        await s.fs.hangup(call)
        await s.hub.wait_for(call.uuid, EventKind.ENDED)
        assert s.hub.kinds(call.uuid) == ["offered", "answered", "bridged", "ended"]


async def test_freeswitch_restart_ends_the_calls_it_lost() -> None:
    async with running(answer) as s:
        call = await s.fs.incoming_call(DID, CALLER)
        await queued(s.fs, call.uuid)
        await s.fs.agent_answers(call, "1001@default")
        await s.hub.wait_for(call.uuid, EventKind.BRIDGED)
        await s.fs.restart()
        await s.hub.wait_for(call.uuid, EventKind.ENDED)
        await reconnected(s.source, 2)
        later = await s.fs.incoming_call(DID, CALLER)
        await s.hub.wait_for(later.uuid, EventKind.OFFERED)
        assert s.hub.kinds(call.uuid) == ["offered", "answered", "bridged", "ended"]


async def test_quiet_connection_that_answers_a_probe_is_kept() -> None:
    async with running(answer, heartbeat_timeout_s=0.2) as s:
        async with asyncio.timeout(WAIT):
            while not any(c.commands.count("api status") >= 3 for c in s.fs.conns):
                await asyncio.sleep(0.01)
        assert s.source.connects == 1


async def test_unresponsive_connection_is_dropped_and_reopened() -> None:
    async with running(answer, heartbeat_s=0.02, heartbeat_timeout_s=0.3, connect_timeout_s=0.2) as s:
        s.fs.heartbeats, s.fs.stalled = False, True
        async with asyncio.timeout(WAIT):
            while s.source.connected:
                await asyncio.sleep(0.01)
        s.fs.heartbeats, s.fs.stalled = True, False
        await reconnected(s.source, 2)
        call = await s.fs.incoming_call(DID, CALLER)
        await s.hub.wait_for(call.uuid, EventKind.OFFERED)


async def test_protocol_error_leads_to_a_new_connection() -> None:
    async with running(answer) as s:
        await s.fs.replay(b"Content-Type: text/event-plain\nContent-Length: x\n\n")
        await reconnected(s.source, 2)
        call = await s.fs.incoming_call(DID, CALLER)
        await s.hub.wait_for(call.uuid, EventKind.OFFERED)


async def test_originate_reports_started_and_answered() -> None:
    async with running(answer) as s:
        uid = await s.source.originate("+351912000111", caller_id="+351217000001")
        await s.hub.wait_for(uid, EventKind.OUTBOUND_ANSWERED)
        assert s.hub.kinds(uid) == ["outbound_started", "outbound_answered"]
        assert s.fs.channels[uid].variables["recado_outbound"] == "true"


async def test_failed_originate_raises_and_reports_failure() -> None:
    async with running(answer) as s:
        s.fs.originate_answers = False
        with pytest.raises(CommandError, match="NO_ANSWER"):
            await s.source.originate("+351912000111", call_id="out-1")
        await s.hub.wait_for("out-1", EventKind.OUTBOUND_FAILED)
        assert s.hub.kinds("out-1") == ["outbound_started", "outbound_failed"]


async def test_event_that_cannot_be_mapped_is_skipped_and_the_source_goes_on() -> None:
    async with running(answer) as s:
        odd = {"Event-Name": "CHANNEL_CREATE", "Unique-ID": "x" * 300, "Call-Direction": "inbound"}
        await s.fs.replay(frame("text/event-plain", serialize_event_plain(odd)))
        call = await s.fs.incoming_call(DID, CALLER)
        await s.hub.wait_for(call.uuid, EventKind.OFFERED)
        assert s.source.connects == 1
        assert all(e.call_id != "x" * 300 for e in s.hub.events)
