"""The public sign-up form, the applicant's invoice page, and invoices and renewal in the portal."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from billing_setup import APPLICANT, SELLER
from fastapi.testclient import TestClient
from sqlalchemy import select

from hub.core import billing, directory, invoices, signups
from hub.core import store as t
from hub.core.invoices import Invoice
from hub.plugins import Plugins
from hub.web.app import create_app
from hub.web.context import WebContext


@pytest.fixture
def web_plugins() -> Plugins:
    """The email sink for records and the webhook sink for the optional webhook."""
    return Plugins(only={"email", "webhook"})


@pytest.fixture
def seller(web_context: WebContext) -> WebContext:
    """The application with the operator's billing details set: sign-up is open."""
    web_context.settings.billing = SELLER
    return web_context


def form_secret(http: TestClient, **headers: str) -> tuple[str, str]:
    """Open the form; its hidden CSRF secret and the page."""
    page = http.get("/signup", headers=headers)
    assert page.status_code == 200, page.text
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found is not None
    return found.group(1), page.text


def submit(http: TestClient, csrf: str | None = None, **changes: Any) -> Any:
    """Post the sample applicant's form (with `changes`); the response, redirects not followed."""
    secret = csrf if csrf is not None else form_secret(http)[0]
    data = {key: value for key, value in (APPLICANT | {"phone": "912345678"} | changes).items() if value is not None}
    return http.post("/signup", data=data | {"csrf": secret}, follow_redirects=False)


def only_invoice(context: WebContext) -> Invoice:
    with context.store.connect() as conn:
        [invoice] = invoices.listing(conn)
    return invoice


def test_the_sign_up_form_needs_no_login_and_speaks_portuguese(http: TestClient, seller: WebContext) -> None:
    _csrf, page = form_secret(http)
    assert "Aderir ao serviço de atendimento" in page
    assert "12 meses — 156,00 € + IVA (191,88 €)" in page
    assert "Português (30,00 €, debitado do saldo)" in page
    assert 'name="webhook_url"' in page
    cookie = http.cookies.get("recado_signup_csrf")
    assert cookie is not None


def test_the_sign_up_form_speaks_english_to_an_english_browser(http: TestClient, seller: WebContext) -> None:
    _csrf, page = form_secret(http, **{"Accept-Language": "en-GB,en;q=0.9"})
    assert "Sign up for the answering service" in page
    assert "12 months — €156.00 + VAT (€191.88)" in page


def test_a_sign_up_makes_a_pending_client_and_shows_its_invoice(http: TestClient, seller: WebContext) -> None:
    response = submit(http)
    assert response.status_code == 303
    invoice = only_invoice(seller)
    assert response.headers["location"] == f"/invoices/{invoice.public_token}"
    page = http.get(response.headers["location"]).text
    for expected in (invoice.payment_reference, "PT50 0002 0123 1234 5678 9015 4", "191,88 €", "Padaria Lopes, Lda"):
        assert expected in page, expected
    assert "enviamos-lhe por email o seu número de atendimento" in page
    with seller.store.connect() as conn:
        [row] = signups.list_signups(conn)
        assert directory.get_client(conn, row["client"]) is None
    assert (row["status"], row["phone"], row["contact_name"]) == ("pending", "+351912345678", "Ana Lopes")


def test_a_sign_up_without_the_form_s_secret_is_refused(http: TestClient, seller: WebContext) -> None:
    form_secret(http)
    response = submit(http, csrf="forged-by-another-site")
    assert response.status_code == 403
    with seller.store.connect() as conn:
        assert signups.list_signups(conn) == []


def test_a_nif_with_a_wrong_check_digit_is_explained_beside_it(http: TestClient, seller: WebContext) -> None:
    response = submit(http, nif="513000004")
    assert response.status_code == 422
    assert "O dígito de controlo não confere" in response.text
    assert 'value="Padaria Lopes, Lda"' in response.text  # what was typed stays
    with seller.store.connect() as conn:
        assert signups.list_signups(conn) == []


def test_every_missing_field_is_named(http: TestClient, seller: WebContext) -> None:
    response = submit(http, company="", email="not-an-email", languages=None)
    assert response.status_code == 422
    assert 'id="e-company"' in response.text
    assert "Endereço de email inválido" in response.text
    assert "Escolha pelo menos uma língua." in response.text


def test_the_invoice_pdf_is_served_by_its_public_link(http: TestClient, seller: WebContext) -> None:
    location = submit(http).headers["location"]
    response = http.get(f"{location}.pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")


def test_an_unknown_invoice_link_is_not_found(http: TestClient, seller: WebContext) -> None:
    assert http.get("/invoices/NotAnInvoiceToken123").status_code == 404


