"""Uploading a campaign: checked as a whole, stored in one go or not at all; listed, shown, cancelled."""

from __future__ import annotations

from pathlib import Path

import pytest
from campaign_setup import TEMPLATES, clients_offline, contacts_csv, lisbon, phone_file, sms_file, upload
from sqlalchemy import func, select

from hub.core import campaigns_admin, optouts
from hub.core import store as t
from hub.core.campaigns_csv import CampaignFileError
from hub.core.store import Store
from hub.plugins import Plugins


@pytest.fixture
def hub(store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Store:
    clients_offline(store, PLUGINS, tmp_path, monkeypatch)
    return store


PLUGINS = Plugins(only={"webhook", "sms", "email"})


def stored(store: Store) -> tuple[int, int]:
    with store.connect() as conn:
        return (
            int(conn.execute(select(func.count()).select_from(t.campaigns)).scalar_one()),
            int(conn.execute(select(func.count()).select_from(t.contacts)).scalar_one()),
        )


def test_an_upload_stores_the_campaign_and_its_contacts_pending(hub: Store) -> None:
    campaign = upload(hub, PLUGINS, sms_file(3) + phone_file(2, start=3).split("\n", 1)[1])
    assert campaign["client"] == "acme"
    assert campaign["contacts"] == 5
    assert campaign["counts"]["pending"] == 5
    shown = campaigns_admin.show_campaign(hub, campaign["id"])
    assert [c["channel"] for c in shown["contact_list"]] == ["sms", "sms", "sms", "phone", "phone"]
    assert shown["contact_list"][0]["number"] == "+351910000000"
    assert shown["templates"] == TEMPLATES


def test_the_contacts_get_call_ids_naming_them(hub: Store) -> None:
    campaign = upload(hub, PLUGINS, sms_file(2))
    with hub.connect() as conn:
        rows = conn.execute(
            select(t.contacts.c.id, t.contacts.c.call_id).where(t.contacts.c.campaign == campaign["id"])
        ).all()
    assert [call_id for _id, call_id in rows] == [f"contact-{contact_id}" for contact_id, _ in rows]


def test_a_file_with_one_bad_row_stores_nothing(hub: Store) -> None:
    text = sms_file(4) + '"Rui Lopes","+351 99","2026-03-20 10:30","pt","sms"\n'
    with pytest.raises(CampaignFileError) as caught:
        upload(hub, PLUGINS, text)
    assert [str(e) for e in caught.value.errors] == ["line 6, number: '+351 99' is not a Portuguese mobile number (9x)"]
    assert stored(hub) == (0, 0)


def test_a_missing_template_for_a_language_used_is_an_error(hub: Store) -> None:
    text = sms_file(2) + '"John Smith","936000111","2026-03-20 11:00","en","sms"\n'
    with pytest.raises(CampaignFileError) as caught:
        campaigns_admin.create_campaign(
            hub,
            PLUGINS.registry,
            "acme",
            text,
            {"pt": TEMPLATES["pt"]},
            created_by="operator",
            now=lisbon("2026-03-02 08:00"),
        )
    assert [str(e) for e in caught.value.errors] == ["file, template_en: missing: some contacts speak en"]
    assert stored(hub) == (0, 0)


def test_a_template_with_an_unknown_variable_is_an_error(hub: Store) -> None:
    with pytest.raises(CampaignFileError) as caught:
        campaigns_admin.create_campaign(
            hub,
            PLUGINS.registry,
            "acme",
            sms_file(1),
            {"pt": "Olá {{ nome }}, até {{ appointment_date }}"},
            created_by="operator",
            now=lisbon("2026-03-02 08:00"),
        )
    assert [str(e) for e in caught.value.errors] == [
        "file, template_pt: unknown variable(s) nome (available: name, appointment_date, appointment_time, client)"
    ]


def test_template_errors_are_reported_together_with_row_errors(hub: Store) -> None:
    text = contacts_csv([("Maria", "912345678", "ontem", "pt", "sms")])
    with pytest.raises(CampaignFileError) as caught:
        campaigns_admin.create_campaign(
            hub, PLUGINS.registry, "acme", text, {"pt": "Olá {{ name "}, created_by="op", now=lisbon("2026-03-02 08:00")
        )
    columns = [(e.line, e.column) for e in caught.value.errors]
    assert columns == [(None, "template_pt"), (2, "appointment")]


def test_sms_contacts_need_an_sms_destination(hub: Store) -> None:
    text = phone_file(1) + '"Carla Dias","965432100","2026-03-20 10:30","pt","sms"\n'
    with pytest.raises(CampaignFileError) as caught:
        upload(hub, PLUGINS, text, client="beta")
    assert [str(e) for e in caught.value.errors] == [
        "line 3, channel: sms, but beta has no enabled destination that sends SMS "
        "(add one of kind sms, or use channel phone)"
    ]


def test_phone_contacts_need_no_sms_destination(hub: Store) -> None:
    assert upload(hub, PLUGINS, phone_file(2), client="beta")["contacts"] == 2


def test_an_opted_out_number_is_accepted_but_never_pending(hub: Store) -> None:
    with hub.begin() as conn:
        optouts.add(conn, "910 000 000", reason="pediu por telefone")
    campaign = upload(hub, PLUGINS, sms_file(2))
    statuses = [c["status"] for c in campaigns_admin.show_campaign(hub, campaign["id"])["contact_list"]]
    assert statuses == ["opted_out", "pending"]
    assert campaign["counts"]["opted_out"] == 1


def test_an_opt_out_for_another_client_does_not_stop_this_one(hub: Store) -> None:
    with hub.begin() as conn:
        optouts.add(conn, "910000000", client="beta")
    campaign = upload(hub, PLUGINS, sms_file(1))
    assert campaign["counts"]["pending"] == 1


def test_an_unknown_mode_is_an_error(hub: Store) -> None:
    with pytest.raises(CampaignFileError) as caught:
        upload(hub, PLUGINS, phone_file(1), mode="robot")
    assert str(caught.value.errors[0]) == "file, mode: 'robot' is not a mode (expected agent or message)"


def test_campaigns_are_listed_newest_first_per_client(hub: Store) -> None:
    first = upload(hub, PLUGINS, sms_file(2))
    second = upload(hub, PLUGINS, phone_file(1), client="beta")
    with hub.connect() as conn:
        assert [c["id"] for c in campaigns_admin.list_campaigns(conn)] == [second["id"], first["id"]]
        assert [c["id"] for c in campaigns_admin.list_campaigns(conn, client="acme")] == [first["id"]]


def test_another_clients_campaign_is_not_found(hub: Store) -> None:
    campaign = upload(hub, PLUGINS, sms_file(1))
    with pytest.raises(campaigns_admin.UnknownCampaign):
        campaigns_admin.show_campaign(hub, campaign["id"], client="beta")


def test_cancelling_skips_the_contacts_not_yet_made(hub: Store) -> None:
    campaign = upload(hub, PLUGINS, sms_file(3))
    assert campaigns_admin.cancel_campaign(hub, campaign["id"]) == 3
    shown = campaigns_admin.show_campaign(hub, campaign["id"])
    assert shown["status"] == "cancelled"
    assert shown["counts"]["skipped"] == 3
