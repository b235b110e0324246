"""Invoices of sign-ups and renewals: numbered per year without gaps, VAT per document.

An invoice is numbered "YYYY/NNNNNN" from a counter row that is incremented inside the
transaction that writes the invoice, so a rolled-back invoice gives its number back and
two invoices never share one (the row lock serializes them on PostgreSQL, the write lock
on SQLite). Each invoice has a payment reference ("RC" + the number's digits + two ISO
7064 check digits) that the payer writes in the transfer, and a public token for the
applicant's link.

The contract is invoiced (net + 23 % VAT, paid by transfer or card). The recorded-message
option is shown as a line of its own but, as `tariff.document_for_message` says, it is
debited from the prepaid balance at activation, so it adds nothing to the amount to pay.
"""

from __future__ import annotations

import re
import secrets
from datetime import date, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict
from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from hub.core import store as t
from hub.core.seller import BillingSettings
from hub.core.store import from_db, to_db
from hub.core.tariff import (
    Document,
    DocumentKind,
    TariffConfig,
    document_for_message,
    document_for_plan,
    vat_cents,
)

LISBON = ZoneInfo("Europe/Lisbon")
SIGNUP: Literal["signup"] = "signup"
RENEWAL: Literal["renewal"] = "renewal"
ISSUED: Literal["issued"] = "issued"
PAID: Literal["paid"] = "paid"
CANCELLED: Literal["cancelled"] = "cancelled"
NUMBER = re.compile(r"(\d{4})/(\d{6})")
REFERENCE = re.compile(r"RC(\d{10})(\d{2})")


class InvoiceLine(BaseModel):
    """One line: the contract (paid now) or the recorded-message option (paid from the balance)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["contract", "message"]
    item: str
    description: dict[str, str]
    net_cents: int
    vat_percent: int
    paid_from: Literal["payment", "balance"]
    months: int | None = None


class Invoice(BaseModel):
    """An invoice as stored."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    number: str
    kind: Literal["signup", "renewal"]
    client: str
    plan: str
    issued_at: datetime
    buyer: dict[str, str]
    seller: dict[str, Any]
    lines: list[InvoiceLine]
    net_cents: int
    vat_cents: int
    gross_cents: int
    status: Literal["issued", "paid", "cancelled"]
    payment_reference: str
    public_token: str
    method: str
    paid_at: datetime | None = None
    paid_cents: int | None = None
    paid_method: str | None = None
    paid_reference: str | None = None
    fulfilled_at: datetime | None = None

    @property
    def due_on(self) -> date:
        """The last day to pay (Lisbon date)."""
        days = int(self.seller.get("due_days", 15))
        return (self.issued_at.astimezone(LISBON) + timedelta(days=days)).date()

    @property
    def vat_percent(self) -> int:
        """The VAT rate of the invoiced lines."""
        return next((line.vat_percent for line in self.lines if line.paid_from == "payment"), 0)

    @property
    def message_option(self) -> str | None:
        """The recorded-message option bought with a sign-up, if any."""
        return next((line.item for line in self.lines if line.kind == "message"), None)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (`recado invoices show --json`)."""
        return self.model_dump(mode="json", exclude={"public_token"}) | {"due_on": self.due_on.isoformat()}


def lines_for(plan: str, message_option: str, tariff: TariffConfig) -> list[InvoiceLine]:
    """The lines of a sign-up or renewal: the plan, and the recorded-message option unless "none".

    ValueError names an unknown plan or option.
    """
    contract = document_for_plan(plan, config=tariff)
    months = contract.months or 0
    lines = [
        InvoiceLine(
            kind="contract",
            item=plan,
            description={"pt": f"Contrato pré-pago, {months} meses", "en": f"Prepaid contract, {months} months"},
            net_cents=contract.net_cents,
            vat_percent=tariff.vat_rate_percent,
            paid_from="payment",
            months=months,
        )
    ]
    if message_option != "none":
        message = document_for_message(message_option, config=tariff)
        label = message_option.upper()
        lines.append(
            InvoiceLine(
                kind="message",
                item=message_option,
                description={
                    "pt": f"Mensagem gravada fora de horas ({label}), debitada do saldo na ativação",
                    "en": f"Out-of-hours recorded message ({label}), debited from the balance at activation",
                },
                net_cents=message.net_cents,
                vat_percent=0,
                paid_from="balance",
            )
        )
    return lines


def payment_reference(number: str) -> str:
    """The reference a payer writes in the transfer: "RC" + the number's digits + 2 check digits."""
    found = NUMBER.fullmatch(number)
    if not found:
        raise ValueError(f"{number!r} is not an invoice number (expected YYYY/NNNNNN)")
    digits = found.group(1) + found.group(2)
    return f"RC{digits}{98 - int(digits) * 100 % 97:02d}"


def reference_is_valid(reference: str) -> bool:
    """Whether `reference` has the form of a payment reference and its check digits hold."""
    found = REFERENCE.fullmatch(reference)
    return found is not None and 98 - int(found.group(1)) * 100 % 97 == int(found.group(2))


def number_of_reference(reference: str) -> str:
    """The invoice number a (valid) payment reference stands for."""
    digits = reference[2:12]
    return f"{digits[:4]}/{digits[4:]}"


