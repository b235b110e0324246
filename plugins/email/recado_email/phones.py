"""Phone numbers as people read them (in emails) and as logs may show them (masked)."""

from __future__ import annotations

import phonenumbers


def format_phone(number: str | None) -> str | None:
    """`+351912345678` -> `+351 912 345 678`; anything unparseable is returned as given."""
    if not number:
        return None
    try:
        parsed = phonenumbers.parse(number, "PT")
    except phonenumbers.NumberParseException:
        return number
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def mask_phone(number: str | None) -> str:
    """A number safe for logs: `+351912345678` -> `+351 912 *** 678`.

    At least three digits are always hidden; the leading ones (country code, operator
    prefix) and the last three stay, enough to tell calls apart in a log.
    """
    if not number:
        return "-"
    if sum(c.isdigit() for c in number) < 7:
        return "***"
    shown = format_phone(number) or number
    total = sum(c.isdigit() for c in shown)
    keep_head = min(6, total - 6)
    out, seen = [], 0
    for c in shown:
        if c.isdigit():
            seen += 1
            out.append(c if seen <= keep_head or seen > total - 3 else "*")
        else:
            out.append(c)
    return "".join(out)
