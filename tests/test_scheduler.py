"""Periodic jobs: run at a chosen time, independently of each other, and remembered."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

from hub.cli import build_app
from hub.commands.context import InputError
from hub.core.scheduler import Job, JobContext, is_due, run_due, run_jobs, select_jobs
from hub.core.store import Store
from hub.plugins import Plugins
from hub.settings import Settings

NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


def _context(store: Store, plugins: Plugins, now: datetime = NOW) -> JobContext:
    return JobContext(store, plugins.registry, Settings(database_url=store.url), now)


def _counting(name: str, seen: list[datetime], every: timedelta = timedelta(hours=1)) -> Job:
    def run(context: JobContext) -> int:
        seen.append(context.now)
        return 1

    return Job(name, every, run)


def test_a_job_runs_at_the_time_it_is_given(sqlite_store: Store, plugins: Plugins) -> None:
    seen: list[datetime] = []
    [run] = run_jobs(_context(sqlite_store, plugins), [_counting("count", seen)])
    assert seen == [NOW] and run.done == 1 and run.error is None


def test_a_failing_job_does_not_stop_the_next(sqlite_store: Store, plugins: Plugins) -> None:
    def broken(context: JobContext) -> int:
        raise RuntimeError("boom")

    seen: list[datetime] = []
    runs = run_jobs(_context(sqlite_store, plugins), [Job("broken", timedelta(hours=1), broken), _counting("ok", seen)])
    assert runs[0].error == "RuntimeError: boom"
    assert runs[1].done == 1 and seen == [NOW]


def test_a_job_is_due_again_only_after_its_period(sqlite_store: Store, plugins: Plugins) -> None:
    seen: list[datetime] = []
    job = _counting("hourly", seen)
    run_due(_context(sqlite_store, plugins), [job])
    assert not is_due(sqlite_store, job, NOW + timedelta(minutes=59))
    assert is_due(sqlite_store, job, NOW + timedelta(hours=1))
    run_due(_context(sqlite_store, plugins, NOW + timedelta(minutes=30)), [job])
    assert seen == [NOW]


def test_a_failed_job_is_due_at_once(sqlite_store: Store, plugins: Plugins) -> None:
    def broken(context: JobContext) -> int:
        raise RuntimeError("boom")

    job = Job("broken", timedelta(days=1), broken)
    run_due(_context(sqlite_store, plugins), [job])
    assert is_due(sqlite_store, job, NOW + timedelta(minutes=1))


def test_naming_an_unknown_job_is_an_error_that_lists_the_known_ones() -> None:
    with pytest.raises(ValueError, match="unknown job 'nope': expected one of a, b"):
        select_jobs([Job("a", timedelta(1), lambda c: 0), Job("b", timedelta(1), lambda c: 0)], ["nope"])


def test_tick_runs_every_job_and_prints_json(tmp_path: object, plugins: Plugins) -> None:
    db = f"sqlite:///{tmp_path}/tick.db"
    result = CliRunner().invoke(build_app(plugins), ["--db", db, "tick", "--at", "2026-06-01T09:00:00Z", "--json"])
    assert result.exit_code == 0, result.output
    runs = json.loads(result.output)
    assert all(run["error"] is None for run in runs)


def test_tick_rejects_an_unknown_job_as_bad_input(tmp_path: object, plugins: Plugins) -> None:
    db = f"sqlite:///{tmp_path}/tick.db"
    result = CliRunner().invoke(build_app(plugins), ["--db", db, "tick", "--job", "nope"])
    # `recado` turns an InputError into one line on stderr and exit code 2.
    assert isinstance(result.exception, InputError)
    assert "--job: unknown job 'nope'" in str(result.exception)
