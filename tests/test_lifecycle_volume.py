"""The `volume` tariff mode at work: graduated debits during the month, one credit after it ends."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from lifecycle_support import (
    ACME_MAIL,
    account,
    answered_calls,
    apply,
    done,
    mail_keys,
    snapshot,
    statement,
    tick,
)
from mail_relay import MailRelay, mail_relay  # noqa: F401  (fixture)
from outbox_worker import deliver
from sample_clients import buy, lisbon, topup

from hub.core.engine import Engine
from hub.core.store import Store
from hub.plugins import Plugins
from hub.settings import Settings

SETTLE = "tariff.volume_settlement"
VOLUME = "tariff: {negotiated_cents: 40, mode: volume}"


def _engine(store: Store, plugins: Plugins) -> Engine:
    return Engine(store, plugins.registry, Settings(database_url=store.url))


@pytest.fixture(scope="module")
def march_template(tmp_path_factory: pytest.TempPathFactory, plugins: Plugins) -> Path:
    """A database where `acme` is on the volume mode with 150 answered calls in March 2026.

    156 € contract + 50 € top-up; built once, copied for each test.
    """
    work = tmp_path_factory.mktemp("march")
    store = Store(f"sqlite:///{work / 'recado.db'}")
    try:
        apply(store, plugins, work, acme=VOLUME)
        buy(store, plugins, "acme", "12m", "2026-03-01 08:00")
        topup(store, plugins, "acme", 50, "2026-03-01 08:05")
        answered_calls(_engine(store, plugins), "acme", "2026-03-02 09:00", 150)
    finally:
        store.dispose()
    return work / "recado.db"


@pytest.fixture
def march(march_template: Path, tmp_path: Path) -> Iterator[Store]:
    """A copy of the March database of `march_template`."""
    shutil.copyfile(march_template, tmp_path / "recado.db")
    store = Store(f"sqlite:///{tmp_path / 'recado.db'}")
    yield store
    store.dispose()


def test_during_the_month_volume_calls_are_debited_at_the_graduated_prices(march: Store) -> None:
    calls = [entry["amount_cents"] for entry in statement(march, "acme") if entry["kind"] == "call"]
    assert len(calls) == 150
    assert -sum(calls) == 99 * 150 + 51 * 100 == 19950


def test_150_calls_are_credited_4950_at_the_first_run_after_the_month_ends(march: Store, plugins: Plugins) -> None:
    assert done(tick(march, plugins, lisbon("2026-03-31 23:59"), SETTLE)) == 0
    before = account(march, "acme").balance_cents
    assert done(tick(march, plugins, lisbon("2026-04-01 00:00"), SETTLE)) == 1
    credit = statement(march, "acme")[-1]
    assert (credit["kind"], credit["amount_cents"]) == ("volume_credit", 19950 - 150 * 100)
    assert credit["ref"] == "volume 2026-03: 150 calls at 100 cents"
    assert account(march, "acme").balance_cents == before + 4950 == 15600 + 5000 - 15000


def test_the_client_is_mailed_a_statement_line_of_the_month(
    march: Store, plugins: Plugins, mail_relay: MailRelay  # noqa: F811
) -> None:
    tick(march, plugins, lisbon("2026-04-01 00:00"), SETTLE)
    deliver(march, plugins)
    [message] = mail_relay.to(ACME_MAIL)
    assert message["Subject"] == "Extrato de 2026-03: Clínica Acme"
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "150 chamadas atendidas a 1,00 € cada = 150,00 €" in text
    assert "tabela por escalões: 199,50 €. Crédito no saldo: 49,50 €." in text


def test_settling_twice_changes_nothing(march: Store, plugins: Plugins) -> None:
    tick(march, plugins, lisbon("2026-04-01 00:00"))
    before = snapshot(march)
    tick(march, plugins, lisbon("2026-04-01 00:00"))
    assert done(tick(march, plugins, lisbon("2026-04-02 09:00"), SETTLE)) == 0
    assert snapshot(march) == before
    assert [key for key in mail_keys(march, "acme") if key.startswith("volume:")] == ["volume:acme:2026-03"]


def test_a_graduated_client_gets_no_settlement(sqlite_store: Store, plugins: Plugins, tmp_path: Path) -> None:
    apply(sqlite_store, plugins, tmp_path)
    buy(sqlite_store, plugins, "beta", "12m", "2026-03-01 08:00")
    answered_calls(_engine(sqlite_store, plugins), "beta", "2026-03-02 09:00", 101)
    assert done(tick(sqlite_store, plugins, lisbon("2026-04-01 09:00"), SETTLE)) == 0
    assert "volume_credit" not in [entry["kind"] for entry in statement(sqlite_store, "beta")]


def test_a_volume_month_within_the_first_tier_gets_a_statement_and_no_credit(
    sqlite_store: Store, plugins: Plugins, tmp_path: Path
) -> None:
    apply(sqlite_store, plugins, tmp_path, acme=VOLUME)
    buy(sqlite_store, plugins, "acme", "12m", "2026-03-01 08:00")
    answered_calls(_engine(sqlite_store, plugins), "acme", "2026-03-02 09:00", 5)
    assert done(tick(sqlite_store, plugins, lisbon("2026-04-01 09:00"), SETTLE)) == 1
    assert [entry["kind"] for entry in statement(sqlite_store, "acme")] == ["contract"] + ["call"] * 5
    assert [key for key in mail_keys(sqlite_store, "acme") if key.startswith("volume:")] == ["volume:acme:2026-03"]


def test_a_volume_credit_lifts_an_interruption(sqlite_store: Store, plugins: Plugins, tmp_path: Path) -> None:
    apply(sqlite_store, plugins, tmp_path, acme=VOLUME)
    buy(sqlite_store, plugins, "acme", "12m", "2026-03-01 08:00")
    engine = _engine(sqlite_store, plugins)
    answered_calls(engine, "acme", "2026-03-02 09:00", 104)  # 15600 - 99 × 150 - 5 × 100 = 250
    answered_calls(engine, "acme", "2026-03-05 09:00", 2)  # 50 left: less than the next call
    assert account(sqlite_store, "acme").interrupted
    tick(sqlite_store, plugins, lisbon("2026-04-01 00:00"), SETTLE)
    assert account(sqlite_store, "acme").balance_cents == 50 + 4950
    assert not account(sqlite_store, "acme").interrupted


def test_a_volume_contract_ending_mid_month_is_settled_before_the_forfeiture(
    sqlite_store: Store, plugins: Plugins, tmp_path: Path
) -> None:
    apply(sqlite_store, plugins, tmp_path, acme=VOLUME)
    buy(sqlite_store, plugins, "acme", "6m", "2026-03-02 10:00")  # ends on Monday 31 August 2026, 10:00
    topup(sqlite_store, plugins, "acme", 50, "2026-08-03 08:00")
    topup(sqlite_store, plugins, "acme", 50, "2026-08-03 08:01")
    answered_calls(_engine(sqlite_store, plugins), "acme", "2026-08-03 09:00", 101)
    end = lisbon("2026-08-31 10:00")
    tick(sqlite_store, plugins, end, SETTLE, "contracts.expire")
    *_, credit, forfeit = statement(sqlite_store, "acme")
    assert (credit["kind"], credit["amount_cents"]) == ("volume_credit", 99 * 150 + 2 * 100 - 101 * 100)
    left = 9600 + 2 * 5000 - (99 * 150 + 2 * 100) + 4950
    assert (forfeit["kind"], forfeit["amount_cents"], forfeit["balance_after_cents"]) == ("forfeit", -left, 0)
    assert done(tick(sqlite_store, plugins, end + timedelta(days=1), SETTLE)) == 0
