"""A webhook receiver process that writes every delivery to SQLite before it answers.

It plays a client's platform in the crash test: it verifies the Standard
Webhooks signature, logs every request it accepted (``requests``) and keeps one
row per distinct ``webhook-id`` (``effects``), the way a careful receiver
deduplicates. Both are committed before the 200 goes out, so a receiver
killed at any moment never acknowledges what it did not keep.

Usage: python chaos/receiver.py --port PORT --db FILE   (secret in CHAOS_HOOK_SECRET)

It can also misbehave on purpose for outage tests: ``--fail-first N`` answers
the first N requests with ``--fail-status`` (503 by default).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import socket
import sqlite3
import time
from pathlib import Path

from recado_webhook.signing import secret_key, verify

SCHEMA = """
CREATE TABLE IF NOT EXISTS requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    msg_id TEXT NOT NULL,
    record_id TEXT,
    event_type TEXT,
    received_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS effects (
    msg_id TEXT PRIMARY KEY,
    record_id TEXT,
    event_type TEXT
);
"""


def open_db(path: Path) -> sqlite3.Connection:
    """The receiver's database, created if needed (WAL: a killed process loses no commit)."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA busy_timeout=30000")
    conn.executescript(SCHEMA)
    return conn


class Receiver:
    """Answers POSTs: 401 for a bad signature, 200 once the delivery is committed."""

    def __init__(self, db: sqlite3.Connection, secret: str, fail_first: int = 0, fail_status: int = 503) -> None:
        self.db = db
        self.keys = [secret_key(secret)]
        self.fail_left = fail_first
        self.fail_status = fail_status

    def handle(self, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        """Status and body of the answer to one POST."""
        msg_id = headers.get("webhook-id", "")
        timestamp = headers.get("webhook-timestamp", "")
        signatures = headers.get("webhook-signature", "")
        if not (msg_id and timestamp.isdigit() and verify(self.keys, msg_id, int(timestamp), body, signatures)):
            return 401, b'{"error":"invalid signature"}'
        if self.fail_left > 0:
            self.fail_left -= 1
            return self.fail_status, b'{"error":"try later"}'
        try:
            event = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError):
            return 400, b'{"error":"not JSON"}'
        items = event["data"] if event.get("type") == "recado.batch" else [{"id": msg_id, **event}]
        self.db.execute("BEGIN IMMEDIATE")
        for item in items:
            data = item.get("data") or {}
            row = (str(item["id"]), data.get("record_id") or data.get("notice_id"), item.get("type"))
            self.db.execute(
                "INSERT INTO requests (msg_id, record_id, event_type, received_at) VALUES (?, ?, ?, ?)",
                (*row, time.time()),
            )
            self.db.execute("INSERT OR IGNORE INTO effects (msg_id, record_id, event_type) VALUES (?, ?, ?)", row)
        self.db.execute("COMMIT")
        return 200, json.dumps({"id": f"obj_{msg_id}"}).encode()

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """One keep-alive HTTP/1.1 connection (Content-Length bodies only)."""
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                request_line, *lines = head.decode("latin-1").split("\r\n")
                headers = {}
                for line in lines:
                    name, sep, value = line.partition(":")
                    if sep:
                        headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length") or 0))
                status, answer = self.handle(headers, body) if request_line.startswith("POST ") else (405, b"")
                status_line = (
                    f"HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {len(answer)}\r\n\r\n"
                )
                writer.write(status_line.encode() + answer)
                await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            pass
        finally:
            writer.close()


def listening_socket(port: int) -> socket.socket:
    """A socket on 127.0.0.1:`port` that a restarted receiver can bind again at once."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(256)
    return sock


async def main(args: argparse.Namespace) -> None:
    """Serve until SIGTERM or SIGINT."""
    receiver = Receiver(
        open_db(Path(args.db)), os.environ[args.secret_env], fail_first=args.fail_first, fail_status=args.fail_status
    )
    server = await asyncio.start_server(receiver.serve, sock=listening_socket(args.port))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with server:
        await stop.wait()
    with contextlib.suppress(Exception):
        receiver.db.close()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line arguments."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--db", required=True, help="SQLite file where deliveries are kept.")
    parser.add_argument("--secret-env", default="CHAOS_HOOK_SECRET", help="Variable holding the signing secret.")
    parser.add_argument("--fail-first", type=int, default=0, help="Refuse this many first requests.")
    parser.add_argument("--fail-status", type=int, default=503, help="Status of those refusals.")
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
