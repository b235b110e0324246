"""The plugin contract of Recado.

Plugins are distributions that declare an entry point in the group ``recado``
pointing at a module with ``@hub.hookimpl`` functions. Registration hooks only
register factories; the core builds the objects from configuration, so a
plugin that fails in one hook cannot stop the others.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pluggy

hookspec = pluggy.HookspecMarker("recado")

#: ``register(kind, factory, config_model)`` as passed to `register_sinks` / `register_sources`.
RegisterKind = Callable[[str, Callable[..., Any], type[Any]], None]
#: ``register(name, function)`` as passed to `register_mapping_filters`.
RegisterFilter = Callable[[str, Callable[..., Any]], None]


@hookspec
def register_sinks(register: RegisterKind) -> None:
    """Register sink kinds.

    Call ``register(kind, factory, config_model)`` once per kind, where
    ``factory(config)`` returns a `hub.sinks.Sink` and ``config_model`` is the
    `hub.sinks.SinkConfig` subclass that validates a destination's ``settings``.
    """


@hookspec
def register_sources(register: RegisterKind) -> None:
    """Register telephony source kinds.

    Call ``register(kind, factory, config_model)`` once per kind, where
    ``factory(config)`` returns a `hub.sources.Source`.
    """


@hookspec
def register_payment_methods(register: RegisterKind) -> None:
    """Register payment methods (card providers) offered at sign-up and renewal.

    Call ``register(kind, factory, config_model)`` once per kind, where
    ``factory(config)`` returns a `hub.payments.PaymentMethod` and ``config_model``
    validates the method's settings (``[payments.<kind>]`` in recado.toml).
    """


@hookspec
def register_mapping_filters(register: RegisterFilter) -> None:
    """Register extra Jinja2 filters for field mappings: ``register(name, function)``."""


@hookspec
def register_routes(app: Any) -> None:
    """Mount the plugin's own pages and endpoints on the web application ``app``."""


@hookspec
def register_commands(cli: Any) -> None:
    """Add ``recado <plugin> …`` commands to the Typer application ``cli``."""


@hookspec
def record_finalized(record: Any) -> None:
    """Called after the transaction that finalized ``record`` (a `CallRecord`) committed."""


@hookspec
def balance_low(client: str, balance_cents: int, calls_left: int) -> None:
    """Called after commit when a client's balance covers fewer calls than the warning level."""


@hookspec
def service_interrupted(client: str, interrupted: bool, at: Any) -> None:
    """Called after commit when a client's service is interrupted (or resumes: ``False``)."""


@hookspec
def purchase_made(client: str, document: dict[str, Any]) -> None:
    """Called after commit when a contract, top-up or option is bought (``document`` as printed)."""
