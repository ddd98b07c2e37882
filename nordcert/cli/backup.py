"""CLI: ``nordcert backup`` and ``nordcert restore`` (see nordcert.ops)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from nordcert.cli.common import JsonOpt, settings_of
from nordcert.cli.output import console, emit_json, err_console
from nordcert.db import make_engine
from nordcert.ops import backup as backup_ops
from nordcert.ops import restore as restore_ops
from nordcert.ops.archive import read_header


def register(app: typer.Typer) -> None:
    app.command("backup")(backup)
    app.command("restore")(restore)


@contextmanager
def _bar(show: bool) -> Iterator[Progress | None]:
    if not show:
        yield None
        return
    with Progress(TextColumn("[bold blue]{task.description:<28}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), TimeRemainingColumn(), console=err_console, transient=False) as bar:
        yield bar


def backup(
    ctx: typer.Context,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="File to write (default: "  # noqa: UP045
                                                   "nordcert-backup-<UTC time>.jsonl.gz here).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Write a consistent snapshot of the whole store to one file, while the server keeps running."""
    engine = make_engine(settings_of(ctx))
    path = output or backup_ops.default_path()
    try:
        with _bar(not as_json) as bar:
            progress = None
            if bar is not None:
                task = bar.add_task("backing up", total=None)

                def progress(table: str, rows: int, total: int) -> None:
                    bar.update(task, advance=rows, total=total, description=f"backing up {table}")

            report = backup_ops.take_backup(engine, path, progress=progress)
    finally:
        engine.dispose()
    if as_json:
        emit_json(report)
    else:
        console.print(f"Backup written: {report['file']} ({report['bytes']:,} bytes, {report['rows']:,} rows in "
                      f"{report['tables']} tables, schema revision {report['alembic_revision']}, "
                      f"{report['seconds']} s)")


def restore(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A file written by `nordcert backup`.")],
    force: Annotated[bool, typer.Option("--force", help="Replace a store that holds data.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Restore a backup into an empty store (or, with --force, replace the store), then verify it.

    Stop the server first. A damaged or truncated file is refused before the store is touched; a
    failed verification rolls the whole restore back.
    """
    engine = make_engine(settings_of(ctx))
    try:
        with _bar(not as_json) as bar:
            progress = None
            if bar is not None:
                total = read_header(file).rows
                tasks = {phase: bar.add_task(label, total=total) for phase, label in
                         (("check", "checking the file"), ("load", "restoring"), ("verify", "verifying"))}

                def progress(phase: str, table: str, rows: int) -> None:
                    bar.update(tasks[phase], advance=rows)

            report = restore_ops.restore(engine, file, force=force, progress=progress)
    finally:
        engine.dispose()
    if as_json:
        emit_json(report)
        return
    console.print(f"Restored {report['rows']:,} rows in {report['tables']} tables from {report['file']} "
                  f"(made {report['backup_created_at']} on {report['from_dialect']}) in {report['seconds']} s")
    for check in report["verified"]:
        console.print(f"  [green]✓[/] {check}")
    if report["upgraded_to"]:
        console.print(f"  schema upgraded from {report['alembic_revision']} to {report['upgraded_to']}")
