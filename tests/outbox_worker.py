"""A worker run once over everything due in the outbox, as `recado worker --once` does."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime

from hub.core.registry import Registry
from hub.core.store import Store
from hub.core.worker import Worker
from hub.plugins import Plugins
from hub.settings import Settings


def run_worker_once(
    store: Store,
    registry: Registry,
    settings: Settings,
    *,
    worker_id: str = "test",
    clock: Callable[[], datetime] | None = None,
) -> None:
    """Deliver everything due once with `settings` (and `clock`, the worker's time, when given)."""

    async def once() -> None:
        worker = Worker(store, registry, settings, worker_id=worker_id, clock=clock)
        try:
            await worker.run_once()
        finally:
            await worker.aclose()

    asyncio.run(once())


def deliver(store: Store, plugins: Plugins) -> None:
    """Deliver everything due once with the default settings over `store`."""
    run_worker_once(store, plugins.registry, Settings(database_url=store.url))
