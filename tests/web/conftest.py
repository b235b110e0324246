"""Fixtures of the web tests: a store with two clients, tokens of every role, the application."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from outbox_worker import run_worker_once
from sample_clients import buy, clients_yaml
from web.chromium import browser  # noqa: F401  (fixture)

from hub.core import directory
from hub.core.hours import HoursConfig, Weekday
from hub.core.models import CallEvent, EventKind, WrapUp, record_id_for
from hub.core.store import Store
from hub.plugins import Plugins
from hub.settings import Settings
from hub.web.app import build_context, create_app
from hub.web.context import WebContext
from hub.web.tokens import Role, create_token


@dataclass
class Tokens:
    """One token of each kind over the sample clients `acme` and `beta`."""

    operator: str
    acme: str
    beta: str
    agent: str


@pytest.fixture
def web_plugins() -> Plugins:
    """The built-in plugin (agent console) and the email sink."""
    return Plugins(only={"email"})


@pytest.fixture
def web_store(tmp_path: Path, web_plugins: Plugins) -> Iterator[Store]:
    """SQLite with the sample clients applied and `acme` under contract."""
    store = Store(f"sqlite:///{tmp_path / 'recado.db'}")
    maildir = tmp_path / "maildir"
    # Each destination gets a Maildir of its own: the two are delivered at the same time.
    text = clients_yaml(maildir).replace(
        f'["gerencia@acme.example"], maildir: "{maildir}"', f'["gerencia@acme.example"], maildir: "{maildir}-gerencia"'
    )
    assert f"{maildir}-gerencia" in text
    directory.apply_file(store, web_plugins.registry, tmp_path / "clients.yaml", text=text)
    buy(store, web_plugins, "acme")
    yield store
    store.dispose()


@pytest.fixture
def tokens(web_store: Store) -> Tokens:
    """Tokens of every role."""
    return Tokens(
        operator=create_token(web_store, Role.OPERATOR)[1],
        acme=create_token(web_store, Role.CLIENT, client="acme")[1],
        beta=create_token(web_store, Role.CLIENT, client="beta")[1],
        agent=create_token(web_store, Role.AGENT, agent="ana")[1],
    )


ALWAYS_OPEN = HoursConfig(
    windows={day: ["00:00-24:00"] for day in Weekday}, lisbon_holiday=False, national_holidays=False
)


@pytest.fixture
def web_context(web_store: Store, web_plugins: Plugins) -> WebContext:
    """The application's context over the sample store, open around the clock (calls use the wall clock)."""
    return build_context(web_store, web_plugins, Settings(database_url=web_store.url, hours=ALWAYS_OPEN))


def answered_call(context: WebContext, client: str = "acme", call_id: str = "c1", **answers: Any) -> str:
    """Put an answered call with a wrap-up through the engine; return its record id."""
    did = {"acme": "+351217000001", "beta": "+351217000002"}[client]
    start = datetime.now(UTC) - timedelta(minutes=5)
    engine = context.engine
    engine.handle(CallEvent(call_id=call_id, kind=EventKind.OFFERED, at=start, did=did, caller="+351912345678"))
    engine.handle(CallEvent(call_id=call_id, kind=EventKind.ANSWERED, at=start + timedelta(seconds=5), agent="ana"))
    engine.handle(CallEvent(call_id=call_id, kind=EventKind.ENDED, at=start + timedelta(seconds=90)))
    engine.wrapup(WrapUp(call_id=call_id, agent="ana", answers=answers or {"name": "Maria Simões"}))
    return record_id_for("ingest", call_id)


def deliver(context: WebContext) -> None:
    """Deliver everything due, as a worker would."""
    run_worker_once(context.store, context.plugins.registry, context.settings)


@pytest.fixture
def app(web_context: WebContext) -> FastAPI:
    """The whole web application."""
    return create_app(web_context)


@pytest.fixture
def http(app: FastAPI) -> Iterator[TestClient]:
    """A client of the application over HTTPS (session cookies are Secure)."""
    with TestClient(app, base_url="https://testserver") as client:
        yield client


@pytest.fixture
def call_answered(web_context: WebContext) -> Callable[..., str]:
    """`call_answered(client="acme", call_id="c1", **answers)`: an answered, wrapped-up call; its record id."""
    return partial(answered_call, web_context)


@pytest.fixture
def deliver_now(web_context: WebContext) -> Callable[[], None]:
    """Deliver the outbox once, as a worker would."""
    return partial(deliver, web_context)
