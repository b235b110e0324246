"""The webhook sink passes the sink conformance suite against a real local receiver."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from recado_webhook.config import WebhookConfig
from recado_webhook.signing import new_secret
from recado_webhook.sink import WebhookSink
from recado_webhook.testing import WebhookReceiver

from hub.testing import SinkConformance


class TestWebhookConformance(SinkConformance):
    """One record per request (the default)."""

    batch_setting = 1

    @pytest.fixture
    def secrets(self) -> list[str]:
        return [new_secret(), new_secret()]

    @pytest.fixture
    def peer(self, secrets: list[str]) -> Iterator[WebhookReceiver]:
        # The receiver knows only the second secret: signing with the rotation
        # list is what gets the deliveries in.
        with WebhookReceiver(secrets[1:]) as receiver:
            yield receiver

    @pytest.fixture
    async def sink(
        self, peer: WebhookReceiver, secrets: list[str], monkeypatch: pytest.MonkeyPatch
    ) -> AsyncIterator[WebhookSink]:
        monkeypatch.setenv("RECADO_WEBHOOK_ALLOW_PRIVATE", "true")
        config = WebhookConfig.model_validate(
            {
                "url": peer.url,
                "secret": secrets[0],
                "secrets": secrets[1:],
                "timeout": 5.0,
                "max_batch": self.batch_setting,
            }
        )
        built = WebhookSink(config)
        yield built
        await built.aclose()


class TestWebhookBatchConformance(TestWebhookConformance):
    """Several records per request (``max_batch`` above 1)."""

    batch_setting = 5
