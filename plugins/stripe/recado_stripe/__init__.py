"""Recado's ``stripe`` payment method: invoices paid by card on Stripe Checkout."""

__version__ = "0.1.0"

__all__ = ["__version__"]
