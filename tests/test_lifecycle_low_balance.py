"""Low-balance warning: one email and one `balance_low` per dip below the level, re-armed after a top-up."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from lifecycle_support import (
    ACME_MAIL,
    BETA_MAIL,
    account,
    answered_call,
    apply,
    done,
    mail_keys,
    snapshot,
    statement,
    tick,
)
from mail_relay import MailRelay, mail_relay  # noqa: F401  (fixture)
from outbox_worker import deliver
from pydantic import ValidationError
from sample_clients import lisbon, topup
from sqlalchemy import func, select

from hub.core import store as t
from hub.core.clients import Client
from hub.core.engine import Engine
from hub.core.store import Store
from hub.plugins import Plugins
from hub.settings import LifecycleSettings, Settings

WARN = "balance.low_warning"


class Calls:
    """Answered calls of one client, three minutes apart from Monday 2 March 2026 09:00."""

    def __init__(self, engine: Engine, client: str) -> None:
        self.engine = engine
        self.client = client
        self.at = lisbon("2026-03-02 09:00")
        self.count = 0

    def make(self, number: int) -> datetime:
        """Put `number` more answered calls through; the time after the last one."""
        for _ in range(number):
            self.count += 1
            answered_call(self.engine, f"{self.client}{self.count}", self.at, self.client)
            self.at += timedelta(minutes=3)
        return self.at


@pytest.fixture
def funded(sqlite_store: Store, plugins: Plugins, tmp_path: Path) -> Store:
    """`acme` (hub's level) and `beta` (its own level of 3 calls), each topped up with 20 € (13 calls at 1.50)."""
    apply(sqlite_store, plugins, tmp_path, beta="low_balance_calls: 3")
    topup(sqlite_store, plugins, "acme", 20, "2026-03-02 08:00")
    topup(sqlite_store, plugins, "beta", 20, "2026-03-02 08:00")
    return sqlite_store


@pytest.fixture
def engine(funded: Store, plugins: Plugins) -> Engine:
    """The engine over the funded clients."""
    return Engine(funded, plugins.registry, Settings(database_url=funded.url))


def _warned(store: Store, client: str) -> list[str]:
    return [key for key in mail_keys(store, client) if key.startswith("low_balance:")]


def test_the_client_is_warned_once_when_fewer_than_10_calls_remain(
    funded: Store, plugins: Plugins, engine: Engine
) -> None:
    acme = Calls(engine, "acme")
    at = acme.make(3)  # 20.00 - 4.50 = 15.50: still 10 calls
    assert done(tick(funded, plugins, at, WARN)) == 0
    at = acme.make(1)  # 14.00: 9 calls
    assert done(tick(funded, plugins, at, WARN)) == 1
    at = acme.make(2)  # 11.00: 7 calls, the same dip
    assert done(tick(funded, plugins, at, WARN)) == 0
    assert len(_warned(funded, "acme")) == 1


def test_the_warning_is_keyed_by_the_ledger_entry_that_crossed_the_level(
    funded: Store, plugins: Plugins, engine: Engine
) -> None:
    at = Calls(engine, "acme").make(4)
    tick(funded, plugins, at, WARN)
    with funded.connect() as conn:
        last = conn.execute(select(func.max(t.ledger.c.id)).where(t.ledger.c.client == "acme")).scalar()
    assert _warned(funded, "acme") == [f"low_balance:acme:{last}"]


def test_a_top_up_re_arms_the_warning_for_the_next_dip(funded: Store, plugins: Plugins, engine: Engine) -> None:
    acme = Calls(engine, "acme")
    tick(funded, plugins, acme.make(4), WARN)  # 14.00: warned
    topup(funded, plugins, "acme", 20, "2026-03-02 12:00")  # 34.00: 22 calls, the dip is over
    assert done(tick(funded, plugins, lisbon("2026-03-02 12:01"), WARN)) == 0
    acme.at = lisbon("2026-03-02 14:00")
    at = acme.make(12)  # 16.00: 10 calls
    assert done(tick(funded, plugins, at, WARN)) == 0
    at = acme.make(1)  # 14.50: 9 calls, a new dip
    assert done(tick(funded, plugins, at, WARN)) == 1
    assert len(_warned(funded, "acme")) == 2


def test_a_clients_own_level_replaces_the_hubs(funded: Store, plugins: Plugins, engine: Engine) -> None:
    beta = Calls(engine, "beta")
    at = beta.make(10)  # 5.00: 3 calls, not fewer than beta's 3
    assert done(tick(funded, plugins, at, WARN)) == 0
    at = beta.make(1)  # 3.50: 2 calls
    assert done(tick(funded, plugins, at, WARN)) == 1
    assert len(_warned(funded, "beta")) == 1


def test_the_hubs_level_comes_from_the_lifecycle_settings(funded: Store, plugins: Plugins, engine: Engine) -> None:
    at = Calls(engine, "acme").make(1)  # 18.50: 12 calls
    settings = Settings(database_url=funded.url, lifecycle=LifecycleSettings(low_balance_calls=13))
    assert done(tick(funded, plugins, at, WARN, settings=settings)) == 1


def test_a_level_of_0_never_warns(sqlite_store: Store, plugins: Plugins, tmp_path: Path) -> None:
    apply(sqlite_store, plugins, tmp_path, acme="low_balance_calls: 0")
    topup(sqlite_store, plugins, "acme", 20, "2026-03-02 08:00")
    engine = Engine(sqlite_store, plugins.registry, Settings(database_url=sqlite_store.url))
    at = Calls(engine, "acme").make(12)
    assert done(tick(sqlite_store, plugins, at, WARN)) == 0


def test_the_balance_low_hook_hears_each_dip(funded: Store, plugins: Plugins, engine: Engine) -> None:
    heard: list[tuple[str, dict[str, Any]]] = []
    at = Calls(engine, "acme").make(4)
    tick(funded, plugins, at, WARN, notify=lambda hook, **kwargs: heard.append((hook, kwargs)))
    tick(funded, plugins, at + timedelta(minutes=1), WARN, notify=lambda hook, **kwargs: heard.append((hook, kwargs)))
    assert heard == [("balance_low", {"client": "acme", "balance_cents": 1400, "calls_left": 9})]


def test_the_warning_email_says_how_many_calls_remain_and_how_to_top_up(
    funded: Store, plugins: Plugins, engine: Engine, mail_relay: MailRelay  # noqa: F811
) -> None:
    tick(funded, plugins, Calls(engine, "acme").make(4), WARN)
    deliver(funded, plugins)
    [message] = mail_relay.to(ACME_MAIL)
    assert message["Subject"] == "Saldo baixo: Clínica Acme"
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "14,00 €, cobre apenas mais 9 chamadas ao preço atual (1,50 € por chamada)" in text
    assert "20,00 €, 30,00 € ou 50,00 € (+ IVA)" in text
    assert mail_relay.to(BETA_MAIL) == []


def test_an_interrupted_service_gets_no_low_balance_warning_on_top(
    funded: Store, plugins: Plugins, engine: Engine
) -> None:
    at = Calls(engine, "acme").make(13)  # 0.50 left: interrupted at the last call
    assert account(funded, "acme").interrupted
    assert done(tick(funded, plugins, at, WARN)) == 0
    assert [key.split(":")[0] for key in mail_keys(funded, "acme")] == ["service_interrupted"]


def test_a_client_that_never_paid_anything_is_not_warned(sqlite_store: Store, plugins: Plugins, tmp_path: Path) -> None:
    apply(sqlite_store, plugins, tmp_path)
    assert done(tick(sqlite_store, plugins, lisbon("2026-03-02 09:00"), WARN)) == 0
    assert statement(sqlite_store, "acme") == []


def test_running_the_warning_twice_at_the_same_time_changes_nothing(
    funded: Store, plugins: Plugins, engine: Engine
) -> None:
    at = Calls(engine, "acme").make(4)
    tick(funded, plugins, at)
    before = snapshot(funded)
    tick(funded, plugins, at)
    assert snapshot(funded) == before


@pytest.mark.parametrize("value", [-1, True, "many", 2.5])
def test_a_client_level_that_is_not_a_count_of_calls_is_refused(value: object) -> None:
    with pytest.raises(ValidationError, match="low_balance_calls"):
        Client.model_validate(
            {"id": "x", "name": "X", "nif": "509999999", "dids": ["+351217000001"], "low_balance_calls": value}
        )
