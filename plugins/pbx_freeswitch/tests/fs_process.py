"""`recado run` in miniature for the FreeSWITCH tests, all in the test's event loop.

The emulated FreeSWITCH with a freeswitch source feeding the hub, and the web
application served on 127.0.0.1 with an agent logged in to the console.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import httpx
import uvicorn
from fs_channels import CLOCK
from fs_esl_emulator import EmulatedFreeSwitch
from recado_freeswitch.source import FreeSwitchConfig, FreeSwitchSource

from hub.core.hub import Hub
from hub.web.app import create_app
from hub.web.context import WebContext
from hub.web.tokens import Role, create_token

WAIT = 10.0  # guards against a hang; never a timing expectation


@contextlib.asynccontextmanager
async def running_source(
    hub: Hub, at: datetime, **config: Any
) -> AsyncIterator[tuple[EmulatedFreeSwitch, FreeSwitchSource]]:
    """The emulated FreeSWITCH, its clock at `at`, and a source online to it feeding `hub`.

    `config` completes the source's settings (fast reconnects are set); with a control port,
    the emulator's `socket` application connects back to the source's outbound-socket server.
    """
    fs = EmulatedFreeSwitch()
    await fs.start()
    CLOCK.set(at)
    settings = FreeSwitchConfig(port=fs.port, backoff_initial_s=0.01, backoff_max_s=0.05, **config)
    source = FreeSwitchSource(settings)
    task = asyncio.create_task(source.run(hub))
    try:
        async with asyncio.timeout(WAIT):
            await source.online.wait()
        if settings.control_port is not None:
            assert source.control_server is not None
            fs.socket_target = ("127.0.0.1", source.control_server.sockets[0].getsockname()[1])
        yield fs, source
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await fs.stop()
        CLOCK.set(None)


@contextlib.asynccontextmanager
async def console_session(context: WebContext, agent: str = "ana") -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    """The application of `context` served on 127.0.0.1, and `agent`'s session on its console with its CSRF token."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    app = create_app(context)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off", timeout_graceful_shutdown=2))
    server_task = asyncio.create_task(server.serve(sockets=[sock]))
    token = create_token(context.store, Role.AGENT, agent=agent)[1]
    try:
        async with asyncio.timeout(WAIT):
            while not server.started:
                await asyncio.sleep(0.01)
        base = f"http://127.0.0.1:{sock.getsockname()[1]}"
        async with httpx.AsyncClient(base_url=base, follow_redirects=True, timeout=WAIT) as http:
            page = (await http.post("/login", data={"token": token, "next": "/console"})).text
            csrf = re.search(r'name="csrf" value="([^"]+)"', page)
            assert csrf is not None, page
            yield http, csrf.group(1)
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await server_task
        sock.close()
