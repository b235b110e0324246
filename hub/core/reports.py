"""Monthly reports: one client's month in figures, and the operator's month across clients.

What belongs to a month (a calendar month in Europe/Lisbon, from its first 00:00 to the
next month's first 00:00, whatever the offset that day):

- a **record** by the time its call was offered (for an outbound contact: when it started),
  `records.offered_at`; a record with no offered time counts by the time it was finalized.
  The tariff counts an answered call in the month it was *answered*: a call offered at
  23:59:58 on the last day and answered after midnight is in this month's report and in
  the next month's price tiers.
- a **ledger entry** by its `at` (a call's debit is dated when the call ended).

The balance at the end of a month is the sum of every ledger entry dated before the month
ended, which is the `balance_after_cents` of the month's last entry when entries were posted
in order, and stays right when one was posted later with an earlier date.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict
from sqlalchemy import and_, func, or_, select
from sqlalchemy.engine import Connection

from hub.core import ledger
from hub.core import store as t
from hub.core.clients import Category, Client
from hub.core.models import Disposition
from hub.core.store import from_db, to_db
from hub.core.tariff import DEFAULT_TARIFF, TariffConfig, exceeds_average_talk, month_key

LISBON = ZoneInfo("Europe/Lisbon")
#: How an inbound call can end, in the order reports list them.
INBOUND_DISPOSITIONS = [
    Disposition.ANSWERED.value,
    Disposition.MISSED.value,
    Disposition.AFTER_HOURS.value,
    Disposition.REFUSED_NO_BALANCE.value,
    Disposition.SPAM.value,
    Disposition.BLOCKED.value,
]
#: Debits that are not spending: the balance forfeited at the end of a contract.
NOT_SPENT = frozenset({"forfeit"})
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")

#: Columns of the operator's month CSV, in this order (see docs/reports.md).
OPERATOR_COLUMNS = (
    "client",
    "name",
    "answered",
    "missed",
    "after_hours",
    "refused",
    "outbound",
    "talk_avg_s",
    "talk_above_limit",
    "spend_cents",
    "balance_cents",
    "spam",
    "blocked",
)


def parse_month(value: str) -> str:
    """`value` if it is a month written YYYY-MM, else ValueError saying what was expected."""
    text = value.strip()
    if not _MONTH.match(text):
        raise ValueError(f"{value!r} is not a month (expected YYYY-MM, e.g. 2026-03)")
    return text


def month_bounds(month: str) -> tuple[datetime, datetime]:
    """The first instant of `month` and of the month after, in Lisbon time."""
    year, number = (int(part) for part in parse_month(month).split("-"))
    start = datetime(year, number, 1, tzinfo=LISBON)
    end = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=LISBON)
    return start, end


def previous_month(month: str) -> str:
    """The month before `month`."""
    start, _ = month_bounds(month)
    return month_key(start - timedelta(days=1))


def current_month(at: datetime) -> str:
    """The Lisbon month that the instant `at` falls in."""
    return month_key(at)


def month_days(month: str) -> list[date]:
    """Every calendar day of `month`, in order."""
    start, end = month_bounds(month)
    count = (end.date() - start.date()).days
    return [start.date() + timedelta(days=offset) for offset in range(count)]


class DayCount(BaseModel):
    """Inbound calls offered on one Lisbon day, and how many of them were answered."""

    model_config = ConfigDict(frozen=True)

    day: date
    calls: int
    answered: int


class MonthReport(BaseModel):
    """A client's month: calls, talk time, outbound contacts, money and calls per day.

    Counts of inbound calls leave outbound contacts out; those are counted by channel.
    Amounts are integer cents; debits are shown as positive amounts spent.
    """

    model_config = ConfigDict(frozen=True)

    client: str
    name: str
    language: str
    month: str
    starts_at: datetime
    ends_at: datetime
    #: Whether the month was over when the report was made (False: figures so far).
    complete: bool
    calls: int
    by_disposition: dict[str, int]
    #: category -> disposition -> inbound calls.
    by_category: dict[str, dict[str, int]]
    answered: int
    talk_seconds_total: int
    #: Rounded up to the second, so that it is above the limit exactly when the alert is on.
    talk_seconds_average: int
    talk_limit_seconds: int
    average_talk_above_limit: bool
    outbound: int
    outbound_by_channel: dict[str, int]
    outbound_by_disposition: dict[str, int]
    spend_cents: int
    spend_by_kind: dict[str, int]
    credits_cents: int
    credits_by_kind: dict[str, int]
    #: Balance lost at the end of a contract (a debit, but not spending).
    forfeited_cents: int
    #: The volume-tariff credit for this month's calls, whenever it was posted (usually on the
    #: 1st of the next month, so it is in that month's credits and balances); None if there is none.
    volume_credit_cents: int | None
    balance_end_cents: int
    balance_now_cents: int
    days: list[DayCount]


def _records_of(conn: Connection, client_id: str, start: datetime, end: datetime) -> list[dict[str, Any]]:
    offered = and_(t.records.c.offered_at >= to_db(start), t.records.c.offered_at < to_db(end))
    unoffered = and_(
        t.records.c.offered_at.is_(None),
        t.records.c.finalized_at >= to_db(start),
        t.records.c.finalized_at < to_db(end),
    )
    rows = conn.execute(
        select(t.records.c.data, t.records.c.offered_at, t.records.c.finalized_at).where(
            t.records.c.client == client_id, or_(offered, unoffered)
        )
    )
    found = []
    for row in rows:
        moment = from_db(row.offered_at) or from_db(row.finalized_at)
        assert moment is not None  # finalized_at is never null
        found.append(dict(row.data) | {"_day": moment.astimezone(LISBON).date()})
    return found


def _ordered(counts: Counter[str], known: list[str]) -> dict[str, int]:
    """Every known key (zeros included) in its usual order, then any other key found."""
    return {key: counts.get(key, 0) for key in known} | {
        key: value for key, value in sorted(counts.items()) if key not in known
    }


def _ledger_of(conn: Connection, client_id: str, start: datetime, end: datetime) -> tuple[Counter[str], Counter[str]]:
    rows = conn.execute(
        select(t.ledger.c.kind, t.ledger.c.amount_cents).where(
            t.ledger.c.client == client_id, t.ledger.c.at >= to_db(start), t.ledger.c.at < to_db(end)
        )
    )
    debits: Counter[str] = Counter()
    credits: Counter[str] = Counter()
    for kind, amount in rows:
        if amount < 0:
            debits[kind] += -int(amount)
        elif amount > 0:
            credits[kind] += int(amount)
    return debits, credits


def _balance_before(conn: Connection, client_id: str, end: datetime) -> int:
    value = conn.execute(
        select(func.coalesce(func.sum(t.ledger.c.amount_cents), 0)).where(
            t.ledger.c.client == client_id, t.ledger.c.at < to_db(end)
        )
    ).scalar()
    return int(value or 0)


def _volume_credit(conn: Connection, client_id: str, month: str) -> int | None:
    # The key `hub.core.volume.settle_month` gives the settlement of a month.
    value = conn.execute(
        select(t.ledger.c.amount_cents).where(t.ledger.c.idempotency_key == f"volume:{client_id}:{month}")
    ).scalar()
    return None if value is None else int(value)


def month_report(
    conn: Connection,
    client_id: str,
    month: str,
    *,
    tariff: TariffConfig = DEFAULT_TARIFF,
    now: datetime | None = None,
) -> MonthReport:
    """The report of `client_id` for `month` (YYYY-MM); `ledger.UnknownAccount` for an unknown client."""
    row = conn.execute(select(t.clients.c.config).where(t.clients.c.id == client_id)).first()
    if row is None:
        raise ledger.UnknownAccount(f"no client {client_id!r} (apply it with `recado clients apply`)")
    client = Client.model_validate(row.config)
    month = parse_month(month)
    start, end = month_bounds(month)
    records = _records_of(conn, client_id, start, end)
    inbound = [r for r in records if r.get("direction", "inbound") == "inbound"]
    outbound = [r for r in records if r.get("direction") == "outbound"]
    answered = [r for r in inbound if r["disposition"] == Disposition.ANSWERED.value]
    talk_total = sum(int(r.get("talk_seconds") or 0) for r in answered)
    by_category: dict[str, Counter[str]] = {}
    for r in inbound:
        by_category.setdefault(r.get("category") or "none", Counter())[r["disposition"]] += 1
    categories = [c.value for c in Category if c.value in by_category] + sorted(
        c for c in by_category if c not in {k.value for k in Category}
    )
    per_day = Counter(r["_day"] for r in inbound)
    answered_per_day = Counter(r["_day"] for r in answered)
    debits, credits = _ledger_of(conn, client_id, start, end)
    spent = {kind: cents for kind, cents in sorted(debits.items()) if kind not in NOT_SPENT}
    account = ledger.lock_account(conn, client_id, for_update=False)
    moment = now or datetime.now(UTC)
    return MonthReport(
        client=client_id,
        name=client.name,
        language=client.languages[0].value,
        month=month,
        starts_at=start,
        ends_at=end,
        complete=moment >= end,
        calls=len(inbound),
        by_disposition=_ordered(Counter(r["disposition"] for r in inbound), INBOUND_DISPOSITIONS),
        by_category={c: _ordered(by_category[c], INBOUND_DISPOSITIONS) for c in categories},
        answered=len(answered),
        talk_seconds_total=talk_total,
        talk_seconds_average=-(-talk_total // len(answered)) if answered else 0,
        talk_limit_seconds=tariff.average_talk_limit_s,
        average_talk_above_limit=exceeds_average_talk(talk_total, len(answered), config=tariff),
        outbound=len(outbound),
        outbound_by_channel=_ordered(Counter(r.get("channel") or "voice" for r in outbound), ["voice", "sms"]),
        outbound_by_disposition=dict(sorted(Counter(r["disposition"] for r in outbound).items())),
        spend_cents=sum(spent.values()),
        spend_by_kind=spent,
        credits_cents=sum(credits.values()),
        credits_by_kind=dict(sorted(credits.items())),
        forfeited_cents=sum(cents for kind, cents in debits.items() if kind in NOT_SPENT),
        volume_credit_cents=_volume_credit(conn, client_id, month),
        balance_end_cents=_balance_before(conn, client_id, end),
        balance_now_cents=account.balance_cents,
        days=[DayCount(day=d, calls=per_day[d], answered=answered_per_day[d]) for d in month_days(month)],
    )


def has_activity(report: MonthReport) -> bool:
    """Whether anything happened in the month: a call, a contact or a ledger entry."""
    return bool(report.calls or report.outbound or report.spend_cents or report.credits_cents or report.forfeited_cents)


def client_ids(conn: Connection) -> list[str]:
    """Every client's id, in order."""
    return [str(row.id) for row in conn.execute(select(t.clients.c.id).order_by(t.clients.c.id))]


