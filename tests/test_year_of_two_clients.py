"""A year of two clients, from sign-up to renewal or forfeiture, against an independent computation.

Clínica Sol signs up for 12 months with the Portuguese recorded message and pays by bank
transfer (a camt.053 statement); Oficina Norte signs up for 6 months with the PT+EN message
and pays by card (a fake Stripe behind the real web routes). Over the year: calls across
the tariff's tier boundaries, the balance running out and a top-up resuming the service,
phone contacts of a campaign across the outbound tier boundary, after-hours calls hearing
the recorded message, the 30- and 7-day reminders, a renewal that keeps the message option
at no cost, and a contract that ends with its balance forfeited.

Every expected balance comes from `Model`, which applies the published tariff written out
below; it shares no code with the hub.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx
import pytest
from billing_setup import sign_up
from campaign_setup import TEMPLATES, mobile, person
from card_hub import hub_context, serve
from fake_stripe import FakeStripe
from sample_clients import lisbon
from sqlalchemy import func, select

from hub.core import accounts, campaigns, campaigns_admin, did_pool, ledger, reconcile, signups, statements
from hub.core import store as t
from hub.core.engine import Engine
from hub.core.jobs import JOBS
from hub.core.models import CallEvent, EventKind, RouteAction, WrapUp
from hub.core.scheduler import JobContext, run_jobs
from hub.core.store import Store
from hub.core.tariff import document_for_topup
from hub.plugins import Plugins
from hub.settings import Settings

# -- the published tariff, written out (cents) ---------------------------------------
PLAN_NET = {"12m": 15600, "6m": 9600}
MESSAGE = {"pt": 3000, "pt+en": 4000}
VAT_PERCENT = 23


def inbound(k: int) -> int:
    """The k-th answered call of a month: 1–99 1.50, 100–199 1.00, 200–299 0.50, then 0.50 (no rate set)."""
    return 150 if k < 100 else 100 if k < 200 else 50


def outbound(k: int) -> int:
    """The k-th outbound contact of a month: 1–99 1.00, then 0.50."""
    return 100 if k < 100 else 50


@dataclass
class Model:
    """A client's balance, kept by hand from the tariff above."""

    balance: int = 0
    calls: dict[str, int] = field(default_factory=dict)  # month -> answered calls
    contacts: dict[str, int] = field(default_factory=dict)  # month -> contacts made

    def call(self, month: str) -> bool:
        """An offered call in business hours: answered if the balance covers it."""
        price = inbound(self.calls.get(month, 0) + 1)
        if self.balance < price:
            return False
        self.calls[month] = self.calls.get(month, 0) + 1
        self.balance -= price
        return True

    def contact(self, month: str) -> None:
        """A phone contact made (answered)."""
        self.contacts[month] = self.contacts.get(month, 0) + 1
        self.balance -= outbound(self.contacts[month])


# -- driving the hub ---------------------------------------------------------------


def office_hours(start: str, step: timedelta = timedelta(minutes=5)) -> Iterator[datetime]:
    """Times from `start` (Lisbon) inside weekday business hours (no holidays fall in the months used)."""
    at = lisbon(start)
    while True:
        if at.weekday() < 5 and (9 <= at.hour < 13 or 14 <= at.hour < 18):
            yield at
        at += step


def call(engine: Engine, did: str, call_id: str, at: datetime) -> str:
    """One call offered at `at`; answered ones last two minutes and are wrapped up. Its disposition."""
    decision = engine.decide(CallEvent(call_id=call_id, kind=EventKind.OFFERED, at=at, did=did, caller="+351912000111"))
    if decision.action is RouteAction.ANSWER:
        engine.handle(CallEvent(call_id=call_id, kind=EventKind.ANSWERED, at=at + timedelta(seconds=8), agent="ana"))
        engine.handle(CallEvent(call_id=call_id, kind=EventKind.ENDED, at=at + timedelta(minutes=2)))
        engine.wrapup(WrapUp(call_id=call_id, agent="ana", answers={}))
        return "answered"
    engine.handle(CallEvent(call_id=call_id, kind=EventKind.ENDED, at=at + timedelta(seconds=20)))
    return decision.action.value


