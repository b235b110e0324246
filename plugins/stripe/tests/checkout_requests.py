"""The checkout the hub asks for in the plugin's tests: invoice 2026/000123, 190.65 EUR."""

from __future__ import annotations

from hub.payments import CheckoutRequest


def invoice_checkout(**overrides: object) -> CheckoutRequest:
    """The checkout of invoice 2026/000123 (190.65 EUR), as the hub asks for it."""
    values: dict[str, object] = {
        "invoice_number": "2026/000123",
        "amount_cents": 19065,
        "description": "Recado — fatura 2026/000123",
        "customer_email": "maria@padaria.example",
        "success_url": "https://hub.example/pay/tok/done?checkout={CHECKOUT_ID}",
        "cancel_url": "https://hub.example/invoices/tok",
        "idempotency_key": "2026/000123",
    }
    values.update(overrides)
    return CheckoutRequest(**values)  # type: ignore[arg-type]
