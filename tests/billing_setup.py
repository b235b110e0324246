"""What the tests of sign-up, invoices and payments share: the seller, an applicant, a sign-up."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sample_clients import lisbon

from hub.core import signups
from hub.core.seller import BillingSettings
from hub.core.signups import SignupCreated
from hub.core.store import Store
from hub.plugins import Plugins
from hub.settings import Settings

SELLER = BillingSettings(
    name="Recado Atendimento, Lda",
    nif="509999999",
    address="Rua Augusta 100\n1100-053 Lisboa",
    iban="PT50 0002 0123 1234 5678 9015 4",
    bic="CGDIPTPL",
    email="faturas@recado.example",
)

APPLICANT: dict[str, Any] = {
    "company": "Padaria Lopes, Lda",
    "nif": "513000003",
    "contact_name": "Ana Lopes",
    "email": "ana@padaria.example",
    "phone": "912 345 678",
    "plan": "12m",
    "languages": ["pt", "en"],
    "message_option": "pt",
    "records_email": "registos@padaria.example",
    "method": "transfer",
}

#: 156,00 € + 23 % VAT: what a 12-month sign-up pays.
TWELVE_MONTHS_GROSS = 19188


def billing_settings(store: Store, **values: Any) -> Settings:
    """The hub's settings with the seller configured."""
    return Settings(database_url=store.url, billing=SELLER, **values)


def sign_up(
    store: Store,
    plugins: Plugins,
    *,
    at: datetime | None = None,
    settings: Settings | None = None,
    webhook: bool = False,
    **changes: Any,
) -> SignupCreated:
    """Sign up the sample applicant (with `changes` to the form) through the core, as the form does."""
    form = APPLICANT | changes
    request, problems = signups.check_form(form, plans=["12m", "6m"], methods=["transfer", "card"], webhook=webhook)
    assert request is not None, problems
    return signups.create_signup(
        store, plugins.registry, request, settings or billing_settings(store), at or lisbon("2026-03-02 10:00")
    )
