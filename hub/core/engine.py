"""The engine: telephony events in, priced records and outbox rows out.

Each event is processed in one transaction against the call's durable state
(table `calls`), so a crash between two events loses nothing and replaying
events changes nothing. Rules use the event's own time, never the wall clock.

A call goes through these states::

    offered ──answered──▶ answered ──ended──▶ ended ──wrap-up──▶ final
       │                     └──ended + wrap-up already given──────▶ final
       └──ended (never answered, after hours, refused)─────────────▶ final

An `ended` call that gets no wrap-up within `wrapup_timeout_s` of event time
becomes final with `incomplete: true`; a late wrap-up then corrects it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from hub.core import blocklist, calls, client_mail, clock, contract_state, ledger, notices, outbound_events, records
from hub.core import store as t
from hub.core.accounts import bump_month_counter, next_call_price
from hub.core.clients import Client, normalize_e164
from hub.core.hours import BusinessHours, merge
from hub.core.models import (
    CallEvent,
    Disposition,
    EventKind,
    RouteAction,
    RouteDecision,
    WrapUp,
    record_id_for,
)
from hub.core.privacy import mask_phone
from hub.core.registry import Registry
from hub.core.routing import route
from hub.core.store import Store, to_db
from hub.core.tariff import inbound_price, month_key, needs_negotiated_alert
from hub.settings import Settings

log = logging.getLogger(__name__)

OFFERED, ANSWERED, ENDED, FINAL, UNROUTED = "offered", "answered", "ended", "final", "unrouted"
OPEN_STATES = (OFFERED, ANSWERED, ENDED)

#: ``notify(hook_name, **kwargs)``: called after commit for the notification hooks.
Notifier = Callable[..., None]


class IngestError(ValueError):
    """An event or wrap-up that cannot be processed (unknown number, unknown call …)."""


@dataclass(frozen=True)
class _ClientRules:
    client: Client
    hours: BusinessHours


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat()


def _dt(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


class Engine:
    """Applies the service's rules to events; every public method is one or more transactions."""

    def __init__(
        self,
        store: Store,
        registry: Registry,
        settings: Settings | None = None,
        notify: Notifier | None = None,
    ) -> None:
        self.store = store
        self.registry = registry
        self.settings = settings or Settings()
        self.notify = notify or (lambda hook, **kwargs: None)
        self._rules: dict[tuple[str, str], _ClientRules] = {}
        self._clock: datetime | None = None

    # -- configuration -------------------------------------------------

    def _client_rules(self, conn: Connection, client_id: str) -> _ClientRules:
        row = conn.execute(select(t.clients.c.config, t.clients.c.config_hash).where(t.clients.c.id == client_id)).one()
        # The hash covers the applied file; a purchased option changes the config alone.
        key = (client_id, f"{row.config_hash}:{row.config.get('recorded_message')}")
        if key not in self._rules:
            client = Client.model_validate(row.config)
            hours = BusinessHours(merge(self.settings.hours, client.hours))
            self._rules = {k: v for k, v in self._rules.items() if k[0] != client_id}
            self._rules[key] = _ClientRules(client, hours)
        return self._rules[key]

    def _price_of_next(self, conn: Connection, client: Client, at: datetime) -> int:
        return next_call_price(conn, client, at, self.settings.tariff)

    # -- call state ----------------------------------------------------

    def _load_call(self, conn: Connection, source: str, call_id: str) -> tuple[str, dict[str, Any], int] | None:
        return calls.load(conn, source, call_id, lock=not self.store.is_sqlite)

    def _routed_call(
        self, conn: Connection, source: str, call_id: str, what: str
    ) -> tuple[str, dict[str, Any], int] | None:
        """The state of a call that reached a client; None for one to a number of no client."""
        loaded = self._load_call(conn, source, call_id)
        if loaded is None:
            raise IngestError(f"{what} for call {call_id!r}, which was never offered")
        return None if loaded[0] == UNROUTED else loaded

    def _save_call(
        self, conn: Connection, data: dict[str, Any], state: str, hold: int, due_at: datetime | None, *, new: bool
    ) -> None:
        calls.save(conn, data, state, hold, due_at, new=new)

    def _stale_due(self, at: datetime) -> datetime:
        return at + timedelta(seconds=self.settings.engine.stale_call_s)

    # -- public API ------------------------------------------------------

    def decide(self, event: CallEvent) -> RouteDecision:
        """Decide what happens to an offered call; the same call always gets the same decision.

        A call to a number that belongs to no client is refused (`client` is None).
        """
        if event.kind is not EventKind.OFFERED:
            raise IngestError(f"decide() needs an offered event, got {event.kind.value}")
        after: list[tuple[str, dict[str, Any]]] = []
        with self.store.begin() as conn:
            decision = self._offer(conn, event, after)
        self._fire(after)
        self.sweep(event.at)
        return decision

    def handle(self, event: CallEvent) -> None:
        """Process one event (events of one call must come in order)."""
        if event.kind is EventKind.OFFERED:
            decision = self.decide(event)
            if decision.client is None:
                raise IngestError(f"call {event.call_id!r}: {decision.reason}")
            return
        if self._outbound(event):
            return
        after: list[tuple[str, dict[str, Any]]] = []
        with self.store.begin() as conn:
            loaded = self._routed_call(conn, event.source, event.call_id, f"{event.kind.value} event")
            if loaded is None:
                return
            state, data, hold = loaded
            if event.kind is EventKind.ANSWERED:
                self._answered(conn, event, state, data, hold, after)
            elif event.kind is EventKind.BRIDGED:
                self._bridged(conn, event, state, data, hold)
            elif event.kind is EventKind.ENDED:
                self._ended(conn, event, state, data, hold, after)
            elif event.kind is EventKind.MESSAGE_PLAYED and state in OPEN_STATES:
                data["message_played"] = True
                self._save_call(conn, data, state, hold, self._stale_due(event.at), new=False)
        self._fire(after)
        self.sweep(event.at)

    def wrapup(self, wrapup: WrapUp) -> None:
        """Record the agent's answers; a call that has ended becomes final."""
        after: list[tuple[str, dict[str, Any]]] = []
        with self.store.begin() as conn:
            loaded = self._routed_call(conn, wrapup.source, wrapup.call_id, "wrap-up")
            if loaded is None:
                return
            state, data, hold = loaded
            rules = self._client_rules(conn, data["client"])
            self._check_answers(wrapup, rules.client)
            data["wrapup"] = wrapup.model_dump(mode="json")
            if state == FINAL:
                self._correct(conn, data)
            elif state == ENDED:
                self._finalize(conn, data, hold, Disposition.ANSWERED, after, incomplete=False)
            else:
                last = _dt(data.get("last_at")) or datetime.now(UTC)
                self._save_call(conn, data, state, hold, self._stale_due(last), new=False)
        self._fire(after)

    def sweep(self, now: datetime) -> int:
        """Close the calls that are due at event time `now`; return how many were closed."""
        if self._clock is not None and now <= self._clock:
            return 0
        with self.store.begin() as conn:
            clock.advance(conn, now)
        self._clock = now
        with self.store.connect() as conn:
            due = conn.execute(
                select(t.calls.c.source, t.calls.c.call_id)
                .where(t.calls.c.state.in_(OPEN_STATES), t.calls.c.due_at <= to_db(now))
                .order_by(t.calls.c.due_at)
            ).all()
        for source, call_id in due:
            self.close(source, call_id, now)
        return len(due)

    def close_all(self, now: datetime | None = None) -> int:
        """Close every call still open, with what is known (end of a replayed history)."""
        with self.store.connect() as conn:
            rows = conn.execute(
                select(t.calls.c.source, t.calls.c.call_id).where(t.calls.c.state.in_(OPEN_STATES))
            ).all()
        for source, call_id in rows:
            self.close(source, call_id, now)
        return len(rows)

    def close(self, source: str, call_id: str, now: datetime | None = None) -> None:
        """Make one open call final: missed if never answered, incomplete if not wrapped up."""
        after: list[tuple[str, dict[str, Any]]] = []
        with self.store.begin() as conn:
            loaded = self._load_call(conn, source, call_id)
            if loaded is None or loaded[0] not in OPEN_STATES:
                return
            state, data, hold = loaded
            if state == OFFERED:
                data.setdefault("ended_at", data.get("last_at"))
                self._finalize(conn, data, hold, self._unanswered_disposition(data), after)
            else:
                data.setdefault("ended_at", data.get("last_at"))
                self._finalize(conn, data, hold, Disposition.ANSWERED, after, incomplete=True)
        self._fire(after)

    # -- transitions ------------------------------------------------------

    def _offer(self, conn: Connection, event: CallEvent, after: list[tuple[str, dict[str, Any]]]) -> RouteDecision:
        loaded = self._load_call(conn, event.source, event.call_id)
        if loaded is not None and loaded[0] != UNROUTED:
            return RouteDecision.model_validate(loaded[1]["decision"])
        if not event.did:
            raise IngestError(f"offered event for call {event.call_id!r} has no did")
        try:
            did = normalize_e164(event.did)
        except ValueError as exc:
            raise IngestError(f"call {event.call_id!r}: {exc}") from None
        caller = event.caller
        if caller:
            try:
                caller = normalize_e164(caller)
            except ValueError:
                caller = event.caller  # withheld or odd numbers are kept as given
        client_id = conn.execute(select(t.dids.c.client).where(t.dids.c.did == did)).scalar()
        data: dict[str, Any] = {
            "source": event.source,
            "call_id": event.call_id,
            "client": client_id,
            "did": did,
            "caller": caller,
            "caller_name": event.raw.get("caller_name"),
            "offered_at": _iso(event.at),
            "last_at": _iso(event.at),
        }
        if client_id is None:
            decision = RouteDecision(
                call_id=event.call_id,
                client=None,
                action=RouteAction.REFUSE,
                reason=f"number {did} belongs to no client",
            )
            data["decision"] = decision.model_dump(mode="json")
            self._save_call(conn, data, UNROUTED, 0, None, new=loaded is None)
            log.info("call %s refused: number %s belongs to no client", event.call_id, did)
            return decision
        rules = self._client_rules(conn, client_id)
        client = rules.client
        account = ledger.lock_account(conn, client_id)
        price = self._price_of_next(conn, client, event.at)
        ended = contract_state.has_ended(account, event.at)
        decision = route(
            event.call_id,
            event.at,
            caller,
            client,
            rules.hours,
            available_cents=account.available_cents,
            price_cents=price,
            blocked=blocklist.is_blocked(conn, client_id, caller),
            contract_ended=ended,
        )
        hold = 0
        if decision.action is RouteAction.ANSWER:
            hold = price
            ledger.change_hold(conn, client_id, hold)
        elif decision.disposition is Disposition.REFUSED_NO_BALANCE and not account.interrupted and not ended:
            self._interrupt(conn, client, event.at, after)
        data["decision"] = decision.model_dump(mode="json")
        data["language"] = decision.language.value
        self._save_call(conn, data, OFFERED, hold, self._stale_due(event.at), new=loaded is None)
        log.info(
            "call %s to %s from %s: %s",
            event.call_id,
            client_id,
            mask_phone(caller),
            decision.disposition.value if decision.disposition else decision.action.value,
        )
        return decision

    def _answered(
        self,
        conn: Connection,
        event: CallEvent,
        state: str,
        data: dict[str, Any],
        hold: int,
        after: list[tuple[str, dict[str, Any]]],
    ) -> None:
        if state != OFFERED or data["decision"]["action"] != RouteAction.ANSWER.value:
            # Answered twice, or a channel answered only to play a message: nothing to count.
            return
        rules = self._client_rules(conn, data["client"])
        client = rules.client
        month = month_key(event.at)
        counter = bump_month_counter(conn, client.id, month, answered=1)
        k = counter["answered"]
        price = inbound_price(k, client.tariff.negotiated_cents, config=self.settings.tariff)
        if price > hold:
            # The hold was taken at the price of the next call; a dearer negotiated rate
            # can only be held as far as the balance allows, which never goes negative.
            account = ledger.lock_account(conn, client.id)
            extra = min(price - hold, max(account.available_cents, 0))
            ledger.change_hold(conn, client.id, extra)
            hold += extra
            price = hold
        if needs_negotiated_alert(k, client.tariff.negotiated_cents, config=self.settings.tariff):
            notices.alert_once(
                conn,
                client=client.id,
                kind="negotiated_rate_missing",
                key=f"negotiated:{client.id}:{month}",
                message=(
                    f"{client.id} passed {k - 1} answered calls in {month} and has no negotiated rate; "
                    f"calls are priced at {price} cents until one is set"
                ),
            )
        data.update(
            answered_at=_iso(event.at),
            last_at=_iso(event.at),
            agent=event.agent,
            agents=[event.agent] if event.agent else [],
            price_cents=price,
            call_number=k,
            month=month,
        )
        self._save_call(conn, data, ANSWERED, hold, self._stale_due(event.at), new=False)

    def _bridged(self, conn: Connection, event: CallEvent, state: str, data: dict[str, Any], hold: int) -> None:
        if state not in OPEN_STATES:
            return
        if event.agent and event.agent not in data.setdefault("agents", []):
            data["agents"].append(event.agent)  # a transfer to another agent
        data["last_at"] = _iso(event.at)
        self._save_call(conn, data, state, hold, self._stale_due(event.at), new=False)

    def _ended(
        self,
        conn: Connection,
        event: CallEvent,
        state: str,
        data: dict[str, Any],
        hold: int,
        after: list[tuple[str, dict[str, Any]]],
    ) -> None:
        if state not in (OFFERED, ANSWERED):
            return
        data["ended_at"] = _iso(event.at)
        data["last_at"] = _iso(event.at)
        if state == OFFERED:
            self._finalize(conn, data, hold, self._unanswered_disposition(data), after)
        elif data.get("wrapup"):
            self._finalize(conn, data, hold, Disposition.ANSWERED, after)
        else:
            due = event.at + timedelta(seconds=self.settings.engine.wrapup_timeout_s)
            self._save_call(conn, data, ENDED, hold, due, new=False)

    @staticmethod
    def _unanswered_disposition(data: dict[str, Any]) -> Disposition:
        decided = data["decision"].get("disposition")
        return Disposition(decided) if decided else Disposition.MISSED

    @staticmethod
    def _check_answers(wrapup: WrapUp, client: Client) -> None:
        known = set(client.script.field_names())
        unknown = sorted(set(wrapup.answers) - known)
        if unknown:
            raise IngestError(
                f"wrap-up for call {wrapup.call_id!r}: unknown field(s) {', '.join(unknown)} "
                f"(the script of {client.id} has: {', '.join(client.script.field_names()) or 'none'})"
            )

    # -- records ------------------------------------------------------------

    def _finalize(
        self,
        conn: Connection,
        data: dict[str, Any],
        hold: int,
        disposition: Disposition,
        after: list[tuple[str, dict[str, Any]]],
        *,
        incomplete: bool = False,
    ) -> None:
        rules = self._client_rules(conn, data["client"])
        client = rules.client
        record_id = record_id_for(data["source"], data["call_id"])
        ledger.change_hold(conn, client.id, -hold)
        if disposition is Disposition.ANSWERED and (data.get("wrapup") or {}).get("mark"):
            disposition = Disposition.SPAM
        charged = disposition is Disposition.ANSWERED or (
            disposition is Disposition.SPAM and self.settings.engine.spam_policy == "charged"
        )
        price = int(data.get("price_cents") or 0) if charged else 0
        if price:
            ledger.post(
                conn,
                client.id,
                at=_dt(data["ended_at"]) or datetime.now(UTC),
                kind="call",
                amount_cents=-price,
                ref=record_id,
                key=f"call:{record_id}",
            )
        account = ledger.lock_account(conn, client.id)
        record = records.build(data, client, disposition, price, account.balance_cents, incomplete=incomplete)
        if disposition is Disposition.ANSWERED and data.get("month"):
            bump_month_counter(conn, client.id, data["month"], talk_seconds=record.talk_seconds)
        records.store_and_queue(conn, record, sends_messages=self.registry.sends_messages)
        self._save_call(conn, data, FINAL, 0, None, new=False)
        if price:
            self._after_debit(conn, client, record.ended_at or datetime.now(UTC), account, after)
        after.append(("record_finalized", {"record": record}))

    def _correct(self, conn: Connection, data: dict[str, Any]) -> None:
        if records.correct(
            conn,
            record_id_for(data["source"], data["call_id"]),
            data["wrapup"],
            sends_messages=self.registry.sends_messages,
        ):
            self._save_call(conn, data, FINAL, 0, None, new=False)

    # -- balance --------------------------------------------------------------

    def _after_debit(
        self,
        conn: Connection,
        client: Client,
        at: datetime,
        account: ledger.Account,
        after: list[tuple[str, dict[str, Any]]],
    ) -> None:
        # The low-balance warning (email and `balance_low`) is the `balance.low_warning` job's,
        # which knows each client's own level; here only the interruption is decided.
        next_price = self._price_of_next(conn, client, at)
        over = contract_state.has_ended(account, at)  # an ended contract is not "interrupted": it stopped
        if account.available_cents < next_price and not account.interrupted and not over:
            self._interrupt(conn, client, at, after)

    def _interrupt(
        self,
        conn: Connection,
        client: Client,
        at: datetime,
        after: list[tuple[str, dict[str, Any]]],
    ) -> None:
        ledger.set_interrupted(conn, client.id, True)
        notices.send(conn, self.registry, client, "service_interrupted", at)
        client_mail.service_interrupted(conn, client, at, self.settings.tariff)
        after.append(("service_interrupted", {"client": client.id, "interrupted": True, "at": at}))

    # -- outbound contacts of campaigns -----------------------------------------

    def _outbound(self, event: CallEvent) -> bool:
        """Apply an event of a campaign contact (`hub.core.outbound_events`); False for an inbound call's."""
        if not outbound_events.concerns(self.store, event):
            return False
        try:
            record = outbound_events.apply(self.store, self.registry, self.settings, event)
        except (outbound_events.OutboundEventError, ledger.LedgerError) as exc:
            raise IngestError(str(exc)) from None
        if record is not None:
            self.notify("record_finalized", record=record)
        return True

    def _fire(self, after: list[tuple[str, dict[str, Any]]]) -> None:
        for hook, kwargs in after:
            self.notify(hook, **kwargs)


__all__ = ["Engine", "IngestError"]
