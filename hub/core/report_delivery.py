"""Sending the monthly reports: one email per client, an operator alert on long talk times.

The job `reports.monthly` runs every hour; the first run after a month has ended queues each
client's report of that month to its `contact_email` and alerts the operator about clients
whose average talk time passed the tariff's assumption. Every effect is keyed by client and
month (mail key `report:<client>:<YYYY-MM>`, alert key `average_talk:<client>:<YYYY-MM>`),
so running it again, or `recado reports send` for the same month, sends nothing twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection

from hub.core import notices, reports
from hub.core import store as t
from hub.core.clients import Client
from hub.core.report_mail import report_mail
from hub.core.report_words import duration
from hub.core.reports import current_month, has_activity, month_bounds, month_report, previous_month
from hub.core.scheduler import Job, JobContext
from hub.core.store import Store
from hub.core.tariff import TariffConfig

log = logging.getLogger(__name__)

JOB_NAME = "reports.monthly"


class MonthNotOver(ValueError):
    """Reports are sent for finished months only."""


@dataclass
class SendResult:
    """What one sending did, per client."""

    month: str
    queued: list[str] = field(default_factory=list)
    already_sent: list[str] = field(default_factory=list)
    no_address: list[str] = field(default_factory=list)
    no_activity: list[str] = field(default_factory=list)
    alerts: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        """As `recado reports send --json` prints it."""
        return {
            "month": self.month,
            "queued": self.queued,
            "already_sent": self.already_sent,
            "no_address": self.no_address,
            "no_activity": self.no_activity,
            "alerts": self.alerts,
        }


def mail_key(client_id: str, month: str) -> str:
    """The idempotency key of a client's report email for `month`."""
    return f"report:{client_id}:{month}"


def alert_key(client_id: str, month: str) -> str:
    """The key of the operator's alert about a client's average talk time in `month`."""
    return f"average_talk:{client_id}:{month}"


def send_month_reports(
    store: Store,
    month: str,
    *,
    now: datetime,
    tariff: TariffConfig,
    client_ids: list[str] | None = None,
) -> SendResult:
    """Queue the report of `month` to every client (or those named) and raise the talk-time alerts.

    Clients with nothing in the month (no call, contact or ledger entry) get no email.
    Raises `MonthNotOver` for a month that has not ended at `now`, `LookupError` for an unknown client.
    """
    _start, end = month_bounds(month)
    if now < end:
        raise MonthNotOver(f"{month} is not over yet: reports are sent for finished months")
    result = SendResult(month=month)
    with store.connect() as conn:
        known = reports.client_ids(conn)
    for client_id in client_ids or known:
        if client_id not in known:
            raise LookupError(f"no client {client_id!r} (apply it with `recado clients apply`)")
        with store.begin() as conn:
            _send_one(conn, client_id, month, now, tariff, result)
    return result


def _send_one(
    conn: Connection, client_id: str, month: str, now: datetime, tariff: TariffConfig, result: SendResult
) -> None:
    report = month_report(conn, client_id, month, tariff=tariff, now=now)
    if report.average_talk_above_limit:
        message = (
            f"{client_id}: average talk time in {month} was {duration(report.talk_seconds_average)} "
            f"over {report.answered} answered calls, above the {duration(report.talk_limit_seconds)} "
            "the tariff assumes"
        )
        if notices.alert_once(
            conn, client=client_id, kind="average_talk", key=alert_key(client_id, month), message=message
        ):
            result.alerts.append(client_id)
            log.info("%s", message)
    if not has_activity(report):
        result.no_activity.append(client_id)
        return
    row = conn.execute(select(t.clients.c.config).where(t.clients.c.id == client_id)).one()
    client = Client.model_validate(row.config)
    if not client.contact_email:
        result.no_address.append(client_id)
        return
    mail = report_mail(report)
    queued = notices.mail_client(
        conn,
        client,
        kind="month_report",
        key=mail_key(client_id, month),
        at=now,
        subject=mail.subject,
        body=mail.body,
        html=mail.html,
        attachments=mail.attachments,
    )
    (result.queued if queued else result.already_sent).append(client_id)


def _done_key(month: str) -> str:
    return f"{JOB_NAME}:{month}"


def run_monthly(context: JobContext) -> int:
    """The job: on its first run after a month ends, send that month's reports; return emails queued."""
    month = previous_month(current_month(context.now))
    with context.store.connect() as conn:
        done = conn.execute(select(t.engine_state.c.key).where(t.engine_state.c.key == _done_key(month))).first()
    if done is not None:
        return 0
    result = send_month_reports(context.store, month, now=context.now, tariff=context.settings.tariff)
    with context.store.begin() as conn:
        if conn.execute(select(t.engine_state.c.key).where(t.engine_state.c.key == _done_key(month))).first() is None:
            conn.execute(insert(t.engine_state).values(key=_done_key(month), value=context.now.isoformat()))
    log.info("monthly reports of %s: %d queued", month, len(result.queued))
    return len(result.queued)


MONTHLY_JOB = Job(name=JOB_NAME, every=timedelta(hours=1), run=run_monthly)
