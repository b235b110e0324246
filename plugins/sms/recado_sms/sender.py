"""Sender ids: who an SMS says it is from.

Networks accept two forms: an alphanumeric name of at most 11 characters (letters,
digits and spaces, with at least one letter, so that it cannot be taken for a
number), or a phone number in E.164 form that the gateway allows the account to use.
"""

from __future__ import annotations

import re

__all__ = ["check_sender_id"]

_ALPHANUMERIC = re.compile(r"[A-Za-z0-9 ]{1,11}")
_E164 = re.compile(r"\+[1-9][0-9]{6,14}")
_LETTER = re.compile(r"[A-Za-z]")


def check_sender_id(value: str) -> str:
    """Return `value` when it is a valid sender id; raise ValueError saying what is expected."""
    expected = (
        "expected an alphanumeric name of 1 to 11 characters (A-Z, a-z, 0-9 and spaces, at least one letter,"
        ' e.g. "ClinicaAcme") or a number in E.164 form (e.g. "+351912345678")'
    )
    if value.startswith("+"):
        if _E164.fullmatch(value):
            return value
        raise ValueError(f"sender id {value!r} is not an E.164 number; {expected}")
    if not value or not value.strip():
        raise ValueError(f"sender id is empty; {expected}")
    if value != value.strip():
        raise ValueError(f"sender id {value!r} starts or ends with a space; {expected}")
    if len(value) > 11:
        raise ValueError(f"sender id {value!r} has {len(value)} characters, more than 11; {expected}")
    if not _ALPHANUMERIC.fullmatch(value):
        wrong = sorted({char for char in value if not _ALPHANUMERIC.fullmatch(char)})
        shown = ", ".join(repr(char) for char in wrong)
        raise ValueError(f"sender id {value!r} contains {shown}; {expected}")
    if not _LETTER.search(value):
        raise ValueError(
            f"sender id {value!r} has no letter, so networks would take it for a number;"
            f' write a number as E.164 with its + (e.g. "+351912345678"), or {expected}'
        )
    return value
