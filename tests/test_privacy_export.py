"""Exports: everything of a client (secrets never shown), everything about a caller's number."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from outbox_worker import deliver
from privacy_setup import (
    BETA,
    CALLER,
    GAMMA_PASSWORD,
    NAME,
    OTHER,
    answered,
    apply,
    campaign,
    engine_for,
    gamma_smtp_password,  # noqa: F401  (autouse fixture)
    offered,
)
from sample_clients import buy, lisbon

from hub.core import blocklist, export, optouts
from hub.core import store as t
from hub.core.ledger import UnknownAccount
from hub.core.models import record_id_for
from hub.core.store import Store
from hub.plugins import Plugins

#: Sections of a client's export, in order: the documented shape.
CLIENT_SECTIONS = [
    "format",
    "generated_at",
    "client",
    "account",
    "ledger",
    "documents",
    "invoices",
    "payments",
    "signups",
    "month_counters",
    "records",
    "deliveries",
    "blocked_numbers",
    "campaigns",
    "contacts",
    "opt_outs",
    "privacy_log",
]
NUMBER_SECTIONS = [
    "format",
    "generated_at",
    "number",
    "records",
    "recipients",
    "calls_without_record",
    "contacts",
    "blocked_by",
    "opt_out",
]


@pytest.fixture
def world(store: Store, plugins: Plugins, tmp_path: Path) -> Store:
    """The caller called acme, beta and gamma; another caller called acme; acme's deliveries are done."""
    apply(store, plugins, tmp_path)
    buy(store, plugins, "acme")
    buy(store, plugins, "beta")
    buy(store, plugins, "gamma")
    engine = engine_for(store, plugins)
    answered(engine, "a1", lisbon("2026-03-02 10:00"), notes="quer marcar consulta")
    answered(engine, "a2", lisbon("2026-03-02 11:00"), caller=OTHER, name="Rui Faria")
    answered(engine, "b1", lisbon("2026-03-03 10:00"), did=BETA)
    answered(engine, "g1", lisbon("2026-03-04 10:00"), did="+351217000003")
    deliver(store, plugins)
    with store.begin() as conn:
        blocklist.block(conn, "beta", CALLER, note="chamadas repetidas")
        optouts.add(conn, CALLER, client="acme", reason="pediu")
    return store


def client_export(store: Store, client: str) -> dict[str, Any]:
    with store.connect() as conn:
        return export.export_client(conn, client)


def number_export(store: Store, number: str = CALLER) -> dict[str, Any]:
    with store.connect() as conn:
        return export.export_number(conn, number)


def ids(call_ids: list[str]) -> list[str]:
    return [record_id_for("ingest", call_id) for call_id in call_ids]


def test_a_client_export_has_the_documented_sections_in_order(world: Store) -> None:
    assert list(client_export(world, "acme")) == CLIENT_SECTIONS
    assert client_export(world, "acme")["format"] == "recado.export.client/1"


def test_a_client_export_holds_exactly_its_own_records(world: Store) -> None:
    document = client_export(world, "acme")
    assert [record["record_id"] for record in document["records"]] == ids(["a1", "a2"])


def test_a_client_export_holds_its_account_ledger_and_deliveries(world: Store) -> None:
    document = client_export(world, "acme")
    assert document["account"]["balance_cents"] == 15600 - 2 * 150
    assert [entry["amount_cents"] for entry in document["ledger"]] == [15600, -150, -150]
    assert {(item["record_id"], item["status"]) for item in document["deliveries"]} == {
        (record_id, "delivered") for record_id in ids(["a1", "a2"])
    }
    assert all("payload" not in item for item in document["deliveries"])


def test_a_client_export_shows_secrets_as_stars_and_never_their_value(world: Store) -> None:
    document = client_export(world, "gamma")
    text = json.dumps(document)
    assert document["client"]["config"]["destinations"][0]["settings"]["smtp"]["password"] == "***"
    assert GAMMA_PASSWORD not in text
    assert "$secret" not in text


def test_a_client_export_holds_its_blocks_campaigns_and_contacts(world: Store, plugins: Plugins) -> None:
    campaign(world, plugins, [("Ana Costa", "912000001", "2026-08-10 10:00")], at="2026-07-01 08:00")
    acme, beta = client_export(world, "acme"), client_export(world, "beta")
    assert [item["number"] for item in beta["blocked_numbers"]] == [CALLER]
    assert [item["name"] for item in acme["campaigns"]] == ["Lembretes"]
    assert [(item["name"], item["number"]) for item in acme["contacts"]] == [("Ana Costa", "+351912000001")]
    assert [item["number"] for item in acme["opt_outs"]] == [CALLER]
    assert beta["contacts"] == [] and beta["opt_outs"] == []


