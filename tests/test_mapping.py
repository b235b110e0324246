"""Field mappings: a destination's fields computed from the record, the answers, the client, the account."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from jinja2.exceptions import SecurityError, UndefinedError

from hub.core.mapping import Mapper, MappingError, mapping_context
from hub.core.models import CallRecord, Disposition

RECORD = CallRecord(
    record_id="rec_1",
    source="ingest",
    call_id="c1",
    client="acme",
    disposition=Disposition.ANSWERED,
    caller="+351912345678",
    did="+351217000001",
    agent="ana",
    offered_at=datetime(2026, 3, 2, 9, 15, tzinfo=UTC),
    answered_at=datetime(2026, 3, 2, 9, 15, 4, tzinfo=UTC),
    ended_at=datetime(2026, 3, 2, 9, 18, 4, tzinfo=UTC),
    talk_seconds=180,
    script_version=1,
    answers={"name": "Rui", "code": "123", "phone": "912345678"},
    category="customer_service",
    price_cents=150,
    balance_after_cents=15450,
)
FIELDS = ["name", "code", "phone", "reason"]


def context() -> dict[str, Any]:
    """What a mapping of the sample record sees."""
    return mapping_context(
        RECORD,
        FIELDS,
        {"id": "acme", "name": "Clínica Acme", "nif": "509999999"},
        {"balance_cents": 15450, "calls_this_month": 1},
    )


def render(template: str, mapper: Mapper | None = None) -> Any:
    """The value of one template for the sample record."""
    return (mapper or Mapper()).render({"field": template}, context())["field"]


# --- rendering -----------------------------------------------------------------------------------


def test_a_single_expression_keeps_its_number_type() -> None:
    assert render("{{ call.talk_seconds }}") == 180


def test_a_single_expression_keeps_its_boolean_type() -> None:
    assert render("{{ call.incomplete }}") is False


def test_a_phone_number_stays_a_string_with_its_plus_sign() -> None:
    assert render("{{ call.caller }}") == "+351912345678"


def test_an_answer_made_of_digits_stays_the_string_the_agent_typed() -> None:
    assert render("{{ answers.code }}") == "123"


def test_text_around_an_expression_makes_a_string() -> None:
    assert render("{{ call.talk_seconds }} s") == "180 s"


def test_plain_text_renders_as_itself() -> None:
    assert render("Recado") == "Recado"


def test_an_empty_template_renders_as_an_empty_string() -> None:
    assert render("") == ""


def test_an_optional_answer_not_given_renders_empty() -> None:
    assert render("{{ answers.reason }}") == ""


def test_client_and_account_values_are_available() -> None:
    assert render("{{ client.name }}: {{ account.balance_cents | eur }}") == "Clínica Acme: 154,50 €"


def test_a_missing_account_value_is_zero() -> None:
    assert render("{{ account.outbound_this_month }}") == 0


def test_a_name_outside_the_context_is_an_error_not_an_empty_value() -> None:
    with pytest.raises(UndefinedError):
        render("{{ answers.unknown }}")


def test_templates_run_in_a_sandbox() -> None:
    with pytest.raises(SecurityError):
        render("{{ call.caller.__class__.__mro__ }}")


# --- filters -------------------------------------------------------------------------------------


def test_e164_formats_a_national_number() -> None:
    assert render("{{ answers.phone | e164 }}") == "+351912345678"


def test_e164_of_nothing_is_empty() -> None:
    assert render("{{ answers.reason | e164 }}") == ""


def test_e164_leaves_what_is_not_a_number_as_it_is() -> None:
    assert render("{{ answers.name | e164 }}") == "Rui"


def test_sf_datetime_is_utc_with_milliseconds() -> None:
    assert render("{{ call.offered_at | sf_datetime }}") == "2026-03-02T09:15:00.000Z"


def test_lisbon_shows_lisbon_wall_time_in_summer() -> None:
    mapper = Mapper()
    value = mapper.render({"t": "{{ at | lisbon }}"}, {"at": "2026-07-01T08:00:00Z"})["t"]
    assert value == "2026-07-01 09:00"


def test_lisbon_takes_a_format() -> None:
    assert render("{{ call.offered_at | lisbon('%H:%M') }}") == "09:15"


def test_date_only_is_the_lisbon_date() -> None:
    mapper = Mapper()
    value = mapper.render({"d": "{{ at | date_only }}"}, {"at": "2026-06-30T23:30:00Z"})["d"]
    assert value == "2026-07-01"


@pytest.mark.parametrize(("cents", "text"), [(15450, "154,50 €"), (5, "0,05 €"), (-150, "-1,50 €"), (0, "0,00 €")])
def test_eur_formats_cents_as_euros(cents: int, text: str) -> None:
    assert Mapper().render({"v": "{{ v | eur }}"}, {"v": cents})["v"] == text


def test_a_registered_filter_is_available() -> None:
    mapper = Mapper({"shout": lambda value: str(value).upper() + "!"})
    assert render("{{ answers.name | shout }}", mapper) == "RUI!"


# --- validation ----------------------------------------------------------------------------------


def test_a_valid_mapping_has_no_problems() -> None:
    mapping = {"Phone": "{{ call.caller | e164 }}", "Name": "{{ answers.name }}", "Who": "{{ client.name }}"}
    assert Mapper().problems(mapping, FIELDS) == []


def test_an_unknown_call_field_is_a_problem_listing_the_known_ones() -> None:
    (problem,) = Mapper().problems({"x": "{{ call.nope }}"}, FIELDS)
    assert problem.startswith("x: unknown field call.nope (known: agent, answered_at, answers,")


def test_an_unknown_answer_is_a_problem_listing_the_script_fields() -> None:
    assert Mapper().problems({"x": "{{ answers.nope }}"}, ["name", "reason"]) == [
        "x: unknown field answers.nope (known: name, reason)"
    ]


def test_an_unknown_filter_is_a_problem() -> None:
    (problem,) = Mapper().problems({"x": "{{ call.caller | shout }}"}, FIELDS)
    assert problem.startswith("x: unknown filter 'shout' (known: ")
    assert "e164" in problem


def test_an_unknown_name_is_a_problem() -> None:
    assert Mapper().problems({"x": "{{ caller }}"}, FIELDS) == [
        "x: unknown name 'caller' (use call.*, answers.*, client.*, account.*)"
    ]


def test_a_template_that_does_not_parse_is_a_problem() -> None:
    (problem,) = Mapper().problems({"x": "{{ call.caller "}, FIELDS)
    assert problem.startswith("x: cannot parse '{{ call.caller ': ")


def test_a_template_that_is_not_a_string_is_a_problem() -> None:
    assert Mapper().problems({"x": 5}, FIELDS) == ["x: expected a template string, got int"]  # type: ignore[dict-item]


def test_every_problem_of_a_mapping_is_listed() -> None:
    mapping = {"a": "{{ call.nope }}", "b": "{{ answers.nope }}"}
    assert len(Mapper().problems(mapping, FIELDS)) == 2


def test_validate_raises_with_every_problem() -> None:
    with pytest.raises(MappingError, match=r"a: unknown field call\.nope .*; b: unknown field answers\.nope"):
        Mapper().validate({"a": "{{ call.nope }}", "b": "{{ answers.nope }}"}, FIELDS)
