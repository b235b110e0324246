"""An emulated FreeSWITCH event socket on 127.0.0.1, for tests.

It speaks the wire protocol as ``mod_event_socket.c`` does: ``auth/request`` on
connect, ``auth``, ``event plain|json``, ``filter`` (``+``/``-`` prefixes and
``/regex/``), ``api``, ``bgapi`` (``Job-UUID`` reply header, BACKGROUND_JOB
event), ``noevents``, ``exit``, the disconnect notice; and, as the dialplan's
``socket host:port async full``, it connects out to an application, answers
``connect`` with the channel data, takes ``myevents``/``linger`` and runs
``sendmsg`` executes in order with CHANNEL_EXECUTE / CHANNEL_EXECUTE_COMPLETE.
Calls, mod_callcenter's queue and agents are driven by the test; ``originate``
reads its line as FreeSWITCH does and its phones answer, ring out or are busy as
the test says (see `fs_originate`).

Faults: frames written in small pieces (``chunk``) with pauses (``pause``),
connections dropped mid-call, a restart (all calls lost, new Core-UUID, same
port), heartbeats stopped, raw captures replayed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import uuid as uuidlib
from collections.abc import Awaitable, Callable

from fs_calls import CallsMixin
from fs_channels import CLOCK, Channel, EventStamp
from fs_originate import OriginateMixin
from recado_freeswitch.wire import frame, serialize_event_json, serialize_event_plain

DISCONNECT_TEXT = b"Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n"
VERSION = "FreeSWITCH Version 1.10.12-release~64bit (-release 64bit)\n"
#: The statuses mod_callcenter accepts for `callcenter_config agent set status`.
AGENT_STATUSES = ("Logged Out", "Available", "Available (On Demand)", "On Break")


class Conn:
    """One event-socket connection: an inbound client, or an outbound session of a call."""

    def __init__(
        self,
        fs: EmulatedFreeSwitch,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        session: Channel | None = None,
    ) -> None:
        self.fs = fs
        self.reader = reader
        self.writer = writer
        self.session = session
        self.authed = session is not None
        self.events: set[str] = set()
        self.subclasses: set[str] = set()
        self.format = "plain"
        self.filters: list[tuple[str, str]] = []
        self.myevents = False
        self.linger = False
        self.lock = asyncio.Lock()
        self.commands: list[str] = []

    async def send(self, data: bytes) -> None:
        """Write one frame, in pieces when the switch is told to split frames."""
        async with self.lock:
            if self.writer.is_closing():
                return
            step = self.fs.chunk or len(data) or 1
            try:
                for i in range(0, len(data), step):
                    self.writer.write(data[i : i + step])
                    await self.writer.drain()
                    if self.fs.chunk:
                        await asyncio.sleep(self.fs.pause)
            except (ConnectionError, RuntimeError):
                self.writer.transport.abort()

    async def reply(self, text: str, extra: dict[str, str] | None = None) -> None:
        """A command/reply frame."""
        await self.send(frame("command/reply", extra={"Reply-Text": text, **(extra or {})}))

    def wants(self, headers: list[tuple[str, str]]) -> bool:
        """Whether this connection gets an event (``event_handler`` in mod_event_socket.c)."""
        values = dict(headers)
        name = values["Event-Name"]
        if "ALL" in self.events:
            send = True
        elif name in self.events:
            sub = values.get("Event-Subclass")
            send = name != "CUSTOM" or not sub or sub in self.subclasses
        else:
            send = False
        if send and self.myevents and self.session is not None:
            send = values.get("Unique-ID") == self.session.uuid
        if send and self.filters:
            send = False
            for header, wanted in self.filters:
                value = values.get(header)
                if value is None:
                    continue
                positive = not wanted.startswith("-")
                target = wanted.lstrip("+- ")
                if send and positive:
                    continue
                if target.startswith("/") and target.endswith("/"):
                    hit = re.search(target[1:-1], value) is not None
                else:
                    hit = value.lower() == target.lower()
                if hit:
                    if not positive:
                        send = False
                        break
                    send = True
        return send

    async def deliver(self, headers: list[tuple[str, str]], body: str | None) -> None:
        """Send an event in this connection's format."""
        if self.format == "json":
            await self.send(frame("text/event-json", serialize_event_json(headers, body)))
        else:
            await self.send(frame("text/event-plain", serialize_event_plain(headers, body)))

    async def read_command(self) -> tuple[str, dict[str, str], str] | None:
        """One command: its line, headers and body (mod_event_socket's ``read_packet``)."""
        lines: list[str] = []
        while True:
            raw = await self.reader.readline()
            if not raw:
                return None
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            if not line:
                if lines:
                    break
                continue
            lines.append(line)
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip()] = value.lstrip(" ")
        body = ""
        length = int(headers.get("Content-Length", "0") or 0)
        if length:
            body = (await self.reader.readexactly(length)).decode("utf-8", "replace")
        return lines[0], headers, body

    async def run(self) -> None:
        """Serve commands until the peer leaves or the switch ends the connection."""
        try:
            if self.session is None:
                await self.send(frame("auth/request"))
            while not self.writer.is_closing():
                command = await self.read_command()
                if command is None:
                    break
                self.commands.append(command[0])
                if self.fs.stalled:
                    continue
                if not await self.fs.handle(self, *command):
                    break
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self.fs.forget(self)
            self.writer.transport.abort()

    async def disconnect(self, disposition: str | None = None) -> None:
        """Send the disconnect notice and close."""
        extra = {}
        if self.session is not None:
            extra = {
                "Controlled-Session-UUID": self.session.uuid,
                "Content-Disposition": disposition or "disconnect",
                "Channel-Name": self.session.name,
            }
        await self.send(frame("text/disconnect-notice", DISCONNECT_TEXT, extra))
        self.writer.close()


