"""Every route of the application, asked with another client's token, reveals nothing of `acme`.

The routes are listed from the application itself, so a route added later is
checked too: unless it is public or a listing scoped to the token's client, it
must answer 403 or 404 to a client that is not its own.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient

PUBLIC = {
    "/healthz",
    "/metrics",
    "/openapi.json",
    "/docs",
    "/docs/oauth2-redirect",
    "/redoc",
    "/login",
    "/login/link/{code}",
    "/logout",
    "/lang/{code}",
    "/",
    "/static",
    # Card payments: the invoice's public token is the only key; the webhook is signed by the provider.
    "/pay/{token}/card",
    "/pay/{token}/done",
    "/payments/{kind}/webhook",
    # Sign-up: a public form; an invoice's page and PDF are reached by its unguessable token only.
    "/signup",
    "/invoices/{token}",
    "/invoices/{token}.pdf",
}
#: Listings: they answer with the token's own client's rows, whatever the query asks.
SCOPED_LISTINGS = {"/api/v1/clients", "/api/v1/records", "/api/v1/records.csv", "/api/v1/deliveries"}


def every_route(app: FastAPI) -> Iterator[tuple[str, str]]:
    """`(method, path)` of every route, including those of included routers."""
    for route in app.routes:
        contexts = getattr(route, "effective_route_contexts", None)
        for item in contexts() if contexts else [route]:
            for method in sorted(getattr(item, "methods", None) or {"GET"}):
                if method != "HEAD":
                    yield method, item.path


def _filled(path: str, values: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)(:\w+)?\}", lambda match: values[match.group(1)], path)


def test_a_client_token_reaches_nothing_of_another_client(
    app: FastAPI, http: TestClient, tokens, call_answered, deliver_now
) -> None:
    acme_record = call_answered("acme", "a1")
    call_answered("beta", "b1")
    operator = {"Authorization": f"Bearer {tokens.operator}"}
    acme_delivery = http.get("/api/v1/deliveries", params={"client": "acme"}, headers=operator).json()[0]["id"]
    acme_document = http.get("/api/v1/clients/acme", headers=operator).json()
    appointment = f"{datetime.now(UTC) + timedelta(days=9):%Y-%m-%d} 10:30"
    acme_campaign = http.post(
        "/api/v1/campaigns",
        headers=operator,
        data={"client": "acme", "template_pt": "Olá {{ name }}"},
        files={"file": ("c.csv", f"name,number,appointment,channel\nMaria,912345678,{appointment},phone\n".encode())},
    ).json()["id"]
    acme_contact = http.get(f"/api/v1/campaigns/{acme_campaign}", headers=operator).json()["contact_list"][0]["id"]
    http.post("/api/v1/optouts", headers=operator, json={"number": "+351912345678", "client": "acme"})
    values = {
        "client_id": "acme",
        "number": "+351912345678",
        "record_id": acme_record,
        "delivery_id": str(acme_delivery),
        "destination_id": "mail",
        "call_id": "a1",
        "code": "pt",
        "campaign_id": str(acme_campaign),
        "contact_id": str(acme_contact),
        "month": "2026-03",
        "slug": "2026-000001",
    }
    json_bodies = {
        "/api/v1/clients/{client_id}": acme_document,
        "/api/v1/accounts/{client_id}/topup": {"amount_eur": 20},
        "/api/v1/accounts/{client_id}/buy": {"kind": "contract", "item": "6m"},
        "/api/v1/console/calls": {"client": "acme", "caller": "+351912345678"},
        "/api/v1/clients/{client_id}/blocked": {"number": "+351912345678"},
    }
    form = {
        "client": "acme",
        "amount_eur": "20",
        "state": "available",
        "settings": "to: [x@example.com]",
        "mapping": "",
        "action": "save",
        "f_name": "x",
        "caller": "+351912345678",
    }
    beta = {"Authorization": f"Bearer {tokens.beta}"}
    checked = []
    for method, path in every_route(app):
        if path in PUBLIC:
            continue
        url = _filled(path, values)
        params = {"client": "acme"}
        if path in json_bodies:
            response = http.request(method, url, headers=beta, params=params, json=json_bodies[path])
        elif method == "POST":
            response = http.request(method, url, headers=beta, params=params, data=form)
        else:
            response = http.request(method, url, headers=beta, params=params)
        checked.append(path)
        if path in SCOPED_LISTINGS:
            assert response.status_code == 200, (method, path, response.text)
            assert "acme" not in response.text.lower(), (method, path)
        else:
            assert response.status_code in (403, 404), (method, path, response.status_code, response.text)
    assert len(checked) >= 25


def test_the_walk_covers_the_console_of_the_demo_source(app: FastAPI) -> None:
    paths = {path for _method, path in every_route(app)}
    assert {"/console", "/console/calls/{call_id}/wrapup", "/api/v1/console/calls"} <= paths
