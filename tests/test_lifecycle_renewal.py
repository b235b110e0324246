"""Renewal: `recado accounts renew` keeps the numbers and the recorded message, and never charges it again."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from lifecycle_support import account, answered_call, apply, offer, statement, tick
from sample_clients import buy, lisbon

from hub.core import accounts, contracts
from hub.core.contract_state import ContractOver
from hub.core.engine import Engine
from hub.core.models import RouteAction
from hub.core.store import Store
from hub.core.tariff import TariffConfig, document_for_message
from hub.plugins import Plugins
from hub.settings import LifecycleSettings, Settings

RECADO = str(Path(sys.executable).with_name("recado"))
END = "2026-08-31 10:00"  # a 6-month contract bought on Monday 2 March 2026 at 10:00 ends then


@pytest.fixture
def store_with_contract(sqlite_store: Store, plugins: Plugins, tmp_path: Path) -> Store:
    """`acme` under a 6-month contract that ends on 31 August 2026, with the PT+EN recorded message."""
    apply(sqlite_store, plugins, tmp_path)
    buy(sqlite_store, plugins, "acme", "6m", "2026-03-02 10:00")
    message = document_for_message("pt+en")
    accounts.purchase(sqlite_store, plugins.registry, "acme", message, lisbon("2026-03-02 10:05"), TariffConfig())
    return sqlite_store


def _renew(store: Store, plugins: Plugins, at: str, plan: str = "12m", **lifecycle: int) -> dict[str, object]:
    settings = Settings(lifecycle=LifecycleSettings(**lifecycle))
    return contracts.renew(store, plugins.registry, "acme", plan, lisbon(at), settings)


def test_renewal_before_the_end_extends_the_contract_from_its_end(
    store_with_contract: Store, plugins: Plugins
) -> None:
    report = _renew(store_with_contract, plugins, "2026-08-20 09:00")
    assert account(store_with_contract, "acme").contract_ends_at == lisbon("2027-08-31 10:00")
    assert datetime.fromisoformat(str(report["previous_end"])) == lisbon(END)
    assert report["reactivated"] is False and report["forfeited_cents"] == 0


def test_renewal_before_the_end_keeps_the_balance(store_with_contract: Store, plugins: Plugins) -> None:
    _renew(store_with_contract, plugins, "2026-08-20 09:00")
    assert account(store_with_contract, "acme").balance_cents == 9600 - 4000 + 15600


def test_renewal_keeps_the_message_option_without_charging_it_again(
    store_with_contract: Store, plugins: Plugins
) -> None:
    report = _renew(store_with_contract, plugins, "2026-08-20 09:00")
    assert (report["recorded_message"], report["message_charged_cents"]) == ("pt+en", 0)
    kinds = [(entry["kind"], entry["amount_cents"]) for entry in statement(store_with_contract, "acme")]
    assert kinds == [("contract", 9600), ("message", -4000), ("contract", 15600)]
    with store_with_contract.connect() as conn:
        assert accounts.load_client(conn, "acme").recorded_message == "pt+en"


def test_renewal_after_the_end_keeps_the_did_and_the_recorded_message(
    store_with_contract: Store, plugins: Plugins
) -> None:
    tick(store_with_contract, plugins, lisbon(END))
    report = _renew(store_with_contract, plugins, "2026-09-10 09:00")
    assert report["dids"] == ["+351217000001"]
    engine = Engine(store_with_contract, plugins.registry, Settings(database_url=store_with_contract.url))
    assert offer(engine, "day", lisbon("2026-09-10 10:00")).action is RouteAction.ANSWER
    night = offer(engine, "night", lisbon("2026-09-10 22:00"))
    assert (night.action, night.message) == (RouteAction.PLAY_MESSAGE, "acme/after_hours_pt")
    assert [entry["kind"] for entry in statement(store_with_contract, "acme")].count("message") == 1


def test_renewal_within_the_grace_reactivates_an_ended_contract_from_the_renewal(
    store_with_contract: Store, plugins: Plugins
) -> None:
    tick(store_with_contract, plugins, lisbon(END))
    assert account(store_with_contract, "acme").contract_state == "ended"
    report = _renew(store_with_contract, plugins, "2026-09-10 09:00", plan="6m")
    after = account(store_with_contract, "acme")
    assert (after.contract_state, after.balance_cents) == ("active", 9600)
    assert after.contract_ends_at == lisbon("2027-03-11 09:00")
    assert report["reactivated"] is True


def test_renewal_after_the_end_before_the_expiry_job_forfeits_the_old_balance_first(
    store_with_contract: Store, plugins: Plugins
) -> None:
    report = _renew(store_with_contract, plugins, "2026-08-31 12:00")
    kinds = [(entry["kind"], entry["amount_cents"]) for entry in statement(store_with_contract, "acme")]
    assert kinds[-2:] == [("forfeit", -5600), ("contract", 15600)]
    assert report["forfeited_cents"] == 5600
    assert account(store_with_contract, "acme").balance_cents == 15600


def test_renewal_after_the_grace_is_refused(store_with_contract: Store, plugins: Plugins) -> None:
    tick(store_with_contract, plugins, lisbon(END))
    with pytest.raises(ContractOver, match=r"ended on 2026-08-31, more than 30 days ago .* new contract"):
        _renew(store_with_contract, plugins, "2026-10-01 09:00", renewal_grace_days=30)
    assert account(store_with_contract, "acme").contract_state == "ended"


def test_renewal_while_calls_of_the_old_contract_are_in_progress_is_refused(
    store_with_contract: Store, plugins: Plugins
) -> None:
    engine = Engine(store_with_contract, plugins.registry, Settings(database_url=store_with_contract.url))
    offer(engine, "last", lisbon(END) - timedelta(minutes=1))
    with pytest.raises(ContractOver, match="calls admitted before its end are still in progress"):
        _renew(store_with_contract, plugins, "2026-08-31 10:05")


def test_renewal_lifts_an_interruption(sqlite_store: Store, plugins: Plugins, tmp_path: Path) -> None:
    apply(sqlite_store, plugins, tmp_path)
    buy(sqlite_store, plugins, "acme", "6m", "2026-03-02 10:00")
    message = document_for_message("pt+en")
    accounts.purchase(sqlite_store, plugins.registry, "acme", message, lisbon("2026-03-02 10:05"), TariffConfig())
    engine = Engine(sqlite_store, plugins.registry, Settings(database_url=sqlite_store.url))
    at = lisbon("2026-03-03 09:00")
    while not account(sqlite_store, "acme").interrupted:
        answered_call(engine, f"c{at:%H%M%S}", at)
        at += timedelta(minutes=3)
    contracts.renew(sqlite_store, plugins.registry, "acme", "6m", lisbon("2026-03-04 09:00"), Settings())
    assert not account(sqlite_store, "acme").interrupted


def test_a_client_that_never_bought_a_contract_has_nothing_to_renew(
    sqlite_store: Store, plugins: Plugins, tmp_path: Path
) -> None:
    apply(sqlite_store, plugins, tmp_path)
    with pytest.raises(ContractOver, match="no contract to renew: buy one with `recado accounts buy beta"):
        contracts.renew(sqlite_store, plugins.registry, "beta", "12m", lisbon("2026-03-02 10:00"), Settings())


# -- the command line ------------------------------------------------------------


def _recado(store: Store, plugins: Plugins, *args: str) -> tuple[int, str]:
    """Run the installed `recado` command on the store's database: exit code and stdout + stderr."""
    env = {**os.environ, "RECADO_PLUGINS": "email", "COLUMNS": "200"}
    done = subprocess.run(
        [RECADO, "--db", store.url, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    return done.returncode, done.stdout + done.stderr


def test_recado_accounts_renew_prints_the_renewal_as_json(store_with_contract: Store, plugins: Plugins) -> None:
    code, output = _recado(
        store_with_contract, plugins, "accounts", "renew", "acme", "--plan", "12m", "--at", "2026-08-20T09:00", "--json"
    )
    assert code == 0, output
    report = json.loads(output)
    assert (report["plan"], report["recorded_message"], report["dids"]) == ("12m", "pt+en", ["+351217000001"])
    assert report["document"]["kind"] == "contract" and report["document"]["net_cents"] == 15600


def test_recado_accounts_renew_with_an_unknown_plan_exits_2(store_with_contract: Store, plugins: Plugins) -> None:
    code, output = _recado(store_with_contract, plugins, "accounts", "renew", "acme", "--plan", "3m")
    assert code == 2
    assert "--plan: unknown plan '3m'" in output


def test_recado_contracts_list_shows_end_days_left_state_and_balance(
    store_with_contract: Store, plugins: Plugins
) -> None:
    code, output = _recado(store_with_contract, plugins, "contracts", "list", "--at", "2026-08-21T09:00", "--json")
    assert code == 0, output
    rows = {row["client"]: row for row in json.loads(output)}
    acme, beta = rows["acme"], rows["beta"]
    assert (acme["plan"], acme["end_date"], acme["days_left"], acme["state"]) == ("6m", "2026-08-31", 10, "active")
    assert acme["balance_cents"] == 5600
    assert (beta["plan"], beta["end_date"], beta["state"]) == (None, None, "none")


def test_recado_contracts_list_ending_within_keeps_the_contracts_ending_soon(
    store_with_contract: Store, plugins: Plugins
) -> None:
    def ending_within(days: str) -> list[str]:
        at = ("--at", "2026-08-21T09:00", "--json")
        code, output = _recado(store_with_contract, plugins, "contracts", "list", "--ending-within", days, *at)
        assert code == 0, output
        return [row["client"] for row in json.loads(output)]

    assert ending_within("10") == ["acme"]
    assert ending_within("9") == []


def test_recado_contracts_list_shows_an_ended_contract_and_until_when_it_can_be_renewed(
    store_with_contract: Store, plugins: Plugins
) -> None:
    tick(store_with_contract, plugins, lisbon(END))
    code, output = _recado(store_with_contract, plugins, "contracts", "list", "--at", "2026-09-01T09:00", "--json")
    assert code == 0, output
    acme = next(row for row in json.loads(output) if row["client"] == "acme")
    assert (acme["state"], acme["days_left"], acme["balance_cents"]) == ("ended", -1, 0)
    assert acme["renewable_until"].startswith("2026-11-29")