def _allocate(conn: Connection, year: int) -> int:
    counter = t.invoice_counters
    bumped = conn.execute(update(counter).where(counter.c.year == year).values(last=counter.c.last + 1))
    if bumped.rowcount == 0:
        try:
            with conn.begin_nested():
                conn.execute(insert(counter).values(year=year, last=1))
            return 1
        except IntegrityError:
            # Another transaction opened the year first: its row is committed now.
            conn.execute(update(counter).where(counter.c.year == year).values(last=counter.c.last + 1))
    return int(conn.execute(select(counter.c.last).where(counter.c.year == year)).scalar_one())


def issue(
    conn: Connection,
    *,
    kind: Literal["signup", "renewal"],
    client: str,
    plan: str,
    message_option: str,
    buyer: dict[str, str],
    seller: BillingSettings,
    method: str,
    at: datetime,
    tariff: TariffConfig,
) -> Invoice:
    """Write a new invoice in the caller's transaction, with the next number of `at`'s year."""
    lines = lines_for(plan, message_option, tariff)
    net = sum(line.net_cents for line in lines if line.paid_from == "payment")
    vat = vat_cents(net, rate_percent=tariff.vat_rate_percent)
    year = at.astimezone(LISBON).year
    seq = _allocate(conn, year)
    number = f"{year}/{seq:06d}"
    values: dict[str, Any] = {
        "number": number,
        "year": year,
        "seq": seq,
        "kind": kind,
        "client": client,
        "plan": plan,
        "issued_at": to_db(at),
        "buyer": buyer,
        "seller": seller.as_seller() | {"due_days": seller.due_days},
        "lines": [line.model_dump(mode="json") for line in lines],
        "net_cents": net,
        "vat_cents": vat,
        "gross_cents": net + vat,
        "status": ISSUED,
        "payment_reference": payment_reference(number),
        "public_token": secrets.token_urlsafe(24),
        "method": method,
    }
    conn.execute(insert(t.invoices).values(**values))
    del values["year"], values["seq"]
    return Invoice.model_validate(values | {"issued_at": at})


def _from_row(row: Any) -> Invoice:
    values = dict(row._mapping)
    for key in ("issued_at", "paid_at", "fulfilled_at"):
        values[key] = from_db(values[key])
    for key in ("year", "seq"):
        values.pop(key)
    return Invoice.model_validate(values)


def get(conn: Connection, number: str, *, for_update: bool = False) -> Invoice | None:
    """The invoice `number`, or None; `for_update` locks its row (PostgreSQL) until the transaction ends."""
    query = select(t.invoices).where(t.invoices.c.number == number)
    if for_update and conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = conn.execute(query).first()
    return None if row is None else _from_row(row)


def by_token(conn: Connection, token: str) -> Invoice | None:
    """The invoice whose public link carries `token`, or None."""
    row = conn.execute(select(t.invoices).where(t.invoices.c.public_token == token)).first()
    return None if row is None else _from_row(row)


def listing(conn: Connection, *, client: str | None = None, status: str | None = None) -> list[Invoice]:
    """Invoices, newest first, optionally of one client or in one status."""
    query = select(t.invoices).order_by(t.invoices.c.year.desc(), t.invoices.c.seq.desc())
    if client is not None:
        query = query.where(t.invoices.c.client == client)
    if status is not None:
        query = query.where(t.invoices.c.status == status)
    return [_from_row(row) for row in conn.execute(query)]


def cancel(conn: Connection, number: str) -> Invoice:
    """Cancel an unpaid invoice (its number stays used); ValueError when it is unknown or paid."""
    invoice = get(conn, number, for_update=True)
    if invoice is None:
        raise ValueError(f"no invoice {number!r}")
    if invoice.status == PAID:
        raise ValueError(f"invoice {number} is paid; a paid invoice is not cancelled")
    conn.execute(update(t.invoices).where(t.invoices.c.number == number).values(status=CANCELLED))
    conn.execute(update(t.signups).where(t.signups.c.invoice == number).values(status="cancelled"))
    return invoice.model_copy(update={"status": CANCELLED})


def contract_document(invoice: Invoice) -> Document:
    """What the paid invoice buys: the contract at the invoiced price (the whole net becomes balance)."""
    line = next(line for line in invoice.lines if line.kind == "contract")
    vat = vat_cents(line.net_cents, rate_percent=line.vat_percent)
    return Document(
        kind=DocumentKind.CONTRACT,
        item=line.item,
        description=line.description["en"],
        net_cents=line.net_cents,
        vat_cents=vat,
        gross_cents=line.net_cents + vat,
        paid_from="payment",
        balance_change_cents=line.net_cents,
        months=line.months,
    )


def message_document(invoice: Invoice) -> Document | None:
    """The recorded-message option of a sign-up, debited from the balance at the price shown."""
    line = next((line for line in invoice.lines if line.kind == "message"), None)
    if line is None:
        return None
    return Document(
        kind=DocumentKind.MESSAGE,
        item=line.item,
        description=f"Recorded message ({line.item.upper()})",
        net_cents=line.net_cents,
        vat_cents=0,
        gross_cents=line.net_cents,
        paid_from="balance",
        balance_change_cents=-line.net_cents,
    )
