"""When outbound contacts may be made: outside quiet hours, never on Sundays or national holidays.

By default people are contacted Monday to Saturday from 09:00 to 20:00 Lisbon time,
never on a Portuguese national holiday. `[outbound]` in `recado.toml` changes the
evening hour quiet time starts (`quiet_start`), the morning hour it ends (`quiet_end`)
and whether Sundays are allowed (`sunday`); it also says how long a phone task claimed by
an agent may idle before it is given back (`task_claim_timeout_min`, see
`hub.core.campaigns_stale`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from hub.core.hours import BusinessHours, HoursConfig, Weekday, parse_window


class OutboundSettings(BaseModel):
    """`[outbound]`: the quiet hours of campaigns (Europe/Lisbon wall-clock times) and how long a task may idle."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: Evening time from which nobody is contacted.
    quiet_start: str = "20:00"
    #: Morning time until which nobody is contacted.
    quiet_end: str = "09:00"
    #: Whether contacts are made on Sundays too.
    sunday: bool = False
    #: Minutes a claimed phone task may go without activity (and no call in progress) before it is given back.
    task_claim_timeout_min: int = Field(default=30, ge=1, le=24 * 60)

    @model_validator(mode="after")
    def _window_parses(self) -> Self:
        """Quiet hours end in the morning before they start in the evening."""
        try:
            parse_window(self.window)
        except ValueError:
            raise ValueError(
                f"quiet_end ({self.quiet_end!r}) must be a time HH:MM before quiet_start ({self.quiet_start!r})"
            ) from None
        return self

    @property
    def window(self) -> str:
        """The daily window in which contacts are made, as `hub.core.hours` writes it."""
        return f"{self.quiet_end}-{self.quiet_start}"


class QuietHours:
    """Answers "may someone be contacted at this instant?" for one `OutboundSettings`."""

    def __init__(self, settings: OutboundSettings | None = None) -> None:
        """Prepare the rules of `settings` (the defaults when None)."""
        settings = settings or OutboundSettings()
        days = [day for day in Weekday if day is not Weekday.SUN or settings.sunday]
        # Lisbon's municipal holiday is a working day for people called elsewhere in the country.
        self._hours = BusinessHours(HoursConfig(windows={day: [settings.window] for day in days}, lisbon_holiday=False))

    def allows(self, at: datetime) -> bool:
        """Whether a contact may be made at `at`."""
        return self._hours.is_open(at)

    def why_not(self, at: datetime) -> str | None:
        """Why no contact may be made at `at` ("quiet hours", "weekend", "holiday: …"), or None."""
        reason = self._hours.closed_reason(at)
        return "quiet hours" if reason == "outside hours" else reason

    def next_allowed(self, at: datetime) -> datetime:
        """The first instant at or after `at` when contacts may be made."""
        return self._hours.next_open(at)
