"""The asyncio ESL connection against the emulated FreeSWITCH, over real TCP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from fs_captures import capture_bytes
from fs_esl_emulator import VERSION, EmulatedFreeSwitch
from recado_freeswitch.connection import CommandError, ConnectionLost, EslConnection
from recado_freeswitch.protocol import Message

WAIT = 5.0  # guards against a hang; never a timing expectation


@pytest.fixture
async def fs() -> AsyncIterator[EmulatedFreeSwitch]:
    switch = EmulatedFreeSwitch()
    await switch.start()
    yield switch
    await switch.stop()


async def connect(fs: EmulatedFreeSwitch, **kwargs: int) -> EslConnection:
    return await EslConnection.open("127.0.0.1", fs.port, "ClueCon", **kwargs)


async def next_event(conn: EslConnection) -> Message:
    return await asyncio.wait_for(conn.events.get(), WAIT)


async def test_authenticates_with_the_password(fs: EmulatedFreeSwitch) -> None:
    conn = await connect(fs)
    assert fs.auth_count == 1
    await conn.close()


async def test_wrong_password_is_refused(fs: EmulatedFreeSwitch) -> None:
    with pytest.raises(CommandError, match="-ERR invalid") as caught:
        await EslConnection.open("127.0.0.1", fs.port, "wrong")
    assert "wrong" not in str(caught.value)


async def test_api_returns_the_command_output(fs: EmulatedFreeSwitch) -> None:
    conn = await connect(fs)
    assert await conn.api("version") == VERSION
    await conn.close()


async def test_concurrent_commands_get_their_own_replies_in_order(fs: EmulatedFreeSwitch) -> None:
    conn = await connect(fs)
    fs.queues = ["acme@default"]
    results = await asyncio.gather(
        conn.api("version"),
        conn.api("callcenter_config queue list"),
        conn.api("nosuch"),
        conn.api("status"),
    )
    assert results[0] == VERSION
    assert "acme@default|" in results[1]
    assert results[2].startswith("-ERR nosuch")
    assert results[3].startswith("UP ")
    await conn.close()


async def test_bgapi_result_is_matched_by_job_uuid(fs: EmulatedFreeSwitch) -> None:
    conn = await connect(fs)
    await conn.subscribe(["BACKGROUND_JOB"])
    first, second = await asyncio.gather(conn.bgapi("version", "job-1"), conn.bgapi("status", "job-2"))
    assert first.get("Job-UUID") == "job-1" and first.body == VERSION
    assert second.get("Job-UUID") == "job-2" and (second.body or "").startswith("UP ")
    await conn.close()


@pytest.mark.parametrize("fmt", ["plain", "json"])
async def test_subscribed_events_arrive_decoded(fs: EmulatedFreeSwitch, fmt: str) -> None:
    conn = await connect(fs)
    await conn.subscribe(["CHANNEL_CREATE"], fmt)
    call = await fs.incoming_call("+351217000001", "+351912345678", "João Gonçalves")
    event = await next_event(conn)
    assert event.content_type == f"text/event-{fmt}"
    assert event.get("Unique-ID") == call.uuid
    assert event.get("Caller-Caller-ID-Name") == "João Gonçalves"
    assert event.get("Caller-Destination-Number") == "+351217000001"
    await conn.close()


async def test_filter_keeps_only_matching_events(fs: EmulatedFreeSwitch) -> None:
    conn = await connect(fs)
    await conn.subscribe(["CHANNEL_CREATE"])
    await conn.add_filter("Caller-Caller-ID-Name", "Ana")
    await fs.incoming_call("+351217000001", "+351912345678", "Rui")
    wanted = await fs.incoming_call("+351217000002", "+351912345678", "Ana")
    event = await next_event(conn)
    assert event.get("Unique-ID") == wanted.uuid
    await conn.api("status")  # a round trip: anything sent before it has arrived
    assert conn.events.empty()
    await conn.close()


async def test_filter_value_leading_plus_is_a_sign_as_in_freeswitch(fs: EmulatedFreeSwitch) -> None:
    conn = await connect(fs)
    await conn.subscribe(["CHANNEL_CREATE"])
    # FreeSWITCH reads a leading + or - of a filter value as include/exclude.
    await conn.add_filter("Caller-Destination-Number", "+351217000002")
    await fs.incoming_call("+351217000002", "+351912345678")
    await conn.api("status")
    assert conn.events.empty()
    await conn.close()


async def test_unsubscribed_events_do_not_arrive(fs: EmulatedFreeSwitch) -> None:
    conn = await connect(fs)
    await conn.subscribe(["CHANNEL_ANSWER"])
    await fs.incoming_call("+351217000001", "+351912345678")
    await conn.api("status")  # a round trip: anything sent before it has arrived
    assert conn.events.empty()
    await conn.close()


async def test_frames_split_into_small_writes_decode_the_same(fs: EmulatedFreeSwitch) -> None:
    fs.chunk = 7
    conn = await connect(fs)
    await conn.subscribe(["CHANNEL_CREATE"], "plain")
    call = await fs.incoming_call("+351217000001", "+351912345678", "Ana")
    event = await next_event(conn)
    assert event.get("Unique-ID") == call.uuid
    assert event.get("Event-Date-GMT", "").endswith("GMT")
    await conn.close()


async def test_slow_reads_with_pauses_decode_the_same(fs: EmulatedFreeSwitch) -> None:
    fs.chunk, fs.pause = 300, 0.001
    conn = await connect(fs)
    await conn.subscribe(["CHANNEL_CREATE"], "json")
    call = await fs.incoming_call("+351217000001", "+351912345678")
    assert (await next_event(conn)).get("Unique-ID") == call.uuid
    await conn.close()


async def test_full_queue_pushes_back_without_losing_events(fs: EmulatedFreeSwitch) -> None:
    conn = await connect(fs, queue_size=2)
    await conn.subscribe(["CHANNEL_CREATE"])
    calls = [await fs.incoming_call(f"+35121700000{i}", "+351912345678") for i in range(8)]
    received = [await next_event(conn) for _ in calls]
    assert [e.get("Unique-ID") for e in received] == [c.uuid for c in calls]
    await conn.close()


async def test_replayed_capture_events_are_delivered(fs: EmulatedFreeSwitch) -> None:
    conn = await connect(fs)
    await conn.subscribe(["ALL"])
    stream = capture_bytes("switchio_eventstream1.txt")
    events_part = stream[stream.index(b"Content-Length: 5407") :]
    await fs.replay(events_part)
    first = await next_event(conn)
    assert first.event_name == "CHANNEL_CREATE"
    assert first.get("Caller-Destination-Number") == "101"
    await conn.close()


async def test_garbage_from_the_switch_closes_the_connection(fs: EmulatedFreeSwitch) -> None:
    conn = await connect(fs)
    await fs.replay(b"Content-Length: nope\nContent-Type: text/event-plain\n\n")
    await asyncio.wait_for(conn.closed.wait(), WAIT)
    assert "Content-Length 'nope'" in str(conn.error)
    with pytest.raises(ConnectionLost):
        await conn.api("status")


async def test_exit_gets_the_disconnect_notice(fs: EmulatedFreeSwitch) -> None:
    conn = await connect(fs)
    await conn.command("exit")
    notice = await next_event(conn)
    assert notice.content_type == "text/disconnect-notice"
    await asyncio.wait_for(conn.closed.wait(), WAIT)


async def test_dropped_connection_fails_waiting_commands(fs: EmulatedFreeSwitch) -> None:
    conn = await connect(fs)
    fs.stalled = True
    pending = asyncio.ensure_future(conn.api("status"))
    await asyncio.sleep(0)
    await fs.drop_inbound()
    with pytest.raises(ConnectionLost):
        await asyncio.wait_for(pending, WAIT)
