"""How the HubSpot sink reacts to rate limits, outages and a bad token."""

from __future__ import annotations

import pytest
from recado_hubspot import HubSpotConfig, HubSpotSink
from recado_hubspot.fake_server import FakeHubSpot

from hub.core.models import Delivered
from hub.sinks import DestinationError, RetriableError
from hub.testing import make_batch


async def test_rate_limit_answer_makes_the_batch_retriable_after_retry_after(
    sink: HubSpotSink, fake: FakeHubSpot
) -> None:
    fake.throttle(1, retry_after=7)

    with pytest.raises(RetriableError) as raised:
        await sink.deliver(make_batch(2))

    assert raised.value.after_s == 7
    assert fake.effects() == {}


async def test_rate_limit_without_retry_after_waits_one_rate_window(sink: HubSpotSink, fake: FakeHubSpot) -> None:
    fake.throttle(1)

    with pytest.raises(RetriableError) as raised:
        await sink.deliver(make_batch(1))

    assert raised.value.after_s == 10.0  # X-HubSpot-RateLimit-Interval-Milliseconds: 10000


async def test_daily_limit_waits_for_the_daily_reset(sink: HubSpotSink, fake: FakeHubSpot) -> None:
    fake.throttle(1, daily=True)

    with pytest.raises(RetriableError) as raised:
        await sink.deliver(make_batch(1))

    assert raised.value.after_s is not None
    assert 60 <= raised.value.after_s <= 24 * 3600


async def test_rate_limit_midway_is_retried_without_duplicates(sink: HubSpotSink, fake: FakeHubSpot) -> None:
    batch = make_batch(5, seed=3)
    await sink.deliver(batch[:2])
    fake.throttle(1, retry_after=1)
    with pytest.raises(RetriableError):
        await sink.deliver(batch)

    outcomes = await sink.deliver([d.model_copy(update={"attempt": 2}) for d in batch])

    assert all(isinstance(o, Delivered) for o in outcomes)
    assert fake.effects() == {d.idempotency_key: 1 for d in batch}


async def test_requests_wait_when_the_rate_window_is_used_up(token: str) -> None:
    # Three requests per 50 ms: a fourth inside the window would be answered 429.
    with FakeHubSpot(token=token, rate_max=3, rate_interval_ms=50) as fake:
        sink = HubSpotSink(HubSpotConfig(access_token=token, host=fake.url))
        batch = make_batch(3, seed=4)
        fake.crm.add_contact(phone=str(batch[0].record.caller if batch[0].record else ""))

        first = await sink.deliver(batch)
        again = await sink.deliver([d.model_copy(update={"attempt": 2}) for d in batch])

        assert all(isinstance(o, Delivered) for o in first + again)
        assert fake.total_requests >= 6


async def test_server_error_makes_the_batch_retriable(sink: HubSpotSink, fake: FakeHubSpot) -> None:
    fake.fail(1, status=502)

    with pytest.raises(RetriableError):
        await sink.deliver(make_batch(1))


async def test_unreachable_hubspot_makes_the_batch_retriable(token: str) -> None:
    with FakeHubSpot(token=token) as fake:
        url = fake.url
    # The fake has stopped: nothing listens on its port any more.
    sink = HubSpotSink(HubSpotConfig(access_token=token, host=url, timeout_s=2))

    with pytest.raises(RetriableError):
        await sink.deliver(make_batch(1))


async def test_revoked_token_pauses_the_destination(fake: FakeHubSpot) -> None:
    sink = HubSpotSink(HubSpotConfig(access_token="pat-eu1-revoked", host=fake.url))

    with pytest.raises(DestinationError) as raised:
        await sink.deliver(make_batch(1))

    assert "401" in raised.value.reason
    assert "pat-eu1-revoked" not in raised.value.reason


async def test_missing_idempotency_property_pauses_the_destination(token: str) -> None:
    with FakeHubSpot(token=token, idempotency_property="something_else") as fake:
        sink = HubSpotSink(HubSpotConfig(access_token=token, host=fake.url))

        with pytest.raises(DestinationError) as raised:
            await sink.deliver(make_batch(1))

        assert "recado_record_id" in raised.value.reason
        assert fake.crm.calls == {}


async def test_idempotency_property_without_unique_values_pauses_the_destination(
    token: str,
) -> None:
    # Without unique values HubSpot could not refuse a second call for the same record.
    with FakeHubSpot(token=token, unique=False) as fake:
        sink = HubSpotSink(HubSpotConfig(access_token=token, host=fake.url))

        with pytest.raises(DestinationError) as raised:
            await sink.deliver(make_batch(1))

        assert "unique" in raised.value.reason
        assert fake.crm.calls == {}


async def test_destination_delivers_once_the_missing_property_is_created(token: str) -> None:
    with FakeHubSpot(token=token, idempotency_property="something_else") as fake:
        sink = HubSpotSink(HubSpotConfig(access_token=token, host=fake.url))
        with pytest.raises(DestinationError):
            await sink.deliver(make_batch(1))

        fake.crm.idempotency_property = "recado_record_id"  # the operator creates it
        outcomes = await sink.deliver(make_batch(1))

        assert all(isinstance(o, Delivered) for o in outcomes)
