"""The agent console of the demo source: state, a call ringing, the script form as the wrap-up."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient

from hub.core import directory
from hub.core.hub import Hub
from hub.web.context import WebContext
from hub.web.desk import AgentState, Desk
from hub.web.queries import RecordFilter, list_records


def agent_session(http: TestClient, token: str) -> str:
    page = http.post("/login", data={"token": token, "next": "/"}).text
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]


def place_call(http: TestClient, operator: str, caller: str = "+351912345678") -> dict:  # type: ignore[type-arg]
    response = http.post(
        "/api/v1/console/calls",
        json={"client": "acme", "caller": caller},
        headers={"Authorization": f"Bearer {operator}"},
    )
    assert response.status_code == 200, response.text
    return response.json()


def ringing_call_id(http: TestClient) -> str:
    return re.search(r"/console/calls/([\w-]+)", http.get("/console").text).group(1)  # type: ignore[union-attr]


def test_an_available_agent_sees_the_call_ringing_with_the_greeting(http: TestClient, tokens) -> None:
    csrf = agent_session(http, tokens.agent)
    http.post("/console/state", data={"csrf": csrf, "state": "available"})
    place_call(http, tokens.operator)
    page = http.get(f"/console/calls/{ringing_call_id(http)}").text
    assert "Clínica Acme, bom dia." in page
    assert "+351912345678" in page


def test_a_foreign_caller_is_greeted_in_english(http: TestClient, tokens) -> None:
    csrf = agent_session(http, tokens.agent)
    http.post("/console/state", data={"csrf": csrf, "state": "available"})
    place_call(http, tokens.operator, caller="+442071234567")
    assert "Acme Clinic, good morning." in http.get(f"/console/calls/{ringing_call_id(http)}").text


def test_an_agent_on_break_gets_no_call(http: TestClient, tokens) -> None:
    csrf = agent_session(http, tokens.agent)
    http.post("/console/state", data={"csrf": csrf, "state": "on_break"})
    place_call(http, tokens.operator)
    assert "/console/calls/" not in http.get("/console").text


def test_the_script_form_enforces_required_fields(http: TestClient, tokens) -> None:
    csrf = agent_session(http, tokens.agent)
    http.post("/console/state", data={"csrf": csrf, "state": "available"})
    place_call(http, tokens.operator)
    call_id = ringing_call_id(http)
    http.post(f"/console/calls/{call_id}/answer", data={"csrf": csrf})
    page = http.post(f"/console/calls/{call_id}/wrapup", data={"csrf": csrf, "f_reason": "info"}).text
    assert "name: required" in page


def test_submitting_the_form_makes_the_record_with_the_answers(
    http: TestClient, tokens, web_context: WebContext
) -> None:
    csrf = agent_session(http, tokens.agent)
    http.post("/console/state", data={"csrf": csrf, "state": "available"})
    place_call(http, tokens.operator)
    call_id = ringing_call_id(http)
    http.post(f"/console/calls/{call_id}/answer", data={"csrf": csrf})
    http.post(f"/console/calls/{call_id}/wrapup", data={"csrf": csrf, "f_name": "Inês Araújo", "f_reason": "booking"})
    with web_context.store.connect() as conn:
        (record,) = list_records(conn, RecordFilter(client="acme"))
    assert record["answers"] == {"name": "Inês Araújo", "reason": "booking"}
    assert record["agent"] == "ana" and record["disposition"] == "answered"


def test_a_choice_outside_the_script_is_refused(http: TestClient, tokens) -> None:
    csrf = agent_session(http, tokens.agent)
    http.post("/console/state", data={"csrf": csrf, "state": "available"})
    place_call(http, tokens.operator)
    call_id = ringing_call_id(http)
    http.post(f"/console/calls/{call_id}/answer", data={"csrf": csrf})
    page = http.post(f"/console/calls/{call_id}/wrapup", data={"csrf": csrf, "f_name": "X", "f_reason": "pizza"}).text
    assert "reason: expected one of booking, info, complaint" in page


def test_a_call_to_a_client_without_balance_does_not_ring(http: TestClient, tokens) -> None:
    csrf = agent_session(http, tokens.agent)
    http.post("/console/state", data={"csrf": csrf, "state": "available"})
    response = http.post(
        "/api/v1/console/calls",
        json={"client": "beta", "caller": "+351912345678"},
        headers={"Authorization": f"Bearer {tokens.operator}"},
    )
    assert response.json()["disposition"] == "refused_no_balance"
    assert "/console/calls/" not in http.get("/console").text


def test_the_agents_state_shows_in_the_agents_list(http: TestClient, tokens) -> None:
    csrf = agent_session(http, tokens.agent)
    http.post("/console/state", data={"csrf": csrf, "state": "on_break"})
    agents = http.get("/api/v1/agents", headers={"Authorization": f"Bearer {tokens.operator}"}).json()
    assert {a["id"]: a["state"] for a in agents}["ana"] == "on_break"


def test_the_operator_places_a_demo_call_from_the_dashboard(http: TestClient, tokens) -> None:
    agent = TestClient(http.app, base_url="https://testserver")
    csrf = agent_session(agent, tokens.agent)
    agent.post("/console/state", data={"csrf": csrf, "state": "available"})
    operator_csrf = agent_session(http, tokens.operator)
    page = http.post(
        "/console/demo-call", data={"csrf": operator_csrf, "client": "acme", "caller": "+351912345678"}
    ).text
    assert "demo call acme: answer" in page
    assert "/console/calls/" in agent.get("/console").text


async def test_a_caller_nobody_answers_hangs_up_and_the_call_is_missed(web_context: WebContext) -> None:
    desk = Desk(Hub(web_context.engine), ring_timeout_s=60)
    desk.set_state("ana", AgentState.AVAILABLE)
    with web_context.store.connect() as conn:
        acme = directory.get_client(conn, "acme")
    assert acme is not None
    await desk.place_call(acme, "+351912345678")
    (call,) = desk.ringing_for("ana")
    gone = await desk.hang_up_unanswered(call.offered_at + timedelta(seconds=61))
    assert gone == [call.call_id] and desk.ringing_for("ana") == []
    with web_context.store.connect() as conn:
        (record,) = list_records(conn, RecordFilter(client="acme"))
    assert record["disposition"] == "missed"


def test_the_popup_shows_the_callers_history_with_this_client(http: TestClient, tokens, call_answered) -> None:
    call_answered("acme", "earlier", name="Maria Simões", reason="complaint")
    csrf = agent_session(http, tokens.agent)
    http.post("/console/state", data={"csrf": csrf, "state": "available"})
    place_call(http, tokens.operator, caller="+351912345678")
    page = http.get(f"/console/calls/{ringing_call_id(http)}").text
    history = page[page.index('id="history"') :]
    assert "Maria Simões, complaint" in history[: history.index("</ul>")]


def test_the_agent_marks_a_call_as_spam_and_it_is_free(http: TestClient, tokens, web_context: WebContext) -> None:
    csrf = agent_session(http, tokens.agent)
    http.post("/console/state", data={"csrf": csrf, "state": "available"})
    place_call(http, tokens.operator)
    call_id = ringing_call_id(http)
    http.post(f"/console/calls/{call_id}/answer", data={"csrf": csrf})
    assert 'id="mark-spam"' in http.get(f"/console/calls/{call_id}").text
    http.post(f"/console/calls/{call_id}/wrapup", data={"csrf": csrf, "mark": "wrong_number"})
    with web_context.store.connect() as conn:
        (record,) = list_records(conn, RecordFilter(client="acme"))
    assert (record["disposition"], record["mark"], record["price_cents"]) == ("spam", "wrong_number", 0)
