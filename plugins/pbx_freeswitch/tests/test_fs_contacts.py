"""Campaign phone contacts over FreeSWITCH: the console's Call, originate, the answer, the record and its price.

The emulated FreeSWITCH, the freeswitch source, the real engine and the web server
run in one event loop, as `recado run` runs them; the agent uses the console over HTTP.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from fs_acme import applied
from fs_channels import CLOCK, Channel
from fs_esl_emulator import EmulatedFreeSwitch
from fs_process import console_session, running_source
from recado_freeswitch.desk import FreeSwitchDesk
from recado_freeswitch.source import FreeSwitchSource

from hub.core import campaigns_admin, ledger, outbound, records
from hub.core.hub import Hub
from hub.core.store import Store
from hub.plugins import Plugins
from hub.settings import Settings
from hub.web import message_calls
from hub.web.app import build_context
from hub.web.context import WebContext
from hub.web.message_calls import MessageCaller
from hub.web.runner import Runner

LISBON = ZoneInfo("Europe/Lisbon")
NOW = datetime(2026, 3, 2, 10, tzinfo=LISBON)
WAIT = 10.0  # guards against a hang; never a timing expectation
MARIA = "+351912345671"
RUI = "+351912345672"
MESSAGE = "/usr/share/freeswitch/sounds/recado/acme/campaign_pt.wav"
TEMPLATES = {
    "pt": "Olá {{ name }}, lembramos a sua consulta na {{ client }} a {{ appointment_date }}.",
    "en": "Hello {{ name }}, a reminder of your appointment at {{ client }} on {{ appointment_date }}.",
}
CLIENTS = """
clients:
  - id: acme
    name: "Clínica Acme"
    nif: "509999999"
    dids: ["+351217000001"]
    languages: [pt, en]
    greeting: {pt: "Clínica Acme, bom dia.", en: "Acme Clinic, good morning."}
    agents: {preferred: [ana, rui], gender: any}
    script:
      version: 1
      fields:
        - {name: name, label: {pt: Nome, en: Name}, type: text, required: true}
"""


@pytest.fixture
def plugins() -> Plugins:
    return Plugins(only={"email", "freeswitch"})


@pytest.fixture
def store(tmp_path: Path, plugins: Plugins) -> Iterator[Store]:
    with applied(tmp_path, plugins, CLIENTS, contract=True) as opened:
        yield opened


def upload(store: Store, plugins: Plugins, people: list[tuple[str, str]], mode: str = "agent") -> list[int]:
    """A campaign of `acme` calling `people` (name, number) in Portuguese; their contact ids."""
    rows = "\n".join(f'"{name}","{number}","2026-03-20 10:30","pt","phone"' for name, number in people)
    summary = campaigns_admin.create_campaign(
        store,
        plugins.registry,
        "acme",
        f"name,number,appointment,language,channel\n{rows}\n",
        TEMPLATES,
        name="Lembretes",
        mode=mode,
        created_by="operator",
        now=datetime(2026, 3, 2, 8, tzinfo=LISBON),
    )
    shown = campaigns_admin.show_campaign(store, summary["id"])
    return [int(row["id"]) for row in shown["contact_list"]]


def contact(store: Store, contact_id: int) -> outbound.Contact:
    with store.connect() as conn:
        found = outbound.load(conn, contact_id)
    assert found is not None
    return found


def record(store: Store, contact_id: int) -> dict[str, Any] | None:
    with store.connect() as conn:
        found = records.get(conn, contact(store, contact_id).record_id)
    return None if found is None else found.model_dump(mode="json")


def balance(store: Store) -> tuple[int, int]:
    """The balance and the amount held on it."""
    with store.connect() as conn:
        account = ledger.lock_account(conn, "acme", for_update=False)
    return account.balance_cents, account.balance_cents - account.available_cents


@dataclass
class Console:
    """The agent's browser session on a process running the FreeSWITCH source and the console."""

    fs: EmulatedFreeSwitch
    source: FreeSwitchSource
    context: WebContext
    http: httpx.AsyncClient
    csrf: str

    @property
    def desk(self) -> FreeSwitchDesk:
        desk = self.context.extras["desk"]
        assert isinstance(desk, FreeSwitchDesk)
        return desk

    @property
    def store(self) -> Store:
        return self.context.store

    async def call_next(self) -> httpx.Response:
        return await self.http.post("/console/tasks/next", data={"csrf": self.csrf})

    async def page_until(self, contact_id: int, text: str) -> str:
        """The task's page, once it says `text`."""
        async with asyncio.timeout(WAIT):
            while text not in (page := (await self.http.get(f"/console/tasks/{contact_id}")).text):
                await asyncio.sleep(0.01)
        return page

    async def leg(self, contact_id: int, role: str) -> Channel:
        async with asyncio.timeout(WAIT):
            while (found := self.fs.leg(contact_id, role)) is None:
                await asyncio.sleep(0.005)
        return found

    async def final_record(self, contact_id: int) -> dict[str, Any]:
        async with asyncio.timeout(WAIT):
            while (found := record(self.store, contact_id)) is None:
                await asyncio.sleep(0.01)
        return found

    def originates(self) -> list[str]:
        return [cmd for conn in self.fs.conns for cmd in conn.commands if cmd.startswith("bgapi originate")]


