"""The rules behind campaigns: outbound hours, message templates, opt-out replies."""

from __future__ import annotations

import pytest
from campaign_setup import lisbon
from pydantic import ValidationError

from hub.core.campaigns_text import TemplateProblem, check_templates, render
from hub.core.models import Language
from hub.core.outbound_events import is_stop
from hub.core.quiet_hours import OutboundSettings, QuietHours


@pytest.mark.parametrize(
    ("moment", "allowed"),
    [
        ("2026-03-02 08:59:59", False),  # Monday, before 09:00
        ("2026-03-02 09:00", True),
        ("2026-03-02 19:59:59", True),
        ("2026-03-02 20:00", False),
        ("2026-03-07 12:00", True),  # Saturday
        ("2026-03-08 12:00", False),  # Sunday
        ("2026-04-25 12:00", False),  # Freedom Day, a Saturday
        ("2026-06-13 12:00", True),  # Lisbon's holiday, a Saturday: not a national one
        ("2026-12-08 10:00", False),  # Immaculate Conception
    ],
)
def test_contacts_are_made_monday_to_saturday_9_to_20_except_national_holidays(moment: str, allowed: bool) -> None:
    assert QuietHours().allows(lisbon(moment)) is allowed


def test_the_next_allowed_time_after_a_saturday_evening_is_monday_morning() -> None:
    assert QuietHours().next_allowed(lisbon("2026-03-07 20:30")) == lisbon("2026-03-09 09:00")


def test_quiet_hours_say_why_nothing_is_sent() -> None:
    hours = QuietHours()
    assert hours.why_not(lisbon("2026-03-02 21:00")) == "quiet hours"
    assert hours.why_not(lisbon("2026-04-03 10:00")) == "holiday: Good Friday"
    assert hours.why_not(lisbon("2026-03-02 10:00")) is None


def test_sundays_may_be_allowed() -> None:
    assert QuietHours(OutboundSettings(sunday=True)).allows(lisbon("2026-03-08 12:00"))


def test_quiet_hours_that_end_after_they_start_are_refused() -> None:
    with pytest.raises(ValidationError, match="must be a time HH:MM before quiet_start"):
        OutboundSettings(quiet_start="08:00", quiet_end="09:00")


def test_dates_and_times_are_written_the_way_each_language_writes_them() -> None:
    text = "{{ name }}: {{ appointment_date }} {{ appointment_time }} ({{ client }})"
    at = lisbon("2026-07-01 15:05")
    assert render(text, "Ana", at, "pt", "Clínica Sorriso") == "Ana: 01/07/2026 15:05 (Clínica Sorriso)"
    assert render(text, "Ann", at, "en", "Clínica Sorriso") == "Ann: 1 Jul 2026 3:05 PM (Clínica Sorriso)"


def test_templates_run_in_a_sandbox() -> None:
    with pytest.raises(TemplateProblem, match="template_pt"):
        render("{{ name.__class__.__mro__ }}", "Ana", lisbon("2026-07-01 15:05"), "pt", "Sorriso")


def test_blank_templates_are_dropped_and_needed_ones_reported() -> None:
    assert check_templates({"pt": " Olá {{ name }} ", "en": ""}, [Language.PT]) == {"pt": "Olá {{ name }}"}
    with pytest.raises(TemplateProblem) as caught:
        check_templates({"pt": "Olá {{ name }}", "en": "  "}, [Language.PT, Language.EN])
    assert caught.value.problems == [("template_en", "missing: some contacts speak en")]


@pytest.mark.parametrize(
    ("reply", "stop"),
    [("STOP", True), ("parar", True), ("Parar, obrigada", True), (" stop.", True), ("Não parar", False), ("OK", False)],
)
def test_a_reply_starting_with_stop_or_parar_opts_out(reply: str, stop: bool) -> None:
    assert is_stop(reply) is stop
