"""The ``freeswitch`` source: keeps an event-socket connection up and feeds the hub.

`FreeSwitchSource.run` connects (with backoff), subscribes to the channel,
mod_callcenter and BACKGROUND_JOB events, resyncs the calls in progress, then
maps each event to `CallEvent`s handed to the hub in per-call order. A silent
connection (no HEARTBEAT nor any other event for ``heartbeat_timeout_s``), a
protocol error or a drop ends the connection; the loop reconnects, resubscribes
and resyncs, so a call in progress is neither lost nor reported twice. When
``control_port`` is set it also serves call control (see `recado_freeswitch.control`).
Listeners (the agent console's desk) see every event after the hub has it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid as uuidlib
from collections.abc import Awaitable, Callable
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from tenacity import (
    AsyncRetrying,
    retry_if_exception_type,
    stop_never,
    wait_exponential,
    wait_random,
)

from hub.core.clients import SLUG
from hub.sources import HubPort, Source, SourceConfig
from recado_freeswitch.connection import CommandError, ConnectionLost, EslConnection
from recado_freeswitch.control import CallControl, ControlSettings, originate
from recado_freeswitch.dialstring import DialStringError, playback
from recado_freeswitch.dispatch import Dispatcher
from recado_freeswitch.mapping import SOURCE, EventMapper
from recado_freeswitch.protocol import Message, ProtocolError

__all__ = ["EVENTS", "EventListener", "FreeSwitchConfig", "FreeSwitchSource"]

#: Called with each event of the connection, in order (see `FreeSwitchSource.listeners`).
EventListener = Callable[[Message], Awaitable[None]]

log = logging.getLogger(__name__)

#: What the source subscribes to (mod_callcenter's events are CUSTOM callcenter::info).
EVENTS = [
    "CHANNEL_CREATE",
    "CHANNEL_ANSWER",
    "CHANNEL_BRIDGE",
    "CHANNEL_HANGUP_COMPLETE",
    "CHANNEL_EXECUTE_COMPLETE",
    "BACKGROUND_JOB",
    "HEARTBEAT",
    "CUSTOM",
    "callcenter::info",
]

_RETRIABLE = (OSError, TimeoutError, ConnectionLost, ProtocolError, CommandError)


def _ignore_result(task: asyncio.Task[str]) -> None:
    """A liveness probe's outcome only matters through ``last_seen``."""
    if not task.cancelled():
        task.exception()


class FreeSwitchConfig(SourceConfig):
    """Settings of a FreeSWITCH source (``[sources.<name>]`` with ``kind = "freeswitch"``)."""

    host: str = "127.0.0.1"
    port: int = Field(default=8021, ge=1, le=65535)
    password: SecretStr = SecretStr("ClueCon")
    event_format: Literal["plain", "json"] = "plain"
    filters: list[tuple[str, str]] = Field(
        default_factory=list, description="extra ESL filters (header, value) on the event stream"
    )
    connect_timeout_s: float = Field(default=5.0, gt=0)
    command_timeout_s: float = Field(default=10.0, gt=0)
    heartbeat_timeout_s: float = Field(default=60.0, gt=0, description="reconnect after this long without any event")
    backoff_initial_s: float = Field(default=0.5, gt=0)
    backoff_max_s: float = Field(default=30.0, gt=0)
    queue_size: int = Field(default=10_000, ge=1)
    control_host: str = "127.0.0.1"
    control_port: int | None = Field(
        default=8084, ge=0, le=65535, description="outbound-socket port; None: no call control"
    )
    sounds_dir: str = "/usr/share/freeswitch/sounds/recado"
    sound_ext: str = "wav"
    callcenter_domain: str = "default"
    ring_out_s: float = Field(default=20.0, ge=0)
    gateway: str = Field(
        default="default", pattern=r"^[A-Za-z0-9_.-]{1,64}$", description="sofia gateway for outbound calls"
    )
    number_format: Literal["e164", "digits", "00"] = Field(
        default="e164", description="how the gateway wants numbers: +351…, 351… or 00351…"
    )
    agent_endpoint: str = Field(
        default="user/{agent}",
        pattern=r"^[A-Za-z0-9_.:@/%+-]*\{agent\}[A-Za-z0-9_.:@/%+-]*$",
        description="where an agent's phone is reached for a phone task; {agent} is the console agent",
    )
    agent_ring_s: int = Field(default=30, ge=5, le=120, description="how long the agent's phone rings for a task")
    outbound_ring_s: int = Field(default=30, ge=5, le=120, description="how long the person's phone rings")
    message_files: dict[str, str] = Field(
        default_factory=dict,
        description="recorded message of a message campaign by '<client>/<language>' (default: "
        "<sounds_dir>/<client>/campaign_<language>.<sound_ext>)",
    )
    message_calls: int = Field(default=2, ge=1, le=50, description="message calls in progress at once")
    message_max_s: float = Field(default=300.0, gt=0, description="longest a message call may take once answered")

    @field_validator("message_files")
    @classmethod
    def _message_files_are_usable(cls, files: dict[str, str]) -> dict[str, str]:
        for key, path in files.items():
            client, _, language = key.partition("/")
            if not SLUG.match(client) or language not in ("pt", "en"):
                raise ValueError(f"message_files key {key!r}: expected '<client id>/<pt or en>', e.g. 'acme/pt'")
            try:
                playback(path)
            except DialStringError as exc:
                raise ValueError(f"message_files[{key!r}]: {exc}") from None
        return files

    def message_file(self, client: str, language: str) -> str:
        """The recorded message a message campaign of `client` plays to people speaking `language`."""
        path = self.message_files.get(f"{client}/{language}") or f"{client}/campaign_{language}.{self.sound_ext}"
        return path if path.startswith("/") else f"{self.sounds_dir.rstrip('/')}/{path}"