@contextlib.asynccontextmanager
async def console(store: Store, plugins: Plugins, **settings: Any) -> AsyncIterator[Console]:
    """`recado run` in miniature on 2 March 2026, 10:00 Lisbon, the agent `ana` logged in."""
    context = build_context(store, plugins, Settings(database_url=store.url), secure_cookies=False)
    context.extras["clock"] = lambda: NOW
    hub = Hub(context.engine)
    async with running_source(hub, NOW, control_port=None, **settings) as (fs, source):
        context.extras.update(sources={"pbx": source}, hub=hub)
        async with console_session(context) as (http, csrf):
            yield Console(fs, source, context, http, csrf)


async def test_call_rings_the_agents_phone_then_the_person_from_the_clients_number(
    store: Store, plugins: Plugins
) -> None:
    (maria,) = upload(store, plugins, [("Maria Silva", MARIA)])
    async with console(store, plugins) as c:
        await c.call_next()
        agent = await c.leg(maria, "agent")
        person = await c.leg(maria, "callee")
        (command,) = c.originates()
    assert agent.destination == "ana" and agent.caller == MARIA and agent.caller_name == "Maria Silva"
    assert person.destination == MARIA and person.caller == "+351217000001"
    assert command.endswith(f"sofia/gateway/default/{MARIA})")


async def test_an_answered_call_confirmed_by_the_agent_is_a_priced_outbound_record(
    store: Store, plugins: Plugins
) -> None:
    (maria,) = upload(store, plugins, [("Maria Silva", MARIA)])
    before, _held = balance(store)
    async with console(store, plugins) as c:
        await c.call_next()
        await c.page_until(maria, 'class="badge answered"')
        page = (
            await c.http.post(f"/console/tasks/{maria}/outcome", data={"csrf": c.csrf, "outcome": "confirmed"})
        ).text
        assert "Resultado registado." in page
        rec = await c.final_record(maria)
        await c.fs.hangup(await c.leg(maria, "callee"))
    assert (rec["direction"], rec["disposition"], rec["price_cents"]) == ("outbound", "confirmed", 100)
    assert rec["caller"] == MARIA and rec["contact"]["name"] == "Maria Silva"
    assert balance(store) == (before - 100, 0)


async def test_a_person_who_does_not_answer_is_recorded_no_answer_for_free(store: Store, plugins: Plugins) -> None:
    (maria,) = upload(store, plugins, [("Maria Silva", MARIA)])
    before, _held = balance(store)
    async with console(store, plugins) as c:
        c.fs.phones[MARIA] = "no_answer"
        await c.call_next()
        rec = await c.final_record(maria)
        page = await c.page_until(maria, 'id="task-result"')
    assert (rec["disposition"], rec["price_cents"]) == ("no_answer", 0)
    assert "Não atendeu" in page and "NO_ANSWER" in page
    assert balance(store) == (before, 0)


async def test_a_busy_number_is_no_answer_and_the_console_says_busy(store: Store, plugins: Plugins) -> None:
    (maria,) = upload(store, plugins, [("Maria Silva", MARIA)])
    async with console(store, plugins) as c:
        c.fs.phones[MARIA] = "busy"
        await c.call_next()
        rec = await c.final_record(maria)
        page = await c.page_until(maria, "USER_BUSY")
    assert rec["disposition"] == "no_answer"
    assert "A pessoa não atendeu" in page


async def test_when_the_agents_phone_does_not_answer_nobody_is_called_and_the_task_can_be_given_back(
    store: Store, plugins: Plugins
) -> None:
    (maria,) = upload(store, plugins, [("Maria Silva", MARIA)])
    async with console(store, plugins) as c:
        c.fs.phones["ana"] = "unregistered"
        await c.call_next()
        page = await c.page_until(maria, "USER_NOT_REGISTERED")
        assert "O seu telefone não atendeu" in page and 'id="give-back"' in page
        assert c.fs.leg(maria, "callee") is None
        await c.http.post(f"/console/tasks/{maria}/release", data={"csrf": c.csrf})
    assert contact(store, maria).status == "pending"
    assert balance(store)[1] == 0


async def test_the_agent_can_call_again_once_their_phone_is_back(store: Store, plugins: Plugins) -> None:
    (maria,) = upload(store, plugins, [("Maria Silva", MARIA)])
    async with console(store, plugins) as c:
        c.fs.phones["ana"] = "no_answer"
        await c.call_next()
        await c.page_until(maria, "O seu telefone não atendeu")
        c.fs.phones.pop("ana")
        await c.http.post(f"/console/tasks/{maria}/call", data={"csrf": c.csrf})
        await c.page_until(maria, 'class="badge answered"')
        assert len(c.originates()) == 2


