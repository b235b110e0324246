"""Fixtures of the Stripe plugin tests: a running fake Stripe and the payment method pointed at it."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from card_hub import CardHub, hub_context, serve  # noqa: E402
from fake_stripe import FakeStripe  # noqa: E402
from recado_stripe.config import StripeConfig  # noqa: E402
from recado_stripe.method import StripePayments  # noqa: E402
from web.chromium import browser  # noqa: E402, F401  (fixture)

from hub.core.store import Store  # noqa: E402


@pytest.fixture
def fake() -> Iterator[FakeStripe]:
    """A fake Stripe listening on 127.0.0.1."""
    with FakeStripe() as running:
        yield running


@pytest.fixture
def config(fake: FakeStripe) -> StripeConfig:
    """Settings pointing at the fake, with its keys."""
    return StripeConfig(api_key=fake.api_key, webhook_secret=fake.webhook_secret, api_base=fake.url, timeout_s=5)


@pytest.fixture
async def stripe(config: StripeConfig) -> AsyncIterator[StripePayments]:
    """The payment method under test."""
    method = StripePayments(config)
    yield method
    await method.aclose()


@pytest.fixture
def hub(tmp_path: Path, fake: FakeStripe) -> Iterator[CardHub]:
    """The hub's web application on 127.0.0.1, paying invoices by card at the fake Stripe."""
    store = Store(f"sqlite:///{tmp_path / 'recado.db'}")
    context = hub_context(store, fake)
    with serve(context) as served:
        yield CardHub(store=store, plugins=context.plugins, context=context, fake=fake, url=served.url)
    store.dispose()