class FreeSwitchSource(Source):
    """Telephony from FreeSWITCH over its event socket."""

    kind = "freeswitch"
    config: FreeSwitchConfig

    def __init__(self, config: FreeSwitchConfig) -> None:
        super().__init__(config)
        self.mapper = EventMapper(SOURCE, agent_domain=config.callcenter_domain)
        self.connection: EslConnection | None = None
        self.online = asyncio.Event()
        self.control_server: asyncio.Server | None = None
        self.connects = 0
        self.listeners: list[EventListener] = []
        self._markers: dict[str, set[str]] = {}

    @property
    def connected(self) -> bool:
        """Whether the event socket is connected and subscribed right now."""
        return self.online.is_set()

    async def run(self, hub: HubPort) -> None:
        """Connect and feed ``hub`` until cancelled, reconnecting by itself."""
        cfg = self.config
        dispatcher = Dispatcher(hub, limit=cfg.queue_size)
        control = CallControl(
            hub,
            ControlSettings(
                sounds_dir=cfg.sounds_dir,
                sound_ext=cfg.sound_ext,
                domain=cfg.callcenter_domain,
                ring_out_s=cfg.ring_out_s,
            ),
        )
        try:
            if cfg.control_port is not None:
                try:
                    self.control_server = await control.serve(cfg.control_host, cfg.control_port)
                except OSError as exc:
                    raise OSError(
                        exc.errno,
                        f"call control cannot listen on {cfg.control_host}:{cfg.control_port}: {exc.strerror}",
                    ) from None
            while True:
                conn = await self._connect()
                try:
                    await self._serve(conn, dispatcher)
                except _RETRIABLE as exc:
                    log.warning("FreeSWITCH connection lost (%s); reconnecting", exc)
                finally:
                    self.online.clear()
                    self.connection = None
                    await conn.close()
        finally:
            if self.control_server is not None:
                self.control_server.close()
            await control.close()
            await dispatcher.close()

    async def _connect(self) -> EslConnection:
        """Open, authenticate and subscribe, retrying with exponential backoff and jitter."""
        cfg = self.config
        retrying = AsyncRetrying(
            retry=retry_if_exception_type(_RETRIABLE),
            # Jitter spreads the reconnects of several hubs after a FreeSWITCH restart.
            wait=wait_exponential(multiplier=cfg.backoff_initial_s, max=cfg.backoff_max_s)
            + wait_random(0, cfg.backoff_initial_s),
            stop=stop_never,
            before_sleep=lambda state: log.warning(
                "cannot reach FreeSWITCH at %s:%s (attempt %d): %s",
                cfg.host,
                cfg.port,
                state.attempt_number,
                state.outcome.exception() if state.outcome else "",
            ),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                conn = await EslConnection.open(
                    cfg.host,
                    cfg.port,
                    cfg.password.get_secret_value(),
                    timeout_s=cfg.connect_timeout_s,
                    queue_size=cfg.queue_size,
                    command_timeout_s=cfg.command_timeout_s,
                )
                try:
                    await conn.subscribe(EVENTS, cfg.event_format)
                    for header, value in cfg.filters:
                        await conn.add_filter(header, value)
                except BaseException:
                    await conn.close()
                    raise
                return conn
        raise AssertionError("unreachable: stop_never")

    async def _serve(self, conn: EslConnection, dispatcher: Dispatcher) -> None:
        """Map the events of one connection, with a resync and a heartbeat watchdog beside."""
        self.connection = conn
        self.connects += 1
        self._markers.clear()  # a marker of an earlier connection can no longer arrive
        self.online.set()
        snapshot_reported = asyncio.Event()
        tasks = [
            asyncio.create_task(self._consume(conn, dispatcher, snapshot_reported)),
            asyncio.create_task(self._watchdog(conn)),
            asyncio.create_task(self._resync(conn, dispatcher, snapshot_reported)),
        ]
        try:
            done, _ = await asyncio.wait(tasks[:2], return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, *_RETRIABLE):
                    await task

    async def _consume(self, conn: EslConnection, dispatcher: Dispatcher, snapshot_reported: asyncio.Event) -> None:
        """Take events off the connection's queue, in order, until it closes.

        Live events wait until the resync has reported its snapshot: they may carry
        on from what the snapshot says (an agent who answered while disconnected,
        then the hangup), and the engine must see them in that order.
        """
        await snapshot_reported.wait()
        while True:
            getter = asyncio.ensure_future(conn.events.get())
            closed = asyncio.ensure_future(conn.closed.wait())
            await asyncio.wait({getter, closed}, return_when=asyncio.FIRST_COMPLETED)
            closed.cancel()
            if not getter.done():
                getter.cancel()
                if conn.events.empty():
                    raise ConnectionLost(str(conn.error) if conn.error else "connection closed")
                continue
            await self._handle(getter.result(), dispatcher)

    async def _handle(self, message: Message, dispatcher: Dispatcher) -> None:
        try:
            if message.event_name == "BACKGROUND_JOB":
                missing = self._markers.pop(message.get("Job-UUID") or "", None)
                events = self.mapper.end_missing(missing) if missing else []
            else:
                events = self.mapper.map(message)
        except ValueError as exc:
            # An event the mapping cannot read (a pydantic error is a ValueError)
            # is skipped, never the end of the source.
            log.error("skipped a %s event that cannot be mapped: %s", message.event_name, exc)
            return
        for event in events:
            await dispatcher.submit(event)
        for listener in list(self.listeners):
            try:
                await listener(message)
            except Exception:
                # A listener's failure (the console) must never stop the calls' accounting.
                log.exception("a listener failed on a %s event", message.event_name)

    async def _watchdog(self, conn: EslConnection) -> None:
        """Drop a connection that has gone silent.

        FreeSWITCH sends HEARTBEAT every 20 s; when nothing at all has come for
        half the limit (heartbeats may be turned off), an ``api status`` probe
        asks for a sign of life, and only a connection that stays silent for the
        whole limit is dropped.
        """
        limit = self.config.heartbeat_timeout_s
        probe: asyncio.Task[str] | None = None
        try:
            while True:
                silent = time.monotonic() - conn.last_seen
                if silent >= limit:
                    raise ConnectionLost(f"no sign of life from FreeSWITCH for {silent:.1f} s")
                if silent >= limit / 2 and (probe is None or probe.done()):
                    probe = asyncio.create_task(conn.api("status"))
                    probe.add_done_callback(_ignore_result)
                await asyncio.sleep(max(0.01, min(limit - silent, limit / 4)))
        finally:
            if probe is not None:
                probe.cancel()

    async def _resync(self, conn: EslConnection, dispatcher: Dispatcher, snapshot_reported: asyncio.Event) -> None:
        """Report what happened to live calls while disconnected.

        The snapshot is taken after subscribing, so nothing falls between. Calls
        it no longer lists are ended only when a marker job comes back through
        the event stream, i.e. after the events queued before the snapshot.
        """
        try:
            listing = json.loads(await conn.api("show channels as json") or "{}")
            channels = []
            for row in listing.get("rows", []) or []:
                dump = await conn.api(f"uuid_dump {row['uuid']} json")
                if dump.startswith("{"):
                    channels.append(json.loads(dump))
            events, missing = self.mapper.resync(channels)
            for event in events:
                await dispatcher.submit(event)
            snapshot_reported.set()
            marker = str(uuidlib.uuid4())
            self._markers[marker] = missing
            await conn.bgapi("status", marker, timeout_s=self.config.command_timeout_s)
        except (ValueError, KeyError, TypeError, *_RETRIABLE) as exc:
            # Without a resync a call could be lost: start over on a new connection.
            log.warning("resync with FreeSWITCH failed (%s); reconnecting", exc)
            await conn.close()
        finally:
            snapshot_reported.set()

    async def originate(self, destination: str, *, caller_id: str | None = None, call_id: str | None = None) -> str:
        """Place an outbound contact call through the configured gateway; its Unique-ID."""
        await self.online.wait()
        conn = self.connection
        if conn is None:
            raise ConnectionLost("not connected to FreeSWITCH")
        return await originate(
            conn,
            destination,
            call_id=call_id,
            caller_id=caller_id,
            endpoint=f"sofia/gateway/{self.config.gateway}",
        )
