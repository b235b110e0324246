"""The console's Tasks panel over the demo desk: phone contacts called, answered, recorded and priced."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from campaign_setup import TEMPLATES, contacts_csv, lisbon
from fastapi.testclient import TestClient

from hub.core import campaigns_admin, ledger, outbound, records
from hub.core.store import Store
from hub.web.app import create_app
from hub.web.context import WebContext
from hub.web.desk import Desk

NOW = lisbon("2026-03-02 10:00")
ANSWERS = "+351912345671"
NEVER_ANSWERS = "+351912345670"  # the demo's people whose number ends in 0 do not answer


def upload(context: WebContext, rows: list[tuple[str, str, str, str]], mode: str = "agent") -> dict[str, Any]:
    text = contacts_csv((name, number, appointment, language, "phone") for name, number, appointment, language in rows)
    return campaigns_admin.create_campaign(
        context.store,
        context.plugins.registry,
        "acme",
        text,
        TEMPLATES,
        name="Lembretes",
        mode=mode,
        created_by="operator",
        now=lisbon("2026-03-02 08:00"),
    )


@pytest.fixture
def desk_http(web_context: WebContext) -> Iterator[TestClient]:
    """The application with its demo desk and console on the clock of 2 March 2026, 10:00 Lisbon."""
    web_context.extras["clock"] = lambda: NOW
    app = create_app(web_context)
    desk = web_context.extras["desk"]
    assert isinstance(desk, Desk)
    desk.clock = lambda: NOW
    with TestClient(app, base_url="https://testserver") as client:
        yield client


def agent_session(http: TestClient, token: str) -> str:
    page = http.post("/login", data={"token": token, "next": "/console"}).text
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found is not None, page
    return found.group(1)


def call_next(http: TestClient, csrf: str) -> str:
    """Press Call next; the task page it leads to."""
    response = http.post("/console/tasks/next", data={"csrf": csrf})
    assert response.status_code == 200, response.text
    return response.text


def contact_id_in(page: str) -> int:
    found = re.search(r'id="task-(\d+)"', page)
    assert found is not None, page
    return int(found.group(1))


def record_of(store: Store, contact_id: int) -> dict[str, Any]:
    with store.connect() as conn:
        contact = outbound.load(conn, contact_id)
        assert contact is not None
        record = records.get(conn, contact.record_id)
    assert record is not None, f"contact {contact_id} has no record"
    return record.model_dump(mode="json")


def balance(store: Store) -> int:
    with store.connect() as conn:
        return ledger.lock_account(conn, "acme", for_update=False).balance_cents


def test_the_console_lists_the_tasks_with_client_appointment_language_and_script(
    desk_http: TestClient, tokens, web_context: WebContext
) -> None:
    upload(web_context, [("Maria Silva", ANSWERS, "2026-03-20 10:30", "pt")])
    agent_session(desk_http, tokens.agent)
    page = desk_http.get("/console").text
    tasks = page[page.index('id="tasks"') :]
    assert "Maria Silva" in tasks and "Clínica Acme" in tasks and "20/03/2026 10:30" in tasks and "PT" in tasks
    assert "Olá Maria Silva, lembramos a sua consulta na Clínica Acme a 20/03/2026 às 10:30." in tasks


def test_call_next_calls_the_most_urgent_task_and_shows_the_person_on_the_line(
    desk_http: TestClient, tokens, web_context: WebContext
) -> None:
    later = ("Later Person", "+351912345672", "2026-03-25 10:00", "en")
    upload(web_context, [later, ("Maria Silva", ANSWERS, "2026-03-20 10:30", "pt")])
    csrf = agent_session(desk_http, tokens.agent)
    page = call_next(desk_http, csrf)
    assert "Maria Silva" in page and ANSWERS in page
    assert 'class="badge answered"' in page


def test_a_confirmed_contact_is_an_outbound_record_of_one_euro_debited_from_the_balance(
    desk_http: TestClient, tokens, web_context: WebContext
) -> None:
    upload(web_context, [("Maria Silva", ANSWERS, "2026-03-20 10:30", "pt")])
    before = balance(web_context.store)
    csrf = agent_session(desk_http, tokens.agent)
    contact_id = contact_id_in(call_next(desk_http, csrf))
    page = desk_http.post(
        f"/console/tasks/{contact_id}/outcome", data={"csrf": csrf, "outcome": "confirmed", "notes": "vem"}
    ).text
    assert "Resultado registado." in page
    record = record_of(web_context.store, contact_id)
    assert (record["direction"], record["disposition"], record["price_cents"]) == ("outbound", "confirmed", 100)
    assert record["agent"] == "ana" and record["notes"] == "vem"
    assert balance(web_context.store) == before - 100


def test_a_rescheduled_contact_keeps_the_new_date_and_time(
    desk_http: TestClient, tokens, web_context: WebContext
) -> None:
    upload(web_context, [("Maria Silva", ANSWERS, "2026-03-20 10:30", "pt")])
    csrf = agent_session(desk_http, tokens.agent)
    contact_id = contact_id_in(call_next(desk_http, csrf))
    desk_http.post(
        f"/console/tasks/{contact_id}/outcome",
        data={"csrf": csrf, "outcome": "rescheduled", "rescheduled_to": "2026-03-27T15:00"},
    )
    record = record_of(web_context.store, contact_id)
    assert record["disposition"] == "rescheduled" and record["price_cents"] == 100
    moved = datetime.fromisoformat(record["contact"]["rescheduled_to"])
    assert moved == lisbon("2026-03-27 15:00")


def test_rescheduling_to_a_time_already_past_is_refused(desk_http: TestClient, tokens, web_context: WebContext) -> None:
    upload(web_context, [("Maria Silva", ANSWERS, "2026-03-20 10:30", "pt")])
    csrf = agent_session(desk_http, tokens.agent)
    contact_id = contact_id_in(call_next(desk_http, csrf))
    page = desk_http.post(
        f"/console/tasks/{contact_id}/outcome",
        data={"csrf": csrf, "outcome": "rescheduled", "rescheduled_to": "2026-03-01T15:00"},
    ).text
    assert "it must be later than now" in page
    with web_context.store.connect() as conn:
        contact = outbound.load(conn, contact_id)
    assert contact is not None and contact.status == "in_progress"


def test_a_person_who_never_answers_is_recorded_no_answer_for_free(
    desk_http: TestClient, tokens, web_context: WebContext
) -> None:
    upload(web_context, [("Rui Costa", NEVER_ANSWERS, "2026-03-20 10:30", "pt")])
    before = balance(web_context.store)
    csrf = agent_session(desk_http, tokens.agent)
    page = call_next(desk_http, csrf)
    assert 'id="task-result"' in page and "Não atendeu" in page
    record = record_of(web_context.store, contact_id_in(page))
    assert (record["disposition"], record["price_cents"]) == ("no_answer", 0)
    assert balance(web_context.store) == before


def test_a_recorded_outcome_cannot_be_changed(desk_http: TestClient, tokens, web_context: WebContext) -> None:
    upload(web_context, [("Rui Costa", NEVER_ANSWERS, "2026-03-20 10:30", "pt")])
    csrf = agent_session(desk_http, tokens.agent)
    contact_id = contact_id_in(call_next(desk_http, csrf))
    page = desk_http.post(f"/console/tasks/{contact_id}/outcome", data={"csrf": csrf, "outcome": "confirmed"}).text
    assert "already no_answer" in page
    assert record_of(web_context.store, contact_id)["disposition"] == "no_answer"


def test_an_available_agent_is_on_break_during_the_call_and_available_again_after(
    desk_http: TestClient, tokens, web_context: WebContext
) -> None:
    upload(web_context, [("Maria Silva", ANSWERS, "2026-03-20 10:30", "pt")])
    csrf = agent_session(desk_http, tokens.agent)
    desk_http.post("/console/state", data={"csrf": csrf, "state": "available"})
    contact_id = contact_id_in(call_next(desk_http, csrf))
    desk = web_context.extras["desk"]
    assert desk.states()["ana"] == "on_break"
    desk_http.post(f"/console/tasks/{contact_id}/outcome", data={"csrf": csrf, "outcome": "confirmed"})
    assert desk.states()["ana"] == "available"


def test_another_agents_task_is_not_shown(desk_http: TestClient, tokens, web_context: WebContext) -> None:
    from hub.web.tokens import Role, create_token

    upload(web_context, [("Maria Silva", ANSWERS, "2026-03-20 10:30", "pt")])
    contact_id = contact_id_in(call_next(desk_http, agent_session(desk_http, tokens.agent)))
    other = TestClient(desk_http.app, base_url="https://testserver")
    agent_session(other, create_token(web_context.store, Role.AGENT, agent="rui")[1])
    assert other.get(f"/console/tasks/{contact_id}").status_code == 404


def test_with_no_task_due_call_next_says_so(desk_http: TestClient, tokens) -> None:
    csrf = agent_session(desk_http, tokens.agent)
    assert "Não há contactos por fazer." in desk_http.post("/console/tasks/next", data={"csrf": csrf}).text


def test_the_demo_console_plays_the_due_recorded_messages(
    desk_http: TestClient, tokens, web_context: WebContext
) -> None:
    summary = upload(
        web_context,
        [("Maria Silva", ANSWERS, "2026-03-20 10:30", "pt"), ("Rui Costa", NEVER_ANSWERS, "2026-03-21 10:30", "pt")],
        mode="message",
    )
    csrf = agent_session(desk_http, tokens.agent)
    assert 'id="messages-due">2<' in desk_http.get("/console").text
    desk_http.post("/console/tasks/messages", data={"csrf": csrf})
    shown = campaigns_admin.show_campaign(web_context.store, summary["id"])
    outcomes = {row["name"]: row["id"] for row in shown["contact_list"]}
    played = record_of(web_context.store, outcomes["Maria Silva"])
    missed = record_of(web_context.store, outcomes["Rui Costa"])
    assert (played["disposition"], played["price_cents"]) == ("message_played", 100)
    assert played["message"].startswith("Olá Maria Silva")
    assert (missed["disposition"], missed["price_cents"]) == ("no_answer", 0)
