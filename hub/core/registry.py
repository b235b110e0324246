"""What the installed plugins registered: sink, source and payment method kinds, and mapping filters.

The core sees plugins only through this registry, which `hub.plugins` fills.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError


class UnknownKind(LookupError):
    """No installed plugin registers this kind; the message names the installed ones."""


@dataclass(frozen=True)
class Kind:
    """One registered kind: how to build it and how to validate its settings."""

    kind: str
    factory: Callable[..., Any]
    config_model: type[BaseModel]
    plugin: str


@dataclass
class Registry:
    """Every kind and filter the loaded plugins registered."""

    sinks: dict[str, Kind] = field(default_factory=dict)
    sources: dict[str, Kind] = field(default_factory=dict)
    filters: dict[str, Callable[..., Any]] = field(default_factory=dict)
    #: Payment methods (card providers), by kind; see `hub.payments`.
    payments: dict[str, Kind] = field(default_factory=dict)

    def sink_kind(self, kind: str) -> Kind:
        """The registration of sink `kind`, or `UnknownKind` naming the installed kinds."""
        try:
            return self.sinks[kind]
        except KeyError:
            installed = ", ".join(sorted(self.sinks)) or "none"
            raise UnknownKind(
                f"no installed plugin provides the sink kind {kind!r} (installed kinds: {installed})"
            ) from None

    def source_kind(self, kind: str) -> Kind:
        """The registration of source `kind`, or `UnknownKind` naming the installed kinds."""
        try:
            return self.sources[kind]
        except KeyError:
            installed = ", ".join(sorted(self.sources)) or "none"
            raise UnknownKind(
                f"no installed plugin provides the source kind {kind!r} (installed kinds: {installed})"
            ) from None

    def sink_config(self, kind: str, settings: Mapping[str, Any]) -> BaseModel:
        """Validate `settings` with the config model of sink `kind` (raises `ValidationError`)."""
        return self.sink_kind(kind).config_model.model_validate(dict(settings))

    def build_sink(self, kind: str, settings: Mapping[str, Any]) -> Any:
        """A new sink instance of `kind` configured with `settings`."""
        registration = self.sink_kind(kind)
        return registration.factory(registration.config_model.model_validate(dict(settings)))

    def payment_kind(self, kind: str) -> Kind:
        """The registration of payment method `kind`, or `UnknownKind` naming the installed kinds."""
        try:
            return self.payments[kind]
        except KeyError:
            installed = ", ".join(sorted(self.payments)) or "none"
            raise UnknownKind(
                f"no installed plugin provides the payment method {kind!r} (installed methods: {installed})"
            ) from None

    def build_payment_method(self, kind: str, settings: Mapping[str, Any]) -> Any:
        """A new payment method of `kind` configured with `settings` (raises `ValidationError`)."""
        registration = self.payment_kind(kind)
        return registration.factory(registration.config_model.model_validate(dict(settings)))

    def accepts_notices(self, kind: str) -> bool:
        """Whether sinks of `kind` deliver notices (service interrupted, resumed …)."""
        registration = self.sinks.get(kind)
        factory = registration.factory if registration else None
        return bool(getattr(factory, "accepts_notices", False))

    def sends_messages(self, kind: str) -> bool:
        """Whether sinks of `kind` send messages to people (SMS) instead of delivering records."""
        registration = self.sinks.get(kind)
        factory = registration.factory if registration else None
        return bool(getattr(factory, "sends_messages", False))


__all__ = ["Kind", "Registry", "UnknownKind", "ValidationError"]
