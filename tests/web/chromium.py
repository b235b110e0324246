"""Debian's chromium driven by Playwright: launching it, logging in, keeping screenshots for docs/.

Browser tests never download a browser: they use /usr/bin/chromium and skip, saying so,
when it (or the playwright package) is missing.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

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
NO_CHROMIUM = "needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)"
NO_PLAYWRIGHT = "needs the playwright Python package"

#: Mark of a module whose tests all drive chromium.
needs_chromium = pytest.mark.skipif(not CHROMIUM.exists(), reason=NO_CHROMIUM)


@pytest.fixture
def browser() -> Iterator[Any]:
    """Chromium launched headless by Playwright, closed after the test."""
    if not CHROMIUM.exists():
        pytest.skip(NO_CHROMIUM)
    sync_api = pytest.importorskip("playwright.sync_api", reason=NO_PLAYWRIGHT)
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


def new_page(browser: Any, language: str = "pt-PT", **options: Any) -> Any:
    """A page in a fresh browser context speaking `language` (a 1200×800 window unless `options` say otherwise)."""
    return browser.new_context(locale=language, **{"viewport": {"width": 1200, "height": 800}, **options}).new_page()


def logged_in(browser: Any, url: str, token: str, language: str = "pt-PT", **options: Any) -> Any:
    """A new page of the hub at `url`, logged in with `token`."""
    page = new_page(browser, language, **options)
    page.goto(f"{url}/login")
    page.fill("input[name=token]", token)
    page.click("button[type=submit]")
    return page


def shot(page: Any, name: str) -> None:
    """Keep the whole page as docs/screenshots/`name`."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=True)
