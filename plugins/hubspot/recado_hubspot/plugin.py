"""Entry point of the recado-hubspot plugin: registers the `hubspot` sink kind."""

from __future__ import annotations

from hub import hookimpl
from hub.hookspecs import RegisterKind

from .config import HubSpotConfig
from .sink import HubSpotSink


@hookimpl
def register_sinks(register: RegisterKind) -> None:
    """Register the `hubspot` sink with its settings model."""
    register("hubspot", HubSpotSink, HubSpotConfig)
