"""The payment methods the operator configured: `[payments.<kind>]` settings built by their plugins."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from hub.core.registry import Registry
from hub.core.secrets import SecretError, resolve_references
from hub.payments import PaymentMethod
from hub.settings import Settings


class Unavailable(Exception):
    """No usable payment method; the message says what the operator has to fix, never a secret."""


def configured_kinds(registry: Registry, settings: Settings) -> list[str]:
    """Payment methods both installed and configured (``[payments.<kind>]``), in name order."""
    return [kind for kind in sorted(settings.payments) if kind in registry.payments]


def build_method(registry: Registry, settings: Settings, kind: str | None = None) -> PaymentMethod:
    """The payment method `kind` (default: the first configured) built from its settings.

    ``{"$env": NAME}`` and ``{"$file": path}`` references in the settings are read
    here (paths relative to the current directory). Raises `Unavailable` naming the
    setting at fault, never its value.
    """
    kinds = configured_kinds(registry, settings)
    if kind is None:
        if not kinds:
            installed = ", ".join(sorted(registry.payments)) or "none"
            raise Unavailable(f"no payment method is configured: add [payments.<kind>] (installed: {installed})")
        kind = kinds[0]
    elif kind not in kinds:
        raise Unavailable(f"payment method {kind!r} is not installed and configured (configured: {kinds or 'none'})")
    try:
        values, _secret_paths = resolve_references(settings.payments[kind], base_dir=Path.cwd())
        method: PaymentMethod = registry.build_payment_method(kind, values)
    except SecretError as exc:
        where = ".".join(str(part) for part in exc.path)
        raise Unavailable(f"[payments.{kind}] {where}: {exc}") from None
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise Unavailable(f"[payments.{kind}] is invalid: {problems}") from None
    return method
