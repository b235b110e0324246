"""A realistic March 2026 for the report tests, put through the real engine, and its plan.

Three clients: `acme` (contact email, PT+EN, talks long: its average is above the tariff's
four minutes), `gama` (EN first, short calls) and `beta` (no balance: its calls are refused).
Calls run from 27 February to 2 April, Lisbon time, so the month's edges and the change to
summer time (29 March) are crossed; in business hours a call is answered, missed, spam or
blocked, outside them it is after hours. `acme`'s script changes category on 16 March, it
buys the recorded message and a top-up in March, and makes phone contacts of a campaign.

The plan keeps what was asked of the hub, so that the tests compute the expected report
from it on their own, without the hub's code.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from hub.core import accounts, blocklist, campaigns, campaigns_admin, directory
from hub.core.engine import Engine
from hub.core.models import CallEvent, EventKind, WrapUp
from hub.core.store import Store
from hub.core.tariff import Document, TariffConfig, document_for_message, document_for_plan, document_for_topup
from hub.plugins import Plugins
from hub.settings import Settings

LISBON = ZoneInfo("Europe/Lisbon")
DIDS = {"acme": "+351217000001", "beta": "+351217000002", "gama": "+351217000003"}
BLOCKED = "+351911111111"
CONTRACT_CENTS = 15600
TOPUP_CENTS = 2000
MESSAGE_CENTS = 4000
CALL_CENTS = 150
CONTACT_CENTS = 100


def clients_yaml(maildir: Path, category: str = "customer_service", version: int = 1) -> str:
    """The three clients; `acme`'s script category and version as given."""
    return f"""
clients:
  - id: acme
    name: "Clínica Acme"
    nif: "509999999"
    dids: ["{DIDS["acme"]}"]
    languages: [pt, en]
    contact_email: gerencia@acme.example
    agents: {{preferred: [ana]}}
    script:
      version: {version}
      category: {category}
      fields: [{{name: name, label: {{pt: Nome, en: Name}}, type: text}}]
    destinations:
      - {{id: mail, kind: email, settings: {{to: ["rececao@acme.example"], maildir: "{maildir}"}}}}
  - id: beta
    name: "Beta Lda"
    nif: "510000002"
    dids: ["{DIDS["beta"]}"]
    languages: [pt]
    contact_email: dono@beta.example
  - id: gama
    name: "Gama Labs"
    nif: "510000010"
    dids: ["{DIDS["gama"]}"]
    languages: [en, pt]
    contact_email: office@gama.example
    script: {{version: 1, category: technical_support, fields: [{{name: name, label: {{en: Name}}, type: text}}]}}
"""


@dataclass(frozen=True)
class PlannedCall:
    """One inbound call as the test asked for it, and what must become of it."""

    client: str
    call_id: str
    offered: datetime
    outcome: str
    talk_s: int
    category: str


@dataclass(frozen=True)
class Money:
    """One change of a balance the plan made: when, how much (debit < 0), what."""

    client: str
    at: datetime
    cents: int
    kind: str


@dataclass
class Plan:
    """Everything the generator did."""

    calls: list[PlannedCall] = field(default_factory=list)
    contacts: list[tuple[str, datetime, str]] = field(default_factory=list)
    money: list[Money] = field(default_factory=list)


def lisbon(day: date, hour: int, minute: int = 0) -> datetime:
    """A Lisbon wall-clock time."""
    return datetime.combine(day, time(hour, minute), tzinfo=LISBON)


def in_hours(moment: datetime) -> bool:
    """The published hours, written out independently: weekdays 09–13 and 14–18, Lisbon."""
    local = moment.astimezone(LISBON)
    return local.weekday() < 5 and (9 <= local.hour < 13 or 14 <= local.hour < 18)


def _call_times(rng: random.Random, day: date) -> list[datetime]:
    count = rng.choice((0, 1, 2, 3, 3, 4, 5))
    return sorted(lisbon(day, rng.randrange(7, 21), rng.randrange(60)) for _ in range(count))


def plan_calls(seed: int = 7) -> list[PlannedCall]:
    """Calls from 27 February to 2 April, with the month's edges and the summer-time night."""
    rng = random.Random(seed)
    edges = {
        date(2026, 2, 28): [lisbon(date(2026, 2, 28), 23, 55)],
        date(2026, 3, 1): [lisbon(date(2026, 3, 1), 0, 5)],
        # 29 March: clocks go from 01:00 to 02:00; 00:30 is WET, 03:30 is WEST.
        date(2026, 3, 29): [lisbon(date(2026, 3, 29), 0, 30), lisbon(date(2026, 3, 29), 3, 30)],
        # 23:30 WEST on 31 March is 22:30 UTC; 00:10 on 1 April is 23:10 UTC on 31 March.
        date(2026, 3, 31): [lisbon(date(2026, 3, 31), 23, 30)],
        date(2026, 4, 1): [lisbon(date(2026, 4, 1), 0, 10)],
    }
    found: list[PlannedCall] = []
    day = date(2026, 2, 27)
    number = 0
    while day <= date(2026, 4, 2):
        for client in ("acme", "gama", "beta"):
            moments = _call_times(rng, day) if client != "beta" else _call_times(rng, day)[:1]
            if client == "acme":
                moments = sorted(moments + edges.get(day, []))
            for offered in moments:
                number += 1
                category = (
                    "technical_support"
                    if client == "gama"
                    else ("complaint" if offered >= lisbon(date(2026, 3, 16), 0) else "customer_service")
                )
                if client == "beta":
                    outcome = "refused_no_balance" if in_hours(offered) else "after_hours"
                elif not in_hours(offered):
                    outcome = "after_hours"
                elif client == "acme":
                    outcome = rng.choices(("answered", "missed", "spam", "blocked"), (70, 15, 8, 7))[0]
                else:
                    outcome = rng.choices(("answered", "missed", "spam"), (75, 15, 10))[0]
                long_talk = client == "acme"
                talk = rng.randrange(200, 330) if long_talk else rng.randrange(40, 200)
                found.append(
                    PlannedCall(
                        client=client,
                        call_id=f"{client}-{number}",
                        offered=offered,
                        outcome=outcome,
                        talk_s=talk if outcome in ("answered", "spam") else 0,
                        category=category,
                    )
                )
        day += timedelta(days=1)
    return sorted(found, key=lambda call: call.offered)


