"""The database: SQLAlchemy Core tables, one schema for SQLite and PostgreSQL.

SQLite (a file in WAL mode) is the embedded default; PostgreSQL is used when
several workers share the work. The schema is created and upgraded by the
Alembic migrations in `hub/migrations`; `metadata` here is the current schema.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Engine,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    false,
    make_url,
)
from sqlalchemy.engine import Connection

if TYPE_CHECKING:
    from hub.core.secrets import SecretBox

metadata = MetaData()
TS = DateTime(timezone=True)
ID = BigInteger().with_variant(Integer(), "sqlite")

clients = Table(
    "clients",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", Text, nullable=False),
    Column("config", JSON, nullable=False),
    Column("config_hash", String(64), nullable=False),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
)

dids = Table(
    "dids",
    metadata,
    Column("did", String(32), primary_key=True),
    Column("client", String(64), ForeignKey("clients.id"), nullable=False),
)

destinations = Table(
    "destinations",
    metadata,
    Column("client", String(64), ForeignKey("clients.id"), primary_key=True),
    Column("id", String(64), primary_key=True),
    Column("kind", String(64), nullable=False),
    Column("settings", JSON, nullable=False),
    Column("mapping", JSON, nullable=False),
    Column("filter", JSON, nullable=True),
    Column("enabled", Boolean, nullable=False),
    Column("paused_until", TS, nullable=True),
    Column("paused_reason", Text, nullable=True),
)

accounts = Table(
    "accounts",
    metadata,
    Column("client", String(64), ForeignKey("clients.id"), primary_key=True),
    Column("balance_cents", BigInteger, nullable=False),
    Column("held_cents", BigInteger, nullable=False),
    Column("interrupted", Boolean, nullable=False),
    Column("contract_ends_at", TS, nullable=True),
    Column("updated_at", TS, nullable=False),
    # Contract lifecycle (migration 0004_lifecycle): active | pending (ended, waiting for the
    # calls in progress before the balance is forfeited) | ended; see `hub.core.contract_state`.
    Column("contract_state", String(16), nullable=False, default="active", server_default="active"),
    # Whether the client was warned of the current low-balance dip (re-armed when it is over).
    Column("low_balance_warned", Boolean, nullable=False, default=False, server_default=false()),
)

ledger = Table(
    "ledger",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("client", String(64), ForeignKey("clients.id"), nullable=False),
    Column("at", TS, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("amount_cents", BigInteger, nullable=False),
    Column("balance_after_cents", BigInteger, nullable=False),
    Column("ref", Text, nullable=True),
    Column("idempotency_key", String(128), nullable=False, unique=True),
)
Index("ix_ledger_client_id", ledger.c.client, ledger.c.id)

documents = Table(
    "documents",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("client", String(64), ForeignKey("clients.id"), nullable=False),
    Column("at", TS, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("body", JSON, nullable=False),
)

month_counters = Table(
    "month_counters",
    metadata,
    Column("client", String(64), ForeignKey("clients.id"), primary_key=True),
    Column("month", String(7), primary_key=True),
    Column("answered", Integer, nullable=False),
    Column("outbound", Integer, nullable=False),
    Column("talk_seconds", BigInteger, nullable=False),
)

calls = Table(
    "calls",
    metadata,
    Column("source", String(64), primary_key=True),
    Column("call_id", String(200), primary_key=True),
    Column("record_id", String(64), nullable=False),
    Column("client", String(64), nullable=True),
    Column("state", String(16), nullable=False),
    Column("data", JSON, nullable=False),
    Column("hold_cents", BigInteger, nullable=False),
    # When the engine must close the call if nothing else happens (event time).
    Column("due_at", TS, nullable=True),
    Column("updated_at", TS, nullable=False),
)
Index("ix_calls_due", calls.c.due_at)

records = Table(
    "records",
    metadata,
    Column("record_id", String(64), primary_key=True),
    Column("client", String(64), ForeignKey("clients.id"), nullable=False),
    Column("disposition", String(32), nullable=False),
    Column("offered_at", TS, nullable=True),
    Column("finalized_at", TS, nullable=False),
    Column("data", JSON, nullable=False),
)
Index("ix_records_client_offered", records.c.client, records.c.offered_at)

outbox = Table(
    "outbox",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("client", String(64), ForeignKey("clients.id"), nullable=False),
    Column("destination", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("event_type", String(64), nullable=False),
    Column("idempotency_key", String(128), nullable=False),
    Column("record_id", String(64), nullable=True),
    Column("payload", JSON, nullable=True),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", TS, nullable=False),
    Column("lease_owner", String(64), nullable=True),
    Column("lease_until", TS, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("remote_id", Text, nullable=True),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
    UniqueConstraint("client", "destination", "idempotency_key", "event_type", name="uq_outbox_item"),
)
Index("ix_outbox_due", outbox.c.status, outbox.c.next_attempt_at)

delivery_attempts = Table(
    "delivery_attempts",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("outbox_id", ID, ForeignKey("outbox.id"), nullable=False),
    Column("at", TS, nullable=False),
    Column("worker", String(64), nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("detail", Text, nullable=True),
)
Index("ix_attempts_outbox", delivery_attempts.c.outbox_id)

alerts = Table(
    "alerts",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("at", TS, nullable=False),
    Column("client", String(64), nullable=True),
    Column("kind", String(64), nullable=False),
    Column("message", Text, nullable=False),
    Column("key", String(200), nullable=False, unique=True),
)

engine_state = Table(
    "engine_state",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", JSON, nullable=False),
)

# -- web access (migration 0002) ---------------------------------------------------

web_tokens = Table(
    "web_tokens",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("client", String(64), ForeignKey("clients.id"), nullable=True),
    Column("agent", String(64), nullable=True),
    # Only the SHA-256 of the token is kept: a stolen database gives no usable token.
    Column("secret_hash", String(64), nullable=False, unique=True),
    Column("label", Text, nullable=True),
    Column("created_at", TS, nullable=False),
    Column("revoked_at", TS, nullable=True),
)

web_sessions = Table(
    "web_sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("token_id", String(32), ForeignKey("web_tokens.id"), nullable=False),
    Column("csrf", String(64), nullable=False),
    Column("created_at", TS, nullable=False),
    Column("expires_at", TS, nullable=False),
)

web_login_links = Table(
    "web_login_links",
    metadata,
    Column("code_hash", String(64), primary_key=True),
    Column("token_id", String(32), ForeignKey("web_tokens.id"), nullable=False),
    Column("created_at", TS, nullable=False),
    Column("expires_at", TS, nullable=False),
    Column("used_at", TS, nullable=True),
)

blocked_numbers = Table(
    "blocked_numbers",
    metadata,
    Column("client", String(64), ForeignKey("clients.id"), primary_key=True),
    Column("number", String(32), primary_key=True),
    Column("note", Text, nullable=True),
    Column("created_at", TS, nullable=False),
)

# -- data protection (migration 0004_privacy) ----------------------------------------

privacy_log = Table(
    "privacy_log",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("at", TS, nullable=False),
    # purge | export | erase
    Column("action", String(16), nullable=False),
    # A client id, or a caller's number masked: the log itself must hold no number in clear.
    Column("subject", String(200), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("details", JSON, nullable=False),
)
# Retention, export and erasure find a record's deliveries and call state by record id.
Index("ix_outbox_record", outbox.c.record_id)
Index("ix_calls_record", calls.c.record_id)

# -- outbound campaigns (migration 0004_campaigns) -------------------------------------

campaigns = Table(
    "campaigns",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("client", String(64), ForeignKey("clients.id"), nullable=False),
    Column("name", Text, nullable=False),
    # agent (an agent calls and records the answer) | message (a recorded message is played)
    Column("mode", String(16), nullable=False),
    Column("templates", JSON, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("created_at", TS, nullable=False),
    # active | cancelled
    Column("status", String(16), nullable=False),
)
Index("ix_campaigns_client", campaigns.c.client, campaigns.c.id)

contacts = Table(
    "contacts",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("campaign", ID, ForeignKey("campaigns.id"), nullable=False),
    Column("client", String(64), ForeignKey("clients.id"), nullable=False),
    Column("line", Integer, nullable=False),
    Column("name", Text, nullable=False),
    Column("number", String(32), nullable=False),
    Column("appointment_at", TS, nullable=False),
    Column("language", String(8), nullable=False),
    Column("channel", String(8), nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("source", String(64), nullable=False),
    Column("call_id", String(200), nullable=True),
    Column("record_id", String(64), nullable=True),
    Column("agent", String(64), nullable=True),
    Column("outcome", String(32), nullable=True),
    Column("price_cents", BigInteger, nullable=False),
    # The price held while an agent has the contact, as an admitted call holds it.
    Column("hold_cents", BigInteger, nullable=False),
    Column("message", Text, nullable=True),
    Column("notes", Text, nullable=True),
    Column("started_at", TS, nullable=True),
    Column("answered_at", TS, nullable=True),
    Column("played_at", TS, nullable=True),
    Column("ended_at", TS, nullable=True),
    Column("due_at", TS, nullable=True),
    Column("updated_at", TS, nullable=False),
)
Index("ix_contacts_due", contacts.c.status, contacts.c.due_at)
Index("ix_contacts_campaign", contacts.c.campaign, contacts.c.id)
Index("ix_contacts_number", contacts.c.number)

opt_outs = Table(
    "opt_outs",
    metadata,
    Column("number", String(32), primary_key=True),
    # None: no client contacts this number again.
    Column("client", String(64), ForeignKey("clients.id"), nullable=True),
    Column("reason", Text, nullable=True),
    Column("created_at", TS, nullable=False),
)


# -- sign-up, invoices and payments (migration 0004_billing) ---------------------------

did_pool = Table(
    "did_pool",
    metadata,
    Column("did", String(32), primary_key=True),
    # free | assigned | reserved (kept aside by the operator, never handed out)
    Column("status", String(16), nullable=False),
    Column("client", String(64), nullable=True),
    Column("added_at", TS, nullable=False),
    Column("assigned_at", TS, nullable=True),
)
Index("ix_did_pool_status", did_pool.c.status, did_pool.c.did)

invoice_counters = Table(
    "invoice_counters",
    metadata,
    Column("year", Integer, primary_key=True, autoincrement=False),
    Column("last", Integer, nullable=False),
)

invoices = Table(
    "invoices",
    metadata,
    Column("number", String(16), primary_key=True),
    Column("year", Integer, nullable=False),
    Column("seq", Integer, nullable=False),
    # signup | renewal
    Column("kind", String(16), nullable=False),
    # The client it is for; a sign-up's client exists in `clients` only once activated.
    Column("client", String(64), nullable=False),
    Column("plan", String(16), nullable=False),
    Column("issued_at", TS, nullable=False),
    Column("buyer", JSON, nullable=False),
    Column("seller", JSON, nullable=False),
    Column("lines", JSON, nullable=False),
    Column("net_cents", BigInteger, nullable=False),
    Column("vat_cents", BigInteger, nullable=False),
    Column("gross_cents", BigInteger, nullable=False),
    # issued | paid | cancelled
    Column("status", String(16), nullable=False),
    Column("payment_reference", String(32), nullable=False, unique=True),
    Column("public_token", String(64), nullable=False, unique=True),
    Column("method", String(32), nullable=False),
    Column("paid_at", TS, nullable=True),
    Column("paid_cents", BigInteger, nullable=True),
    Column("paid_method", String(32), nullable=True),
    Column("paid_reference", Text, nullable=True),
    # When the contract of a paid invoice was bought (activation or renewal done).
    Column("fulfilled_at", TS, nullable=True),
    UniqueConstraint("year", "seq", name="uq_invoices_year_seq"),
)
Index("ix_invoices_client", invoices.c.client)

signups = Table(
    "signups",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("client", String(64), nullable=False, unique=True),
    Column("invoice", String(16), ForeignKey("invoices.number"), nullable=False),
    # pending | waiting_for_did | active | failed | cancelled
    Column("status", String(24), nullable=False),
    # The client document without a DID yet (secrets sealed), applied at activation.
    Column("config", JSON, nullable=False),
    Column("contact_name", Text, nullable=False),
    Column("phone", String(32), nullable=False),
    Column("language", String(2), nullable=False),
    Column("message_option", String(8), nullable=False),
    Column("did", String(32), nullable=True),
    Column("problem", Text, nullable=True),
    Column("created_at", TS, nullable=False),
    Column("activated_at", TS, nullable=True),
)

payments = Table(
    "payments",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    # The bank's id of the statement entry, or a digest of the line: importing twice adds nothing.
    Column("entry_key", String(128), nullable=False, unique=True),
    Column("source", String(16), nullable=False),
    Column("file", Text, nullable=True),
    Column("booked_on", String(10), nullable=True),
    Column("amount_cents", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("payer", Text, nullable=True),
    Column("remittance", Text, nullable=True),
    Column("reference", String(32), nullable=True),
    Column("invoice", String(16), nullable=True),
    # pending | matched | unmatched | ignored
    Column("status", String(16), nullable=False),
    Column("reason", Text, nullable=True),
    Column("imported_at", TS, nullable=False),
)
Index("ix_payments_status", payments.c.status)


DEFAULT_URL = "sqlite:///recado.db"


def normalize_url(url: str) -> str:
    """Accept `postgresql://` and `postgres://` as PostgreSQL through psycopg 3."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _sqlite_pragmas(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's BEGIN below be the only transaction control.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # Take the write lock up front: SQLite cannot upgrade a read lock
        # without risking "database is locked" under concurrent writers.
        connection.exec_driver_sql("BEGIN IMMEDIATE")