def calls(engine: Engine, did: str, model: Model, start: str, count: int) -> list[str]:
    """`count` calls in business hours from `start`, checked one by one against the model."""
    outcomes = []
    for number, at in zip(range(count), office_hours(start), strict=False):
        outcome = call(engine, did, f"{did}-{start}-{number}", at)
        expected = "answered" if model.call(at.strftime("%Y-%m")) else "refuse"
        assert outcome == expected, (start, number, outcome, expected)
        outcomes.append(outcome)
    return outcomes


def camt053(reference: str, cents: int, day: str) -> bytes:
    """A bank statement with one credit transfer quoting `reference`."""
    return textwrap.dedent(
        f"""\
        <?xml version="1.0" encoding="UTF-8"?>
        <Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">
          <BkToCstmrStmt>
            <GrpHdr><MsgId>STMT-{day}</MsgId><CreDtTm>{day}T18:00:00</CreDtTm></GrpHdr>
            <Stmt>
              <Id>PT50000201231234567890154-{day}</Id>
              <Acct><Id><IBAN>PT50000201231234567890154</IBAN></Id><Ccy>EUR</Ccy></Acct>
              <Ntry>
                <NtryRef>{day.replace("-", "")}01</NtryRef>
                <Amt Ccy="EUR">{cents // 100}.{cents % 100:02d}</Amt>
                <CdtDbtInd>CRDT</CdtDbtInd>
                <Sts>BOOK</Sts>
                <BookgDt><Dt>{day}</Dt></BookgDt>
                <AcctSvcrRef>{day.replace("-", "")}01</AcctSvcrRef>
                <NtryDtls><TxDtls>
                  <RltdPties><Dbtr><Nm>CLINICA SOL LDA</Nm></Dbtr></RltdPties>
                  <RmtInf><Ustrd>Pagamento {reference}</Ustrd></RmtInf>
                </TxDtls></NtryDtls>
              </Ntry>
            </Stmt>
          </BkToCstmrStmt>
        </Document>
        """
    ).encode()


@dataclass
class Year:
    """The hub under test: its store, plugins, settings, engine and web address."""

    store: Store
    plugins: Plugins
    settings: Settings
    engine: Engine
    url: str

    def pay_by_transfer(self, reference: str, cents: int, day: str) -> None:
        statement = statements.parse_statement(camt053(reference, cents, day), name=f"{day}.xml")
        report = reconcile.import_statement(
            self.store,
            self.plugins.registry,
            statement,
            file=f"{day}.xml",
            at=lisbon(f"{day} 18:30"),
            settings=self.settings,
        )
        assert [line.status for line in report.lines] == ["matched"], report

    def tick(self, at: str) -> None:
        runs = run_jobs(JobContext(self.store, self.plugins.registry, self.settings, lisbon(at)), JOBS)
        assert all(run.error is None for run in runs), runs

    def topup(self, client: str, euros: int, at: str) -> None:
        accounts.purchase(
            self.store, self.plugins.registry, client, document_for_topup(euros), lisbon(at), self.settings.tariff
        )

    def account(self, client: str) -> ledger.Account:
        with self.store.connect() as conn:
            return ledger.lock_account(conn, client, for_update=False)

    def balance(self, client: str) -> int:
        account = self.account(client)
        with self.store.connect() as conn:
            total = conn.execute(
                select(func.coalesce(func.sum(t.ledger.c.amount_cents), 0)).where(t.ledger.c.client == client)
            ).scalar_one()
        # The balance is exactly what the ledger says, with nothing left held between calls.
        assert (account.balance_cents, account.held_cents) == (int(total), 0)
        return account.balance_cents

    def client_config(self, client: str) -> dict[str, object]:
        with self.store.connect() as conn:
            return dict(conn.execute(select(t.clients.c.config).where(t.clients.c.id == client)).scalar_one())

    def ledger_kinds(self, client: str) -> list[str]:
        with self.store.connect() as conn:
            rows = conn.execute(select(t.ledger.c.kind).where(t.ledger.c.client == client).order_by(t.ledger.c.id))
            return [str(kind) for kind in rows.scalars()]

    def mail_kinds(self, client: str) -> list[str]:
        with self.store.connect() as conn:
            rows = conn.execute(
                select(t.outbox.c.event_type).where(t.outbox.c.client == client, t.outbox.c.destination == "@contact")
            )
            return sorted(str(kind) for kind in rows.scalars())


