"""Phone tasks nobody finishes: the `campaigns.release_stale` job gives them back.

A claimed phone contact is `in_progress` and holds its price on the client's balance until
its outcome is recorded or it is released. An agent who closes the console mid-task, or a
telephony source that stops, would keep it so for ever: the contact never made, the money
held, and an ended contract's forfeiture waiting for the hold. The job gives back every
task with no activity (its claim, or the last event of its call) for
`[outbound] task_claim_timeout_min` minutes, unless its call is in progress (answered and
not ended yet): pending again, for anyone, its hold released. Running it twice at the same
time changes nothing more.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.engine import Connection

from hub.core import outbound
from hub.core import store as t
from hub.core.campaigns import give_back
from hub.core.privacy import mask_phone
from hub.core.scheduler import Job, JobContext
from hub.core.store import Store, to_db

log = logging.getLogger(__name__)


def _stale(conn: Connection, cutoff: datetime, contact_id: int | None = None) -> list[int]:
    """Claimed phone contacts idle since `cutoff` or before, whose call is not in progress."""
    query = (
        select(t.contacts.c.id)
        .where(
            t.contacts.c.status == "in_progress",
            t.contacts.c.channel == "phone",
            # Every claim and every event of the contact's call sets `updated_at`.
            t.contacts.c.updated_at <= to_db(cutoff),
            or_(t.contacts.c.answered_at.is_(None), t.contacts.c.ended_at.is_not(None)),
        )
        .order_by(t.contacts.c.id)
    )
    if contact_id is not None:
        query = query.where(t.contacts.c.id == contact_id)
    return [int(found) for found in conn.execute(query).scalars()]


def release_stale(store: Store, *, now: datetime, timeout_min: int) -> int:
    """Give back the phone tasks idle for `timeout_min` minutes at `now` without a call in progress; how many."""
    cutoff = now - timedelta(minutes=timeout_min)
    with store.connect() as conn:
        candidates = _stale(conn, cutoff)
    released = 0
    for contact_id in candidates:
        with store.begin() as conn:
            contact = outbound.load(conn, contact_id, lock=True)
            # Checked again under the lock: the outcome may have been recorded meanwhile.
            if contact is None or not _stale(conn, cutoff, contact_id):
                continue
            give_back(conn, contact, now)
        released += 1
        log.info(
            "phone task %s (%s, %s) idle since before %s: given back",
            contact.id,
            contact.client,
            mask_phone(contact.number),
            cutoff.isoformat(),
        )
    return released


def _run(context: JobContext) -> int:
    return release_stale(context.store, now=context.now, timeout_min=context.settings.outbound.task_claim_timeout_min)


#: The periodic job that gives back abandoned phone tasks (listed in `hub.core.jobs`).
RELEASE_STALE = Job(name="campaigns.release_stale", every=timedelta(minutes=1), run=_run)
