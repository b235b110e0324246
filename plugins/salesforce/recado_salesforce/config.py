"""The settings of a Salesforce destination: where to log in, how, and what to write."""

from __future__ import annotations

import re
from typing import Annotated, Literal
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from hub.sinks import SinkConfig

#: An sObject or field API name: a letter, then letters, digits and underscores.
API_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_MY_DOMAIN = re.compile(r"^[a-z0-9][a-z0-9-]*(--[a-z0-9-]+)?$", re.IGNORECASE)


class JwtAuth(BaseModel):
    """OAuth 2.0 JWT bearer flow: the connected app's consumer key signs in as `username`."""

    # A malformed secret must not come back in the validation error's input_value.
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    type: Literal["jwt"] = "jwt"
    consumer_key: str = Field(min_length=1)
    username: str = Field(min_length=3)
    private_key: SecretStr

    @field_validator("private_key")
    @classmethod
    def _is_rsa_pem(cls, value: SecretStr) -> SecretStr:
        # Checked when the destination is saved, not at the first delivery hours later.
        pem = value.get_secret_value().strip()
        if "\n" not in pem and "\\n" in pem:
            # A PEM squeezed into one environment variable line, newlines written as \n.
            pem = pem.replace("\\n", "\n")
        try:
            key = load_pem_private_key(pem.encode(), password=None)
        except (ValueError, TypeError):
            raise ValueError(
                "expected an unencrypted PEM private key "
                "(-----BEGIN PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY-----)"
            ) from None
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError(
                "expected an RSA private key: Salesforce signs JWT bearer tokens with RS256")
        return SecretStr(pem + "\n")


class ClientCredentialsAuth(BaseModel):
    """OAuth 2.0 client credentials flow: the connected app runs as its configured user."""

    # A malformed secret must not come back in the validation error's input_value.
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    type: Literal["client_credentials"] = "client_credentials"
    consumer_key: str = Field(min_length=1)
    consumer_secret: SecretStr


Auth = Annotated[JwtAuth | ClientCredentialsAuth, Field(discriminator="type")]


class SalesforceConfig(SinkConfig):
    """Settings of a `salesforce` destination.

    The login host is, in order of precedence, `instance_url` (a full https URL),
    `my_domain` (`acme`, `acme.my.salesforce.com` or a sandbox's
    `acme--uat.sandbox.my.salesforce.com`), or `domain` (`login` for production,
    `test` for sandboxes).
    """

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    domain: Literal["login", "test"] = "login"
    my_domain: str | None = None
    instance_url: str | None = None
    auth: Auth
    sobject: str = "Task"
    external_id_field: str = "Recado_Record_Id__c"
    create_lead_when_unmatched: bool = False
    match_callers: bool = True
    follow_up_missed: bool = False
    batch_size: int = Field(default=200, ge=1, le=200)
    api_version: str = Field(default="62.0", pattern=r"^\d{2,3}\.0$")
    timeout_s: float = Field(default=30.0, gt=0, le=300)
    limit_pause_s: float = Field(default=3600.0, ge=1)
    ca_bundle: str | None = None

    @field_validator("sobject", "external_id_field")
    @classmethod
    def _api_name(cls, value: str) -> str:
        if not API_NAME.match(value):
            raise ValueError(f"{value!r} is not a Salesforce API name (letters, digits, _)")
        return value

    @field_validator("my_domain")
    @classmethod
    def _my_domain(cls, value: str | None) -> str | None:
        if value is None:
            return None
        host = value.strip().removeprefix("https://").rstrip("/")
        if host.endswith(".salesforce.com"):
            return host
        if not _MY_DOMAIN.match(host):
            raise ValueError(
                f"{value!r} is not a My Domain name (e.g. 'acme' or 'acme.my.salesforce.com')"
            )
        return f"{host}.my.salesforce.com"

    @field_validator("instance_url")
    @classmethod
    def _https_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value.strip())
        if parts.scheme != "https" or not parts.hostname:
            raise ValueError(f"{value!r}: expected an https URL such as https://acme.my.salesforce.com")
        return f"https://{parts.netloc}"

    @model_validator(mode="after")
    def _client_credentials_need_my_domain(self) -> SalesforceConfig:
        if (
            isinstance(self.auth, ClientCredentialsAuth)
            and self.my_domain is None
            and self.instance_url is None
        ):
            raise ValueError(
                "auth.type client_credentials: Salesforce only accepts this flow on the org's "
                "own My Domain; set my_domain (e.g. 'acme') or instance_url"
            )
        return self

    @property
    def login_url(self) -> str:
        """The base URL of the OAuth endpoints."""
        if self.instance_url:
            return self.instance_url
        if self.my_domain:
            return f"https://{self.my_domain}"
        return f"https://{self.domain}.salesforce.com"

    @property
    def token_url(self) -> str:
        """The OAuth 2.0 token endpoint."""
        return f"{self.login_url}/services/oauth2/token"

    @property
    def sandbox(self) -> bool:
        """Whether the org is a sandbox (decides the JWT audience)."""
        return self.domain == "test" or ".sandbox.my.salesforce.com" in (self.my_domain or "")

    @property
    def audience(self) -> str:
        """The `aud` claim Salesforce expects in a JWT bearer assertion."""
        return "https://test.salesforce.com" if self.sandbox else "https://login.salesforce.com"
