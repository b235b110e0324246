"""The source contract: how a telephony plugin feeds calls into the hub."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict

from hub.core.models import CallEvent, RouteDecision, WrapUp

__all__ = ["CallEvent", "HubPort", "RouteDecision", "Source", "SourceConfig", "WrapUp"]


class SourceConfig(BaseModel):
    """Base of every source's settings model; unknown settings are errors."""

    model_config = ConfigDict(extra="forbid")


@runtime_checkable
class HubPort(Protocol):
    """What a running source may ask of the hub."""

    async def ingest(self, event: CallEvent) -> None:
        """Process one event. Events of one call must be ingested in order."""

    async def decide(self, offer: CallEvent) -> RouteDecision:
        """Decide what to do with an offered call (idempotent per call)."""

    async def wrapup(self, wrapup: WrapUp) -> None:
        """Record the agent's answers to the script for a call."""


class Source:
    """Base class of sources. `run` returns only when cancelled; it reconnects by itself."""

    kind: str = ""

    def __init__(self, config: SourceConfig) -> None:
        self.config = config

    async def run(self, hub: HubPort) -> None:
        """Connect to the telephony system and feed `hub` until cancelled."""
        raise NotImplementedError
