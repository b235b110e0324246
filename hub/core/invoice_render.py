"""An invoice for people as an HTML fragment (Jinja2, autoescaped), in PT or EN; the labels it shares with the PDF.

The HTML, like the PDF (`hub.core.invoice_pdf`), shows the stored invoice alone (seller and
buyer as they were when it was issued), so an invoice renders the same for as long as it is kept.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from hub.core.invoices import Invoice
from hub.core.seller import format_iban
from hub.core.tariff import format_eur

LISBON = ZoneInfo("Europe/Lisbon")

LABELS: dict[str, dict[str, str]] = {
    "pt": {
        "invoice": "Fatura",
        "nif": "NIF",
        "issued": "Data de emissão",
        "due": "Pagar até",
        "buyer": "Cliente",
        "description": "Descrição",
        "net": "Valor líquido",
        "vat": "IVA",
        "amount": "Valor",
        "total_net": "Total líquido",
        "total": "Total a pagar",
        "from_balance": "Debitado do saldo pré-pago na ativação (não acresce ao total)",
        "pay_by_transfer": "Pague por transferência bancária indicando a referência:",
        "reference": "Referência",
        "beneficiary": "Beneficiário",
        "paid_on": "Paga em",
        "status_issued": "Por pagar",
        "status_paid": "Paga",
        "status_cancelled": "Anulada",
        "method_transfer": "transferência bancária",
        "method_card": "cartão",
        "page": "Página",
    },
    "en": {
        "invoice": "Invoice",
        "nif": "VAT no.",
        "issued": "Issue date",
        "due": "Pay by",
        "buyer": "Customer",
        "description": "Description",
        "net": "Net",
        "vat": "VAT",
        "amount": "Amount",
        "total_net": "Total net",
        "total": "Total due",
        "from_balance": "Debited from the prepaid balance at activation (not added to the total)",
        "pay_by_transfer": "Pay by bank transfer quoting the reference:",
        "reference": "Reference",
        "beneficiary": "Beneficiary",
        "paid_on": "Paid on",
        "status_issued": "Unpaid",
        "status_paid": "Paid",
        "status_cancelled": "Cancelled",
        "method_transfer": "bank transfer",
        "method_card": "card",
        "page": "Page",
    },
}

_environment = Environment(
    loader=PackageLoader("hub.core", "templates"),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
)


def labels_for(lang: str) -> dict[str, str]:
    """The invoice's labels in `lang` ("pt" or "en"); ValueError for another language."""
    if lang not in LABELS:
        raise ValueError(f"unsupported language {lang!r}: expected 'pt' or 'en'")
    return LABELS[lang]


def lisbon_day(moment: datetime | None) -> str:
    """The Lisbon calendar date of `moment`, "YYYY-MM-DD" ("" for None)."""
    return "" if moment is None else moment.astimezone(LISBON).date().isoformat()


def method_label(invoice: Invoice, labels: dict[str, str]) -> str:
    """How the invoice was (or is to be) paid, for people; a plugin's own method name as it is."""
    method = invoice.paid_method or invoice.method
    return labels.get(f"method_{method}", method)


def render_html(invoice: Invoice, lang: str) -> Markup:
    """The invoice as an HTML fragment (an `<article class="invoice">`) in `lang`."""
    labels = labels_for(lang)
    html = _environment.get_template("invoice.html").render(
        invoice=invoice,
        lang=lang,
        l=labels,
        method=method_label(invoice, labels),
        eur=lambda cents: format_eur(int(cents), lang),
        issued=lisbon_day(invoice.issued_at),
        paid=lisbon_day(invoice.paid_at),
        iban=format_iban(str(invoice.seller.get("iban", ""))),
        paid_lines=[line for line in invoice.lines if line.paid_from == "payment"],
        balance_lines=[line for line in invoice.lines if line.paid_from == "balance"],
    )
    return Markup(html)
