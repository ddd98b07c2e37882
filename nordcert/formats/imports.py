"""One importer for every input format: STIX 2.1 bundles, MISP events and feeds, CSV.

An import is one transaction: with ``strict`` (the default) one bad object, row or event rejects
the whole import with every problem listed by place, and nothing is stored. Without ``strict``
the bad ones are skipped and reported as rejected; a MISP event is still all or nothing (a
savepoint each), so no event is ever half imported.

Every import reports created / updated / unchanged / rejected and is idempotent: importing the
same input again finds every object stored already and changes nothing.
"""

from __future__ import annotations

import gzip
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import orjson
from sqlalchemy import Connection

from nordcert.config import Settings
from nordcert.errors import Invalid
from nordcert.intel.bundle import iter_objects_from_file
from nordcert.intel.ingest import IngestResult, ingest
from nordcert.intel.submission import Submission

FORMATS = ("stix", "misp", "csv")
_CSV_SUFFIXES = (".csv", ".tsv", ".txt")
_CHUNK = 1000


class Progress:
    """What a long import has done so far; the CLI draws its bar from it."""

    def __init__(self, total_bytes: int | None = None, callback: Callable[[Progress], None] | None = None) -> None:
        self.total_bytes = total_bytes
        self.bytes_read = 0
        self.objects = 0
        self.events = 0
        self._callback = callback

    def tick(self) -> None:
        if self._callback is not None:
            self._callback(self)


class CountingReader:
    """A binary file that tells how far it has been read."""

    def __init__(self, fh: IO[bytes], progress: Progress) -> None:
        self._fh = fh
        self._progress = progress

    def read(self, n: int = -1) -> bytes:
        data = self._fh.read(n)
        self._progress.bytes_read = self._fh.tell()
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def seek(self, pos: int, whence: int = 0) -> int:
        self._progress.bytes_read = self._fh.seek(pos, whence)
        return self._progress.bytes_read

    def tell(self) -> int:
        return self._fh.tell()


@dataclass
class Report:
    """The outcome of one import."""

    source: str
    format: str
    result: IngestResult = field(default_factory=IngestResult)
    events: int = 0
    rejected_events: int = 0
    notes: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        out = {"source": self.source, "format": self.format, **self.result.as_dict()}
        if self.format == "misp":
            out["events"] = self.events
            out["rejected_events"] = self.rejected_events
        out["notes"] = self.notes[:1000]
        out["note_count"] = len(self.notes)
        out["seconds"] = round(self.seconds, 3)
        return out


@contextmanager
def fetched(source: str, *, transport: Any = None) -> Iterator[str]:
    """The source as a local path: a MISP feed URL is first copied to a temporary folder, so no
    transaction is held open while a remote server answers (SQLite has one writer at a time)."""
    if not source.startswith(("http://", "https://")):
        yield source
        return
    from nordcert.formats.misp_import import download_feed

    with tempfile.TemporaryDirectory(prefix="nordcert-feed-") as folder:
        download_feed(source, Path(folder), transport=transport)
        yield folder


def detect_format(source: str) -> str:
    """stix, misp or csv, from the source's name and first bytes."""
    if source.startswith(("http://", "https://")):
        return "misp"  # a URL is a MISP feed (a TAXII server is pulled with `nordcert taxii pull`)
    path = Path(source)
    if path.is_dir():
        # A MISP feed has a manifest, a folder of misp-galaxy cluster files holds only those; any other
        # folder is read as STIX files (a FileSystemStore tree).
        if (path / "manifest.json").is_file() or _galaxy_files(path):
            return "misp"
        return "stix"
    plain = path.with_suffix("") if path.suffix.lower() == ".gz" else path
    if plain.suffix.lower() in _CSV_SUFFIXES:
        return "csv"
    try:
        with _open(path) as fh:
            head = fh.read(4096)
    except (OSError, EOFError) as exc:
        raise Invalid(f"{path.name}: cannot be read: {getattr(exc, 'strerror', None) or exc}") from None
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not text[:1] in (b"{", b"["):
        if b"\x00" in head:
            raise Invalid(f"{path.name}: a binary file, not STIX, MISP or CSV")
        return "csv"
    if b'"Event"' in head or b'"response"' in head or _galaxy_head(head):
        return "misp"
    return "stix"


