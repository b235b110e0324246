"""Business hours: when the service answers a client's calls.

Hours are wall-clock windows per weekday in one time zone (Europe/Lisbon by default),
closed on Portuguese national holidays and on Lisbon's municipal holiday (13 June),
with per-client overrides of any of these settings.

A window "HH:MM-HH:MM" is half-open: "09:00-13:00" is open at 12:59:59 and closed at 13:00.
Windows are compared with the local wall-clock time, so on daylight-saving change days a
window keeps its wall-clock meaning (it is shorter or longer in real time).
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from types import MappingProxyType
from typing import Any, NamedTuple, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

DEFAULT_WINDOWS: tuple[str, ...] = ("09:00-13:00", "14:00-18:00")
LISBON_HOLIDAY_NAME = "St. Anthony's Day (Lisbon)"

_WINDOW_RE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
_END_OF_DAY = timedelta(hours=24)
# English names keep closed reasons stable whatever the package's default language is.
_HOLIDAY_LANGUAGE = "en_US"


class Weekday(StrEnum):
    """Days of the week, as written in configuration files (Monday is index 0)."""

    MON = "mon"
    TUE = "tue"
    WED = "wed"
    THU = "thu"
    FRI = "fri"
    SAT = "sat"
    SUN = "sun"

    @classmethod
    def of(cls, day: date) -> Weekday:
        """The weekday of a calendar date."""
        return list(cls)[day.weekday()]


class Window(NamedTuple):
    """One half-open opening window [start, end), as offsets from local midnight."""

    start: timedelta
    end: timedelta

    def contains(self, wall: timedelta) -> bool:
        """Whether a wall-clock offset from midnight falls inside the window."""
        return self.start <= wall < self.end


def parse_window(text: str) -> Window:
    """Parse "HH:MM-HH:MM" into a `Window`; the end may be "24:00" (midnight).

    Raises ValueError naming the bad value and the expected form.
    """
    expected = "expected 'HH:MM-HH:MM' with the start before the end, e.g. '09:00-13:00'"
    match = _WINDOW_RE.match(text) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"invalid opening window {text!r}: {expected}")
    sh, sm, eh, em = (int(part) for part in match.groups())
    if sh > 23 or sm > 59 or em > 59 or eh > 24 or (eh == 24 and em != 0):
        raise ValueError(f"invalid opening window {text!r}: time out of range; {expected}")
    start = timedelta(hours=sh, minutes=sm)
    end = timedelta(hours=eh, minutes=em)
    if start >= end:
        raise ValueError(f"invalid opening window {text!r}: {expected}")
    return Window(start, end)


def _parse_day(texts: list[str]) -> tuple[Window, ...]:
    """Parse and sort one day's windows, rejecting overlaps (they hide typos)."""
    pairs = sorted((parse_window(text), text) for text in texts)
    for (before, before_text), (after, after_text) in itertools.pairwise(pairs):
        if after.start < before.end:
            raise ValueError(f"opening windows {before_text!r} and {after_text!r} overlap")
    return tuple(window for window, _ in pairs)


def _default_windows() -> dict[Weekday, list[str]]:
    """Monday to Friday, the default two windows; closed at the weekend."""
    weekdays = (Weekday.MON, Weekday.TUE, Weekday.WED, Weekday.THU, Weekday.FRI)
    return {day: list(DEFAULT_WINDOWS) for day in weekdays}


