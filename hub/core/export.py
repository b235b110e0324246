"""Exports of personal data: everything the hub keeps of a client, or about a caller's number.

An export is an ordered list of sections, each a JSON value or `Rows` (a list
read page by page, so a client with a million records is written without
holding them in memory, and without holding the database: each page is read in
a short connection of its own). `export_client` and `export_number` collect the
sections into one dict; `write_json` streams them into one JSON document of the
same shape. The shapes are documented in docs/privacy.md; the `format` key names
their version.

A client's export holds its configuration with every secret shown as `***`
(secrets are never decrypted here), its account, ledger, documents, invoices,
records, delivery states (never payloads), blocked numbers and campaigns. A
number's export is what a caller may ask for: their records at every client,
without the client's prices and balance or the agent's name, who received
copies, campaign contacts, blocks and opt-outs of the number.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import IO, Any

from sqlalchemy import Engine, Select, Table, bindparam, func, select, tuple_
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from hub.core import blocklist, ledger, privacy_log
from hub.core import store as t
from hub.core.clients import normalize_e164
from hub.core.engine import FINAL
from hub.core.number_search import contains
from hub.core.secrets import redact
from hub.core.store import from_db

CLIENT_FORMAT = "recado.export.client/1"
NUMBER_FORMAT = "recado.export.number/1"
#: Rows read at once from a row section.
PAGE = 500
#: Tables with a client's rows that its export leaves out, and why.
LEFT_OUT = {
    "dids": "listed in the client's configuration",
    "destinations": "listed in the client's configuration (secrets as ***)",
    "did_pool": "the DIDs are listed in the client's configuration",
    "calls": "the engine's working state; a finished call is its record",
    "alerts": "the operator's own alerts",
    "web_tokens": "credentials",
    "web_sessions": "credentials",
    "web_login_links": "credentials",
}
#: Fields of a record that a caller's export leaves out: the client's prices and balance, the agent's name.
NOT_THE_CALLERS = ("price_cents", "balance_after_cents", "agent")


@dataclass(frozen=True)
class Rows:
    """A list section read page by page in the order of `keys` (unique, never null), `count` rows long.

    `query` selects the row's columns; `shape` turns a row into the exported item.
    """

    count: int
    query: Select[Any]
    keys: tuple[ColumnElement[Any], ...]
    shape: Callable[[Any], dict[str, Any]]

    def page(self, conn: Connection, after: tuple[Any, ...] | None) -> list[Any]:
        """Up to one page of rows after the row whose keys were `after` (the first page: None)."""
        labelled = [key.label(f"_key{index}") for index, key in enumerate(self.keys)]
        query = self.query.add_columns(*labelled).order_by(*self.keys).limit(PAGE)
        if after is not None:
            bound = [bindparam(None, value, type_=key.type) for key, value in zip(self.keys, after, strict=True)]
            query = query.where(tuple_(*self.keys) > tuple_(*bound))
        return list(conn.execute(query))

    def read(self, conn: Connection) -> Iterator[dict[str, Any]]:
        """Every item, through `conn` (inside its transaction)."""
        return self._items(lambda after: self.page(conn, after))

    def stream(self, engine: Engine) -> Iterator[dict[str, Any]]:
        """Every item, each page read in a connection of its own.

        On SQLite a reading transaction holds the write lock: a long export
        must not keep the engine from writing calls for its whole duration.
        """

        def page(after: tuple[Any, ...] | None) -> list[Any]:
            with engine.connect() as conn:
                return self.page(conn, after)

        return self._items(page)

    def _items(self, page: Callable[[tuple[Any, ...] | None], list[Any]]) -> Iterator[dict[str, Any]]:
        after: tuple[Any, ...] | None = None
        width = len(self.keys)
        while True:
            rows = page(after)
            for row in rows:
                yield self.shape(row)
            if len(rows) < PAGE:
                return
            after = tuple(rows[-1][-width:])


Section = tuple[str, Any]


def _json(value: Any) -> Any:
    if isinstance(value, datetime):
        moment = from_db(value)
        return None if moment is None else moment.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else str(value)
    return value


def _plain(row: Any, drop: Sequence[str] = ()) -> dict[str, Any]:
    return {key: _json(value) for key, value in row._mapping.items() if key not in drop}


def _all(conn: Connection, query: Any, drop: Sequence[str] = ()) -> list[dict[str, Any]]:
    return [_plain(row, drop) for row in conn.execute(query)]


def _without_keys(shape: Callable[[Any], dict[str, Any]]) -> Callable[[Any], dict[str, Any]]:
    return lambda row: {key: value for key, value in shape(row).items() if not key.startswith("_key")}


def _count(conn: Connection, table: Table, *where: Any) -> int:
    return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one())


def client_sections(conn: Connection, client_id: str, *, at: datetime | None = None) -> list[Section]:
    """The sections of a client's export; `ledger.UnknownAccount` if there is no such client."""
    row = conn.execute(select(t.clients).where(t.clients.c.id == client_id)).first()
    if row is None:
        raise ledger.UnknownAccount(f"no client {client_id!r}")
    account = conn.execute(select(t.accounts).where(t.accounts.c.client == client_id)).first()
    offered = func.coalesce(t.records.c.offered_at, t.records.c.finalized_at)
    records = Rows(
        _count(conn, t.records, t.records.c.client == client_id),
        select(t.records.c.data).where(t.records.c.client == client_id),
        (offered, t.records.c.record_id),
        _data,
    )
    delivery_columns = ("id", "destination", "kind", "event_type", "record_id", "status", "attempts", "remote_id")
    deliveries = Rows(
        _count(conn, t.outbox, t.outbox.c.client == client_id),
        select(*(t.outbox.c[name] for name in delivery_columns), t.outbox.c.created_at, t.outbox.c.updated_at).where(
            t.outbox.c.client == client_id
        ),
        (t.outbox.c.id,),
        _without_keys(_plain),
    )
    contacts = Rows(
        _count(conn, t.contacts, t.contacts.c.client == client_id),
        select(t.contacts).where(t.contacts.c.client == client_id),
        (t.contacts.c.id,),
        _without_keys(_plain),
    )
    invoices = select(t.invoices.c.number).where(t.invoices.c.client == client_id)
    return [
        ("format", CLIENT_FORMAT),
        ("generated_at", (at or datetime.now(UTC)).isoformat()),
        (
            "client",
            {
                "id": row.id,
                "name": row.name,
                "created_at": _json(row.created_at),
                "updated_at": _json(row.updated_at),
                "config": redact(row.config),
            },
        ),
        ("account", None if account is None else _plain(account, ("client",))),
        ("ledger", ledger.statement(conn, client_id)),
        (
            "documents",
            _all(conn, select(t.documents).where(t.documents.c.client == client_id).order_by(t.documents.c.id)),
        ),
        (
            "invoices",
            _all(
                conn,
                select(t.invoices).where(t.invoices.c.client == client_id).order_by(t.invoices.c.number),
                ("public_token",),
            ),
        ),
        (
            "payments",
            _all(conn, select(t.payments).where(t.payments.c.invoice.in_(invoices)).order_by(t.payments.c.id)),
        ),
        (
            "signups",
            [
                {**item, "config": redact(item["config"])}
                for item in _all(conn, select(t.signups).where(t.signups.c.client == client_id))
            ],
        ),
        (
            "month_counters",
            _all(
                conn,
                select(t.month_counters)
                .where(t.month_counters.c.client == client_id)
                .order_by(t.month_counters.c.month),
                ("client",),
            ),
        ),
        ("records", records),
        ("deliveries", deliveries),
        ("blocked_numbers", blocklist.listing(conn, client_id)),
        (
            "campaigns",
            _all(conn, select(t.campaigns).where(t.campaigns.c.client == client_id).order_by(t.campaigns.c.id)),
        ),
        ("contacts", contacts),
        (
            "opt_outs",
            _all(conn, select(t.opt_outs).where(t.opt_outs.c.client == client_id).order_by(t.opt_outs.c.number)),
        ),
        (
            "privacy_log",
            list(reversed(privacy_log.entries(conn, subject=client_id))),
        ),
    ]