Api = Callable[[str], Awaitable[str]]


class EmulatedFreeSwitch(CallsMixin, OriginateMixin):
    """A FreeSWITCH as seen through its event socket; start it, point a client at ``port``."""

    def __init__(self, password: str = "ClueCon", heartbeat_s: float | None = None) -> None:
        self.password = password
        self.heartbeat_s = heartbeat_s
        CLOCK.set(None)
        self.stamp = EventStamp()
        self.port = 0
        self.chunk: int | None = None
        self.pause = 0.0
        self.stalled = False
        self.heartbeats = True
        self.socket_target: tuple[str, int] | None = None
        self.channels: dict[str, Channel] = {}
        self.sessions: dict[str, Conn] = {}
        self.conns: list[Conn] = []
        self.auth_count = 0
        self.queues: list[str] = []
        #: mod_callcenter agent statuses set over the socket, by agent name.
        self.agent_status: dict[str, str] = {}
        self.originate_answers = True
        self.phones: dict[str, str] = {}
        self.missing_files: set[str] = set()
        self.hang_up_during_message: set[str] = set()
        self._after_originate: dict[str, Callable[[], Awaitable[None]]] = {}
        self.members: dict[str, asyncio.Event] = {}
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._serving: set[asyncio.Task[None]] = set()
        self._apps: dict[str, asyncio.Queue[tuple[str, str, str]]] = {}

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Listen on 127.0.0.1 (a free port the first time, the same one after a restart)."""
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        if self.heartbeat_s:
            self._spawn(self._heartbeat())

    async def stop(self) -> None:
        """Close the listener and every connection."""
        if self._server is not None:
            self._server.close()
            self._server = None
        for conn in list(self.conns):
            conn.writer.transport.abort()
        if self._serving:
            # Connection handlers end by themselves once their sockets are gone.
            await asyncio.wait(list(self._serving), timeout=2)
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        self.conns.clear()

    async def restart(self) -> None:
        """A FreeSWITCH restart: connections and calls are gone, a new Core-UUID, same port."""
        await self.stop()
        self.channels.clear()
        self.sessions.clear()
        self._apps.clear()
        self.stamp = EventStamp(self.stamp.hostname)
        await self.start()

    async def drop_inbound(self) -> None:
        """Cut every inbound client connection abruptly (a network failure); calls go on."""
        for conn in [c for c in self.conns if c.session is None]:
            conn.writer.transport.abort()
        await asyncio.sleep(0)

    def _spawn(self, coro: Awaitable[None]) -> asyncio.Task[None]:
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._serving.add(task)
        conn = Conn(self, reader, writer)
        self.conns.append(conn)
        try:
            await conn.run()
        finally:
            self._serving.discard(task)

    def forget(self, conn: Conn) -> None:
        """Drop a finished connection from the lists."""
        if conn in self.conns:
            self.conns.remove(conn)

    async def _heartbeat(self) -> None:
        while True:
            assert self.heartbeat_s
            await asyncio.sleep(self.heartbeat_s)
            if self.heartbeats:
                await self.fire(
                    "HEARTBEAT",
                    [("Event-Info", "System Ready"), ("Session-Count", str(len(self.channels)))],
                )

    # -- events ------------------------------------------------------------------------------

    async def fire(
        self,
        name: str,
        extra: list[tuple[str, str]] | None = None,
        channel: Channel | None = None,
        body: str | None = None,
        subclass: str | None = None,
    ) -> None:
        """Fire an event to every connection that subscribed to it."""
        headers = self.stamp.headers(name, subclass)
        headers += extra or []
        if channel is not None:
            headers += channel.data_headers()
        for conn in list(self.conns):
            if conn.authed and conn.wants(headers):
                await conn.deliver(headers, body)

    async def replay(self, data: bytes) -> None:
        """Write raw captured bytes to every authenticated inbound client."""
        for conn in [c for c in self.conns if c.authed and c.session is None]:
            await conn.send(data)

    async def agent_status_changes(self, agent: str, status: str) -> None:
        """An agent's mod_callcenter status changes (over the socket, or from fs_cli)."""
        self.agent_status[agent] = status
        await self.fire(
            "CUSTOM",
            [("CC-Agent", agent), ("CC-Action", "agent-status-change"), ("CC-Agent-Status", status)],
            subclass="callcenter::info",
        )

    async def open_session(self, chan: Channel) -> None:
        """The dialplan's ``socket host:port async full``: connect out for this call."""
        assert self.socket_target is not None
        reader, writer = await asyncio.open_connection(*self.socket_target)
        conn = Conn(self, reader, writer, session=chan)
        self.conns.append(conn)
        self.sessions[chan.uuid] = conn
        self._spawn(conn.run())

    # -- commands ----------------------------------------------------------------------------

    async def handle(self, conn: Conn, line: str, headers: dict[str, str], body: str) -> bool:
        """Carry out one command; False ends the connection."""
        word, _, rest = line.partition(" ")
        word = word.lower()
        if not conn.authed:
            if word == "auth":
                if rest.strip() == self.password:
                    conn.authed = True
                    self.auth_count += 1
                    await conn.reply("+OK accepted")
                    return True
                await conn.reply("-ERR invalid")
                await conn.disconnect()
                return False
            await conn.reply("-ERR command not found")
            return True
        if word == "event":
            fmt, _, names = rest.partition(" ")
            conn.format = fmt.lower()
            custom = False
            for item in names.split():
                if custom and item.upper() != item:
                    conn.subclasses.add(item)
                else:
                    conn.events.add(item.upper())
                    custom = custom or item.upper() == "CUSTOM"
            await conn.reply(f"+OK event listener enabled {conn.format}")
        elif word == "filter":
            header, _, value = rest.partition(" ")
            if header.lower() == "delete":
                conn.filters = [f for f in conn.filters if f[0] != value.split(" ")[0]]
                await conn.reply(f"+OK filter deleted. [{value}]")
            else:
                conn.filters.append((header, value))
                await conn.reply(f"+OK filter added. [{header}]=[{value}]")
        elif word == "noevents":
            conn.events.clear()
            await conn.reply("+OK no longer listening for events")
        elif word == "myevents":
            conn.myevents = True
            conn.events.add("ALL")
            await conn.reply("+OK Events Enabled")
        elif word == "linger":
            conn.linger = True
            await conn.reply("+OK will linger")
        elif word == "connect" and conn.session is not None:
            reply = [
                ("Event-Name", "CHANNEL_DATA"),
                *conn.session.data_headers(),
                ("Content-Type", "command/reply"),
                ("Reply-Text", "+OK\n"),
                ("Socket-Mode", "async"),
                ("Control", "full"),
            ]
            await conn.send(serialize_event_plain(reply))
        elif word == "api":
            output = await self.api(rest)
            await conn.send(frame("api/response", output.encode(), length_first=False))
            self.start_originated(output)
        elif word == "bgapi":
            job = headers.get("Job-UUID") or str(uuidlib.uuid4())
            await conn.reply(f"+OK Job-UUID: {job}", {"Job-UUID": job})
            self._spawn(self._background(job, rest))
        elif word == "sendmsg":
            target = rest.strip() or (conn.session.uuid if conn.session else "")
            if target not in self.channels:
                await conn.reply(f"-ERR invalid session id [{target}]")
                return True
            arg = headers.get("execute-app-arg", "")
            if not arg and headers.get("content-type", "").lower() == "text/plain":
                arg = body
            await conn.reply("+OK")
            if headers.get("call-command", "").lower() == "execute":
                self._queue(target).put_nowait(
                    (headers.get("execute-app-name", ""), arg, headers.get("Event-UUID", ""))
                )
            elif headers.get("call-command", "").lower() == "hangup":
                self._spawn(self.hangup(self.channels[target], headers.get("hangup-cause", "")))
        elif word == "exit":
            await conn.reply("+OK bye")
            await conn.disconnect()
            return False
        else:
            await conn.reply("-ERR command not found")
        return True

    async def _background(self, job: str, command: str) -> None:
        name, _, arg = command.partition(" ")
        output = await self.api(command)
        await self.fire(
            "BACKGROUND_JOB",
            [("Job-UUID", job), ("Job-Command", name), ("Job-Command-Arg", arg)],
            body=output,
        )
        self.start_originated(output)

    async def api(self, command: str) -> str:
        """Output of an API command, as ``api`` returns it."""
        name, _, arg = command.strip().partition(" ")
        if name == "version":
            return VERSION
        if name == "status":
            return f"UP 0 years, 0 days\n{len(self.channels)} session(s)\n"
        if name == "show" and arg in ("channels as json", "calls as json"):
            legs = list(self.channels.values())
            if arg.startswith("calls"):
                legs = [c for c in legs if c.direction == "inbound" or c.other_leg is None]
            rows = [c.show_row(self.stamp.hostname) for c in legs]
            if arg.startswith("calls"):
                for row, leg in zip(rows, legs, strict=True):
                    other = leg.other_leg
                    row["b_uuid"] = other.uuid if other else ""
                    row["b_dest"] = other.destination if other else ""
            return json.dumps({"row_count": len(rows), "rows": rows} if rows else {"row_count": 0})
        if name == "uuid_dump":
            uid, _, fmt = arg.partition(" ")
            chan = self.channels.get(uid)
            if chan is None:
                return "-ERR No such channel!\n"
            return json.dumps(dict(chan.data_headers())) if fmt == "json" else "+OK\n"
        if name == "uuid_getvar":
            uid, _, var = arg.partition(" ")
            chan = self.channels.get(uid)
            if chan is None:
                return "-ERR No such channel!\n"
            return chan.variables.get(var, "_undef_")
        if name == "uuid_kill":
            chan = self.channels.get(arg.split(" ")[0])
            if chan is None:
                return "-ERR No such channel!\n"
            self._spawn(self.hangup(chan, "NORMAL_CLEARING"))
            return "+OK\n"
        if name == "callcenter_config" and arg.startswith("agent set status "):
            agent, _, status = arg.removeprefix("agent set status ").partition(" ")
            status = status.strip().strip("'")
            if status not in AGENT_STATUSES:
                return "-ERR Invalid Status!\n"
            self._spawn(self.agent_status_changes(agent, status))
            return "+OK\n"
        if name == "callcenter_config" and arg == "queue list":
            lines = ["name|strategy|moh_sound|time_base_score|max_wait_time"]
            lines += [f"{q}|longest-idle-agent|local_stream://moh|system|0" for q in self.queues]
            return "\n".join([*lines, "+OK"]) + "\n"
        if name == "originate":
            return await self._originate(arg)
        return f"-ERR {name} Command not found!\n"
