"""The ``stripe`` payment method: Stripe Checkout Sessions over Stripe's REST API (httpx).

One invoice is one Checkout Session in ``payment`` mode with one line: the
invoice's gross amount. The invoice number travels as the session's
``client_reference_id`` and ``metadata[invoice]``, which is how the return page
and the webhook find the invoice again.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import quote

import httpx

from hub.payments import (
    CHECKOUT_ID,
    Checkout,
    CheckoutRequest,
    InvalidWebhook,
    PaymentError,
    PaymentEvent,
    PaymentMethod,
    PaymentStatus,
)
from recado_stripe import __version__, errors, signature
from recado_stripe.config import StripeConfig

#: Events that may mean "paid": completed (cards) and the later success of delayed methods.
PAID_EVENTS = frozenset({"checkout.session.completed", "checkout.session.async_payment_succeeded"})
#: Stripe's placeholder in success_url, replaced by the session id when the browser returns.
SESSION_PLACEHOLDER = "{CHECKOUT_SESSION_ID}"
_SESSION_ID = re.compile(r"cs_[A-Za-z0-9_]{1,250}")


def _invoice_of(session: Mapping[str, Any]) -> str | None:
    metadata = session.get("metadata")
    invoice = metadata.get("invoice") if isinstance(metadata, Mapping) else None
    return str(invoice or session.get("client_reference_id") or "") or None


def _reference_of(session: Mapping[str, Any]) -> str:
    intent = session.get("payment_intent")
    if isinstance(intent, Mapping):
        intent = intent.get("id")
    return str(intent or session.get("id") or "")


def _amount_of(session: Mapping[str, Any]) -> int:
    amount = session.get("amount_total")
    return amount if isinstance(amount, int) and not isinstance(amount, bool) else 0


class StripePayments(PaymentMethod):
    """Card payments on Stripe Checkout."""

    kind: ClassVar[str] = "stripe"
    label: ClassVar[dict[str, str]] = {"pt": "Cartão", "en": "Card"}
    config: StripeConfig

    def __init__(self, config: StripeConfig, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        super().__init__(config)
        self._client = httpx.AsyncClient(
            base_url=config.api_base,
            timeout=config.timeout_s,
            transport=transport,
            headers={
                "Authorization": f"Bearer {config.api_key.get_secret_value()}",
                "User-Agent": f"recado-stripe/{__version__}",
            },
        )

    def _secrets(self) -> list[str]:
        values = [self.config.api_key.get_secret_value()]
        if self.config.webhook_secret is not None:
            values.append(self.config.webhook_secret.get_secret_value())
        return values

    async def _call(self, method: str, path: str, *, data: dict[str, str] | None = None, key: str = "") -> Any:
        headers = {"Idempotency-Key": key} if key else {}
        try:
            response = await self._client.request(method, path, data=data, headers=headers)
        except httpx.TransportError as exc:
            raise errors.from_transport(exc) from None
        if response.is_error:
            raise errors.from_response(response, self._secrets())
        try:
            return response.json()
        except ValueError:
            raise PaymentError(f"Stripe answered {path} with something that is not JSON", retriable=True) from None

    def session_params(self, request: CheckoutRequest) -> dict[str, str]:
        """The form fields of ``POST /v1/checkout/sessions`` for `request`."""
        if request.currency.lower() != self.config.currency:
            raise PaymentError(
                f"the stripe method is configured for {self.config.currency.upper()}, not {request.currency}"
            )
        params = {
            "mode": "payment",
            "line_items[0][price_data][currency]": self.config.currency,
            "line_items[0][price_data][unit_amount]": str(request.amount_cents),
            "line_items[0][price_data][product_data][name]": request.description,
            "line_items[0][quantity]": "1",
            "client_reference_id": request.invoice_number,
            "metadata[invoice]": request.invoice_number,
            "success_url": request.success_url.replace(CHECKOUT_ID, SESSION_PLACEHOLDER),
            "cancel_url": request.cancel_url,
        }
        if request.customer_email:
            params["customer_email"] = request.customer_email
        for index, kind in enumerate(self.config.payment_method_types):
            params[f"payment_method_types[{index}]"] = kind
        return params

    async def create_checkout(self, request: CheckoutRequest) -> Checkout:
        """Create (or, with the same idempotency key and parameters, get again) the invoice's Checkout Session."""
        session = await self._call(
            "POST", "/v1/checkout/sessions", data=self.session_params(request), key=request.idempotency_key
        )
        if not isinstance(session, dict) or not session.get("id") or not session.get("url"):
            raise PaymentError("Stripe answered the new Checkout Session without an id or url")
        expires = session.get("expires_at")
        expires_at = datetime.fromtimestamp(expires, UTC) if isinstance(expires, int) else None
        return Checkout(id=str(session["id"]), url=str(session["url"]), expires_at=expires_at)

    async def retrieve(self, checkout_id: str) -> PaymentStatus:
        """Whether Checkout Session `checkout_id` is paid (``payment_status == "paid"``), and how much."""
        if not _SESSION_ID.fullmatch(checkout_id):
            raise PaymentError(f"{checkout_id[:40]!r} is not a Stripe Checkout Session id (cs_…)", status=400)
        session = await self._call("GET", f"/v1/checkout/sessions/{quote(checkout_id)}")
        if not isinstance(session, dict):
            raise PaymentError("Stripe answered the Checkout Session with something that is not an object")
        return PaymentStatus(
            paid=session.get("payment_status") == "paid",
            amount_cents=_amount_of(session),
            reference=_reference_of(session),
            invoice_number=_invoice_of(session),
            currency=str(session.get("currency") or self.config.currency).upper(),
        )

    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> PaymentEvent | None:
        """Verify ``Stripe-Signature`` and read a ``checkout.session.*`` paid event (None for any other event)."""
        if self.config.webhook_secret is None:
            raise InvalidWebhook("webhooks cannot be verified: set webhook_secret in [payments.stripe]")
        signature.verify(self.config.webhook_secret.get_secret_value(), body, headers.get(signature.HEADER))
        try:
            event = json.loads(body)
        except ValueError:
            raise InvalidWebhook("the webhook body is not JSON") from None
        if not isinstance(event, dict) or event.get("type") not in PAID_EVENTS:
            return None
        data = event.get("data")
        session = data.get("object") if isinstance(data, dict) else None
        if not isinstance(session, dict) or session.get("object") != "checkout.session":
            return None
        invoice = _invoice_of(session)
        if invoice is None:
            return None  # a session of the same Stripe account made by something other than Recado
        return PaymentEvent(
            checkout_id=str(session.get("id") or ""),
            invoice_number=invoice,
            amount_cents=_amount_of(session),
            paid=session.get("payment_status") == "paid",
            reference=_reference_of(session),
            currency=str(session.get("currency") or self.config.currency).upper(),
        )

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()
