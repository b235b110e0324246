"""ESL messages and the decoding of their header lines, done only when read.

Header values are percent-encoded by ``switch_url_encode`` (every byte outside
printable ASCII and every character of ``SWITCH_URL_UNSAFE``) and read back as
FreeSWITCH's own client library (``esl_url_decode``) reads them: ``%XX`` is the
byte XX, any other ``%`` stays as it is, and the bytes are UTF-8. Like that
library, event lines without a colon are skipped and the spaces after the colon
are not part of the value.

An event carries some 150-300 headers and a consumer reads a handful, so an
event keeps its header block as received and decodes it on first use:
`Message.get` decodes one value, `Message.headers` the whole block at once.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

__all__ = ["EVENT_JSON", "EVENT_PLAIN", "Message", "percent_decode"]

EVENT_PLAIN = "text/event-plain"
EVENT_JSON = "text/event-json"

#: A ``%`` that is not followed by two hex digits: such a value takes the slow path.
_LONE_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


def percent_decode(value: str) -> str:
    """Decode one value as ``esl_url_decode`` does: ``%XX`` is a byte, other ``%`` stay."""
    return unquote(value) if "%" in value else value


def _decode_joined(joined: str) -> str | None:
    """Percent-decode NUL-joined values in one C-level codec pass, or None if it cannot.

    Decoding value by value costs a Python call per escape; FreeSWITCH values
    are C strings (never NUL), so they are joined with NUL and the escapes of
    the whole block become bytes at once. A backslash (which the codec would
    read) or a lone ``%`` sends the caller to the value-by-value path.
    """
    if "%" not in joined:
        return joined
    if "\\" in joined or _LONE_PERCENT.search(joined) is not None:
        return None
    raw = joined.encode("utf-8").replace(b"%", b"\\x")
    decoded = raw.decode("unicode_escape").encode("latin-1").decode("utf-8", "replace")
    # A %00 would add a separator: let the caller take the slow path then.
    return decoded if decoded.count("\x00") == joined.count("\x00") else None


def raw_index(text: str) -> dict[str, str] | None:
    """Undecoded values of a header block when it has the wire's regular shape, else None.

    FreeSWITCH writes every line as ``Name: value`` with one colon (the
    encoder escapes ``:`` in values), one space, never an empty value
    (``_undef_`` instead) and no repeated name. Checking that with whole-block
    tests keeps the per-line work to one ``partition``.
    """
    lines = text.split("\n")
    index: dict[str, str] = {}
    for line in lines:
        name, _, value = line.partition(": ")
        index[name] = value
    if (
        len(index) != len(lines)
        or "\r" in text
        or "\x00" in text
        or ":  " in text
        or text.count(":") != len(lines)
        or "" in index.values()
    ):
        return None
    return index


def general_headers(text: str, *, strict: bool) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Line-by-line reading of ``esl_recv_event``: first value wins, repeats go to duplicates.

    With ``strict``, a line without a colon raises `ValueError` naming the line
    (outer headers must all be headers); otherwise such lines are skipped.
    """
    names: list[str] = []
    values: list[str] = []
    for number, line in enumerate(text.split("\n"), start=1):
        name, colon, value = line.partition(":")
        if not colon:
            if strict and line.strip("\r"):
                raise ValueError(f"header line {number} {line[:60]!r}: expected 'Name: value'")
            continue
        names.append(name)
        values.append(value.lstrip(" ").rstrip("\r") if strict else value.lstrip(" "))
    seen: dict[str, list[str]] = {}
    for name, value in zip(names, values, strict=True):
        seen.setdefault(name, []).append(percent_decode(value))
    duplicates = {n: vs for n, vs in seen.items() if len(vs) > 1}
    return {n: vs[0] for n, vs in seen.items()}, duplicates


