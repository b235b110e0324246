"""Tariff: call prices by tier, VAT rounding, documents, months and money formatting."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from hub.core.models import Language
from hub.core.tariff import (
    Document,
    DocumentKind,
    TariffConfig,
    document_for_message,
    document_for_plan,
    document_for_topup,
    exceeds_average_talk,
    format_eur,
    inbound_price,
    month_key,
    needs_negotiated_alert,
    outbound_price,
    vat_cents,
)

LISBON = ZoneInfo("Europe/Lisbon")

# --- inbound calls ---


@pytest.mark.parametrize(
    ("k", "cents"),
    [(1, 150), (99, 150), (100, 100), (199, 100), (200, 50), (299, 50)],
)
def test_inbound_tier_edges(k: int, cents: int) -> None:
    assert inbound_price(k, None) == cents


def test_call_300_costs_the_negotiated_rate() -> None:
    assert inbound_price(300, 40) == 40


def test_call_300_without_negotiated_rate_costs_the_default() -> None:
    assert inbound_price(300, None) == 50


def test_negotiated_rate_does_not_apply_before_call_300() -> None:
    assert inbound_price(299, 10) == 50


def test_negotiated_rate_of_zero_is_honoured() -> None:
    assert inbound_price(1000, 0) == 0


def test_negative_negotiated_rate_is_refused() -> None:
    with pytest.raises(ValueError, match="negotiated_cents"):
        inbound_price(300, -1)


@pytest.mark.parametrize("k", [0, -1])
def test_call_number_below_one_is_refused(k: int) -> None:
    with pytest.raises(ValueError, match="call number must be an integer >= 1"):
        inbound_price(k, None)


def test_alert_is_needed_from_call_300_without_negotiated_rate() -> None:
    assert not needs_negotiated_alert(299, None)
    assert needs_negotiated_alert(300, None)
    assert needs_negotiated_alert(301, None)


def test_no_alert_with_a_negotiated_rate() -> None:
    assert not needs_negotiated_alert(300, 40)


@given(st.integers(min_value=1, max_value=298))
def test_inbound_price_never_increases_up_to_call_299(k: int) -> None:
    assert inbound_price(k + 1, None) <= inbound_price(k, None)


@given(st.integers(min_value=1, max_value=10_000), st.none() | st.integers(0, 500))
def test_inbound_price_is_one_of_the_configured_prices(k: int, negotiated: int | None) -> None:
    allowed = {150, 100, 50} | ({negotiated} if negotiated is not None else set())
    assert inbound_price(k, negotiated) in allowed


def test_custom_tiers_are_used() -> None:
    config = TariffConfig(inbound_tiers=[(1, 200), (10, 120)], negotiated_from=20)
    assert inbound_price(9, None, config=config) == 200
    assert inbound_price(10, None, config=config) == 120
    assert inbound_price(20, 30, config=config) == 30


# --- outbound contacts ---


@pytest.mark.parametrize(("k", "cents"), [(1, 100), (99, 100), (100, 50), (5000, 50)])
def test_outbound_tier_edges(k: int, cents: int) -> None:
    assert outbound_price(k) == cents


# --- VAT ---


@pytest.mark.parametrize(
    ("net", "vat"),
    [
        (15600, 3588),
        (9600, 2208),
        (2000, 460),
        (0, 0),
        (1, 0),  # 0.23
        (2, 0),  # 0.46
        (3, 1),  # 0.69
        (50, 12),  # 11.50 exactly: half rounds up
        (150, 35),  # 34.50 exactly: half rounds up
        (250, 58),  # 57.50 exactly
        (-50, -12),  # credit: half rounds away from zero
    ],
)
def test_vat_rounds_half_up_to_the_cent(net: int, vat: int) -> None:
    assert vat_cents(net) == vat


@given(st.integers(min_value=0, max_value=10**12))
def test_vat_is_within_half_a_cent_of_the_exact_amount(net: int) -> None:
    exact = Fraction(net * 23, 100)
    assert abs(vat_cents(net) - exact) <= Fraction(1, 2)


@given(st.integers(min_value=0, max_value=10**12), st.integers(min_value=0, max_value=100))
def test_vat_agrees_with_decimal_half_up(net: int, rate: int) -> None:
    exact = Decimal(net) * Decimal(rate) / Decimal(100)
    expected = int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    assert vat_cents(net, rate_percent=rate) == expected


# --- documents ---


def test_twelve_month_contract_document() -> None:
    document = document_for_plan("12m")
    assert (document.net_cents, document.vat_cents, document.gross_cents) == (15600, 3588, 19188)
    assert document.kind is DocumentKind.CONTRACT
    assert document.months == 12
    assert document.paid_from == "payment"


def test_contract_credits_the_whole_net_amount() -> None:
    assert document_for_plan("6m").balance_change_cents == 9600


def test_unknown_plan_lists_the_plans() -> None:
    with pytest.raises(ValueError, match="unknown plan '3m': expected one of '12m', '6m'"):
        document_for_plan("3m")


@pytest.mark.parametrize(("euros", "vat"), [(20, 460), (30, 690), (50, 1150)])
def test_topup_documents(euros: int, vat: int) -> None:
    document = document_for_topup(euros)
    assert document.net_cents == euros * 100
    assert document.vat_cents == vat
    assert document.gross_cents == euros * 100 + vat
    assert document.balance_change_cents == euros * 100
    assert document.paid_from == "payment"


@pytest.mark.parametrize("euros", [-20, 0, 25, 100, 2000])
def test_invalid_topup_lists_the_allowed_amounts(euros: int) -> None:
    with pytest.raises(ValueError, match="expected one of 20, 30, 50"):
        document_for_topup(euros)


def test_topup_in_cents_by_mistake_is_refused() -> None:
    with pytest.raises(ValueError, match="invalid top-up amount 2000"):
        document_for_topup(2000)


@pytest.mark.parametrize(("languages", "cents"), [("pt", 3000), ("pt+en", 4000)])
def test_message_is_paid_from_the_balance_without_vat(languages: str, cents: int) -> None:
    document = document_for_message(languages)
    assert (document.net_cents, document.vat_cents, document.gross_cents) == (cents, 0, cents)
    assert document.paid_from == "balance"
    assert document.balance_change_cents == -cents


def test_unknown_message_languages_are_refused() -> None:
    with pytest.raises(ValueError, match="expected one of 'pt', 'pt\\+en'"):
        document_for_message("en")


def test_document_gross_must_be_net_plus_vat() -> None:
    with pytest.raises(ValidationError, match="gross_cents"):
        Document(
            kind=DocumentKind.TOPUP,
            item="20",
            description="x",
            net_cents=2000,
            vat_cents=460,
            gross_cents=2400,
            paid_from="payment",
            balance_change_cents=2000,
        )


def test_document_serializes_amounts_as_integers() -> None:
    data = document_for_plan("12m").model_dump(mode="json")
    assert data["net_cents"] == 15600 and isinstance(data["vat_cents"], int)
    assert data["kind"] == "contract"


# --- configuration ---


def test_unknown_tariff_field_is_refused() -> None:
    with pytest.raises(ValidationError, match="vat_rate"):
        TariffConfig.model_validate({"vat_rate": 23})


def test_float_price_is_refused() -> None:
    with pytest.raises(ValidationError, match="negotiated_default_cents"):
        TariffConfig.model_validate({"negotiated_default_cents": 0.5})


def test_tiers_must_start_at_call_one() -> None:
    with pytest.raises(ValidationError, match="must start at call 1"):
        TariffConfig(inbound_tiers=[(2, 150)])


def test_tiers_must_increase() -> None:
    with pytest.raises(ValidationError, match="increasing call numbers"):
        TariffConfig(outbound_tiers=[(1, 100), (100, 50), (50, 20)])


def test_negotiated_rate_must_start_after_the_last_tier() -> None:
    with pytest.raises(ValidationError, match="negotiated_from"):
        TariffConfig(negotiated_from=200)


def test_plans_need_durations() -> None:
    with pytest.raises(ValidationError, match="plan_months"):
        TariffConfig(plans={"12m": 15600, "3m": 5000})


def test_topups_are_whole_euros() -> None:
    with pytest.raises(ValidationError, match="whole number of euros"):
        TariffConfig(topups=[2050])


def test_tiers_from_a_config_file_become_tuples() -> None:
    config = TariffConfig.model_validate({"outbound_tiers": [[1, 90], [50, 40]]})
    assert outbound_price(50, config=config) == 40


# --- average talk time ---


def test_average_talk_at_the_limit_is_fine() -> None:
    assert not exceeds_average_talk(240 * 10, 10)


def test_average_talk_above_the_limit_is_flagged() -> None:
    assert exceeds_average_talk(240 * 10 + 1, 10)


def test_average_talk_without_calls_is_fine() -> None:
    assert not exceeds_average_talk(0, 0)


# --- months ---


@pytest.mark.parametrize(
    ("at", "key"),
    [
        (datetime(2026, 3, 31, 23, 30, tzinfo=UTC), "2026-04"),  # 00:30 summer time
        (datetime(2026, 3, 31, 22, 59, 59, tzinfo=UTC), "2026-03"),
        (datetime(2026, 1, 31, 23, 30, tzinfo=UTC), "2026-01"),  # winter: Lisbon is UTC
        (datetime(2026, 10, 31, 23, 30, tzinfo=UTC), "2026-10"),  # back on UTC
        (datetime(2026, 9, 30, 23, 0, tzinfo=UTC), "2026-10"),
        (datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC), "2026-12"),
    ],
)
def test_month_key_edges(at: datetime, key: str) -> None:
    assert month_key(at) == key


def test_month_key_refuses_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        month_key(datetime(2026, 3, 1))


@given(
    st.datetimes(
        min_value=datetime(2000, 1, 1),
        max_value=datetime(2100, 1, 1),
        timezones=st.just(UTC),
    )
)
def test_month_key_agrees_with_lisbon_wall_clock(at: datetime) -> None:
    local = at.astimezone(LISBON)
    assert month_key(at) == f"{local.year:04d}-{local.month:02d}"


# --- formatting ---


@pytest.mark.parametrize(
    ("cents", "language", "text"),
    [
        (150, "pt", "1,50 €"),
        (150, "en", "€1.50"),
        (5, "pt", "0,05 €"),
        (0, "en", "€0.00"),
        (123456, "pt", "1 234,56 €"),
        (123456, "en", "€1,234.56"),
        (-250, "pt", "-2,50 €"),
        (-250, "en", "-€2.50"),
    ],
)
def test_format_eur(cents: int, language: str, text: str) -> None:
    assert format_eur(cents, language) == text


def test_format_eur_refuses_unknown_language() -> None:
    with pytest.raises(ValueError, match="unsupported language 'fr'"):
        format_eur(100, "fr")


def test_format_eur_accepts_the_language_enum() -> None:
    assert format_eur(150, Language.EN) == "€1.50"
