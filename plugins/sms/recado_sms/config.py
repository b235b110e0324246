"""The settings of an ``sms`` destination, validated when the destination is saved."""

from __future__ import annotations

from pydantic import AnyHttpUrl, Field, SecretStr, field_validator

from hub.sinks import SinkConfig
from recado_sms.sender import check_sender_id

__all__ = ["LOCAL_HOSTS", "SmsConfig", "check_gateway_url"]

#: Hosts reached over plain HTTP without leaving the machine (tests, a local relay).
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


def check_gateway_url(url: AnyHttpUrl, setting: str) -> AnyHttpUrl:
    """Refuse URLs that would expose the token or the messages: plain HTTP off this machine, user info."""
    if url.username or url.password:
        raise ValueError(
            f"{setting}: the URL must not carry a user name or password: it is stored in clear;"
            " put the gateway's credential in `token`"
        )
    if url.scheme != "https" and (url.host or "") not in LOCAL_HOSTS:
        raise ValueError(
            f"{setting}: the gateway must be reached over https (http is allowed only for 127.0.0.1 and localhost),"
            f" got {url.scheme}://{url.host}"
        )
    return url


class SmsConfig(SinkConfig):
    """Settings of an ``sms`` destination: the gateway, its token, the sender id and limits.

    ``token`` is a secret: in client files write ``{"$env": "NAME"}`` or
    ``{"$file": "path"}``; it is stored encrypted and sent only as
    ``Authorization: Bearer <token>``.
    """

    url: AnyHttpUrl = Field(description="The gateway's send endpoint (https; http only on 127.0.0.1).")
    token: SecretStr = Field(description="The gateway's API token, sent as a Bearer token.")
    sender_id: str = Field(description="Alphanumeric name (1-11 characters) or E.164 number the SMS comes from.")
    max_segments: int = Field(
        default=3, ge=1, le=255, description="Longer texts are refused for good instead of sent in more segments."
    )
    status_callback_url: AnyHttpUrl | None = Field(
        default=None, description="Where the gateway posts delivery reports (the hub's /sms/reports)."
    )
    check_url: AnyHttpUrl | None = Field(
        default=None, description="What `recado check` GETs with the token; default: /health of the gateway's host."
    )
    timeout: float = Field(default=10.0, gt=0, le=120, description="Seconds to wait for the gateway.")
    max_batch: int = Field(default=10, ge=1, le=100, description="Messages handed to the sink at once.")

    @field_validator("token")
    @classmethod
    def _token_given(cls, value: SecretStr) -> SecretStr:
        text = value.get_secret_value()
        if not text.strip():
            raise ValueError('token is empty: give the gateway\'s API token, e.g. {"$env": "SMS_GATEWAY_TOKEN"}')
        if any(char in text for char in "\r\n"):
            raise ValueError("token contains a line break: it cannot be sent in an HTTP header")
        return value

    @field_validator("sender_id")
    @classmethod
    def _sender_id(cls, value: str) -> str:
        return check_sender_id(value)

    @field_validator("url")
    @classmethod
    def _url(cls, value: AnyHttpUrl) -> AnyHttpUrl:
        return check_gateway_url(value, "url")

    @field_validator("status_callback_url")
    @classmethod
    def _callback(cls, value: AnyHttpUrl | None) -> AnyHttpUrl | None:
        return None if value is None else check_gateway_url(value, "status_callback_url")

    @field_validator("check_url")
    @classmethod
    def _check(cls, value: AnyHttpUrl | None) -> AnyHttpUrl | None:
        return None if value is None else check_gateway_url(value, "check_url")

    def health_url(self) -> str:
        """The URL `check()` asks: `check_url`, else ``/health`` at the root of the gateway's host."""
        if self.check_url is not None:
            return str(self.check_url)
        port = f":{self.url.port}" if self.url.port is not None else ""
        return f"{self.url.scheme}://{self.url.host}{port}/health"
