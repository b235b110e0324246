"""Shared setup of the SMS plugin's tests: helper modules importable, a fake gateway and a sink."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from fake_gateway import FakeGateway  # noqa: E402
from recado_sms.sink import SmsSink  # noqa: E402
from sms_setup import REPORTS_SECRET, TOKEN, sms_config  # noqa: E402


@pytest.fixture
def gateway() -> Iterator[FakeGateway]:
    """A running fake gateway that accepts `TOKEN` and signs reports with `REPORTS_SECRET`."""
    with FakeGateway(TOKEN, secret=REPORTS_SECRET) as running:
        yield running


@pytest.fixture
async def sink(gateway: FakeGateway) -> AsyncIterator[SmsSink]:
    """An sms sink pointed at the gateway."""
    built = SmsSink(sms_config(gateway))
    yield built
    await built.aclose()
