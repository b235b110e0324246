"""Keeping phone numbers out of logs."""

from __future__ import annotations

import logging
import re

_PHONE = re.compile(r"\+?\d[\d ]{7,}\d")


def mask_phone(number: str | None) -> str:
    """`+351912345678` → `+3519******78`: enough to tell calls apart, not to call back."""
    if not number:
        return "-"
    digits = number.strip()
    if len(digits) <= 6:
        return "*" * len(digits)
    return digits[:5] + "*" * (len(digits) - 7) + digits[-2:]


def mask_phones_in(text: str) -> str:
    """Mask every phone-number-looking run of digits in `text`."""
    return _PHONE.sub(lambda match: mask_phone(match.group(0).replace(" ", "")), text)


class PhoneMaskingFilter(logging.Filter):
    """A logging filter that masks phone numbers in every message, whatever the caller wrote."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's message with numbers masked; never drops a record."""
        message = record.getMessage()
        masked = mask_phones_in(message)
        if masked != message:
            record.msg = masked
            record.args = None
        return True
