"""Settings of the hub: `RECADO_*` environment variables, `.env`, and `recado.toml`.

Nested settings use `__` in environment variables, e.g.
`RECADO_DELIVERY__MAX_ATTEMPTS=12`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from hub.core.clients import DEFAULT_SCHEDULE_S
from hub.core.hours import HoursConfig
from hub.core.quiet_hours import OutboundSettings
from hub.core.seller import BillingSettings
from hub.core.store import DEFAULT_URL
from hub.core.tariff import TariffConfig
from hub.payments import PaymentsSettings


class EngineSettings(BaseModel):
    """How the engine turns events into records."""

    model_config = {"extra": "forbid"}

    wrapup_timeout_s: int = Field(default=600, ge=0)
    #: A call with no event for this long (event time) is closed with what is known.
    stale_call_s: int = Field(default=6 * 3600, ge=60)
    low_balance_calls: int = Field(default=10, ge=0)
    #: Calls the agent marks as spam or a wrong number: `free` (the default) or `charged` as any call.
    spam_policy: Literal["free", "charged"] = "free"


class LifecycleSettings(BaseModel):
    """The contract lifecycle: low-balance warnings and renewals (see docs/contracts.md)."""

    model_config = {"extra": "forbid"}

    #: Warn a client when its available balance covers fewer next calls than this (0: never);
    #: a client's own `low_balance_calls` overrides it.
    low_balance_calls: int = Field(default=10, ge=0)
    #: For this many days after its end, an ended contract can be renewed (`recado accounts renew`).
    renewal_grace_days: int = Field(default=90, ge=0)


class DeliverySettings(BaseModel):
    """How workers deliver the outbox (a destination's `policy` may override the first three)."""

    model_config = {"extra": "forbid"}

    #: Delay before each attempt: the first at once, then one delay per failure; dead after the last.
    schedule_s: list[float] = Field(default_factory=lambda: list(DEFAULT_SCHEDULE_S), min_length=1)
    #: Requests per second to one destination, per worker (None: as fast as the sink goes).
    max_per_second: float | None = Field(default=None, gt=0)
    #: A delivery still failing this long after it was queued is dead, whatever the schedule says.
    max_age_s: int = Field(default=3 * 24 * 3600, ge=1)
    #: A destination whose deliveries keep failing for this long is paused and its client told.
    pause_after_s: int = Field(default=3 * 24 * 3600, ge=60)
    #: Random extra delay, as a fraction of each scheduled delay, so that retries spread out.
    jitter: float = Field(default=0.1, ge=0, le=1)
    lease_s: float = Field(default=60.0, gt=0)
    poll_s: float = Field(default=1.0, gt=0)
    claim_limit: int = Field(default=500, ge=1)


class PrivacySettings(BaseModel):
    """Data protection: how long records are kept when a client's file does not say."""

    model_config = {"extra": "forbid"}

    #: Records older than this many calendar months are purged; None keeps them forever.
    default_retention_months: int | None = Field(default=None, ge=1, le=1200)


class Settings(BaseSettings):
    """Everything `recado` reads from its environment."""

    model_config = SettingsConfigDict(
        env_prefix="RECADO_",
        env_nested_delimiter="__",
        env_file=".env",
        extra="ignore",
        toml_file="recado.toml",
    )

    database_url: str = DEFAULT_URL
    plugins: str | None = None
    engine: EngineSettings = Field(default_factory=EngineSettings)
    delivery: DeliverySettings = Field(default_factory=DeliverySettings)
    tariff: TariffConfig = Field(default_factory=TariffConfig)
    hours: HoursConfig = Field(default_factory=HoursConfig)
    sources: list[dict[str, Any]] = Field(default_factory=list)
    #: Payment methods by kind: `[payments.stripe]` in recado.toml, `RECADO_PAYMENTS__STRIPE__API_KEY`.
    payments: PaymentsSettings = Field(default_factory=dict)
    privacy: PrivacySettings = Field(default_factory=PrivacySettings)
    outbound: OutboundSettings = Field(default_factory=OutboundSettings)
    lifecycle: LifecycleSettings = Field(default_factory=LifecycleSettings)
    #: The seller on invoices and the account transfers go to: `[billing]` in recado.toml.
    billing: BillingSettings = Field(default_factory=BillingSettings)

    @model_validator(mode="after")
    def _one_low_balance_level(self) -> Settings:
        """`engine.low_balance_calls` is the older name of `lifecycle.low_balance_calls`: both say the same."""
        if "low_balance_calls" in self.engine.model_fields_set and (
            "low_balance_calls" not in self.lifecycle.model_fields_set
        ):
            self.lifecycle.low_balance_calls = self.engine.low_balance_calls
        else:
            self.engine.low_balance_calls = self.lifecycle.low_balance_calls
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Arguments first, then the environment, `.env`, and `recado.toml` last."""
        return (
            init_settings,
            env_settings,
            dotenv_settings,
            TomlConfigSettingsSource(settings_cls),
        )
