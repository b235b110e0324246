"""The export API: the operator exports a client or a number, a client its own data; every export is logged."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from hub.core import privacy_log
from hub.core.store import Store

CALLER = "+351912345678"


def bearer(token: str) -> dict[str, str]:
    """The header of a request made with `token`."""
    return {"Authorization": f"Bearer {token}"}


def test_the_operator_exports_a_client(http: TestClient, tokens, call_answered: Callable[..., str]) -> None:
    record = call_answered("acme", "a1")
    response = http.get("/api/v1/privacy/export", params={"client": "acme"}, headers=bearer(tokens.operator))
    assert response.status_code == 200
    document = response.json()
    assert document["format"] == "recado.export.client/1"
    assert [item["record_id"] for item in document["records"]] == [record]


def test_the_operator_exports_a_callers_number(http: TestClient, tokens, call_answered: Callable[..., str]) -> None:
    acme, beta = call_answered("acme", "a1"), call_answered("beta", "b1")
    response = http.get("/api/v1/privacy/export", params={"number": "912 345 678"}, headers=bearer(tokens.operator))
    assert response.status_code == 200
    assert response.json()["number"] == CALLER
    assert [item["record_id"] for item in response.json()["records"]] == [acme, beta]


def test_the_export_needs_exactly_one_of_client_and_number(http: TestClient, tokens) -> None:
    both = http.get(
        "/api/v1/privacy/export", params={"client": "acme", "number": CALLER}, headers=bearer(tokens.operator)
    )
    neither = http.get("/api/v1/privacy/export", headers=bearer(tokens.operator))
    assert (both.status_code, neither.status_code) == (422, 422)


def test_a_bad_number_is_a_422_naming_it(http: TestClient, tokens) -> None:
    response = http.get("/api/v1/privacy/export", params={"number": "Maria"}, headers=bearer(tokens.operator))
    assert response.status_code == 422
    assert "number" in response.json()["error"]["message"]


def test_only_the_operator_exports_by_number(http: TestClient, tokens) -> None:
    for token in (tokens.acme, tokens.agent):
        response = http.get("/api/v1/privacy/export", params={"number": CALLER}, headers=bearer(token))
        assert response.status_code == 403


def test_a_client_exports_its_own_data(http: TestClient, tokens, call_answered: Callable[..., str]) -> None:
    record = call_answered("acme", "a1")
    call_answered("beta", "b1")
    response = http.get("/api/v1/clients/acme/export", headers=bearer(tokens.acme))
    assert response.status_code == 200
    assert [item["record_id"] for item in response.json()["records"]] == [record]


def test_a_client_cannot_export_another_client(http: TestClient, tokens) -> None:
    assert http.get("/api/v1/clients/acme/export", headers=bearer(tokens.beta)).status_code == 404
    assert http.get("/api/v1/clients/acme/export", headers=bearer(tokens.agent)).status_code == 404


def test_every_export_is_logged_with_the_token_that_asked(http: TestClient, tokens, web_store: Store) -> None:
    http.get("/api/v1/clients/acme/export", headers=bearer(tokens.acme))
    http.get("/api/v1/privacy/export", params={"number": CALLER}, headers=bearer(tokens.operator))
    with web_store.connect() as conn:
        entries = privacy_log.entries(conn, action="export")
    assert [entry["subject"] for entry in entries] == ["number +3519******78", "acme"]
    assert entries[1]["actor"].startswith("api client token ")
    assert entries[1]["details"]["of"] == "client"


def test_the_operator_reads_the_privacy_log(http: TestClient, tokens) -> None:
    http.get("/api/v1/clients/acme/export", headers=bearer(tokens.acme))
    response = http.get("/api/v1/privacy/log", headers=bearer(tokens.operator))
    assert [entry["action"] for entry in response.json()] == ["export"]
    assert http.get("/api/v1/privacy/log", headers=bearer(tokens.acme)).status_code == 403
