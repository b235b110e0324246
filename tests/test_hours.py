"""Business hours: windows, holidays, overrides and daylight-saving days in Lisbon."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from hub.core.hours import (
    BusinessHours,
    HoursConfig,
    Weekday,
    Window,
    merge,
    parse_window,
)

LISBON = ZoneInfo("Europe/Lisbon")
HOURS = BusinessHours.default()


def lisbon(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    """A Lisbon wall-clock instant."""
    return datetime(year, month, day, hour, minute, second, tzinfo=LISBON)


# --- windows on an ordinary weekday (Monday 2 March 2026) ---


@pytest.mark.parametrize(
    ("hour", "minute", "second", "expected"),
    [
        (8, 59, 59, False),
        (9, 0, 0, True),
        (12, 59, 59, True),
        (13, 0, 0, False),
        (13, 59, 59, False),
        (14, 0, 0, True),
        (17, 59, 59, True),
        (18, 0, 0, False),
    ],
)
def test_windows_are_half_open(hour: int, minute: int, second: int, expected: bool) -> None:
    assert HOURS.is_open(lisbon(2026, 3, 2, hour, minute, second)) is expected


def test_lunch_break_is_outside_hours() -> None:
    assert HOURS.closed_reason(lisbon(2026, 3, 2, 13, 30)) == "outside hours"


def test_open_instant_has_no_closed_reason() -> None:
    assert HOURS.closed_reason(lisbon(2026, 3, 2, 10)) is None


def test_saturday_and_sunday_are_weekend() -> None:
    assert HOURS.closed_reason(lisbon(2026, 3, 7, 10)) == "weekend"
    assert HOURS.closed_reason(lisbon(2026, 3, 8, 10)) == "weekend"


def test_instants_in_other_zones_are_read_in_lisbon() -> None:
    # 08:30 UTC in winter is 08:30 in Lisbon (closed); in summer it is 09:30 (open).
    assert not HOURS.is_open(datetime(2026, 1, 5, 8, 30, tzinfo=UTC))
    assert HOURS.is_open(datetime(2026, 7, 6, 8, 30, tzinfo=UTC))


def test_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        HOURS.is_open(datetime(2026, 3, 2, 10))


# --- holidays ---

NATIONAL_2026 = [
    date(2026, 1, 1),
    date(2026, 4, 3),  # Good Friday
    date(2026, 4, 25),
    date(2026, 5, 1),
    date(2026, 6, 4),  # Corpus Christi
    date(2026, 6, 10),
    date(2026, 8, 15),
    date(2026, 10, 5),
    date(2026, 11, 1),
    date(2026, 12, 1),
    date(2026, 12, 8),
    date(2026, 12, 25),
]


@pytest.mark.parametrize("day", NATIONAL_2026, ids=str)
def test_national_holidays_of_2026_are_closed(day: date) -> None:
    at = lisbon(day.year, day.month, day.day, 10)
    assert not HOURS.is_open(at)
    reason = HOURS.closed_reason(at)
    assert reason is not None and reason.startswith("holiday: ")


def test_good_friday_reason_names_the_holiday() -> None:
    assert HOURS.closed_reason(lisbon(2026, 4, 3, 10)) == "holiday: Good Friday"


def test_day_after_a_holiday_is_open() -> None:
    assert HOURS.is_open(lisbon(2026, 6, 5, 10))


def test_lisbon_holiday_closes_a_weekday() -> None:
    # 13 June 2025 is a Friday.
    assert HOURS.closed_reason(lisbon(2025, 6, 13, 10)) == "holiday: St. Anthony's Day (Lisbon)"


def test_lisbon_holiday_on_a_saturday_reports_the_holiday() -> None:
    # 13 June 2026 is a Saturday: the holiday is the more useful reason.
    assert HOURS.closed_reason(lisbon(2026, 6, 13, 10)) == "holiday: St. Anthony's Day (Lisbon)"


def test_lisbon_holiday_can_be_disabled() -> None:
    hours = BusinessHours(HoursConfig(lisbon_holiday=False))
    assert hours.is_open(lisbon(2025, 6, 13, 10))


def test_national_holidays_can_be_disabled() -> None:
    hours = BusinessHours(HoursConfig(national_holidays=False))
    assert hours.is_open(lisbon(2026, 12, 1, 10))


def test_holiday_name_is_none_on_a_working_day() -> None:
    assert HOURS.holiday_name(date(2026, 3, 2)) is None


def test_extra_closed_day_is_closed() -> None:
    hours = BusinessHours(HoursConfig(closed=[date(2026, 3, 2)]))
    assert hours.closed_reason(lisbon(2026, 3, 2, 10)) == "closed day"


def test_open_date_overrides_a_holiday() -> None:
    hours = BusinessHours(HoursConfig(open=[date(2026, 12, 8)]))
    assert hours.is_open(lisbon(2026, 12, 8, 10))
    assert not hours.is_open(lisbon(2026, 12, 8, 13, 30))


def test_open_date_without_weekday_windows_uses_default_windows() -> None:
    # 25 April 2026 is a Saturday holiday; Saturday has no windows.
    hours = BusinessHours(HoursConfig(open=[date(2026, 4, 25)]))
    assert hours.is_open(lisbon(2026, 4, 25, 9))
    assert not hours.is_open(lisbon(2026, 4, 25, 18))


def test_weekday_without_windows_is_closed_on_that_weekday() -> None:
    hours = BusinessHours(HoursConfig(windows={Weekday.TUE: ["09:00-18:00"]}))
    assert hours.closed_reason(lisbon(2026, 3, 2, 10)) == "closed on mon"


# --- next_open ---


def test_next_open_of_an_open_instant_is_itself() -> None:
    at = lisbon(2026, 3, 2, 10, 15)
    assert HOURS.next_open(at) == at


def test_next_open_during_lunch_is_two_pm() -> None:
    assert HOURS.next_open(lisbon(2026, 3, 2, 13)) == lisbon(2026, 3, 2, 14)


def test_next_open_after_friday_evening_is_monday_morning() -> None:
    assert HOURS.next_open(lisbon(2026, 3, 6, 18)) == lisbon(2026, 3, 9, 9)


def test_next_open_skips_easter_weekend() -> None:
    # Thursday 2 April 18:00 -> Good Friday, weekend -> Monday 6 April 09:00.
    assert HOURS.next_open(lisbon(2026, 4, 2, 18)) == lisbon(2026, 4, 6, 9)


def test_next_open_is_in_the_configured_zone() -> None:
    found = HOURS.next_open(datetime(2026, 7, 4, 12, tzinfo=UTC))
    assert found.tzinfo == LISBON
    assert found == lisbon(2026, 7, 6, 9)


def test_next_open_skips_a_long_closure() -> None:
    closure = [date(2026, 3, 2) + timedelta(days=n) for n in range(60)]
    hours = BusinessHours(HoursConfig(closed=closure))
    assert hours.next_open(lisbon(2026, 3, 2, 8)) == lisbon(2026, 5, 4, 9)


def test_next_open_of_hours_without_windows_is_an_error() -> None:
    hours = BusinessHours(HoursConfig(windows={}))
    with pytest.raises(ValueError, match="no window"):
        hours.next_open(lisbon(2026, 3, 2, 8))


# --- daylight-saving change days (Lisbon: 29 March and 25 October 2026, at 01:00 UTC) ---


def test_default_hours_on_spring_forward_monday_follow_the_wall_clock() -> None:
    # Clocks went forward on Sunday 29 March; on Monday 09:00 Lisbon is 08:00 UTC.
    assert HOURS.is_open(datetime(2026, 3, 30, 8, 0, tzinfo=UTC))
    assert not HOURS.is_open(datetime(2026, 3, 30, 7, 59, 59, tzinfo=UTC))


def test_next_open_across_spring_forward_weekend() -> None:
    found = HOURS.next_open(lisbon(2026, 3, 27, 18))
    assert found == lisbon(2026, 3, 30, 9)
    assert found.astimezone(UTC) == datetime(2026, 3, 30, 8, tzinfo=UTC)


def test_next_open_across_fall_back_weekend() -> None:
    found = HOURS.next_open(lisbon(2026, 10, 23, 18))
    assert found.astimezone(UTC) == datetime(2026, 10, 26, 9, tzinfo=UTC)


def test_window_starting_in_the_skipped_hour_opens_when_clocks_change() -> None:
    hours = BusinessHours(HoursConfig(windows={Weekday.SUN: ["01:30-03:00"]}))
    found = hours.next_open(lisbon(2026, 3, 28, 12))
    # 01:00 UTC is the change: the local clock jumps from 01:00 to 02:00.
    assert found.astimezone(UTC) == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
    assert hours.is_open(found)


def test_window_inside_the_skipped_hour_never_opens_that_day() -> None:
    hours = BusinessHours(HoursConfig(windows={Weekday.SUN: ["01:10-01:50"]}, national_holidays=False))
    found = hours.next_open(lisbon(2026, 3, 28, 12))
    assert found == lisbon(2026, 4, 5, 1, 10)


def test_window_in_the_repeated_hour_opens_on_its_second_pass() -> None:
    hours = BusinessHours(HoursConfig(windows={Weekday.SUN: ["01:40-01:50"]}))
    # 01:35 UTC is 01:35 local on the second pass (after the clock went back at 01:00 UTC).
    found = hours.next_open(datetime(2026, 10, 25, 1, 35, tzinfo=UTC))
    assert found.astimezone(UTC) == datetime(2026, 10, 25, 1, 40, tzinfo=UTC)


def test_repeated_hour_is_open_on_both_passes() -> None:
    hours = BusinessHours(HoursConfig(windows={Weekday.SUN: ["01:00-02:00"]}))
    assert hours.is_open(datetime(2026, 10, 25, 0, 30, tzinfo=UTC))
    assert hours.is_open(datetime(2026, 10, 25, 1, 30, tzinfo=UTC))


@settings(max_examples=200, deadline=None)
@given(
    st.datetimes(
        min_value=datetime(2024, 1, 1),
        max_value=datetime(2030, 12, 31),
        timezones=st.just(UTC),
    )
)
def test_next_open_is_open_and_not_before_the_instant(at: datetime) -> None:
    found = HOURS.next_open(at)
    assert found >= at
    assert HOURS.is_open(found)


@settings(max_examples=200, deadline=None)
@given(
    st.datetimes(
        min_value=datetime(2024, 1, 1),
        max_value=datetime(2030, 12, 31),
        timezones=st.just(UTC),
    )
)
def test_closed_reason_is_none_exactly_when_open(at: datetime) -> None:
    assert (HOURS.closed_reason(at) is None) == HOURS.is_open(at)


@settings(max_examples=100, deadline=None)
@given(
    st.datetimes(
        min_value=datetime(2024, 1, 1),
        max_value=datetime(2030, 12, 31),
        timezones=st.just(UTC),
    ),
    st.integers(min_value=1, max_value=59),
)
def test_no_open_instant_is_skipped_before_next_open(at: datetime, minutes: int) -> None:
    found = HOURS.next_open(at)
    probe = found - timedelta(minutes=minutes)
    if probe >= at:
        assert not HOURS.is_open(probe)


# --- configuration ---


def test_parse_window_reads_hours_and_minutes() -> None:
    assert parse_window("09:30-13:00") == Window(timedelta(hours=9, minutes=30), timedelta(hours=13))


def test_window_may_end_at_midnight() -> None:
    assert parse_window("20:00-24:00").end == timedelta(hours=24)


@pytest.mark.parametrize(
    "bad", ["9-13", "13:00-09:00", "09:00-09:00", "25:00-26:00", "09:60-10:00", "24:00-24:30"]
)
def test_bad_window_is_refused_naming_the_value(bad: str) -> None:
    with pytest.raises(ValidationError, match=f"windows.mon: invalid opening window '{bad}'"):
        HoursConfig.model_validate({"windows": {"mon": [bad]}})


def test_overlapping_windows_are_refused() -> None:
    with pytest.raises(ValidationError, match="'09:00-13:00' and '12:00-14:00' overlap"):
        HoursConfig.model_validate({"windows": {"mon": ["12:00-14:00", "09:00-13:00"]}})


def test_unknown_weekday_is_refused() -> None:
    with pytest.raises(ValidationError, match="windows"):
        HoursConfig.model_validate({"windows": {"monday": ["09:00-13:00"]}})


def test_unknown_field_is_refused() -> None:
    with pytest.raises(ValidationError, match="holydays"):
        HoursConfig.model_validate({"holydays": True})


def test_unknown_timezone_is_refused() -> None:
    with pytest.raises(ValidationError, match="unknown time zone 'Europe/Lisboa'"):
        HoursConfig(timezone="Europe/Lisboa")


def test_date_both_open_and_closed_is_refused() -> None:
    with pytest.raises(ValidationError, match="2026-03-02"):
        HoursConfig(open=[date(2026, 3, 2)], closed=[date(2026, 3, 2)])


def test_other_timezone_reads_windows_there() -> None:
    hours = BusinessHours(HoursConfig(timezone="Atlantic/Azores"))
    # 09:30 in Lisbon is 08:30 in the Azores.
    assert not hours.is_open(lisbon(2026, 3, 2, 9, 30))


# --- merge ---


def test_merge_without_override_is_the_base() -> None:
    base = HoursConfig()
    assert merge(base, None) == base


def test_merge_dict_replaces_only_given_fields() -> None:
    merged = merge(HoursConfig(closed=[date(2026, 3, 2)]), {"lisbon_holiday": False})
    assert merged.lisbon_holiday is False
    assert merged.closed == [date(2026, 3, 2)]


def test_merge_windows_replace_the_whole_week() -> None:
    merged = merge(HoursConfig(), {"windows": {"sat": ["10:00-12:00"]}})
    hours = BusinessHours(merged)
    assert hours.is_open(lisbon(2026, 3, 7, 11))
    assert not hours.is_open(lisbon(2026, 3, 2, 10))


def test_merge_config_uses_only_explicitly_set_fields() -> None:
    base = HoursConfig(lisbon_holiday=False)
    merged = merge(base, HoursConfig(closed=[date(2026, 3, 3)]))
    assert merged.lisbon_holiday is False
    assert merged.closed == [date(2026, 3, 3)]


def test_merge_with_unknown_field_is_refused() -> None:
    with pytest.raises(ValidationError, match="weekends"):
        merge(HoursConfig(), {"weekends": True})


def test_merge_validates_the_override() -> None:
    with pytest.raises(ValidationError, match="invalid opening window"):
        merge(HoursConfig(), {"windows": {"mon": ["18:00-09:00"]}})
