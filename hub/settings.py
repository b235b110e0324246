"""Settings of the hub: `RECADO_*` environment variables, `.env`, and `recado.toml`.

Nested settings use `__` in environment variables, e.g.
`RECADO_DELIVERY__MAX_ATTEMPTS=12`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from hub.core.clients import DEFAULT_SCHEDULE_S
from hub.core.hours import HoursConfig
from hub.core.store import DEFAULT_URL
from hub.core.tariff import TariffConfig


class EngineSettings(BaseModel):
    """How the engine turns events into records."""

    model_config = {"extra": "forbid"}

    wrapup_timeout_s: int = Field(default=600, ge=0)
    #: A call with no event for this long (event time) is closed with what is known.
    stale_call_s: int = Field(default=6 * 3600, ge=60)
    low_balance_calls: int = Field(default=10, ge=0)
    #: Calls the agent marks as spam or a wrong number: `free` (the default) or `charged` as any call.
    spam_policy: Literal["free", "charged"] = "free"


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
