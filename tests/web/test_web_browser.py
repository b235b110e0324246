"""The pages in a real browser (Debian's chromium): the agent console, the client portal, the dashboard.

The server runs on 127.0.0.1 with a delivery worker beside it, as `recado run`
does; the tests take the screenshots kept in docs/screenshots/.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import update
from web.chromium import NO_PLAYWRIGHT, logged_in, needs_chromium, shot
from web.live_server import delivering, live_server

from hub.core import store as t
from hub.web.app import create_app
from hub.web.context import WebContext

pytestmark = needs_chromium
sync_api = pytest.importorskip("playwright.sync_api", reason=NO_PLAYWRIGHT)


@pytest.fixture
def server(web_context: WebContext) -> Iterator[str]:
    """The application served on 127.0.0.1 with a worker delivering the outbox; its base URL."""
    web_context.settings.delivery.poll_s = 0.2
    with live_server(create_app(web_context), worker=delivering(web_context)) as url:
        yield url


def test_an_answered_call_reaches_the_clients_portal_with_its_delivery(server: str, browser, tokens) -> None:
    agent = logged_in(browser, server, tokens.agent)
    agent.click("#state-available")
    sync_api.expect(agent.locator("#agent-state")).to_have_text("Disponível")
    response = httpx.post(
        f"{server}/api/v1/console/calls",
        json={"client": "acme", "caller": "+351912345678"},
        headers={"Authorization": f"Bearer {tokens.operator}"},
    )
    assert response.json()["action"] == "answer"
    sync_api.expect(agent.locator("#answer-button")).to_be_visible()
    sync_api.expect(agent.locator("#greeting")).to_contain_text("Clínica Acme, bom dia.")
    shot(agent, "console-incoming-call.png")
    agent.click("#answer-button")
    agent.fill("#f_name", "Inês Araújo")
    agent.click("text=booking")
    shot(agent, "console-script-form.png")
    agent.click("#submit-button")
    sync_api.expect(agent.locator(".flash")).to_be_visible()

    client = logged_in(browser, server, tokens.acme)
    client.goto(f"{server}/portal/acme/records")
    client.locator("tr", has_text="Inês Araújo").locator("a").first.click()
    status = client.locator("#deliveries .delivery-status").first
    for _ in range(50):
        if status.inner_text() == "delivered":
            break
        client.wait_for_timeout(200)
        client.reload()
    sync_api.expect(status).to_have_text("delivered")
    shot(client, "portal-record-deliveries.png")
    client.goto(f"{server}/portal/acme")
    shot(client, "portal-overview.png")


def test_a_client_previews_a_mapping_and_sends_a_test_record(
    server: str, browser, tokens, call_answered, tmp_path: Path
) -> None:
    call_answered("acme", "a1", name="Maria Simões")
    page = logged_in(browser, server, tokens.acme, language="en-GB")
    page.goto(f"{server}/portal/acme/destinations/mail")
    page.fill("#mapping", 'subject: "Call from {{ answers.name }}"')
    page.click("#preview-button")
    sync_api.expect(page.locator("#preview")).to_contain_text("Call from Maria Simões")
    page.fill("#settings", f"to: [test@acme.example]\nmaildir: {tmp_path / 'maildir'}")
    page.click("#test-button")
    sync_api.expect(page.locator("#test-result")).to_contain_text("delivered")
    shot(page, "portal-destination-preview.png")


def test_the_operator_tops_up_an_interrupted_client(server: str, browser, tokens, web_context: WebContext) -> None:
    with web_context.store.begin() as conn:
        conn.execute(update(t.accounts).where(t.accounts.c.client == "beta").values(interrupted=True))
    page = logged_in(browser, server, tokens.operator, language="en-GB")
    row = page.locator('#attention tr[data-client="beta"]')
    sync_api.expect(row).to_contain_text("Service interrupted")
    shot(page, "dashboard.png")
    row.locator("button", has_text="+20").click()
    sync_api.expect(page.locator('#attention tr[data-client="beta"]')).to_have_count(0)