def test_sign_ups_from_one_address_must_wait_after_three(http: TestClient, seller: WebContext) -> None:
    statuses = [submit(http, company=f"Empresa {n}").status_code for n in range(4)]
    assert statuses == [303, 303, 303, 429]


def test_sign_up_is_closed_until_the_seller_is_configured(http: TestClient) -> None:
    response = http.get("/signup", headers={"Accept": "text/html"})
    assert response.status_code == 503
    assert "A adesão online ainda não está disponível" in response.text


def test_a_webhook_s_signing_secret_is_shown_once(http: TestClient, seller: WebContext) -> None:
    location = submit(http, webhook_url="https://hooks.padaria.example/recado").headers["location"]
    first = http.get(location).text
    found = re.search(r"<pre>(whsec_[^<]+)</pre>", first)
    assert found is not None
    assert found.group(1) not in http.get(location).text


def test_a_webhook_address_the_hub_must_not_call_is_refused(http: TestClient, seller: WebContext) -> None:
    response = submit(http, webhook_url="http://127.0.0.1:8080/hook")
    assert response.status_code == 422
    assert 'id="e-webhook_url"' in response.text


def test_card_is_offered_and_chosen_when_a_payment_method_is_configured(web_context: WebContext) -> None:
    web_context.settings.billing = SELLER
    web_context.settings.payments = {"stripe": {"api_key": "sk_test_x"}}
    web_context.plugins = Plugins(only={"email", "stripe"})
    if "stripe" not in web_context.plugins.registry.payments:
        pytest.skip("the recado-stripe plugin is not installed")
    with TestClient(create_app(web_context), base_url="https://testserver") as http:
        csrf, page = form_secret(http)
        assert 'value="card"' in page and "Cartão" in page
        response = submit(http, csrf=csrf, method="card")
    assert response.status_code == 303
    assert response.headers["location"] == f"/pay/{only_invoice(web_context).public_token}/card"


def test_card_is_not_offered_without_a_payment_method(http: TestClient, seller: WebContext) -> None:
    _csrf, page = form_secret(http)
    assert 'value="card"' not in page
    assert submit(http, method="card").status_code == 422


@pytest.fixture
def bearer(tokens: Any) -> Iterator[dict[str, str]]:
    yield {"Authorization": f"Bearer {tokens.acme}"}


def test_the_renew_button_issues_an_invoice_and_paying_it_renews(
    http: TestClient, seller: WebContext, bearer: dict[str, str]
) -> None:
    response = http.post("/portal/acme/renew", data={"plan": "12m"}, headers=bearer, follow_redirects=False)
    assert response.status_code == 303
    invoice = only_invoice(seller)
    assert response.headers["location"] == f"/invoices/{invoice.public_token}"
    assert (invoice.kind, invoice.client, invoice.gross_cents) == ("renewal", "acme", 19188)
    result = billing.mark_invoice_paid(
        seller.store,
        seller.plugins.registry,
        invoice.number,
        amount_cents=19188,
        method="transfer",
        reference="bank:1",
        at=invoice.issued_at,
        settings=seller.settings,
    )
    assert result.state == "renewed"
    page = http.get("/portal/acme/invoices", headers=bearer).text
    assert invoice.number in page and "Paga" in page


def test_a_client_downloads_its_invoice_as_pdf(http: TestClient, seller: WebContext, bearer: dict[str, str]) -> None:
    http.post("/portal/acme/renew", data={"plan": "6m"}, headers=bearer)
    slug = only_invoice(seller).number.replace("/", "-")
    response = http.get(f"/portal/acme/invoices/{slug}.pdf", headers=bearer)
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF")
    assert "attachment" in response.headers["content-disposition"]


def test_a_client_cannot_see_another_client_s_invoice(http: TestClient, seller: WebContext, tokens: Any) -> None:
    http.post("/portal/acme/renew", data={"plan": "6m"}, headers={"Authorization": f"Bearer {tokens.acme}"})
    slug = only_invoice(seller).number.replace("/", "-")
    beta = {"Authorization": f"Bearer {tokens.beta}"}
    assert http.get(f"/portal/acme/invoices/{slug}.pdf", headers=beta).status_code == 404
    assert http.get(f"/portal/beta/invoices/{slug}.pdf", headers=beta).status_code == 404


def test_the_dashboard_shows_sign_ups_not_active_yet(http: TestClient, seller: WebContext, tokens: Any) -> None:
    submit(http)
    page = http.get("/dashboard", headers={"Authorization": f"Bearer {tokens.operator}"}).text
    assert "Adesões e pagamentos" in page
    assert 'data-client="padaria-lopes-lda"' in page
    with seller.store.connect() as conn:
        assert conn.execute(select(t.signups.c.status)).scalar() == "pending"
