"""The calls of message campaigns: claimed when due and placed through the desk, a few at a time.

`recado run` runs `MessageCaller.run` beside the sources when one process has the
engine and web roles and its console's desk dials for real (a telephony source's
desk, such as FreeSWITCH's): the calls need a connected PBX, which a `recado tick`
process or a web-only process does not have. Every `PERIOD_S` it claims due contacts
of ``message`` campaigns (`hub.core.campaigns.next_message_task`: within the outbound
hours, the price held on the balance) while the desk has free `message_slots`, and
places each call. The call's events make the outcome (`hub.core.outbound_events`:
message played, or no answer). A call that cannot be placed gives its contact back at
the end of the round: it stays pending for a later one. The demo's simulated desk
never runs unattended; its console plays the due messages on request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable
from datetime import UTC, datetime

from hub.core.campaigns import PhoneTask, next_message_task, release_task
from hub.web.context import WebContext
from hub.web.desk_port import DeskError, DialPort, DialProgress

__all__ = ["PERIOD_S", "MessageCaller", "clock_of"]

log = logging.getLogger(__name__)

#: How often due message contacts are looked for.
PERIOD_S = 30.0
#: Contacts that may be refused by the desk in one round before the round stops.
_MAX_REFUSED = 20


def clock_of(context: WebContext) -> datetime:
    """The console's "now": ``extras["clock"]`` when set (tests and demos set one), else the wall clock."""
    clock = context.extras.get("clock")
    return clock() if callable(clock) else datetime.now(UTC)


class MessageCaller:
    """Places the calls of due message contacts through one desk."""

    def __init__(self, context: WebContext, desk: DialPort) -> None:
        self.context = context
        self.desk = desk
        self._calls: set[asyncio.Task[DialProgress]] = set()

    def _claim(self) -> PhoneTask | None:
        context = self.context
        return next_message_task(
            context.store, now=clock_of(context), settings=context.settings, registry=context.plugins.registry
        )

    async def play_due(self) -> int:
        """Place the calls of the contacts due now, as far as the desk has free slots; how many were placed."""
        if not self.desk.ready:
            return 0
        placed = 0
        refused: list[int] = []
        try:
            while len(self._calls) < self.desk.message_slots and len(refused) < _MAX_REFUSED:
                task = await asyncio.to_thread(self._claim)
                if task is None:
                    break
                try:
                    over = await self.desk.play_message(task)
                except DeskError as exc:
                    # Kept claimed until the round ends, so that the next claim finds another contact.
                    log.warning("message call of contact %s not placed: %s", task.contact_id, exc)
                    refused.append(task.contact_id)
                    continue
                self._follow(over)
                placed += 1
        finally:
            for contact_id in refused:
                await asyncio.to_thread(release_task, self.context.store, contact_id)
        return placed

    def _follow(self, over: Awaitable[DialProgress]) -> None:
        async def wait() -> DialProgress:
            return await over

        call = asyncio.create_task(wait())
        self._calls.add(call)
        call.add_done_callback(self._calls.discard)

    async def join(self) -> None:
        """Wait until the calls in progress are over."""
        while self._calls:
            await asyncio.wait(list(self._calls))

    async def run(self, stop: asyncio.Event, period_s: float | None = None) -> None:
        """Place due message calls every `period_s` (default `PERIOD_S`) until `stop` is set."""
        period_s = period_s or PERIOD_S
        while not stop.is_set():
            try:
                await self.play_due()
            except Exception:  # the database may be restarting: try again next period
                log.exception("message calls could not be placed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), period_s)
        for call in list(self._calls):
            # The calls go on in the PBX; the source reports their ends to the hub.
            call.cancel()
