"""Entry point of the ``recado-sms`` distribution: the ``sms`` sink, the ``sms_reports`` source, its endpoint."""

from __future__ import annotations

from typing import Any

from hub import hookimpl
from hub.hookspecs import RegisterKind
from recado_sms.config import SmsConfig
from recado_sms.sink import SmsSink
from recado_sms.source import SmsReportsConfig, SmsReportsSource


@hookimpl
def register_sinks(register: RegisterKind) -> None:
    """Register the ``sms`` sink kind with its settings model."""
    register(SmsSink.kind, SmsSink, SmsConfig)


@hookimpl
def register_sources(register: RegisterKind) -> None:
    """Register the ``sms_reports`` source kind (delivery reports and replies)."""
    register(SmsReportsSource.kind, SmsReportsSource, SmsReportsConfig)


@hookimpl
def register_routes(app: Any) -> None:
    """Mount ``POST /sms/reports`` when an ``sms_reports`` source runs in this process."""
    context = getattr(app.state, "recado", None)
    if context is None:
        return
    from recado_sms.routes import mount, running_source

    source = running_source(getattr(context, "extras", {}))
    if source is not None:
        mount(app, source, context.store)
