"""The agent console: state buttons, incoming calls popping up (SSE), the script as a form.

The console speaks to a `hub.web.desk_port.DeskPort`. The demo source's
`register_routes` mounts it over the in-process `Desk`; a telephony plugin whose
source runs in the same process mounts it over a desk of its own (which then
replaces the demo's). Placing demo calls needs the demo's `Desk`.
"""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Form, Path, Request, Security
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel, ConfigDict, Field

from hub.core import directory
from hub.core.hub import Hub
from hub.web import console_tasks, queries
from hub.web.context import api_principal, bearer, check_csrf, page_agent, page_principal, require, web
from hub.web.desk import Desk
from hub.web.desk_port import AgentState, DeskCallView, DeskError, DeskPort, Mark
from hub.web.errors import ApiError
from hub.web.pages import render
from hub.web.tokens import Role

router = APIRouter(prefix="/console", include_in_schema=False)
api_router = APIRouter(prefix="/api/v1/console", tags=["console"])
CallId = Annotated[str, Path(max_length=200)]
Csrf = Annotated[str, Form(max_length=100)]


def desk_of(request: Request) -> DeskPort:
    """The desk of this application."""
    desk = web(request).extras.get("desk")
    if not isinstance(desk, DeskPort):
        raise ApiError(404, "this server has no agent console")
    return desk


def demo_desk_of(request: Request) -> Desk:
    """The demo's desk, the only one that places calls itself."""
    desk = desk_of(request)
    if not isinstance(desk, Desk):
        raise ApiError(404, "this console takes its calls from the PBX; demo calls are off")
    return desk


def _history(request: Request, call: DeskCallView) -> list[dict[str, Any]]:
    with web(request).store.connect() as conn:
        found = queries.list_records(conn, queries.RecordFilter(client=call.client.id, text=call.caller, limit=20))
    return [record for record in found if record.get("caller") == call.caller][:5]


@router.get("", response_class=HTMLResponse)
async def console(request: Request, flash: str | None = None, error: str | None = None) -> Response:
    """The agent's page: state, ringing calls, the call in progress, the phone tasks."""
    principal, csrf, agent = page_agent(request)
    desk = desk_of(request)
    if isinstance(desk, Desk):
        # The demo plays the callers too: those who rang too long have hung up.
        await desk.hang_up_unanswered()
    state = AgentState(desk.states().get(agent, AgentState.LOGGED_OUT.value))
    current = next((c for c in desk.calls.values() if c.agent == agent and c.state != "ringing"), None)
    return render(
        request,
        "console.html",
        principal=principal,
        csrf=csrf,
        agent=agent,
        state=state.value,
        states=[s.value for s in AgentState],
        ringing=desk.ringing_for(agent),
        current=current,
        flash=flash,
        error=error,
        **(await asyncio.to_thread(console_tasks.panel, request, agent)),
    )


@router.post("/state")
async def set_state(request: Request, state: Annotated[AgentState, Form()], csrf: Csrf = "") -> Response:
    """Available, on break or logged out."""
    _principal, expected, agent = page_agent(request)
    check_csrf(expected, csrf)
    try:
        changed = desk_of(request).set_state(agent, state)
        if inspect.isawaitable(changed):
            await changed
    except DeskError as exc:
        raise ApiError(503, str(exc)) from None
    return RedirectResponse("/console", status_code=303)


