"""Riding out a database restart or failover: transient connection errors are retried.

Every unit of the engine's work is one transaction and idempotent, so when the
connection breaks mid-way the same work is simply done again on a new
connection: either the first try committed (and the second changes nothing) or
it did not (and the second does it).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_delay, wait_exponential_jitter

log = logging.getLogger(__name__)
T = TypeVar("T")

#: How long a database may be away before the error is given up to the caller.
DEFAULT_PATIENCE_S = 60.0


def is_transient(exc: BaseException) -> bool:
    """A lost or refused connection (worth retrying), not an error in the work itself."""
    if isinstance(exc, OperationalError | InterfaceError):
        return True
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


def _say(state: RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome else None
    first_line = str(getattr(error, "orig", None) or error).strip().splitlines()[:1]
    log.warning("database unavailable (%s); trying again", first_line[0] if first_line else "unknown error")


def patiently(work: Callable[[], T], *, patience_s: float = DEFAULT_PATIENCE_S) -> T:
    """Run `work`, retrying it with backoff while the database is unreachable (up to `patience_s`)."""
    retrying = Retrying(
        retry=retry_if_exception(is_transient),
        wait=wait_exponential_jitter(multiplier=0.2, max=5.0),
        stop=stop_after_delay(patience_s),
        before_sleep=_say,
        reraise=True,
    )
    return retrying(work)
