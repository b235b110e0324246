"""Fixtures of the webhook sink tests: secrets, the operator setting, a live local receiver."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from recado_webhook.config import WebhookConfig
from recado_webhook.signing import new_secret
from recado_webhook.sink import WebhookSink
from recado_webhook.testing import WebhookReceiver


@pytest.fixture
def secret() -> str:
    """The destination's signing secret."""
    return new_secret()


@pytest.fixture
def allow_private(monkeypatch: pytest.MonkeyPatch) -> None:
    """The operator allows webhooks to 127.0.0.1, as tests and the demo do."""
    monkeypatch.setenv("RECADO_WEBHOOK_ALLOW_PRIVATE", "true")


@pytest.fixture
def guarded(monkeypatch: pytest.MonkeyPatch) -> None:
    """The operator setting is absent: private addresses are refused."""
    monkeypatch.delenv("RECADO_WEBHOOK_ALLOW_PRIVATE", raising=False)


@pytest.fixture
def receiver(secret: str) -> Iterator[WebhookReceiver]:
    """A running receiver on 127.0.0.1 that knows the destination's secret."""
    with WebhookReceiver([secret]) as running:
        yield running


@pytest.fixture
async def sink(allow_private: None, receiver: WebhookReceiver, secret: str) -> AsyncIterator[WebhookSink]:
    """A webhook sink pointed at the receiver, with a short timeout."""
    built = WebhookSink(WebhookConfig(url=receiver.url, secret=secret, timeout=2.0))
    yield built
    await built.aclose()
