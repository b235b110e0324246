"""`recado demo`: the whole flow on the embedded default, no set-up.

SQLite + the PBX simulator + email into a Maildir: a month of calls for three
sample clients, a balance that runs out, the operator's top-up, records and
emails, with balances and delivery status as they happen.
"""

from __future__ import annotations

import asyncio
import shutil
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from hub.core import accounts, directory, outbox
from hub.core import store as t
from hub.core.engine import Engine
from hub.core.hub import Hub
from hub.core.models import CallRecord
from hub.core.store import Store
from hub.core.tariff import document_for_message, document_for_plan, document_for_topup
from hub.core.worker import Worker
from hub.demo.simulator import SimulatorConfig, SimulatorSource
from hub.plugins import Plugins
from hub.settings import Settings

LISBON = ZoneInfo("Europe/Lisbon")
SAMPLE_CLIENTS = Path(__file__).with_name("clients.yaml")
PLANS = {"clinica-sorriso": "12m", "oficina-lopes": "6m", "atelier-norte": "6m"}


@dataclass
class DemoState:
    """What the demo has done so far, for the live view and the summary."""

    records: deque[CallRecord] = field(default_factory=lambda: deque(maxlen=12))
    by_disposition: Counter[str] = field(default_factory=Counter)
    finalized: int = 0
    delivered: int = 0
    retried: int = 0
    dead: int = 0
    topups: list[str] = field(default_factory=list)
    balances: dict[str, int] = field(default_factory=dict)
    interrupted: dict[str, bool] = field(default_factory=dict)
    day: date | None = None


class Demo:
    """One run of the demo in `data_dir` (its database and Maildir start afresh)."""

    def __init__(
        self,
        data_dir: Path,
        *,
        calls: int,
        seed: int,
        plugins: Plugins | None = None,
        on_change: Callable[[DemoState], None] | None = None,
    ) -> None:
        self.data_dir = data_dir
        self.calls = calls
        self.seed = seed
        self.plugins = plugins or Plugins()
        self.state = DemoState()
        self.on_change = on_change or (lambda state: None)
        self.maildir = data_dir / "maildir"
        self.month = "2026-03"

    def _reset(self) -> Store:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        for name in ("recado.db", "recado.db-wal", "recado.db-shm"):
            (self.data_dir / name).unlink(missing_ok=True)
        shutil.rmtree(self.maildir, ignore_errors=True)
        return Store(f"sqlite:///{self.data_dir / 'recado.db'}")

    def _notify(self, hook: str, **kwargs: Any) -> None:
        if hook == "record_finalized":
            record: CallRecord = kwargs["record"]
            self.state.records.appendleft(record)
            self.state.by_disposition[record.disposition.value] += 1
            self.state.finalized += 1
        self.plugins.call_guarded(hook, **kwargs)

    async def run(self) -> dict[str, Any]:
        """Play the month; return the summary."""
        if "email" not in self.plugins.registry.sinks:
            raise RuntimeError("the demo needs the email sink (install recado-email: `make demo` does)")
        store = self._reset()
        settings = Settings(database_url=store.url)
        registry = self.plugins.registry
        text = SAMPLE_CLIENTS.read_text(encoding="utf-8").replace("MAILDIR", str(self.maildir))
        directory.apply_file(store, registry, SAMPLE_CLIENTS, text=text)
        start = datetime(2026, 3, 1, 8, 0, tzinfo=LISBON)
        for client_id, plan in PLANS.items():
            accounts.purchase(store, registry, client_id, document_for_plan(plan), start, settings.tariff, self._notify)
        message = document_for_message("pt")
        accounts.purchase(store, registry, "atelier-norte", message, start, settings.tariff, self._notify)
        engine = Engine(store, registry, settings, notify=self._notify)
        worker = Worker(store, registry, settings, worker_id="demo")
        with store.connect() as conn:
            clients = directory.list_clients(conn)
        source = SimulatorSource(SimulatorConfig(month=self.month, calls=self.calls, seed=self.seed), clients)

        async def new_day(day: date) -> None:
            await self._deliver(worker, store)
            await asyncio.to_thread(self._operator_tops_up, store, registry, settings, day)
            self.state.day = day
            self.on_change(self.state)

        source.on_new_day = new_day
        try:
            await source.run(Hub(engine))
            engine.close_all()
            await self._deliver(worker, store)
        finally:
            await worker.aclose()
        self._refresh(store)
        self.on_change(self.state)
        summary = {
            "calls": self.calls,
            "records": self.state.finalized,
            "by_disposition": dict(sorted(self.state.by_disposition.items())),
            "delivered": self.state.delivered,
            "dead": self.state.dead,
            "balances": dict(sorted(self.state.balances.items())),
            "topups": self.state.topups,
            "maildir": str(self.maildir),
            "database": store.url,
        }
        store.dispose()
        return summary

    async def _deliver(self, worker: Worker, store: Store) -> None:
        stats = await worker.run_once()
        self.state.delivered += stats.delivered
        self.state.retried += stats.retried
        self.state.dead += stats.dead
        await asyncio.to_thread(self._refresh, store)

    def _refresh(self, store: Store) -> None:
        with store.connect() as conn:
            for row in conn.execute(select(t.accounts)):
                self.state.balances[row.client] = int(row.balance_cents)
                self.state.interrupted[row.client] = bool(row.interrupted)

    def _operator_tops_up(self, store: Store, registry: Any, settings: Settings, day: date) -> None:
        # The operator notices interrupted clients each morning and tops them up.
        self._refresh(store)
        for client_id, interrupted in self.state.interrupted.items():
            if interrupted:
                at = datetime.combine(day, time(8, 30), tzinfo=LISBON)
                accounts.purchase(store, registry, client_id, document_for_topup(50), at, settings.tariff, self._notify)
                self.state.topups.append(f"{day.isoformat()} {client_id} +50 EUR")
        self._refresh(store)


def outbox_counts(store: Store) -> dict[str, int]:
    """Deliveries by status (for the live view)."""
    with store.connect() as conn:
        return outbox.counts(conn)


__all__ = ["UTC", "Demo", "DemoState"]
