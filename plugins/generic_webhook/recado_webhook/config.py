"""The settings of a webhook destination, validated when the destination is saved."""

from __future__ import annotations

from typing import Annotated

from pydantic import (
    AnyHttpUrl,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)

from hub.sinks import SinkConfig
from recado_webhook.guard import AddressRefused, check_host_literal, private_allowed
from recado_webhook.signing import SecretFormatError, secret_key

#: Headers the sink writes itself; a destination may not replace them.
RESERVED_HEADERS = frozenset(
    {
        "webhook-id",
        "webhook-timestamp",
        "webhook-signature",
        "content-type",
        "content-length",
        "host",
        "user-agent",
    }
)
#: Headers that carry credentials: `headers` is stored in clear, so they are refused there.
CREDENTIAL_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie"})

HeaderName = Annotated[str, Field(pattern=r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")]


class WebhookConfig(SinkConfig):
    """Settings of a ``webhook`` destination.

    ``secret`` signs every message; during a rotation, the secrets in
    ``secrets`` sign it too, so receivers holding the old or the new secret
    both accept it.
    """

    # The model holds secrets: keep raw input out of validation errors.
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    url: AnyHttpUrl = Field(description="Where records are POSTed (http or https).")
    secret: SecretStr = Field(description="Signing secret, whsec_ followed by base64.")
    secrets: list[SecretStr] = Field(
        default_factory=list,
        description="Further signing secrets, while receivers move from one secret to another.",
    )
    timeout: float = Field(default=10.0, gt=0, le=120, description="Seconds to wait for the receiver.")
    max_batch: int = Field(default=1, ge=1, le=100, description="Records per request; above 1, a batch event.")
    headers: dict[HeaderName, str] = Field(
        default_factory=dict, description="Extra non-secret headers sent with every request."
    )

    @field_validator("secret")
    @classmethod
    def _secret_form(cls, value: SecretStr) -> SecretStr:
        try:
            secret_key(value.get_secret_value())
        except SecretFormatError as exc:
            raise ValueError(str(exc)) from None
        return value

    @field_validator("secrets")
    @classmethod
    def _secrets_form(cls, values: list[SecretStr]) -> list[SecretStr]:
        for position, value in enumerate(values):
            try:
                secret_key(value.get_secret_value())
            except SecretFormatError as exc:
                raise ValueError(f"secrets[{position}]: {exc}") from None
        return values

    @field_validator("url")
    @classmethod
    def _public_url(cls, value: AnyHttpUrl) -> AnyHttpUrl:
        if value.username or value.password:
            raise ValueError(
                "the URL must not carry a user name or password: it is stored in clear;"
                " the signature is what authenticates the hub to the receiver"
            )
        if value.host is None:
            raise ValueError("the URL needs a host")
        if not private_allowed():
            try:
                check_host_literal(value.host)
            except AddressRefused as exc:
                raise ValueError(str(exc)) from None
        return value

    @field_validator("headers")
    @classmethod
    def _plain_headers(cls, value: dict[str, str]) -> dict[str, str]:
        for name in value:
            lowered = name.lower()
            if lowered in RESERVED_HEADERS:
                raise ValueError(f"header {name!r} is set by the webhook sink and cannot be set")
            if lowered in CREDENTIAL_HEADERS:
                raise ValueError(
                    f"header {name!r} would carry a credential, but headers are stored in clear;"
                    " receivers authenticate the hub by the webhook signature"
                )
        for name, header_value in value.items():
            if "\r" in header_value or "\n" in header_value:
                raise ValueError(f"header {name!r}: a value cannot contain a line break")
        return value

    @model_validator(mode="after")
    def _distinct_secrets(self) -> WebhookConfig:
        values = [self.secret.get_secret_value()] + [s.get_secret_value() for s in self.secrets]
        if len(set(values)) != len(values):
            raise ValueError("secrets: the same secret is listed twice")
        return self

    def signing_keys(self) -> list[bytes]:
        """The HMAC keys that sign each message: ``secret`` first, then ``secrets``."""
        return [secret_key(self.secret.get_secret_value())] + [secret_key(s.get_secret_value()) for s in self.secrets]

    def secret_values(self) -> list[str]:
        """Every secret in clear, to keep them out of anything the sink reports."""
        return [self.secret.get_secret_value()] + [s.get_secret_value() for s in self.secrets]
