"""docs/payments.md documents every setting of [payments.stripe] and the events to subscribe to."""

from __future__ import annotations

import re
from pathlib import Path

from recado_stripe.config import StripeConfig
from recado_stripe.method import PAID_EVENTS

DOC = Path(__file__).resolve().parents[3] / "docs" / "payments.md"


def test_every_stripe_setting_is_documented_and_nothing_else() -> None:
    documented = set(re.findall(r"^\| `payments\.stripe\.(\w+)` \|", DOC.read_text(), flags=re.MULTILINE))
    assert documented == set(StripeConfig.model_fields)


def test_the_events_to_subscribe_to_are_those_the_plugin_reads() -> None:
    text = DOC.read_text()
    assert all(f"`{event}`" in text for event in PAID_EVENTS)
