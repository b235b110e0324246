"""Sans-I/O reader of FreeSWITCH's event socket (ESL) wire protocol.

Bytes go in with `Parser.feed`, decoded `Message`s come out; no sockets here, so
the same code serves the asyncio client, the outbound-socket server, the
``decode`` command and the tests.

The wire format is the one ``mod_event_socket.c`` writes: a block of
``Name: value`` lines ended by an empty line, then ``Content-Length`` bytes of
body. How header values are decoded, and when, is `recado_freeswitch.message`'s
business; this module frames, and says exactly where a frame is malformed.
"""

from __future__ import annotations

import json
from typing import Any

from recado_freeswitch.message import (
    EVENT_JSON,
    EVENT_PLAIN,
    Message,
    general_headers,
    percent_decode,
    raw_index,
)

__all__ = ["EVENT_JSON", "EVENT_PLAIN", "Message", "Parser", "ProtocolError", "percent_decode"]


class ProtocolError(Exception):
    """A frame that does not follow the ESL wire format; the connection cannot go on.

    ``offset`` is the position in the byte stream (counted from the parser's
    first byte) of the frame at fault.
    """

    def __init__(self, what: str, offset: int) -> None:
        self.what = what
        self.offset = offset
        #: The whole messages that came before the bad frame in the same `Parser.feed`.
        self.messages: list[Message] = []
        super().__init__(f"{what} (frame at byte {offset} of the stream)")


def _outer_headers(text: str, offset: int) -> tuple[dict[str, str], dict[str, list[str]]]:
    """The frame's own header lines, decoded (``esl_recv_event`` decodes them too)."""
    index = raw_index(text)
    if index is not None:
        return {name: percent_decode(value) for name, value in index.items()}, {}
    try:
        return general_headers(text, strict=True)
    except ValueError as exc:
        raise ProtocolError(str(exc), offset) from None


def _content_length(raw: str | None, offset: int, where: str) -> int:
    """Read a Content-Length value; anything but a plain decimal is a protocol error."""
    if raw is None:
        return 0
    text = raw.strip()
    if not text.isdigit() or not text.isascii() or len(text) > 15:
        raise ProtocolError(f"{where} Content-Length {raw[:40]!r} is not a number", offset)
    return int(text)


def _json_value(value: Any, name: str, offset: int) -> str:
    """One header of a JSON event as text; arrays as FreeSWITCH writes them in plain events."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "ARRAY::" + "|:".join(value)
    if isinstance(value, bool) or value is None or isinstance(value, int | float):
        return json.dumps(value)
    raise ProtocolError(f"event-json header {name[:60]!r} holds a {type(value).__name__}", offset)


def _event_plain(payload: bytes, offset: int) -> Message:
    """Decode the inner event of a text/event-plain frame."""
    head, _, rest = payload.partition(b"\n\n")
    if head.endswith(b"\n"):
        head = head[:-1]
    text = head.decode("utf-8", "replace")
    if b"Content-Length" not in head:
        return Message.lazy(EVENT_PLAIN, text, None)
    # An event with a body says so in its own Content-Length: read it now so
    # that a length past the frame is an error of this frame.
    headers, duplicates = general_headers(text, strict=False)
    body: str | None = None
    inner = headers.get("Content-Length")
    if inner is not None:
        length = _content_length(inner, offset, "event")
        if length > len(rest):
            raise ProtocolError(
                f"event Content-Length {length} exceeds the {len(rest)} bytes left in the frame",
                offset,
            )
        body = rest[:length].decode("utf-8", "replace")
    return Message(EVENT_PLAIN, headers, body, duplicates)


def _event_json(payload: bytes, offset: int) -> Message:
    """Decode the inner event of a text/event-json frame."""
    try:
        obj = json.loads(payload)
    except (ValueError, RecursionError) as exc:
        raise ProtocolError(f"event-json body is not JSON: {exc}", offset) from None
    if not isinstance(obj, dict):
        raise ProtocolError(f"event-json body is a {type(obj).__name__}, not an object", offset)
    body = obj.pop("_body", None)
    if body is not None and not isinstance(body, str):
        raise ProtocolError("event-json _body is not a string", offset)
    if all(type(v) is str for v in obj.values()):
        return Message(EVENT_JSON, obj, body)
    headers = {str(k): _json_value(v, str(k), offset) for k, v in obj.items()}
    return Message(EVENT_JSON, headers, body)


class Parser:
    """Incremental ESL reader: `feed` bytes in any split, get complete messages back.

    ``max_header_bytes`` bounds a frame's outer header block and ``max_body_bytes``
    its Content-Length, so a peer that never ends a frame cannot make the reader
    grow without limit.
    """

    def __init__(self, *, max_header_bytes: int = 1 << 20, max_body_bytes: int = 64 << 20) -> None:
        self._buf = bytearray()
        self._offset = 0
        self._scan = 0
        self._head: tuple[dict[str, str], dict[str, list[str]], int] | None = None
        self._max_header = max_header_bytes
        self._max_body = max_body_bytes

    @property
    def offset(self) -> int:
        """Stream position of the first byte not yet consumed."""
        return self._offset

    @property
    def pending(self) -> int:
        """Bytes received that do not yet make a whole message."""
        return len(self._buf)

    def feed(self, data: bytes) -> list[Message]:
        """Add received bytes; return the messages completed by them, in order."""
        self._buf += data
        out: list[Message] = []
        try:
            self._frames(out)
        except ProtocolError as exc:
            exc.messages = out
            raise
        return out

    def _frames(self, out: list[Message]) -> None:
        """Cut every whole frame off the buffer into ``out``."""
        buf = self._buf
        pos = 0
        size = len(buf)
        while True:
            if self._head is None:
                # FreeSWITCH ignores stray line ends between frames; so does this reader.
                while pos < size and buf[pos] in (10, 13):
                    pos += 1
                if pos >= size:
                    break
                end = buf.find(b"\n\n", max(pos, self._scan))
                if end < 0:
                    self._scan = max(pos, size - 1)
                    if size - pos > self._max_header:
                        raise ProtocolError(
                            f"header block longer than {self._max_header} bytes without an end",
                            self._offset + pos,
                        )
                    break
                start = self._offset + pos
                text = bytes(buf[pos:end]).decode("utf-8", "replace")
                headers, dups = _outer_headers(text, start)
                length = _content_length(headers.get("Content-Length"), start, "frame")
                if length > self._max_body:
                    raise ProtocolError(
                        f"frame Content-Length {length} is above the limit of {self._max_body}",
                        start,
                    )
                if "Content-Type" not in headers:
                    raise ProtocolError("frame has no Content-Type header", start)
                pos = end + 2
                self._head = (headers, dups, start)
            headers, dups, start = self._head
            length = _content_length(headers.get("Content-Length"), start, "frame")
            if size - pos < length:
                break
            payload = bytes(buf[pos : pos + length])
            pos += length
            self._head = None
            self._scan = pos
            out.append(self._message(headers, dups, payload, start))
        if pos:
            del buf[:pos]
            self._offset += pos
            self._scan = max(0, self._scan - pos)

    @staticmethod
    def _message(headers: dict[str, str], dups: dict[str, list[str]], payload: bytes, start: int) -> Message:
        """Build the message of one complete frame."""
        content_type = headers["Content-Type"].strip()
        if content_type == EVENT_PLAIN:
            if not payload:
                raise ProtocolError("text/event-plain frame without a body", start)
            return _event_plain(payload, start)
        if content_type == EVENT_JSON:
            return _event_json(payload, start)
        body = payload.decode("utf-8", "replace") if payload else None
        return Message(content_type, headers, body, dups)
