"""The hub as sources see it: an asyncio front of the engine (`hub.sources.HubPort`)."""

from __future__ import annotations

import asyncio
from functools import partial

from hub.core.engine import Engine
from hub.core.models import CallEvent, RouteDecision, WrapUp
from hub.core.reconnect import patiently


class Hub:
    """Feeds a running source's events to the engine, one at a time, off the event loop.

    The engine's work is database transactions; running them in a thread keeps
    the source's socket handling responsive, and one lock keeps the events of
    each call in the order the source gave them.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._lock = asyncio.Lock()

    async def ingest(self, event: CallEvent) -> None:
        """Process one event (see `Engine.handle`); rides out a database restart."""
        async with self._lock:
            await asyncio.to_thread(patiently, partial(self.engine.handle, event))

    async def decide(self, offer: CallEvent) -> RouteDecision:
        """Decide what to do with an offered call (see `Engine.decide`)."""
        async with self._lock:
            return await asyncio.to_thread(patiently, partial(self.engine.decide, offer))

    async def wrapup(self, wrapup: WrapUp) -> None:
        """Record the agent's answers (see `Engine.wrapup`)."""
        async with self._lock:
            await asyncio.to_thread(patiently, partial(self.engine.wrapup, wrapup))