def operator_reports(
    conn: Connection, month: str, *, tariff: TariffConfig = DEFAULT_TARIFF, now: datetime | None = None
) -> list[MonthReport]:
    """The month's report of every client, by client id."""
    return [month_report(conn, client_id, month, tariff=tariff, now=now) for client_id in client_ids(conn)]


def operator_row(report: MonthReport) -> dict[str, Any]:
    """One client's line of the operator's CSV (columns `OPERATOR_COLUMNS`)."""
    counts = report.by_disposition
    return {
        "client": report.client,
        "name": report.name,
        "answered": counts.get(Disposition.ANSWERED.value, 0),
        "missed": counts.get(Disposition.MISSED.value, 0),
        "after_hours": counts.get(Disposition.AFTER_HOURS.value, 0),
        "refused": counts.get(Disposition.REFUSED_NO_BALANCE.value, 0),
        "outbound": report.outbound,
        "talk_avg_s": report.talk_seconds_average,
        "talk_above_limit": "yes" if report.average_talk_above_limit else "no",
        "spend_cents": report.spend_cents,
        "balance_cents": report.balance_end_cents,
        "spam": counts.get(Disposition.SPAM.value, 0),
        "blocked": counts.get(Disposition.BLOCKED.value, 0),
    }


def operator_csv(reports: list[MonthReport]) -> str:
    """The operator's month CSV from the clients' reports: a header, then one line per client."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(OPERATOR_COLUMNS), lineterminator="\r\n")
    writer.writeheader()
    for report in reports:
        writer.writerow(operator_row(report))
    return out.getvalue()


def operator_month_csv(
    conn: Connection, month: str, *, tariff: TariffConfig = DEFAULT_TARIFF, now: datetime | None = None
) -> str:
    """The operator's report of `month` across clients, as CSV (see `OPERATOR_COLUMNS`)."""
    return operator_csv(operator_reports(conn, month, tariff=tariff, now=now))
