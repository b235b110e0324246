"""Fixtures of the HubSpot sink tests: a private-app token and a live fake HubSpot."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from recado_hubspot import HubSpotConfig, HubSpotSink
from recado_hubspot.fake_server import FakeHubSpot


@pytest.fixture
def token() -> str:
    """The destination's private app token (random, so a leak is recognisable)."""
    return "pat-eu1-" + secrets.token_hex(16)


@pytest.fixture
def fake(token: str) -> Iterator[FakeHubSpot]:
    """A fake HubSpot account on 127.0.0.1 that accepts `token`."""
    with FakeHubSpot(token=token) as running:
        yield running


@pytest.fixture
def sink(fake: FakeHubSpot, token: str) -> HubSpotSink:
    """A HubSpot sink pointed at the fake."""
    return HubSpotSink(HubSpotConfig(access_token=token, host=fake.url, timeout_s=5))
