"""Client configuration: who the service answers for, how, and where records go.

These models validate what an operator writes in `recado clients apply FILE`.
Checks that need more than one client (exclusive DIDs) or the installed plugins
(known sink kinds, mapping fields) live in `hub.core.directory`.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any, Literal

import phonenumbers
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from hub.core.hours import HoursConfig, merge
from hub.core.models import Disposition, Language

SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
FIELD_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


class Category(StrEnum):
    """What kind of calls a script handles."""

    CUSTOMER_SERVICE = "customer_service"
    PROSPECT = "prospect"
    AFTER_SALES = "after_sales"
    TECHNICAL_SUPPORT = "technical_support"
    COMPLAINT = "complaint"


class FieldType(StrEnum):
    """Types of the fields of a script."""

    TEXT = "text"
    PHONE = "phone"
    EMAIL = "email"
    CHOICE = "choice"
    DATE = "date"
    BOOL = "bool"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def normalize_e164(value: str, *, region: str = "PT") -> str:
    """Return `value` as an E.164 number, or raise ValueError saying what was expected."""
    try:
        parsed = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"{value!r} is not a phone number (expected E.164, e.g. +351217000001)") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise ValueError(f"{value!r} is not a valid phone number (expected E.164, e.g. +351217000001)")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


class ScriptField(_Strict):
    """One question of the script that the agent fills in."""

    name: str
    label: dict[Language, str]
    type: FieldType = FieldType.TEXT
    required: bool = False
    choices: list[str] | None = None

    @field_validator("name")
    @classmethod
    def _name_is_identifier(cls, value: str) -> str:
        if not FIELD_NAME.match(value):
            raise ValueError(f"{value!r} is not a valid field name (letters, digits, _)")
        return value

    @model_validator(mode="after")
    def _choices_match_type(self) -> ScriptField:
        if self.type is FieldType.CHOICE and not self.choices:
            raise ValueError(f"field {self.name!r} is of type choice but has no choices")
        if self.type is not FieldType.CHOICE and self.choices:
            raise ValueError(f"field {self.name!r} has choices but is of type {self.type.value}")
        return self


class Script(_Strict):
    """The client's script: versioned, ordered fields, a category and instructions."""

    version: int = Field(ge=1)
    category: Category = Category.CUSTOMER_SERVICE
    fields: list[ScriptField] = Field(default_factory=list)
    instructions: dict[Language, str] = Field(default_factory=dict)

    @field_validator("fields")
    @classmethod
    def _unique_names(cls, fields: list[ScriptField]) -> list[ScriptField]:
        seen: set[str] = set()
        for field in fields:
            if field.name in seen:
                raise ValueError(f"field name {field.name!r} appears twice")
            seen.add(field.name)
        return fields

    def field_names(self) -> list[str]:
        """The names of the fields, in script order."""
        return [field.name for field in self.fields]


class AgentPreferences(_Strict):
    """Which agents answer this client's calls first, and the voice asked for."""

    preferred: list[str] = Field(default_factory=list)
    gender: Literal["any", "female", "male"] = "any"


class TariffOverride(_Strict):
    """Client-specific tariff terms."""

    negotiated_cents: int | None = Field(default=None, ge=0)
    #: `graduated`: each call at the price of its tier. `volume`: the month's final count sets
    #: one price for all its calls, settled by a credit at month end (`tariff.volume_settlement`).
    mode: Literal["graduated", "volume"] = "graduated"


class DestinationFilter(_Strict):
    """Which records a destination receives; an empty list means any."""

    dispositions: list[Disposition] = Field(default_factory=list)
    categories: list[Category] = Field(default_factory=list)

    def matches(self, disposition: str, category: str | None) -> bool:
        """Whether a record with this disposition and category passes the filter."""
        if self.dispositions and disposition not in self.dispositions:
            return False
        return not (self.categories and category not in self.categories)


#: Svix's schedule: the first attempt at once, then after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
DEFAULT_SCHEDULE_S: tuple[float, ...] = (0, 5, 300, 1800, 7200, 18000, 36000, 36000)