def _put_through(engine: Engine, call: PlannedCall) -> None:
    number = int(call.call_id.rsplit("-", 1)[1])
    caller = BLOCKED if call.outcome == "blocked" else f"+35192{number:07d}"
    did = DIDS[call.client]
    engine.handle(CallEvent(call_id=call.call_id, kind=EventKind.OFFERED, at=call.offered, did=did, caller=caller))
    if call.outcome in ("answered", "spam"):
        answered = call.offered + timedelta(seconds=6)
        engine.handle(CallEvent(call_id=call.call_id, kind=EventKind.ANSWERED, at=answered, agent="ana"))
        ended = answered + timedelta(seconds=call.talk_s)
        engine.handle(CallEvent(call_id=call.call_id, kind=EventKind.ENDED, at=ended))
        mark = "spam" if call.outcome == "spam" else None
        engine.wrapup(WrapUp(call_id=call.call_id, agent="ana", answers={"name": "Maria"}, mark=mark))
    else:
        engine.handle(CallEvent(call_id=call.call_id, kind=EventKind.ENDED, at=call.offered + timedelta(seconds=25)))


def _buy(store: Store, plugins: Plugins, plan: Plan, client: str, document: Document, at: datetime) -> None:
    accounts.purchase(store, plugins.registry, client, document, at, TariffConfig())
    plan.money.append(Money(client, at, document.balance_change_cents, document.kind.value))


def _contacts(store: Store, plugins: Plugins, plan: Plan) -> None:
    """Six phone contacts of a campaign of `acme`, made in March and one on 1 April."""
    rows = "\n".join(f'"Pessoa {i}","91200{i:04d}","2026-04-20 10:30","pt","phone"' for i in range(6))
    campaigns_admin.create_campaign(
        store,
        plugins.registry,
        "acme",
        "name,number,appointment,language,channel\n" + rows + "\n",
        {"pt": "Olá {{ name }}, lembramos a consulta a {{ appointment_date }}."},
        name="Lembretes",
        mode="agent",
        created_by="operator",
        now=lisbon(date(2026, 3, 2), 8),
    )
    outcomes = ["confirmed", "no_answer", "rescheduled", "confirmed", "confirmed", "confirmed"]
    days = [
        date(2026, 3, 10),
        date(2026, 3, 11),
        date(2026, 3, 12),
        date(2026, 3, 24),
        date(2026, 3, 31),
        date(2026, 4, 1),
    ]
    settings = Settings(database_url=store.url)
    for outcome, day in zip(outcomes, days, strict=True):
        at = lisbon(day, 11)
        task = campaigns.next_phone_task(store, agent="ana", now=at, settings=settings, registry=plugins.registry)
        assert task is not None, f"no phone task on {day}"
        rescheduled = lisbon(date(2026, 4, 27), 10) if outcome == "rescheduled" else None
        campaigns.record_outcome(
            store,
            plugins.registry,
            task.contact_id,
            outcome,
            at=at + timedelta(minutes=2),
            agent="ana",
            settings=settings,
            rescheduled_to=rescheduled,
        )
        plan.contacts.append(("acme", at, outcome))
        if outcome != "no_answer":
            plan.money.append(Money("acme", at + timedelta(minutes=2), -CONTACT_CENTS, "outbound"))


def generate(store: Store, plugins: Plugins, tmp_path: Path, seed: int = 7) -> Plan:
    """Apply the clients and put the whole plan through the hub; return the plan."""
    maildir = tmp_path / "maildir"
    directory.apply_file(store, plugins.registry, tmp_path / "clients.yaml", text=clients_yaml(maildir))
    plan = Plan()
    for client in ("acme", "gama"):
        _buy(store, plugins, plan, client, document_for_plan("12m"), lisbon(date(2026, 2, 20), 10))
    with store.begin() as conn:
        blocklist.block(conn, "acme", BLOCKED)
    engine = Engine(store, plugins.registry, Settings(database_url=store.url))
    changed = bought = False
    for call in plan_calls(seed):
        if not changed and call.offered >= lisbon(date(2026, 3, 16), 0):
            text = clients_yaml(maildir, category="complaint", version=2)
            directory.apply_file(store, plugins.registry, tmp_path / "clients.yaml", text=text)
            changed = True
        if not bought and call.offered >= lisbon(date(2026, 3, 18), 0):
            _buy(store, plugins, plan, "acme", document_for_topup(20), lisbon(date(2026, 3, 17), 16))
            _buy(store, plugins, plan, "acme", document_for_message("pt+en"), lisbon(date(2026, 3, 17), 16, 5))
            bought = True
        _put_through(engine, call)
        if call.outcome == "answered":
            ended = call.offered + timedelta(seconds=6 + call.talk_s)
            plan.money.append(Money(call.client, ended, -CALL_CENTS, "call"))
    _contacts(store, plugins, plan)
    plan.calls = plan_calls(seed)
    return plan
