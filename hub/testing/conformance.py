"""The sink conformance suite: the contract every sink proves against its own fake peer.

See the "Testing a sink" section of docs/plugins.md.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Sequence
from typing import Any, ClassVar, Protocol, runtime_checkable

import pytest

from hub.core.models import CallRecord, Delivered, Delivery, Failed, Outcome, Retry
from hub.sinks import DestinationError, Health, RetriableError, Sink, SinkError
from hub.testing.data import default_mapped, make_batch, make_delivery


@runtime_checkable
class SinkPeer(Protocol):
    """A sink's fake platform, served on 127.0.0.1, that the conformance suite drives."""

    def effects(self) -> dict[str, int]:
        """Idempotency key (record id) -> number of distinct objects the platform holds for it."""
        ...

    def refuse(self, idempotency_key: str, reason: str) -> None:
        """Refuse this item for good from now on (e.g. a 400 about its data, an SMTP 550)."""
        ...

    def unavailable(self, times: int, retry_after: float | None = None) -> None:
        """Fail the next `times` requests retriably (503, 429 with Retry-After, SMTP 4xx)."""
        ...

    def reset(self) -> None:
        """Forget every effect, refusal and pending unavailability."""
        ...


# ------------------------------------------------------------ delivering

_GUARD_S = 60.0  # a hung sink fails its test instead of hanging the run


async def deliver_all(sink: Sink, items: Sequence[Delivery]) -> list[Outcome]:
    """Deliver `items` in chunks of `sink.max_batch`, as a worker would; one outcome per item.

    A `RetriableError` for a chunk becomes a `Retry` for each of its items (with the
    error's reason and `after_s`); a `DestinationError` propagates.
    """
    outcomes: list[Outcome] = []
    size = max(1, sink.max_batch)
    for start in range(0, len(items), size):
        chunk = list(items[start : start + size])
        try:
            got = await asyncio.wait_for(sink.deliver(chunk), _GUARD_S)
        except RetriableError as exc:
            got = [Retry(reason=exc.reason, after_s=exc.after_s) for _ in chunk]
        if len(got) != len(chunk):
            raise AssertionError(f"deliver() gave {len(got)} outcomes for {len(chunk)} items")
        outcomes.extend(got)
    return outcomes


def _kinds(outcomes: Iterable[Outcome]) -> list[str]:
    return [type(o).__name__ for o in outcomes]


def _check_effects(peer: SinkPeer, keys: Iterable[str]) -> None:
    effects = peer.effects()
    wrong = {k: effects.get(k, 0) for k in keys if effects.get(k, 0) != 1}
    if wrong:
        raise AssertionError(f"the peer should hold exactly one object per key, got {wrong}")


# ----------------------------------------------------------- the suite