def run_import(conn: Connection, source: str, fmt: str, submission: Submission, settings: Settings, *,
               strict: bool = True, mapping: Any = None, progress: Progress | None = None) -> Report:
    """Import ``source`` into the open transaction ``conn``; raises :class:`Invalid` (strict) naming
    every problem's place. The caller commits, or rolls back on the exception."""
    if fmt not in FORMATS:
        raise Invalid(f"unknown format {fmt!r}; formats are {', '.join(FORMATS)}")
    started = time.perf_counter()
    progress = progress or Progress()
    name = Path(source).name if not source.startswith(("http://", "https://")) else source
    report = Report(name, fmt)
    if fmt == "stix":
        _import_stix(conn, Path(source), submission, settings, strict, progress, report)
    elif fmt == "csv":
        from nordcert.formats.csv_import import Mapping

        _import_csv(conn, Path(source), submission, settings, strict, mapping or Mapping(), progress, report)
    else:
        _import_misp(conn, source, submission, settings, strict, progress, report)
    report.seconds = time.perf_counter() - started
    return report


def _ticker(progress: Progress) -> Callable[[int], None]:
    def tick(n: int) -> None:
        progress.objects = n
        progress.tick()
    return tick


def _open(path: Path) -> IO[bytes]:
    """A file, decompressed on the fly when its name ends in .gz."""
    if path.suffix.lower() == ".gz":
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return path.open("rb")


def stix_files(path: Path) -> list[Path]:
    """The STIX files of a source: the file itself, or every .json (or .json.gz) file below a folder."""
    if not path.is_dir():
        return [path]
    found = sorted(p for p in path.rglob("*") if p.is_file() and p.name.lower().endswith((".json", ".json.gz")))
    if not found:
        raise Invalid(f"{path.name}: the folder holds no .json files")
    return found


def _import_stix(conn: Connection, path: Path, sub: Submission, settings: Settings, strict: bool,
                 progress: Progress, report: Report) -> None:
    files = stix_files(path)
    starts: list[tuple[int, Path]] = []  # (index of a file's first object, the file), to name a problem's file
    count = 0

    def objects() -> Iterator[Any]:
        nonlocal count
        for file in files:
            starts.append((count, file))
            with file.open("rb") as raw:
                counting = CountingReader(raw, progress)
                fh: Any = gzip.GzipFile(fileobj=counting) if file.suffix.lower() == ".gz" else counting
                try:
                    for obj in iter_objects_from_file(fh):
                        count += 1
                        yield obj
                except Invalid as exc:
                    exc.message = f"{_rel(file, path)}: {exc.message}"
                    raise
                except (OSError, EOFError) as exc:  # a corrupt or truncated gzip stream
                    raise Invalid(f"{_rel(file, path)}: cannot be read: {exc}") from None

    def locate(details: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if len(files) == 1:
            return details
        out = []
        for d in details:
            index = d.get("index")
            owner = next((f for start, f in reversed(starts) if isinstance(index, int) and index >= start), None)
            out.append({**d, "file": _rel(owner, path)} if owner is not None else d)
        return out

    try:
        report.result = ingest(conn, objects(), sub, settings, on_progress=_ticker(progress), strict=strict)
    except Invalid as exc:
        exc.details = locate(exc.details)
        if not exc.message.startswith(path.name) and len(files) == 1:
            exc.message = f"{path.name}: {exc.message}"
        raise
    report.result.rejections = locate(report.result.rejections)


def _rel(file: Path, root: Path) -> str:
    return str(file.relative_to(root)) if root.is_dir() else file.name


def _import_csv(conn: Connection, path: Path, sub: Submission, settings: Settings, strict: bool, mapping: Any,
                progress: Progress, report: Report) -> None:
    from nordcert.formats.csv_import import Builder, Row, read_rows

    builder = Builder(conn, sub.creator_org_id, settings.instance_identity_id if sub.anonymous else None)
    lines: list[int] = []  # the line of each object handed to ingest, to name it in errors
    bad: list[dict[str, Any]] = []

    def objects() -> Iterator[dict[str, Any]]:
        chunk: list[Row] = []

        def flush() -> Iterator[dict[str, Any]]:
            built, notes, rows_bad = builder.objects(chunk)
            report.notes.extend(notes)
            bad.extend(rows_bad)
            chunk.clear()
            if strict and bad:
                return  # lost already: the rows are still checked, to report every bad one
            for line, obj in built:
                lines.append(line)
                yield obj

        with path.open("rb") as raw:
            counting = CountingReader(raw, progress)
            fh: Any = gzip.GzipFile(fileobj=counting) if path.suffix.lower() == ".gz" else counting
            for item in read_rows(fh, mapping, phone_region=settings.phone_region):
                if isinstance(item, dict):
                    bad.append(item)
                    continue
                chunk.append(item)
                if len(chunk) >= _CHUNK:
                    yield from flush()
            if chunk:
                yield from flush()

    try:
        result = ingest(conn, objects(), sub, settings, on_progress=_ticker(progress), strict=strict)
    except Invalid as exc:
        if not exc.details and not bad:  # the file itself: not CSV text, a bad mapping
            exc.message = f"{path.name}: {exc.message}"
            raise
        problems = bad + [_at_line(d, lines) for d in exc.details]
        raise _csv_invalid(path, problems, settings) from None
    problems = sorted(bad + [_at_line(d, lines) for d in result.rejections], key=lambda d: d.get("line", 0))
    if strict and bad:
        raise _csv_invalid(path, problems, settings)
    result.rejected += len(bad)
    result.rejections = problems[: settings.max_reported_errors]
    report.result = result


def _at_line(detail: dict[str, Any], lines: list[int]) -> dict[str, Any]:
    index = detail.get("index")
    line = lines[index] if isinstance(index, int) and 0 <= index < len(lines) else None
    return {"line": line, "id": detail.get("id"), "reason": detail.get("reason")}


def _csv_invalid(path: Path, problems: list[dict[str, Any]], settings: Settings) -> Invalid:
    problems = sorted(problems, key=lambda d: d.get("line") or 0)
    first = problems[0] if problems else {"line": None, "reason": "invalid"}
    return Invalid(f"{path.name}: {len(problems)} row(s) rejected, nothing was stored; first: line "
                   f"{first.get('line')}: {first.get('reason')}", details=problems[: settings.max_reported_errors])


def _import_misp(conn: Connection, source: str, sub: Submission, settings: Settings, strict: bool,
                 progress: Progress, report: Report) -> None:
    from nordcert.formats.misp_import import objects_of_event

    total = IngestResult()
    problems: list[dict[str, Any]] = []
    first_message = ""
    name = report.source
    for index, (event_uuid, doc) in enumerate(_guarded(_misp_events(source), strict, problems)):
        report.events += 1
        where = f"{name} event {event_uuid}"
        try:
            with conn.begin_nested():
                objects = objects_of_event(doc, where=where)
                result = ingest(conn, objects, sub, settings, strict=True)
        except Invalid as exc:
            first_message = first_message or exc.message  # it names the event and the attribute or object
            report.rejected_events += 1
            details = exc.details or [{}]
            for d in details:
                problems.append({"event": event_uuid, "index": index, **d, "reason": d.get("reason") or exc.message})
            continue
        total.add(result)
        progress.events = report.events
        progress.objects = total.total
        progress.tick()
    if problems and strict:
        raise Invalid(f"{name}: {report.rejected_events} of {report.events} event(s) rejected, nothing was stored; "
                      f"first: {first_message or problems[0]['reason']}", details=problems[: settings.max_reported_errors])
    total.rejected += len(problems)
    total.rejections = problems[: settings.max_reported_errors]
    report.result = total


def _galaxy_head(head: bytes) -> bool:
    return b'"values"' in head and b'"Event"' not in head and (b'"authors"' in head or b'"category"' in head)


def _galaxy_files(folder: Path) -> list[Path]:
    """The misp-galaxy cluster files of a folder (all its .json files must be such), else none."""
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.name.lower().endswith((".json", ".json.gz")))
    return files if files and all(_galaxy_head(_head(f)) for f in files) else []


