"""The plugin manager: finds plugins by entry point, isolates their failures.

Plugins are distributions with an entry point in the group ``recado``. A plugin
that fails to import, or raises in a hook, is reported with its name and the
error and skipped; it never takes the hub down. ``RECADO_PLUGINS=email,webhook``
limits which installed plugins load.
"""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from importlib.metadata import EntryPoint, entry_points
from typing import Any

import pluggy

from hub import hookspecs
from hub.core.registry import Kind, Registry

log = logging.getLogger(__name__)

GROUP = "recado"
#: Modules of the core that implement hooks like any plugin would.
BUILTINS = {"builtin": "hub.demo.plugin"}


@dataclass
class PluginInfo:
    """What `recado plugins` shows about one plugin."""

    name: str
    version: str
    module: str
    hooks: list[str] = field(default_factory=list)
    sinks: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    filters: list[str] = field(default_factory=list)
    payments: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "name": self.name,
            "version": self.version,
            "module": self.module,
            "hooks": self.hooks,
            "kinds": {
                "sinks": self.sinks,
                "sources": self.sources,
                "filters": self.filters,
                "payments": self.payments,
            },
            "error": "; ".join(self.errors) or None,
        }


class Plugins:
    """The loaded plugins, their registrations and their failures."""

    def __init__(self, only: set[str] | None = None) -> None:
        self.pm = pluggy.PluginManager(GROUP)
        self.pm.add_hookspecs(hookspecs)
        self.infos: dict[str, PluginInfo] = {}
        if only is None:
            only = _only_from_environment()
        self._load(only)
        self.registry = self._collect()

    def _load(self, only: set[str] | None) -> None:
        for name, module_name in BUILTINS.items():
            self._register(name, module_name, "builtin", partial(importlib.import_module, module_name))
        for entry_point in sorted(entry_points(group=GROUP), key=lambda ep: ep.name):
            if only is not None and entry_point.name not in only:
                continue
            version = entry_point.dist.version if entry_point.dist else "unknown"
            self._register(entry_point.name, entry_point.value, version, _loader(entry_point))

    def _register(self, name: str, module_name: str, version: str, load: Callable[[], Any]) -> None:
        info = PluginInfo(name=name, version=version, module=module_name)
        self.infos[name] = info
        try:
            module = load()
            self.pm.register(module, name=name)
        except Exception as exc:  # a broken plugin is reported, never fatal
            info.errors.append(f"cannot load: {type(exc).__name__}: {exc}")
            log.warning("plugin %s failed to load: %s: %s", name, type(exc).__name__, exc)
            return
        info.hooks = sorted(caller.name for caller in self.pm.get_hookcallers(module) or [] if caller.name)

    def _collect(self) -> Registry:
        registry = Registry()
        self._call_each("register_sinks", registry.sinks, "sinks")
        self._call_each("register_sources", registry.sources, "sources")
        self._call_each("register_payment_methods", registry.payments, "payments")
        for impl in self.pm.hook.register_mapping_filters.get_hookimpls():
            info = self.infos[impl.plugin_name]

            def add_filter(name: str, function: Callable[..., Any], info: PluginInfo = info) -> None:
                registry.filters[name] = function
                info.filters.append(name)

            self._guard(info, "register_mapping_filters", partial(impl.function, register=add_filter))
        return registry

    def _call_each(self, hook: str, target: dict[str, Kind], attribute: str) -> None:
        # Call every implementation on its own: one failing plugin must not stop the others.
        for impl in getattr(self.pm.hook, hook).get_hookimpls():
            info = self.infos[impl.plugin_name]

            def register(
                kind: str,
                factory: Callable[..., Any],
                config_model: type[Any],
                info: PluginInfo = info,
            ) -> None:
                if kind in target:
                    raise ValueError(f"kind {kind!r} is already registered by {target[kind].plugin}")
                target[kind] = Kind(kind, factory, config_model, info.name)
                getattr(info, attribute).append(kind)

            self._guard(info, hook, partial(impl.function, register=register))

    def _guard(self, info: PluginInfo, hook: str, call: Callable[[], Any]) -> None:
        try:
            call()
        except Exception as exc:
            info.errors.append(f"{hook} raised {type(exc).__name__}: {exc}")
            log.warning("plugin %s: %s raised %s: %s", info.name, hook, type(exc).__name__, exc)

    def call_guarded(self, hook: str, **kwargs: Any) -> None:
        """Call a notification or mounting hook on every plugin, isolating failures."""
        for impl in getattr(self.pm.hook, hook).get_hookimpls():
            info = self.infos[impl.plugin_name]
            self._guard(info, hook, partial(impl.function, **kwargs))

    def list(self) -> list[PluginInfo]:
        """Every plugin found, in name order, with its hooks, kinds and errors."""
        return [self.infos[name] for name in sorted(self.infos)]


def _loader(entry_point: EntryPoint) -> Callable[[], Any]:
    return entry_point.load


def _only_from_environment() -> set[str] | None:
    return plugin_names(os.environ.get("RECADO_PLUGINS"))


def plugin_names(value: str | None) -> set[str] | None:
    """`"email, webhook"` → `{"email", "webhook"}`; None or blank → None (every installed plugin)."""
    if not value or not value.strip():
        return None
    return {part.strip() for part in value.split(",") if part.strip()}
