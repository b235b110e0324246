"""Recado sink for Salesforce: each call logged as a Task, upserted by the record id."""

from recado_salesforce.config import ClientCredentialsAuth, JwtAuth, SalesforceConfig
from recado_salesforce.sink import SalesforceSink

__all__ = ["ClientCredentialsAuth", "JwtAuth", "SalesforceConfig", "SalesforceSink"]
