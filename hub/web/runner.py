"""`recado run`: sources + engine, delivery workers and the web server in one process.

Each part is a role; `--role` picks some of them so they can run in separate
processes over one PostgreSQL database. The agent console lives in the web
role: the demo's feeds the engine directly; a source running in the same process
(engine and web roles together) may mount its own over the sources in
``extras["sources"]``. The engine role also runs the periodic jobs (`hub.core.jobs`)
and, when the console's desk dials for real, the calls of message campaigns
(`hub.web.message_calls`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import uvicorn

from hub.core import directory
from hub.core.hub import Hub
from hub.core.jobs import JOBS
from hub.core.scheduler import JobContext, run_due
from hub.core.worker import Worker
from hub.sources import Source
from hub.web.app import create_app
from hub.web.context import WebContext
from hub.web.desk_port import DialPort
from hub.web.message_calls import MessageCaller

log = logging.getLogger(__name__)
ROLES = ("engine", "worker", "web")
#: How often the engine role looks for periodic jobs that are due.
SCHEDULER_PERIOD_S = 60.0


class RunError(ValueError):
    """`recado.toml` asks for something that cannot run."""


@dataclass
class Runner:
    """The roles of one process and the tasks running them."""

    context: WebContext
    roles: set[str]
    host: str = "127.0.0.1"
    port: int = 8000
    sources: dict[str, Source] = field(default_factory=dict)
    _tasks: dict[str, asyncio.Task[Any]] = field(default_factory=dict)

    def build_sources(self) -> dict[str, Source]:
        """The sources listed in `recado.toml` (`[[sources]]` with `kind` and the source's settings)."""
        registry = self.context.plugins.registry
        built: dict[str, Source] = {}
        for index, item in enumerate(self.context.settings.sources):
            if "kind" not in item:
                raise RunError(f'recado.toml: sources[{index}]: missing `kind` (e.g. kind = "simulator")')
            name = str(item.get("name") or f"{item['kind']}-{index}")
            kind = registry.source_kind(str(item["kind"]))
            settings = {key: value for key, value in item.items() if key not in ("kind", "name")}
            try:
                config = kind.config_model.model_validate(settings)
            except ValueError as exc:
                raise RunError(f"recado.toml: sources[{index}] ({item['kind']}): {exc}") from None
            source = kind.factory(config)
            if hasattr(source, "clients") and not source.clients:
                # A simulated PBX calls the clients in the database when none are given.
                with self.context.store.connect() as conn:
                    source.clients = directory.list_clients(conn)
            built[name] = source
        return built

    def source_states(self) -> dict[str, bool]:
        """Whether each source is connected (running, unless it says otherwise)."""
        states = {}
        for name, source in self.sources.items():
            task = self._tasks.get(f"source:{name}")
            running = task is not None and not task.done()
            states[name] = bool(getattr(source, "connected", running)) and running
        return states

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Run every role until `stop` is set, or until the web server stops."""
        stop = stop or asyncio.Event()
        pending: dict[str, Coroutine[Any, Any, Any]] = {}
        if "engine" in self.roles:
            self.sources = self.build_sources()
            hub = Hub(self.context.engine)
            # One hub keeps each call's events in order, whoever feeds it (a source or its console).
            self.context.extras["hub"] = hub
            for name, source in self.sources.items():
                pending[f"source:{name}"] = source.run(hub)
            pending["scheduler"] = self.run_scheduler(stop)
        worker: Worker | None = None
        if "worker" in self.roles:
            worker = Worker(self.context.store, self.context.plugins.registry, self.context.settings)
            pending["worker"] = worker.run(stop)
        self.context.extras["source_states"] = self.source_states
        # A source running here may mount its own agent console (`register_routes`).
        self.context.extras["sources"] = self.sources
        server: uvicorn.Server | None = None
        if "web" in self.roles:
            app = create_app(self.context)
            server = uvicorn.Server(uvicorn.Config(app, host=self.host, port=self.port, log_level="warning"))
            pending["web"] = server.serve()
        desk = self.context.extras.get("desk")
        if "engine" in self.roles and isinstance(desk, DialPort) and not desk.simulated:
            # A source's desk dials for real: message campaigns are called through it.
            pending["messages"] = MessageCaller(self.context, desk).run(stop)
        self._tasks = {name: asyncio.create_task(coro, name=name) for name, coro in pending.items()}
        waiter = asyncio.create_task(stop.wait())
        try:
            watched = [waiter] + ([self._tasks["web"]] if server is not None else [])
            await asyncio.wait(watched, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.set()
            if server is not None:
                server.should_exit = True
            for name, task in self._tasks.items():
                if name.startswith("source:"):
                    task.cancel()
            for task in self._tasks.values():
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            waiter.cancel()
            if worker is not None:
                await worker.aclose()


    async def run_scheduler(self, stop: asyncio.Event) -> None:
        """Run the periodic jobs that are due, every `SCHEDULER_PERIOD_S`, with the wall clock."""
        context = self.context
        registry = context.plugins.registry

        def notify(hook: str, **kwargs: Any) -> None:
            context.plugins.call_guarded(hook, **kwargs)

        while not stop.is_set():
            job_context = JobContext(context.store, registry, context.settings, datetime.now(UTC), notify)
            try:
                await asyncio.to_thread(run_due, job_context, JOBS)
            except Exception:  # the database may be restarting: try again next period
                log.exception("periodic jobs could not run")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), SCHEDULER_PERIOD_S)


def run_forever(runner: Runner) -> None:
    """Run `runner` until SIGINT or SIGTERM."""

    async def main() -> None:
        stop = asyncio.Event()
        if "web" not in runner.roles:
            # Without uvicorn (which handles signals itself), stop on the usual signals.
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signum, stop.set)
        await runner.run(stop)

    asyncio.run(main())
