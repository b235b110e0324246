"""Soak test: a long stream of simulated events through the engine, with its memory sampled.

Calls are generated as a stream (nothing is planned ahead, so the generator's own
memory stays flat), spread over business hours month after month, through the
real engine on an SQLite file. The resident set size is sampled every
`--every` events; after a warm-up the last samples must stay within `--tolerance`
of the first ones.

Usage: python chaos/soak.py [--events 1000000] [--every 20000] [--tolerance 0.10]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from hub.core import accounts, directory
from hub.core.engine import Engine
from hub.core.hours import BusinessHours
from hub.core.models import CallEvent, EventKind, WrapUp
from hub.core.store import Store
from hub.core.tariff import TariffConfig, document_for_plan, document_for_topup
from hub.plugins import Plugins
from hub.settings import Settings

LISBON = ZoneInfo("Europe/Lisbon")
CLIENTS = """
clients:
  - id: soak
    name: "Soak Lda"
    nif: "509999999"
    dids: ["+351217000001"]
    languages: [pt, en]
    tariff: {negotiated_cents: 30}
    script:
      version: 1
      fields: [{name: name, label: {pt: Nome, en: Name}, type: text, required: true}]
"""


def rss_kib() -> int:
    """Resident set size of this process, in KiB (Linux)."""
    with open(f"/proc/{os.getpid()}/statm") as handle:
        pages = int(handle.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") // 1024


def events(total: int) -> Iterator[CallEvent | WrapUp]:
    """`total` events: answered calls with their wrap-ups, one every 30 s of business hours."""
    hours = BusinessHours.default()
    at = datetime(2026, 1, 5, 9, 0, tzinfo=LISBON)
    number = 0
    emitted = 0
    while emitted < total:
        at = hours.next_open(at + timedelta(seconds=30))
        call_id = f"soak-{number}"
        number += 1
        caller = f"+3519{number % 100_000_000:08d}"
        for item in (
            CallEvent(call_id=call_id, kind=EventKind.OFFERED, at=at, did="+351217000001", caller=caller),
            CallEvent(call_id=call_id, kind=EventKind.ANSWERED, at=at + timedelta(seconds=3), agent="ana"),
            CallEvent(call_id=call_id, kind=EventKind.ENDED, at=at + timedelta(seconds=25)),
            WrapUp(call_id=call_id, agent="ana", answers={"name": f"Caller {number}"}),
        ):
            yield item
            emitted += 1
            if emitted >= total:
                return


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--every", type=int, default=20_000)
    parser.add_argument("--tolerance", type=float, default=0.10)
    args = parser.parse_args()
    os.environ.setdefault("RECADO_SECRET_KEY", "J8U7Qx3wqNwQ2n0W9m3a2Yw6sQ1y3x5k7o9q1s3u5w4=")
    plugins = Plugins(only=set())
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{Path(tmp) / 'soak.db'}")
        directory.apply_file(store, plugins.registry, Path(tmp) / "c.yaml", text=CLIENTS)
        start = datetime(2026, 1, 1, 8, 0, tzinfo=LISBON)
        accounts.purchase(store, plugins.registry, "soak", document_for_plan("12m"), start, TariffConfig())
        # Enough balance for every call of the stream.
        for _ in range(args.events // 4 * 150 // 5000 + 1):
            accounts.purchase(store, plugins.registry, "soak", document_for_topup(50), start, TariffConfig())
        engine = Engine(store, plugins.registry, Settings(database_url=store.url))
        samples: list[tuple[int, int]] = []
        began = time.perf_counter()
        for count, item in enumerate(events(args.events), start=1):
            if isinstance(item, WrapUp):
                engine.wrapup(item)
            else:
                engine.handle(item)
            if count % args.every == 0:
                samples.append((count, rss_kib()))
                rate = count / (time.perf_counter() - began)
                print(f"{count:>10,} events  rss {samples[-1][1] / 1024:8.1f} MiB  {rate:,.0f} events/s", flush=True)
        store.dispose()
    if len(samples) < 4:
        print("too few samples to judge: raise --events or lower --every")
        return 0
    warm = samples[len(samples) // 4][1]
    last = samples[-1][1]
    growth = (last - warm) / warm
    verdict = "flat" if growth <= args.tolerance else "GROWING"
    print(f"rss after warm-up {warm / 1024:.1f} MiB, at the end {last / 1024:.1f} MiB: {growth:+.1%} ({verdict})")
    return 0 if growth <= args.tolerance else 1


if __name__ == "__main__":
    sys.exit(main())
