"""The Tasks panel of the agent console: campaign phone contacts, called and answered with an outcome.

The console page lists the open phone tasks the agent may take (contact, client,
appointment, language, the script). **Call next** claims the most urgent one
(`hub.core.campaigns.next_phone_task`: the agent's own open task first, within the
outbound hours, the price held on the balance) and has the desk call it
(`hub.web.desk_port.DialPort.dial`). An available agent is put on break for the
call, so that no queue call rings in the middle of it, and is available again once
the outcome is recorded. The task's page shows the call as it goes (``dial`` events)
and records **Confirmed**, **Rescheduled** (with the new date and time) or **No
answer** (with notes) through `hub.core.campaigns.record_outcome`; a call the person
never answered is recorded *no answer* by the engine already. **Give back** returns a
task that could not be called. The demo's console also plays the due messages of
``message`` campaigns on request (a real desk plays them unattended: see
`hub.web.message_calls`).
"""

from __future__ import annotations

import asyncio
import inspect
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, select

from hub.core import directory, ledger, outbound
from hub.core import store as t
from hub.core.accounts import load_client
from hub.core.campaigns import OutcomeError, PhoneTask, next_phone_task, phone_tasks, record_outcome, release_task
from hub.core.clients import Client
from hub.core.store import to_db
from hub.web.context import check_csrf, page_agent, serves, web
from hub.web.desk_port import AgentState, DeskError, DialDesk, DialProgress
from hub.web.errors import ApiError
from hub.web.message_calls import MessageCaller, clock_of
from hub.web.pages import render

__all__ = ["OUTCOMES", "panel", "router"]

router = APIRouter(prefix="/console/tasks", include_in_schema=False)
LISBON = ZoneInfo("Europe/Lisbon")
#: What the agent records for a phone task.
OUTCOMES = ("confirmed", "rescheduled", "no_answer")
ContactId = Annotated[int, Path(ge=1, le=2**62)]
Csrf = Annotated[str, Form(max_length=100)]
_SHOWN = 20
_MESSAGE_ROUNDS = 500


@dataclass(frozen=True)
class TaskView:
    """A phone task as the console shows it."""

    contact_id: int
    client: str
    client_name: str
    name: str
    number: str
    language: str
    appointment: str
    script: str
    status: str
    outcome: str | None
    agent: str | None

    @property
    def final(self) -> bool:
        """Whether the contact has its outcome."""
        return self.status in outbound.FINAL


def _lisbon(moment: datetime) -> str:
    return moment.astimezone(LISBON).strftime("%d/%m/%Y %H:%M")


def _from_task(task: PhoneTask) -> TaskView:
    return TaskView(
        task.contact_id,
        task.client,
        task.client_name,
        task.name,
        task.number,
        task.language.value,
        _lisbon(task.appointment_at),
        task.script,
        task.status,
        None,
        task.agent,
    )


def dialler_of(request: Request) -> DialDesk:
    """The console's desk, when it places calls."""
    desk = web(request).extras.get("desk")
    if not isinstance(desk, DialDesk):
        raise ApiError(404, "this console's desk places no calls: there are no phone tasks here")
    return desk


def _messages_due(request: Request) -> int:
    context = web(request)
    with context.store.connect() as conn:
        count = conn.execute(
            select(func.count())
            .select_from(t.contacts.join(t.campaigns, t.campaigns.c.id == t.contacts.c.campaign))
            .where(
                t.contacts.c.status == "pending",
                t.contacts.c.channel == "phone",
                t.campaigns.c.mode == "message",
                t.campaigns.c.status == "active",
                t.contacts.c.due_at <= to_db(clock_of(context)),
            )
        ).scalar()
    return int(count or 0)


def panel(request: Request, agent: str) -> dict[str, Any]:
    """What the console page shows in its Tasks panel (nothing when the desk places no calls)."""
    desk = web(request).extras.get("desk")
    if not isinstance(desk, DialDesk):
        return {"tasks": None}
    context = web(request)
    clients: dict[str, Client | None] = {}
    shown: list[TaskView] = []
    mine: TaskView | None = None
    for task in phone_tasks(context.store, now=clock_of(context)):
        if task.status == "in_progress":
            if task.agent == agent and mine is None:
                mine = _from_task(task)
            continue
        if task.client not in clients:
            with context.store.connect() as conn:
                clients[task.client] = directory.get_client(conn, task.client)
        client = clients[task.client]
        if client is not None and serves(client, agent) and len(shown) < _SHOWN:
            shown.append(_from_task(task))
    due = _messages_due(request) if desk.simulated else None
    return {"tasks": shown, "my_task": mine, "messages_due": due}


