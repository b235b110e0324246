"""The pages in a real browser (Debian's chromium): the agent console, the client portal, the dashboard.

The server runs on 127.0.0.1 with a delivery worker beside it, as `recado run`
does; the tests take the screenshots kept in docs/screenshots/.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import update

from hub.core import store as t
from hub.core.worker import Worker
from hub.web.app import create_app
from hub.web.context import WebContext

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)"
)
sync_api = pytest.importorskip("playwright.sync_api", reason="needs the playwright Python package")


@dataclass
class Server:
    """The application served on 127.0.0.1 with a worker delivering the outbox."""

    url: str


@pytest.fixture
def server(web_context: WebContext) -> Iterator[Server]:
    import uvicorn

    web_context.settings.delivery.poll_s = 0.2
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    app = create_app(web_context)
    uv = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    started = threading.Event()

    async def main() -> None:
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
    yield Server(f"http://127.0.0.1:{port}")
    uv.should_exit = True
    thread.join(timeout=10)
    sock.close()


@pytest.fixture
def browser() -> Iterator[object]:
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


def logged_in(browser, server: Server, token: str, language: str = "pt-PT"):  # type: ignore[no-untyped-def]
    """A new browser page, logged in with `token`."""
    context = browser.new_context(locale=language, viewport={"width": 1200, "height": 800})
    page = context.new_page()
    page.goto(f"{server.url}/login")
    page.fill("input[name=token]", token)
    page.click("button[type=submit]")
    return page


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=True)


def test_an_answered_call_reaches_the_clients_portal_with_its_delivery(server: Server, browser, tokens) -> None:
    agent = logged_in(browser, server, tokens.agent)
    agent.click("#state-available")
    sync_api.expect(agent.locator("#agent-state")).to_have_text("Disponível")
    response = httpx.post(
        f"{server.url}/api/v1/console/calls",
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
    client.goto(f"{server.url}/portal/acme/records")
    client.locator("tr", has_text="Inês Araújo").locator("a").first.click()
    status = client.locator("#deliveries .delivery-status").first
    for _ in range(50):
        if status.inner_text() == "delivered":
            break
        client.wait_for_timeout(200)
        client.reload()
    sync_api.expect(status).to_have_text("delivered")
    shot(client, "portal-record-deliveries.png")
    client.goto(f"{server.url}/portal/acme")
    shot(client, "portal-overview.png")


def test_a_client_previews_a_mapping_and_sends_a_test_record(
    server: Server, browser, tokens, call_answered, tmp_path: Path
) -> None:
    call_answered("acme", "a1", name="Maria Simões")
    page = logged_in(browser, server, tokens.acme, language="en-GB")
    page.goto(f"{server.url}/portal/acme/destinations/mail")
    page.fill("#mapping", 'subject: "Call from {{ answers.name }}"')
    page.click("#preview-button")
    sync_api.expect(page.locator("#preview")).to_contain_text("Call from Maria Simões")
    page.fill("#settings", f"to: [test@acme.example]\nmaildir: {tmp_path / 'maildir'}")
    page.click("#test-button")
    sync_api.expect(page.locator("#test-result")).to_contain_text("delivered")
    shot(page, "portal-destination-preview.png")


def test_the_operator_tops_up_an_interrupted_client(server: Server, browser, tokens, web_context: WebContext) -> None:
    with web_context.store.begin() as conn:
        conn.execute(update(t.accounts).where(t.accounts.c.client == "beta").values(interrupted=True))
    page = logged_in(browser, server, tokens.operator, language="en-GB")
    row = page.locator('#attention tr[data-client="beta"]')
    sync_api.expect(row).to_contain_text("Service interrupted")
    shot(page, "dashboard.png")
    row.locator("button", has_text="+20").click()
    sync_api.expect(page.locator('#attention tr[data-client="beta"]')).to_have_count(0)
