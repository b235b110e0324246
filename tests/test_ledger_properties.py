"""Properties of the ledger under any sequence of purchases, calls and top-ups.

A hypothesis state machine plays random operations through the engine and the
purchase functions, and checks after each step that the balance is never
negative, that the statement sums to the balance, that holds are released,
and that replaying every event changes nothing.
"""

from __future__ import annotations

import contextlib
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from sample_clients import clients_yaml, lisbon

from hub.core import accounts, directory, ledger
from hub.core.engine import Engine
from hub.core.models import CallEvent, EventKind, WrapUp
from hub.core.store import Store
from hub.core.tariff import TariffConfig, document_for_message, document_for_plan, document_for_topup
from hub.plugins import Plugins
from hub.settings import Settings

PLUGINS = Plugins(only={"email"})
TARIFF = TariffConfig()


class LedgerMachine(RuleBasedStateMachine):
    """One client, a clock that only moves forward, and every way money moves."""

    def __init__(self) -> None:
        super().__init__()
        self.directory = tempfile.TemporaryDirectory()
        path = Path(self.directory.name)
        self.store = Store(f"sqlite:///{path / 'recado.db'}")
        directory.apply_file(self.store, PLUGINS.registry, path / "c.yaml", text=clients_yaml(path / "maildir"))
        self.engine = Engine(self.store, PLUGINS.registry, Settings(database_url=self.store.url))
        self.clock = lisbon("2026-03-02 09:00")
        self.events: list[CallEvent | WrapUp] = []
        self.calls = 0
        self.credited = 0

    def teardown(self) -> None:
        self.store.dispose()
        self.directory.cleanup()

    def _tick(self, seconds: int) -> None:
        self.clock += timedelta(seconds=seconds)

    def _play(self, item: CallEvent | WrapUp) -> None:
        self.events.append(item)
        if isinstance(item, WrapUp):
            self.engine.wrapup(item)
        else:
            self.engine.handle(item)

    @rule(plan=st.sampled_from(["12m", "6m"]))
    def buy_contract(self, plan: str) -> None:
        document = document_for_plan(plan)
        accounts.purchase(self.store, PLUGINS.registry, "acme", document, self.clock, TARIFF)
        self.credited += document.net_cents

    @rule(euros=st.sampled_from([20, 30, 50]))
    def top_up(self, euros: int) -> None:
        document = document_for_topup(euros)
        accounts.purchase(self.store, PLUGINS.registry, "acme", document, self.clock, TARIFF)
        self.credited += document.net_cents

    @rule(languages=st.sampled_from(["pt", "pt+en"]))
    def buy_message(self, languages: str) -> None:
        # Refused when the balance cannot pay it; the invariants check that nothing changed then.
        with contextlib.suppress(ledger.InsufficientBalance):
            accounts.purchase(self.store, PLUGINS.registry, "acme", document_for_message(languages), self.clock, TARIFF)

    @rule(
        answered=st.booleans(),
        wrapped=st.booleans(),
        talk=st.integers(min_value=1, max_value=900),
        gap=st.integers(min_value=1, max_value=4 * 3600),
    )
    def call(self, answered: bool, wrapped: bool, talk: int, gap: int) -> None:
        self._tick(gap)
        self.calls += 1
        call_id = f"c{self.calls}"
        self._play(
            CallEvent(
                call_id=call_id, kind=EventKind.OFFERED, at=self.clock, did="+351217000001", caller="+351912345678"
            )
        )
        if answered:
            self._play(
                CallEvent(call_id=call_id, kind=EventKind.ANSWERED, at=self.clock + timedelta(seconds=3), agent="ana")
            )
        self._play(CallEvent(call_id=call_id, kind=EventKind.ENDED, at=self.clock + timedelta(seconds=3 + talk)))
        if wrapped:
            self._play(WrapUp(call_id=call_id, agent="ana", answers={"name": "Rui"}))

    @rule(answered=st.booleans(), gap=st.integers(min_value=1, max_value=3600))
    def call_left_open(self, answered: bool, gap: int) -> None:
        """A call whose end never comes (a lost hangup): its hold must expire, not stay forever."""
        self._tick(gap)
        self.calls += 1
        call_id = f"c{self.calls}"
        self._play(
            CallEvent(
                call_id=call_id, kind=EventKind.OFFERED, at=self.clock, did="+351217000001", caller="+351912345678"
            )
        )
        if answered:
            self._play(
                CallEvent(call_id=call_id, kind=EventKind.ANSWERED, at=self.clock + timedelta(seconds=3), agent="ana")
            )

    @rule()
    def a_quiet_night(self) -> None:
        """Hours without events: calls left open expire when the clock moves past their due time."""
        self._tick(7 * 3600)
        self.engine.sweep(self.clock)

    @precondition(lambda self: self.events)
    @rule()
    def replay_everything(self) -> None:
        before = self._snapshot()
        for item in list(self.events):
            if isinstance(item, WrapUp):
                self.engine.wrapup(item)
            else:
                self.engine.handle(item)
        assert self._snapshot() == before

    def _snapshot(self) -> dict[str, Any]:
        with self.store.connect() as conn:
            return {
                "account": ledger.lock_account(conn, "acme", for_update=False),
                "statement": ledger.statement(conn, "acme"),
            }

    @invariant()
    def balance_is_never_negative(self) -> None:
        account = self._snapshot()["account"]
        assert account.balance_cents >= 0
        assert 0 <= account.held_cents <= account.balance_cents

    @invariant()
    def statement_sums_to_the_balance(self) -> None:
        snapshot = self._snapshot()
        entries = snapshot["statement"]
        assert sum(entry["amount_cents"] for entry in entries) == snapshot["account"].balance_cents
        if entries:
            assert entries[-1]["balance_after_cents"] == snapshot["account"].balance_cents

    @invariant()
    def holds_belong_to_open_calls_only(self) -> None:
        with self.store.connect() as conn:
            open_holds = conn.exec_driver_sql(
                "SELECT coalesce(sum(hold_cents), 0) FROM calls WHERE state IN ('offered', 'answered', 'ended')"
            ).scalar_one()
        assert self._snapshot()["account"].held_cents == int(open_holds)

    @invariant()
    def never_more_spent_than_credited(self) -> None:
        assert self._snapshot()["account"].balance_cents <= self.credited


LedgerMachine.TestCase.settings = settings(
    max_examples=25,
    stateful_step_count=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestLedgerProperties = LedgerMachine.TestCase
