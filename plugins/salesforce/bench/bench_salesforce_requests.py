"""Salesforce API requests per 100 records on a 10,000-record backlog.

The `salesforce` sink delivers the backlog to the local fake org (over HTTPS, through
simple-salesforce) and the org counts the requests it answers. Side by side, in the
same run, the baseline upserts records one request per record (the sObject Rows by
External ID resource), as a client without Collections would.

A third of the callers already exist as Contacts, so caller matching finds some.
A second, smaller backlog of only new callers with `create_lead_when_unmatched` on
shows the cost of creating Leads.
"""

from __future__ import annotations

import asyncio
import ssl
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import trustme
from recado_salesforce import ClientCredentialsAuth, SalesforceConfig, SalesforceSink
from recado_salesforce.calllog import task_fields
from recado_salesforce.testing import RECADO_FIELD, FakeOrg

from hub.core.models import Delivered, Delivery
from hub.testing import deliver_all, make_batch

BACKLOG = 10_000
BASELINE_RECORDS = 1_000
LEAD_BACKLOG = 2_000
KEY, SECRET = "3MVG9BENCHKEY", "bench-secret"


def per_100(requests: int, records: int) -> float:
    """Requests per 100 records."""
    return 100 * requests / records


def run_sink(org: FakeOrg, config: SalesforceConfig, backlog: Sequence[Delivery]) -> float:
    """Deliver the backlog with the sink; returns the seconds it took."""
    sink = SalesforceSink(config)
    started = time.perf_counter()
    outcomes = asyncio.run(deliver_all(sink, backlog))
    elapsed = time.perf_counter() - started
    asyncio.run(sink.aclose())
    bad = [o for o in outcomes if not isinstance(o, Delivered)]
    if bad:
        raise SystemExit(f"{len(bad)} records not delivered, e.g. {bad[0]}")
    return elapsed


def run_baseline(config: SalesforceConfig, backlog: Sequence[Delivery]) -> float:
    """Upsert each record with its own request; returns the seconds it took."""
    sink = SalesforceSink(config)
    started = time.perf_counter()
    for delivery in backlog:
        assert delivery.record is not None
        fields = task_fields(delivery.record, delivery.client, follow_up=False, test=False)
        key = f"{RECADO_FIELD}/{delivery.record.record_id}"
        sink.org.call(lambda sf, k=key, f=fields: sf.Task.upsert(k, f))  # type: ignore[misc]
    elapsed = time.perf_counter() - started
    asyncio.run(sink.aclose())
    return elapsed


def main() -> None:
    """Run the sink and the baseline side by side and print the request counts."""
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    with tempfile.TemporaryDirectory() as tmp, FakeOrg(
        context, consumer_key=KEY, consumer_secret=SECRET
    ) as org:
        bundle = Path(tmp) / "ca.pem"
        ca.cert_pem.write_to_path(str(bundle))
        config = SalesforceConfig(
            instance_url=org.base_url, ca_bundle=str(bundle),
            auth=ClientCredentialsAuth(consumer_key=KEY, consumer_secret=SECRET))
        backlog = make_batch(BACKLOG, mapped={}, seed=11)

        for delivery in backlog[::3]:
            assert delivery.record is not None and delivery.record.caller
            org.insert("Contact", LastName="Existing", Phone=delivery.record.caller)
        sink_s = run_sink(org, config, backlog)
        sink_api, kinds = org.api_requests, org.requests
        assert len(org.rows("Task")) == BACKLOG

        org.reset()
        base_s = run_baseline(config, backlog[:BASELINE_RECORDS])
        base_api = org.api_requests

        org.reset()
        leads = make_batch(LEAD_BACKLOG, mapped={}, seed=12)
        run_sink(org, config.model_copy(update={"create_lead_when_unmatched": True}), leads)
        lead_api, lead_kinds = org.api_requests, org.requests

    sink_rate = per_100(sink_api, BACKLOG)
    base_rate = per_100(base_api, BASELINE_RECORDS)
    print(f"salesforce sink, {BACKLOG:,}-record backlog in batches of {config.batch_size}:")
    print(f"  sink     {sink_rate:6.2f} API requests per 100 records  ({sink_api} requests: "
          f"{kinds.get('collections_upsert', 0)} Collections upserts, "
          f"{kinds.get('composite', 0)} caller lookups, {kinds.get('describe', 0)} describe; "
          f"+{kinds.get('token', 0)} OAuth token)  {sink_s:.1f} s")
    print(f"  baseline {base_rate:6.2f} API requests per 100 records  (one upsert per record, "
          f"measured on {BASELINE_RECORDS:,})  {base_s:.1f} s")
    print(f"  ratio    {sink_rate / base_rate:.4f} of the baseline's requests "
          f"({base_rate / sink_rate:.0f}x fewer)")
    print(f"  new callers with create_lead_when_unmatched ({LEAD_BACKLOG:,} records): "
          f"{per_100(lead_api, LEAD_BACKLOG):.2f} per 100 "
          f"({lead_kinds.get('collections_upsert', 0)} Collections upserts incl. Leads, "
          f"{lead_kinds.get('composite', 0)} caller lookups)")


if __name__ == "__main__":
    main()
