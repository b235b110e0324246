"""The console's Tasks panel in a real browser (Debian's chromium), over the demo desk.

It takes the screenshots docs/web.md shows: console-tasks.png and console-task-call.png.
"""

from __future__ import annotations

import pytest
from campaign_setup import TEMPLATES, contacts_csv, lisbon
from web import test_web_browser
from web.chromium import NO_PLAYWRIGHT, logged_in, needs_chromium, shot

from hub.core import campaigns_admin, outbound, records
from hub.core.hub import Hub
from hub.web.context import WebContext
from hub.web.desk import Desk

NOW = lisbon("2026-03-02 10:00")
#: The served application, as the other browser tests have it.
server = test_web_browser.server

pytestmark = needs_chromium
sync_api = pytest.importorskip("playwright.sync_api", reason=NO_PLAYWRIGHT)


@pytest.fixture
def clocked(web_context: WebContext) -> WebContext:
    """The console and its demo desk on 2 March 2026, 10:00 Lisbon, with a campaign of two calls to make."""
    web_context.extras["clock"] = lambda: NOW
    web_context.extras["desk"] = Desk(Hub(web_context.engine), clock=lambda: NOW)
    rows = [
        ("Maria Silva", "+351912345671", "2026-03-20 10:30", "pt", "phone"),
        ("James Smith", "+351912345673", "2026-03-23 15:00", "en", "phone"),
    ]
    campaigns_admin.create_campaign(
        web_context.store,
        web_context.plugins.registry,
        "acme",
        contacts_csv(rows),
        TEMPLATES,
        name="Lembretes de março",
        mode="agent",
        created_by="operator",
        now=lisbon("2026-03-02 08:00"),
    )
    return web_context


@pytest.fixture
def tasks_server(clocked: WebContext, server: str) -> str:
    """The application (started after the clock and the campaign are in place)."""
    return server


def test_the_agent_calls_the_next_task_and_records_it_confirmed(
    tasks_server: str, browser, tokens, clocked: WebContext
) -> None:
    agent = logged_in(browser, tasks_server, tokens.agent)
    tasks = agent.locator("#tasks")
    sync_api.expect(tasks).to_contain_text("Maria Silva")
    sync_api.expect(tasks).to_contain_text("20/03/2026 10:30")
    sync_api.expect(tasks).to_contain_text("Olá Maria Silva, lembramos a sua consulta na Clínica Acme")
    shot(agent, "console-tasks.png")
    agent.click("#call-next")
    sync_api.expect(agent.locator("#dial-state")).to_have_text("Em chamada")
    sync_api.expect(agent.locator("#task-script")).to_contain_text("Olá Maria Silva")
    agent.fill("#notes", "Confirma, chega 10 min antes")
    shot(agent, "console-task-call.png")
    agent.click("#outcome-confirmed")
    sync_api.expect(agent.locator(".flash")).to_have_text("Resultado registado.")
    sync_api.expect(agent.locator("#tasks")).not_to_contain_text("Maria Silva")
    with clocked.store.connect() as conn:
        contact = outbound.load(conn, 1)
        assert contact is not None
        record = records.get(conn, contact.record_id)
    assert record is not None
    assert (record.disposition.value, record.price_cents, record.notes) == (
        "confirmed",
        100,
        "Confirma, chega 10 min antes",
    )
