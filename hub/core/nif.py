"""The Portuguese tax number (NIF / NIPC): nine digits, a known first digit, a mod-11 check digit.

The first digit (or two) says what kind of taxpayer the number belongs to; the ninth
digit is computed from the first eight with weights 9…2, modulo 11 (a remainder of 0 or 1
gives 0). A typo in one digit, or two swapped digits, always fails the check.
"""

from __future__ import annotations

import re
from typing import Literal

#: Starts of valid numbers and who gets them (Autoridade Tributária's allocation).
PREFIXES: dict[str, str] = {
    "1": "individual",
    "2": "individual",
    "3": "individual",
    "45": "non-resident individual",
    "5": "company (pessoa coletiva)",
    "6": "public administration",
    "70": "undivided estate",
    "71": "non-resident company",
    "72": "investment fund",
    "74": "undivided estate",
    "75": "undivided estate",
    "77": "number assigned by the tax office",
    "78": "non-resident (VAT refund)",
    "79": "exceptional regime",
    "8": "sole trader (former scheme)",
    "90": "condominium or irregular company",
    "91": "condominium or irregular company",
    "98": "non-resident without a permanent establishment",
    "99": "civil company without legal personality",
}
_ACCEPTED_STARTS = "1, 2, 3, 45, 5, 6, 70, 71, 72, 74, 75, 77, 78, 79, 8, 90, 91, 98, 99"
_SEPARATORS = re.compile(r"[\s.\-]")

Reason = Literal["format", "prefix", "check"]


class NifError(ValueError):
    """A string that is not a valid NIF; `reason` says which rule failed (for translated messages)."""

    def __init__(self, value: str, reason: Reason, message: str) -> None:
        super().__init__(message)
        self.value = value
        self.reason = reason


def check_digit(first_eight: str) -> int:
    """The ninth digit that makes `first_eight` a valid NIF."""
    if not re.fullmatch(r"\d{8}", first_eight):
        raise ValueError(f"{first_eight!r}: expected the first 8 digits of a NIF")
    total = sum(int(digit) * weight for digit, weight in zip(first_eight, range(9, 1, -1), strict=True))
    remainder = total % 11
    return 0 if remainder < 2 else 11 - remainder


def kind_of(nif: str) -> str | None:
    """Who a number of this start is given to, or None for a start that is never used."""
    return PREFIXES.get(nif[:1]) or PREFIXES.get(nif[:2])


def validate_nif(value: str) -> str:
    """The NIF in `value` as 9 digits (spaces, dots, dashes and a "PT" prefix are dropped).

    Raises `NifError` saying what is wrong: not 9 digits, a start no NIF has, or a wrong
    check digit (usually a typo).
    """
    compact = _SEPARATORS.sub("", value or "").upper().removeprefix("PT")
    if not re.fullmatch(r"\d{9}", compact):
        raise NifError(value, "format", f"{value!r} is not a NIF: expected 9 digits, e.g. 509999999")
    if kind_of(compact) is None:
        raise NifError(
            value,
            "prefix",
            f"{value!r} is not a Portuguese NIF: no NIF starts with {compact[:2]} (valid starts: {_ACCEPTED_STARTS})",
        )
    expected = check_digit(compact[:8])
    if int(compact[8]) != expected:
        raise NifError(
            value,
            "check",
            f"{value!r} is not a valid NIF: its last digit should be {expected}, not {compact[8]} (check for a typo)",
        )
    return compact


def is_valid_nif(value: str) -> bool:
    """Whether `value` is a valid NIF (see `validate_nif`)."""
    try:
        validate_nif(value)
    except NifError:
        return False
    return True
