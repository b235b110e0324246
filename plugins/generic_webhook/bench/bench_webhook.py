"""Webhook delivery rate through the sink, as a ratio to raw httpx POSTs of the same payloads.

Both runs send the same 2,000 JSON bodies to the same local receiver (in its own
process, so that it does not share the interpreter lock with the client), one
record per request, from 16 concurrent tasks. The sink's run adds what a real
delivery costs: building the event, signing it, reading and judging the answer.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import time
from collections.abc import Awaitable, Callable
from multiprocessing.connection import Connection

import httpx
from recado_webhook.config import WebhookConfig
from recado_webhook.payload import encode, event_for, now_timestamp
from recado_webhook.signing import new_secret
from recado_webhook.sink import WebhookSink
from recado_webhook.testing import WebhookReceiver

from hub.core.models import Delivered, Delivery
from hub.testing import make_batch

N = 2000
CONCURRENCY = 16
ROUNDS = 2


def _serve(conn: Connection) -> None:
    """Run a receiver (no signature check, so both runs cost it the same) until told to stop."""
    with WebhookReceiver() as receiver:
        conn.send(receiver.url)
        conn.recv()


async def _run(count: int, send: Callable[[int], Awaitable[None]]) -> float:
    """Send items 0..count-1 from CONCURRENCY tasks; return the rate per second."""
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(count):
        queue.put_nowait(i)

    async def worker() -> None:
        while not queue.empty():
            await send(queue.get_nowait())

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return count / (time.perf_counter() - started)


async def _bench(url: str, deliveries: list[Delivery]) -> tuple[float, float]:
    timestamp = now_timestamp()
    bodies = [encode(event_for(d, timestamp)) for d in deliveries]
    limits = httpx.Limits(max_connections=20, max_keepalive_connections=20)
    sink = WebhookSink(WebhookConfig(url=url, secret=new_secret()))
    async with httpx.AsyncClient(limits=limits, timeout=10.0) as raw:

        async def post_raw(i: int) -> None:
            response = await raw.post(url, content=bodies[i], headers={"content-type": "application/json"})
            response.raise_for_status()

        async def post_sink(i: int) -> None:
            [outcome] = await sink.deliver([deliveries[i]])
            if not isinstance(outcome, Delivered):
                raise RuntimeError(f"delivery {i} was not delivered: {outcome}")

        await _run(100, post_raw)  # warm up connections on both sides
        await _run(100, post_sink)
        sink_rates, raw_rates = [], []
        for _ in range(ROUNDS):
            raw_rates.append(await _run(N, post_raw))
            sink_rates.append(await _run(N, post_sink))
    await sink.aclose()
    return max(sink_rates), max(raw_rates)


def main() -> None:
    """Print the sink's delivery rate, the raw rate and their ratio."""
    os.environ["RECADO_WEBHOOK_ALLOW_PRIVATE"] = "true"
    parent, child = multiprocessing.Pipe()
    server = multiprocessing.Process(target=_serve, args=(child,), daemon=True)
    server.start()
    try:
        url = parent.recv()
        sink_rate, raw_rate = asyncio.run(_bench(url, make_batch(N)))
    finally:
        parent.send("stop")
        server.join(timeout=10)
    print(
        f"webhook sink: {sink_rate:.0f} deliveries/s, raw httpx: {raw_rate:.0f} posts/s, "
        f"ratio {sink_rate / raw_rate:.2f} (N={N}, max_batch 1, {CONCURRENCY} concurrent, signed)"
    )


if __name__ == "__main__":
    main()
