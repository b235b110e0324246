"""The service's prices, as configuration, and the documents a client pays.

Every amount is an integer number of euro cents; no float is used anywhere. VAT is computed
once per document and rounded half-up to the cent with integer arithmetic.
"""

from __future__ import annotations

import itertools
from datetime import datetime
from enum import StrEnum
from typing import Literal, Self
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Tier = tuple[int, int]
"""(first call number of the tier, price in cents of each call in it)."""


def _check_tiers(name: str, tiers: list[Tier]) -> None:
    """Tiers start at call 1, go up strictly and have non-negative prices."""
    if not tiers:
        raise ValueError(f"{name}: expected at least one tier [first_call, cents]")
    if tiers[0][0] != 1:
        raise ValueError(f"{name}: the first tier must start at call 1, got {tiers[0][0]}")
    for (before, _), (after, _) in itertools.pairwise(tiers):
        if after <= before:
            raise ValueError(f"{name}: tiers must start at increasing call numbers, got {before} then {after}")
    for first, cents in tiers:
        if cents < 0:
            raise ValueError(f"{name}: tier starting at call {first} has negative price {cents}")


class TariffConfig(BaseModel):
    """All prices of the service, in cents, with the published tariff as defaults."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    inbound_tiers: list[Tier] = Field(default_factory=lambda: [(1, 150), (100, 100), (200, 50)])
    negotiated_from: int = Field(default=300, ge=2)
    negotiated_default_cents: int = Field(default=50, ge=0)
    outbound_tiers: list[Tier] = Field(default_factory=lambda: [(1, 100), (100, 50)])
    plans: dict[str, int] = Field(default_factory=lambda: {"12m": 15600, "6m": 9600})
    plan_months: dict[str, int] = Field(default_factory=lambda: {"12m": 12, "6m": 6})
    topups: list[int] = Field(default_factory=lambda: [2000, 3000, 5000])
    messages: dict[str, int] = Field(default_factory=lambda: {"pt": 3000, "pt+en": 4000})
    vat_rate_percent: int = Field(default=23, ge=0, le=100)
    average_talk_limit_s: int = Field(default=240, gt=0)

    @field_validator("inbound_tiers", "outbound_tiers")
    @classmethod
    def _tiers_are_ordered(cls, value: list[Tier]) -> list[Tier]:
        """Tiers are well formed (see `_check_tiers`)."""
        _check_tiers("tiers", value)
        return value

    @field_validator("plans", "messages")
    @classmethod
    def _prices_are_positive(cls, value: dict[str, int]) -> dict[str, int]:
        """A plan or message costs something."""
        for key, cents in value.items():
            if cents <= 0:
                raise ValueError(f"{key!r}: expected a positive price in cents, got {cents}")
        return value

    @field_validator("topups")
    @classmethod
    def _topups_are_positive(cls, value: list[int]) -> list[int]:
        """Top-up amounts are positive whole euros."""
        for cents in value:
            if cents <= 0 or cents % 100:
                raise ValueError(f"top-up {cents}: expected a positive whole number of euros")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        """Every plan has a duration and the negotiated rate comes after the last tier."""
        if set(self.plans) != set(self.plan_months):
            raise ValueError(
                f"plans {sorted(self.plans)} and plan_months {sorted(self.plan_months)} must name the same plans"
            )
        last_tier = self.inbound_tiers[-1][0]
        if self.negotiated_from <= last_tier:
            raise ValueError(
                f"negotiated_from ({self.negotiated_from}) must be after the last inbound tier start ({last_tier})"
            )
        return self


DEFAULT_TARIFF = TariffConfig()


def _check_call_number(k: int) -> None:
    """Calls of a month are numbered from 1."""
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"call number must be an integer >= 1, got {k!r}")


def _tier_price(tiers: list[Tier], k: int) -> int:
    """Price of call number k under graduated tiers (the last tier whose start is <= k)."""
    _check_call_number(k)
    price = tiers[0][1]
    for first, cents in tiers:
        if k < first:
            break
        price = cents
    return price


def inbound_price(k: int, negotiated_cents: int | None, *, config: TariffConfig = DEFAULT_TARIFF) -> int:
    """Price in cents of the k-th answered inbound call of the client's month (k >= 1).

    From `negotiated_from` on, the client's negotiated rate applies, or the default rate
    while none is set.
    """
    _check_call_number(k)
    if k >= config.negotiated_from:
        if negotiated_cents is None:
            return config.negotiated_default_cents
        if negotiated_cents < 0:
            raise ValueError(f"negotiated_cents must be >= 0, got {negotiated_cents}")
        return negotiated_cents
    return _tier_price(config.inbound_tiers, k)


def graduated_total_cents(n: int, negotiated_cents: int | None, *, config: TariffConfig = DEFAULT_TARIFF) -> int:
    """What answered calls 1..n of a month cost together at the graduated prices (0 for n = 0)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"number of calls must be an integer >= 0, got {n!r}")
    if n == 0:
        return 0
    # Whole segments at a time: each tier, then the negotiated rate, covers a run of call numbers.
    starts = [first for first, _ in config.inbound_tiers] + [config.negotiated_from]
    rate = inbound_price(config.negotiated_from, negotiated_cents, config=config)
    prices = [cents for _, cents in config.inbound_tiers] + [rate]
    total = 0
    for index, (first, cents) in enumerate(zip(starts, prices, strict=True)):
        last = n if index == len(starts) - 1 else min(n, starts[index + 1] - 1)
        if last >= first:
            total += (last - first + 1) * cents
    return total


