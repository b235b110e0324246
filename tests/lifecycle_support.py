"""What the contract-lifecycle tests share: clients with a contact address, calls, ticks, deliveries."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sample_clients import lisbon
from sqlalchemy import select

from hub.core import directory, ledger
from hub.core import store as t
from hub.core.engine import Engine
from hub.core.jobs import JOBS
from hub.core.models import CallEvent, EventKind, RouteDecision, WrapUp
from hub.core.scheduler import JobContext, JobRun, run_jobs, select_jobs
from hub.core.store import Store
from hub.plugins import Plugins
from hub.settings import Settings

ACME_MAIL = "dona@acme.example"
BETA_MAIL = "dono@beta.example"
DIDS = {"acme": "+351217000001", "beta": "+351217000002"}


def lifecycle_clients(*, acme: str = "", beta: str = "") -> str:
    """Two clients with a contact address and no destination; `acme`/`beta` add YAML lines to each."""
    return f"""
clients:
  - id: acme
    name: "Clínica Acme"
    nif: "509999999"
    dids: ["{DIDS["acme"]}"]
    languages: [pt, en]
    contact_email: "{ACME_MAIL}"
    script: {{version: 1, fields: [{{name: name, label: {{pt: Nome, en: Name}}, type: text}}]}}
{_indent(acme)}
  - id: beta
    name: "Beta Lda"
    nif: "510000002"
    dids: ["{DIDS["beta"]}"]
    languages: [pt]
    contact_email: "{BETA_MAIL}"
    script: {{version: 1, fields: [{{name: name, label: {{pt: Nome}}, type: text}}]}}
{_indent(beta)}
"""


def _indent(lines: str) -> str:
    return "\n".join(f"    {line}" for line in lines.strip().splitlines())


def apply(store: Store, plugins: Plugins, tmp_path: Path, **extra: str) -> None:
    """Apply `lifecycle_clients(**extra)`."""
    directory.apply_file(store, plugins.registry, tmp_path / "clients.yaml", text=lifecycle_clients(**extra))


def tick(
    store: Store,
    plugins: Plugins,
    at: datetime,
    *names: str,
    settings: Settings | None = None,
    notify: Callable[..., None] | None = None,
) -> list[JobRun]:
    """Run the named jobs (all when none) at `at`, as `recado tick --at` does; every run must succeed."""
    context = JobContext(
        store,
        plugins.registry,
        settings or Settings(database_url=store.url),
        at,
        notify or (lambda hook, **kwargs: None),
    )
    runs = run_jobs(context, select_jobs(JOBS, list(names)))
    assert all(run.error is None for run in runs), runs
    return runs


def done(runs: list[JobRun]) -> int:
    """How many things the runs did together."""
    return sum(run.done for run in runs)


def offer(engine: Engine, call_id: str, at: datetime, client: str = "acme") -> RouteDecision:
    """Offer one call to `client` at `at`; the routing decision."""
    return engine.decide(
        CallEvent(call_id=call_id, kind=EventKind.OFFERED, at=at, did=DIDS[client], caller="+351912345678")
    )


def answered_call(engine: Engine, call_id: str, at: datetime, client: str = "acme") -> RouteDecision:
    """One call offered at `at`, answered, two minutes long, wrapped up."""
    decision = offer(engine, call_id, at, client)
    engine.handle(CallEvent(call_id=call_id, kind=EventKind.ANSWERED, at=at + timedelta(seconds=5), agent="ana"))
    engine.handle(CallEvent(call_id=call_id, kind=EventKind.ENDED, at=at + timedelta(minutes=2)))
    engine.wrapup(WrapUp(call_id=call_id, agent="ana", answers={"name": "Rui"}))
    return decision


def office_slots(start: str, count: int, step: timedelta = timedelta(minutes=5)) -> Iterator[datetime]:
    """`count` times from `start` (Lisbon), `step` apart, inside weekday business hours."""
    at = lisbon(start)
    given = 0
    while given < count:
        if at.weekday() < 5 and (9 <= at.hour < 13 or 14 <= at.hour < 18):
            yield at
            given += 1
        at += step


def answered_calls(engine: Engine, client: str, start: str, count: int) -> None:
    """`count` answered calls of `client` in business hours from `start`."""
    for number, at in enumerate(office_slots(start, count)):
        decision = answered_call(engine, f"{client}-{start}-{number}", at, client)
        assert decision.action.value == "answer", decision


def account(store: Store, client: str) -> ledger.Account:
    """The account of `client` as stored."""
    with store.connect() as conn:
        return ledger.lock_account(conn, client, for_update=False)


def statement(store: Store, client: str) -> list[dict[str, Any]]:
    """Every ledger entry of `client`."""
    with store.connect() as conn:
        return ledger.statement(conn, client)


def mail_keys(store: Store, client: str) -> list[str]:
    """The keys of the mails queued to the contact of `client`, in order."""
    with store.connect() as conn:
        rows = conn.execute(
            select(t.outbox.c.idempotency_key)
            .where(t.outbox.c.client == client, t.outbox.c.destination == "@contact")
            .order_by(t.outbox.c.id)
        )
        return [row.idempotency_key for row in rows]


def snapshot(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    """Everything the lifecycle jobs may change: ledger, accounts, outbox, alerts, client configs."""
    with store.connect() as conn:
        return {
            "ledger": [tuple(row) for row in conn.execute(select(t.ledger).order_by(t.ledger.c.id))],
            "accounts": [
                tuple(row)
                for row in conn.execute(
                    select(
                        t.accounts.c.client,
                        t.accounts.c.balance_cents,
                        t.accounts.c.held_cents,
                        t.accounts.c.interrupted,
                        t.accounts.c.contract_ends_at,
                        t.accounts.c.contract_state,
                        t.accounts.c.low_balance_warned,
                    ).order_by(t.accounts.c.client)
                )
            ],
            "outbox": [
                tuple(row)
                for row in conn.execute(
                    select(t.outbox.c.id, t.outbox.c.destination, t.outbox.c.idempotency_key).order_by(t.outbox.c.id)
                )
            ],
            "alerts": [tuple(row) for row in conn.execute(select(t.alerts.c.key).order_by(t.alerts.c.id))],
            "clients": [tuple(row) for row in conn.execute(select(t.clients.c.id, t.clients.c.config))],
        }
