"""Reading a campaign's contacts file: valid rows normalized, every bad row named with its line and column."""

from __future__ import annotations

from datetime import datetime

import pytest
from campaign_setup import LISBON, contacts_csv, lisbon

from hub.core.campaigns_csv import CampaignFileError, parse_contacts
from hub.core.models import Language

NOW = lisbon("2026-03-02 08:00")


def errors_of(text: str | bytes, **options: object) -> list[str]:
    with pytest.raises(CampaignFileError) as caught:
        parse_contacts(text, now=NOW, **options)  # type: ignore[arg-type]
    return [str(error) for error in caught.value.errors]


def test_numbers_are_normalized_to_e164_and_times_read_in_lisbon() -> None:
    text = contacts_csv(
        [
            ("Maria Silva", "912 345 678", "2026-03-12 10:30", "pt", "sms"),
            ("John Smith", "+351 217 000 123", "2026-07-01T15:00:00+01:00", "EN", "Phone"),
            ("Ana Costa", "00351 934 111 222", "2026-03-13T09:00:00Z", "", "phone"),
        ]
    )
    rows = parse_contacts(text, now=NOW)
    assert [row.number for row in rows] == ["+351912345678", "+351217000123", "+351934111222"]
    assert rows[0].appointment_at == datetime(2026, 3, 12, 10, 30, tzinfo=LISBON)
    assert rows[1].appointment_at.isoformat() == "2026-07-01T15:00:00+01:00"
    assert [row.channel for row in rows] == ["sms", "phone", "phone"]
    assert [row.language for row in rows] == [Language.PT, Language.EN, Language.PT]
    assert [row.line for row in rows] == [2, 3, 4]


def test_a_blank_language_takes_the_clients_first_language() -> None:
    text = contacts_csv([("John Smith", "912345678", "2026-03-12 10:30", "", "sms")])
    assert parse_contacts(text, default_language=Language.EN, now=NOW)[0].language is Language.EN


def test_the_language_column_may_be_left_out() -> None:
    text = contacts_csv([("Maria", "912345678", "2026-03-12 10:30", "sms")], header="name,number,appointment,channel")
    assert parse_contacts(text, now=NOW)[0].language is Language.PT


def test_semicolons_columns_in_any_order_and_case_and_a_byte_order_mark_are_accepted() -> None:
    text = "\ufeffCanal;Name;NUMBER;Appointment;Language\n".replace("Canal", "Channel")
    text += "sms;José Gonçalves;961234567;2026-03-12 10:30;pt\r\n"
    rows = parse_contacts(text.encode("utf-8"), now=NOW)
    assert rows[0].name == "José Gonçalves"
    assert rows[0].number == "+351961234567"


def test_every_bad_row_is_reported_with_its_line_and_column() -> None:
    text = contacts_csv(
        [
            ("Maria Silva", "912345678", "2026-03-12 10:30", "pt", "sms"),
            ("Rui Santos", "+351 99", "2026-03-12 11:00", "pt", "phone"),
            ("", "912345679", "amanhã", "fr", "fax"),
            ("Inês Costa", "+34 612 345 678", "2026-03-12 12:00", "pt", "phone"),
        ]
    )
    assert errors_of(text) == [
        "line 3, number: '+351 99' is not a Portuguese fixed or mobile number",
        "line 4, name: is empty: write the contact's name",
        "line 4, channel: 'fax' is not a channel (expected phone or sms)",
        "line 4, appointment: 'amanhã' is not a date and time: expected a date and time, "
        "e.g. 2026-03-12 10:30 (Lisbon time) or 2026-03-12T10:30:00+00:00",
        "line 4, language: 'fr' is not a language (expected pt or en)",
        "line 5, number: '+34 612 345 678' is not a Portuguese fixed or mobile number",
    ]


def test_premium_and_free_numbers_are_not_contacted() -> None:
    text = contacts_csv(
        [
            ("Linha Azul", "808 200 200", "2026-03-12 10:30", "pt", "phone"),
            ("Número Verde", "800 200 200", "2026-03-12 10:30", "pt", "phone"),
        ]
    )
    assert errors_of(text) == [
        "line 2, number: '808 200 200' is not a Portuguese fixed or mobile number",
        "line 3, number: '800 200 200' is not a Portuguese fixed or mobile number",
    ]


def test_an_sms_to_a_fixed_line_is_an_error() -> None:
    text = contacts_csv([("Escritório", "217000123", "2026-03-12 10:30", "pt", "sms")])
    assert errors_of(text) == [
        "line 2, number: '217000123' is a fixed-line number and cannot receive SMS: "
        "expected a Portuguese mobile number (9x)"
    ]


def test_a_number_twice_in_the_file_is_an_error_naming_the_first_line() -> None:
    text = contacts_csv(
        [
            ("Maria Silva", "912345678", "2026-03-12 10:30", "pt", "sms"),
            ("Pedro Silva", "933000111", "2026-03-12 10:45", "pt", "sms"),
            ("Maria S.", "+351 912 345 678", "2026-03-13 10:30", "pt", "phone"),
        ]
    )
    assert errors_of(text) == ["line 4, number: +351912345678 is already on line 2"]


def test_an_appointment_already_past_is_an_error() -> None:
    text = contacts_csv([("Maria Silva", "912345678", "2026-03-01 10:30", "pt", "sms")])
    assert errors_of(text) == ["line 2, appointment: 2026-03-01 10:30 (Lisbon) has already passed"]


def test_a_date_without_a_time_is_an_error() -> None:
    text = contacts_csv([("Maria Silva", "912345678", "2026-03-12", "pt", "sms")])
    assert errors_of(text)[0].startswith("line 2, appointment: '2026-03-12' is not a date and time")


def test_missing_and_unknown_columns_are_reported_on_the_header_line() -> None:
    assert errors_of("nome,number,appointment\nMaria,912345678,2026-03-12 10:30\n") == [
        "line 1, header: unknown column 'nome' (expected name, number, appointment, language, channel)",
        "line 1, header: missing column(s) name, channel (expected name, number, appointment, language, channel)",
    ]


def test_a_row_with_more_fields_than_the_header_is_an_error() -> None:
    text = "name,number,appointment,language,channel\nSilva, Maria,912345678,2026-03-12 10:30,pt,sms\n"
    assert errors_of(text) == ["line 2: has 6 fields, the header has 5"]


def test_blank_lines_are_skipped_and_line_numbers_stay_those_of_the_file() -> None:
    text = (
        "name,number,appointment,language,channel\n\nMaria,912345678,2026-03-12 10:30,pt,sms\n\nRui,+351 99,x,pt,sms\n"
    )
    assert errors_of(text)[0] == "line 5, number: '+351 99' is not a Portuguese mobile number (9x)"


def test_a_file_that_is_not_utf8_is_refused_naming_its_line() -> None:
    text = "name,number,appointment,language,channel\nJosé,912345678,2026-03-12 10:30,pt,sms\n".encode("latin-1")
    assert errors_of(text) == ["line 2: byte 0xe9 is not UTF-8: save the file as CSV UTF-8"]


def test_a_file_with_only_a_header_is_refused() -> None:
    assert errors_of("name,number,appointment,language,channel\n") == ["file: the file has a header but no contacts"]
