"""Whole calls from the emulated FreeSWITCH through the real engine into records."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fs_acme import applied, buy_contract
from fs_channels import Channel
from fs_esl_emulator import EmulatedFreeSwitch
from fs_process import running_source
from recado_freeswitch.source import FreeSwitchSource
from sqlalchemy import select

from hub.core import store as t
from hub.core.engine import Engine
from hub.core.hub import Hub
from hub.core.models import WrapUp, record_id_for
from hub.core.store import Store
from hub.plugins import Plugins
from hub.settings import Settings

LISBON = ZoneInfo("Europe/Lisbon")
WAIT = 10.0  # guards against a hang; never a timing expectation
DID = "+351217000001"
CALLER = "+351912345678"

CLIENTS = """
clients:
  - id: acme
    name: "Clínica Acme"
    nif: "509999999"
    dids: ["+351217000001"]
    languages: [pt, en]
    agents: {preferred: [ana, rui], gender: any}
    recorded_message: pt+en
    script:
      version: 1
      fields:
        - {name: name, label: {pt: Nome, en: Name}, type: text, required: true}
"""


@pytest.fixture
def plugins() -> Plugins:
    return Plugins(only={"email"})


@pytest.fixture
def store(tmp_path: Path, plugins: Plugins) -> Iterator[Store]:
    with applied(tmp_path, plugins, CLIENTS) as opened:
        yield opened


def lisbon(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=LISBON)


def record(store: Store, call_id: str) -> dict[str, Any] | None:
    with store.connect() as conn:
        row = conn.execute(
            select(t.records.c.data).where(t.records.c.record_id == record_id_for("freeswitch", call_id))
        ).first()
    return None if row is None else dict(row.data)


async def final_record(store: Store, call_id: str) -> dict[str, Any]:
    async with asyncio.timeout(WAIT):
        while (found := record(store, call_id)) is None:
            await asyncio.sleep(0.01)
    return found


@dataclass
class Rig:
    fs: EmulatedFreeSwitch
    hub: Hub
    source: FreeSwitchSource

    async def queued(self, call: Channel) -> None:
        async with asyncio.timeout(WAIT):
            while call.uuid not in self.fs.members:
                await asyncio.sleep(0.005)

    async def wrapup(self, call: Channel, agent: str, name: str) -> None:
        await self.hub.wrapup(WrapUp(source="freeswitch", call_id=call.uuid, agent=agent, answers={"name": name}))


@contextlib.asynccontextmanager
async def rig(store: Store, plugins: Plugins, at: str) -> AsyncIterator[Rig]:
    hub = Hub(Engine(store, plugins.registry, Settings(database_url=store.url)))
    async with running_source(hub, lisbon(at), control_port=0, ring_out_s=0) as (fs, source):
        yield Rig(fs, hub, source)


async def test_call_in_hours_answered_by_an_agent_becomes_a_priced_record(store: Store, plugins: Plugins) -> None:
    buy_contract(store, plugins)
    async with rig(store, plugins, "2026-03-02 10:00") as r:
        call = await r.fs.incoming_call(DID, CALLER, "Ana Araújo")
        await r.queued(call)
        assert ("callcenter", "acme@default") in call.executed
        await r.fs.agent_answers(call, "ana@default")
        await r.fs.hangup(call)
        await r.wrapup(call, "ana@default", "Rui")
        rec = await final_record(store, call.uuid)
    assert rec["disposition"] == "answered"
    assert rec["price_cents"] == 150
    assert rec["agent"] == "ana@default"
    assert rec["did"] == DID and rec["caller"] == CALLER
    assert rec["answers"] == {"name": "Rui"}


async def test_call_after_hours_hears_the_message_and_is_an_after_hours_record(store: Store, plugins: Plugins) -> None:
    buy_contract(store, plugins)
    async with rig(store, plugins, "2026-03-02 20:00") as r:
        call = await r.fs.incoming_call(DID, "+447700900123")
        rec = await final_record(store, call.uuid)
        assert ("playback", "/usr/share/freeswitch/sounds/recado/acme/after_hours_en.wav") in (call.executed)
    assert rec["disposition"] == "after_hours"
    assert rec["price_cents"] == 0


async def test_call_without_balance_hears_unavailable_and_is_refused(store: Store, plugins: Plugins) -> None:
    async with rig(store, plugins, "2026-03-02 10:00") as r:
        call = await r.fs.incoming_call(DID, CALLER)
        rec = await final_record(store, call.uuid)
        assert ("playback", "/usr/share/freeswitch/sounds/recado/acme/unavailable_pt.wav") in (call.executed)
    assert rec["disposition"] == "refused_no_balance"


async def test_caller_hanging_up_in_the_queue_is_a_missed_call(store: Store, plugins: Plugins) -> None:
    buy_contract(store, plugins)
    async with rig(store, plugins, "2026-03-02 10:00") as r:
        call = await r.fs.incoming_call(DID, CALLER)
        await r.queued(call)
        await r.fs.hangup(call)
        rec = await final_record(store, call.uuid)
    assert rec["disposition"] == "missed"
    assert rec["price_cents"] == 0


async def test_call_transferred_between_agents_is_one_record(store: Store, plugins: Plugins) -> None:
    buy_contract(store, plugins)
    async with rig(store, plugins, "2026-03-02 10:00") as r:
        call = await r.fs.incoming_call(DID, CALLER)
        await r.queued(call)
        await r.fs.agent_answers(call, "ana@default")
        await r.fs.transfer(call, "rui@default")
        await r.fs.hangup(call)
        await r.wrapup(call, "rui@default", "Maria")
        rec = await final_record(store, call.uuid)
    assert rec["disposition"] == "answered"
    assert rec["price_cents"] == 150
    with store.connect() as conn:
        (data,) = conn.execute(select(t.calls.c.data).where(t.calls.c.call_id == call.uuid)).one()
    assert data["agents"] == ["ana@default", "rui@default"]


async def test_agent_answering_during_a_reconnect_still_gives_an_answered_record(
    store: Store, plugins: Plugins
) -> None:
    buy_contract(store, plugins)
    async with rig(store, plugins, "2026-03-02 10:00") as r:
        call = await r.fs.incoming_call(DID, CALLER)
        await r.queued(call)
        r.fs.stalled = True
        await r.fs.drop_inbound()
        await r.fs.agent_answers(call, "ana@default")
        r.fs.stalled = False
        async with asyncio.timeout(WAIT):
            while r.source.connects < 2:
                await asyncio.sleep(0.005)
        await r.fs.hangup(call)
        await r.wrapup(call, "ana@default", "Rui")
        rec = await final_record(store, call.uuid)
    assert rec["disposition"] == "answered"
    assert rec["agent"] == "ana@default"
