"""Per-destination delivery policy: the retry schedule, jitter, throttle and pause.

The schedule is Svix's by default (at once, 5 s, 5 min, 30 min, 2 h, 5 h,
10 h, 10 h): one attempt per entry, then the delivery is dead. Delays come from
tenacity's wait strategies, with random jitter so that retries spread out.
A `Retry-After` from the platform wins over the schedule.
"""

from __future__ import annotations

import asyncio
import time
import types
from dataclasses import dataclass

from tenacity import wait_chain, wait_fixed, wait_random
from tenacity.wait import wait_base

from hub.core.clients import DeliveryPolicy
from hub.settings import DeliverySettings


@dataclass(frozen=True)
class EffectivePolicy:
    """The hub's defaults with a destination's own policy applied."""

    schedule_s: tuple[float, ...]
    max_per_second: float | None
    pause_after_s: int
    jitter: float

    @classmethod
    def of(cls, defaults: DeliverySettings, own: DeliveryPolicy | None) -> EffectivePolicy:
        """Merge a destination's policy (may be None) over the hub's defaults."""
        return cls(
            schedule_s=tuple(own.schedule_s if own and own.schedule_s else defaults.schedule_s),
            max_per_second=own.max_per_second if own and own.max_per_second else defaults.max_per_second,
            pause_after_s=own.pause_after_s if own and own.pause_after_s else defaults.pause_after_s,
            jitter=defaults.jitter,
        )

    @property
    def max_attempts(self) -> int:
        """Attempts before a delivery is dead."""
        return len(self.schedule_s)

    def _wait(self) -> wait_base:
        # Entry k of the schedule is the wait after failure k (entry 0 is the first attempt).
        waits = [wait_fixed(delay) + wait_random(0, delay * self.jitter) for delay in self.schedule_s[1:]]
        return wait_chain(*waits) if waits else wait_fixed(0)

    def delay_after(self, failures: int, retry_after_s: float | None = None) -> float:
        """Seconds to wait after the `failures`-th failed attempt (the platform's `Retry-After` wins)."""
        if retry_after_s is not None:
            return max(0.0, retry_after_s)
        state = types.SimpleNamespace(attempt_number=failures)
        return float(self._wait()(state))  # type: ignore[arg-type]


class Throttle:
    """Spaces requests to one destination to at most `per_second` (per worker process)."""

    def __init__(self, per_second: float | None) -> None:
        self.interval = 1.0 / per_second if per_second else 0.0
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        """Return when the next request may go."""
        if not self.interval:
            return
        async with self._lock:
            now = time.monotonic()
            if self._next > now:
                await asyncio.sleep(self._next - now)
            self._next = max(now, self._next) + self.interval
