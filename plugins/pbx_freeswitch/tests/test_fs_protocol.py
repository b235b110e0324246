"""The sans-I/O ESL reader: framing, decoding as FreeSWITCH encodes, errors, any split."""

from __future__ import annotations

import json

import pytest
from fs_captures import (
    DECODED_EVENTS,
    EVENT_TEXTS,
    capture_bytes,
    event_text,
    read_capture,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from recado_freeswitch.protocol import Message, Parser, ProtocolError, percent_decode
from recado_freeswitch.wire import frame, serialize_event_json, serialize_event_plain, url_encode


def feed_whole(data: bytes) -> list[Message]:
    """Everything in one read."""
    return Parser().feed(data)


def feed_bytewise(data: bytes) -> list[Message]:
    """One byte per read."""
    parser = Parser()
    out: list[Message] = []
    for i in range(len(data)):
        out.extend(parser.feed(data[i : i + 1]))
    return out


def decoded(messages: list[Message]) -> list[tuple[str, dict[str, str], str | None, object]]:
    """What a message says, for comparisons."""
    return [(m.content_type, m.headers, m.body, m.duplicates) for m in messages]


@pytest.mark.parametrize("name", EVENT_TEXTS)
def test_every_capture_decodes_the_same_whole_or_byte_by_byte(name: str) -> None:
    data = frame("text/event-plain", event_text(name))
    whole = feed_whole(data)
    assert len(whole) == 1
    assert decoded(whole) == decoded(feed_bytewise(data))


def test_session_capture_decodes_the_same_whole_or_byte_by_byte() -> None:
    data = capture_bytes("switchio_eventstream1.txt")
    whole = feed_whole(data)
    assert decoded(whole) == decoded(feed_bytewise(data))
    assert [m.content_type for m in whole[:4]] == [
        "auth/request",
        "command/reply",
        "command/reply",
        "text/disconnect-notice",
    ]
    assert whole[1].reply_text == "+OK accepted"
    assert whole[3].body is not None and whole[3].body.startswith("Disconnected, goodbye.")
    events = [m for m in whole if m.is_event]
    assert events and events[0].event_name == "CHANNEL_CREATE"
    assert events[0].get("Unique-ID") == "d0b1da34-a727-11e4-9728-6f83a2e5e50a"


@pytest.mark.parametrize("name", DECODED_EVENTS)
def test_decoding_undoes_freeswitch_encoding_of_real_values(name: str) -> None:
    pairs = read_capture(name)
    first: dict[str, str] = {}
    for key, value in pairs:
        first.setdefault(key, value)
    (message,) = feed_whole(frame("text/event-plain", serialize_event_plain(pairs)))
    assert message.headers == first
    assert all(message.get(key) == value for key, value in first.items())


def test_wire_encoded_capture_decodes_to_the_published_values() -> None:
    (message,) = feed_whole(frame("text/event-plain", event_text("fsdocs_CHANNEL_CREATE_minimal.txt")))
    assert message.get("Event-Date-Local") == "2009-08-16 00:26:08"
    assert message.headers["Event-Date-GMT"] == "Sun, 16 Aug 2009 03:26:08 GMT"
    assert message.headers["FreeSWITCH-IPv6"] == "::1"
    assert message.headers["Channel-Name"] == "sofia/internal/1000@192.168.1.100"


def test_literal_percent_without_hex_digits_stays_as_freeswitch_reads_it() -> None:
    payload = b"Event-Name: CUSTOM\nvariable_ringback: %(2000,4000,440,480)\nx: 100%\n\n"
    (message,) = feed_whole(frame("text/event-plain", payload))
    assert message.headers["variable_ringback"] == "%(2000,4000,440,480)"
    assert message.get("x") == "100%"


def test_non_ascii_values_are_utf8_bytes_percent_encoded() -> None:
    (message,) = feed_whole(
        frame("text/event-plain", serialize_event_plain({"Caller-Caller-ID-Name": "João Gonçalves"}))
    )
    assert message.get("Caller-Caller-ID-Name") == "João Gonçalves"
    assert url_encode("João") == "Jo%C3%A3o"


def test_event_inner_body_is_read_by_its_own_content_length() -> None:
    payload = serialize_event_plain({"Event-Name": "BACKGROUND_JOB", "Job-UUID": "j1"}, "+OK 7f4db78a\n")
    (message,) = feed_whole(frame("text/event-plain", payload))
    assert message.body == "+OK 7f4db78a\n"
    assert message.headers["Job-UUID"] == "j1"


def test_repeated_header_keeps_first_value_and_lists_all() -> None:
    payload = b"Event-Name: CUSTOM\nX-Tag: one\nX-Tag: two%20b\n\n"
    (message,) = feed_whole(frame("text/event-plain", payload))
    assert message.headers["X-Tag"] == "one"
    assert message.get("X-Tag") == "one"
    assert message.duplicates == {"X-Tag": ["one", "two b"]}


def test_event_json_headers_and_body() -> None:
    payload = serialize_event_json({"Event-Name": "BACKGROUND_JOB", "Caller-Caller-ID-Name": "Ana %41"}, "+OK done\n")
    (message,) = feed_whole(frame("text/event-json", payload))
    assert message.content_type == "text/event-json"
    assert message.headers["Caller-Caller-ID-Name"] == "Ana %41"
    assert message.body == "+OK done\n"
    assert "_body" not in message.headers


def test_event_json_array_reads_like_its_plain_form() -> None:
    payload = json.dumps({"Event-Name": "CUSTOM", "list": ["a", "b"]}).encode()
    (message,) = feed_whole(frame("text/event-json", payload))
    assert message.headers["list"] == "ARRAY::a|:b"


def test_replies_keep_outer_headers_and_body() -> None:
    data = frame("command/reply", extra={"Reply-Text": "+OK Job-UUID: j9", "Job-UUID": "j9"}) + frame(
        "api/response", b"-ERR no such command\n"
    )
    reply, api = feed_whole(data)
    assert reply.headers["Job-UUID"] == "j9"
    assert reply.ok
    assert api.body == "-ERR no such command\n"
    assert not api.ok


def test_outbound_connect_reply_headers_are_decoded() -> None:
    payload = serialize_event_plain(
        [
            ("Event-Name", "CHANNEL_DATA"),
            ("Caller-Destination-Number", "+351217000001"),
            ("Content-Type", "command/reply"),
            ("Reply-Text", "+OK\n"),
            ("Socket-Mode", "async"),
        ]
    )
    (message,) = feed_whole(payload)
    assert message.content_type == "command/reply"
    assert message.reply_text == "+OK\n"
    assert message.get("Caller-Destination-Number") == "+351217000001"


def test_stray_line_ends_between_frames_are_skipped() -> None:
    data = b"\n" + frame("auth/request") + b"\n\n" + frame("command/reply", extra={"Reply-Text": "+OK"})
    assert [m.content_type for m in feed_whole(data)] == ["auth/request", "command/reply"]


def test_incomplete_frame_waits_for_the_rest() -> None:
    data = frame("api/response", b"+OK 1234\n")
    parser = Parser()
    assert parser.feed(data[:-3]) == []
    (message,) = parser.feed(data[-3:])
    assert message.body == "+OK 1234\n"


@pytest.mark.parametrize(
    ("data", "what"),
    [
        (b"Content-Length: 12x\nContent-Type: api/response\n\n", "Content-Length '12x'"),
        (b"Content-Type: command/reply\nno colon here\n\n", "header line 2"),
        (b"Reply-Text: +OK\n\n", "no Content-Type"),
        (b"Content-Type: text/event-plain\n\n", "without a body"),
        (frame("text/event-json", b"{not json"), "not JSON"),
        (frame("text/event-json", b"[1, 2]"), "not an object"),
        (
            frame("text/event-plain", b"Event-Name: X\nContent-Length: 99\n\nshort"),
            "exceeds the 5 bytes",
        ),
    ],
)
def test_malformed_frame_raises_protocol_error_saying_what(data: bytes, what: str) -> None:
    with pytest.raises(ProtocolError, match=what):
        feed_whole(data)


def test_protocol_error_says_where_the_frame_starts() -> None:
    good = frame("auth/request")
    with pytest.raises(ProtocolError) as caught:
        feed_whole(good + b"Content-Length: -1\nContent-Type: x\n\n")
    assert caught.value.offset == len(good)
    assert f"byte {len(good)}" in str(caught.value)


def test_header_block_without_end_is_refused_past_the_limit() -> None:
    parser = Parser(max_header_bytes=100)
    with pytest.raises(ProtocolError, match="header block longer than 100"):
        parser.feed(b"Content-Type: x\n" + b"A: b\n" * 40)


def test_content_length_above_the_limit_is_refused() -> None:
    with pytest.raises(ProtocolError, match="above the limit"):
        Parser(max_body_bytes=10).feed(b"Content-Length: 11\nContent-Type: x\n\n")


_values = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=30)
_events = st.lists(
    st.tuples(st.from_regex(r"[A-Za-z][A-Za-z0-9_-]{0,15}", fullmatch=True), _values),
    min_size=1,
    max_size=8,
)