def volume_settlement_cents(n: int, negotiated_cents: int | None, config: TariffConfig = DEFAULT_TARIFF) -> int:
    """The month-end credit of a client on the `volume` tariff mode with n answered calls.

    In that mode the month's final count n sets one price for all its calls: the price of
    call number n (the negotiated rate from `negotiated_from` on). The calls were debited
    at the graduated prices, so the difference is credited. It is never negative: when the
    graduated prices add up to less (a negotiated rate dearer than the tiers), nothing more
    is taken, because each call was admitted and debited at a price known at the time.
    """
    graduated = graduated_total_cents(n, negotiated_cents, config=config)
    if n == 0:
        return 0
    return max(0, graduated - n * inbound_price(n, negotiated_cents, config=config))


def needs_negotiated_alert(k: int, negotiated_cents: int | None, *, config: TariffConfig = DEFAULT_TARIFF) -> bool:
    """Whether the k-th call is priced at the default rate because no rate was negotiated."""
    _check_call_number(k)
    return k >= config.negotiated_from and negotiated_cents is None


def outbound_price(k: int, *, config: TariffConfig = DEFAULT_TARIFF) -> int:
    """Price in cents of the k-th outbound contact (call or SMS) of the client's month."""
    return _tier_price(config.outbound_tiers, k)


def vat_cents(net_cents: int, *, rate_percent: int = DEFAULT_TARIFF.vat_rate_percent) -> int:
    """VAT on a net amount, rounded half-up to the cent (halves round away from zero)."""
    numerator = abs(net_cents) * rate_percent
    rounded = (numerator + 50) // 100
    return rounded if net_cents >= 0 else -rounded


def exceeds_average_talk(total_talk_s: int, answered_calls: int, *, config: TariffConfig = DEFAULT_TARIFF) -> bool:
    """Whether the month's average talk time per answered call is above the tariff's limit."""
    if answered_calls <= 0:
        return False
    # Compared as totals so that no division (and no rounding) is needed.
    return total_talk_s > config.average_talk_limit_s * answered_calls


class DocumentKind(StrEnum):
    """What a client is charged for outside of calls."""

    CONTRACT = "contract"
    TOPUP = "topup"
    MESSAGE = "message"


