"""`recado ingest`: feed recorded events (JSON lines) through the engine."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import typer
from rich.progress import Progress

from hub.commands.context import err_console, fail, get, print_json, progress_bar
from hub.core.engine import Engine
from hub.core.ingest import ingest as run_ingest


def _lines(path: str, progress: Progress | None) -> Iterator[bytes]:
    # Bytes, not text: a line that is not UTF-8 is reported with its number, not a crash.
    if path == "-":
        yield from sys.stdin.buffer
        return
    file = Path(path)
    try:
        handle = file.open("rb")
    except OSError as exc:
        fail(f"{path}: cannot read the file: {exc.strerror}")
    total = file.stat().st_size
    task = progress.add_task("ingest", total=total) if progress else None
    with handle:
        for line in handle:
            if progress is not None and task is not None:
                progress.advance(task, len(line))
            yield line


def command(
    ctx: typer.Context,
    file: str = typer.Argument(..., metavar="FILE|-", help="JSON lines file, or - for standard input."),
    keep_open: bool = typer.Option(
        False,
        "--keep-open",
        help="Leave calls still in progress at the end open (more events will follow).",
    ),
    json_output: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Process call events and wrap-ups in order; every call ends as exactly one record.

    A bad line is reported with its line number and skipped; the exit code is 2
    if any line was rejected, after the rest was processed.
    """
    context = get(ctx)
    engine = Engine(context.store, context.plugins.registry, context.settings, notify=context.notify)
    show_progress = not json_output and file != "-" and err_console.is_terminal
    progress = progress_bar(show=show_progress)
    with progress:
        report = run_ingest(engine, _lines(file, progress if show_progress else None), close_at_end=not keep_open)
    for error in report.errors:
        err_console.print(f"{file}: {error}", markup=False, highlight=False, soft_wrap=True)
    if json_output:
        print_json(report.as_dict())
    else:
        err_console.print(
            f"{report.events} events, {report.wrapups} wrap-ups, {len(report.errors)} rejected lines"
            + (f", {report.closed} calls closed at the end" if report.closed else ""),
            highlight=False,
        )
    if report.errors:
        raise typer.Exit(2)
