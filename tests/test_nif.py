"""The Portuguese tax number: nine digits, a known start, the mod-11 check digit."""

from __future__ import annotations

import pytest

from hub.core.nif import NifError, check_digit, is_valid_nif, validate_nif


@pytest.mark.parametrize(
    "nif",
    ["509999999", "513000003", "123456789", "501442600", "980123453", "450000001", "700000003", "999999990"],
)
def test_valid_nifs_are_accepted(nif: str) -> None:
    assert validate_nif(nif) == nif


def test_spaces_dots_and_a_pt_prefix_are_dropped() -> None:
    assert validate_nif("PT 509 999.999") == "509999999"


def test_a_remainder_of_0_or_1_gives_check_digit_0() -> None:
    # 99999999 → weights 9..2 sum to 396 = 36 × 11: remainder 0.
    assert check_digit("99999999") == 0
    assert validate_nif("999999990") == "999999990"


def test_a_wrong_check_digit_is_named_with_the_expected_one() -> None:
    with pytest.raises(NifError) as raised:
        validate_nif("509999998")
    assert raised.value.reason == "check"
    assert str(raised.value) == "'509999998' is not a valid NIF: its last digit should be 9, not 8 (check for a typo)"


def test_two_swapped_digits_fail_the_check() -> None:
    assert not is_valid_nif("590999999")


@pytest.mark.parametrize("nif", ["412345678", "000000000", "731234567", "761234567", "921234567", "971234561"])
def test_starts_no_nif_has_are_refused(nif: str) -> None:
    with pytest.raises(NifError) as raised:
        validate_nif(nif)
    assert raised.value.reason == "prefix"
    assert "valid starts: 1, 2, 3, 45, 5, 6, 70" in str(raised.value)


@pytest.mark.parametrize("value", ["", "5099", "5099999999", "50999999a"])
def test_anything_but_nine_digits_is_refused(value: str) -> None:
    with pytest.raises(NifError) as raised:
        validate_nif(value)
    assert raised.value.reason == "format"
    assert "expected 9 digits" in str(raised.value)
