"""Campaigns over HTTP: the API (upload, list, show, opt-outs) and the client portal's Campaigns page."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from sample_clients import buy

from hub.core.store import Store
from hub.plugins import Plugins

LISBON = ZoneInfo("Europe/Lisbon")


def in_days(days: int, hour: str = "10:30") -> str:
    """A Lisbon appointment time `days` from today, as a client writes it."""
    return (datetime.now(UTC) + timedelta(days=days)).astimezone(LISBON).strftime(f"%Y-%m-%d {hour}")


def contacts_file(*rows: tuple[str, str, str, str, str]) -> bytes:
    lines = ["name,number,appointment,language,channel", *(",".join(row) for row in rows)]
    return ("\n".join(lines) + "\n").encode()


GOOD = contacts_file(
    ("Maria Silva", "912 345 678", in_days(10), "pt", "phone"),
    ("John Smith", "+351 936 000 111", in_days(11, "15:00"), "en", "phone"),
)
ONE_PORTUGUESE = contacts_file(("Maria Silva", "912 345 678", in_days(10), "pt", "phone"))
TEMPLATES = {
    "template_pt": "Olá {{ name }}, confirma a consulta na {{ client }} a {{ appointment_date }} "
    "às {{ appointment_time }}?",
    "template_en": "Hello {{ name }}, can you confirm your appointment on {{ appointment_date }} "
    "at {{ appointment_time }}?",
}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def post_campaign(http: TestClient, token: str, data: bytes = GOOD, **form: str) -> Any:
    fields = TEMPLATES | {"name": "Consultas da próxima semana"} | form
    return http.post(
        "/api/v1/campaigns", headers=bearer(token), data=fields, files={"file": ("contactos.csv", data, "text/csv")}
    )


def test_a_client_uploads_a_campaign_for_itself(http: TestClient, tokens: Any) -> None:
    response = post_campaign(http, tokens.acme)
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["client"], body["name"], body["mode"], body["contacts"]) == (
        "acme",
        "Consultas da próxima semana",
        "agent",
        2,
    )
    assert body["counts"]["pending"] == 2
    assert body["created_by"] == "client:acme"


def test_a_client_cannot_upload_for_another_client(http: TestClient, tokens: Any) -> None:
    response = post_campaign(http, tokens.beta, client="acme")
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "no client 'acme'"}}


def test_an_operator_names_the_client(http: TestClient, tokens: Any) -> None:
    assert post_campaign(http, tokens.operator).status_code == 422
    response = post_campaign(http, tokens.operator, client="beta", template_en="")
    assert response.status_code == 422  # beta speaks Portuguese only, so the English contact has no template
    response = post_campaign(http, tokens.operator, client="acme")
    assert response.status_code == 201
    assert response.json()["client"] == "acme"


def test_bad_rows_are_refused_with_one_detail_per_problem_and_nothing_stored(http: TestClient, tokens: Any) -> None:
    data = contacts_file(
        ("Maria Silva", "912 345 678", in_days(10), "pt", "phone"),
        ("Rui Lopes", "+351 99", in_days(10), "pt", "phone"),
        ("Inês Dias", "917 000 111", "sexta-feira", "pt", "sms"),
    )
    response = post_campaign(http, tokens.acme, data)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert [(d["line"], d["column"]) for d in error["details"]] == [(3, "number"), (4, "appointment")]
    assert error["details"][0]["text"] == "line 3, number: '+351 99' is not a Portuguese fixed or mobile number"
    assert http.get("/api/v1/campaigns", headers=bearer(tokens.acme)).json() == []


def test_sms_contacts_are_refused_while_the_client_has_no_sms_destination(http: TestClient, tokens: Any) -> None:
    data = contacts_file(("Inês Dias", "917 000 111", in_days(5), "pt", "sms"))
    response = post_campaign(http, tokens.acme, data)
    assert response.status_code == 422
    assert response.json()["error"]["details"] == [
        {
            "line": 2,
            "column": "channel",
            "message": "sms, but acme has no enabled destination that sends SMS "
            "(add one of kind sms, or use channel phone)",
            "text": "line 2, channel: sms, but acme has no enabled destination that sends SMS "
            "(add one of kind sms, or use channel phone)",
        }
    ]


def test_a_client_whose_contract_has_ended_cannot_upload(
    http: TestClient, tokens: Any, web_store: Store, web_plugins: Plugins
) -> None:
    buy(web_store, web_plugins, "beta", plan="6m", at="2025-01-06 08:00")
    response = post_campaign(http, tokens.beta, data=ONE_PORTUGUESE, template_en="")
    assert response.status_code == 409
    assert response.json()["error"] == {
        "code": "conflict",
        "message": "the contract of 'beta' ended on 2025-07-07: no campaign can be uploaded until it is renewed",
    }
    assert http.get("/api/v1/campaigns", headers=bearer(tokens.beta)).json() == []


def test_a_missing_file_is_a_clear_error(http: TestClient, tokens: Any) -> None:
    response = http.post("/api/v1/campaigns", headers=bearer(tokens.acme), data=TEMPLATES)
    assert response.status_code == 422
    assert response.json()["error"]["message"].startswith("file: a CSV of contacts is required")


def test_a_client_lists_and_shows_only_its_own_campaigns(http: TestClient, tokens: Any) -> None:
    campaign_id = post_campaign(http, tokens.acme).json()["id"]
    assert [c["id"] for c in http.get("/api/v1/campaigns", headers=bearer(tokens.acme)).json()] == [campaign_id]
    assert http.get("/api/v1/campaigns", headers=bearer(tokens.beta)).json() == []
    assert http.get("/api/v1/campaigns", headers=bearer(tokens.beta), params={"client": "acme"}).status_code == 404
    shown = http.get(f"/api/v1/campaigns/{campaign_id}", headers=bearer(tokens.acme)).json()
    assert [(c["name"], c["number"], c["status"]) for c in shown["contact_list"]] == [
        ("Maria Silva", "+351912345678", "pending"),
        ("John Smith", "+351936000111", "pending"),
    ]
    assert http.get(f"/api/v1/campaigns/{campaign_id}", headers=bearer(tokens.beta)).status_code == 404


def test_an_operator_lists_every_clients_campaigns(http: TestClient, tokens: Any) -> None:
    post_campaign(http, tokens.acme)
    listed = http.get("/api/v1/campaigns", headers=bearer(tokens.operator)).json()
    assert [c["client"] for c in listed] == ["acme"]


def test_agents_have_no_access_to_campaigns(http: TestClient, tokens: Any) -> None:
    assert http.get("/api/v1/campaigns", headers=bearer(tokens.agent)).status_code == 403
    assert post_campaign(http, tokens.agent, client="acme").status_code == 403


def test_a_client_opts_a_number_out_of_its_own_campaigns(http: TestClient, tokens: Any) -> None:
    campaign_id = post_campaign(http, tokens.acme).json()["id"]
    response = http.post(
        "/api/v1/optouts", headers=bearer(tokens.acme), json={"number": "912 345 678", "reason": "pediu ao telefone"}
    )
    assert response.status_code == 201
    assert response.json()["client"] == "acme"
    statuses = [
        c["status"]
        for c in http.get(f"/api/v1/campaigns/{campaign_id}", headers=bearer(tokens.acme)).json()["contact_list"]
    ]
    assert statuses == ["opted_out", "pending"]
    assert [e["number"] for e in http.get("/api/v1/optouts", headers=bearer(tokens.acme)).json()] == ["+351912345678"]
    assert http.get("/api/v1/optouts", headers=bearer(tokens.beta)).json() == []


def test_a_client_cannot_opt_out_for_another_client(http: TestClient, tokens: Any) -> None:
    response = http.post("/api/v1/optouts", headers=bearer(tokens.beta), json={"number": "912345678", "client": "acme"})
    assert response.status_code == 404


def test_an_operator_opts_a_number_out_of_every_client_and_removes_it(http: TestClient, tokens: Any) -> None:
    operator = bearer(tokens.operator)
    added = http.post("/api/v1/optouts", headers=operator, json={"number": "+351912345678"})
    assert added.json()["client"] is None
    assert http.post("/api/v1/optouts", headers=operator, json={"number": "12"}).status_code == 422
    assert http.delete("/api/v1/optouts/+351912345678", headers=bearer(tokens.acme)).status_code == 404
    assert http.delete("/api/v1/optouts/+351912345678", headers=operator).json() == {
        "number": "+351912345678",
        "opted_out": False,
    }
    assert http.get("/api/v1/optouts", headers=operator).json() == []


def test_the_portal_lists_campaigns_with_their_counts(http: TestClient, tokens: Any) -> None:
    post_campaign(http, tokens.acme)
    page = http.get("/portal/acme/campaigns", headers=bearer(tokens.acme) | {"accept-language": "pt"})
    assert page.status_code == 200
    assert "Nova campanha" in page.text and "Mensagem em inglês" in page.text
    assert "Consultas da próxima semana" in page.text
    assert '<td class="count-pending">2</td>' in page.text


def test_the_portal_speaks_english_when_asked(http: TestClient, tokens: Any) -> None:
    http.cookies.set("recado_lang", "en")
    page = http.get("/portal/acme/campaigns", headers=bearer(tokens.acme))
    assert "New campaign" in page.text and "No campaigns yet." in page.text


def test_an_upload_from_the_portal_leads_to_the_campaign(http: TestClient, tokens: Any) -> None:
    response = http.post(
        "/portal/acme/campaigns",
        headers=bearer(tokens.acme),
        data=TEMPLATES | {"name": "Lembretes", "mode": "agent"},
        files={"file": ("contactos.csv", GOOD, "text/csv")},
        follow_redirects=False,
    )
    assert response.status_code == 303
    page = http.get(response.headers["location"], headers=bearer(tokens.acme) | {"accept-language": "pt"})
    assert "Campanha guardada." in page.text
    assert "Maria Silva" in page.text and "+351936000111" in page.text
    assert '<div class="value" id="count-pending">2</div>' in page.text


def test_a_refused_upload_in_the_portal_lists_every_problem_and_keeps_the_messages(
    http: TestClient, tokens: Any
) -> None:
    data = contacts_file(("Rui Lopes", "+351 99", in_days(3), "pt", "phone"))
    response = http.post(
        "/portal/acme/campaigns",
        headers=bearer(tokens.acme) | {"accept-language": "pt"},
        data=TEMPLATES,
        files={"file": ("contactos.csv", data, "text/csv")},
    )
    assert response.status_code == 422
    assert "line 2, number: &#39;+351 99&#39; is not a Portuguese fixed or mobile number" in response.text
    assert "nada foi guardado" in response.text
    assert "confirma a consulta na" in response.text


def test_the_portal_says_above_the_form_that_an_ended_contract_takes_no_campaign(
    http: TestClient, tokens: Any, web_store: Store, web_plugins: Plugins
) -> None:
    buy(web_store, web_plugins, "beta", plan="6m", at="2025-01-06 08:00")
    response = http.post(
        "/portal/beta/campaigns",
        headers=bearer(tokens.beta) | {"accept-language": "pt"},
        data=TEMPLATES,
        files={"file": ("contactos.csv", ONE_PORTUGUESE, "text/csv")},
    )
    assert response.status_code == 409
    assert "ended on 2025-07-07: no campaign can be uploaded until it is renewed" in response.text
    assert "confirma a consulta na" in response.text


def test_another_clients_portal_campaign_is_not_found(http: TestClient, tokens: Any) -> None:
    campaign_id = post_campaign(http, tokens.acme).json()["id"]
    assert http.get(f"/portal/acme/campaigns/{campaign_id}", headers=bearer(tokens.beta)).status_code == 404
    assert http.get("/portal/acme/campaigns", headers=bearer(tokens.beta)).status_code == 404


def test_a_logged_in_client_uploads_through_the_form_with_its_csrf_secret(http: TestClient, tokens: Any) -> None:
    http.post("/login", data={"token": tokens.acme}, follow_redirects=False)
    page = http.get("/portal/acme/campaigns")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf is not None
    files = {"file": ("contactos.csv", GOOD, "text/csv")}
    forged = http.post("/portal/acme/campaigns", data=TEMPLATES, files=files, follow_redirects=False)
    assert forged.status_code == 403
    sent = http.post(
        "/portal/acme/campaigns", data=TEMPLATES | {"csrf": csrf.group(1)}, files=files, follow_redirects=False
    )
    assert sent.status_code == 303
    assert [c["contacts"] for c in http.get("/api/v1/campaigns", headers=bearer(tokens.acme)).json()] == [2]
