"""The card path in a real browser (Debian's chromium): sign-up form → Stripe checkout → paid → active."""

from __future__ import annotations

from typing import Any

import pytest
from card_hub import FREE_DID, CardHub
from web.chromium import NO_PLAYWRIGHT, needs_chromium, new_page, shot
from web.signup_form import fill_signup_form

from hub.core import invoices

pytestmark = needs_chromium
sync_api = pytest.importorskip("playwright.sync_api", reason=NO_PLAYWRIGHT)


def test_an_applicant_signs_up_pays_by_card_and_is_told_the_service_is_active(hub: CardHub, browser: Any) -> None:
    hub.fake.webhook_url = hub.webhook_url()
    page = new_page(browser, "en-GB", viewport={"width": 1000, "height": 800})
    page.goto(f"{hub.url}/signup")
    fill_signup_form(page, nif="513000003", language="pt", message_option="none")
    page.check("input[name=method][value=card]")
    page.click("#signup-submit")

    sync_api.expect(page.locator("#amount")).to_have_text("191,88 €")
    page.click("text=Pay 191,88 €")

    sync_api.expect(page.locator("h1")).to_have_text("Payment received")
    sync_api.expect(page.locator(".payment")).to_contain_text(FREE_DID)
    shot(page, "card-payment-received.png")
    with hub.store.connect() as conn:
        (paid,) = invoices.listing(conn)
    assert (paid.status, paid.paid_method) == (invoices.PAID, "card")
    assert hub.fake.webhooks[-1].status == 200
