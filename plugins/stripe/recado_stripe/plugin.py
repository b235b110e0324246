"""Entry point of the ``recado-stripe`` distribution: the hooks it implements."""

from __future__ import annotations

from hub import hookimpl
from hub.hookspecs import RegisterKind
from recado_stripe.config import StripeConfig
from recado_stripe.method import StripePayments


@hookimpl
def register_payment_methods(register: RegisterKind) -> None:
    """Register the ``stripe`` payment method with its settings model."""
    register(StripePayments.kind, StripePayments, StripeConfig)
