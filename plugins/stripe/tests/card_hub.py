"""The hub's web application served on 127.0.0.1 with the stripe method pointed at a fake Stripe.

Invoices come from the real sign-up code; paying one goes through the real routes, the
real plugin, the fake's real HTTP endpoints, and the real `mark_invoice_paid`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from billing_setup import billing_settings, sign_up
from fake_stripe import FakeStripe, Served
from sqlalchemy import func, select

from hub.core import did_pool, invoices, ledger
from hub.core import store as t
from hub.core.invoices import Invoice
from hub.core.store import Store
from hub.plugins import Plugins
from hub.web.app import build_context, create_app
from hub.web.context import WebContext

#: The Lisbon number the first activation takes from the pool.
FREE_DID = "+351217000777"


@dataclass
class CardHub:
    """A running hub whose card payments go to `fake`."""

    store: Store
    plugins: Plugins
    context: WebContext
    fake: FakeStripe
    url: str

    def sign_up(self, **changes: Any) -> Invoice:
        """A new sign-up that chose card; its unpaid invoice."""
        created = sign_up(self.store, self.plugins, settings=self.context.settings, method="card", **changes)
        return created.invoice

    def invoice(self, number: str) -> Invoice:
        """Invoice `number` as stored now."""
        with self.store.connect() as conn:
            found = invoices.get(conn, number)
        assert found is not None
        return found

    def signup_status(self, invoice: Invoice) -> str:
        """The state of the sign-up of `invoice` (pending, active …)."""
        with self.store.connect() as conn:
            return str(conn.execute(select(t.signups.c.status).where(t.signups.c.invoice == invoice.number)).scalar())

    def balance(self, client: str) -> int:
        """The client's balance in cents."""
        with self.store.connect() as conn:
            return ledger.lock_account(conn, client, for_update=False).balance_cents

    def outbox_rows(self) -> int:
        """Rows in the outbox (welcome emails are queued there)."""
        with self.store.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(t.outbox)).scalar_one())

    def webhook_url(self) -> str:
        """The hub's Stripe webhook endpoint."""
        return f"{self.url}/payments/stripe/webhook"


def hub_context(store: Store, fake: FakeStripe) -> WebContext:
    """The web context: the email sink (sign-ups send records by email), stripe configured for `fake`."""
    plugins = Plugins(only={"email", "stripe"})
    payments = {"stripe": {"api_key": fake.api_key, "webhook_secret": fake.webhook_secret, "api_base": fake.url}}
    settings = billing_settings(store, payments=payments)
    with store.begin() as conn:
        did_pool.add(conn, [FREE_DID], datetime.now(UTC))
    return build_context(store, plugins, settings, secure_cookies=False)


def serve(context: WebContext) -> Served:
    """The whole web application over `context`, not started yet."""
    return Served(create_app(context))
