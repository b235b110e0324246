"""A `HubPort` that records what a source sends and answers offers with a fixed policy."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from hub.core.models import CallEvent, EventKind, RouteDecision, WrapUp

WAIT = 10.0  # guards against a hang; never a timing expectation


class RecordingHub:
    """Records ingested events and decisions; ``policy`` decides each offered call."""

    def __init__(self, policy: Callable[[CallEvent], RouteDecision]) -> None:
        self.policy = policy
        self.events: list[CallEvent] = []
        self.offers: list[CallEvent] = []
        self.wrapups: list[WrapUp] = []
        self._changed = asyncio.Condition()

    async def ingest(self, event: CallEvent) -> None:
        """Record an event."""
        async with self._changed:
            self.events.append(event)
            self._changed.notify_all()

    async def decide(self, offer: CallEvent) -> RouteDecision:
        """Record the offer and apply the policy."""
        async with self._changed:
            self.offers.append(offer)
            self._changed.notify_all()
        return self.policy(offer)

    async def wrapup(self, wrapup: WrapUp) -> None:
        """Record a wrap-up."""
        self.wrapups.append(wrapup)

    def kinds(self, call_id: str) -> list[str]:
        """The kinds of the events of one call, in the order they were ingested."""
        return [e.kind.value for e in self.events if e.call_id == call_id]

    def of(self, call_id: str, kind: EventKind) -> list[CallEvent]:
        """The events of one kind of one call."""
        return [e for e in self.events if e.call_id == call_id and e.kind is kind]

    async def wait_for(self, call_id: str, kind: EventKind, count: int = 1) -> list[CallEvent]:
        """Wait until ``count`` events of ``kind`` of the call have been ingested."""

        async def enough() -> list[CallEvent]:
            async with self._changed:
                await self._changed.wait_for(lambda: len(self.of(call_id, kind)) >= count)
            return self.of(call_id, kind)

        return await asyncio.wait_for(enough(), WAIT)

    async def wait_offers(self, count: int) -> None:
        """Wait until ``count`` offers have been decided."""

        async def enough() -> None:
            async with self._changed:
                await self._changed.wait_for(lambda: len(self.offers) >= count)

        await asyncio.wait_for(enough(), WAIT)