async def test_a_confirmed_outcome_needs_the_person_to_have_answered(store: Store, plugins: Plugins) -> None:
    (maria,) = upload(store, plugins, [("Maria Silva", MARIA)])
    async with console(store, plugins) as c:
        c.fs.phones["ana"] = "unregistered"
        await c.call_next()
        await c.page_until(maria, "USER_NOT_REGISTERED")
        page = (
            await c.http.post(f"/console/tasks/{maria}/outcome", data={"csrf": c.csrf, "outcome": "confirmed"})
        ).text
    assert "the person has not answered" in page
    assert record(store, maria) is None


async def test_a_message_campaign_plays_the_recording_and_is_charged(store: Store, plugins: Plugins) -> None:
    (maria,) = upload(store, plugins, [("Maria Silva", MARIA)], mode="message")
    before, _held = balance(store)
    async with console(store, plugins) as c:
        caller = MessageCaller(c.context, c.desk)
        assert await caller.play_due() == 1
        await caller.join()
        rec = await c.final_record(maria)
        (command,) = c.originates()
    assert command.endswith(f"&playback({MESSAGE})") and "ignore_early_media=true" in command
    assert (rec["direction"], rec["disposition"], rec["price_cents"]) == ("outbound", "message_played", 100)
    assert rec["message"].startswith("Olá Maria Silva")
    assert balance(store) == (before - 100, 0)


async def test_a_person_hanging_up_during_the_message_is_not_charged(store: Store, plugins: Plugins) -> None:
    (maria,) = upload(store, plugins, [("Maria Silva", MARIA)], mode="message")
    before, _held = balance(store)
    async with console(store, plugins) as c:
        c.fs.hang_up_during_message.add(MARIA)
        caller = MessageCaller(c.context, c.desk)
        await caller.play_due()
        await caller.join()
        rec = await c.final_record(maria)
    assert (rec["disposition"], rec["price_cents"]) == ("no_answer", 0)
    assert balance(store) == (before, 0)


async def test_nobody_answering_a_message_call_is_no_answer_for_free(store: Store, plugins: Plugins) -> None:
    (maria,) = upload(store, plugins, [("Maria Silva", MARIA)], mode="message")
    async with console(store, plugins) as c:
        c.fs.phones[MARIA] = "no_answer"
        caller = MessageCaller(c.context, c.desk)
        await caller.play_due()
        await caller.join()
        rec = await c.final_record(maria)
    assert (rec["disposition"], rec["price_cents"]) == ("no_answer", 0)


async def test_a_missing_recording_stops_that_clients_message_calls_and_keeps_the_others_pending(
    store: Store, plugins: Plugins
) -> None:
    maria, rui = upload(store, plugins, [("Maria Silva", MARIA), ("Rui Costa", RUI)], mode="message")
    async with console(store, plugins, message_calls=1) as c:
        c.fs.missing_files.add(MESSAGE)
        caller = MessageCaller(c.context, c.desk)
        await caller.play_due()
        await caller.join()
        first = await c.final_record(maria)
        assert await caller.play_due() == 0
        assert len(c.originates()) == 1
    assert (first["disposition"], first["price_cents"]) == ("no_answer", 0)
    assert contact(store, rui).status == "pending"
    assert balance(store)[1] == 0


async def test_message_calls_wait_while_freeswitch_is_unreachable(store: Store, plugins: Plugins) -> None:
    (maria,) = upload(store, plugins, [("Maria Silva", MARIA)], mode="message")
    async with console(store, plugins) as c:
        await c.fs.stop()
        async with asyncio.timeout(WAIT):
            while c.source.connected:
                await asyncio.sleep(0.01)
        assert await MessageCaller(c.context, c.desk).play_due() == 0
    assert contact(store, maria).status == "pending"


async def test_recado_run_places_the_due_message_calls_by_itself(
    store: Store, plugins: Plugins, monkeypatch: pytest.MonkeyPatch
) -> None:
    (maria,) = upload(store, plugins, [("Maria Silva", MARIA)], mode="message")
    monkeypatch.setattr(message_calls, "PERIOD_S", 0.05)
    fs = EmulatedFreeSwitch()
    await fs.start()
    CLOCK.set(NOW)
    source = {"kind": "freeswitch", "name": "pbx", "port": fs.port, "control_port": None, "backoff_initial_s": 0.01}
    settings = Settings(database_url=store.url, sources=[source])
    context = build_context(store, plugins, settings, secure_cookies=False)
    context.extras["clock"] = lambda: NOW
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    stop = asyncio.Event()
    running = asyncio.create_task(Runner(context, {"engine", "web"}, port=port).run(stop))
    try:
        async with asyncio.timeout(WAIT):
            while (rec := record(store, maria)) is None:
                await asyncio.sleep(0.02)
    finally:
        stop.set()
        await running
        await fs.stop()
        CLOCK.set(None)
    assert (rec["disposition"], rec["price_cents"]) == ("message_played", 100)
