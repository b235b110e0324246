"""The core's own registrations, made through the same hooks as any plugin."""

from __future__ import annotations

from typing import Any

from hub import hookimpl
from hub.demo.simulator import SimulatorConfig, SimulatorSource
from hub.hookspecs import RegisterKind


@hookimpl
def register_sources(register: RegisterKind) -> None:
    """The simulated PBX (`simulator`)."""
    register("simulator", SimulatorSource, SimulatorConfig)


@hookimpl
def register_routes(app: Any) -> None:
    """The agent console of the demo source: people answer simulated calls in the browser."""
    from hub.web.console import mount  # the web server is optional: import it only when mounting

    mount(app)
