"""Matching a bank statement's credits to invoices: the reference in the remittance text, the exact total.

Every line of every imported statement is kept in `payments` under a stable key (the
bank's id of the movement, or a digest of the line), so importing the same statement
twice changes nothing. A credit that quotes one valid payment reference of an unpaid
invoice and pays exactly its total marks the invoice paid (and so activates the sign-up
or renews the contract); anything else — no reference, an unknown one, a partial or an
excess payment, a second payment of a paid invoice, another currency — is kept as
``unmatched`` for the operator, with the reason.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from hub.core import billing, invoices
from hub.core import store as t
from hub.core.registry import Registry
from hub.core.statements import Statement, StatementLine
from hub.core.store import Store, to_db
from hub.core.tariff import format_eur
from hub.settings import Settings

MATCHED = "matched"
UNMATCHED = "unmatched"
IGNORED = "ignored"
DUPLICATE = "duplicate"
PENDING = "pending"
TRANSFER = "transfer"
_CANDIDATE = re.compile(r"RC\d{12}")


def find_references(text: str) -> tuple[list[str], list[str]]:
    """The payment references in `text` (spaces, dashes, dots and case ignored): valid ones, and look-alikes."""
    compact = re.sub(r"[\s\-./]", "", text.upper())
    valid: list[str] = []
    wrong: list[str] = []
    for found in _CANDIDATE.findall(compact):
        target = valid if invoices.reference_is_valid(found) else wrong
        if found not in target:
            target.append(found)
    return valid, wrong


@dataclass
class ImportedLine:
    """One statement line and what the import made of it."""

    key: str
    position: str
    booked_on: str | None
    amount_cents: int
    credit: bool
    currency: str
    payer: str | None
    remittance: str
    status: str
    reference: str | None = None
    invoice: str | None = None
    reason: str | None = None
    activation: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return dict(self.__dict__)


@dataclass
class ImportReport:
    """The lines of one imported statement, each with its outcome."""

    file: str
    format: str
    dry_run: bool
    lines: list[ImportedLine] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """How many lines were matched, unmatched, ignored (debits, …) and already imported."""
        found = Counter(line.status for line in self.lines)
        return {status: found.get(status, 0) for status in (MATCHED, UNMATCHED, IGNORED, DUPLICATE)}

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (`recado payments import --json`)."""
        return {
            "file": self.file,
            "format": self.format,
            "dry_run": self.dry_run,
            "counts": self.counts(),
            "lines": [line.as_dict() for line in self.lines],
        }


def _judge(conn: Connection, line: StatementLine) -> tuple[str, str | None, str | None, str | None]:
    """(status, reference, invoice number, reason) of a line not imported before."""
    if not line.credit:
        return IGNORED, None, None, "a debit, not a payment received"
    if line.currency != "EUR":
        return UNMATCHED, None, None, f"amount in {line.currency or 'no currency'}, expected EUR"
    valid, wrong = find_references(line.remittance)
    if not valid:
        if wrong:
            return UNMATCHED, None, None, f"reference {wrong[0]} has wrong check digits (a typo?)"
        return UNMATCHED, None, None, "no payment reference (RC…) in the remittance text"
    if len(valid) > 1:
        return UNMATCHED, None, None, f"several references: {', '.join(valid)}"
    reference = valid[0]
    invoice = invoices.get(conn, invoices.number_of_reference(reference))
    if invoice is None or invoice.payment_reference != reference:
        return UNMATCHED, reference, None, f"no invoice has the reference {reference}"
    amount, total = format_eur(line.amount_cents, "en"), format_eur(invoice.gross_cents, "en")
    if invoice.status == invoices.CANCELLED:
        return UNMATCHED, reference, invoice.number, f"invoice {invoice.number} is cancelled"
    if invoice.status == invoices.PAID:
        return UNMATCHED, reference, invoice.number, f"invoice {invoice.number} was already paid: a second payment"
    if line.amount_cents < invoice.gross_cents:
        return UNMATCHED, reference, invoice.number, f"partial payment: {amount} of {total}"
    if line.amount_cents > invoice.gross_cents:
        return UNMATCHED, reference, invoice.number, f"overpaid: {amount} for {total}"
    return MATCHED, reference, invoice.number, None


def _retried(conn: Connection, key: str, earlier: Any) -> tuple[str, str | None, str | None, str | None]:
    """A line matched by an import that stopped before paying the invoice: pay it now, unless another payment did."""
    invoice = invoices.get(conn, earlier.invoice) if earlier.invoice else None
    if invoice is None:
        return UNMATCHED, earlier.reference, earlier.invoice, "the invoice it matched is gone"
    if invoice.status == invoices.PAID and invoice.paid_reference != key:
        return (
            UNMATCHED,
            earlier.reference,
            invoice.number,
            f"invoice {invoice.number} was already paid: a second payment",
        )
    return MATCHED, earlier.reference, invoice.number, None


