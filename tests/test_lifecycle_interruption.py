"""Interruption and resumption are mailed to the client's contact too, with how to top up."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from lifecycle_support import ACME_MAIL, account, answered_call, apply, mail_keys, offer
from mail_relay import MailRelay, mail_relay  # noqa: F401  (fixture)
from outbox_worker import deliver
from sample_clients import lisbon, topup

from hub.core.engine import Engine
from hub.core.store import Store
from hub.plugins import Plugins
from hub.settings import Settings


@pytest.fixture
def interrupted(sqlite_store: Store, plugins: Plugins, tmp_path: Path) -> Store:
    """`acme` topped up with 20 € and interrupted after 13 calls at 1.50 (0.50 left)."""
    apply(sqlite_store, plugins, tmp_path)
    topup(sqlite_store, plugins, "acme", 20, "2026-03-02 08:00")
    engine = Engine(sqlite_store, plugins.registry, Settings(database_url=sqlite_store.url))
    at = lisbon("2026-03-02 09:00")
    for number in range(13):
        answered_call(engine, f"c{number}", at + timedelta(minutes=3 * number))
    assert account(sqlite_store, "acme").interrupted
    return sqlite_store


def test_the_interruption_is_mailed_to_the_client_with_how_to_top_up(
    interrupted: Store, plugins: Plugins, mail_relay: MailRelay  # noqa: F811
) -> None:
    deliver(interrupted, plugins)
    [message] = mail_relay.to(ACME_MAIL)
    assert message["Subject"] == "Atendimento suspenso: Clínica Acme"
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "o atendimento está suspenso" in text
    assert "peça um carregamento de 20,00 €, 30,00 € ou 50,00 € (+ IVA)" in text


def test_the_resumption_after_a_top_up_is_mailed_to_the_client(
    interrupted: Store, plugins: Plugins, mail_relay: MailRelay  # noqa: F811
) -> None:
    topup(interrupted, plugins, "acme", 20, "2026-03-02 12:00")
    assert not account(interrupted, "acme").interrupted
    deliver(interrupted, plugins)
    subjects = [message["Subject"] for message in mail_relay.to(ACME_MAIL)]
    assert sorted(subjects) == ["Atendimento retomado: Clínica Acme", "Atendimento suspenso: Clínica Acme"]


def test_each_interruption_is_mailed_once(interrupted: Store, plugins: Plugins) -> None:
    engine = Engine(interrupted, plugins.registry, Settings(database_url=interrupted.url))
    for number in range(3):
        decision = offer(engine, f"refused{number}", lisbon("2026-03-02 11:00") + timedelta(minutes=number))
        assert decision.reason == "available balance 50 cents is below 150"
    assert [key.split(":")[0] for key in mail_keys(interrupted, "acme")] == ["service_interrupted"]
