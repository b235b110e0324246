"""The `volume` tariff mode's month-end credit, against the published tariff and any valid tariff."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.core.clients import TariffOverride
from hub.core.tariff import TariffConfig, graduated_total_cents, volume_settlement_cents

TARIFF = TariffConfig()


def reference_price(k: int, negotiated: int | None, config: TariffConfig) -> int:
    """The price of call k read straight off the tariff's table (a model independent of hub.core.tariff)."""
    if k >= config.negotiated_from:
        return config.negotiated_default_cents if negotiated is None else negotiated
    return [cents for first, cents in config.inbound_tiers if first <= k][-1]


def reference_credit(n: int, negotiated: int | None, config: TariffConfig) -> int:
    """What a client paid call by call, less what n calls cost at the price of call n; never below 0."""
    if n == 0:
        return 0
    paid = sum(reference_price(k, negotiated, config) for k in range(1, n + 1))
    return max(0, paid - n * reference_price(n, negotiated, config))


def test_150_calls_are_credited_the_difference_to_one_euro_each() -> None:
    # Graduated: 99 × 1.50 + 51 × 1.00 = 199.50; volume: 150 × 1.00 = 150.00.
    assert graduated_total_cents(150, 40, config=TARIFF) == 99 * 150 + 51 * 100 == 19950
    assert volume_settlement_cents(150, 40, TARIFF) == 19950 - 150 * 100 == 4950


def test_250_calls_are_all_priced_at_fifty_cents() -> None:
    # Graduated: 99 × 1.50 + 100 × 1.00 + 51 × 0.50 = 274.00; volume: 250 × 0.50 = 125.00.
    assert graduated_total_cents(250, None, config=TARIFF) == 27400
    assert volume_settlement_cents(250, None, TARIFF) == 27400 - 12500 == 14900


def test_from_call_300_the_negotiated_rate_sets_the_price_of_every_call() -> None:
    # Graduated: 148.50 + 100.00 + 50.00 + 51 × 0.40 = 318.90; volume: 350 × 0.40 = 140.00.
    assert graduated_total_cents(350, 40, config=TARIFF) == 31890
    assert volume_settlement_cents(350, 40, TARIFF) == 31890 - 350 * 40 == 17890


def test_a_month_within_the_first_tier_gets_no_credit() -> None:
    assert volume_settlement_cents(99, 40, TARIFF) == 0
    assert volume_settlement_cents(1, 40, TARIFF) == 0


def test_a_month_without_calls_gets_no_credit() -> None:
    assert volume_settlement_cents(0, 40, TARIFF) == 0
    assert graduated_total_cents(0, 40, config=TARIFF) == 0


def test_a_negotiated_rate_dearer_than_the_tiers_never_debits_more() -> None:
    # 300 × 2.00 = 600.00 is more than the 300.50 debited call by call: nothing is taken back.
    assert graduated_total_cents(300, 200, config=TARIFF) == 14850 + 10000 + 5000 + 200
    assert volume_settlement_cents(300, 200, TARIFF) == 0


@pytest.mark.parametrize("bad", [-1, True, 1.5, "3"])
def test_a_count_that_is_not_a_whole_number_of_calls_is_refused(bad: object) -> None:
    with pytest.raises(ValueError, match="number of calls must be an integer >= 0"):
        volume_settlement_cents(bad, 40, TARIFF)  # type: ignore[arg-type]


def test_the_tariff_mode_of_a_client_is_graduated_unless_it_says_volume() -> None:
    assert TariffOverride().mode == "graduated"
    assert TariffOverride(mode="volume").mode == "volume"
    with pytest.raises(ValueError, match="mode"):
        TariffOverride(mode="flat")  # type: ignore[arg-type]


@st.composite
def tariffs(draw: st.DrawFn) -> TariffConfig:
    """Any valid tariff: tiers starting at call 1, then a negotiated rate after the last tier."""
    starts = sorted(draw(st.sets(st.integers(min_value=2, max_value=400), max_size=4)))
    tiers = [(first, draw(st.integers(min_value=0, max_value=500))) for first in [1, *starts]]
    negotiated_from = draw(st.integers(min_value=tiers[-1][0] + 1, max_value=tiers[-1][0] + 300))
    default = draw(st.integers(min_value=0, max_value=500))
    return TariffConfig(inbound_tiers=tiers, negotiated_from=negotiated_from, negotiated_default_cents=default)


@given(
    config=tariffs(),
    n=st.integers(min_value=0, max_value=1500),
    negotiated=st.none() | st.integers(min_value=0, max_value=500),
)
def test_the_credit_matches_a_call_by_call_computation_for_any_tariff(
    config: TariffConfig, n: int, negotiated: int | None
) -> None:
    assert volume_settlement_cents(n, negotiated, config) == reference_credit(n, negotiated, config)


@given(
    config=tariffs(),
    n=st.integers(min_value=0, max_value=1500),
    negotiated=st.none() | st.integers(min_value=0, max_value=500),
)
def test_the_graduated_total_is_the_sum_of_each_calls_price(
    config: TariffConfig, n: int, negotiated: int | None
) -> None:
    expected = sum(reference_price(k, negotiated, config) for k in range(1, n + 1))
    assert graduated_total_cents(n, negotiated, config=config) == expected


@given(n=st.integers(min_value=1, max_value=5000), negotiated=st.none() | st.integers(min_value=0, max_value=50))
def test_with_falling_prices_the_client_pays_exactly_one_price_for_all_calls(n: int, negotiated: int | None) -> None:
    # The published tiers only fall (down to a rate of at most 0.50), so nothing is clipped at 0.
    credit = volume_settlement_cents(n, negotiated, TARIFF)
    price_of_last = reference_price(n, negotiated, TARIFF)
    assert graduated_total_cents(n, negotiated, config=TARIFF) - credit == n * price_of_last
