"""Decode rate of the ESL `Parser` against a framing-only baseline, same bytes, same run.

The stream is made of real channel events (the webitel captures shipped with
the tests), percent-encoded as FreeSWITCH writes them, fed in 64 KiB reads.
The baseline only frames: it splits frames by Content-Length and each event's
header lines into a dict of raw, undecoded values. The parser is read as the
event mapping reads it (seven headers per event, each decoded); the ratio
printed is parser rate / baseline rate, goal at least 0.5. The rate with every
header of every event decoded is printed beside it.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

from recado_freeswitch.protocol import Parser
from recado_freeswitch.wire import frame, serialize_event_json, serialize_event_plain

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures"
CAPTURES = [
    "webitel_CHANNEL_CREATE.txt",
    "webitel_CHANNEL_BRIDGE.txt",
    "webitel_CHANNEL_UNBRIDGE.txt",
    "webitel_CHANNEL_DESTROY.txt",
    "webitel_DTMF.txt",
]
READ = 64 * 1024
TARGET_BYTES = 12 * 1024 * 1024
ROUNDS = 5
_HEADER = re.compile(r"^([A-Za-z0-9_\-]+): ?(.*)$")


def read_capture(path: Path) -> list[tuple[str, str]]:
    """Headers of a decoded capture; lines that are not ``Name: value`` continue the last value."""
    pairs: list[tuple[str, str]] = []
    for line in path.read_text(encoding="utf-8").split("\n"):
        match = _HEADER.match(line)
        if match:
            pairs.append((match.group(1), match.group(2)))
        elif pairs:
            name, value = pairs[-1]
            pairs[-1] = (name, value + "\n" + line)
    return pairs


def build_stream(kind: str) -> bytes:
    """About TARGET_BYTES of event frames of one format."""
    frames = []
    for name in CAPTURES:
        pairs = read_capture(FIXTURES / name)
        if kind == "plain":
            frames.append(frame("text/event-plain", serialize_event_plain(pairs)))
        else:
            frames.append(frame("text/event-json", serialize_event_json(pairs)))
    unit = b"".join(frames)
    return unit * (TARGET_BYTES // len(unit) + 1)


def chunks(data: bytes) -> list[bytes]:
    """The stream cut into reads as a socket would return them."""
    return [data[i : i + READ] for i in range(0, len(data), READ)]


def baseline_plain(reads: list[bytes]) -> int:
    """Framing only: frames by Content-Length, header lines into a dict of raw values."""
    buf = bytearray()
    count = 0
    for data in reads:
        buf += data
        pos = 0
        while True:
            end = buf.find(b"\n\n", pos)
            if end < 0:
                break
            outer = {}
            for line in bytes(buf[pos:end]).decode().split("\n"):
                name, _, value = line.partition(": ")
                outer[name] = value
            length = int(outer.get("Content-Length", "0"))
            if len(buf) - end - 2 < length:
                break
            payload = bytes(buf[end + 2 : end + 2 + length])
            pos = end + 2 + length
            head = payload.partition(b"\n\n")[0].decode()
            headers = {}
            for line in head.split("\n"):
                name, _, value = line.partition(": ")
                headers[name] = value
            count += len(headers) > 0
        del buf[:pos]
    return count


def baseline_json(reads: list[bytes]) -> int:
    """Framing only, then the JSON body loaded into a dict (its values are already text)."""
    buf = bytearray()
    count = 0
    for data in reads:
        buf += data
        pos = 0
        while True:
            end = buf.find(b"\n\n", pos)
            if end < 0:
                break
            outer = {}
            for line in bytes(buf[pos:end]).decode().split("\n"):
                name, _, value = line.partition(": ")
                outer[name] = value
            length = int(outer.get("Content-Length", "0"))
            if len(buf) - end - 2 < length:
                break
            headers = json.loads(bytes(buf[end + 2 : end + 2 + length]))
            pos = end + 2 + length
            count += len(headers) > 0
        del buf[:pos]
    return count


#: What the event mapping reads of each event.
READ_HEADERS = (
    "Event-Name",
    "Unique-ID",
    "Event-Date-Timestamp",
    "Caller-Destination-Number",
    "Caller-Caller-ID-Number",
    "variable_recado_did",
    "variable_recado_client",
)


def parser_run(reads: list[bytes]) -> int:
    """The real parser, each event read as the event mapping reads it (seven headers)."""
    parser = Parser()
    count = 0
    for data in reads:
        for message in parser.feed(data):
            values = [message.get(name) for name in READ_HEADERS]
            count += values[1] is not None or values[0] is not None
    return count


def parser_all(reads: list[bytes]) -> int:
    """The real parser with every header of every event decoded."""
    parser = Parser()
    count = 0
    for data in reads:
        for message in parser.feed(data):
            count += len(message.headers) > 0
    return count


def measure(funcs: list[object], reads: list[bytes], size: int) -> list[tuple[float, int]]:
    """Best of ROUNDS in MB/s for each function, and its message count.

    The functions take turns within each round, so a machine busy with other
    work slows them alike and the ratios stay meaningful.
    """
    best = [0.0] * len(funcs)
    counts = [0] * len(funcs)
    for _ in range(ROUNDS):
        for i, func in enumerate(funcs):
            assert callable(func)
            start = time.perf_counter()
            counts[i] = func(reads)
            elapsed = time.perf_counter() - start
            best[i] = max(best[i], size / elapsed / 1e6)
    return list(zip(best, counts, strict=True))


def main() -> None:
    """Print parser and baseline rates, and their ratio, for plain and json events."""
    for kind, baseline in (("plain", baseline_plain), ("json", baseline_json)):
        data = build_stream(kind)
        reads = chunks(data)
        results = measure([baseline, parser_run, parser_all], reads, len(data))
        (base_rate, base_count), (rate, count), (all_rate, all_count) = results
        if not count == all_count == base_count:
            raise SystemExit(f"event {kind}: parser saw {count} events, baseline {base_count}")
        print(
            f"event {kind}: {count} events, {len(data) / 1e6:.1f} MB in 64 KiB reads; "
            f"baseline {base_rate:.1f} MB/s, Parser {rate:.1f} MB/s, "
            f"ratio {rate / base_rate:.2f} (goal >= 0.5); "
            f"every header decoded: {all_rate:.1f} MB/s, ratio {all_rate / base_rate:.2f}"
        )


if __name__ == "__main__":
    main()
