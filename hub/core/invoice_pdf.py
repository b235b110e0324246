"""An invoice as an A4 PDF (fpdf2), in PT or EN, with the same content as its HTML.

The PDF carries the issue time as its creation date: the same invoice gives the same bytes,
so a welcome email sent again carries the same attachment. fpdf2 is imported only by this
module, which the commands and pages load when they need a PDF.
"""

from __future__ import annotations

from typing import Any

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from hub.core.invoice_render import labels_for, lisbon_day, method_label
from hub.core.invoices import Invoice
from hub.core.seller import format_iban
from hub.core.tariff import format_eur


class _InvoicePdf(FPDF):
    def __init__(self, footer_text: str) -> None:
        super().__init__(format="A4", unit="mm")
        # Core fonts in Windows-1252 print "€" and Portuguese letters without embedding a font.
        self.core_fonts_encoding = "windows-1252"
        self._footer_text = footer_text

    def footer(self) -> None:
        self.set_y(-14)
        self.set_font("Helvetica", size=8)
        self.set_text_color(110, 110, 110)
        self.cell(0, 5, f"{self._footer_text} {self.page_no()}", align="C")


def render_pdf(invoice: Invoice, lang: str) -> bytes:
    """The invoice as an A4 PDF in `lang`."""
    labels = labels_for(lang)
    seller = invoice.seller
    pdf = _InvoicePdf(f"{seller.get('name', '')} · {labels['invoice']} {invoice.number} · {labels['page']}")
    pdf.set_creation_date(invoice.issued_at)
    pdf.set_title(f"{labels['invoice']} {invoice.number}")
    pdf.set_author(str(seller.get("name", "")))
    pdf.set_margins(18, 18, 18)
    pdf.set_auto_page_break(auto=True, margin=20)
    pdf.add_page()

    def eur(cents: int) -> str:
        return format_eur(cents, lang)

    def text(value: str, *, size: float = 10, bold: bool = False, height: float = 5, **options: Any) -> None:
        pdf.set_font("Helvetica", "B" if bold else "", size)
        pdf.multi_cell(0, height, value, new_x=XPos.LMARGIN, new_y=YPos.NEXT, **options)

    top = pdf.get_y()
    text(str(seller.get("name", "")), size=12, bold=True, height=6)
    text("\n".join([*str(seller.get("address", "")).splitlines(), f"{labels['nif']} {seller.get('nif', '')}"]))
    after_seller = pdf.get_y()
    pdf.set_xy(110, top)
    pdf.set_font("Helvetica", "B", 15)
    pdf.cell(82, 8, f"{labels['invoice']} {invoice.number}", align="R", new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_font("Helvetica", "", 10)
    pdf.cell(82, 5, f"{labels['issued']}: {lisbon_day(invoice.issued_at)}", align="R", new_x=XPos.LEFT, new_y=YPos.NEXT)
    if invoice.status == "issued":
        pdf.cell(82, 5, f"{labels['due']}: {invoice.due_on.isoformat()}", align="R", new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_font("Helvetica", "B", 10)
    pdf.cell(82, 5, labels["status_" + invoice.status], align="R", new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_xy(pdf.l_margin, max(after_seller, pdf.get_y()) + 8)

    buyer = invoice.buyer
    pdf.set_text_color(110, 110, 110)
    text(labels["buyer"], size=9)
    pdf.set_text_color(0, 0, 0)
    text(buyer.get("name", ""), bold=True)
    text("\n".join(part for part in [f"{labels['nif']} {buyer.get('nif', '')}", buyer.get("email", "")] if part))
    pdf.ln(6)

    widths = (94, 28, 18, 34)
    pdf.set_fill_color(228, 236, 238)
    pdf.set_font("Helvetica", "B", 9)
    for width, title, align in zip(
        widths, (labels["description"], labels["net"], labels["vat"], labels["amount"]), "LRRR", strict=True
    ):
        pdf.cell(width, 7, title, border="B", align=align, fill=True)
    pdf.ln(7)
    pdf.set_font("Helvetica", "", 10)
    for line in invoice.lines:
        if line.paid_from != "payment":
            continue
        values = (line.description[lang], eur(line.net_cents), f"{line.vat_percent} %", eur(line.net_cents))
        for width, value, align in zip(widths, values, "LRRR", strict=True):
            pdf.cell(width, 7, value, border="B", align=align)
        pdf.ln(7)
    totals = (
        (labels["total_net"], eur(invoice.net_cents), False),
        (f"{labels['vat']} {invoice.vat_percent} %", eur(invoice.vat_cents), False),
        (labels["total"], eur(invoice.gross_cents), True),
    )
    for title, amount, bold in totals:
        pdf.set_font("Helvetica", "B" if bold else "", 11 if bold else 10)
        pdf.cell(sum(widths[:3]), 7, title, align="R")
        pdf.cell(widths[3], 7, amount, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    balance_lines = [line for line in invoice.lines if line.paid_from == "balance"]
    if balance_lines:
        pdf.ln(4)
        pdf.set_text_color(110, 110, 110)
        text(labels["from_balance"], size=9)
        pdf.set_text_color(0, 0, 0)
        for line in balance_lines:
            pdf.set_font("Helvetica", "", 10)
            pdf.cell(sum(widths[:3]), 6, line.description[lang])
            pdf.cell(widths[3], 6, eur(line.net_cents), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    pdf.ln(8)
    if invoice.status == "paid":
        text(f"{labels['paid_on']} {lisbon_day(invoice.paid_at)} ({method_label(invoice, labels)}).", bold=True)
    elif invoice.status == "issued":
        text(labels["pay_by_transfer"], bold=True)
        rows = [
            (labels["reference"], invoice.payment_reference),
            ("IBAN", format_iban(str(seller.get("iban", "")))),
            ("BIC", str(seller.get("bic", ""))),
            (labels["beneficiary"], str(seller.get("beneficiary", ""))),
            (labels["amount"], eur(invoice.gross_cents)),
        ]
        for title, value in rows:
            if not value:
                continue
            pdf.set_font("Helvetica", "", 10)
            pdf.cell(32, 6, title)
            pdf.set_font("Helvetica", "B", 10)
            pdf.cell(0, 6, value, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return bytes(pdf.output())
