"""What every command shares: the database, the plugins, the settings, output helpers."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NoReturn
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from hub.core.store import Store
from hub.plugins import Plugins
from hub.settings import Settings

LISBON = ZoneInfo("Europe/Lisbon")
console = Console()
err_console = Console(stderr=True)


class InputError(Exception):
    """Bad input on the command line: reported in one line, exit code 2."""


@dataclass
class Context:
    """Lazily opened resources of one `recado` invocation."""

    db_url: str
    settings: Settings
    _store: Store | None = field(default=None, repr=False)
    _plugins: Plugins | None = field(default=None, repr=False)

    @property
    def store(self) -> Store:
        """The database, migrated to the newest schema."""
        if self._store is None:
            self._store = Store(self.db_url)
        return self._store

    @property
    def plugins(self) -> Plugins:
        """The loaded plugins."""
        if self._plugins is None:
            self._plugins = Plugins()
        return self._plugins

    def notify(self, hook: str, **kwargs: Any) -> None:
        """Call a notification hook on every plugin (after a commit)."""
        self.plugins.call_guarded(hook, **kwargs)

    def close(self) -> None:
        """Release the database connections."""
        if self._store is not None:
            self._store.dispose()


def get(ctx: typer.Context) -> Context:
    """The `Context` the root callback stored."""
    obj = ctx.find_root().obj
    context = obj.get("recado") if isinstance(obj, dict) else None
    if not isinstance(context, Context):
        raise RuntimeError("the recado root command did not run")
    return context


def fail(message: str, code: int = 2) -> NoReturn:
    """Print `message` on stderr and exit with `code` (2: bad input)."""
    err_console.print(f"[red]error:[/red] {message}", markup=True, highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def print_json(value: Any) -> None:
    """Print `value` as JSON on stdout (one document)."""
    sys.stdout.write(json.dumps(value, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


def progress_bar(*, show: bool, transient: bool = False) -> Progress:
    """The progress bar of long commands, on stderr so that stdout stays clean for `--json` and pipes."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        disable=not show,
        transient=transient,
    )


def parse_at(value: str | None) -> datetime | None:
    """An ISO 8601 time from the command line; without an offset it is Lisbon time."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"--at: {value!r} is not an ISO 8601 time (e.g. 2026-03-02T09:15:00Z)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=LISBON)
