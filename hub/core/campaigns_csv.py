"""Reading the contacts of an outbound campaign from a CSV file, with every error named.

The file has a header row naming the columns (in any order and case):
`name`, `number`, `appointment`, `channel` and, optionally, `language`. It is UTF-8
(with or without a byte-order mark), delimited by `,` or `;`. A file with any bad
row is refused as a whole: `CampaignFileError` carries every problem found, each
with its line number and column, so the client can fix the file in one go.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

import phonenumbers
from phonenumbers import PhoneNumberType

from hub.core.models import Language

LISBON = ZoneInfo("Europe/Lisbon")
REQUIRED = ("name", "number", "appointment", "channel")
COLUMNS = ("name", "number", "appointment", "language", "channel")
CHANNELS = ("phone", "sms")
MAX_CONTACTS = 10_000
MAX_NAME = 200
#: Portuguese fixed lines start with 2, mobiles with 9: the only numbers a campaign contacts.
_CONTACTABLE = {PhoneNumberType.FIXED_LINE, PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}
_TEXTABLE = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}

Channel = Literal["phone", "sms"]


@dataclass(frozen=True)
class RowError:
    """One problem of the file: where it is (line, column) and what was expected."""

    line: int | None
    column: str
    message: str

    def __str__(self) -> str:
        where = "file" if self.line is None else f"line {self.line}"
        return f"{where}, {self.column}: {self.message}" if self.column else f"{where}: {self.message}"

    def as_dict(self) -> dict[str, object]:
        """The error as the API and `--json` show it."""
        return {"line": self.line, "column": self.column or None, "message": self.message, "text": str(self)}


class CampaignFileError(ValueError):
    """The upload is refused; `errors` lists every problem found, in line order."""

    def __init__(self, errors: Sequence[RowError]) -> None:
        self.errors = list(errors)
        shown = "; ".join(str(error) for error in self.errors[:5])
        more = f" (and {len(self.errors) - 5} more)" if len(self.errors) > 5 else ""
        super().__init__(f"{len(self.errors)} problem(s) in the contacts: {shown}{more}")


@dataclass(frozen=True)
class ContactRow:
    """One valid contact of the file."""

    line: int
    name: str
    number: str
    appointment_at: datetime
    language: Language
    channel: Channel


def portuguese_number(value: str, *, mobile_only: bool = False) -> str:
    """`value` as an E.164 Portuguese fixed (2x) or mobile (9x) number; ValueError saying why not."""
    text = value.strip()
    expected = "a Portuguese mobile number (9x)" if mobile_only else "a Portuguese fixed or mobile number"
    try:
        parsed = phonenumbers.parse(text, "PT")
    except phonenumbers.NumberParseException:
        raise ValueError(f"{text!r} is not {expected}") from None
    valid = phonenumbers.is_valid_number(parsed) and phonenumbers.region_code_for_number(parsed) == "PT"
    kind = phonenumbers.number_type(parsed)
    if not valid or kind not in _CONTACTABLE:
        raise ValueError(f"{text!r} is not {expected}")
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    if mobile_only and kind not in _TEXTABLE:
        raise ValueError(f"{text!r} is a fixed-line number and cannot receive SMS: expected {expected}")
    return e164


def parse_appointment(value: str) -> datetime:
    """An appointment time: ISO 8601, or `YYYY-MM-DD HH:MM`; without an offset it is Lisbon time."""
    text = value.strip()
    expected = "expected a date and time, e.g. 2026-03-12 10:30 (Lisbon time) or 2026-03-12T10:30:00+00:00"
    if len(text) < 16:
        raise ValueError(f"{text!r} is not a date and time: {expected}")
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{text!r} is not a date and time: {expected}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=LISBON)


def _decode(data: bytes | str) -> str:
    if isinstance(data, str):
        return data.removeprefix("\ufeff")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise CampaignFileError(
            [RowError(line, "", f"byte 0x{data[exc.start]:02x} is not UTF-8: save the file as CSV UTF-8")]
        ) from None


def _delimiter(header: str) -> str:
    # The header holds only column names: whichever separator it uses is the file's.
    return ";" if header.count(";") > header.count(",") else ","


def _header(cells: list[str]) -> tuple[dict[str, int], list[RowError]]:
    errors: list[RowError] = []
    positions: dict[str, int] = {}
    for index, cell in enumerate(cells):
        name = cell.strip().lower()
        if name in positions:
            errors.append(RowError(1, "header", f"column {name!r} appears twice"))
        elif name not in COLUMNS:
            errors.append(RowError(1, "header", f"unknown column {cell.strip()!r} (expected {', '.join(COLUMNS)})"))
        else:
            positions[name] = index
    missing = [name for name in REQUIRED if name not in positions]
    if missing:
        errors.append(RowError(1, "header", f"missing column(s) {', '.join(missing)} (expected {', '.join(COLUMNS)})"))
    return positions, errors


def _row(
    line: int, cells: list[str], positions: dict[str, int], default_language: Language, now: datetime | None
) -> tuple[ContactRow | None, list[RowError]]:
    errors: list[RowError] = []

    def cell(column: str) -> str:
        index = positions.get(column)
        return cells[index].strip() if index is not None and index < len(cells) else ""

    name = cell("name")
    if not name:
        errors.append(RowError(line, "name", "is empty: write the contact's name"))
    elif len(name) > MAX_NAME:
        errors.append(RowError(line, "name", f"is {len(name)} characters long (at most {MAX_NAME})"))
    channel = cell("channel").lower()
    if channel not in CHANNELS:
        errors.append(RowError(line, "channel", f"{cell('channel')!r} is not a channel (expected phone or sms)"))
    number = ""
    try:
        number = portuguese_number(cell("number"), mobile_only=channel == "sms")
    except ValueError as exc:
        errors.append(RowError(line, "number", str(exc)))
    appointment: datetime | None = None
    try:
        appointment = parse_appointment(cell("appointment"))
        if now is not None and appointment <= now:
            shown = appointment.astimezone(LISBON).strftime("%Y-%m-%d %H:%M")
            errors.append(RowError(line, "appointment", f"{shown} (Lisbon) has already passed"))
    except ValueError as exc:
        errors.append(RowError(line, "appointment", str(exc)))
    raw_language = cell("language").lower()
    language = default_language
    if raw_language:
        try:
            language = Language(raw_language)
        except ValueError:
            errors.append(RowError(line, "language", f"{cell('language')!r} is not a language (expected pt or en)"))
    if errors or appointment is None:
        return None, errors
    kind: Channel = "sms" if channel == "sms" else "phone"
    return ContactRow(line, name, number, appointment, language, kind), []


def parse_contacts(
    data: bytes | str, *, default_language: Language = Language.PT, now: datetime | None = None
) -> list[ContactRow]:
    """Every contact of a campaign file, or `CampaignFileError` with every problem found.

    `now`, when given, makes appointments at or before it errors (nobody to remind).
    """
    text = _decode(data)
    first_line = text.split("\n", 1)[0]
    if not first_line.strip():
        raise CampaignFileError([RowError(1, "header", f"the file has no header row (expected {', '.join(COLUMNS)})")])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(first_line))
    try:
        header = next(reader)
    except csv.Error as exc:
        raise CampaignFileError([RowError(1, "header", f"not readable as CSV: {exc}")]) from None
    positions, errors = _header(header)
    if errors:
        raise CampaignFileError(errors)
    contacts: list[ContactRow] = []
    first_line_of: dict[str, int] = {}
    line = reader.line_num
    try:
        for cells in reader:
            line, start = reader.line_num, line + 1
            if not any(value.strip() for value in cells):
                continue
            if len(cells) > len(header):
                errors.append(RowError(start, "", f"has {len(cells)} fields, the header has {len(header)}"))
                continue
            if len(contacts) >= MAX_CONTACTS:
                errors.append(RowError(start, "", f"a campaign has at most {MAX_CONTACTS} contacts"))
                break
            contact, problems = _row(start, cells, positions, default_language, now)
            errors.extend(problems)
            if contact is None:
                continue
            if contact.number in first_line_of:
                errors.append(
                    RowError(start, "number", f"{contact.number} is already on line {first_line_of[contact.number]}")
                )
                continue
            first_line_of[contact.number] = start
            contacts.append(contact)
    except csv.Error as exc:
        errors.append(RowError(reader.line_num, "", f"not readable as CSV: {exc}"))
    if errors:
        raise CampaignFileError(errors)
    if not contacts:
        raise CampaignFileError([RowError(None, "", "the file has a header but no contacts")])
    return contacts
