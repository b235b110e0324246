"""Delivery workers: claim outbox rows, hand them to sinks in batches, record outcomes.

Delivery is at least once: a row is completed only after its sink answered,
and every delivery carries its idempotency key (the record id) so that a row
delivered twice (a worker died after the sink answered) has one effect.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import DBAPIError

from hub.core import notices, outbox
from hub.core import store as t
from hub.core.delivery_policy import EffectivePolicy, Throttle
from hub.core.dispatch import Destination, Dispatcher, Item
from hub.core.models import Delivered, Delivery, Failed, Outcome, Retry
from hub.core.registry import Registry, UnknownKind
from hub.core.secrets import SecretBox
from hub.core.store import Store, to_db
from hub.settings import Settings
from hub.sinks import DestinationError, RetriableError

log = logging.getLogger(__name__)

#: How long a destination whose credentials fail is left alone before trying again.
PAUSE_ON_DESTINATION_ERROR = timedelta(minutes=15)
#: "Until someone resumes it": far enough in the future, and still a valid timestamp everywhere.
FOREVER = datetime(9999, 1, 1, tzinfo=UTC)


@dataclass
class WorkerStats:
    """What a worker did."""

    delivered: int = 0
    retried: int = 0
    dead: int = 0
    by_sink: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))

    def count(self, sink: str, outcome: str) -> None:
        """Count one outcome of one sink."""
        setattr(self, outcome, getattr(self, outcome) + 1)
        self.by_sink[sink][outcome] += 1


def default_worker_id() -> str:
    """`host:pid`, unique among the workers sharing a database."""
    return f"{socket.gethostname()}:{os.getpid()}"


class Worker:
    """Delivers the outbox; several workers may share one PostgreSQL database."""

    def __init__(
        self,
        store: Store,
        registry: Registry,
        settings: Settings | None = None,
        *,
        worker_id: str | None = None,
        box: SecretBox | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.store = store
        #: "Now" for claiming, holding and scheduling retries (the wall clock unless given).
        self.clock = clock or _wall_clock
        self.registry = registry
        self.settings = settings or Settings()
        self.worker_id = worker_id or default_worker_id()
        self.box = box or store.secret_box()
        self.dispatcher = Dispatcher(store, registry, self.box)
        self._throttles: dict[tuple[str, str], Throttle] = {}

    # -- loops ----------------------------------------------------------------

    async def run_once(self) -> WorkerStats:
        """Deliver everything due now (retries scheduled later stay for later); then return."""
        stats = WorkerStats()
        started = self.clock()
        while True:
            rows = await asyncio.to_thread(
                outbox.claim,
                self.store,
                self.worker_id,
                now=started,
                lease_s=self.settings.delivery.lease_s,
                limit=self.settings.delivery.claim_limit,
            )
            if not rows:
                return stats
            await self._deliver_rows(rows, stats)

    async def run(self, stop: asyncio.Event | None = None) -> WorkerStats:
        """Deliver until `stop` is set (or the task is cancelled), polling for new rows.

        Each destination is delivered by its own task, and rows of a destination still
        in flight are not claimed: a slow platform holds up only its own records.
        """
        stats = WorkerStats()
        stop = stop or asyncio.Event()
        in_flight: dict[tuple[str, str], asyncio.Task[None]] = {}
        try:
            while not stop.is_set():
                try:
                    rows = await asyncio.to_thread(
                        outbox.claim,
                        self.store,
                        self.worker_id,
                        now=self.clock(),
                        lease_s=self.settings.delivery.lease_s,
                        limit=self.settings.delivery.claim_limit,
                        busy=set(in_flight),
                    )
                except DBAPIError as exc:
                    # The database restarted or cut the connection: rows this worker held come
                    # back when their lease ends; wait a poll and carry on with a new connection.
                    log.warning("database unavailable, retrying: %s", str(exc.orig or exc).strip().splitlines()[0])
                    rows = []
                for key, items in _by_destination(rows).items():
                    in_flight[key] = asyncio.create_task(self._deliver_rows(items, stats))
                if rows:
                    continue
                await self._wait(stop, in_flight)
        finally:
            if in_flight:
                await asyncio.gather(*in_flight.values(), return_exceptions=True)
        return stats

    async def _wait(self, stop: asyncio.Event, in_flight: dict[tuple[str, str], asyncio.Task[None]]) -> None:
        """Until `stop`, a destination finishing, or the poll interval; then forget finished tasks."""
        stopping = asyncio.create_task(stop.wait())
        try:
            await asyncio.wait(
                {stopping, *in_flight.values()},
                timeout=self.settings.delivery.poll_s,
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            stopping.cancel()
        for key, task in list(in_flight.items()):
            if task.done():
                del in_flight[key]
                if not task.cancelled() and task.exception() is not None:
                    # Its rows come back when their lease ends.
                    log.warning("delivery to %s/%s stopped: %s", key[0], key[1], task.exception())

    async def aclose(self) -> None:
        """Close every sink this worker opened."""
        await self.dispatcher.aclose()

    # -- one claim ------------------------------------------------------------------

    async def _deliver_rows(self, rows: Sequence[outbox.Claimed], stats: WorkerStats) -> None:
        groups = _by_destination(rows)
        heartbeat = asyncio.create_task(self._heartbeat([row.id for row in rows]))
        try:
            # Destinations are independent: a slow platform must not hold up the others.
            await asyncio.gather(*(self._deliver_group(key, items, stats) for key, items in groups.items()))
        finally:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat

    async def _heartbeat(self, ids: list[int]) -> None:
        interval = max(self.settings.delivery.lease_s / 3, 0.05)
        while True:
            await asyncio.sleep(interval)
            try:
                await asyncio.to_thread(
                    outbox.heartbeat,
                    self.store,
                    self.worker_id,
                    ids,
                    now=self.clock(),
                    lease_s=self.settings.delivery.lease_s,
                )
            except DBAPIError as exc:  # a missed beat only shortens the lease; keep beating
                log.warning("lease heartbeat failed: %s", str(exc.orig or exc).strip().splitlines()[0])

    async def _deliver_group(self, key: tuple[str, str], rows: list[outbox.Claimed], stats: WorkerStats) -> None:
        try:
            destination = await asyncio.to_thread(self.dispatcher.destination, *key)
        except (UnknownKind, LookupError, ValueError) as exc:
            reason = f"destination {key[0]}/{key[1]} cannot be used: {exc}"
            outcomes: list[Outcome] = [Retry(reason=reason)] * len(rows)
            await asyncio.to_thread(self._complete, None, rows, outcomes, stats)
            return
        rows = await self._hold_for_later(destination, rows)
        throttle = self._throttles.setdefault(key, Throttle(self._policy(destination).max_per_second))
        sink = destination.sink
        size = max(1, int(sink.max_batch))
        for start in range(0, len(rows), size):
            chunk = rows[start : start + size]
            deliveries: list[Delivery] = []
            built: list[Outcome | None] = []
            for row in chunk:
                try:
                    deliveries.append(await asyncio.to_thread(self._delivery, destination, row))
                    built.append(None)
                except DBAPIError:
                    raise  # the database, not the record, is at fault: never a dead letter
                except Exception as exc:  # a record that cannot be mapped fails alone
                    built.append(Failed(reason=f"cannot build the delivery: {type(exc).__name__}: {exc}"))
            await throttle.wait()
            answered = await self._call_sink(destination, deliveries)
            merged = iter(answered)
            final = [outcome if outcome is not None else next(merged) for outcome in built]
            await asyncio.to_thread(self._complete, destination, chunk, final, stats)

    async def _hold_for_later(self, destination: Destination, rows: list[outbox.Claimed]) -> list[outbox.Claimed]:
        """Give back the first attempts the sink sends later (a digest's time); return the rest."""
        now = self.clock()
        # A sink written before `release_at` existed (not a `Sink` subclass) sends at once.
        release_at = getattr(destination.sink, "release_at", None)
        held: list[tuple[int, datetime]] = []
        ready: list[outbox.Claimed] = []
        for row in rows:
            release = release_at(row.kind, row.due_at) if release_at and row.attempts == 0 else None
            if release is not None and release > now:
                held.append((row.id, release))
            else:
                ready.append(row)
        if held:
            await asyncio.to_thread(self._hold, held)
        return ready

    async def _call_sink(self, destination: Destination, batch: list[Delivery]) -> list[Outcome]:
        if not batch:
            return []
        try:
            answered = await destination.sink.deliver(batch)
        except RetriableError as exc:
            return [Retry(reason=exc.reason, after_s=exc.after_s)] * len(batch)
        except DestinationError as exc:
            await asyncio.to_thread(self._pause, destination, exc)
            seconds = PAUSE_ON_DESTINATION_ERROR.total_seconds()
            return [Retry(reason=f"destination paused: {exc.reason}", after_s=seconds)] * len(batch)
        except Exception as exc:  # a sink bug must not kill the worker nor lose the rows
            log.exception("sink %s failed on a batch of %d", destination.kind, len(batch))
            return [Retry(reason=f"sink error: {type(exc).__name__}")] * len(batch)
        if len(answered) != len(batch):
            reason = f"sink {destination.kind} answered {len(answered)} outcomes for {len(batch)} items"
            return [Retry(reason=reason)] * len(batch)
        return list(answered)

    # -- database side (run in threads) ------------------------------------------

    def _delivery(self, destination: Destination, row: outbox.Claimed) -> Delivery:
        item = Item(
            delivery_id=row.id,
            idempotency_key=row.idempotency_key,
            kind=row.kind,
            event_type=row.event_type,
            record_id=row.record_id,
            payload=row.payload,
            attempts=row.attempts,
        )
        return self.dispatcher.delivery(destination, item)

    def _hold(self, held: list[tuple[int, datetime]]) -> None:
        with self.store.begin() as conn:
            for outbox_id, until in held:
                outbox.hold(conn, self.worker_id, outbox_id, until)

    def _policy(self, destination: Destination | None) -> EffectivePolicy:
        return EffectivePolicy.of(self.settings.delivery, destination.policy if destination else None)

    def _complete(
        self,
        destination: Destination | None,
        rows: Sequence[outbox.Claimed],
        outcomes: Sequence[Outcome],
        stats: WorkerStats,
    ) -> None:
        now = self.clock()
        policy = self._policy(destination)
        kind = destination.kind if destination else "?"
        max_age = timedelta(seconds=self.settings.delivery.max_age_s)
        failing_since: datetime | None = None
        # Items that failed together (one batch, one digest) are retried together: one jittered delay.
        delays: dict[tuple[int, float | None], float] = {}
        with self.store.begin() as conn:
            for row, outcome in zip(rows, outcomes, strict=True):
                if isinstance(outcome, Delivered):
                    outbox.mark_delivered(conn, self.worker_id, row.id, outcome.remote_id, outcome.detail)
                    stats.count(kind, "delivered")
                    continue
                if isinstance(outcome, Failed):
                    outbox.mark_dead(conn, self.worker_id, row.id, outcome.reason)
                    stats.count(kind, "dead")
                    log.warning("delivery %d to %s failed for good: %s", row.id, row.destination, outcome.reason)
                    continue
                attempts = row.attempts + 1
                if attempts >= policy.max_attempts or now - row.created_at > max_age:
                    outbox.mark_dead(
                        conn, self.worker_id, row.id, f"gave up after {attempts} attempts: {outcome.reason}"
                    )
                    stats.count(kind, "dead")
                else:
                    delay = delays.get((attempts, outcome.after_s))
                    if delay is None:
                        delay = delays[(attempts, outcome.after_s)] = policy.delay_after(attempts, outcome.after_s)
                    outbox.mark_retry(conn, self.worker_id, row.id, outcome.reason, now + timedelta(seconds=delay))
                    stats.count(kind, "retried")
                if now - row.created_at >= timedelta(seconds=policy.pause_after_s):
                    failing_since = min(failing_since or row.created_at, row.created_at)
            if destination is not None and failing_since is not None:
                self._pause_if_failing(conn, destination, failing_since, now)

    def _pause_if_failing(self, conn: Any, destination: Destination, since: datetime, now: datetime) -> None:
        # Failing for days and nothing delivered since: stop trying until someone looks.
        if outbox.delivered_since(conn, destination.client.id, destination.id, since):
            return
        conn.execute(
            update(t.destinations)
            .where(t.destinations.c.client == destination.client.id, t.destinations.c.id == destination.id)
            .values(paused_until=to_db(FOREVER), paused_reason=f"failing since {since.isoformat()}")
        )
        notices.alert_once(
            conn,
            client=destination.client.id,
            kind="destination_paused",
            key=f"failing:{destination.client.id}:{destination.id}:{since.date().isoformat()}",
            message=(
                f"destination {destination.id} of {destination.client.id} has failed since {since:%Y-%m-%d %H:%M} UTC "
                "and is paused; fix it, then `recado destinations resume` and `recado deliveries replay`"
            ),
        )
        notices.send(conn, self.registry, destination.client, "destination_paused", now, exclude=destination.id)
        log.warning("destination %s/%s paused: failing for days", destination.client.id, destination.id)

    def _pause(self, destination: Destination, error: DestinationError) -> None:
        now = self.clock()
        values: dict[str, Any] = {"paused_reason": error.reason}
        if error.disable:
            values["enabled"] = False
        else:
            values["paused_until"] = to_db(now + PAUSE_ON_DESTINATION_ERROR)
        with self.store.begin() as conn:
            conn.execute(
                update(t.destinations)
                .where(
                    t.destinations.c.client == destination.client.id,
                    t.destinations.c.id == destination.id,
                )
                .values(**values)
            )
            notices.alert_once(
                conn,
                client=destination.client.id,
                kind="destination_disabled" if error.disable else "destination_paused",
                key=f"destination:{destination.client.id}:{destination.id}:{now.isoformat()}",
                message=f"destination {destination.id} of {destination.client.id}: {error.reason}",
            )
        log.warning(
            "destination %s/%s %s: %s",
            destination.client.id,
            destination.id,
            "disabled" if error.disable else "paused",
            error.reason,
        )


def _wall_clock() -> datetime:
    return datetime.now(UTC)


def _by_destination(rows: Sequence[outbox.Claimed]) -> dict[tuple[str, str], list[outbox.Claimed]]:
    groups: dict[tuple[str, str], list[outbox.Claimed]] = defaultdict(list)
    for row in rows:
        groups[(row.client, row.destination)].append(row)
    return groups
