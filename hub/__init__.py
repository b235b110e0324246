"""Recado: the integration hub of a call-answering service.

The public API for plugins is `hub.hookimpl`, `hub.sinks`, `hub.sources`,
`hub.core.models` and `hub.testing`.
"""

import pluggy

__version__ = "0.1.0"

hookimpl = pluggy.HookimplMarker("recado")

__all__ = ["__version__", "hookimpl"]
