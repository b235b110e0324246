"""The portal's Campaigns page in a real browser (Debian's chromium): a refused file, then an accepted one."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from web.chromium import NO_PLAYWRIGHT, logged_in, needs_chromium, shot
from web.live_server import live_server

from hub.web.app import create_app
from hub.web.context import WebContext

LISBON = ZoneInfo("Europe/Lisbon")

pytestmark = needs_chromium
pytest.importorskip("playwright.sync_api", reason=NO_PLAYWRIGHT)


@pytest.fixture
def server(web_context: WebContext) -> Iterator[str]:
    """The application served by uvicorn on 127.0.0.1; its base URL."""
    with live_server(create_app(web_context)) as url:
        yield url


def day(days: int) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).astimezone(LISBON).strftime("%Y-%m-%d")


def test_a_client_uploads_a_campaign_from_the_portal(server: str, browser, tokens, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.csv"
    bad.write_text(f"name;number;appointment;language;channel\nRui Lopes;+351 99;{day(4)} 10:00;pt;phone\n")
    good = tmp_path / "marcacoes.csv"
    good.write_text(
        "name;number;appointment;language;channel\n"
        f"Maria Silva;912 345 678;{day(4)} 10:00;pt;phone\n"
        f"John Smith;936 000 111;{day(5)} 15:30;en;phone\n"
        f"Inês Costa;917 222 333;{day(5)} 16:00;pt;phone\n"
    )
    page = logged_in(browser, server, tokens.acme, viewport={"width": 1200, "height": 900})
    page.click("#nav-campaigns")
    page.fill("#campaign-name", "Consultas da próxima semana")
    page.fill("#template-pt", "Olá {{ name }}, confirma a consulta a {{ appointment_date }} às {{ appointment_time }}?")
    page.fill("#template-en", "Hello {{ name }}, see you on {{ appointment_date }} at {{ appointment_time }}.")
    page.set_input_files("#campaign-file", str(bad))
    page.click("#campaign-upload")
    errors = page.locator("#upload-errors li").all_inner_texts()
    assert errors == ["line 2, number: '+351 99' is not a Portuguese fixed or mobile number"]
    assert page.input_value("#template-pt").startswith("Olá {{ name }}")
    page.set_input_files("#campaign-file", str(good))
    page.click("#campaign-upload")
    assert page.locator("#count-pending").inner_text() == "3"
    assert page.locator("#contacts tbody tr").count() == 3
    page.click("text=Campanhas")
    assert page.locator("#campaigns td.count-pending").first.inner_text() == "3"
    shot(page, "portal-campaigns.png")
