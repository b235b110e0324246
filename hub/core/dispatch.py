"""Turning an outbox item into what a sink receives: the destination's sink and the `Delivery`.

Workers use it for every delivery; `recado destinations test|preview` use it
to show or send what a record would become, through the same code.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from hub.core import ledger
from hub.core import store as t
from hub.core.accounts import month_counter
from hub.core.clients import Client, DeliveryPolicy
from hub.core.clock import now_for_views
from hub.core.mapping import Mapper, mapping_context
from hub.core.models import CallRecord, Delivery
from hub.core.notices import CONTACT, CONTACT_SINK_KIND
from hub.core.registry import Registry
from hub.core.secrets import SecretBox
from hub.core.store import Store
from hub.core.tariff import month_key
from hub.sinks import Sink


@dataclass(frozen=True)
class Destination:
    """A destination ready to deliver: its client, mapping and configured sink."""

    client: Client
    id: str
    kind: str
    mapping: dict[str, str]
    sink: Sink
    policy: DeliveryPolicy | None = None


@dataclass(frozen=True)
class Item:
    """What is to be delivered: a record or a notice, and how many times it was tried."""

    delivery_id: int
    idempotency_key: str
    kind: str = "record"
    event_type: str = "call.record.created"
    record_id: str | None = None
    payload: dict[str, Any] | None = None
    attempts: int = 0
    test: bool = False


class Dispatcher:
    """Builds sinks (cached per destination settings) and deliveries."""

    def __init__(self, store: Store, registry: Registry, box: SecretBox) -> None:
        self.store = store
        self.registry = registry
        self.box = box
        self.mapper = Mapper(registry.filters)
        self.sinks: dict[tuple[str, str, str], Sink] = {}

    def destination(self, client_id: str, destination_id: str) -> Destination:
        """The destination with its sink; `LookupError` if it is not configured.

        `CONTACT` is the client's own mailbox (`contact_email`), reached through the
        `email` sink and the operator's relay, for mail to the client rather than records.
        """
        with self.store.connect() as conn:
            client_row = conn.execute(select(t.clients.c.config).where(t.clients.c.id == client_id)).first()
            row = conn.execute(
                select(t.destinations).where(
                    t.destinations.c.client == client_id, t.destinations.c.id == destination_id
                )
            ).first()
        if client_row is None:
            raise LookupError(f"no client {client_id!r}")
        client = Client.model_validate(client_row.config)
        if destination_id == CONTACT:
            if not client.contact_email:
                raise LookupError(f"client {client_id!r} has no contact_email to write to")
            kind, settings, mapping = CONTACT_SINK_KIND, {"to": [client.contact_email]}, {}
        elif row is None:
            raise LookupError(f"client {client_id!r} has no destination {destination_id!r}")
        else:
            kind, settings, mapping = row.kind, self.box.open(row.settings), dict(row.mapping or {})
        digest = hashlib.sha256(json.dumps([kind, settings], sort_keys=True, default=str).encode()).hexdigest()
        cache_key = (client_id, destination_id, digest)
        if cache_key not in self.sinks:
            self.sinks[cache_key] = self.registry.build_sink(kind, settings)
        configured = next((d for d in client.destinations if d.id == destination_id), None)
        return Destination(
            client=client,
            id=destination_id,
            kind=kind,
            mapping=mapping,
            sink=self.sinks[cache_key],
            policy=configured.policy if configured else None,
        )

    def delivery(self, destination: Destination, item: Item, record: CallRecord | None = None) -> Delivery:
        """The `Delivery` of `item` for `destination`, with the client's account as it is now."""
        client = destination.client
        with self.store.connect() as conn:
            account = account_views(conn, client.id)
            if record is None and item.record_id is not None:
                data = conn.execute(
                    select(t.records.c.data).where(t.records.c.record_id == item.record_id)
                ).scalar_one()
                record = CallRecord.model_validate(data)
        client_view = client_view_of(client)
        mapped: dict[str, Any] = {}
        if record is not None and destination.mapping:
            context = mapping_context(record, client.script.field_names(), client_view, account.mapping)
            mapped = self.mapper.render(destination.mapping, context)
        return Delivery(
            delivery_id=item.delivery_id,
            idempotency_key=item.idempotency_key,
            kind="notice" if item.kind == "notice" else "record",
            event_type=item.event_type,
            client=client_view,
            destination_id=destination.id,
            record=record,
            notice=item.payload if item.kind == "notice" else None,
            mapped=mapped,
            account=account.delivery,
            attempt=item.attempts + 1,
            test=item.test,
        )

    async def aclose(self) -> None:
        """Close every sink built so far."""
        for sink in self.sinks.values():
            try:
                await sink.aclose()
            except Exception:  # closing is best effort: the process is stopping anyway
                continue
        self.sinks.clear()


@dataclass(frozen=True)
class AccountViews:
    """A client's account now: as a `Delivery` carries it, and as mappings see it (`account.*`)."""

    delivery: dict[str, Any]
    mapping: dict[str, Any]


def account_views(conn: Connection, client_id: str) -> AccountViews:
    """The balance and this month's counts of `client_id`, for deliveries and mappings."""
    account = ledger.lock_account(conn, client_id, for_update=False)
    month = month_counter(conn, client_id, month_key(now_for_views(conn)))
    return AccountViews(
        delivery={
            "balance_cents": account.balance_cents,
            "held_cents": account.held_cents,
            "month": {"answered": month["answered"], "outbound": month["outbound"]},
        },
        mapping={
            "balance_cents": account.balance_cents,
            "held_cents": account.held_cents,
            "calls_this_month": month["answered"],
            "outbound_this_month": month["outbound"],
        },
    )


def client_view_of(client: Client) -> dict[str, Any]:
    """What sinks see of a client: identity and script (labels for rendering answers)."""
    return {
        "id": client.id,
        "name": client.name,
        "nif": client.nif,
        "dids": client.dids,
        "languages": [lang.value for lang in client.languages],
        "category": client.script.category.value,
        "script": client.script.model_dump(mode="json"),
    }
