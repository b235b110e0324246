"""Every disposition the hub can give a record becomes a HubSpot call."""

from __future__ import annotations

import pytest
from recado_hubspot.properties import call_properties

from hub.core.models import Disposition
from hub.testing.data import make_delivery, sample_record


@pytest.mark.parametrize("disposition", list(Disposition))
def test_every_disposition_has_a_call_status_and_title(disposition: Disposition) -> None:
    delivery = make_delivery(record=sample_record(disposition=disposition))
    properties, _ = call_properties(delivery, "recado_record_id")
    assert properties["hs_call_status"]
    assert properties["hs_call_title"]
