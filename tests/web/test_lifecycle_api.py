"""`POST /api/v1/accounts/{client}/renew`: operators renew contracts over the API."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi.testclient import TestClient


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_an_operator_renews_a_contract_from_its_end(http: TestClient, tokens) -> None:
    before = http.get("/api/v1/accounts/acme", headers=auth(tokens.operator)).json()
    response = http.post("/api/v1/accounts/acme/renew", json={"plan": "12m"}, headers=auth(tokens.operator))
    assert response.status_code == 200, response.text
    report = response.json()
    old_end = datetime.fromisoformat(before["contract_ends_at"])
    assert datetime.fromisoformat(report["contract_ends_at"]) - old_end == timedelta(days=365)
    assert report["dids"] == ["+351217000001"]
    assert (report["recorded_message"], report["message_charged_cents"]) == ("pt+en", 0)
    assert report["balance_cents"] == before["balance_cents"] + 15600


def test_a_client_token_cannot_renew_even_its_own_contract(http: TestClient, tokens) -> None:
    response = http.post("/api/v1/accounts/acme/renew", json={"plan": "12m"}, headers=auth(tokens.acme))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"


def test_renewing_with_an_unknown_plan_is_422(http: TestClient, tokens) -> None:
    response = http.post("/api/v1/accounts/acme/renew", json={"plan": "3m"}, headers=auth(tokens.operator))
    assert response.status_code == 422
    assert "unknown plan '3m'" in response.json()["error"]["message"]


def test_renewing_a_client_without_a_contract_is_409(http: TestClient, tokens) -> None:
    response = http.post("/api/v1/accounts/beta/renew", json={"plan": "6m"}, headers=auth(tokens.operator))
    assert response.status_code == 409
    assert "no contract to renew" in response.json()["error"]["message"]


def test_renewing_an_unknown_client_is_404(http: TestClient, tokens) -> None:
    response = http.post("/api/v1/accounts/nobody/renew", json={"plan": "6m"}, headers=auth(tokens.operator))
    assert response.status_code == 404
