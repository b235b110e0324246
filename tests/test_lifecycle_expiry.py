"""Contract end: the remaining balance is forfeited by one ledger entry and the service stops."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from lifecycle_support import (
    ACME_MAIL,
    account,
    answered_call,
    apply,
    done,
    mail_keys,
    offer,
    snapshot,
    statement,
    tick,
)
from mail_relay import MailRelay, mail_relay  # noqa: F401  (fixture)
from outbox_worker import deliver
from sample_clients import buy, lisbon, topup

from hub.core import accounts
from hub.core.contract_state import ContractOver
from hub.core.engine import Engine
from hub.core.models import CallEvent, Disposition, EventKind, RouteAction, WrapUp
from hub.core.store import Store
from hub.core.tariff import TariffConfig, document_for_message
from hub.plugins import Plugins
from hub.settings import Settings

EXPIRE = "contracts.expire"
END = "2026-08-31 10:00"  # a Monday: a 6-month contract bought on 2 March 2026 at 10:00 ends then


@pytest.fixture
def engine(store: Store, plugins: Plugins, tmp_path: Path) -> Engine:
    """`acme` under a 6-month contract from Monday 2 March 2026 10:00, with two answered calls."""
    apply(store, plugins, tmp_path)
    buy(store, plugins, "acme", "6m", "2026-03-02 10:00")
    engine = Engine(store, plugins.registry, Settings(database_url=store.url))
    answered_call(engine, "c1", lisbon("2026-03-02 11:00"))
    answered_call(engine, "c2", lisbon("2026-03-02 11:10"))
    assert account(store, "acme").contract_ends_at == lisbon(END)
    return engine


def test_at_the_end_the_remaining_balance_is_forfeited_by_one_ledger_entry(
    engine: Engine, store: Store, plugins: Plugins
) -> None:
    remaining = account(store, "acme").balance_cents
    assert remaining == 9600 - 2 * 150
    assert done(tick(store, plugins, lisbon(END), EXPIRE)) == 1
    last = statement(store, "acme")[-1]
    assert (last["kind"], last["amount_cents"], last["balance_after_cents"]) == ("forfeit", -remaining, 0)
    assert last["ref"] == "contract ended 2026-08-31"
    assert account(store, "acme").contract_state == "ended"


def test_nothing_is_forfeited_before_the_end(engine: Engine, store: Store, plugins: Plugins) -> None:
    assert done(tick(store, plugins, lisbon(END) - timedelta(seconds=1), EXPIRE)) == 0
    assert [entry["kind"] for entry in statement(store, "acme")] == ["contract", "call", "call"]


def test_calls_after_the_end_are_refused_as_contract_ended(engine: Engine, store: Store, plugins: Plugins) -> None:
    tick(store, plugins, lisbon(END), EXPIRE)
    decision = offer(engine, "late", lisbon("2026-08-31 11:00"))
    assert decision.action is RouteAction.REFUSE
    assert decision.disposition is Disposition.REFUSED_NO_BALANCE
    assert decision.reason == "contract ended"


def test_calls_are_refused_from_the_end_on_even_before_the_job_runs(
    engine: Engine, store: Store, plugins: Plugins
) -> None:
    decision = offer(engine, "at-end", lisbon(END))
    assert (decision.action, decision.reason) == (RouteAction.REFUSE, "contract ended")
    assert account(store, "acme").balance_cents == 9300  # not forfeited yet: that is the job's


def test_out_of_hours_callers_hear_no_recorded_message_after_the_end(
    engine: Engine, store: Store, plugins: Plugins
) -> None:
    message = document_for_message("pt")
    accounts.purchase(store, plugins.registry, "acme", message, lisbon("2026-03-03 09:00"), TariffConfig())
    tick(store, plugins, lisbon(END), EXPIRE)
    decision = offer(engine, "night", lisbon("2026-08-31 22:00"))
    assert (decision.action, decision.message) == (RouteAction.REFUSE, "acme/unavailable_pt")


def test_an_ended_contract_is_not_reported_as_interrupted(engine: Engine, store: Store, plugins: Plugins) -> None:
    tick(store, plugins, lisbon(END), EXPIRE)
    offer(engine, "late", lisbon("2026-08-31 11:00"))
    assert not account(store, "acme").interrupted
    assert [key.split(":")[0] for key in mail_keys(store, "acme")] == ["contract_ended"]


def test_a_call_in_progress_at_the_end_is_paid_before_the_rest_is_forfeited(
    engine: Engine, store: Store, plugins: Plugins
) -> None:
    at = lisbon(END) - timedelta(minutes=1)
    offer(engine, "last", at)
    engine.handle(CallEvent(call_id="last", kind=EventKind.ANSWERED, at=at + timedelta(seconds=5), agent="ana"))
    assert done(tick(store, plugins, lisbon(END), EXPIRE)) == 1
    assert account(store, "acme").contract_state == "pending"
    assert statement(store, "acme")[-1]["kind"] == "call"
    assert done(tick(store, plugins, lisbon(END) + timedelta(minutes=1), EXPIRE)) == 0
    engine.handle(CallEvent(call_id="last", kind=EventKind.ENDED, at=at + timedelta(minutes=3)))
    engine.wrapup(WrapUp(call_id="last", agent="ana", answers={"name": "Rui"}))
    assert done(tick(store, plugins, lisbon(END) + timedelta(minutes=3), EXPIRE)) == 1
    *_, call, forfeit = statement(store, "acme")
    assert (call["kind"], call["amount_cents"], call["balance_after_cents"]) == ("call", -150, 9150)
    assert (forfeit["kind"], forfeit["amount_cents"], forfeit["balance_after_cents"]) == ("forfeit", -9150, 0)
    assert account(store, "acme").contract_state == "ended"


def test_the_client_is_mailed_the_end_and_what_was_forfeited(
    engine: Engine, store: Store, plugins: Plugins, mail_relay: MailRelay  # noqa: F811
) -> None:
    tick(store, plugins, lisbon(END), EXPIRE)
    deliver(store, plugins)
    [message] = mail_relay.to(ACME_MAIL)
    assert message["Subject"] == "O contrato de Clínica Acme terminou"
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "terminou a 31 de agosto de 2026" in text
    assert "O saldo restante, 93,00 €, foi anulado" in text
    assert "Pode renovar até 29 de novembro de 2026" in text  # 90 days of grace


def test_a_top_up_after_the_end_is_refused_and_points_to_renewal(
    engine: Engine, store: Store, plugins: Plugins
) -> None:
    tick(store, plugins, lisbon(END), EXPIRE)
    with pytest.raises(ContractOver, match=r"ended on 2026-08-31: renew it with `recado accounts renew acme"):
        topup(store, plugins, "acme", 20, "2026-09-01 09:00")
    assert account(store, "acme").balance_cents == 0


def test_a_client_without_a_contract_is_never_expired(store: Store, plugins: Plugins, tmp_path: Path) -> None:
    apply(store, plugins, tmp_path)
    topup(store, plugins, "beta", 20, "2026-03-02 09:00")
    assert done(tick(store, plugins, lisbon("2030-01-01 09:00"), EXPIRE)) == 0
    assert account(store, "beta").balance_cents == 2000


def test_running_every_job_twice_at_the_end_changes_nothing(engine: Engine, store: Store, plugins: Plugins) -> None:
    tick(store, plugins, lisbon(END))
    before = snapshot(store)
    tick(store, plugins, lisbon(END))
    assert snapshot(store) == before
    assert [entry["kind"] for entry in statement(store, "acme")].count("forfeit") == 1