class DeliveryPolicy(_Strict):
    """How a destination is retried and throttled; unset fields take the hub's defaults."""

    schedule_s: list[float] | None = Field(default=None, min_length=1)
    max_per_second: float | None = Field(default=None, gt=0)
    pause_after_s: int | None = Field(default=None, ge=60)

    @field_validator("schedule_s")
    @classmethod
    def _non_negative(cls, value: list[float] | None) -> list[float] | None:
        if value is not None and any(delay < 0 for delay in value):
            raise ValueError("delays cannot be negative")
        return value


class Destination(_Strict):
    """Where a client's records go: a sink kind, its settings and a field mapping."""

    id: str
    kind: str
    settings: dict[str, Any] = Field(default_factory=dict)
    mapping: dict[str, str] = Field(default_factory=dict)
    filter: DestinationFilter | None = None
    enabled: bool = True
    policy: DeliveryPolicy | None = None

    @field_validator("id")
    @classmethod
    def _id_is_slug(cls, value: str) -> str:
        if not SLUG.match(value):
            raise ValueError(f"{value!r} is not a valid id (lowercase letters, digits, - and _)")
        return value

    def accepts(self, disposition: str, category: str | None) -> bool:
        """Whether this destination receives a record (no filter: every record)."""
        return self.filter is None or self.filter.matches(disposition, category)


class Client(_Strict):
    """A client of the answering service."""

    id: str
    name: str = Field(min_length=1)
    nif: str
    dids: list[str] = Field(min_length=1)
    languages: list[Language] = Field(default_factory=lambda: [Language.PT], min_length=1)
    greeting: dict[Language, str] = Field(default_factory=dict)
    agents: AgentPreferences = Field(default_factory=AgentPreferences)
    recorded_message: Literal["none", "pt", "pt+en"] = "none"
    tariff: TariffOverride = Field(default_factory=TariffOverride)
    hours: dict[str, Any] | None = None
    script: Script = Field(default_factory=lambda: Script(version=1))
    destinations: list[Destination] = Field(default_factory=list)
    contact_email: str | None = None
    #: Warn the contact when the available balance covers fewer calls than this (0: never);
    #: unset: the hub's `[lifecycle] low_balance_calls`.
    low_balance_calls: int | None = Field(default=None, ge=0, le=10_000)
    #: Records older than this many calendar months are purged (see `hub.core.retention`);
    #: unset: the hub's `[privacy] default_retention_months`, and when that is unset too, kept forever.
    retention_months: int | None = Field(default=None, ge=1, le=1200)

    @field_validator("id")
    @classmethod
    def _id_is_slug(cls, value: str) -> str:
        if not SLUG.match(value):
            raise ValueError(f"{value!r} is not a valid client id (lowercase letters, digits, - and _)")
        return value

    @field_validator("hours")
    @classmethod
    def _hours_are_valid(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None:
            # Checked now, against the hub's defaults, so that a bad window fails here
            # rather than at the client's first call.
            merge(HoursConfig(), value)
        return value

    @field_validator("low_balance_calls", mode="before")
    @classmethod
    def _low_balance_calls_is_a_count(cls, value: Any) -> Any:
        # `true` would otherwise pass as 1 call.
        if isinstance(value, bool) or (value is not None and not isinstance(value, int)):
            raise ValueError(f"expected a whole number of calls (e.g. 10; 0 never warns), got {value!r}")
        return value

    @field_validator("nif")
    @classmethod
    def _nif_has_nine_digits(cls, value: str) -> str:
        if not re.fullmatch(r"\d{9}", value):
            raise ValueError(f"{value!r} is not a NIF (expected 9 digits)")
        return value

    @field_validator("dids")
    @classmethod
    def _dids_are_e164(cls, values: list[str]) -> list[str]:
        normalized = [normalize_e164(value) for value in values]
        if len(set(normalized)) != len(normalized):
            raise ValueError("the same DID is listed twice")
        return normalized

    @model_validator(mode="after")
    def _consistent(self) -> Client:
        ids = [destination.id for destination in self.destinations]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"destination id {duplicates[0]!r} appears twice")
        missing = [lang.value for lang in self.languages if lang not in self.greeting]
        if self.greeting and missing:
            raise ValueError(f"greeting has no text for language(s) {', '.join(missing)}")
        return self

    def greeting_for(self, language: Language) -> str:
        """The greeting the agent says, in `language` (falls back to the client's name)."""
        return self.greeting.get(language) or self.name


class ClientsFile(_Strict):
    """The document `recado clients apply` reads."""

    clients: list[Client]
