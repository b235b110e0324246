"""The web application served by uvicorn on 127.0.0.1, optionally with a worker beside it as `recado run` has."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import uvicorn
from fastapi import FastAPI

from hub.core.worker import Worker
from hub.web.context import WebContext


@contextmanager
def live_server(app: FastAPI, worker: Callable[[], Worker] | None = None) -> Iterator[str]:
    """Serve `app` on a free port of 127.0.0.1 in a thread; yield its base URL.

    `worker` makes the worker that delivers the outbox while the server runs (made inside
    the server's event loop, where it runs).
    """
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    uv = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))

    async def main() -> None:
        if worker is None:
            await uv.serve(sockets=[sock])
            return
        stop = asyncio.Event()
        delivering_worker = worker()
        delivering = asyncio.create_task(delivering_worker.run(stop))
        await uv.serve(sockets=[sock])
        stop.set()
        await delivering
        await delivering_worker.aclose()

    thread = threading.Thread(target=asyncio.run, args=(main(),), daemon=True)
    thread.start()
    while not uv.started:
        threading.Event().wait(0.02)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        uv.should_exit = True
        thread.join(timeout=10)
        sock.close()


def delivering(context: WebContext) -> Callable[[], Worker]:
    """A maker of the worker `recado run` starts beside the application of `context`."""
    return lambda: Worker(context.store, context.plugins.registry, context.settings, worker_id="browser")
