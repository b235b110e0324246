"""Settings of a HubSpot destination."""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator

from hub.sinks import SinkConfig

DEFAULT_HOST = "https://api.hubapi.com"


class HubSpotConfig(SinkConfig):
    """What a destination of kind ``hubspot`` needs: a private app token and a few choices.

    ``host`` exists so that a test or a proxy can stand in for HubSpot; production
    destinations leave it at its default.
    """

    access_token: SecretStr = Field(description="Private app access token (pat-…).")
    idempotency_property: str = Field(
        default="recado_record_id",
        description="Custom call property with unique values that holds the record id.",
    )
    create_contact_when_unmatched: bool = Field(
        default=True,
        description="Create a contact for a caller whose phone matches no contact.",
    )
    follow_up_missed: bool = Field(
        default=False,
        description="Missed and out-of-hours calls also become an open 'Call back' task.",
    )
    host: str = Field(default=DEFAULT_HOST, description="Base URL of the HubSpot API.")
    timeout_s: float = Field(default=30.0, gt=0, description="Timeout of one API request.")
    max_rate_wait_s: float = Field(
        default=10.0,
        ge=0,
        description="Longest pause inside a batch when the rate-limit window is used up.",
    )

    @field_validator("idempotency_property")
    @classmethod
    def _internal_name(cls, value: str) -> str:
        # HubSpot internal names are lower-case letters, digits and underscores.
        if not value or not all(c.islower() or c.isdigit() or c == "_" for c in value):
            raise ValueError(
                f"expected a HubSpot internal property name (lower-case letters, digits, underscores), got {value!r}"
            )
        return value

    @field_validator("host")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError(f"expected an http(s) URL, got {value!r}")
        return value.rstrip("/")
