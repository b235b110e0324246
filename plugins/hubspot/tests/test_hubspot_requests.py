"""What a batch of 100 records costs in HubSpot API requests."""

from __future__ import annotations

from recado_hubspot import HubSpotSink
from recado_hubspot.fake_server import FakeHubSpot

from hub.core.models import Delivered
from hub.testing import make_batch


async def warm(sink: HubSpotSink) -> None:
    # The first batch of a sink also reads the call property definitions once.
    await sink.deliver(make_batch(1, seed=99))


async def test_sink_takes_batches_of_100(sink: HubSpotSink) -> None:
    assert type(sink).max_batch == 100


async def test_100_calls_from_known_contacts_cost_two_requests(sink: HubSpotSink, fake: FakeHubSpot) -> None:
    await warm(sink)
    batch = make_batch(100, seed=1)
    for delivery in batch:
        if delivery.record and delivery.record.caller:
            fake.crm.add_contact(phone=delivery.record.caller)
    before = fake.total_requests

    outcomes = await sink.deliver(batch)

    assert all(isinstance(o, Delivered) for o in outcomes)
    assert fake.total_requests - before == 2  # contact search, call create


async def test_100_calls_from_new_callers_cost_three_requests(sink: HubSpotSink, fake: FakeHubSpot) -> None:
    await warm(sink)
    before = fake.total_requests

    outcomes = await sink.deliver(make_batch(100, seed=2))

    assert all(isinstance(o, Delivered) for o in outcomes)
    assert fake.total_requests - before == 3  # contact search, contact create, call create


async def test_100_retried_calls_cost_three_requests(sink: HubSpotSink, fake: FakeHubSpot) -> None:
    batch = make_batch(100, seed=3)
    await sink.deliver(batch)
    before = fake.total_requests

    outcomes = await sink.deliver([d.model_copy(update={"attempt": 2}) for d in batch])

    assert all(isinstance(o, Delivered) for o in outcomes)
    assert fake.total_requests - before == 3  # contact search, call upsert, associations
