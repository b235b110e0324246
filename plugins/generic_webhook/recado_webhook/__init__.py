"""Recado's ``webhook`` sink: records delivered as Standard Webhooks signed JSON events."""

__version__ = "0.1.0"

__all__ = ["__version__"]
