"""SMS replies that name no message: STOP or PARAR opts the sender out, anything else is logged and ignored."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from campaign_setup import buy_contract, campaign_secrets, clients_yaml, lisbon, phone_file, sms_file, upload
from sqlalchemy import func, select

from hub.core import campaigns_admin, directory, ledger, optouts
from hub.core import store as t
from hub.core.campaigns_sms import send_due_sms
from hub.core.engine import Engine
from hub.core.models import CallEvent, EventKind
from hub.core.store import Store
from hub.plugins import Plugins
from hub.settings import Settings

PLUGINS = Plugins(only={"webhook", "sms", "email"})
SMS_URL = "http://127.0.0.1:9/v1/messages"
#: The first number of `sms_file` and `phone_file`, as the gateway reports the sender.
MARIA = "+351910000000"
BETA_SMS = (
    '{id: sms, kind: sms, settings: {url: "' + SMS_URL + '", '
    'token: {"$env": "CAMPAIGN_SMS_TOKEN"}, sender_id: BetaFisio}}'
)


@pytest.fixture
def hub(sqlite_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Store:
    """`acme` and `beta`, both under contract and both with an SMS destination."""
    campaign_secrets(monkeypatch)
    mail = '{id: mail, kind: email, settings: {to: ["beta@beta.example"], maildir: "/nonexistent/maildir"}}'
    text = clients_yaml(SMS_URL)
    assert mail in text
    directory.apply_file(sqlite_store, PLUGINS.registry, tmp_path / "clients.yaml", text=text.replace(mail, BETA_SMS))
    buy_contract(sqlite_store, PLUGINS, "acme")
    buy_contract(sqlite_store, PLUGINS, "beta")
    return sqlite_store


def texted(store: Store, client: str, at: str = "2026-03-02 10:00") -> dict[str, Any]:
    """`client` sends an SMS to Maria."""
    campaign = upload(store, PLUGINS, sms_file(1), client=client)
    assert send_due_sms(store, PLUGINS.registry, Settings(database_url=store.url), now=lisbon(at))["sent"] == 1
    return campaign


def reply(store: Store, text: str, sender: str | None = MARIA, gateway_id: str = "in_1") -> None:
    """A reply the gateway could not tie to a message, as the SMS plugin reports it."""
    event = CallEvent(
        source="campaigns",
        call_id=f"reply-{gateway_id}",
        kind=EventKind.SMS_DELIVERED,
        at=lisbon("2026-03-02 10:20"),
        caller=sender,
        raw={"reply": text},
    )
    Engine(store, PLUGINS.registry, Settings(database_url=store.url)).handle(event)


def opted_out(store: Store) -> list[tuple[str, str | None, str | None]]:
    with store.connect() as conn:
        return [(entry["number"], entry["client"], entry["reason"]) for entry in optouts.listing(conn)]


def statuses(store: Store, campaign: dict[str, Any]) -> list[str]:
    return [c["status"] for c in campaigns_admin.show_campaign(store, campaign["id"])["contact_list"]]


def test_a_stop_reply_opts_the_sender_out_of_the_client_that_texted_it(hub: Store) -> None:
    texted(hub, "acme")
    reply(hub, "STOP")
    assert opted_out(hub) == [(MARIA, "acme", "SMS reply STOP")]
    later = upload(hub, PLUGINS, sms_file(1, appointment="2026-03-27 10:30"), at="2026-03-02 11:00")
    assert statuses(hub, later) == ["opted_out"]


def test_a_client_that_only_phoned_the_number_may_still_call_it(hub: Store) -> None:
    texted(hub, "acme")
    phoned = upload(hub, PLUGINS, phone_file(1, appointment="2026-03-27 10:30"), client="beta")
    reply(hub, "parar")
    assert statuses(hub, phoned) == ["pending"]


def test_a_stop_reply_from_a_number_two_clients_texted_opts_it_out_of_every_client(hub: Store) -> None:
    texted(hub, "acme")
    texted(hub, "beta", at="2026-03-02 10:05")
    reply(hub, "Parar, obrigada")
    assert opted_out(hub) == [(MARIA, None, "SMS reply Parar, obrigada")]


def test_a_stop_reply_from_a_number_no_client_texted_opts_it_out_of_every_client(hub: Store) -> None:
    phoned = upload(hub, PLUGINS, phone_file(1, appointment="2026-03-27 10:30"), client="beta")
    reply(hub, "STOP")
    assert opted_out(hub) == [(MARIA, None, "SMS reply STOP")]
    assert statuses(hub, phoned) == ["opted_out"]


def test_a_reply_without_a_reference_makes_no_record_and_no_charge(hub: Store) -> None:
    texted(hub, "acme")
    reply(hub, "STOP")
    reply(hub, "Obrigada", gateway_id="in_2")
    with hub.connect() as conn:
        records = conn.execute(select(func.count()).select_from(t.records)).scalar_one()
        balance = ledger.lock_account(conn, "acme", for_update=False).balance_cents
    assert (records, balance) == (1, 15600 - 100)


def test_the_same_stop_reply_again_changes_nothing(hub: Store) -> None:
    texted(hub, "acme")
    reply(hub, "STOP")
    reply(hub, "STOP")
    assert opted_out(hub) == [(MARIA, "acme", "SMS reply STOP")]


def test_another_reply_is_logged_with_the_number_masked_and_ignored(
    hub: Store, caplog: pytest.LogCaptureFixture
) -> None:
    texted(hub, "acme")
    caplog.set_level(logging.INFO, logger="hub.core.outbound_events")
    reply(hub, "Obrigada, lá estarei")
    assert opted_out(hub) == []
    logged = " ".join(record.getMessage() for record in caplog.records if record.name == "hub.core.outbound_events")
    assert "SMS reply reply-in_1 from +3519******00 is no STOP or PARAR: ignored" in logged
    assert "910000000" not in logged


def test_a_stop_reply_from_a_sender_that_is_no_phone_number_is_ignored(hub: Store) -> None:
    texted(hub, "acme")
    reply(hub, "STOP", sender="ClinicaX")
    assert opted_out(hub) == []