def _data(row: Any) -> dict[str, Any]:
    return dict(row.data)


def number_sections(conn: Connection, number: str, *, at: datetime | None = None) -> list[Section]:
    """The sections of a caller's export (`number` in any usual form); ValueError if it is no number."""
    number = normalize_e164(number)
    names = {row.id: row.name for row in conn.execute(select(t.clients.c.id, t.clients.c.name))}
    found = conn.execute(
        select(t.records.c.record_id, t.records.c.data)
        .where(contains(t.records.c.data, number))
        .order_by(t.records.c.offered_at, t.records.c.record_id)
    ).all()
    mine = [row for row in found if dict(row.data).get("caller") == number]
    records = [
        {key: value for key, value in dict(row.data).items() if key not in NOT_THE_CALLERS}
        | {"client_name": names.get(dict(row.data).get("client", ""))}
        for row in mine
    ]
    ids = [row.record_id for row in mine]
    recipients = (
        _all(
            conn,
            select(
                t.outbox.c.record_id,
                t.outbox.c.client,
                t.outbox.c.destination,
                t.destinations.c.kind,
                t.outbox.c.status,
                t.outbox.c.updated_at,
            )
            .select_from(
                t.outbox.outerjoin(
                    t.destinations,
                    (t.destinations.c.client == t.outbox.c.client) & (t.destinations.c.id == t.outbox.c.destination),
                )
            )
            .where(t.outbox.c.record_id.in_(ids))
            .order_by(t.outbox.c.id),
        )
        if ids
        else []
    )
    other_calls = []
    for row in conn.execute(
        select(t.calls.c.state, t.calls.c.data).where(contains(t.calls.c.data, number), t.calls.c.state != FINAL)
    ):
        data = dict(row.data)
        if data.get("caller") == number:
            other_calls.append(
                {
                    "client": data.get("client"),
                    "did": data.get("did"),
                    "offered_at": data.get("offered_at"),
                    "state": row.state,
                }
            )
    contacts = _all(
        conn,
        select(t.contacts).where(t.contacts.c.number == number).order_by(t.contacts.c.id),
        ("price_cents", "hold_cents", "agent"),
    )
    blocked = _all(
        conn,
        select(t.blocked_numbers.c.client, t.blocked_numbers.c.note, t.blocked_numbers.c.created_at)
        .where(t.blocked_numbers.c.number == number)
        .order_by(t.blocked_numbers.c.client),
    )
    opt_out = conn.execute(select(t.opt_outs).where(t.opt_outs.c.number == number)).first()
    return [
        ("format", NUMBER_FORMAT),
        ("generated_at", (at or datetime.now(UTC)).isoformat()),
        ("number", number),
        ("records", records),
        ("recipients", recipients),
        ("calls_without_record", other_calls),
        ("contacts", contacts),
        ("blocked_by", blocked),
        ("opt_out", None if opt_out is None else _plain(opt_out)),
    ]


