"""The client portal and the operator dashboard, through a logged-in browser session."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import update

from hub.core import store as t
from hub.web.context import WebContext
from hub.web.tokens import Role, create_login_link, create_token, revoke_token


def login(http: TestClient, token: str) -> str:
    """Log in; return the CSRF secret of the landing page's forms."""
    response = http.post("/login", data={"token": token, "next": "/"})
    assert response.status_code == 200, response.text
    return re.search(r'name="csrf" value="([^"]+)"', response.text).group(1)  # type: ignore[union-attr]


def test_logging_in_sets_a_secure_httponly_samesite_cookie(http: TestClient, tokens) -> None:
    response = http.post("/login", data={"token": tokens.acme, "next": "/"}, follow_redirects=False)
    cookie = response.headers["set-cookie"]
    assert response.headers["location"] == "/portal/acme"
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=strict" in cookie


def test_a_page_without_a_session_goes_to_the_login(http: TestClient) -> None:
    response = http.get("/portal/acme", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/portal/acme"


def test_a_login_link_never_sends_people_to_another_site(http: TestClient, tokens) -> None:
    response = http.post("/login", data={"token": tokens.acme, "next": "//evil.example/x"}, follow_redirects=False)
    assert response.headers["location"] == "/portal/acme"


def test_repeated_bad_logins_must_wait(http: TestClient) -> None:
    statuses = [http.post("/login", data={"token": "rcd_wrong"}).status_code for _ in range(6)]
    assert statuses == [401, 401, 401, 401, 401, 429]


def test_a_form_without_the_csrf_secret_is_refused(http: TestClient, tokens) -> None:
    login(http, tokens.operator)
    response = http.post("/dashboard/topup", data={"client": "beta", "amount_eur": "20"})
    assert response.status_code == 403
    assert "CSRF" in response.text


def test_the_overview_shows_balance_calls_next_price_and_contract_end(http: TestClient, tokens, call_answered) -> None:
    call_answered("acme", "a1")
    login(http, tokens.acme)
    page = http.get("/portal/acme").text
    assert 'id="calls-month">1<' in page
    assert re.search(r'id="balance">[\d  ]+,\d\d €<', page)
    assert 'id="contract-end">2027-03' in page


def test_pages_speak_the_browsers_language_and_can_switch(http: TestClient, tokens) -> None:
    login(http, tokens.acme)
    assert "Balance" in http.get("/portal/acme", headers={"Accept-Language": "en-GB,en;q=0.9"}).text
    http.get("/lang/pt", params={"next": "/portal/acme"})
    assert "Saldo" in http.get("/portal/acme", headers={"Accept-Language": "en-GB,en;q=0.9"}).text


def test_records_search_finds_a_caller_by_name(http: TestClient, tokens, call_answered) -> None:
    call_answered("acme", "a1", name="Maria Simões")
    call_answered("acme", "a2", name="Rui Costa")
    login(http, tokens.acme)
    page = http.get("/portal/acme/records", params={"q": "Simões"}).text
    assert "Maria Simões" in page and "Rui Costa" not in page


def test_records_export_as_csv_from_the_portal(http: TestClient, tokens, call_answered) -> None:
    call_answered("acme", "a1", name="Maria Simões")
    login(http, tokens.acme)
    response = http.get("/portal/acme/records.csv", params={"q": "Maria"})
    assert "name=Maria Simões" in response.text


def test_a_record_shows_each_destinations_delivery(http: TestClient, tokens, call_answered, deliver_now) -> None:
    record_id = call_answered("acme", "a1")
    deliver_now()
    login(http, tokens.acme)
    page = http.get(f"/portal/acme/records/{record_id}").text
    assert page.count('delivery-status">delivered<') == 2


def test_a_dead_delivery_is_replayed_from_the_portal(
    http: TestClient, tokens, web_context: WebContext, call_answered
) -> None:
    record_id = call_answered("acme", "a1")
    with web_context.store.begin() as conn:
        conn.execute(update(t.outbox).where(t.outbox.c.destination == "mail").values(status="dead"))
    csrf = login(http, tokens.acme)
    page = http.get(f"/portal/acme/records/{record_id}").text
    delivery_id = re.search(r"/deliveries/(\d+)/replay", page).group(1)  # type: ignore[union-attr]
    after = http.post(f"/portal/acme/deliveries/{delivery_id}/replay", data={"csrf": csrf}).text
    assert 'delivery-status">dead<' not in after


def test_the_mapping_preview_renders_a_recent_record(http: TestClient, tokens, call_answered) -> None:
    call_answered("acme", "a1", name="Maria Simões")
    csrf = login(http, tokens.acme)
    page = http.post(
        "/portal/acme/destinations/mail",
        data={"csrf": csrf, "action": "preview", "settings": "", "mapping": 'subject: "Ligou {{ answers.name }}"'},
    ).text
    assert "Ligou Maria Simões" in page


def test_a_mapping_naming_an_unknown_field_is_explained(http: TestClient, tokens, call_answered) -> None:
    call_answered("acme", "a1")
    csrf = login(http, tokens.acme)
    page = http.post(
        "/portal/acme/destinations/mail",
        data={"csrf": csrf, "action": "preview", "settings": "", "mapping": 'x: "{{ answers.shoe_size }}"'},
    ).text
    assert "unknown field answers.shoe_size" in page


def test_a_test_record_is_sent_through_the_edited_settings(
    http: TestClient, tokens, call_answered, tmp_path: Path
) -> None:
    call_answered("acme", "a1", name="Maria Simões")
    csrf = login(http, tokens.acme)
    other = tmp_path / "test-maildir"
    page = http.post(
        "/portal/acme/destinations/mail",
        data={"csrf": csrf, "action": "test", "settings": f"to: [teste@acme.example]\nmaildir: {other}", "mapping": ""},
    ).text
    assert 'id="test-result"' in page and "delivered" in page
    assert any(
        "Maria" in path.read_text(encoding="utf-8", errors="replace") for path in other.rglob("*") if path.is_file()
    )


def test_saving_a_destination_changes_it(http: TestClient, tokens, tmp_path: Path) -> None:
    csrf = login(http, tokens.acme)
    settings = f"to: [nova@acme.example]\nmaildir: {tmp_path / 'maildir'}"
    page = http.post(
        "/portal/acme/destinations/mail",
        data={"csrf": csrf, "action": "save", "settings": settings, "mapping": ""},
    ).text
    assert "nova@acme.example" in page
    assert "Guardado." in page


def test_the_statement_lists_the_contract_document(http: TestClient, tokens) -> None:
    login(http, tokens.acme)
    page = http.get("/portal/acme/statement").text
    assert "Prepaid contract, 12 months" in page


def test_the_operator_tops_up_an_interrupted_client_from_the_dashboard(
    http: TestClient, tokens, web_context: WebContext
) -> None:
    with web_context.store.begin() as conn:
        conn.execute(update(t.accounts).where(t.accounts.c.client == "beta").values(interrupted=True))
    csrf = login(http, tokens.operator)
    assert 'data-client="beta"' in http.get("/dashboard").text
    page = http.post("/dashboard/topup", data={"csrf": csrf, "client": "beta", "amount_eur": "50"}).text
    assert 'data-client="beta"' not in page


def test_the_dashboard_is_for_operators_only(http: TestClient, tokens) -> None:
    login(http, tokens.acme)
    assert http.get("/dashboard").status_code == 403


def test_logging_out_ends_the_session(http: TestClient, tokens) -> None:
    csrf = login(http, tokens.acme)
    http.post("/logout", data={"csrf": csrf})
    assert http.get("/portal/acme", follow_redirects=False).status_code == 303


def test_a_one_time_login_link_opens_a_session_once(http: TestClient, web_context: WebContext) -> None:
    token_id, _token = create_token(web_context.store, Role.CLIENT, client="acme")
    code = create_login_link(web_context.store, token_id)
    assert "link-login" in http.get(f"/login/link/{code}").text  # looking at it does not use it up
    first = http.post(f"/login/link/{code}", follow_redirects=False)
    assert first.headers["location"] == "/portal/acme"
    http.cookies.clear()
    assert http.post(f"/login/link/{code}", follow_redirects=False).status_code == 401


def test_a_login_link_of_a_revoked_token_does_not_log_in(http: TestClient, web_context: WebContext) -> None:
    token_id, _token = create_token(web_context.store, Role.CLIENT, client="acme")
    code = create_login_link(web_context.store, token_id)
    revoke_token(web_context.store, token_id)
    assert http.post(f"/login/link/{code}", follow_redirects=False).status_code == 401


def test_a_client_blocks_a_number_from_the_portal_and_its_calls_are_refused(
    http: TestClient, tokens, web_context: WebContext
) -> None:
    csrf = login(http, tokens.acme)
    response = http.post("/portal/acme/blocked", data={"csrf": csrf, "number": "912 345 678"})
    assert response.status_code == 200
    assert "+351912345678" in response.text
    placed = http.post(
        "/api/v1/console/calls",
        json={"client": "acme", "caller": "+351912345678"},
        headers={"Authorization": f"Bearer {tokens.operator}"},
    )
    assert placed.json()["disposition"] == "blocked"


def test_a_client_unblocks_a_number(http: TestClient, tokens) -> None:
    csrf = login(http, tokens.acme)
    http.post("/portal/acme/blocked", data={"csrf": csrf, "number": "+351912345678"})
    page = http.post("/portal/acme/blocked", data={"csrf": csrf, "number": "+351912345678", "unblock": "1"}).text
    assert "+351912345678" not in page.split('id="blocked"')[1].split("</table>")[0]
