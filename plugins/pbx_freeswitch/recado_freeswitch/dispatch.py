"""Hand call events to the hub: one call's events in order, different calls side by side.

A slow hub must slow the reading of the socket, not grow memory: `submit`
waits while ``limit`` events are in flight, which stops the event loop that
reads the connection's bounded queue, which stops the socket reader.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque

from hub.core.models import CallEvent
from hub.sources import HubPort

__all__ = ["Dispatcher"]

log = logging.getLogger(__name__)


class Dispatcher:
    """Per-call ordered delivery of `CallEvent`s to ``hub.ingest``."""

    def __init__(self, hub: HubPort, limit: int = 10_000) -> None:
        self._hub = hub
        self._slots = asyncio.Semaphore(limit)
        self._pending: dict[str, deque[CallEvent]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._idle = asyncio.Event()
        self._idle.set()

    async def submit(self, event: CallEvent) -> None:
        """Queue an event behind the earlier events of its call (waits when full)."""
        await self._slots.acquire()
        self._idle.clear()
        queue = self._pending.setdefault(event.call_id, deque())
        queue.append(event)
        if event.call_id not in self._workers:
            self._workers[event.call_id] = asyncio.create_task(self._drain(event.call_id))

    async def _drain(self, call_id: str) -> None:
        queue = self._pending[call_id]
        try:
            while queue:
                event = queue[0]
                try:
                    await self._hub.ingest(event)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    # One failing event must not stop the source; the hub logs its own errors.
                    log.exception("hub refused %s event of call %s", event.kind, call_id)
                queue.popleft()
                self._slots.release()
        finally:
            del self._pending[call_id]
            del self._workers[call_id]
            if not self._workers:
                self._idle.set()

    async def join(self) -> None:
        """Wait until every submitted event has been handed over."""
        await self._idle.wait()

    async def close(self) -> None:
        """Stop the workers (events not yet handed over are dropped)."""
        workers = list(self._workers.values())
        for task in workers:
            task.cancel()
        for task in workers:
            with contextlib.suppress(asyncio.CancelledError):
                await task
