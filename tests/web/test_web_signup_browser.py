"""Sign-up end to end in a real browser (Debian's chromium): form → invoice → bank statement → active client.

The server runs on 127.0.0.1 with a delivery worker beside it, as `recado run` does; the
operator imports the statement with the real `recado` command; the welcome email reaches
a real SMTP server. The test takes the screenshots of docs/signup.md.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from billing_setup import SELLER
from mail_relay import MailRelay, mail_relay  # noqa: F401  (fixture)
from recado_cli import operator_env, recado
from sample_clients import lisbon
from web.chromium import NO_PLAYWRIGHT, SCREENSHOTS, logged_in, needs_chromium, new_page, shot
from web.live_server import delivering, live_server
from web.signup_form import fill_signup_form

from hub.core import did_pool, invoices
from hub.plugins import Plugins
from hub.web.app import create_app
from hub.web.context import WebContext

ROOT = Path(__file__).resolve().parents[2]

pytestmark = needs_chromium
sync_api = pytest.importorskip("playwright.sync_api", reason=NO_PLAYWRIGHT)


@pytest.fixture
def web_plugins() -> Plugins:
    return Plugins(only={"email", "webhook"})


@pytest.fixture
def server(web_context: WebContext, mail_relay: MailRelay) -> Iterator[str]:  # noqa: F811
    """The application with sign-up open and two numbers in the pool, served with a worker."""
    web_context.settings.billing = SELLER
    web_context.settings.delivery.poll_s = 0.2
    with web_context.store.begin() as conn:
        did_pool.add(conn, ["+351217000102", "+351217000101"], lisbon("2026-03-01 09:00"))
    with live_server(create_app(web_context), worker=delivering(web_context)) as url:
        yield url


def statement_paying(invoice: invoices.Invoice, path: Path) -> Path:
    """The example camt.053 of docs/examples, paying `invoice` instead of the first invoice of 2026."""
    text = (ROOT / "docs" / "examples" / "statement-camt053.xml").read_text(encoding="utf-8")
    reference = invoice.payment_reference
    spaced = f"{reference[:2]} {reference[2:6]} {reference[6:10]} {reference[10:]}"
    euros, cents = divmod(invoice.gross_cents, 100)
    text = text.replace("RC 2026 0000 0116", spaced).replace(">191.88<", f">{euros}.{cents:02d}<")
    path.write_text(text, encoding="utf-8")
    return path


def test_an_applicant_signs_up_pays_by_transfer_and_gets_a_number(
    server: str,
    browser,  # type: ignore[no-untyped-def]
    web_context: WebContext,
    mail_relay: MailRelay,  # noqa: F811
    tmp_path: Path,
) -> None:
    page = new_page(browser, "pt-PT", viewport={"width": 1000, "height": 800})
    page.goto(f"{server}/signup")
    fill_signup_form(page, nif="513000004", language="en", message_option="pt")
    page.click("#signup-submit")
    sync_api.expect(page.locator("#e-nif")).to_contain_text("dígito de controlo")
    shot(page, "signup.png")
    page.fill("#f-nif", "513000003")
    page.click("#signup-submit")

    sync_api.expect(page.locator("#invoice")).to_be_visible()
    sync_api.expect(page.locator("#invoice-total")).to_have_text("191,88 €")
    with web_context.store.connect() as conn:
        [invoice] = invoices.listing(conn)
    sync_api.expect(page.locator("#invoice-reference")).to_have_text(invoice.payment_reference)
    shot(page, "invoice.png")
    pdf = page.request.get(f"{server}/invoices/{invoice.public_token}.pdf")
    assert pdf.ok and pdf.body().startswith(b"%PDF")
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is not None:
        (tmp_path / "fatura.pdf").write_bytes(pdf.body())
        subprocess.run(
            [
                pdftoppm,
                "-png",
                "-r",
                "70",
                "-singlefile",
                str(tmp_path / "fatura.pdf"),
                str(SCREENSHOTS / "invoice-pdf"),
            ],
            check=True,
        )

    statement = str(statement_paying(invoice, tmp_path / "bank.xml"))
    env = operator_env(RECADO_PLUGINS="email,webhook", RECADO_SECRET_KEY=os.environ["RECADO_SECRET_KEY"])
    imported = recado("payments", "import", statement, db=web_context.store.url, cwd=tmp_path, env=env)
    assert imported.code == 0, imported.err
    assert "1 matched, 1 unmatched, 1 ignored" in imported.out

    page.reload()
    sync_api.expect(page.locator("#signup-state")).to_contain_text("+351 21 700 0101")
    sync_api.expect(page.locator("#invoice-status")).to_have_text("Paga")
    shot(page, "invoice-paid.png")
    for _ in range(100):
        if mail_relay.to("ana@padaria.example"):
            break
        page.wait_for_timeout(100)
    [welcome] = mail_relay.to("ana@padaria.example")
    assert "+351 21 700 0101" in str(welcome["Subject"])


def test_a_client_renews_from_the_portal_and_gets_the_invoice(
    server: str,
    browser,  # type: ignore[no-untyped-def]
    tokens,  # type: ignore[no-untyped-def]
    web_context: WebContext,
) -> None:
    page = logged_in(browser, server, tokens.acme, "en-GB", viewport={"width": 1000, "height": 700})
    page.click("#nav-invoices")
    sync_api.expect(page.locator("#invoices")).to_contain_text("No invoices yet.")
    page.select_option("select[name=plan]", "6m")
    page.click("#renew-button")
    sync_api.expect(page.locator("#invoice-total")).to_have_text("€118.08")
    sync_api.expect(page.locator("#signup-state")).to_contain_text("As soon as the payment is received")
    with web_context.store.connect() as conn:
        [invoice] = invoices.listing(conn, client="acme")
    assert (invoice.kind, invoice.plan, invoice.status) == ("renewal", "6m", "issued")
    page.goto(f"{server}/portal/acme/invoices")
    sync_api.expect(page.locator(f'#invoices tr[data-number="{invoice.number}"]')).to_contain_text("Unpaid")
    shot(page, "portal-invoices.png")
