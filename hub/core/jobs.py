"""The hub's periodic jobs, in the order `recado tick` and `recado run` start them."""

from __future__ import annotations

from hub.core.scheduler import Job

#: Every periodic job of the hub. Each is idempotent for a given time (see `hub.core.scheduler`).
JOBS: list[Job] = []
