"""The portal's Campaigns page in a real browser (Debian's chromium): a refused file, then an accepted one."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from hub.web.app import create_app
from hub.web.context import WebContext

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
LISBON = ZoneInfo("Europe/Lisbon")

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)"
)
sync_api = pytest.importorskip("playwright.sync_api", reason="needs the playwright Python package")


@pytest.fixture
def server(web_context: WebContext) -> Iterator[str]:
    """The application served by uvicorn on 127.0.0.1; its base URL."""
    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    uv = uvicorn.Server(uvicorn.Config(create_app(web_context), log_level="warning", lifespan="off"))
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_until_complete, args=(uv.serve(sockets=[sock]),), daemon=True)
    thread.start()
    while not uv.started:
        threading.Event().wait(0.02)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    uv.should_exit = True
    thread.join(timeout=10)
    sock.close()


def day(days: int) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).astimezone(LISBON).strftime("%Y-%m-%d")


def test_a_client_uploads_a_campaign_from_the_portal(server: str, tokens, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.csv"
    bad.write_text(f"name;number;appointment;language;channel\nRui Lopes;+351 99;{day(4)} 10:00;pt;phone\n")
    good = tmp_path / "marcacoes.csv"
    good.write_text(
        "name;number;appointment;language;channel\n"
        f"Maria Silva;912 345 678;{day(4)} 10:00;pt;phone\n"
        f"John Smith;936 000 111;{day(5)} 15:30;en;phone\n"
        f"Inês Costa;917 222 333;{day(5)} 16:00;pt;phone\n"
    )
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_context(locale="pt-PT", viewport={"width": 1200, "height": 900}).new_page()
        page.goto(f"{server}/login")
        page.fill("input[name=token]", tokens.acme)
        page.click("button[type=submit]")
        page.click("#nav-campaigns")
        page.fill("#campaign-name", "Consultas da próxima semana")
        page.fill(
            "#template-pt", "Olá {{ name }}, confirma a consulta a {{ appointment_date }} às {{ appointment_time }}?"
        )
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
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "portal-campaigns.png"), full_page=True)
        browser.close()