def _record(
    conn: Connection, key: str, line: StatementLine, source: str, file: str, at: datetime, **values: Any
) -> None:
    conn.execute(
        insert(t.payments).values(
            entry_key=key,
            source=source,
            file=file,
            booked_on=line.booked_on.isoformat() if line.booked_on else None,
            amount_cents=line.amount_cents if line.credit else -line.amount_cents,
            currency=line.currency,
            payer=line.payer,
            remittance=line.remittance,
            imported_at=to_db(at),
            **values,
        )
    )


def import_statement(
    store: Store,
    registry: Registry,
    statement: Statement,
    *,
    file: str,
    at: datetime,
    settings: Settings,
    dry_run: bool = False,
    notify: Callable[..., None] | None = None,
    progress: Callable[[], None] | None = None,
) -> ImportReport:
    """Import the lines of `statement` (read from `file`) and pay the invoices they match.

    With `dry_run`, say what would happen and write nothing.
    """
    report = ImportReport(file=file, format=statement.format, dry_run=dry_run)
    for key, line in zip(statement.keys(), statement.lines, strict=True):
        report.lines.append(
            _import_line(store, registry, key, line, statement.format, file, at, settings, dry_run, notify)
        )
        if progress is not None:
            progress()
    return report


def _import_line(
    store: Store,
    registry: Registry,
    key: str,
    line: StatementLine,
    source: str,
    file: str,
    at: datetime,
    settings: Settings,
    dry_run: bool,
    notify: Callable[..., None] | None,
) -> ImportedLine:
    item = ImportedLine(
        key=key,
        position=line.position,
        booked_on=line.booked_on.isoformat() if line.booked_on else None,
        amount_cents=line.amount_cents,
        credit=line.credit,
        currency=line.currency,
        payer=line.payer,
        remittance=line.remittance,
        status=DUPLICATE,
    )
    with store.begin() as conn:
        earlier = conn.execute(select(t.payments).where(t.payments.c.entry_key == key)).first()
        if earlier is not None and earlier.status != PENDING:
            item.reference, item.invoice = earlier.reference, earlier.invoice
            item.reason = f"imported before ({earlier.status})"
            return item
        judged = _judge(conn, line) if earlier is None else _retried(conn, key, earlier)
        item.status, item.reference, item.invoice, item.reason = judged
        if dry_run:
            return item
        if earlier is None:
            try:
                with conn.begin_nested():
                    _record(
                        conn,
                        key,
                        line,
                        source,
                        file,
                        at,
                        status=PENDING if item.status == MATCHED else item.status,
                        reference=item.reference,
                        invoice=item.invoice,
                        reason=item.reason,
                    )
            except IntegrityError:
                item.status, item.reason = DUPLICATE, "imported at the same time by another import"
                return item
        elif item.status != MATCHED:
            conn.execute(
                update(t.payments).where(t.payments.c.entry_key == key).values(status=item.status, reason=item.reason)
            )
    if item.status != MATCHED or item.invoice is None:
        return item
    # Recorded as pending first: if paying the invoice fails, the next import of this
    # statement tries the line again instead of calling it a duplicate.
    result = billing.mark_invoice_paid(
        store,
        registry,
        item.invoice,
        amount_cents=line.amount_cents,
        method=TRANSFER,
        reference=key,
        at=at,
        settings=settings,
        notify=notify,
    )
    item.activation = result.as_dict()
    if result.state in ("amount_mismatch", "cancelled"):
        item.status, item.reason = UNMATCHED, result.problem
    with store.begin() as conn:
        conn.execute(
            update(t.payments).where(t.payments.c.entry_key == key).values(status=item.status, reason=item.reason)
        )
    return item


def list_payments(conn: Connection, *, status: str | None = None) -> list[dict[str, Any]]:
    """Imported statement lines, newest first (only `status` ones if given)."""
    query = select(t.payments).order_by(t.payments.c.id.desc())
    if status is not None:
        query = query.where(t.payments.c.status == status)
    return [
        {
            "id": row.id,
            "booked_on": row.booked_on,
            "amount_cents": int(row.amount_cents),
            "currency": row.currency,
            "payer": row.payer,
            "remittance": row.remittance,
            "reference": row.reference,
            "invoice": row.invoice,
            "status": row.status,
            "reason": row.reason,
            "file": row.file,
        }
        for row in conn.execute(query)
    ]
