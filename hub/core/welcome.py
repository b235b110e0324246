"""The emails of a paid invoice: the welcome of a new client (with its number) and a renewal's confirmation.

Both go to the client's contact through `hub.core.notices.mail_client`, in Portuguese and
English, with the paid invoice attached as PDF, and are keyed by the invoice number: a
second activation attempt of the same invoice queues nothing.
"""

from __future__ import annotations

import base64
from datetime import datetime
from zoneinfo import ZoneInfo

import phonenumbers
from sqlalchemy.engine import Connection

from hub.core import notices
from hub.core.calendar_words import format_date
from hub.core.clients import Client
from hub.core.invoices import Invoice
from hub.core.tariff import format_eur

LISBON = ZoneInfo("Europe/Lisbon")
_OPTION = {
    "pt": {
        "none": "sem mensagem gravada",
        "pt": "mensagem gravada em português",
        "pt+en": "mensagem gravada em português e inglês",
    },
    "en": {
        "none": "no recorded message",
        "pt": "recorded message in Portuguese",
        "pt+en": "recorded message in Portuguese and English",
    },
}


def format_number(did: str) -> str:
    """A number for people: "+351 21 700 0001"."""
    try:
        parsed = phonenumbers.parse(did, "PT")
    except phonenumbers.NumberParseException:
        return did
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def invoice_attachment(invoice: Invoice, lang: str = "pt") -> dict[str, str]:
    """The invoice's PDF as an email attachment."""
    # Imported here: the PDF library is slow to load and most commands never write a PDF.
    from hub.core.invoice_pdf import render_pdf

    return {
        "filename": f"fatura-{invoice.number.replace('/', '-')}.pdf",
        "content_type": "application/pdf",
        "content_b64": base64.b64encode(render_pdf(invoice, lang)).decode("ascii"),
    }


def _months(invoice: Invoice) -> int:
    return next((line.months or 0 for line in invoice.lines if line.kind == "contract"), 0)


def send_welcome(
    conn: Connection,
    client: Client,
    invoice: Invoice,
    *,
    did: str,
    contract_ends_at: datetime,
    balance_cents: int,
    at: datetime,
) -> int:
    """Queue the welcome email of a newly active client: its number, plan, contract end and balance."""
    number = format_number(did)
    months = _months(invoice)
    option = client.recorded_message
    end = contract_ends_at.astimezone(LISBON).date()
    body = {
        "pt": (
            f"Bem-vindo, {client.name}!\n\n"
            f"O pagamento da fatura {invoice.number} foi recebido e o serviço de atendimento está ativo.\n\n"
            f"O seu número de atendimento é {number}. Reencaminhe para ele as chamadas que quer que "
            f"atendamos em seu nome.\n\n"
            f"Plano: contrato pré-pago de {months} meses, até {format_date(end, 'pt')}.\n"
            f"Saldo disponível: {format_eur(balance_cents, 'pt')}.\n"
            f"Fora de horas: {_OPTION['pt'].get(option, option)}.\n\n"
            f"A fatura paga segue em anexo."
        ),
        "en": (
            f"Welcome, {client.name}!\n\n"
            f"The payment of invoice {invoice.number} was received and the answering service is active.\n\n"
            f"Your answering number is {number}. Forward to it the calls you want us to answer in "
            f"your name.\n\n"
            f"Plan: prepaid contract of {months} months, until {format_date(end, 'en')}.\n"
            f"Available balance: {format_eur(balance_cents, 'en')}.\n"
            f"Out of hours: {_OPTION['en'].get(option, option)}.\n\n"
            f"The paid invoice is attached."
        ),
    }
    return notices.mail_client(
        conn,
        client,
        kind="welcome",
        key=f"welcome:{invoice.number}",
        at=at,
        subject={
            "pt": f"Bem-vindo: o seu número de atendimento é {number}",
            "en": f"Welcome: your answering number is {number}",
        },
        body=body,
        attachments=[invoice_attachment(invoice)],
    )


def send_renewed(
    conn: Connection,
    client: Client,
    invoice: Invoice,
    *,
    contract_ends_at: datetime,
    balance_cents: int,
    at: datetime,
) -> int:
    """Queue the confirmation of a renewal paid online: the new contract end and the balance."""
    numbers = ", ".join(format_number(did) for did in client.dids)
    end = contract_ends_at.astimezone(LISBON).date()
    body = {
        "pt": (
            f"O pagamento da fatura {invoice.number} foi recebido e o contrato de {client.name} foi renovado "
            f"até {format_date(end, 'pt')}.\n\nO número {numbers} e a mensagem gravada mantêm-se, sem custo.\n"
            f"Saldo disponível: {format_eur(balance_cents, 'pt')}.\n\nA fatura paga segue em anexo."
        ),
        "en": (
            f"The payment of invoice {invoice.number} was received and the contract of {client.name} is renewed "
            f"until {format_date(end, 'en')}.\n\nThe number {numbers} and the recorded message stay, at no cost.\n"
            f"Available balance: {format_eur(balance_cents, 'en')}.\n\nThe paid invoice is attached."
        ),
    }
    return notices.mail_client(
        conn,
        client,
        kind="renewed",
        key=f"renewed:{invoice.number}",
        at=at,
        subject={"pt": f"Contrato renovado: {client.name}", "en": f"Contract renewed: {client.name}"},
        body=body,
        attachments=[invoice_attachment(invoice)],
    )
