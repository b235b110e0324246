"""What the SMS plugin's tests share: credentials of the fake gateway, destination settings, messages."""

from __future__ import annotations

from typing import Any

from fake_gateway import FakeGateway
from recado_sms.config import SmsConfig

from hub.core.models import CallRecord, Delivery
from hub.testing import make_delivery, sample_record

TOKEN = "gw-token-7Jq2xV9sLm4Rt8Nb"
REPORTS_SECRET = "reports-secret-Hk3Zp9Wq2Lx7"
MOBILE = "+351912345678"
TEXT = "Clinica Acme: a sua consulta e amanha, 5a feira, as 15h. Responda PARAR para nao receber mais."


def sms_config(gateway: FakeGateway, **overrides: Any) -> SmsConfig:
    """The settings of an sms destination pointed at `gateway`."""
    settings: dict[str, Any] = {"url": gateway.url, "token": TOKEN, "sender_id": "ClinicaAcme", "timeout": 5.0}
    settings.update(overrides)
    return SmsConfig.model_validate(settings)


def sms_record(call_id: str = "sms-1", message: str | None = TEXT, caller: str | None = MOBILE) -> CallRecord:
    """An outbound SMS record of the sample client, with its text."""
    return sample_record(
        source="campaigns", call_id=call_id, direction="outbound", channel="sms", message=message, caller=caller
    )


def sms_delivery(call_id: str = "sms-1", *, mapped: dict[str, Any] | None = None, **record: Any) -> Delivery:
    """A delivery of `sms_record(call_id, **record)` whose mapping fills nothing (the record's own text and number)."""
    return make_delivery(sms_record(call_id, **record), mapped=mapped or {})