@pytest.fixture
def year(tmp_path: object) -> Iterator[Year]:
    store = Store(f"sqlite:///{tmp_path}/year.db")
    with FakeStripe() as fake:
        context = hub_context(store, fake)  # puts +351217000777 in the pool
        with store.begin() as conn:
            did_pool.add(conn, ["+351217000778"], lisbon("2027-01-02 10:00"))
        with serve(context) as served:
            yield Year(store, context.plugins, context.settings, context.engine, served.url)
    store.dispose()


def test_a_year_of_two_clients_matches_the_tariff_computed_by_hand(year: Year) -> None:
    sol, norte = Model(), Model()

    # January: Clínica Sol signs up (12 months, PT message) and pays by transfer.
    created = sign_up(
        year.store, year.plugins, at=lisbon("2027-01-04 10:00"), settings=year.settings,
        company="Clínica Sol, Lda", email="geral@sol.example", plan="12m", message_option="pt",
    )  # fmt: skip
    assert created.invoice.gross_cents == PLAN_NET["12m"] * (100 + VAT_PERCENT) // 100
    year.pay_by_transfer(created.invoice.payment_reference, created.invoice.gross_cents, "2027-01-06")
    sol_id = created.client
    sol.balance = PLAN_NET["12m"] - MESSAGE["pt"]
    assert year.balance(sol_id) == sol.balance
    sol_did = year.client_config(sol_id)["dids"][0]  # type: ignore[index]
    assert sol_did == "+351217000777"
    assert "mail.welcome" in year.mail_kinds(sol_id)

    # Oficina Norte signs up (6 months, PT+EN message) and pays by card at the checkout.
    card = sign_up(
        year.store, year.plugins, at=lisbon("2027-01-05 11:00"), settings=year.settings,
        company="Oficina Norte, Lda", nif="514000007", email="geral@norte.example",
        plan="6m", message_option="pt+en", method="card",
    )  # fmt: skip
    assert card.invoice.gross_cents == PLAN_NET["6m"] * (100 + VAT_PERCENT) // 100
    with httpx.Client(follow_redirects=True) as browser:
        checkout = browser.get(f"{year.url}/pay/{card.invoice.public_token}/card")
        back = browser.post(str(checkout.url))
    assert back.status_code == 200 and back.url.path.endswith("/done")
    norte_id = card.client
    norte.balance = PLAN_NET["6m"] - MESSAGE["pt+en"]
    assert year.balance(norte_id) == norte.balance
    norte_did = year.client_config(norte_id)["dids"][0]  # type: ignore[index]
    assert norte_did == "+351217000778"

    # Sol's calls run the balance out (150 each below the 100th call): the rest are refused.
    outcomes = calls(year.engine, sol_did, sol, "2027-01-11 09:00", 90)
    assert outcomes.count("answered") == 84 and outcomes.count("refuse") == 6
    assert year.balance(sol_id) == sol.balance == 0
    assert year.account(sol_id).interrupted

    # A top-up resumes the service; calls cross from the 1.50 tier to the 1.00 tier.
    year.topup(sol_id, 50, "2027-01-20 08:00")
    sol.balance += 5000
    assert not year.account(sol_id).interrupted
    calls(year.engine, sol_did, sol, "2027-01-20 09:00", 20)
    assert sol.calls["2027-01"] == 104
    assert year.balance(sol_id) == sol.balance

    # Out of hours, Sol's callers hear the recorded message, free of charge.
    saturday = lisbon("2027-01-23 11:00")
    decision = year.engine.decide(
        CallEvent(call_id="sat-1", kind=EventKind.OFFERED, at=saturday, did=sol_did, caller="+351912000222")
    )
    assert decision.action is RouteAction.PLAY_MESSAGE
    year.engine.handle(CallEvent(call_id="sat-1", kind=EventKind.ENDED, at=saturday + timedelta(seconds=40)))
    assert year.balance(sol_id) == sol.balance

    # Norte's month: 30 calls at 1.50.
    calls(year.engine, norte_did, norte, "2027-01-12 09:00", 30)
    assert year.balance(norte_id) == norte.balance

    # February: a campaign of 105 phone contacts, 100 answered, crossing the outbound tier at 100.
    for _ in range(3):
        year.topup(sol_id, 50, "2027-02-01 08:00")
        sol.balance += 5000
    rows = [f'"{person(i)}","{mobile(i)}","2027-02-26 10:00","pt","phone"' for i in range(105)]
    csv_text = "name,number,appointment,language,channel\n" + "\n".join(rows) + "\n"
    campaigns_admin.create_campaign(
        year.store, year.plugins.registry, sol_id, csv_text, TEMPLATES,
        name="Consultas de fevereiro", mode="agent", created_by="operator", now=lisbon("2027-02-01 08:30"),
    )  # fmt: skip
    moments = office_hours("2027-02-02 09:00", timedelta(minutes=3))
    for number, at in zip(range(105), moments, strict=False):
        task = campaigns.next_phone_task(year.store, agent="rita", now=at, settings=year.settings)
        assert task is not None, number
        outcome = "no_answer" if number % 21 == 20 else "confirmed"
        campaigns.record_outcome(
            year.store, year.plugins.registry, task.contact_id, outcome,
            at=at + timedelta(minutes=2), agent="rita", talk_seconds=0 if outcome == "no_answer" else 60,
            settings=year.settings,
        )  # fmt: skip
        if outcome == "confirmed":
            sol.contact("2027-02")
    assert sol.contacts["2027-02"] == 100
    assert year.balance(sol_id) == sol.balance

    # March: 210 calls across the 100 and 200 boundaries.
    for _ in range(4):
        year.topup(sol_id, 50, "2027-03-01 08:00")
        sol.balance += 5000
    outcomes = calls(year.engine, sol_did, sol, "2027-03-01 09:00", 210)
    assert outcomes.count("answered") == 210
    assert year.balance(sol_id) == sol.balance

    # The periodic jobs run through the year; month-end jobs change no graduated balance.
    for day in ("2027-02-01 07:00", "2027-03-01 07:00", "2027-04-01 07:00", "2027-05-03 07:00"):
        year.tick(day)
    assert year.balance(sol_id) == sol.balance

    # July: Norte's 6-month contract ends unrenewed; what is left is forfeited and calls stop.
    year.tick("2027-06-10 10:00")
    year.tick("2027-07-01 10:00")
    assert {"mail.contract_reminder"} <= set(year.mail_kinds(norte_id))
    year.tick("2027-07-07 10:00")
    assert year.ledger_kinds(norte_id)[-1] == "forfeit"
    norte.balance = 0
    assert year.balance(norte_id) == norte.balance
    after_end = lisbon("2027-07-08 10:00")
    decision = year.engine.decide(
        CallEvent(call_id="norte-late", kind=EventKind.OFFERED, at=after_end, did=norte_did, caller="+351912000333")
    )
    assert decision.action is RouteAction.REFUSE

    # December: Sol is reminded 30 and 7 days before the end, renews by transfer, keeps the option.
    year.tick("2027-12-08 10:00")
    year.tick("2027-12-31 10:00")
    assert year.mail_kinds(sol_id).count("mail.contract_reminder") == 2
    renewal = signups.create_renewal(year.store, sol_id, "12m", "transfer", year.settings, lisbon("2027-12-31 11:00"))
    assert renewal.gross_cents == PLAN_NET["12m"] * (100 + VAT_PERCENT) // 100  # no message line again
    year.pay_by_transfer(renewal.payment_reference, renewal.gross_cents, "2028-01-03")
    sol.balance += PLAN_NET["12m"]
    year.tick("2028-01-10 10:00")  # after the first year's end: nothing is forfeited
    assert year.balance(sol_id) == sol.balance
    assert "forfeit" not in year.ledger_kinds(sol_id)
    assert year.ledger_kinds(sol_id).count("message") == 1
    assert year.client_config(sol_id)["recorded_message"] == "pt"
    assert year.client_config(sol_id)["dids"] == [sol_did]
    with year.store.connect() as conn:
        shown = accounts.show(conn, sol_id, lisbon("2028-01-10 10:00"), year.settings.tariff)
    assert shown["contract_ends_at"] > "2028-12-31"
