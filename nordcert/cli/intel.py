"""CLI: import STIX 2.1 bundles, MISP events and feeds, and CSV files, with a progress bar."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from nordcert.accounts import service as accounts
from nordcert.cli.common import JsonOpt, engine_of, settings_of
from nordcert.cli.output import console, emit_json
from nordcert.db import transaction
from nordcert.errors import Invalid
from nordcert.formats import imports
from nordcert.formats.csv_import import Mapping
from nordcert.intel.submission import submission_for


def register(app: typer.Typer) -> None:
    app.command("import")(import_file)


def import_file(
    ctx: typer.Context,
    source: Annotated[str, typer.Argument(
        help="A STIX 2.1 bundle, a MISP event file (one event, a list, or a REST search answer), a MISP feed "
             "(a folder or an http(s) URL with manifest.json), or a CSV file.", metavar="SOURCE")],
    as_email: Annotated[str, typer.Option("--as", help="The user submitting (their organisation is the creator).")],
    fmt: Annotated[str, typer.Option("--format", help="auto|stix|misp|csv (auto: from the name and content).")
                   ] = "auto",
    tlp: Annotated[Optional[str], typer.Option("--tlp", help="clear|green|amber|amber+strict|red; objects' own TLP "  # noqa: UP045
                                              "markings can only make it stricter.")] = None,
    group: Annotated[Optional[str], typer.Option("--group", help="Sharing group (implies at least AMBER).")] = None,  # noqa: UP045
    recipient: Annotated[list[str], typer.Option("--recipient", help="Named recipient organisation (implies RED); "
                                                "repeat for several.")] = [],  # noqa: B006
    anonymous: Annotated[bool, typer.Option("--anonymous", help="Hide your organisation from other members.")] = False,
    skip_invalid: Annotated[bool, typer.Option(
        "--skip-invalid", help="Store the valid objects, rows or events and report the others as rejected "
                               "(default: one bad one rejects the import and nothing is stored).")] = False,
    mapping: Annotated[list[str], typer.Option(
        "--map", help="CSV: COLUMN=FIELD, COLUMN a header name or 1-based number; FIELD one of value, kind, name, "
                      "description, labels, confidence, valid_from, valid_until, tlp. Repeat for several.")
    ] = [],  # noqa: B006
    kind: Annotated[Optional[str], typer.Option("--kind", help="CSV: the kind of every value (ipv4, domain, url, "  # noqa: UP045
                                               "sha256, iban, phone, …); default: a kind column, else detected.")
                    ] = None,
    no_header: Annotated[bool, typer.Option("--no-header", help="CSV: the first line is data, not a header.")
                         ] = False,
    delimiter: Annotated[Optional[str], typer.Option("--delimiter", help="CSV: the field separator "  # noqa: UP045
                                                    "(default: sniffed from , ; tab |).")] = None,
    legal_basis: Annotated[Optional[str], typer.Option(  # noqa: UP045
        "--legal-basis", help="Legal basis of the personal data imported (IBANs, phones, e-mails, …): a key of "
                              "NORDCERT_LEGAL_BASES; default NORDCERT_DEFAULT_LEGAL_BASIS.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Import intel: validated, versioned and stored in one transaction, with a progress bar.

    Re-importing the same input changes nothing (every object is reported unchanged).
    """
    settings = settings_of(ctx)
    is_url = source.startswith(("http://", "https://"))
    if not is_url and not Path(source).exists():
        raise Invalid(f"{source}: no such file or folder")
    chosen = imports.detect_format(source) if fmt == "auto" else fmt.lower()
    if chosen not in imports.FORMATS:
        raise Invalid(f"unknown format {fmt!r}; formats are auto, {', '.join(imports.FORMATS)}")
    csv_mapping = Mapping.parse(mapping, header=not no_header, kind=kind, delimiter=delimiter) \
        if chosen == "csv" else None
    size = Path(source).stat().st_size if not is_url and Path(source).is_file() else None
    engine = engine_of(ctx)
    with imports.fetched(source) as local, transaction(engine) as conn:
        reader = accounts.reader_for(conn, as_email)
        sub = submission_for(conn, reader, tlp=tlp, group=group, recipients=recipient, anonymous=anonymous,
                             legal_basis=legal_basis)
        if as_json:
            report = imports.run_import(conn, local, chosen, sub, settings, strict=not skip_invalid,
                                        mapping=csv_mapping)
        else:
            report = _with_progress(conn, local, chosen, sub, settings, not skip_invalid, csv_mapping, size)
    report.source = source if not is_url else _without_credentials(source)
    summary = report.as_dict()
    if as_json:
        emit_json(summary)
        return
    _print_summary(summary)


def _without_credentials(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    return scheme + sep + rest.rpartition("@")[2] if "@" in rest.split("/", 1)[0] else url


def _with_progress(conn: Any, source: str, fmt: str, sub: Any, settings: Any, strict: bool, mapping: Any,
                   size: int | None) -> imports.Report:
    columns: list[Any] = [TextColumn(f"[bold blue]importing {fmt}"), BarColumn()]
    columns += [DownloadColumn()] if size else [TextColumn("{task.fields[events]} events")]
    columns += [TextColumn("{task.fields[objects]} objects"), TimeRemainingColumn() if size else TimeElapsedColumn()]
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task("import", total=size, objects="0", events="0")

        def draw(p: imports.Progress) -> None:
            bar.update(task, completed=p.bytes_read, objects=f"{p.objects:,}", events=f"{p.events:,}")

        report = imports.run_import(conn, source, fmt, sub, settings, strict=strict, mapping=mapping,
                                    progress=imports.Progress(size, draw))
        if size:
            bar.update(task, completed=size)
        return report


def _print_summary(s: dict[str, Any]) -> None:
    rate = s["total"] / s["seconds"] if s["seconds"] > 0 else 0
    events = f"{s['events']:,} events, " if s["format"] == "misp" else ""
    console.print(
        f"[bold]{s['source']}[/] ({s['format']}): {events}{s['created']:,} created, {s['updated']:,} updated, "
        f"{s['unchanged']:,} unchanged, {s['rejected']:,} rejected ({s['total']:,} objects in {s['seconds']:.1f} s, "
        f"{rate:,.0f}/s); {s['observables_indexed']:,} observables indexed", highlight=False)
    if s["rejected"]:
        console.print(f"[red]{s['rejected']:,} rejected[/] (not stored):")
        _list(s["rejections"], s["rejected"])
    if s["warning_count"]:
        console.print(f"[yellow]{s['warning_count']:,} values not indexed[/] (the objects are stored):")
        _list(s["warnings"], s["warning_count"])
    if s["note_count"]:
        console.print(f"{s['note_count']:,} notes:")
        _list(s["notes"], s["note_count"])


def _list(items: list[dict[str, Any]], count: int) -> None:
    for item in items[:10]:
        console.print("  " + place(item) + f": {item.get('reason')}", highlight=False)
    if count > 10:
        console.print(f"  … and {count - 10:,} more (--json lists them)")


def place(item: dict[str, Any]) -> str:
    """Where a problem is: a CSV line, a MISP event and its part, or an object of a bundle."""
    if item.get("line") is not None:
        return f"line {item['line']}"
    parts = [f"file {item['file']}"] if item.get("file") else []
    if item.get("event"):
        parts.append(f"event {item['event']}")
    if item.get("index") is not None and not item.get("event"):
        parts.append(f"object {item['index']}")
    if item.get("id"):
        parts.append(str(item["id"]))
    return " ".join(parts) or "input"
