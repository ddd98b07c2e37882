"""CLI: export what a user may see as a STIX bundle, a MISP feed, CSV, a blocklist or an RPZ zone."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Annotated, Any, Optional, cast

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from nordcert.accounts import service as accounts
from nordcert.audit import service as audit
from nordcert.cli.common import JsonOpt, engine_of, settings_of
from nordcert.cli.output import console, emit_json, err_console
from nordcert.clock import now_us
from nordcert.errors import Invalid
from nordcert.formats.export import BLOCKLIST_KINDS, FORMATS, ExportRequest, export_to, parse_since, snapshot
from nordcert.sharing.tlp import Tlp

_UNITS = {"stix": "objects", "misp": "events", "csv": "rows", "txt": "lines", "rpz": "domains"}


def register(app: typer.Typer) -> None:
    app.command("export")(export_command)


class _CountingWriter:
    """A binary file that counts the bytes written to it."""

    def __init__(self, fh: IO[bytes]) -> None:
        self._fh = fh
        self.written = 0

    def write(self, data: bytes) -> int:
        self.written += len(data)
        return self._fh.write(data)


@contextmanager
def _progress(show: bool, unit: str) -> Iterator[Callable[[int], None] | None]:
    """A progress line on stderr (objects or lines so far, elapsed time), or nothing."""
    if not show:
        yield None
        return
    with Progress(SpinnerColumn(), TextColumn("[bold blue]exporting"), TextColumn("{task.fields[done]} " + unit),
                  TimeElapsedColumn(), console=err_console, transient=False) as progress:
        task = progress.add_task("export", total=None, done="0")

        def tick(n: int) -> None:
            progress.update(task, done=f"{n:,}")

        yield tick


def export_command(
    ctx: typer.Context,
    as_email: Annotated[str, typer.Option("--as", help="The user whose view is exported (what they may see).")],
    fmt: Annotated[str, typer.Option("--format", help=f"One of {', '.join(FORMATS)}.")],
    kind: Annotated[Optional[str], typer.Option("--kind", help="Blocklist kind (txt; optional for csv): "  # noqa: UP045
                                               f"{', '.join(BLOCKLIST_KINDS)}.")] = None,
    output: Annotated[Optional[str], typer.Option("--output", "-o", help="File to write, or - for stdout "  # noqa: UP045
                                                 "(default); a folder for misp.")] = None,
    since: Annotated[Optional[str], typer.Option("--since", help="Objects added after: a timestamp, a date "  # noqa: UP045
                                                "(2026-11-01) or an age (7d) (stix, csv).")] = None,
    types: Annotated[list[str], typer.Option("--type", help="STIX type to export (stix, csv); repeat for "
                                            "several.")] = [],  # noqa: B006
    label: Annotated[list[str], typer.Option("--label", help="Objects with this label (stix); repeat for "
                                            "several.")] = [],  # noqa: B006
    tlp: Annotated[Optional[str], typer.Option("--tlp", help="Only objects at most this TLP.")] = None,  # noqa: UP045
    include_revoked: Annotated[bool, typer.Option("--include-revoked", help="Keep revoked objects (stix).")] = False,
    include_stale: Annotated[bool, typer.Option("--include-stale", help="Keep values whose decay score is stale "
                                               "(csv, txt, rpz).")] = False,
    include_warninglisted: Annotated[bool, typer.Option("--include-warninglisted", help="Keep values on an "
                                                       "enabled warninglist (csv, txt, rpz).")] = False,
    no_formula_guard: Annotated[bool, typer.Option("--no-formula-guard", help="Write CSV cells exactly, "
                                                  "without guarding those a spreadsheet would run.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Export what a user may see: a STIX 2.1 bundle, a MISP feed folder, CSV, a blocklist or an RPZ zone."""
    settings = settings_of(ctx)
    request = ExportRequest(
        format=fmt, kind=kind, types=tuple(types), labels=tuple(label), tlp_max=Tlp.parse(tlp) if tlp else None,
        added_after=parse_since(since, now_us()) if since else None, include_revoked=include_revoked,
        include_stale=include_stale, include_warninglisted=include_warninglisted,
        formula_guard=not no_formula_guard,
    ).checked()
    to_stdout = output in (None, "-")
    if request.format == "misp" and to_stdout:
        raise Invalid("a misp export is a folder: give it with --output")
    engine = engine_of(ctx)
    unit = _UNITS[request.format]
    started = time.perf_counter()
    with snapshot(engine) as conn:
        reader = accounts.reader_for(conn, as_email)
        with _progress(not to_stdout and not as_json, unit) as tick:
            if request.format == "misp":
                written, size = _misp(conn, reader, settings, Path(str(output)), tick)
            elif to_stdout:
                out = _CountingWriter(sys.stdout.buffer)
                written = export_to(conn, reader, settings, request, cast(IO[bytes], out), on_progress=tick)
                sys.stdout.buffer.flush()
                size = out.written
            else:
                with open(str(output), "wb") as fh:
                    out = _CountingWriter(fh)
                    written = export_to(conn, reader, settings, request, cast(IO[bytes], out), on_progress=tick)
                size = out.written
    seconds = round(time.perf_counter() - started, 3)
    audit.record_export(engine, None, f"cli export {request.format}", {
        "as": as_email, "format": request.format, "kind": request.kind, "types": list(request.types),
        "labels": list(request.labels), "tlp_max": request.tlp_max.label if request.tlp_max else None,
        "since": since, "written": written, "output": "-" if to_stdout else Path(str(output)).name})
    summary: dict[str, Any] = {"format": request.format, "kind": request.kind, unit: written, "bytes": size,
                               "seconds": seconds, "output": "-" if to_stdout else str(output)}
    if as_json:
        if to_stdout:
            err_console.print_json(data=summary)  # stdout holds the export itself
        else:
            emit_json(summary)
    elif not to_stdout:
        console.print(f"[bold]{output}[/]: {written:,} {unit}, {size:,} bytes in {seconds:.1f} s")


def _misp(conn: Any, reader: Any, settings: Any, folder: Path, tick: Callable[[int], None] | None) -> tuple[int, int]:
    try:
        from nordcert.formats import misp_export  # written by its own module; imported when asked for
    except ImportError:
        raise Invalid("this installation has no MISP export") from None
    folder.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = misp_export.write_feed(conn, reader, settings, folder, on_progress=tick)
    size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    return int(result.get("events", result.get("objects", 0))), size
