"""Sign-up end to end in a real browser (Debian's chromium): form → invoice → bank statement → active client.

The server runs on 127.0.0.1 with a delivery worker beside it, as `recado run` does; the
operator imports the statement with the real `recado` command; the welcome email reaches
a real SMTP server. The test takes the screenshots of docs/signup.md.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from billing_setup import SELLER
from mail_relay import MailRelay, mail_relay  # noqa: F401  (fixture)
from sample_clients import lisbon

from hub.core import did_pool, invoices
from hub.core.worker import Worker
from hub.plugins import Plugins
from hub.web.app import create_app
from hub.web.context import WebContext

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "docs" / "screenshots"
RECADO = str(Path(sys.executable).with_name("recado"))
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)"
)
sync_api = pytest.importorskip("playwright.sync_api", reason="needs the playwright Python package")


@pytest.fixture
def web_plugins() -> Plugins:
    return Plugins(only={"email", "webhook"})


@pytest.fixture
def server(web_context: WebContext, mail_relay: MailRelay) -> Iterator[str]:  # noqa: F811
    """The application with sign-up open and two numbers in the pool, served with a worker."""
    import uvicorn

    web_context.settings.billing = SELLER
    web_context.settings.delivery.poll_s = 0.2
    with web_context.store.begin() as conn:
        did_pool.add(conn, ["+351217000102", "+351217000101"], lisbon("2026-03-01 09:00"))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    uv = uvicorn.Server(uvicorn.Config(create_app(web_context), log_level="warning", lifespan="off"))
    loop = asyncio.new_event_loop()
    started = threading.Event()

    async def main() -> None:
        stop = asyncio.Event()
        worker = Worker(web_context.store, web_context.plugins.registry, web_context.settings, worker_id="browser")
        delivering = asyncio.create_task(worker.run(stop))
        serving = asyncio.create_task(uv.serve(sockets=[sock]))
        started.set()
        await serving
        stop.set()
        await delivering
        await worker.aclose()

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    started.wait()
    while not uv.started:
        threading.Event().wait(0.02)
    yield f"http://127.0.0.1:{port}"
    uv.should_exit = True
    thread.join(timeout=10)
    sock.close()


@pytest.fixture
def browser() -> Iterator[object]:
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=True)


def statement_paying(invoice: invoices.Invoice, path: Path) -> Path:
    """The example camt.053 of docs/examples, paying `invoice` instead of the first invoice of 2026."""
    text = (ROOT / "docs" / "examples" / "statement-camt053.xml").read_text(encoding="utf-8")
    reference = invoice.payment_reference
    spaced = f"{reference[:2]} {reference[2:6]} {reference[6:10]} {reference[10:]}"
    euros, cents = divmod(invoice.gross_cents, 100)
    text = text.replace("RC 2026 0000 0116", spaced).replace(">191.88<", f">{euros}.{cents:02d}<")
    path.write_text(text, encoding="utf-8")
    return path


def recado(db_url: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The operator's `recado` command against the server's database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECADO_")}
    env |= {"RECADO_PLUGINS": "email,webhook", "RECADO_SECRET_KEY": os.environ["RECADO_SECRET_KEY"], "COLUMNS": "200"}
    return subprocess.run(
        [RECADO, "--db", db_url, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def test_an_applicant_signs_up_pays_by_transfer_and_gets_a_number(
    server: str,
    browser,  # type: ignore[no-untyped-def]
    web_context: WebContext,
    mail_relay: MailRelay,  # noqa: F811
    tmp_path: Path,
) -> None:
    page = browser.new_context(locale="pt-PT", viewport={"width": 1000, "height": 800}).new_page()
    page.goto(f"{server}/signup")
    page.fill("#f-company", "Padaria Lopes, Lda")
    page.fill("#f-nif", "513000004")
    page.fill("#f-contact_name", "Ana Lopes")
    page.fill("#f-email", "ana@padaria.example")
    page.fill("#f-phone", "912 345 678")
    page.check("input[name=plan][value='12m']")
    page.check("input[name=languages][value='en']")
    page.check("input[name=message_option][value='pt']")
    page.fill("#f-records_email", "registos@padaria.example")
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

    imported = recado(
        web_context.store.url, "payments", "import", str(statement_paying(invoice, tmp_path / "bank.xml")), cwd=tmp_path
    )
    assert imported.returncode == 0, imported.stderr
    assert "1 matched, 1 unmatched, 1 ignored" in imported.stdout

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
    page = browser.new_context(locale="en-GB", viewport={"width": 1000, "height": 700}).new_page()
    page.goto(f"{server}/login")
    page.fill("input[name=token]", tokens.acme)
    page.click("button[type=submit]")
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
