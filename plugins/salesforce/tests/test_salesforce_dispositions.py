"""Every disposition the hub can give a record becomes a Salesforce call log."""

from __future__ import annotations

import pytest
from recado_salesforce.calllog import task_fields

from hub.core.models import Disposition
from hub.testing.data import sample_client, sample_record


@pytest.mark.parametrize("disposition", list(Disposition))
def test_every_disposition_has_a_call_disposition(disposition: Disposition) -> None:
    fields = task_fields(sample_record(disposition=disposition), sample_client(), follow_up=False, test=False)
    assert fields["CallDisposition"]
    assert fields["Subject"]
