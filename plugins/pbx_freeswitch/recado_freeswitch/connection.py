"""One asyncio event-socket connection: commands matched to replies, events into a bounded queue.

Used both ways: an inbound connection (we dial FreeSWITCH's port 8021 and
authenticate) and an outbound-socket session (FreeSWITCH dialled us for one
call; see `recado_freeswitch.control`).

FreeSWITCH answers commands strictly in the order it receives them, so each
command/reply or api/response settles the oldest waiting command. Events go
into a bounded queue: when the consumer falls behind, the reader stops reading
and TCP pushes back on FreeSWITCH instead of memory growing. ``bgapi`` results
arrive as BACKGROUND_JOB events and are matched by ``Job-UUID``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid as uuidlib
from collections import deque
from collections.abc import Mapping

from recado_freeswitch.protocol import Message, Parser, ProtocolError
from recado_freeswitch.wire import command as encode_command

__all__ = ["CommandError", "ConnectionLost", "EslConnection"]

log = logging.getLogger(__name__)

_REPLIES = ("command/reply", "api/response")


class ConnectionLost(Exception):
    """The connection ended (peer closed, disconnect notice, protocol error or silence)."""


class CommandError(Exception):
    """FreeSWITCH refused a command (its reply starts with ``-ERR``)."""

    def __init__(self, command: str, reply: str) -> None:
        self.command = command
        self.reply = reply
        super().__init__(f"{command.split(' ')[0]}: {reply.strip()}")


class EslConnection:
    """An ESL connection over an asyncio stream pair (already connected)."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        queue_size: int = 10_000,
        command_timeout_s: float = 10.0,
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._parser = Parser()
        self._waiting: deque[asyncio.Future[Message]] = deque()
        self._jobs: dict[str, asyncio.Future[Message]] = {}
        self._send_lock = asyncio.Lock()
        self._first: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        self.events: asyncio.Queue[Message] = asyncio.Queue(maxsize=queue_size)
        self.command_timeout_s = command_timeout_s
        self.last_seen = time.monotonic()
        self.closed: asyncio.Event = asyncio.Event()
        self.error: BaseException | None = None
        self._task = asyncio.create_task(self._read_loop())

    @classmethod
    async def open(
        cls,
        host: str,
        port: int,
        password: str,
        *,
        timeout_s: float = 5.0,
        queue_size: int = 10_000,
        command_timeout_s: float = 10.0,
    ) -> EslConnection:
        """Connect to FreeSWITCH's event socket and authenticate."""
        # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancellation.
        async with asyncio.timeout(timeout_s):
            reader, writer = await asyncio.open_connection(host, port)
        conn = cls(reader, writer, queue_size=queue_size, command_timeout_s=command_timeout_s)
        try:
            async with asyncio.timeout(timeout_s):
                first = await asyncio.shield(conn._first)
            if first.content_type != "auth/request":
                raise ConnectionLost(f"expected auth/request, got {first.content_type}")
            await conn.command(f"auth {password}", redact=True)
        except BaseException:
            await conn.close()
            raise
        return conn

    async def _read_loop(self) -> None:
        """Read, parse and route until the connection ends."""
        try:
            while True:
                data = await self._reader.read(65536)
                if not data:
                    raise ConnectionLost("FreeSWITCH closed the connection")
                self.last_seen = time.monotonic()
                for message in self._parser.feed(data):
                    await self._route(message)
        except asyncio.CancelledError:
            self._fail(ConnectionLost("connection closed"))
            raise
        except ProtocolError as exc:
            log.error("event socket protocol error, dropping the connection: %s", exc)
            for message in exc.messages:
                with contextlib.suppress(ConnectionLost):
                    await self._route(message)
            self._fail(exc)
        except (ConnectionLost, OSError) as exc:
            self._fail(exc)
        finally:
            self._writer.transport.abort()

    async def _route(self, message: Message) -> None:
        """Settle a waiting command, a background job, or queue an event."""
        if not self._first.done():
            self._first.set_result(message)
            if message.content_type == "auth/request":
                return
        ctype = message.content_type
        if ctype in _REPLIES:
            if self._waiting:
                future = self._waiting.popleft()
                if not future.done():
                    future.set_result(message)
            return
        if ctype == "text/disconnect-notice":
            await self.events.put(message)
            if message.get("Content-Disposition") != "linger":
                raise ConnectionLost("FreeSWITCH sent a disconnect notice")
            return
        if message.event_name == "BACKGROUND_JOB":
            job = self._jobs.pop(message.get("Job-UUID") or "", None)
            if job is not None and not job.done():
                job.set_result(message)
        if message.is_event:
            await self.events.put(message)

    def _fail(self, exc: BaseException) -> None:
        """Fail every waiter and mark the connection closed."""
        if self.error is None:
            self.error = exc
        lost = exc if isinstance(exc, ConnectionLost) else ConnectionLost(str(exc))
        for future in [*self._waiting, *self._jobs.values(), self._first]:
            if not future.done():
                future.set_exception(lost)
                future.exception()  # a waiter that already gave up must not warn
        self._waiting.clear()
        self._jobs.clear()
        self.closed.set()

    async def command(
        self,
        line: str,
        headers: Mapping[str, str] | None = None,
        body: str | None = None,
        *,
        check: bool = True,
        redact: bool = False,
    ) -> Message:
        """Send a command and wait for its reply; ``-ERR`` raises `CommandError` if ``check``."""
        what = line.split(" ")[0] if redact else line
        return await self.request(encode_command(line, headers, body), what=what, check=check)

    async def request(self, data: bytes, *, what: str, check: bool = True) -> Message:
        """Send encoded command bytes and wait for the reply that answers them."""
        future: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        async with self._send_lock:
            if self.closed.is_set():
                raise ConnectionLost(f"connection is closed: {self.error}")
            # Registered and written under one lock so the reply order is the send order.
            self._waiting.append(future)
            self._writer.write(data)
            await self._writer.drain()
        async with asyncio.timeout(self.command_timeout_s):
            reply = await future
        if check and not reply.ok:
            raise CommandError(what, reply.reply_text)
        return reply

    async def api(self, cmd: str, *, check: bool = False) -> str:
        """Run an API command and return its output."""
        reply = await self.command(f"api {cmd}", check=check)
        return reply.body or ""

    async def bgapi(self, cmd: str, job_uuid: str | None = None, *, timeout_s: float | None = None) -> Message:
        """Run an API command in the background; return its BACKGROUND_JOB event.

        The caller must have subscribed to BACKGROUND_JOB events. ``timeout_s``
        bounds the wait for the result (None: as long as the command takes).
        """
        job = job_uuid or str(uuidlib.uuid4())
        future: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        self._jobs[job] = future
        try:
            reply = await self.command(f"bgapi {cmd}", {"Job-UUID": job})
            echoed = reply.get("Job-UUID")
            if echoed and echoed != job:
                # An older FreeSWITCH ignores the header and picks its own Job-UUID.
                self._jobs[echoed] = self._jobs.pop(job)
            async with asyncio.timeout(timeout_s):
                return await future
        finally:
            self._jobs.pop(job, None)

    async def subscribe(self, events: list[str], fmt: str = "plain") -> None:
        """``event plain|json <names>``."""
        await self.command(f"event {fmt} {' '.join(events)}")

    async def add_filter(self, header: str, value: str) -> None:
        """``filter <header> <value>``: only events matching some filter are sent."""
        await self.command(f"filter {header} {value}")

    async def close(self) -> None:
        """Close the connection (politely with ``exit`` when it is still up)."""
        if not self.closed.is_set():
            with contextlib.suppress(Exception):
                async with asyncio.timeout(1.0):
                    await self.command("exit", check=False)
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._task
        self._writer.transport.abort()