def _contact(request: Request, contact_id: int, agent: str) -> tuple[outbound.Contact, TaskView]:
    """The contact of a task this agent took; 404 for anyone else's."""
    with web(request).store.connect() as conn:
        contact = outbound.load(conn, contact_id)
        if contact is None or contact.channel != "phone" or contact.agent != agent:
            raise ApiError(404, f"no phone task {contact_id} for agent {agent!r}")
        client = load_client(conn, contact.client)
        script = outbound.message_for(contact, client)
    view = TaskView(
        contact.id,
        client.id,
        client.name,
        contact.name,
        contact.number,
        contact.language.value,
        _lisbon(contact.appointment_at),
        script,
        contact.status,
        contact.outcome,
        contact.agent,
    )
    return contact, view


async def _set_state(desk: DialDesk, agent: str, state: AgentState) -> None:
    changed = desk.set_state(agent, state)
    if inspect.isawaitable(changed):
        await changed


async def _dial(desk: DialDesk, task: PhoneTask, agent: str) -> DialProgress:
    """Call the task for `agent`, who is put on break for it when available."""
    earlier = desk.progress(task.contact_id)
    resume = earlier.resume_state if earlier is not None else None
    if resume is None and desk.states().get(agent) == AgentState.AVAILABLE.value:
        await _set_state(desk, agent, AgentState.ON_BREAK)
        resume = AgentState.AVAILABLE.value
    try:
        progress = await desk.dial(task, agent)
    except DeskError:
        if resume is not None:
            await _set_state(desk, agent, AgentState(resume))
        raise
    progress.resume_state = resume
    return progress


async def _done_with(desk: DialDesk, contact_id: int, agent: str) -> None:
    """Forget the contact's call; the agent is available again if they were before it."""
    progress = desk.progress(contact_id)
    await desk.close_contact(contact_id)
    if progress is not None and progress.resume_state is not None:
        await _set_state(desk, agent, AgentState(progress.resume_state))


def _claim(request: Request, agent: str) -> PhoneTask | None:
    context = web(request)
    return next_phone_task(
        context.store,
        agent=agent,
        now=clock_of(context),
        settings=context.settings,
        registry=context.plugins.registry,
    )


def _back(contact_id: int, error: str | None = None) -> RedirectResponse:
    target = f"/console/tasks/{contact_id}"
    return RedirectResponse(f"{target}?error={quote(error)}" if error else target, status_code=303)


@router.post("/next")
async def call_next(request: Request, csrf: Csrf = "") -> Response:
    """Claim the next phone task (the agent's own open one first) and call it."""
    _principal, expected, agent = page_agent(request)
    check_csrf(expected, csrf)
    desk = dialler_of(request)
    task = await asyncio.to_thread(_claim, request, agent)
    if task is None:
        return RedirectResponse("/console?flash=no_tasks", status_code=303)
    progress = desk.progress(task.contact_id)
    if progress is not None and progress.state in ("dialling", "ringing", "answered"):
        return _back(task.contact_id)
    try:
        await _dial(desk, task, agent)
    except DeskError as exc:
        if progress is None:
            # Nothing was ever dialled for it: back to the list for a later try.
            await asyncio.to_thread(release_task, web(request).store, task.contact_id)
        return _back(task.contact_id, str(exc)) if progress is not None else _console_error(str(exc))
    return _back(task.contact_id)


def _console_error(message: str) -> RedirectResponse:
    return RedirectResponse(f"/console?error={quote(message)}", status_code=303)


@router.get("/{contact_id}", response_class=HTMLResponse)
def task_page(request: Request, contact_id: ContactId, error: str | None = None) -> Response:
    """The task: who to call and why, the script, how the call goes, the outcome buttons."""
    principal, csrf, agent = page_agent(request)
    desk = dialler_of(request)
    _contact_row, view = _contact(request, contact_id, agent)
    progress = desk.progress(contact_id)
    return render(
        request,
        "console_task.html",
        principal=principal,
        csrf=csrf,
        task=view,
        progress=progress,
        error=error,
        now=clock_of(web(request)).astimezone(LISBON).strftime("%Y-%m-%dT%H:%M"),
    )