class SinkConformance:
    """The contract every sink honours, as pytest tests; subclass it in a test module.

    The subclass provides three fixtures: ``peer`` (a running `SinkPeer`), ``sink``
    (a `Sink` configured to talk to that peer) and ``secrets`` (every secret value
    configured into the sink, e.g. a password or signing key; at least one).
    Each test starts with ``peer.reset()``.

    Class attributes tune the suite to what the platform can express:

    - ``peer_loggers``: names of the loggers of the fake peer itself (e.g. aiosmtpd's
      ``"mail.log"``), which see everything on the wire and are left out of the log checks;
    - ``retry_after_supported``: False when the protocol has no Retry-After (SMTP).

    Override the ``mapped(record)`` method when the sink needs particular mapped fields.
    """

    peer_loggers: ClassVar[tuple[str, ...]] = ()
    retry_after_supported: ClassVar[bool] = True

    def mapped(self, record: CallRecord) -> dict[str, Any]:
        """What the destination's mapping computes for `record` in these tests.

        The default is `default_mapped`; a sink that needs particular target fields
        (an SMS sink's ``to`` and ``text``) overrides it.
        """
        return default_mapped(record)

    @staticmethod
    def batch_size(sink: Sink) -> int:
        """The size of a full batch in these tests: `max_batch`, capped at 50 for speed."""
        return max(1, min(sink.max_batch, 50))

    @pytest.mark.asyncio
    async def test_full_batch_gets_one_delivered_outcome_per_item(self, sink: Sink, peer: SinkPeer) -> None:
        """A batch of `max_batch` items is delivered whole: one `Delivered` per item, in order."""
        peer.reset()
        batch = make_batch(self.batch_size(sink), mapped=self.mapped)
        outcomes = await deliver_all(sink, batch)
        assert all(isinstance(o, Delivered) for o in outcomes), _kinds(outcomes)
        remote_ids = [o.remote_id for o in outcomes if isinstance(o, Delivered) and o.remote_id]
        assert len(set(remote_ids)) == len(remote_ids), f"remote ids repeat: {remote_ids}"
        _check_effects(peer, [d.idempotency_key for d in batch])

    @pytest.mark.asyncio
    async def test_refused_record_fails_alone(self, sink: Sink, peer: SinkPeer) -> None:
        """A record the platform refuses gets `Failed` at its own position; the others go."""
        peer.reset()
        batch = make_batch(max(3, min(sink.max_batch, 5)), seed=1, mapped=self.mapped)
        refused = batch[1].idempotency_key
        peer.refuse(refused, "Phone: invalid value")
        outcomes = await deliver_all(sink, batch)
        expected = ["Delivered", "Failed"] + ["Delivered"] * (len(batch) - 2)
        assert _kinds(outcomes) == expected
        failed = outcomes[1]
        assert isinstance(failed, Failed) and failed.reason.strip(), "Failed needs a reason"
        assert peer.effects().get(refused, 0) == 0, "the refused record must not exist remotely"
        _check_effects(peer, [d.idempotency_key for i, d in enumerate(batch) if i != 1])

    @pytest.mark.asyncio
    async def test_unavailable_peer_gives_retry_and_no_duplicate_after_recovery(
        self, sink: Sink, peer: SinkPeer
    ) -> None:
        """A retriable failure gives `Retry` (or `RetriableError`); retrying delivers once."""
        peer.reset()
        batch = make_batch(3, seed=2, mapped=self.mapped)
        peer.unavailable(1)
        outcomes = await deliver_all(sink, batch)
        assert any(isinstance(o, Retry) for o in outcomes), _kinds(outcomes)
        assert not any(isinstance(o, Failed) for o in outcomes), _kinds(outcomes)
        assert all(o.reason.strip() for o in outcomes if isinstance(o, Retry))
        pending = [d for d, o in zip(batch, outcomes, strict=True) if not isinstance(o, Delivered)]
        for _ in range(3):  # the peer is up again: a worker retries what is pending
            again = await deliver_all(sink, pending)
            pending = [d for d, o in zip(pending, again, strict=True) if not isinstance(o, Delivered)]
        assert not pending, f"still pending after recovery: {[d.idempotency_key for d in pending]}"
        _check_effects(peer, [d.idempotency_key for d in batch])

    @pytest.mark.asyncio
    async def test_retry_after_reaches_the_outcome(self, sink: Sink, peer: SinkPeer) -> None:
        """The platform's Retry-After becomes the `Retry.after_s` (or `RetriableError.after_s`)."""
        if not self.retry_after_supported:
            pytest.skip("this platform's protocol has no Retry-After")
        peer.reset()
        peer.unavailable(1, retry_after=42.0)
        outcomes = await deliver_all(sink, make_batch(1, seed=3, mapped=self.mapped))
        assert isinstance(outcomes[0], Retry), _kinds(outcomes)
        assert outcomes[0].after_s == pytest.approx(42.0)

    @pytest.mark.asyncio
    async def test_replayed_batch_creates_no_second_object(self, sink: Sink, peer: SinkPeer) -> None:
        """The same batch again (same idempotency keys) is `Delivered` and not duplicated."""
        peer.reset()
        batch = make_batch(max(3, min(self.batch_size(sink), 5)), seed=4, mapped=self.mapped)
        first = await deliver_all(sink, batch)
        second = await deliver_all(sink, make_batch(len(batch), seed=4, mapped=self.mapped))
        assert all(isinstance(o, Delivered) for o in first + second), (_kinds(first), _kinds(second))
        _check_effects(peer, [d.idempotency_key for d in batch])

    @pytest.mark.asyncio
    async def test_notice_is_delivered_when_accepted(self, sink: Sink, peer: SinkPeer) -> None:
        """A sink that accepts notices delivers one (service interrupted) like a record."""
        if not type(sink).accepts_notices:
            pytest.skip("this sink does not accept notices")
        peer.reset()
        notice = make_delivery(kind="notice")
        outcomes = await deliver_all(sink, [notice])
        assert isinstance(outcomes[0], Delivered), _kinds(outcomes)
        _check_effects(peer, [notice.idempotency_key])

    @pytest.mark.asyncio
    async def test_validate_returns_a_list_and_check_returns_health(self, sink: Sink, peer: SinkPeer) -> None:
        """`validate({})` gives a list of problems; `check()` on a healthy peer is ok."""
        peer.reset()
        assert isinstance(sink.validate({}), list)
        health = await asyncio.wait_for(sink.check(), _GUARD_S)
        assert isinstance(health, Health)
        assert health.ok, health.detail

    @pytest.mark.asyncio
    async def test_secrets_and_caller_numbers_never_leak(
        self,
        sink: Sink,
        peer: SinkPeer,
        secrets: list[str],
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        """No secret in any log record, repr or reason; no caller number in clear in any log."""
        assert secrets and all(secrets), "the `secrets` fixture must list the configured secrets"
        caplog.set_level(logging.DEBUG)
        peer.reset()
        texts = [repr(sink), str(sink), repr(sink.config)]
        batch = make_batch(max(3, min(self.batch_size(sink), 5)), seed=5, mapped=self.mapped)
        scenarios: list[Callable[[], None]] = [
            lambda: peer.refuse(batch[0].idempotency_key, "invalid data"),
            lambda: peer.unavailable(1),
            lambda: None,
        ]
        for prepare in scenarios:
            prepare()
            try:
                outcomes = await deliver_all(sink, batch)
            except SinkError as exc:
                texts.append(str(exc))
                continue
            texts += [o.reason for o in outcomes if isinstance(o, Retry | Failed)]
            texts += [o.detail for o in outcomes if isinstance(o, Delivered)]
        try:
            health = await asyncio.wait_for(sink.check(), _GUARD_S)
            texts.append(health.detail)
        except DestinationError as exc:
            texts.append(str(exc))
        texts += sink.validate({})
        texts += sink.validate({"no_such_field": "{{ call.caller }}"})

        logged = [self._rendered(r) for r in caplog.records if not r.name.startswith(self.peer_loggers)]
        for secret in secrets:
            leaks = [t for t in texts + logged if secret in t]
            assert not leaks, f"a secret leaked into: {leaks[:3]}"
        callers = {d.record.caller for d in batch if d.record and d.record.caller}
        for caller in callers:
            national = caller.removeprefix("+351")
            leaks = [t for t in logged if caller in t or national in t.replace(" ", "")]
            assert not leaks, f"caller number in clear in logs: {leaks[:3]}"

    @staticmethod
    def _rendered(record: logging.LogRecord) -> str:
        parts = [record.getMessage()]
        if record.exc_info and record.exc_info[1] is not None:
            # The whole chain: a secret often hides in the cause (a URL, a header).
            parts.append(logging.Formatter().formatException(record.exc_info))
            parts.append(repr(record.exc_info[1]))
        if record.exc_text:
            parts.append(record.exc_text)
        parts += [repr(v) for k, v in vars(record).items() if k not in _STANDARD_ATTRS]
        return "\n".join(parts)


# Attributes every LogRecord has; anything else came from `extra=` and is checked too.
_STANDARD_ATTRS = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}
