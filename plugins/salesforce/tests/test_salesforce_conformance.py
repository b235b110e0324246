"""The salesforce sink passes the sink conformance suite against the fake org."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest
import pytest_asyncio
from recado_salesforce import ClientCredentialsAuth, SalesforceConfig, SalesforceSink
from recado_salesforce.testing import FakeOrg

from hub.testing import SinkConformance


class TestSalesforceConformance(SinkConformance):
    """Batch split, partial failure, retry, replay and secrets, with the JWT bearer flow."""

    @pytest.fixture
    def peer(self, org: FakeOrg) -> FakeOrg:
        return org

    @pytest.fixture
    def secrets(self, private_key_pem: str) -> list[str]:
        return [private_key_pem]

    @pytest_asyncio.fixture
    async def sink(
        self, peer: FakeOrg, make_config: Callable[..., SalesforceConfig]
    ) -> AsyncIterator[SalesforceSink]:
        sink = SalesforceSink(make_config())
        yield sink
        await sink.aclose()


class TestSalesforceClientCredentialsConformance(SinkConformance):
    """The same suite with the client credentials flow and its secret."""

    @pytest.fixture
    def peer(self, org: FakeOrg) -> FakeOrg:
        return org

    @pytest.fixture
    def secrets(self, client_credentials: ClientCredentialsAuth) -> list[str]:
        return [client_credentials.consumer_secret.get_secret_value()]

    @pytest_asyncio.fixture
    async def sink(
        self,
        peer: FakeOrg,
        make_config: Callable[..., SalesforceConfig],
        client_credentials: ClientCredentialsAuth,
    ) -> AsyncIterator[SalesforceSink]:
        sink = SalesforceSink(make_config(auth=client_credentials))
        yield sink
        await sink.aclose()