@router.post("/{contact_id}/call")
async def call_again(request: Request, contact_id: ContactId, csrf: Csrf = "") -> Response:
    """Call the task's person again (the earlier call was not placed, or the page was reloaded)."""
    _principal, expected, agent = page_agent(request)
    check_csrf(expected, csrf)
    desk = dialler_of(request)
    contact, _view = _contact(request, contact_id, agent)
    if contact.status != "in_progress":
        return _back(contact_id, f"this task is {contact.status}: nothing to call")
    progress = desk.progress(contact_id)
    if progress is not None and progress.state in ("dialling", "ringing", "answered"):
        return _back(contact_id, "this task is being called already")
    task = await asyncio.to_thread(_claim, request, agent)
    if task is None or task.contact_id != contact_id:
        return _back(contact_id, "this task is no longer yours to call")
    try:
        await _dial(desk, task, agent)
    except DeskError as exc:
        return _back(contact_id, str(exc))
    return _back(contact_id)


def _rescheduled_to(raw: str, now: datetime) -> datetime:
    try:
        moment = datetime.fromisoformat(raw.strip()).replace(tzinfo=LISBON)
    except ValueError:
        raise ValueError(f"new date and time {raw!r}: expected YYYY-MM-DDTHH:MM (Lisbon time)") from None
    if moment <= now:
        raise ValueError(f"new date and time {raw}: it must be later than now")
    return moment


@router.post("/{contact_id}/outcome")
async def outcome(request: Request, contact_id: ContactId) -> Response:
    """Record what the person said: confirmed, rescheduled (with the new time) or no answer."""
    _principal, expected, agent = page_agent(request)
    form = await request.form()
    check_csrf(expected, str(form.get("csrf", "")))
    desk = dialler_of(request)
    context = web(request)
    contact, view = _contact(request, contact_id, agent)
    chosen = str(form.get("outcome", ""))
    notes = str(form.get("notes", "")).strip()[:2000] or None
    now = clock_of(context)
    if chosen not in OUTCOMES:
        return _back(contact_id, f"outcome {chosen!r}: expected one of {', '.join(OUTCOMES)}")
    progress = desk.progress(contact_id)
    answered = contact.answered_at is not None or (progress is not None and progress.answered_at is not None)
    if chosen != "no_answer" and not view.final and not answered:
        return _back(contact_id, "the person has not answered: record no answer, or call again")
    when = None
    if chosen == "rescheduled":
        try:
            when = _rescheduled_to(str(form.get("rescheduled_to", "")), now)
        except ValueError as exc:
            return _back(contact_id, str(exc))
    await _done_with(desk, contact_id, agent)
    try:
        await asyncio.to_thread(
            record_outcome,
            context.store,
            context.plugins.registry,
            contact_id,
            chosen,
            at=now,
            agent=agent,
            notes=notes,
            rescheduled_to=when,
            settings=context.settings,
            notify=context.plugins.call_guarded,
        )
    except (OutcomeError, ledger.LedgerError) as exc:
        return _back(contact_id, str(exc))
    return RedirectResponse("/console?flash=task_saved", status_code=303)


@router.post("/{contact_id}/release")
async def give_back(request: Request, contact_id: ContactId, csrf: Csrf = "") -> Response:
    """Give back a task that could not be called: pending again, for anyone."""
    _principal, expected, agent = page_agent(request)
    check_csrf(expected, csrf)
    desk = dialler_of(request)
    contact, _view = _contact(request, contact_id, agent)
    progress = desk.progress(contact_id)
    talking = progress is not None and progress.state in ("ringing", "answered")
    if talking or contact.answered_at is not None:
        return _back(contact_id, "the person was reached: record the outcome instead")
    await _done_with(desk, contact_id, agent)
    if not await asyncio.to_thread(release_task, web(request).store, contact_id):
        return _back(contact_id, f"this task is {contact.status}: it cannot be given back")
    return RedirectResponse("/console?flash=task_released", status_code=303)


@router.post("/messages")
async def play_messages(request: Request, csrf: Csrf = "") -> Response:
    """The demo plays the due recorded messages now (a real desk plays them by itself)."""
    _principal, expected, _agent_name = page_agent(request)
    check_csrf(expected, csrf)
    desk = dialler_of(request)
    if not desk.simulated:
        raise ApiError(404, "recorded messages are played by the telephony source on its own")
    caller = MessageCaller(web(request), desk)
    for _round in range(_MESSAGE_ROUNDS):
        placed = await caller.play_due()
        await caller.join()
        if not placed:
            break
    return RedirectResponse("/console?flash=messages_played", status_code=303)
