"""Finding a caller among Contacts and Leads: phone formats and SOQL.

Salesforce keeps phone fields as typed, so one number may be stored as
`+351912345678`, `+351 912 345 678` or `912 345 678`. The lookup asks for each
of those spellings in one SOQL `IN` list and normalizes what comes back.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

import phonenumbers

#: Phone fields searched on both Contact and Lead.
PHONE_FIELDS = ("Phone", "MobilePhone")
DEFAULT_REGION = "PT"


def e164(raw: str | None, region: str = DEFAULT_REGION) -> str | None:
    """`raw` as E.164, or None when it is not a valid phone number."""
    if not raw:
        return None
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@lru_cache(maxsize=4096)
def spellings(number: str) -> tuple[str, ...]:
    """The ways people type `number` (E.164) into Salesforce: E.164, international, national."""
    parsed = phonenumbers.parse(number, DEFAULT_REGION)
    formats = (
        phonenumbers.PhoneNumberFormat.E164,
        phonenumbers.PhoneNumberFormat.INTERNATIONAL,
        phonenumbers.PhoneNumberFormat.NATIONAL,
    )
    found: list[str] = []
    for fmt in formats:
        text = phonenumbers.format_number(parsed, fmt)
        for variant in (text, text.replace(" ", "")):
            if variant not in found:
                found.append(variant)
    return tuple(found)


def soql_string(value: str) -> str:
    """A SOQL string literal (quotes and backslashes escaped)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def match_query(sobject: str, numbers: Iterable[str], extra_where: str = "") -> str:
    """One SOQL query for every record of `sobject` whose phone is one of `numbers`."""
    literals = ", ".join(soql_string(s) for n in sorted(set(numbers)) for s in spellings(n))
    where = " OR ".join(f"{name} IN ({literals})" for name in PHONE_FIELDS)
    if extra_where:
        where = f"({where}) AND {extra_where}"
    fields = ", ".join(("Id", *PHONE_FIELDS))
    # The most recently touched record wins when several share a number.
    return f"SELECT {fields} FROM {sobject} WHERE {where} ORDER BY LastModifiedDate DESC"

