"""`recado run`: the sources of recado.toml, the engine, workers and the web server in one process."""

from __future__ import annotations

import asyncio
import socket

import httpx
import pytest
from sqlalchemy import func, select

from hub.core import outbox
from hub.core import store as t
from hub.web.context import WebContext
from hub.web.runner import RunError, Runner


async def _until(condition, attempts: int = 500) -> None:  # type: ignore[no-untyped-def]
    for _ in range(attempts):
        if await asyncio.to_thread(condition):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the condition never held")


async def test_the_engine_and_worker_roles_play_the_configured_source(web_context: WebContext) -> None:
    web_context.settings.sources = [{"kind": "simulator", "name": "pbx", "calls": 6, "seed": 3, "month": "2026-03"}]
    web_context.settings.delivery.poll_s = 0.05
    runner = Runner(web_context, {"engine", "worker"})
    stop = asyncio.Event()
    running = asyncio.create_task(runner.run(stop))

    def records() -> int:
        with web_context.store.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(t.records)).scalar_one())

    def delivered() -> bool:
        with web_context.store.connect() as conn:
            counts = outbox.counts(conn)
        return counts["delivered"] > 0 and counts["pending"] == 0

    await _until(lambda: records() > 0 and delivered())
    stop.set()
    await running
    assert records() > 0


def test_a_source_without_a_kind_is_named_in_the_error(web_context: WebContext) -> None:
    web_context.settings.sources = [{"calls": 3}]
    with pytest.raises(RunError, match=r"sources\[0\]: missing `kind`"):
        Runner(web_context, {"engine"}).build_sources()


def test_bad_source_settings_are_named_in_the_error(web_context: WebContext) -> None:
    web_context.settings.sources = [{"kind": "simulator", "calls": 0}]
    with pytest.raises(RunError, match=r"sources\[0\] \(simulator\)"):
        Runner(web_context, {"engine"}).build_sources()


async def test_the_web_role_serves_until_stopped(web_context: WebContext) -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    runner = Runner(web_context, {"web"}, port=port)
    stop = asyncio.Event()
    running = asyncio.create_task(runner.run(stop))
    async with httpx.AsyncClient() as client:
        for _ in range(200):
            try:
                response = await client.get(f"http://127.0.0.1:{port}/healthz")
                break
            except httpx.TransportError:
                await asyncio.sleep(0.05)
    assert response.json() == {"status": "ok"}
    stop.set()
    await running
