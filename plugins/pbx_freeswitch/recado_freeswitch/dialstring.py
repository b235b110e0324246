"""Building ``originate`` command lines that FreeSWITCH reads exactly as meant.

An originate line is split on spaces (single quotes keep a value with spaces
together, and are then stripped), the ``{…}`` block on commas, and a variable's
value may later be expanded (``${…}`` runs API commands). So nothing a client or
a campaign file wrote reaches the line as is:

* numbers are E.164 digits only (``+`` and 6 to 15 digits);
* names (the caller id name an agent's phone or the person's phone shows) keep
  letters, digits, spaces and ``. - ’`` only, and are quoted when they hold a space;
* every other value (uuids, ids, gateway, agent, file paths) must match a strict
  pattern, or `DialStringError` names the variable and what was expected.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = [
    "DialStringError",
    "Leg",
    "bridge_to",
    "caller_name",
    "dial_number",
    "originate_line",
    "playback",
]

_NUMBER = re.compile(r"^\+[1-9][0-9]{5,14}$")
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
#: Plain values: no space, quote, comma, brace, bracket, parenthesis, ``$``, ``^`` or backslash.
_PLAIN = re.compile(r"^[A-Za-z0-9_.:@/+-]{1,200}$")
_TOKEN = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_ENDPOINT = re.compile(r"^[A-Za-z0-9_.:@/%+-]{1,200}$")
_NAME_MAX = 50


class DialStringError(ValueError):
    """A value that cannot go into an originate line safely."""


def dial_number(number: str, *, what: str = "number") -> str:
    """`number` when it is E.164 (``+351912345678``); `DialStringError` otherwise."""
    if not _NUMBER.match(number or ""):
        raise DialStringError(f"{what} {number!r}: expected an E.164 number, + and 6 to 15 digits")
    return number


def token(value: str, what: str) -> str:
    """A gateway, agent or profile name: letters, digits, ``.``, ``_``, ``-``."""
    if not _TOKEN.match(value or ""):
        raise DialStringError(f"{what} {value!r}: expected letters, digits, '.', '_' or '-' (at most 64)")
    return value


def caller_name(text: str) -> str:
    """A display name reduced to what a caller id name may safely carry (letters, digits, ``. - ’``, spaces)."""
    kept = []
    for char in unicodedata.normalize("NFC", text or ""):
        if char == "'":
            kept.append("’")  # the typographic apostrophe: an ASCII one would open a quote
        elif char.isalnum() or char in ".-’":
            kept.append(char)
        elif char.isspace():
            kept.append(" ")
    name = " ".join("".join(kept).split())
    return name[:_NAME_MAX].strip()


def _value(key: str, value: str) -> str:
    if _PLAIN.match(value):
        return value
    if value and value == value.strip() and all(char.isalnum() or char in " .-’" for char in value):
        # A name: quoted, so that its spaces do not split the line (FreeSWITCH strips the quotes).
        return f"'{value}'"
    raise DialStringError(
        f"originate variable {key}: {value!r} must be letters, digits and . _ : @ / + - "
        "(or a name of letters, digits, spaces and . - ’) only"
    )


def variables(pairs: Mapping[str, str]) -> str:
    """The ``{key=value,…}`` block of a dial string, every key and value checked."""
    items = []
    for key, value in pairs.items():
        if not _KEY.match(key):
            raise DialStringError(f"originate variable name {key!r}: expected lower-case letters, digits and _")
        items.append(f"{key}={_value(key, value)}")
    return "{" + ",".join(items) + "}"


@dataclass(frozen=True)
class Leg:
    """One leg to call: its endpoint (``user/ana``, ``sofia/gateway/gw/+351…``) and its channel variables."""

    endpoint: str
    variables: Mapping[str, str]

    def dial_string(self) -> str:
        """``{vars}endpoint``."""
        if not _ENDPOINT.match(self.endpoint):
            raise DialStringError(f"endpoint {self.endpoint!r}: expected letters, digits and . _ : @ / % + - only")
        return variables(self.variables) + self.endpoint


def bridge_to(leg: Leg) -> str:
    """The ``&bridge(…)`` application that connects the answered first leg to `leg`."""
    return f"&bridge({leg.dial_string()})"


def playback(path: str) -> str:
    """The ``&playback(…)`` application playing `path` (a sound file path, or ``prefix/name.ext``)."""
    if not _PLAIN.match(path) or ".." in path:
        raise DialStringError(f"message file {path!r}: expected letters, digits and . _ : @ / + - only, no '..'")
    return f"&playback({path})"


def originate_line(leg: Leg, application: str) -> str:
    """``originate {vars}endpoint &app(args)``: the command for ``bgapi``."""
    if not application.startswith("&") or "\n" in application or "\r" in application:
        raise DialStringError(f"originate application {application!r}: expected &name(args)")
    return f"originate {leg.dial_string()} {application}"
