"""The sms sink passes the sink conformance suite against the fake gateway."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from fake_gateway import FakeGateway
from recado_sms.sink import SmsSink
from sms_setup import REPORTS_SECRET, TOKEN, sms_config

from hub.core.models import CallRecord
from hub.testing import SinkConformance


class TestSmsConformance(SinkConformance):
    """Ten messages per batch (the default)."""

    batch_setting = 10

    def mapped(self, record: CallRecord) -> dict[str, Any]:
        """An SMS destination maps the number and the text (here a reminder in Portuguese)."""
        name = record.answers.get("name") or "cliente"
        return {"to": record.caller, "text": f"Olá {name}, confirmamos a sua marcação na Clínica Acme."}

    @pytest.fixture
    def secrets(self) -> list[str]:
        return [TOKEN]

    @pytest.fixture
    def peer(self) -> Iterator[FakeGateway]:
        with FakeGateway(TOKEN, secret=REPORTS_SECRET) as gateway:
            yield gateway

    @pytest.fixture
    async def sink(self, peer: FakeGateway) -> AsyncIterator[SmsSink]:
        built = SmsSink(sms_config(peer, max_batch=self.batch_setting))
        yield built
        await built.aclose()


class TestSmsOneByOneConformance(TestSmsConformance):
    """One message per batch."""

    batch_setting = 1
