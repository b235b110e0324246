"""The card path in a real browser (Debian's chromium): sign-up form → Stripe checkout → paid → active."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from card_hub import FREE_DID, CardHub

from hub.core import invoices

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)"
)
sync_api = pytest.importorskip("playwright.sync_api", reason="needs the playwright Python package")


@pytest.fixture
def browser() -> Iterator[Any]:
    """Chromium driven by Playwright."""
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


def test_an_applicant_signs_up_pays_by_card_and_is_told_the_service_is_active(hub: CardHub, browser: Any) -> None:
    hub.fake.webhook_url = hub.webhook_url()
    page = browser.new_context(locale="en-GB", viewport={"width": 1000, "height": 800}).new_page()
    page.goto(f"{hub.url}/signup")
    page.fill("#f-company", "Padaria Lopes, Lda")
    page.fill("#f-nif", "513000003")
    page.fill("#f-contact_name", "Ana Lopes")
    page.fill("#f-email", "ana@padaria.example")
    page.fill("#f-phone", "912 345 678")
    page.check("input[name=plan][value='12m']")
    page.check("input[name=languages][value=pt]")
    page.check("input[name=message_option][value=none]")
    page.fill("#f-records_email", "registos@padaria.example")
    page.check("input[name=method][value=card]")
    page.click("#signup-submit")

    sync_api.expect(page.locator("#amount")).to_have_text("191,88 €")
    page.click("text=Pay 191,88 €")

    sync_api.expect(page.locator("h1")).to_have_text("Payment received")
    sync_api.expect(page.locator(".payment")).to_contain_text(FREE_DID)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "card-payment-received.png"), full_page=True)
    with hub.store.connect() as conn:
        (paid,) = invoices.listing(conn)
    assert (paid.status, paid.paid_method) == (invoices.PAID, "card")
    assert hub.fake.webhooks[-1].status == 200
