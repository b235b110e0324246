"""Writing the ESL wire format: the commands a client sends and the frames FreeSWITCH sends.

Commands are what `recado_freeswitch.client` writes. The frame writers mirror
``switch_event_serialize`` / ``switch_event_serialize_json`` and the framing of
``mod_event_socket.c``; the client does not need them, the ESL emulator used to
test it does, and so does anyone writing captures for the ``decode`` command.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping

__all__ = [
    "command",
    "frame",
    "sendmsg",
    "serialize_event_json",
    "serialize_event_plain",
    "url_encode",
]

#: ``SWITCH_URL_UNSAFE`` from switch_utils.h.
_UNSAFE = frozenset(b'\r\n #%&+:;<=>?@[\\]^`{|}"')
_HEX = b"0123456789ABCDEF"


def url_encode(value: str) -> str:
    """Percent-encode like ``switch_url_encode``.

    Every byte outside printable ASCII and every unsafe character becomes
    ``%XX`` with upper-case hex, except a ``%`` already followed by two
    upper-case hex digits, which FreeSWITCH passes through (it does not
    double-encode).
    """
    data = value.encode("utf-8")
    if all(32 <= c <= 126 and c not in _UNSAFE for c in data):
        return value
    out = bytearray()
    last = len(data) - 1
    for i, c in enumerate(data):
        if c == 0x25 and i + 2 <= last and data[i + 1] in _HEX and data[i + 2] in _HEX:
            out.append(c)
        elif c < 32 or c > 126 or c in _UNSAFE:
            out += b"%" + _HEX[c >> 4 : (c >> 4) + 1] + _HEX[c & 15 : (c & 15) + 1]
        else:
            out.append(c)
    return out.decode("ascii")


def _pairs(headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """Headers as an ordered list of pairs (a mapping, or pairs to allow repeated names)."""
    if isinstance(headers, Mapping):
        return list(headers.items())
    return list(headers)


def serialize_event_plain(headers: Mapping[str, str] | Iterable[tuple[str, str]], body: str | None = None) -> bytes:
    """An event as ``switch_event_serialize(event, &s, SWITCH_TRUE)`` writes it."""
    lines = []
    for name, value in _pairs(headers):
        encoded = url_encode(value)
        lines.append(f"{name}: {encoded or '_undef_'}\n")
    text = "".join(lines)
    if body:
        data = body.encode("utf-8")
        return f"{text}Content-Length: {len(data)}\n\n".encode() + data
    return (text + "\n").encode("utf-8")


def serialize_event_json(headers: Mapping[str, str] | Iterable[tuple[str, str]], body: str | None = None) -> bytes:
    """An event as ``switch_event_serialize_json`` writes it (cJSON, unformatted)."""
    obj: dict[str, str] = {}
    for name, value in _pairs(headers):
        obj.setdefault(name, value)
    if body:
        obj["Content-Length"] = str(len(body.encode("utf-8")))
        obj["_body"] = body
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def frame(
    content_type: str,
    body: bytes = b"",
    extra: Mapping[str, str] | None = None,
    *,
    length_first: bool = True,
) -> bytes:
    """One outer frame as mod_event_socket sends it: headers, empty line, body.

    Events go out as ``Content-Length`` then ``Content-Type``; api responses
    as ``Content-Type`` then ``Content-Length`` (``length_first=False``).
    """
    length = f"Content-Length: {len(body)}\n" if body else ""
    head = (length if length_first else "") + f"Content-Type: {content_type}\n"
    if not length_first:
        head += length
    for name, value in (extra or {}).items():
        head += f"{name}: {value}\n"
    return (head + "\n").encode("utf-8") + body


def _one_line(text: str, what: str) -> str:
    """Refuse a line end inside a command line: it would end the command early."""
    if "\n" in text or "\r" in text:
        raise ValueError(f"{what} must be one line, got {text[:60]!r}")
    return text


def command(line: str, headers: Mapping[str, str] | None = None, body: str | None = None) -> bytes:
    """A client command: ``line``, optional header lines, the empty line, optional body."""
    out = _one_line(line, "command") + "\n"
    for name, value in (headers or {}).items():
        out += f"{_one_line(name, 'header name')}: {_one_line(value, 'header ' + name)}\n"
    data = body.encode("utf-8") if body else b""
    if data:
        out += f"Content-Length: {len(data)}\n"
    return (out + "\n").encode("utf-8") + data


def sendmsg(
    uuid: str | None,
    app: str,
    arg: str = "",
    *,
    event_uuid: str | None = None,
    event_lock: bool = False,
) -> bytes:
    """A ``sendmsg`` that executes dialplan application ``app`` on a channel.

    The argument travels as the message body (``content-type: text/plain``),
    so it may hold any character.
    """
    headers = {"call-command": "execute", "execute-app-name": app}
    if event_lock:
        headers["event-lock"] = "true"
    if event_uuid:
        headers["Event-UUID"] = event_uuid
    line = f"sendmsg {uuid}" if uuid else "sendmsg"
    if arg:
        headers["content-type"] = "text/plain"
    return command(line, headers, arg or None)