class HoursConfig(BaseModel):
    """Opening hours of the service, globally or for one client.

    `windows` maps a weekday ("mon".."sun") to its windows; a weekday that is absent or has
    an empty list is closed. `closed` adds closed dates; `open` lists dates that are open
    although they are holidays (they use that weekday's windows, or the default
    09:00-13:00 and 14:00-18:00 when that weekday has none).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    windows: dict[Weekday, list[str]] = Field(default_factory=_default_windows)
    closed: list[date] = Field(default_factory=list)
    open: list[date] = Field(default_factory=list)
    lisbon_holiday: bool = True
    national_holidays: bool = True
    timezone: str = "Europe/Lisbon"

    @field_validator("windows")
    @classmethod
    def _check_windows(cls, value: dict[Weekday, list[str]]) -> dict[Weekday, list[str]]:
        """Every window parses and a day's windows do not overlap."""
        for day, texts in value.items():
            try:
                _parse_day(texts)
            except ValueError as exc:
                raise ValueError(f"windows.{day.value}: {exc}") from None
        return value

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        """The zone must be a known IANA name."""
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}: expected an IANA name such as 'Europe/Lisbon'") from None
        return value

    @model_validator(mode="after")
    def _check_open_closed(self) -> Self:
        """A date cannot be both forced open and forced closed."""
        both = sorted(set(self.open) & set(self.closed))
        if both:
            listed = ", ".join(day.isoformat() for day in both)
            raise ValueError(f"dates listed in both 'open' and 'closed': {listed}")
        return self


def merge(base: HoursConfig, override: Mapping[str, Any] | HoursConfig | None) -> HoursConfig:
    """Apply a client's overrides to the base hours; each given field replaces the base's.

    A mapping is validated like a configuration file (unknown keys are an error); for an
    `HoursConfig`, only the fields that were explicitly set count as overrides.
    """
    if override is None:
        return base
    if isinstance(override, HoursConfig):
        changes = {name: getattr(override, name) for name in override.model_fields_set}
    else:
        changes = dict(override)
    data = base.model_dump()
    data.update(changes)
    return HoursConfig.model_validate(data)


class BusinessHours:
    """Answers "is the service open at this instant?" for one `HoursConfig`.

    Holiday lookups are cached per year (national holidays across all instances), so the
    check is cheap enough for every call.
    """

    def __init__(self, config: HoursConfig | None = None) -> None:
        """Prepare the rules of `config` (the default hours when None)."""
        self._config = config if config is not None else HoursConfig()
        self._tz = ZoneInfo(self._config.timezone)
        self._windows = {day: _parse_day(texts) for day, texts in self._config.windows.items()}
        self._fallback = _parse_day(list(DEFAULT_WINDOWS))
        self._closed = frozenset(self._config.closed)
        self._open = frozenset(self._config.open)
        self._holidays: dict[int, dict[date, str]] = {}

    @classmethod
    def default(cls) -> BusinessHours:
        """The service's default hours: Mon-Fri 09:00-13:00 and 14:00-18:00, Lisbon."""
        return cls(HoursConfig())

    @property
    def config(self) -> HoursConfig:
        """The configuration these hours were built from."""
        return self._config

    @property
    def timezone(self) -> ZoneInfo:
        """The zone in which windows and dates are read."""
        return self._tz

    def holiday_name(self, day: date) -> str | None:
        """The name of the holiday on `day` under this configuration, or None."""
        return self._holidays_of(day.year).get(day)

    def windows_on(self, day: date) -> tuple[Window, ...]:
        """The opening windows of a local calendar date (empty when closed all day)."""
        return self._day(day)[0]

    def is_open(self, at: datetime) -> bool:
        """Whether the service answers at the instant `at` (which must be timezone-aware)."""
        local = self._local(at)
        wall = _wall(local)
        return any(window.contains(wall) for window in self.windows_on(local.date()))

    def closed_reason(self, at: datetime) -> str | None:
        """Why the service is closed at `at`, or None when it is open.

        One of "holiday: <name>", "closed day", "weekend", "closed on <weekday>",
        "outside hours".
        """
        local = self._local(at)
        windows, reason = self._day(local.date())
        if reason is not None:
            return reason
        wall = _wall(local)
        if any(window.contains(wall) for window in windows):
            return None
        return "outside hours"

    def next_open(self, at: datetime) -> datetime:
        """The first instant at or after `at` when the service is open, in the configured zone.

        Raises ValueError when these hours never open again.
        """
        local = self._local(at)
        if self.is_open(local):
            return local
        first = local.date()
        if not any(self._windows.values()) and not any(day >= first for day in self._open):
            raise ValueError("these opening hours have no window on any day")
        # Long closures are explicit dates; beyond them a week of windows repeats, give or
        # take a year of holidays.
        last_closed = max((day for day in self._closed if day >= first), default=first)
        horizon = (last_closed - first).days + 800
        for offset in range(horizon):
            day = first + timedelta(days=offset)
            for window in self.windows_on(day):
                found = self._first_open_in(day, window, local)
                if found is not None:
                    return found
        raise ValueError(f"no opening within {horizon} days of {local.isoformat()}")

    def _first_open_in(self, day: date, window: Window, after: datetime) -> datetime | None:
        """The earliest real instant >= `after` at which `window` of `day` is open, if any."""
        # Compared in UTC: datetimes sharing a tzinfo compare by wall clock, ignoring fold.
        floor = after.astimezone(UTC)
        candidates = [
            instant
            for instant in _instants_at(day, window.start, self._tz)
            if instant.astimezone(UTC) >= floor and self.is_open(instant)
        ]
        return min(candidates, key=lambda instant: instant.astimezone(UTC), default=None)

    def _local(self, at: datetime) -> datetime:
        """`at` in the configured zone; naive datetimes are refused."""
        if at.tzinfo is None or at.utcoffset() is None:
            raise ValueError(f"datetime must be timezone-aware, got naive {at.isoformat()}")
        return at.astimezone(self._tz)

    def _day(self, day: date) -> tuple[tuple[Window, ...], str | None]:
        """The windows of a local date and, when it has none, the reason why."""
        weekday = Weekday.of(day)
        windows = self._windows.get(weekday, ())
        if day in self._open:
            return (windows or self._fallback), None
        if day in self._closed:
            return (), "closed day"
        name = self.holiday_name(day)
        if name is not None:
            return (), f"holiday: {name}"
        if not windows:
            if weekday in (Weekday.SAT, Weekday.SUN):
                return (), "weekend"
            return (), f"closed on {weekday.value}"
        return windows, None

    def _holidays_of(self, year: int) -> dict[date, str]:
        """Holidays of one year by date, computed once per year."""
        cached = self._holidays.get(year)
        if cached is None:
            cached = {}
            if self._config.national_holidays:
                cached.update(_national_holidays(year))
            if self._config.lisbon_holiday:
                lisbon = date(year, 6, 13)
                cached[lisbon] = f"{cached[lisbon]}; {LISBON_HOLIDAY_NAME}" if lisbon in cached else LISBON_HOLIDAY_NAME
            self._holidays[year] = cached
        return cached


