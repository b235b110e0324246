"""Where a client's contract stands, and whether its service is over at a given time.

A contract is ``active`` until its end; then the expiry job (`hub.core.lifecycle_jobs`)
makes it ``pending`` while calls admitted before the end are still in progress (their
holds are not settled yet), and ``ended`` once the remaining balance was forfeited.
A renewal makes it ``active`` again.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from hub.core.ledger import Account, LedgerError

ACTIVE, PENDING, ENDED = "active", "pending", "ended"
STATES = (ACTIVE, PENDING, ENDED)
LISBON = ZoneInfo("Europe/Lisbon")

#: The `reason` of a call refused because the client's contract is over.
REFUSAL_REASON = "contract ended"


class ContractOver(LedgerError):
    """The client's contract is over: a top-up, an option or this renewal is not possible."""


def has_ended(account: Account, at: datetime) -> bool:
    """Whether the service of `account` is over at `at`.

    It is over from the contract's end on, even before the expiry job has run, so that no
    call is admitted after the end whatever the job's timing. An account that never bought
    a contract (no end) is not over.
    """
    if account.contract_state != ACTIVE:
        return True
    return account.contract_ends_at is not None and at >= account.contract_ends_at


def end_date(end: datetime) -> str:
    """The Lisbon calendar date of a contract end, "YYYY-MM-DD" (the keys of its jobs use it)."""
    return end.astimezone(LISBON).date().isoformat()