class Document(BaseModel):
    """One charge to a client, with its VAT; the basis of an invoice or a ledger entry.

    `balance_change_cents` is the signed effect on the prepaid balance: a contract or a
    top-up credits its net amount, the recorded message is debited from the balance.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: DocumentKind
    item: str
    description: str
    net_cents: int = Field(ge=0)
    vat_cents: int = Field(ge=0)
    gross_cents: int = Field(ge=0)
    paid_from: Literal["payment", "balance"]
    balance_change_cents: int
    months: int | None = None

    @model_validator(mode="after")
    def _gross_is_net_plus_vat(self) -> Self:
        """The total is exactly the net amount plus its VAT."""
        if self.gross_cents != self.net_cents + self.vat_cents:
            raise ValueError(
                f"gross_cents ({self.gross_cents}) must equal net_cents ({self.net_cents}) "
                f"+ vat_cents ({self.vat_cents})"
            )
        return self


def _allowed(options: list[str]) -> str:
    """A human list of accepted values."""
    return ", ".join(repr(option) for option in options)


def document_for_plan(plan: str, *, config: TariffConfig = DEFAULT_TARIFF) -> Document:
    """The contract document of a plan ("12m" or "6m"); its whole net amount is credited."""
    if plan not in config.plans:
        raise ValueError(f"unknown plan {plan!r}: expected one of {_allowed(sorted(config.plans))}")
    net = config.plans[plan]
    months = config.plan_months[plan]
    vat = vat_cents(net, rate_percent=config.vat_rate_percent)
    return Document(
        kind=DocumentKind.CONTRACT,
        item=plan,
        description=f"Prepaid contract, {months} months",
        net_cents=net,
        vat_cents=vat,
        gross_cents=net + vat,
        paid_from="payment",
        balance_change_cents=net,
        months=months,
    )


def document_for_topup(amount_eur: int, *, config: TariffConfig = DEFAULT_TARIFF) -> Document:
    """The document of a balance top-up of a whole number of euros (20, 30 or 50 by default)."""
    allowed = [str(cents // 100) for cents in config.topups]
    valid = isinstance(amount_eur, int) and not isinstance(amount_eur, bool)
    if not valid or amount_eur * 100 not in config.topups:
        raise ValueError(f"invalid top-up amount {amount_eur!r} EUR: expected one of {', '.join(allowed)}")
    net = amount_eur * 100
    vat = vat_cents(net, rate_percent=config.vat_rate_percent)
    return Document(
        kind=DocumentKind.TOPUP,
        item=str(amount_eur),
        description=f"Balance top-up, {amount_eur} EUR",
        net_cents=net,
        vat_cents=vat,
        gross_cents=net + vat,
        paid_from="payment",
        balance_change_cents=net,
    )


def document_for_message(languages: str, *, config: TariffConfig = DEFAULT_TARIFF) -> Document:
    """The document of the recorded out-of-hours message ("pt" or "pt+en").

    It is paid from the prepaid balance, whose VAT was invoiced when it was bought, so the
    document carries no VAT of its own.
    """
    if languages not in config.messages:
        raise ValueError(
            f"unknown recorded message languages {languages!r}: expected one of {_allowed(sorted(config.messages))}"
        )
    net = config.messages[languages]
    return Document(
        kind=DocumentKind.MESSAGE,
        item=languages,
        description=f"Recorded message ({languages.upper()})",
        net_cents=net,
        vat_cents=0,
        gross_cents=net,
        paid_from="balance",
        balance_change_cents=-net,
    )


def month_key(at: datetime, *, timezone: str = "Europe/Lisbon") -> str:
    """The calendar month "YYYY-MM" that the instant `at` falls in, read in `timezone`."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"datetime must be timezone-aware, got naive {at.isoformat()}")
    return at.astimezone(ZoneInfo(timezone)).strftime("%Y-%m")


def format_eur(cents: int, language: str) -> str:
    """An amount for people: "1 234,50 €" in Portuguese, "€1,234.50" in English."""
    sign = "-" if cents < 0 else ""
    euros, rest = divmod(abs(cents), 100)
    if language == "pt":
        grouped = f"{euros:,}".replace(",", " ")
        return f"{sign}{grouped},{rest:02d} €"
    if language == "en":
        return f"{sign}€{euros:,}.{rest:02d}"
    raise ValueError(f"unsupported language {language!r}: expected 'pt' or 'en'")
