"""HubSpot API requests per 100 records on a 10,000-record backlog, against the local fake.

Each scenario delivers the same backlog through the real hubspot-api-client to
a fake HubSpot on 127.0.0.1 and counts the requests the fake answered. The
baseline, run side by side in the same process, logs each call with its own
request (``POST /crm/v3/objects/calls`` with the contact association inline,
contact lookups not even counted): one request per record. It runs on the
first 1,000 records of the backlog, which is enough to measure a per-record
cost and keeps the whole script under a minute.

Run: ``.venv/bin/python plugins/hubspot/bench/bench_hubspot_requests.py``
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Sequence

from hubspot import HubSpot  # type: ignore[import-untyped]
from recado_hubspot import HubSpotConfig, HubSpotSink
from recado_hubspot.fake_server import FakeHubSpot

from hub.core.models import Delivered, Delivery
from hub.testing import make_batch

BACKLOG = 10_000
BASELINE_SAMPLE = 1_000
TOKEN = "pat-eu1-bench"


async def drain(sink: HubSpotSink, backlog: Sequence[Delivery]) -> None:
    """Deliver `backlog` in batches of `max_batch`, as a worker catching up would."""
    size = sink.max_batch
    for start in range(0, len(backlog), size):
        outcomes = await sink.deliver(backlog[start : start + size])
        missed = [o for o in outcomes if not isinstance(o, Delivered)]
        if missed:
            raise SystemExit(f"bench delivery failed: {missed[:3]}")


def measure(fake: FakeHubSpot, run: object) -> tuple[int, float]:
    """Requests the fake answered and seconds spent while `run` (a coroutine) ran."""
    before = fake.total_requests
    started = time.perf_counter()
    asyncio.run(run)  # type: ignore[arg-type]
    return fake.total_requests - before, time.perf_counter() - started


def one_request_per_record(fake: FakeHubSpot, backlog: Sequence[Delivery], contact: str) -> None:
    """The baseline: each call created alone with the SDK's basic API."""
    api = HubSpot(access_token=TOKEN, host=fake.url).crm.objects.calls.basic_api
    for delivery in backlog:
        assert delivery.record is not None
        api.create(
            {
                "properties": {
                    "hs_timestamp": delivery.record.answered_at.isoformat() if delivery.record.answered_at else "",
                    "hs_call_direction": "INBOUND",
                    "recado_record_id": delivery.idempotency_key + "-baseline",
                },
                "associations": [
                    {
                        "to": {"id": contact},
                        "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 194}],
                    }
                ],
            }
        )


def main() -> None:
    # Client and fake share one process: hand the interpreter lock over quickly.
    sys.setswitchinterval(0.0002)
    backlog = make_batch(BACKLOG, seed=2026)
    rows: list[tuple[str, int, float]] = []

    with FakeHubSpot(token=TOKEN) as fake:
        sink = HubSpotSink(HubSpotConfig(access_token=TOKEN, host=fake.url))
        rows.append(("first delivery, new callers", *measure(fake, drain(sink, backlog))))
        retried = [d.model_copy(update={"attempt": 2}) for d in backlog]
        rows.append(("same backlog retried (replay)", *measure(fake, drain(sink, retried))))
        contact = fake.crm.add_contact(phone="+351210000000")
        before = fake.total_requests
        started = time.perf_counter()
        one_request_per_record(fake, backlog[:BASELINE_SAMPLE], contact)
        baseline = (
            f"baseline, first {BASELINE_SAMPLE:,} records",
            fake.total_requests - before,
            time.perf_counter() - started,
        )

    with FakeHubSpot(token=TOKEN) as fake:
        for delivery in backlog:
            if delivery.record and delivery.record.caller:
                fake.crm.add_contact(phone=delivery.record.caller)
        sink = HubSpotSink(HubSpotConfig(access_token=TOKEN, host=fake.url))
        rows.insert(1, ("first delivery, known callers", *measure(fake, drain(sink, backlog))))

    per_100_baseline = baseline[1] * 100 / BASELINE_SAMPLE
    print(f"HubSpot sink: API requests for a backlog of {BACKLOG:,} records (batches of 100)")
    print(f"{'scenario':34} {'requests':>9} {'per 100':>8} {'vs baseline':>12} {'seconds':>8}")
    for name, requests, seconds in rows:
        per_100 = requests * 100 / BACKLOG
        ratio = per_100 / per_100_baseline
        print(f"{name:34} {requests:>9,} {per_100:>8.2f} {ratio:>11.3f}x {seconds:>8.1f}")
    name, requests, seconds = baseline
    print(f"{name:34} {requests:>9,} {per_100_baseline:>8.2f} {1:>11.3f}x {seconds:>8.1f}")


if __name__ == "__main__":
    main()