def _head(path: Path) -> bytes:
    try:
        with _open(path) as fh:
            return fh.read(4096)
    except (OSError, EOFError):
        return b""


def _misp_events(source: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(uuid, event) of a MISP source; misp-galaxy cluster files become one event each."""
    from nordcert.formats.misp_galaxy import event_of_galaxy, is_galaxy
    from nordcert.formats.misp_import import events_of_source

    path = Path(source)
    if not source.startswith(("http://", "https://")):
        files = _galaxy_files(path) if path.is_dir() else [path] if path.is_file() and _galaxy_head(_head(path)) else []
        for file in files:
            try:
                with _open(file) as fh:
                    doc = orjson.loads(fh.read())
            except (orjson.JSONDecodeError, OSError, EOFError) as exc:
                raise Invalid(f"{file.name}: not valid JSON (truncated or malformed): {exc}") from None
            if not is_galaxy(doc):
                raise Invalid(f"{file.name}: not a misp-galaxy cluster file (name, type, uuid and values expected)")
            event = event_of_galaxy(doc, file.name)
            yield event["Event"]["uuid"], event
        if files:
            return
    yield from events_of_source(source)


def _guarded(events: Iterator[tuple[str, dict[str, Any]]], strict: bool, problems: list[dict[str, Any]]
             ) -> Iterator[tuple[str, dict[str, Any]]]:
    """The events; a file that cannot be read ends the import (strict) or is noted as rejected."""
    while True:
        try:
            item = next(events)
        except StopIteration:
            return
        except Invalid as exc:
            if strict:
                raise
            problems.append({"event": None, "reason": exc.message})
            return
        yield item
