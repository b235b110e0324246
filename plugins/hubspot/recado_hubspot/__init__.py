"""Recado sink for HubSpot: answered calls logged as call engagements on the caller's contact."""

from .config import HubSpotConfig
from .sink import HubSpotSink

__version__ = "0.1.0"

__all__ = ["HubSpotConfig", "HubSpotSink", "__version__"]