def test_exporting_an_unknown_client_is_refused(world: Store) -> None:
    with pytest.raises(UnknownAccount, match="nobody"):
        client_export(world, "nobody")


def test_a_number_export_has_the_documented_sections_in_order(world: Store) -> None:
    document = number_export(world)
    assert list(document) == NUMBER_SECTIONS
    assert (document["format"], document["number"]) == ("recado.export.number/1", CALLER)


def test_a_number_export_holds_that_callers_records_at_every_client_and_no_other(world: Store) -> None:
    document = number_export(world)
    assert [record["record_id"] for record in document["records"]] == ids(["a1", "b1", "g1"])
    assert {record["client_name"] for record in document["records"]} == {"Clínica Acme", "Beta Lda", "Gama Seguros"}
    assert document["records"][0]["answers"] == {"name": NAME}
    assert document["records"][0]["notes"] == "quer marcar consulta"


def test_a_number_export_leaves_out_the_clients_prices_balance_and_agent(world: Store) -> None:
    for record in number_export(world)["records"]:
        assert not {"price_cents", "balance_after_cents", "agent"} & set(record)


def test_a_number_export_lists_who_received_the_callers_records(world: Store) -> None:
    recipients = number_export(world)["recipients"]
    assert {(item["client"], item["destination"], item["kind"], item["status"]) for item in recipients} == {
        ("acme", "mail", "email", "delivered"),
        ("acme", "complaints", "email", "delivered"),
        ("gamma", "relay", "email", "pending"),
    }


def test_a_number_export_holds_its_blocks_opt_out_contacts_and_calls_without_record(
    world: Store, plugins: Plugins
) -> None:
    campaign(world, plugins, [(NAME, "912345678", "2026-08-10 10:00")], at="2026-07-01 08:00")
    offered(engine_for(world, plugins), "nowhere", lisbon("2026-03-05 10:05"), did="+351217999999")
    document = number_export(world)
    assert [(item["client"], item["note"]) for item in document["blocked_by"]] == [("beta", "chamadas repetidas")]
    assert document["opt_out"]["client"] == "acme"
    assert [item["name"] for item in document["contacts"]] == [NAME]
    assert "price_cents" not in document["contacts"][0]
    assert [(item["state"], item["did"]) for item in document["calls_without_record"]] == [
        ("unrouted", "+351217999999")
    ]


def test_a_number_as_usually_written_finds_the_same_data(world: Store) -> None:
    written = number_export(world, "912 345 678")
    assert [record["record_id"] for record in written["records"]] == ids(["a1", "b1", "g1"])


def test_a_text_that_is_no_number_is_refused(world: Store) -> None:
    with pytest.raises(ValueError, match="not a phone number"):
        number_export(world, "Maria")


def test_the_streamed_document_is_the_collected_one(world: Store) -> None:
    with world.connect() as conn:
        sections = export.client_sections(conn, "acme")
        collected = export.collect(conn, sections)
    advanced: list[int] = []
    handle = io.StringIO()
    written = export.write_json(sections, handle, world.engine, advance=advanced.append)
    assert json.loads(handle.getvalue()) == collected
    assert written["records"] == 2 and written["deliveries"] == 4
    assert sum(advanced) == export.total_rows(sections) == 2 + 4 + 0


def test_a_long_section_is_read_page_by_page_in_order(
    store: Store, plugins: Plugins, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export, "PAGE", 2)  # five records: three pages
    apply(store, plugins, tmp_path)
    buy(store, plugins, "acme")
    engine = engine_for(store, plugins)
    # Offered in the opposite order of their ids: the export follows the offer times.
    made = [answered(engine, f"p{index}", lisbon("2026-03-02 10:00") - timedelta(minutes=index)) for index in range(5)]
    made.reverse()
    with store.connect() as conn:
        sections = export.client_sections(conn, "acme")
    handle = io.StringIO()
    export.write_json(sections, handle, store.engine)
    assert [record["record_id"] for record in json.loads(handle.getvalue())["records"]] == made


def test_every_table_with_a_clients_rows_is_exported_or_left_out_for_a_reason() -> None:
    with_client = {table.name for table in t.metadata.sorted_tables if "client" in table.c}
    exported = {"clients", "accounts", "ledger", "documents", "invoices", "signups", "month_counters", "records"}
    exported |= {"outbox", "blocked_numbers", "campaigns", "contacts", "opt_outs"}
    assert with_client - exported - set(export.LEFT_OUT) == set()
