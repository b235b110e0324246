"""Setting a HubSpot destination up: settings, `check()`, `validate()`, plugin registration."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError
from recado_hubspot import HubSpotConfig, HubSpotSink, plugin
from recado_hubspot.fake_server import FakeHubSpot

from hub.core.models import Delivered
from hub.testing import make_delivery, sample_record


def test_plugin_registers_the_hubspot_kind() -> None:
    registered: list[tuple[str, Any, Any]] = []

    plugin.register_sinks(lambda *args: registered.append(args))

    assert registered == [("hubspot", HubSpotSink, HubSpotConfig)]


def test_token_never_shows_in_the_settings_repr() -> None:
    config = HubSpotConfig(access_token="pat-eu1-abc123")

    assert "pat-eu1-abc123" not in repr(config)
    assert "pat-eu1-abc123" not in repr(HubSpotSink(config))


def test_settings_default_to_the_documented_values() -> None:
    config = HubSpotConfig(access_token="pat-eu1-abc123")

    assert config.idempotency_property == "recado_record_id"
    assert config.create_contact_when_unmatched is True
    assert config.host == "https://api.hubapi.com"


@pytest.mark.parametrize(
    ("field", "value"),
    [("idempotency_property", "Recado Record"), ("host", "api.hubapi.com"), ("colour", "blue")],
)
def test_bad_setting_is_refused_naming_the_field(field: str, value: str) -> None:
    with pytest.raises(ValidationError) as raised:
        HubSpotConfig(access_token="pat-eu1-abc123", **{field: value})

    assert field in str(raised.value)


async def test_check_accepts_a_working_token(sink: HubSpotSink) -> None:
    health = await sink.check()

    assert health.ok, health.detail


async def test_check_reports_a_refused_token(fake: FakeHubSpot) -> None:
    sink = HubSpotSink(HubSpotConfig(access_token="pat-eu1-wrong", host=fake.url))

    health = await sink.check()

    assert not health.ok
    assert "401" in health.detail


async def test_check_reports_a_missing_idempotency_property(token: str) -> None:
    with FakeHubSpot(token=token, idempotency_property="other") as fake:
        sink = HubSpotSink(HubSpotConfig(access_token=token, host=fake.url))

        health = await sink.check()

    assert not health.ok
    assert "'recado_record_id' does not exist" in health.detail


def test_validate_accepts_writable_call_properties(sink: HubSpotSink) -> None:
    assert sink.validate({"hs_call_title": "{{ answers.reason }}", "hs_call_body": "x"}) == []


def test_validate_names_unknown_read_only_and_reserved_targets(sink: HubSpotSink) -> None:
    problems = sink.validate({"favourite_colour": "x", "hs_createdate": "y", "recado_record_id": "z"})

    assert problems == [
        "'favourite_colour' is not a HubSpot call property",
        "'hs_createdate' is read-only in HubSpot",
        "'recado_record_id' holds the record id and cannot be mapped",
    ]


def test_validate_reports_when_hubspot_cannot_be_read(fake: FakeHubSpot) -> None:
    sink = HubSpotSink(HubSpotConfig(access_token="pat-eu1-wrong", host=fake.url))

    [problem] = sink.validate({"hs_call_title": "x"})

    assert problem.startswith("could not read HubSpot call properties")


def test_preview_shows_the_call_without_sending_anything(sink: HubSpotSink, fake: FakeHubSpot) -> None:
    delivery = make_delivery(sample_record(caller="+351912345678"), mapped={"hs_call_title": "Marcação"})

    preview = sink.preview(delivery)

    assert preview["path"] == "/crm/v3/objects/calls/batch/create"
    assert preview["properties"]["hs_call_title"] == "Marcação"
    assert preview["properties"]["recado_record_id"] == delivery.idempotency_key
    assert "+351912345678" in preview["contact"]
    assert fake.total_requests == 0


async def test_closed_sink_can_still_deliver_on_new_connections(sink: HubSpotSink, fake: FakeHubSpot) -> None:
    await sink.deliver([make_delivery(sample_record(call_id="a"))])

    await sink.aclose()
    [outcome] = await sink.deliver([make_delivery(sample_record(call_id="b"))])

    assert isinstance(outcome, Delivered)