@settings(max_examples=100, deadline=None)
@given(events=st.lists(_events, min_size=1, max_size=4), cuts=st.lists(st.integers(0, 4000)))
def test_any_split_of_a_stream_decodes_identically(events: list[list[tuple[str, str]]], cuts: list[int]) -> None:
    data = b"".join(frame("text/event-plain", serialize_event_plain(e)) for e in events)
    points = sorted({c % (len(data) + 1) for c in cuts})
    parser = Parser()
    out: list[Message] = []
    last = 0
    for point in [*points, len(data)]:
        out.extend(parser.feed(data[last:point]))
        last = point
    assert decoded(out) == decoded(feed_whole(data))
    for message, pairs in zip(out, events, strict=True):
        first: dict[str, str] = {}
        for key, value in pairs:
            first.setdefault(key, value)
        # FreeSWITCH writes "_undef_" for an empty value and does not double-encode
        # an existing %XX, so such text reads back decoded.
        expected = {k: percent_decode(url_encode(v)) or "_undef_" for k, v in first.items()}
        assert message.headers == expected


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=600), cut=st.integers(0, 600))
def test_arbitrary_bytes_raise_only_protocol_error(data: bytes, cut: int) -> None:
    parser = Parser(max_header_bytes=256, max_body_bytes=1024)
    try:
        for message in parser.feed(data[:cut]) + parser.feed(data[cut:]):
            assert isinstance(message.headers, dict)
            message.get("Event-Name")
    except ProtocolError:
        pass


_frames = st.sampled_from(
    [
        frame("auth/request"),
        frame("command/reply", extra={"Reply-Text": "+OK accepted"}),
        frame("text/event-plain", serialize_event_plain({"Event-Name": "HEARTBEAT", "Up": "1 day"})),
        frame("text/event-json", serialize_event_json({"Event-Name": "CUSTOM"}, "b")),
        frame("api/response", b"+OK\n"),
    ]
)


@settings(max_examples=300, deadline=None)
@given(
    parts=st.lists(_frames, min_size=1, max_size=5),
    pos=st.integers(0, 2000),
    byte=st.binary(min_size=1, max_size=3),
)
def test_corrupted_valid_stream_raises_only_protocol_error(parts: list[bytes], pos: int, byte: bytes) -> None:
    data = b"".join(parts)
    at = pos % len(data)
    corrupted = data[:at] + byte + data[at + 1 :]
    try:
        for message in feed_whole(corrupted):
            _ = message.headers, message.duplicates, message.body
    except ProtocolError:
        pass