def collect(conn: Connection, sections: Sequence[Section]) -> dict[str, Any]:
    """The export as one dict, its row sections read through `conn`."""
    return {name: list(value.read(conn)) if isinstance(value, Rows) else value for name, value in sections}


def export_client(conn: Connection, client_id: str) -> dict[str, Any]:
    """Everything the hub keeps of a client (secrets as `***`); `ledger.UnknownAccount` if there is none."""
    return collect(conn, client_sections(conn, client_id))


def export_number(conn: Connection, number: str) -> dict[str, Any]:
    """Everything the hub keeps about a caller's number, across clients; ValueError if it is no number."""
    return collect(conn, number_sections(conn, number))


def total_rows(sections: Sequence[Section]) -> int:
    """How many rows the row sections hold (for a progress bar)."""
    return sum(value.count for _name, value in sections if isinstance(value, Rows))


def counts(document: dict[str, Any]) -> dict[str, int]:
    """How many items each list section of a collected export holds (what the privacy log keeps)."""
    return {name: len(value) for name, value in document.items() if isinstance(value, list)}


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str, sort_keys=False)


def write_json(
    sections: Sequence[Section], handle: IO[str], engine: Engine, *, advance: Callable[[int], None] | None = None
) -> dict[str, int]:
    """Write the export as one JSON document, a list's items one per line; return the list sizes.

    Row sections are read from `engine` page by page, each page in a short
    connection of its own: call it with no transaction of the caller open (on
    SQLite that one would hold the lock the pages wait for). `advance(n)` is
    told after every row of a row section.
    """
    written: dict[str, int] = {}
    handle.write("{")
    for index, (name, value) in enumerate(sections):
        handle.write(("," if index else "") + f"\n  {_dumps(name)}: ")
        if not isinstance(value, Rows | list):
            handle.write(_dumps(value))
            continue
        items: Iterator[Any] = value.stream(engine) if isinstance(value, Rows) else iter(value)
        count = 0
        handle.write("[")
        for item in items:
            handle.write(("," if count else "") + "\n    " + _dumps(item))
            count += 1
            if advance is not None and isinstance(value, Rows):
                advance(1)
        handle.write("\n  ]" if count else "]")
        written[name] = count
    handle.write("\n}\n")
    return written


def log(conn: Connection, *, at: datetime, subject: str, actor: str, kind: str, written: dict[str, int]) -> int:
    """Write the privacy log entry of an export that was produced (inside the caller's transaction)."""
    return privacy_log.write(
        conn, at=at, action="export", subject=subject, actor=actor, details={"of": kind, "counts": written}
    )