class Store:
    """A database connection pool plus the schema version it was opened at."""

    def __init__(self, url: str = DEFAULT_URL, *, migrate: bool = True) -> None:
        self.url = normalize_url(url)
        parsed = make_url(self.url)
        self.dialect = parsed.get_backend_name()
        if self.dialect == "sqlite":
            database = parsed.database or ""
            if database and database != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            self.engine = create_engine(self.url, connect_args={"check_same_thread": False})
            _sqlite_pragmas(self.engine)
        else:
            self.engine = create_engine(self.url, pool_pre_ping=True, pool_size=5, max_overflow=5)
        if migrate:
            self.migrate()

    @property
    def is_sqlite(self) -> bool:
        """Whether this is the embedded SQLite store (a single writer)."""
        return self.dialect == "sqlite"

    def key_file(self) -> Path:
        """Where the secret key lives when `RECADO_SECRET_KEY` is not set.

        `RECADO_SECRET_KEY_FILE` if set, else beside an SQLite database.
        """
        configured = os.environ.get("RECADO_SECRET_KEY_FILE", "").strip()
        if configured:
            return Path(configured).expanduser().resolve()
        parsed = make_url(self.url)
        if self.is_sqlite and parsed.database and parsed.database != ":memory:":
            return Path(parsed.database).resolve().parent / "recado.key"
        return Path("recado.key").resolve()

    def secret_box(self) -> SecretBox:
        """The keys that encrypt this database's secrets.

        A key is generated beside an SQLite file on first use; a shared database
        (PostgreSQL) needs the key given, so that every process has the same one.
        """
        from hub.core.secrets import SecretBox

        return SecretBox.from_environment(self.key_file(), create=self.is_sqlite)

    def migrate(self) -> None:
        """Bring the schema to the newest migration."""
        from hub.core.migrate import upgrade

        upgrade(self.engine)

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """One transaction: committed when the block ends, rolled back on error."""
        with self.engine.begin() as connection:
            yield connection

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        """A connection for reads."""
        with self.engine.connect() as connection:
            yield connection

    def lock_for_update(self) -> bool:
        """Whether `SELECT … FOR UPDATE` means anything here (not on SQLite)."""
        return not self.is_sqlite

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


def to_db(moment: datetime | None) -> datetime | None:
    """Times are stored in UTC (SQLite keeps no offset)."""
    return None if moment is None else moment.astimezone(UTC)


def from_db(moment: datetime | None) -> datetime | None:
    """A stored time, timezone-aware (SQLite returns it naive, in UTC)."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
