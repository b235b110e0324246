"""The agent console over mod_callcenter: the emulated FreeSWITCH, the real engine and web server."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from fs_acme import applied
from fs_channels import Channel
from fs_esl_emulator import EmulatedFreeSwitch
from fs_process import console_session, running_source
from recado_freeswitch.desk import FreeSwitchDesk
from recado_freeswitch.source import FreeSwitchConfig, FreeSwitchSource
from sqlalchemy import select

from hub.core import store as t
from hub.core.hub import Hub
from hub.core.models import record_id_for
from hub.core.store import Store
from hub.plugins import Plugins
from hub.settings import Settings
from hub.web.app import build_context, create_app
from hub.web.desk import Desk

LISBON = ZoneInfo("Europe/Lisbon")
WAIT = 10.0  # guards against a hang; never a timing expectation
DID = "+351217000001"

CLIENTS = """
clients:
  - id: acme
    name: "Clínica Acme"
    nif: "509999999"
    dids: ["+351217000001"]
    languages: [pt, en]
    greeting: {pt: "Clínica Acme, bom dia.", en: "Acme Clinic, good morning."}
    agents: {preferred: [ana, rui], gender: any}
    recorded_message: pt+en
    script:
      version: 1
      fields:
        - {name: name, label: {pt: Nome, en: Name}, type: text, required: true}
        - {name: reason, label: {pt: Motivo, en: Reason}, type: choice, choices: [booking, info]}
"""


@pytest.fixture
def plugins() -> Plugins:
    return Plugins(only={"email", "freeswitch"})


@pytest.fixture
def store(tmp_path: Path, plugins: Plugins) -> Iterator[Store]:
    with applied(tmp_path, plugins, CLIENTS, contract=True) as opened:
        yield opened


def record(store: Store, call_id: str) -> dict[str, Any] | None:
    with store.connect() as conn:
        row = conn.execute(
            select(t.records.c.data).where(t.records.c.record_id == record_id_for("freeswitch", call_id))
        ).first()
    return None if row is None else dict(row.data)


@dataclass
class Console:
    """An agent's browser session on the web server of a process running a FreeSWITCH source."""

    fs: EmulatedFreeSwitch
    source: FreeSwitchSource
    http: httpx.AsyncClient
    csrf: str
    store: Store

    async def queued_call(self, caller: str) -> Channel:
        call = await self.fs.incoming_call(DID, caller)
        async with asyncio.timeout(WAIT):
            while call.uuid not in self.fs.members:
                await asyncio.sleep(0.005)
        return call

    async def popup(self, call: Channel) -> str:
        """The console page once the call pops up there."""
        async with asyncio.timeout(WAIT):
            while f"/console/calls/{call.uuid}" not in (page := (await self.http.get("/console")).text):
                await asyncio.sleep(0.01)
        return page

    async def set_state(self, state: str) -> httpx.Response:
        return await self.http.post("/console/state", data={"csrf": self.csrf, "state": state})

    async def final_record(self, call: Channel) -> dict[str, Any]:
        async with asyncio.timeout(WAIT):
            while (found := record(self.store, call.uuid)) is None:
                await asyncio.sleep(0.01)
        return found


@contextlib.asynccontextmanager
async def console(store: Store, plugins: Plugins) -> AsyncIterator[Console]:
    """`recado run` in miniature: the source and the web server in one event loop, the agent logged in."""
    context = build_context(store, plugins, Settings(database_url=store.url), secure_cookies=False)
    hub = Hub(context.engine)
    at = datetime(2026, 3, 2, 10, tzinfo=LISBON)
    async with running_source(hub, at, control_port=0, ring_out_s=0) as (fs, source):
        context.extras.update(sources={"pbx": source}, hub=hub)
        async with console_session(context) as (http, csrf):
            yield Console(fs, source, http, csrf, store)


def received(fs: EmulatedFreeSwitch) -> list[str]:
    return [command for conn in fs.conns for command in conn.commands]


def build_desk_of(store: Store, plugins: Plugins, *, with_source: bool) -> object:
    context = build_context(store, plugins, Settings(database_url=store.url), secure_cookies=False)
    if with_source:
        context.extras["sources"] = {"pbx": FreeSwitchSource(FreeSwitchConfig(control_port=None))}
    create_app(context)
    return context.extras.get("desk")


async def test_a_freeswitch_source_in_the_process_gives_the_console_its_desk(store: Store, plugins: Plugins) -> None:
    assert isinstance(build_desk_of(store, plugins, with_source=True), FreeSwitchDesk)


async def test_without_a_freeswitch_source_the_console_stays_the_demos(store: Store, plugins: Plugins) -> None:
    assert isinstance(build_desk_of(store, plugins, with_source=False), Desk)


async def test_going_available_sets_the_agents_callcenter_status(store: Store, plugins: Plugins) -> None:
    async with console(store, plugins) as c:
        response = await c.set_state("available")
        assert response.status_code == 200
        assert "api callcenter_config agent set status ana@default 'Available'" in received(c.fs)
        assert c.fs.agent_status["ana@default"] == "Available"


async def test_a_break_and_logging_out_set_the_matching_statuses(store: Store, plugins: Plugins) -> None:
    async with console(store, plugins) as c:
        await c.set_state("on_break")
        assert c.fs.agent_status["ana@default"] == "On Break"
        await c.set_state("logged_out")
        assert c.fs.agent_status["ana@default"] == "Logged Out"