@router.get("/events")
async def events(request: Request) -> StreamingResponse:
    """Server-sent events of this agent: `ring` when a call comes in, `taken` when another agent took it."""
    _principal, _csrf, agent = page_agent(request)
    desk = desk_of(request)
    queue = desk.subscribe(agent)

    async def stream() -> AsyncIterator[str]:
        try:
            yield "retry: 1000\n\n"
            for call in desk.ringing_for(agent):
                yield f"event: ring\ndata: {json.dumps({'call_id': call.call_id})}\n\n"
            while not await request.is_disconnected():
                try:
                    event = await asyncio.wait_for(queue.get(), timeout=15)
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                yield f"event: {event['type']}\ndata: {json.dumps(event)}\n\n"
        finally:
            desk.unsubscribe(agent, queue)

    return StreamingResponse(stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store"})


@router.get("/calls/{call_id}", response_class=HTMLResponse)
def call_page(request: Request, call_id: CallId, error: str | None = None) -> Response:
    """The call: client, greeting in the caller's language, caller and history, the script form."""
    principal, csrf, agent = page_agent(request)
    try:
        call = desk_of(request).call_for(agent, call_id)
    except DeskError as exc:
        raise ApiError(404, str(exc)) from None
    greeting = call.client.greeting_for(call.language).replace("{agent}", agent.capitalize())
    fragment = request.headers.get("x-fragment") == "1"
    return render(
        request,
        "console_call_fragment.html" if fragment else "console_call.html",
        principal=principal,
        csrf=csrf,
        call=call,
        greeting=greeting,
        history=_history(request, call),
        script_lang=call.language.value,
        error=error,
    )


@router.post("/calls/{call_id}/answer")
async def answer(request: Request, call_id: CallId, csrf: Csrf = "") -> Response:
    """Take a ringing call."""
    _principal, expected, agent = page_agent(request)
    check_csrf(expected, csrf)
    try:
        await desk_of(request).answer(agent, call_id)
    except DeskError as exc:
        raise ApiError(409, str(exc)) from None
    return RedirectResponse(f"/console/calls/{call_id}", status_code=303)


#: The buttons that close a call that was not a real one for the client.
MARKS: dict[str, Mark] = {"spam": "spam", "wrong_number": "wrong_number"}


@router.post("/calls/{call_id}/wrapup")
async def wrapup(request: Request, call_id: CallId) -> Response:
    """Submit the script form: the call ends and its record is made."""
    _principal, expected, agent = page_agent(request)
    form = await request.form()
    check_csrf(expected, str(form.get("csrf", "")))
    answers = {key[2:]: str(value) for key, value in form.items() if key.startswith("f_")}
    notes = str(form.get("notes", ""))[:2000]
    mark = MARKS.get(str(form.get("mark", "")))
    desk = desk_of(request)
    try:
        await desk.finish(agent, call_id, answers, notes, mark)
    except DeskError as exc:
        return RedirectResponse(f"/console/calls/{call_id}?error={exc}", status_code=303)
    return RedirectResponse("/console?flash=saved", status_code=303)


@router.post("/demo-call")
async def demo_call(
    request: Request,
    client: Annotated[str, Form(max_length=64)],
    caller: Annotated[str, Form(max_length=32)],
    csrf: Csrf = "",
) -> Response:
    """The operator places a demo call from the dashboard; available agents get it."""
    principal, expected = page_principal(request)
    require(principal, Role.OPERATOR)
    check_csrf(expected, csrf)
    with web(request).store.connect() as conn:
        found = directory.get_client(conn, client)
    if found is None:
        raise ApiError(404, f"no client {client!r}")
    try:
        decision = await demo_desk_of(request).place_call(found, caller)
    except DeskError as exc:
        raise ApiError(422, str(exc)) from None
    outcome = decision.disposition.value if decision.disposition else decision.action.value
    return RedirectResponse(f"/dashboard?flash=demo+call+{client}:+{outcome}", status_code=303)


class PlacedCall(BaseModel):
    """A demo call: who dials which client."""

    model_config = ConfigDict(extra="forbid")
    client: str = Field(min_length=1, max_length=64)
    caller: str = Field(min_length=3, max_length=32)


@api_router.post("/calls", summary="Place a demo call at the console")
async def place_call(
    request: Request,
    placed: PlacedCall,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)],
) -> dict[str, Any]:
    """A caller dials a client's first number; the engine decides and available agents get it (operators)."""
    principal = api_principal(request, credentials)
    require(principal, Role.OPERATOR)
    desk = demo_desk_of(request)
    with web(request).store.connect() as conn:
        client = directory.get_client(conn, placed.client)
    if client is None:
        raise ApiError(404, f"no client {placed.client!r}")
    try:
        decision = await desk.place_call(client, placed.caller)
    except DeskError as exc:
        raise ApiError(422, str(exc)) from None
    return decision.model_dump(mode="json")


def mount(app: FastAPI, desk: DeskPort | None = None) -> None:
    """Add the console to `app`, over `desk` (default: the demo's desk feeding the application's engine).

    A source's desk takes the place of the demo's, whichever is mounted first;
    the pages themselves are added once.
    """
    context = app.state.recado
    if desk is not None:
        context.extras["desk"] = desk
    elif not isinstance(context.extras.get("desk"), DeskPort):
        demo: DeskPort = Desk(Hub(context.engine))
        context.extras["desk"] = demo
    context.extras["agent_states"] = context.extras["desk"].states
    context.extras["demo_calls"] = isinstance(context.extras["desk"], Desk)
    if not getattr(app.state, "console_mounted", False):
        app.state.console_mounted = True
        app.include_router(router)
        app.include_router(console_tasks.router)
        app.include_router(api_router)
