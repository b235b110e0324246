"""The REST API: tokens, reach of each role, filters, CSV, replays and the error shape."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import update

from hub.core import store as t
from hub.core.secrets import SecretBox
from hub.core.tariff import TariffConfig, inbound_price
from hub.web.client_updates import restore_secrets
from hub.web.context import WebContext
from hub.web.queries import records_csv
from hub.web.tokens import list_tokens, revoke_token


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_request_without_a_token_is_401_with_the_error_shape(http: TestClient) -> None:
    response = http.get("/api/v1/clients")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
    assert "Bearer" in response.json()["error"]["message"]


def test_an_unknown_token_is_401(http: TestClient) -> None:
    response = http.get("/api/v1/clients", headers=auth("rcd_not-a-real-token"))
    assert response.status_code == 401
    assert response.json() == {"error": {"code": "unauthorized", "message": "the token is unknown or revoked"}}


def test_a_revoked_token_is_401(http: TestClient, web_context: WebContext, tokens) -> None:
    token_id = next(row["id"] for row in list_tokens(web_context.store) if row["client"] == "acme")
    revoke_token(web_context.store, token_id)
    assert http.get("/api/v1/clients", headers=auth(tokens.acme)).status_code == 401


def test_an_operator_lists_every_client(http: TestClient, tokens) -> None:
    response = http.get("/api/v1/clients", headers=auth(tokens.operator))
    assert [client["id"] for client in response.json()] == ["acme", "beta"]


def test_a_client_lists_only_itself(http: TestClient, tokens) -> None:
    response = http.get("/api/v1/clients", headers=auth(tokens.beta))
    assert [client["id"] for client in response.json()] == ["beta"]


def test_an_agent_lists_the_clients_it_serves(http: TestClient, tokens) -> None:
    # acme prefers ana and rui; beta names no agent, so anyone serves it.
    response = http.get("/api/v1/clients", headers=auth(tokens.agent))
    assert [client["id"] for client in response.json()] == ["acme", "beta"]


def test_another_clients_account_is_404(http: TestClient, tokens) -> None:
    response = http.get("/api/v1/accounts/acme", headers=auth(tokens.beta))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_the_account_shows_balance_next_price_and_contract_end(http: TestClient, tokens) -> None:
    account = http.get("/api/v1/accounts/acme", headers=auth(tokens.acme)).json()
    assert account["balance_cents"] > 0
    assert account["next_call_cents"] == inbound_price(1, 40, config=TariffConfig())
    assert account["contract_ends_at"].startswith("2027-03")


def test_a_client_token_gets_its_own_records_whatever_the_query_says(
    http: TestClient, tokens, call_answered: Callable[..., str]
) -> None:
    call_answered("acme", "a1")
    call_answered("beta", "b1")
    response = http.get("/api/v1/records", params={"client": "acme"}, headers=auth(tokens.beta))
    assert {record["client"] for record in response.json()} == {"beta"}


def test_records_filter_by_disposition_and_text(http: TestClient, tokens, call_answered) -> None:
    call_answered("acme", "a1", name="Maria Simões")
    call_answered("acme", "a2", name="Rui Costa")
    found = http.get("/api/v1/records", params={"q": "simões", "disposition": "answered"}, headers=auth(tokens.acme))
    assert [record["answers"]["name"] for record in found.json()] == ["Maria Simões"]


def test_records_refuse_a_time_without_offset(http: TestClient, tokens) -> None:
    response = http.get("/api/v1/records", params={"since": "2026-03-01T00:00:00"}, headers=auth(tokens.acme))
    assert response.status_code == 422
    assert "since" in response.json()["error"]["message"]


def test_records_export_as_csv(http: TestClient, tokens, call_answered) -> None:
    call_answered("acme", "a1", name="=HYPERLINK(1)")
    response = http.get("/api/v1/records.csv", headers=auth(tokens.acme))
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert rows[0]["client"] == "acme"
    assert rows[0]["answers"] == "name==HYPERLINK(1)"


def test_a_csv_cell_that_looks_like_a_formula_is_kept_as_text() -> None:
    text = records_csv([{"record_id": "r", "notes": "=cmd()"}])
    assert "'=cmd()" in text


def test_a_record_shows_its_deliveries(http: TestClient, tokens, call_answered, deliver_now) -> None:
    record_id = call_answered("acme", "a1")
    deliver_now()
    body = http.get(f"/api/v1/records/{record_id}", headers=auth(tokens.acme)).json()
    assert {d["destination"]: d["status"] for d in body["deliveries"]} == {
        "mail": "delivered",
        "complaints": "delivered",
    }


def test_a_dead_delivery_is_replayed(http: TestClient, tokens, web_context: WebContext, call_answered) -> None:
    call_answered("acme", "a1")
    with web_context.store.begin() as conn:
        conn.execute(update(t.outbox).values(status="dead"))
    dead = http.get("/api/v1/deliveries", params={"status": "dead"}, headers=auth(tokens.acme)).json()
    response = http.post(f"/api/v1/deliveries/{dead[0]['id']}/replay", headers=auth(tokens.acme))
    assert response.json() == {"replayed": 1}
    still_dead = http.get("/api/v1/deliveries", params={"status": "dead"}, headers=auth(tokens.acme)).json()
    assert [row["id"] for row in still_dead] == [row["id"] for row in dead[1:]]


def test_replaying_a_delivery_that_is_not_dead_is_409(http: TestClient, tokens, call_answered) -> None:
    call_answered("acme", "a1")
    pending = http.get("/api/v1/deliveries", headers=auth(tokens.acme)).json()
    response = http.post(f"/api/v1/deliveries/{pending[0]['id']}/replay", headers=auth(tokens.acme))
    assert response.status_code == 409


def test_another_clients_delivery_cannot_be_replayed(http: TestClient, tokens, call_answered) -> None:
    call_answered("acme", "a1")
    pending = http.get("/api/v1/deliveries", headers=auth(tokens.acme)).json()
    assert http.post(f"/api/v1/deliveries/{pending[0]['id']}/replay", headers=auth(tokens.beta)).status_code == 404


def test_an_operator_top_up_resumes_an_interrupted_client(http: TestClient, tokens, web_context: WebContext) -> None:
    with web_context.store.begin() as conn:
        conn.execute(update(t.accounts).where(t.accounts.c.client == "beta").values(interrupted=True))
    response = http.post("/api/v1/accounts/beta/topup", json={"amount_eur": 20}, headers=auth(tokens.operator))
    assert response.status_code == 200
    assert http.get("/api/v1/accounts/beta", headers=auth(tokens.operator)).json()["interrupted"] is False


def test_a_top_up_of_an_amount_not_sold_is_422(http: TestClient, tokens) -> None:
    response = http.post("/api/v1/accounts/beta/topup", json={"amount_eur": 25}, headers=auth(tokens.operator))
    assert response.status_code == 422
    assert "20, 30, 50" in response.json()["error"]["message"]


def test_a_client_cannot_top_up_itself(http: TestClient, tokens) -> None:
    response = http.post("/api/v1/accounts/beta/topup", json={"amount_eur": 20}, headers=auth(tokens.beta))
    assert response.status_code == 403


def test_buying_a_contract_appears_in_the_statement(http: TestClient, tokens) -> None:
    http.post("/api/v1/accounts/beta/buy", json={"kind": "contract", "item": "6m"}, headers=auth(tokens.operator))
    statement = http.get("/api/v1/accounts/beta/statement", headers=auth(tokens.beta)).json()
    assert [entry["kind"] for entry in statement] == ["contract"]


def test_a_client_changes_its_destination_mapping(http: TestClient, tokens) -> None:
    document = http.get("/api/v1/clients/acme", headers=auth(tokens.acme)).json()
    document["destinations"][0]["mapping"] = {"subject": "{{ answers.name }}"}
    response = http.put("/api/v1/clients/acme", json=document, headers=auth(tokens.acme))
    assert response.json() == {"created": [], "updated": ["acme"], "unchanged": []}
    after = http.get("/api/v1/clients/acme", headers=auth(tokens.acme)).json()
    assert after["destinations"][0]["mapping"] == {"subject": "{{ answers.name }}"}


def test_a_client_cannot_change_its_tariff(http: TestClient, tokens) -> None:
    document = http.get("/api/v1/clients/acme", headers=auth(tokens.acme)).json()
    document["tariff"] = {"negotiated_cents": 1}
    response = http.put("/api/v1/clients/acme", json=document, headers=auth(tokens.acme))
    assert response.status_code == 403
    assert "tariff" in response.json()["error"]["message"]


def test_an_invalid_client_document_names_the_field(http: TestClient, tokens) -> None:
    document = http.get("/api/v1/clients/beta", headers=auth(tokens.operator)).json()
    document["nif"] = "12"
    response = http.put("/api/v1/clients/beta", json=document, headers=auth(tokens.operator))
    assert response.status_code == 422
    assert "nif" in response.json()["error"]["message"]


def test_agents_are_listed_with_the_clients_they_serve(http: TestClient, tokens) -> None:
    agents = {a["id"]: a for a in http.get("/api/v1/agents", headers=auth(tokens.operator)).json()}
    assert agents["rui"]["clients"] == ["acme", "beta"]
    assert agents["ana"]["state"] == "logged_out"


def test_an_agent_sees_only_itself_in_the_agents_list(http: TestClient, tokens) -> None:
    agents = http.get("/api/v1/agents", headers=auth(tokens.agent)).json()
    assert [agent["id"] for agent in agents] == ["ana"]


def test_a_secret_sent_back_as_stars_keeps_its_stored_value() -> None:
    box = SecretBox([SecretBox.generate_key()])
    stored = {
        "destinations": [{"id": "crm", "kind": "webhook", "settings": box.seal({"secret": "s3cr3t"}, [("secret",)])}]
    }
    document = {"destinations": [{"id": "crm", "kind": "webhook", "settings": {"secret": "***", "url": "https://x"}}]}
    restored = restore_secrets(document, stored, box)
    assert restored["destinations"][0]["settings"] == {"secret": "s3cr3t", "url": "https://x"}


def test_a_secret_is_not_carried_over_to_a_destination_of_another_kind() -> None:
    box = SecretBox([SecretBox.generate_key()])
    stored = {
        "destinations": [{"id": "crm", "kind": "webhook", "settings": box.seal({"secret": "s3cr3t"}, [("secret",)])}]
    }
    document = {"destinations": [{"id": "crm", "kind": "email", "settings": {"secret": "***"}}]}
    assert restore_secrets(document, stored, box)["destinations"][0]["settings"] == {"secret": "***"}


def test_a_client_blocks_and_unblocks_a_caller_through_the_api(http: TestClient, tokens) -> None:
    added = http.post("/api/v1/clients/acme/blocked", json={"number": "912345678"}, headers=auth(tokens.acme))
    assert added.status_code == 201 and added.json()["number"] == "+351912345678"
    listed = http.get("/api/v1/clients/acme/blocked", headers=auth(tokens.acme)).json()
    assert [row["number"] for row in listed] == ["+351912345678"]
    removed = http.delete("/api/v1/clients/acme/blocked/+351912345678", headers=auth(tokens.acme))
    assert removed.status_code == 200
    assert http.get("/api/v1/clients/acme/blocked", headers=auth(tokens.acme)).json() == []


def test_a_client_cannot_block_for_another_client(http: TestClient, tokens) -> None:
    response = http.post("/api/v1/clients/acme/blocked", json={"number": "912345678"}, headers=auth(tokens.beta))
    assert response.status_code in (403, 404)
