"""The HubSpot sink honours the sink contract shared by every sink."""

from __future__ import annotations

import pytest
from recado_hubspot import HubSpotSink
from recado_hubspot.fake_server import FakeHubSpot

from hub.testing import SinkConformance


class TestHubSpotConformance(SinkConformance):
    """The shared suite, run against the fake HubSpot through hubspot-api-client."""

    @pytest.fixture
    def peer(self, fake: FakeHubSpot) -> FakeHubSpot:
        return fake

    @pytest.fixture
    def secrets(self, token: str) -> list[str]:
        return [token]

    @pytest.fixture
    def sink(self, sink: HubSpotSink) -> HubSpotSink:
        return sink