@functools.lru_cache(maxsize=64)
def _national_holidays(year: int) -> Mapping[date, str]:
    """Portuguese national holidays of one year, shared by every client's hours."""
    national = holidays.country_holidays("PT", years=year, language=_HOLIDAY_LANGUAGE)
    return MappingProxyType(dict(national.items()))


def _wall(local: datetime) -> timedelta:
    """Wall-clock offset of a local datetime from its local midnight."""
    return timedelta(
        hours=local.hour,
        minutes=local.minute,
        seconds=local.second,
        microseconds=local.microsecond,
    )


def _instants_at(day: date, wall: timedelta, tz: ZoneInfo) -> list[datetime]:
    """The real instants whose local wall-clock reads `wall` on `day`.

    Usually one; two when clocks go back (the hour repeats); when clocks go forward and that
    wall time is skipped, the instant of the change itself (the first instant after it).
    """
    naive = datetime.combine(day, time()) + wall
    first_reading = naive.replace(tzinfo=tz, fold=0)
    second_reading = naive.replace(tzinfo=tz, fold=1)
    utc_first = first_reading.astimezone(UTC)
    utc_second = second_reading.astimezone(UTC)
    if utc_first == utc_second:
        return [first_reading]
    if utc_first < utc_second:
        return [first_reading, second_reading]
    # Skipped wall time: fold=0 reads it with the offset before the change and fold=1 with
    # the offset after, so the change lies between the two; find it to the second.
    offset_after = second_reading.utcoffset()
    low, high = int(utc_second.timestamp()), int(utc_first.timestamp())
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, tz).utcoffset() == offset_after:
            high = middle
        else:
            low = middle
    return [datetime.fromtimestamp(high, tz)]
