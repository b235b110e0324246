"""Recado's entry point for the FreeSWITCH plugin: the ``freeswitch`` source, commands and agent console."""

from __future__ import annotations

import logging
from typing import Any

from hub import hookimpl
from hub.hookspecs import RegisterKind
from recado_freeswitch.source import FreeSwitchConfig, FreeSwitchSource

log = logging.getLogger(__name__)


@hookimpl
def register_sources(register: RegisterKind) -> None:
    """Register the ``freeswitch`` source kind."""
    register("freeswitch", FreeSwitchSource, FreeSwitchConfig)


@hookimpl
def register_commands(cli: Any) -> None:
    """Add ``recado freeswitch …`` (decode, check, config)."""
    from recado_freeswitch.cli import app

    cli.add_typer(app, name="freeswitch")


@hookimpl
def register_routes(app: Any) -> None:
    """The agent console over mod_callcenter, when a ``freeswitch`` source runs in this process."""
    context = getattr(app.state, "recado", None)
    sources = getattr(context, "extras", {}).get("sources", {})
    running = [(name, s) for name, s in sources.items() if isinstance(s, FreeSwitchSource)]
    if context is None or not running:
        return
    # Imported here: the web server is optional.
    from hub.core.hub import Hub
    from hub.web.console import mount
    from recado_freeswitch.desk import FreeSwitchDesk

    name, source = running[0]
    if len(running) > 1:
        log.warning("several freeswitch sources run here; the agent console follows %r", name)
    hub = context.extras.get("hub") or Hub(context.engine)
    mount(app, FreeSwitchDesk(source, hub, context.store))
