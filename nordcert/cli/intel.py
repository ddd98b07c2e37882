"""CLI: import STIX 2.1 bundles with a progress bar."""

from __future__ import annotations

import time
from pathlib import Path
from typing import IO, Annotated, Any, Optional

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

from nordcert.accounts import service as accounts
from nordcert.cli.common import JsonOpt, engine_of, settings_of
from nordcert.cli.output import console, emit_json
from nordcert.db import transaction
from nordcert.errors import Invalid
from nordcert.intel.bundle import iter_objects_from_file
from nordcert.intel.ingest import IngestResult, ingest, submission_for


def register(app: typer.Typer) -> None:
    app.command("import")(import_file)


class _CountingReader:
    """A binary file that reports how far it has been read (for the progress bar)."""

    def __init__(self, fh: IO[bytes]) -> None:
        self._fh = fh
        self.position = 0

    def read(self, n: int = -1) -> bytes:
        data = self._fh.read(n)
        self.position = self._fh.tell()
        return data

    def seek(self, pos: int, whence: int = 0) -> int:
        self.position = self._fh.seek(pos, whence)
        return self.position

    def tell(self) -> int:
        return self._fh.tell()


def import_file(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A STIX 2.1 bundle (or JSON array of objects).", exists=True,
                                         dir_okay=False, readable=True)],
    as_email: Annotated[str, typer.Option("--as", help="The user submitting (their organisation is the creator).")],
    tlp: Annotated[Optional[str], typer.Option("--tlp", help="clear|green|amber|amber+strict|red; objects' own TLP "  # noqa: UP045
                                              "markings can only make it stricter.")] = None,
    group: Annotated[Optional[str], typer.Option("--group", help="Sharing group (implies at least AMBER).")] = None,  # noqa: UP045
    recipient: Annotated[list[str], typer.Option("--recipient", help="Named recipient organisation (implies RED); "
                                                "repeat for several.")] = [],  # noqa: B006
    anonymous: Annotated[bool, typer.Option("--anonymous", help="Hide your organisation from other members.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Import a bundle: validated, versioned and stored all or nothing, with a progress bar."""
    settings = settings_of(ctx)
    engine = engine_of(ctx)
    size = file.stat().st_size
    started = time.perf_counter()
    with transaction(engine) as conn, file.open("rb") as raw:
        reader = accounts.reader_for(conn, as_email)
        sub = submission_for(conn, reader, tlp=tlp, group=group, recipients=recipient, anonymous=anonymous)
        counting = _CountingReader(raw)
        try:
            result = _run(conn, counting, sub, settings, size, show=not as_json)
        except Invalid as exc:
            exc.message = f"{file.name}: {exc.message}"
            raise
    elapsed = time.perf_counter() - started
    summary: dict[str, Any] = {"file": str(file), **result.as_dict(), "seconds": round(elapsed, 3)}
    if as_json:
        emit_json(summary)
    else:
        rate = result.total / elapsed if elapsed > 0 else 0
        console.print(
            f"[bold]{file.name}[/]: {result.created} created, {result.updated} updated, "
            f"{result.unchanged} unchanged, 0 rejected ({result.total:,} objects in {elapsed:.1f} s, {rate:,.0f}/s); "
            f"{result.indexed:,} observables indexed"
        )
        if result.warning_count:
            console.print(f"[yellow]{result.warning_count:,} values not indexed[/] (the objects are stored):")
            for w in result.warnings[:10]:
                console.print(f"  object {w['index']} {w['id']}: {w['reason']}", highlight=False)
            if result.warning_count > 10:
                console.print(f"  … and {result.warning_count - 10:,} more (--json lists them)")


def _run(conn: Any, fh: _CountingReader, sub: Any, settings: Any, size: int, *, show: bool) -> IngestResult:
    objects = iter_objects_from_file(fh)  # type: ignore[arg-type]
    if not show:
        return ingest(conn, objects, sub, settings)
    with Progress(
        TextColumn("[bold blue]importing"), BarColumn(), DownloadColumn(), TextColumn("{task.fields[objects]} objects"),
        TimeRemainingColumn(), console=console, transient=False,
    ) as progress:
        task = progress.add_task("import", total=size, objects=0)

        def tick(n: int) -> None:
            progress.update(task, completed=fh.position, objects=f"{n:,}")

        result = ingest(conn, objects, sub, settings, on_progress=tick)
        progress.update(task, completed=size)
        return result
