"""The emulator's bytes on the wire are mod_event_socket's (what the other tests rely on)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from fs_esl_emulator import EmulatedFreeSwitch
from recado_freeswitch.protocol import Parser


@pytest.fixture
async def fs() -> AsyncIterator[EmulatedFreeSwitch]:
    switch = EmulatedFreeSwitch()
    await switch.start()
    yield switch
    await switch.stop()


async def exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, data: bytes) -> bytes:
    writer.write(data)
    await writer.drain()
    async with asyncio.timeout(5):
        return await reader.readuntil(b"\n\n")


async def test_greeting_and_login_bytes(fs: EmulatedFreeSwitch) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", fs.port)
    async with asyncio.timeout(5):
        assert await reader.readuntil(b"\n\n") == b"Content-Type: auth/request\n\n"
    reply = await exchange(reader, writer, b"auth ClueCon\n\n")
    assert reply == b"Content-Type: command/reply\nReply-Text: +OK accepted\n\n"
    reply = await exchange(reader, writer, b"event plain CHANNEL_CREATE\n\n")
    assert reply == b"Content-Type: command/reply\nReply-Text: +OK event listener enabled plain\n\n"
    writer.close()


async def test_refused_login_ends_with_the_disconnect_notice(fs: EmulatedFreeSwitch) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", fs.port)
    async with asyncio.timeout(5):
        await reader.readuntil(b"\n\n")
        writer.write(b"auth nope\n\n")
        rest = await reader.read()  # until the switch closes
    assert rest.startswith(b"Content-Type: command/reply\nReply-Text: -ERR invalid\n\n")
    assert rest.endswith(
        b"Content-Type: text/disconnect-notice\n\nDisconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n"
    )
    (notice,) = [m for m in Parser().feed(rest) if m.content_type == "text/disconnect-notice"]
    assert notice.headers["Content-Length"] == "67"


async def test_event_frame_is_length_then_type_then_encoded_event(fs: EmulatedFreeSwitch) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", fs.port)
    async with asyncio.timeout(5):
        await reader.readuntil(b"\n\n")
        await exchange(reader, writer, b"auth ClueCon\n\nevent plain CHANNEL_CREATE\n\n")
        await reader.readuntil(b"\n\n")
        await fs.incoming_call("+351217000001", "+351912345678")
        head = await reader.readuntil(b"\n\n")
        length = int(head.split(b"\n")[0].removeprefix(b"Content-Length: "))
        assert head.endswith(b"\nContent-Type: text/event-plain\n\n")
        body = await reader.readexactly(length)
    assert body.startswith(b"Event-Name: CHANNEL_CREATE\nCore-UUID: ")
    assert b"\nCaller-Destination-Number: %2B351217000001\n" in body
    assert body.endswith(b"\n\n")
    writer.close()


async def test_api_response_carries_its_length(fs: EmulatedFreeSwitch) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", fs.port)
    async with asyncio.timeout(5):
        await reader.readuntil(b"\n\n")
        await exchange(reader, writer, b"auth ClueCon\n\n")
        head = await exchange(reader, writer, b"api nosuch\n\n")
        body = await reader.readexactly(31)
    assert head == b"Content-Type: api/response\nContent-Length: 31\n\n"
    assert body == b"-ERR nosuch Command not found!\n"
    writer.close()
