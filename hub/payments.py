"""The payment contract: how a plugin lets applicants pay an invoice by card.

A payment method is a hosted checkout at a payment provider (Stripe, …). The
hub asks it to `create_checkout` for one invoice and sends the applicant's
browser to the checkout's `url`. The payment is then confirmed twice, each way
enough on its own:

- when the browser comes back, the hub asks `retrieve(checkout_id)`;
- when the provider calls the hub's webhook, the hub asks `parse_webhook`,
  which checks the provider's signature before anything else.

Both end in the same idempotent "invoice paid" step, so either one may come
first, or twice. A plugin registers its kind with the `register_payment_methods`
hook; the operator configures it under ``[payments.<kind>]`` in recado.toml.

Amounts are integer cents; `invoice_number` travels through the provider (as its
client reference) so that a payment can always be matched to its invoice.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, BaseModel, ConfigDict, SecretStr

__all__ = [
    "CHECKOUT_ID",
    "Checkout",
    "CheckoutRequest",
    "InvalidWebhook",
    "PaymentConfig",
    "PaymentError",
    "PaymentEvent",
    "PaymentMethod",
    "PaymentStatus",
    "PaymentsSettings",
]


class PaymentError(Exception):
    """The provider refused or failed a request.

    The message is shown to the operator and logged, so it never contains a
    secret; `retriable` says whether the same request may succeed later (rate
    limits, provider outages, timeouts).
    """

    def __init__(self, reason: str, *, retriable: bool = False, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retriable = retriable
        self.status = status


class InvalidWebhook(PaymentError):
    """A webhook call whose signature is missing, wrong or too old, or whose body is unreadable."""


class PaymentConfig(BaseModel):
    """Base of every payment method's settings model; unknown settings are errors.

    Validation errors never repeat the input: it may be a secret.
    """

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)


@dataclass(frozen=True, kw_only=True)
class CheckoutRequest:
    """What the hub asks a provider to collect: one invoice, in full, once.

    `idempotency_key` is the same for every attempt to pay the same invoice, so
    that a double click or a retried request yields the same checkout.
    `success_url` may contain ``{CHECKOUT_ID}``, which the method replaces by
    the provider's own placeholder for the checkout id.
    """

    invoice_number: str
    amount_cents: int
    description: str
    success_url: str
    cancel_url: str
    idempotency_key: str
    customer_email: str | None = None
    currency: str = "EUR"

    def __post_init__(self) -> None:
        if isinstance(self.amount_cents, bool) or not isinstance(self.amount_cents, int) or self.amount_cents <= 0:
            raise ValueError(f"amount_cents must be a positive integer number of cents, not {self.amount_cents!r}")
        if len(self.currency) != 3 or not self.currency.isalpha():
            raise ValueError(f"currency must be a three-letter ISO code such as EUR, not {self.currency!r}")


#: Placeholder of `CheckoutRequest.success_url` for the checkout id.
CHECKOUT_ID = "{CHECKOUT_ID}"


@dataclass(frozen=True)
class Checkout:
    """A checkout the provider opened: where to send the browser, and until when it can be paid."""

    id: str
    url: str
    expires_at: datetime | None = None


@dataclass(frozen=True)
class PaymentStatus:
    """What the provider says about one checkout now.

    `reference` identifies the payment at the provider (shown on the invoice);
    `invoice_number` is the one the checkout was created for, so that the hub can
    refuse a checkout of another invoice.
    """

    paid: bool
    amount_cents: int
    reference: str
    invoice_number: str | None = None
    currency: str = "EUR"


@dataclass(frozen=True)
class PaymentEvent:
    """A verified webhook call about one checkout."""

    checkout_id: str
    invoice_number: str
    amount_cents: int
    paid: bool
    reference: str = ""
    currency: str = "EUR"


class PaymentMethod:
    """Base class of payment methods. Subclasses set `kind` and `label` and implement the three calls."""

    kind: ClassVar[str] = ""
    #: The name of the method on the sign-up form, per language (``pt``, ``en``).
    label: ClassVar[dict[str, str]] = {"pt": "Cartão", "en": "Card"}

    def __init__(self, config: PaymentConfig) -> None:
        self.config = config

    async def create_checkout(self, request: CheckoutRequest) -> Checkout:
        """Open a checkout for `request` at the provider (idempotent on `request.idempotency_key`).

        Raises `PaymentError` when the provider refuses or cannot be reached.
        """
        raise NotImplementedError

    async def retrieve(self, checkout_id: str) -> PaymentStatus:
        """The current state of checkout `checkout_id`; `PaymentError` when the provider cannot say."""
        raise NotImplementedError

    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> PaymentEvent | None:
        """Verify and read one webhook call (`headers` with lower-case names).

        Returns the event when it is about a checkout, None for events the hub
        does not need; raises `InvalidWebhook` when the signature does not hold.
        """
        raise NotImplementedError

    async def aclose(self) -> None:
        """Release connections; called when the hub is done with this method."""

    def __repr__(self) -> str:
        # Settings hold secrets: never show them.
        return f"<{type(self).__name__} kind={self.kind!r}>"


_SECRET_NAME = re.compile(r"key|secret|token|password", re.IGNORECASE)


def _hide_secrets(methods: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    # Settings may be printed or logged whole: hold what looks like a credential as SecretStr at once.
    return {
        kind: {
            name: SecretStr(value) if isinstance(value, str) and _SECRET_NAME.search(name) else value
            for name, value in settings.items()
        }
        for kind, settings in methods.items()
    }


#: ``[payments.<kind>]`` of recado.toml: each method's settings, validated by its plugin when it is built.
PaymentsSettings = Annotated[dict[str, dict[str, Any]], AfterValidator(_hide_secrets)]
