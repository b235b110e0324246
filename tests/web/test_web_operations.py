"""`/healthz`, `/metrics` and `/openapi.json`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import update

from hub.core import store as t
from hub.web.context import WebContext


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def test_healthz_answers_ok_when_the_database_answers(http: TestClient) -> None:
    assert http.get("/healthz").json() == {"status": "ok"}


def test_metrics_count_calls_by_disposition_and_records(http: TestClient, call_answered) -> None:
    call_answered("acme", "a1")
    call_answered("beta", "b1")  # beta has no balance: refused
    found = samples(http.get("/metrics").text)
    assert found[("recado_calls", (("disposition", "answered"),))] == 1
    assert found[("recado_calls", (("disposition", "refused_no_balance"),))] == 1
    assert found[("recado_records_finalized", ())] == 2


def test_metrics_count_deliveries_by_sink_and_outcome(http: TestClient, call_answered, deliver_now) -> None:
    call_answered("acme", "a1")
    deliver_now()
    found = samples(http.get("/metrics").text)
    assert found[("recado_delivery_attempts", (("outcome", "delivered"), ("sink", "email")))] == 2
    assert found[("recado_outbox_rows", (("status", "delivered"),))] == 2


def test_metrics_show_the_outbox_depth_and_its_oldest_row(
    http: TestClient, call_answered, web_context: WebContext
) -> None:
    call_answered("acme", "a1")
    with web_context.store.begin() as conn:
        conn.execute(update(t.outbox).values(created_at=datetime.now(UTC) - timedelta(hours=1)))
    found = samples(http.get("/metrics").text)
    assert found[("recado_outbox_rows", (("status", "pending"),))] == 2
    assert found[("recado_outbox_oldest_pending_seconds", ())] >= 3600


def test_the_openapi_document_lists_the_api(http: TestClient) -> None:
    paths = http.get("/openapi.json").json()["paths"]
    assert {"/api/v1/clients", "/api/v1/records", "/api/v1/deliveries/{delivery_id}/replay"} <= set(paths)
