"""An invoice renders as HTML and as a PDF that a PDF reader turns into a page with text on it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from billing_setup import SELLER
from PIL import Image
from sample_clients import lisbon

from hub.core import invoices
from hub.core.invoice_pdf import render_pdf
from hub.core.invoice_render import render_html
from hub.core.invoices import Invoice
from hub.core.store import Store
from hub.core.tariff import TariffConfig

PDFTOPPM = shutil.which("pdftoppm")
PDFTOTEXT = shutil.which("pdftotext")
needs_poppler = pytest.mark.skipif(
    PDFTOPPM is None or PDFTOTEXT is None, reason="needs pdftoppm and pdftotext (apt-get install poppler-utils)"
)


@pytest.fixture
def invoice(sqlite_store: Store) -> Invoice:
    with sqlite_store.begin() as conn:
        return invoices.issue(
            conn,
            kind="signup",
            client="padaria",
            plan="12m",
            message_option="pt",
            buyer={"name": "Padaria Lopes, Lda", "nif": "513000003", "email": "ana@padaria.example"},
            seller=SELLER,
            method="transfer",
            at=lisbon("2026-03-02 10:00"),
            tariff=TariffConfig(),
        )


def test_the_html_invoice_shows_seller_buyer_totals_and_how_to_pay(invoice: Invoice) -> None:
    html = str(render_html(invoice, "pt"))
    for expected in (
        "Fatura 2026/000001",
        "Recado Atendimento, Lda",
        "NIF 509999999",
        "Padaria Lopes, Lda",
        "156,00 €",
        "35,88 €",
        "191,88 €",
        "RC202600000116",
        "PT50 0002 0123 1234 5678 9015 4",
        "Pagar até: 2026-03-17",
    ):
        assert expected in html, expected


def test_the_html_invoice_shows_the_option_apart_from_the_total(invoice: Invoice) -> None:
    html = str(render_html(invoice, "en"))
    assert "Debited from the prepaid balance at activation" in html
    assert "Out-of-hours recorded message (PT)" in html
    assert "30.00" in html and "Total due" in html


def test_the_html_invoice_escapes_what_the_applicant_typed(sqlite_store: Store) -> None:
    with sqlite_store.begin() as conn:
        invoice = invoices.issue(
            conn,
            kind="signup",
            client="x",
            plan="6m",
            message_option="none",
            buyer={"name": "<script>alert(1)</script>", "nif": "513000003"},
            seller=SELLER,
            method="transfer",
            at=lisbon("2026-03-02 10:00"),
            tariff=TariffConfig(),
        )
    html = str(render_html(invoice, "pt"))
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_the_same_invoice_gives_the_same_pdf(invoice: Invoice) -> None:
    assert render_pdf(invoice, "pt") == render_pdf(invoice, "pt")


@needs_poppler
def test_the_pdf_invoice_renders_to_a_page_with_its_text(invoice: Invoice, tmp_path: Path) -> None:
    pdf = tmp_path / "fatura.pdf"
    pdf.write_bytes(render_pdf(invoice, "pt"))
    assert PDFTOPPM is not None and PDFTOTEXT is not None
    subprocess.run([PDFTOPPM, "-png", "-r", "50", str(pdf), str(tmp_path / "page")], check=True)
    [page] = sorted(tmp_path.glob("page*.png"))
    with Image.open(page) as image:
        grey = image.convert("L")
        dark = sum(grey.histogram()[:128])
    assert dark > 500  # text and rules, not a blank page
    text = subprocess.run([PDFTOTEXT, "-layout", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    for expected in ("Fatura 2026/000001", "Padaria Lopes, Lda", "191,88 €", "RC202600000116", "Por pagar"):
        assert expected in text, expected


@needs_poppler
def test_a_paid_invoice_says_when_and_how_it_was_paid(invoice: Invoice, tmp_path: Path) -> None:
    paid = invoice.model_copy(
        update={"status": "paid", "paid_at": lisbon("2026-03-05 12:00"), "paid_method": "transfer"}
    )
    pdf = tmp_path / "paga.pdf"
    pdf.write_bytes(render_pdf(paid, "en"))
    assert PDFTOTEXT is not None
    text = subprocess.run([PDFTOTEXT, str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    assert "Paid on 2026-03-05 (bank transfer)." in text
    assert "RC202600000116" not in text  # nothing left to pay
