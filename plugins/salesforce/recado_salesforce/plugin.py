"""Entry point of the `recado-salesforce` plugin: registers the `salesforce` sink kind."""

from __future__ import annotations

from hub import hookimpl
from hub.hookspecs import RegisterKind
from recado_salesforce.config import SalesforceConfig
from recado_salesforce.sink import SalesforceSink


@hookimpl
def register_sinks(register: RegisterKind) -> None:
    """Register the `salesforce` sink with its settings model."""
    register("salesforce", SalesforceSink, SalesforceConfig)
