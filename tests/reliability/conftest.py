"""Fixtures of the reliability tests: a client whose records go to a local webhook receiver."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from recado_webhook.signing import new_secret
from recado_webhook.testing import WebhookReceiver

from hub.core import accounts, directory, outbox
from hub.core.engine import Engine
from hub.core.models import CallEvent, EventKind, WrapUp
from hub.core.store import Store
from hub.core.tariff import TariffConfig, document_for_plan
from hub.plugins import Plugins
from hub.settings import Settings

LISBON = ZoneInfo("Europe/Lisbon")
DID = "+351217000001"


@pytest.fixture(scope="session")
def webhook_plugins() -> Plugins:
    """The webhook and email sinks, as installed."""
    return Plugins(only={"webhook", "email"})


@pytest.fixture
def hook_secret(monkeypatch: pytest.MonkeyPatch) -> str:
    """The signing secret of the test destination, given to the hub through the environment."""
    secret = new_secret()
    monkeypatch.setenv("REL_HOOK_SECRET", secret)
    monkeypatch.setenv("RECADO_WEBHOOK_ALLOW_PRIVATE", "true")
    return secret


@pytest.fixture
def receiver(hook_secret: str) -> Iterator[WebhookReceiver]:
    """A receiver on 127.0.0.1 that verifies signatures and deduplicates by webhook-id."""
    with WebhookReceiver([hook_secret]) as started:
        yield started


def webhook_client(url: str, *, timeout: float = 5.0, extra_settings: str = "") -> str:
    """One client, `acme`, whose records go to the webhook at `url`."""
    return f"""
clients:
  - id: acme
    name: "Clínica Acme"
    nif: "509999999"
    dids: ["{DID}"]
    languages: [pt, en]
    script:
      version: 1
      fields: [{{name: name, label: {{pt: Nome, en: Name}}, type: text}}]
    destinations:
      - id: hook
        kind: webhook
        settings: {{url: "{url}", secret: {{"$env": "REL_HOOK_SECRET"}}, timeout: {timeout}{extra_settings}}}
"""


def setup_client(store: Store, plugins: Plugins, tmp_path: Path, text: str) -> None:
    """Apply `text` and buy `acme` a 12-month contract."""
    directory.apply_file(store, plugins.registry, tmp_path / "clients.yaml", text=text)
    at = datetime(2026, 3, 1, 8, 0, tzinfo=LISBON)
    accounts.purchase(store, plugins.registry, "acme", document_for_plan("12m"), at, TariffConfig())


def answer_calls(store: Store, plugins: Plugins, count: int, *, first: int = 0) -> list[str]:
    """`count` answered and wrapped-up calls of `acme` on 2 March 2026; their call ids."""
    engine = Engine(store, plugins.registry, Settings(database_url=store.url))
    ids = []
    for number in range(first, first + count):
        call_id = f"call-{number:05d}"
        at = datetime(2026, 3, 2, 9, 30, tzinfo=LISBON) + timedelta(minutes=number)
        engine.handle(CallEvent(call_id=call_id, kind=EventKind.OFFERED, at=at, did=DID, caller="+351912345678"))
        engine.handle(CallEvent(call_id=call_id, kind=EventKind.ANSWERED, at=at + timedelta(seconds=5), agent="ana"))
        engine.handle(CallEvent(call_id=call_id, kind=EventKind.ENDED, at=at + timedelta(seconds=50)))
        engine.wrapup(WrapUp(call_id=call_id, agent="ana", answers={"name": f"Caller {number}"}))
        ids.append(call_id)
    return ids


def outbox_rows(store: Store) -> list[dict[str, object]]:
    """Every outbox row, oldest first."""
    with store.connect() as conn:
        return outbox.list_rows(conn)


@pytest.fixture
def sqlite_hub(tmp_path: Path) -> Iterator[Store]:
    """An embedded SQLite store."""
    opened = Store(f"sqlite:///{tmp_path / 'recado.db'}")
    yield opened
    opened.dispose()


class Hub:
    """A store with the `acme` client, and what the tests do with it."""

    def __init__(self, store: Store, plugins: Plugins, tmp_path: Path) -> None:
        self.store = store
        self.plugins = plugins
        self.tmp_path = tmp_path

    def configure(self, url: str, *, timeout: float = 5.0, extra_settings: str = "", text: str | None = None) -> Hub:
        """Apply `acme` with a webhook destination at `url` (or `text`) and buy it a contract."""
        setup_client(
            self.store,
            self.plugins,
            self.tmp_path,
            text or webhook_client(url, timeout=timeout, extra_settings=extra_settings),
        )
        return self

    def calls(self, count: int, *, first: int = 0) -> list[str]:
        """Answer `count` calls; their records enter the outbox."""
        return answer_calls(self.store, self.plugins, count, first=first)

    def rows(self) -> list[dict[str, object]]:
        """The outbox."""
        return outbox_rows(self.store)

    def statuses(self) -> list[object]:
        """The status of each outbox row."""
        return [row["status"] for row in self.rows()]


@pytest.fixture
def hub(sqlite_hub: Store, webhook_plugins: Plugins, tmp_path: Path) -> Hub:
    """A hub on SQLite, not configured yet."""
    return Hub(sqlite_hub, webhook_plugins, tmp_path)


@pytest.fixture
def make_hub(webhook_plugins: Plugins, tmp_path: Path) -> Callable[[Store], Hub]:
    """Wrap another store (PostgreSQL) as a `Hub`."""
    return lambda store: Hub(store, webhook_plugins, tmp_path)
