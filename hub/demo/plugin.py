"""The core's own registrations, made through the same hooks as any plugin."""

from __future__ import annotations

from hub import hookimpl
from hub.demo.simulator import SimulatorConfig, SimulatorSource
from hub.hookspecs import RegisterKind


@hookimpl
def register_sources(register: RegisterKind) -> None:
    """The simulated PBX (`simulator`)."""
    register("simulator", SimulatorSource, SimulatorConfig)
