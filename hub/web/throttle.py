"""Slowing down repeated bad logins: after a few failures an address must wait."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class LoginThrottle:
    """Counts bad logins per address; past `allowed` failures the address waits, longer each time."""

    allowed: int = 5
    base_wait_s: float = 2.0
    max_wait_s: float = 300.0
    clock: Callable[[], float] = time.monotonic
    _failures: dict[str, tuple[int, float]] = field(default_factory=dict)

    def wait_s(self, address: str) -> float:
        """Seconds `address` must still wait before trying again (0: it may try now)."""
        count, last = self._failures.get(address, (0, 0.0))
        if count < self.allowed:
            return 0.0
        wait = min(self.base_wait_s * 2 ** (count - self.allowed), self.max_wait_s)
        return float(max(0.0, last + wait - self.clock()))

    def failed(self, address: str) -> None:
        """Count one bad login from `address`."""
        count, _ = self._failures.get(address, (0, 0.0))
        self._failures[address] = (count + 1, self.clock())
        if len(self._failures) > 10_000:
            # Keep memory bounded under a spray of addresses: forget the oldest half.
            for key, _value in sorted(self._failures.items(), key=lambda item: item[1][1])[:5_000]:
                del self._failures[key]

    def succeeded(self, address: str) -> None:
        """A good login clears the address's failures."""
        self._failures.pop(address, None)