def decode_index(index: dict[str, str]) -> dict[str, str]:
    """Decode every value of a regular block (in place): only the values with a ``%`` change."""
    keys = [name for name, value in index.items() if "%" in value]
    if not keys:
        return index
    decoded = _decode_joined("\x00".join([index[name] for name in keys]))
    parts = decoded.split("\x00") if decoded is not None else []
    if len(parts) == len(keys):
        index.update(zip(keys, parts, strict=True))
    else:
        for name in keys:
            index[name] = percent_decode(index[name])
    return index


class Message:
    """One ESL message.

    For ``text/event-plain`` and ``text/event-json``, ``headers`` and ``body``
    are the event's own (its headers decoded, its inner body); for every other
    content type they are the frame's outer headers and body. When a header
    name occurs more than once, ``headers`` keeps the first value and
    ``duplicates`` lists every value of that name, in order.
    """

    __slots__ = ("_duplicates", "_headers", "_index", "_text", "body", "content_type")

    def __init__(
        self,
        content_type: str,
        headers: dict[str, str] | None = None,
        body: str | None = None,
        duplicates: dict[str, list[str]] | None = None,
    ) -> None:
        self.content_type = content_type
        self.body = body
        self._headers = headers if headers is not None else {}
        self._duplicates = duplicates if duplicates is not None else {}
        self._text: str | None = None
        self._index: dict[str, str] | None = None

    @classmethod
    def lazy(cls, content_type: str, header_text: str, body: str | None) -> Message:
        """A message whose header block is decoded when first read."""
        message = cls(content_type, None, body)
        message._text = header_text
        return message

    def _materialize(self) -> None:
        """Decode the whole header block (once)."""
        text = self._text
        if text is None:
            return
        index = self._index if self._index is not None else raw_index(text)
        if index is not None:
            self._headers, self._duplicates = decode_index(index), {}
        else:
            self._headers, self._duplicates = general_headers(text, strict=False)
        self._text = None
        self._index = None

    @property
    def headers(self) -> dict[str, str]:
        """Every header, decoded; the first value of a repeated name."""
        if self._text is not None:
            self._materialize()
        return self._headers

    @property
    def duplicates(self) -> dict[str, list[str]]:
        """Every value of each header name that occurs more than once."""
        if self._text is not None:
            self._materialize()
        return self._duplicates

    def get(self, name: str, default: str | None = None) -> str | None:
        """One decoded header value (decoding only that one when the rest are unread)."""
        if self._text is not None:
            if self._index is None:
                self._index = raw_index(self._text)
                if self._index is None:
                    self._materialize()
                    return self._headers.get(name, default)
            value = self._index.get(name)
            return default if value is None else percent_decode(value)
        return self._headers.get(name, default)

    @property
    def is_event(self) -> bool:
        """Whether this message is an event (plain or json)."""
        return self.content_type in (EVENT_PLAIN, EVENT_JSON)

    @property
    def event_name(self) -> str | None:
        """The event's ``Event-Name``, or None for a message that is not an event."""
        return self.get("Event-Name") if self.is_event else None

    @property
    def reply_text(self) -> str:
        """``Reply-Text`` of a command/reply, or the body of an api/response."""
        if self.content_type == "api/response":
            return self.body or ""
        return self.get("Reply-Text") or ""

    @property
    def ok(self) -> bool:
        """Whether a reply reports success (FreeSWITCH starts errors with ``-ERR``/``-USAGE``)."""
        return not self.reply_text.startswith("-")

    def as_dict(self) -> dict[str, Any]:
        """The message as printed by ``recado freeswitch decode``."""
        return {"content_type": self.content_type, "headers": self.headers, "body": self.body}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Message):
            return NotImplemented
        return (
            self.content_type == other.content_type
            and self.headers == other.headers
            and self.body == other.body
            and self.duplicates == other.duplicates
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"Message(content_type={self.content_type!r}, headers={self.headers!r}, "
            f"body={self.body!r}, duplicates={self.duplicates!r})"
        )