async def test_a_status_changed_at_freeswitch_shows_in_the_console(store: Store, plugins: Plugins) -> None:
    async with console(store, plugins) as c:
        await c.set_state("available")
        await c.fs.agent_status_changes("ana@default", "On Break")
        async with asyncio.timeout(WAIT):
            while 'value="on_break" class="choice on"' not in (await c.http.get("/console")).text:
                await asyncio.sleep(0.01)


async def test_changing_state_while_freeswitch_is_unreachable_says_so(store: Store, plugins: Plugins) -> None:
    async with console(store, plugins) as c:
        await c.fs.stop()
        async with asyncio.timeout(WAIT):
            while c.source.connected:
                await asyncio.sleep(0.01)
        response = await c.set_state("available")
    assert response.status_code == 503
    assert "not connected to FreeSWITCH" in response.text


async def test_a_call_offered_to_the_agent_pops_up_with_client_and_greeting_in_the_callers_language(
    store: Store, plugins: Plugins
) -> None:
    async with console(store, plugins) as c:
        await c.set_state("available")
        call = await c.queued_call("+447700900123")
        await c.fs.offer_to_agent(call, "ana@default")
        await c.popup(call)
        page = (await c.http.get(f"/console/calls/{call.uuid}")).text
    assert "Clínica Acme" in page
    assert "Acme Clinic, good morning." in page
    assert "+447700900123" in page


async def test_a_call_offered_to_another_agent_does_not_pop_up(store: Store, plugins: Plugins) -> None:
    async with console(store, plugins) as c:
        await c.set_state("available")
        call = await c.queued_call("+351912345678")
        await c.fs.offer_to_agent(call, "rui@default")
        mine = await c.queued_call("+351913333333")
        await c.fs.offer_to_agent(mine, "ana@default")
        page = await c.popup(mine)
        assert f"/console/calls/{call.uuid}" not in page
        assert (await c.http.get(f"/console/calls/{call.uuid}")).status_code == 404


async def test_the_agents_page_hears_the_ring_over_server_sent_events(store: Store, plugins: Plugins) -> None:
    async with console(store, plugins) as c:
        await c.set_state("available")
        call = await c.queued_call("+351912345678")
        async with c.http.stream("GET", "/console/events") as stream:
            await c.fs.offer_to_agent(call, "ana@default")
            event = None
            async with asyncio.timeout(WAIT):
                async for line in stream.aiter_lines():
                    if line == "event: ring":
                        event = line
                    elif event and line.startswith("data: "):
                        assert json.loads(line[6:])["call_id"] == call.uuid
                        break
    assert event == "event: ring"


async def test_submitting_the_form_makes_the_record_with_the_answers(store: Store, plugins: Plugins) -> None:
    async with console(store, plugins) as c:
        await c.set_state("available")
        call = await c.queued_call("+351912345678")
        await c.fs.agent_answers(call, "ana@default")
        await c.popup(call)
        form = (await c.http.get(f"/console/calls/{call.uuid}")).text
        assert 'id="script-form"' in form
        await c.fs.hangup(call)
        response = await c.http.post(
            f"/console/calls/{call.uuid}/wrapup",
            data={"csrf": c.csrf, "f_name": "Inês Araújo", "f_reason": "booking", "notes": "call back"},
        )
        assert response.status_code == 200 and "/console/calls/" not in response.text
        rec = await c.final_record(call)
    assert rec["answers"] == {"name": "Inês Araújo", "reason": "booking"}
    assert rec["agent"] == "ana@default" and rec["disposition"] == "answered"


async def test_the_form_still_enforces_the_scripts_required_fields(store: Store, plugins: Plugins) -> None:
    async with console(store, plugins) as c:
        await c.set_state("available")
        call = await c.queued_call("+351912345678")
        await c.fs.agent_answers(call, "ana@default")
        await c.popup(call)
        page = (await c.http.post(f"/console/calls/{call.uuid}/wrapup", data={"csrf": c.csrf})).text
    assert "name: required" in page


async def test_submitting_the_form_does_not_hang_up_the_call(store: Store, plugins: Plugins) -> None:
    async with console(store, plugins) as c:
        await c.set_state("available")
        call = await c.queued_call("+351912345678")
        await c.fs.agent_answers(call, "ana@default")
        await c.popup(call)
        before = len(received(c.fs))
        await c.http.post(f"/console/calls/{call.uuid}/wrapup", data={"csrf": c.csrf, "f_name": "Rui"})
        assert call.uuid in c.fs.channels
        assert not [cmd for cmd in received(c.fs)[before:] if "kill" in cmd or "hangup" in cmd]


async def test_a_caller_leaving_the_queue_takes_the_popup_away(store: Store, plugins: Plugins) -> None:
    async with console(store, plugins) as c:
        await c.set_state("available")
        call = await c.queued_call("+351912345678")
        await c.fs.offer_to_agent(call, "ana@default")
        await c.popup(call)
        await c.fs.hangup(call)
        async with asyncio.timeout(WAIT):
            while (await c.http.get(f"/console/calls/{call.uuid}")).status_code != 404:
                await asyncio.sleep(0.01)
