"""Periodic work of the hub: contract reminders, month-end settlements, reports, retention.

A `Job` is a function of "now". It must be idempotent for a given `now` (its effects are
keyed by dates: ledger idempotency keys, mail keys, alert keys), so running it twice, or
again after a crash, changes nothing. `recado run` calls `run_due` every minute with the
wall clock; `recado tick --at …` runs jobs once at a chosen time, for cron and for tests.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, update

from hub.core import store as t
from hub.core.registry import Registry
from hub.core.store import Store
from hub.settings import Settings

log = logging.getLogger(__name__)


def _ignore(hook: str, **kwargs: Any) -> None:
    """The default notifier: no plugin hooks to call."""


@dataclass(frozen=True)
class JobContext:
    """What a job gets: the database, the plugins' kinds, the settings and the time it runs at."""

    store: Store
    registry: Registry
    settings: Settings
    now: datetime
    #: ``notify(hook_name, **kwargs)``: calls the plugins' notification hooks after commit.
    notify: Callable[..., None] = field(default=_ignore)


@dataclass(frozen=True)
class Job:
    """A named piece of periodic work and how often `recado run` starts it."""

    name: str
    every: timedelta
    #: Does the work due at ``context.now`` and returns how many things it did.
    run: Callable[[JobContext], int]


@dataclass(frozen=True)
class JobRun:
    """The outcome of one job run: how many things it did, or the error that stopped it."""

    job: str
    done: int = 0
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The run as `recado tick --json` prints it."""
        return {"job": self.job, "done": self.done, "error": self.error}


def _state_key(job: Job) -> str:
    return f"job:{job.name}"


def last_run(store: Store, job: Job) -> datetime | None:
    """When `job` last ran to the end, or None."""
    with store.connect() as conn:
        value = conn.execute(select(t.engine_state.c.value).where(t.engine_state.c.key == _state_key(job))).scalar()
    return None if value is None else datetime.fromisoformat(value)


def _remember(store: Store, job: Job, now: datetime) -> None:
    value = now.astimezone(UTC).isoformat()
    with store.begin() as conn:
        key = _state_key(job)
        exists = conn.execute(select(t.engine_state.c.key).where(t.engine_state.c.key == key)).first()
        if exists is None:
            conn.execute(insert(t.engine_state).values(key=key, value=value))
        else:
            conn.execute(update(t.engine_state).where(t.engine_state.c.key == key).values(value=value))


def is_due(store: Store, job: Job, now: datetime) -> bool:
    """Whether `job` last ran at least `job.every` before `now` (or never, or "after" now)."""
    previous = last_run(store, job)
    return previous is None or previous > now or now - previous >= job.every


def run_jobs(context: JobContext, jobs: Iterable[Job]) -> list[JobRun]:
    """Run `jobs` at ``context.now``, one after the other; a failing job does not stop the others."""
    if context.now.tzinfo is None:
        raise ValueError(f"jobs run at a timezone-aware time, got naive {context.now.isoformat()}")
    runs = []
    for job in jobs:
        try:
            done = job.run(context)
        except Exception as exc:  # one job's bug must not keep the others from running
            log.exception("job %s failed", job.name)
            runs.append(JobRun(job.name, error=f"{type(exc).__name__}: {exc}"))
            continue
        _remember(context.store, job, context.now)
        if done:
            log.info("job %s: %d done", job.name, done)
        runs.append(JobRun(job.name, done=done))
    return runs


def run_due(context: JobContext, jobs: Sequence[Job]) -> list[JobRun]:
    """Run the jobs that are due at ``context.now`` (see `is_due`)."""
    return run_jobs(context, [job for job in jobs if is_due(context.store, job, context.now)])


def select_jobs(jobs: Sequence[Job], names: Sequence[str]) -> list[Job]:
    """The jobs named (all when `names` is empty); ValueError names an unknown job."""
    if not names:
        return list(jobs)
    known = {job.name: job for job in jobs}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ValueError(f"unknown job {unknown[0]!r}: expected one of {', '.join(sorted(known)) or 'none'}")
    return [known[name] for name in names]
