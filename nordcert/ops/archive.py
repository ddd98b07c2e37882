"""The backup archive: one gzip-compressed file of JSON lines that describes itself.

    {"format": "nordcert-backup", "format_version": 1, "nordcert": …, "dialect": …, "alembic_revision": …,
     "created_at": …, "tables": [{"name": …, "columns": [[name, kind], …], "rows": n}, …]}     the header
    {"table": "organisations"}                                                   each table, in header order,
    [1, "Alpha Bank", …]                                                          then its rows, one per line
    …
    {"manifest": {"tables": {name: {"rows": n, "checksum": hex}}, "rows": n, "content_sha256": hex}}

A table's checksum is the sum, modulo 2^256, of the SHA-256 of each row's line: it does not depend on the
order of the rows, so a store that orders text differently (PostgreSQL collations, SQLite bytes) still
verifies. ``content_sha256`` covers every byte before the manifest line, the header included. A value is
written as JSON by its column's kind: dates and datetimes as ISO 8601 text, bytes as base64.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import os
import zlib
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

import orjson

from nordcert.errors import Invalid

FORMAT = "nordcert-backup"
FORMAT_VERSION = 1
KINDS = ("int", "str", "bool", "float", "date", "datetime", "bytes")
_MOD = 1 << 256


class ArchiveError(Invalid):
    """The archive is damaged, truncated, or not a nordcert backup: nothing was restored from it."""


@dataclass(frozen=True)
class TableSpec:
    """One table as the archive holds it: its columns (name and kind) in row order, and its row count."""

    name: str
    columns: tuple[tuple[str, str], ...]
    rows: int

    @property
    def column_names(self) -> list[str]:
        return [c for c, _ in self.columns]

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "columns": [list(c) for c in self.columns], "rows": self.rows}


@dataclass(frozen=True)
class Header:
    nordcert: str
    dialect: str
    alembic_revision: str
    created_at: str
    tables: tuple[TableSpec, ...]

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables)

    def as_json(self) -> dict[str, Any]:
        return {"format": FORMAT, "format_version": FORMAT_VERSION, "nordcert": self.nordcert,
                "dialect": self.dialect, "alembic_revision": self.alembic_revision, "created_at": self.created_at,
                "tables": [t.as_json() for t in self.tables]}


@dataclass(frozen=True)
class TableSum:
    rows: int
    checksum: str


@dataclass(frozen=True)
class Manifest:
    """What an archive holds, as its last line states and as reading it confirmed."""

    header: Header
    tables: dict[str, TableSum]
    content_sha256: str

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables.values())


@dataclass
class RowDigest:
    """The order-independent checksum of a table: rows counted, and their lines' SHA-256 summed."""

    rows: int = 0
    total: int = 0

    def add(self, line: bytes) -> None:
        self.rows += 1
        self.total = (self.total + int.from_bytes(hashlib.sha256(line).digest(), "big")) % _MOD

    def result(self) -> TableSum:
        return TableSum(self.rows, f"{self.total:064x}")


def kind_of(python_type: type) -> str:
    """The archive's kind for a column's Python type (bool before int: a bool is an int)."""
    for kind, cls in (("bool", bool), ("int", int), ("str", str), ("float", float), ("datetime", datetime),
                      ("date", date), ("bytes", bytes)):
        if issubclass(python_type, cls):
            return kind
    raise TypeError(f"no archive kind for {python_type.__name__}")


def line_encoder(kinds: Sequence[str]) -> Callable[[Sequence[Any]], bytes]:
    """Turns a row into its line (without the newline): the one canonical form that checksums cover."""
    special = [(i, k) for i, k in enumerate(kinds) if k in ("date", "datetime", "bytes")]
    if not special:
        return lambda row: orjson.dumps(list(row))

    def encode(row: Sequence[Any]) -> bytes:
        values = list(row)
        for i, kind in special:
            value = values[i]
            if value is not None:
                values[i] = base64.b64encode(value).decode() if kind == "bytes" else value.isoformat()
        return orjson.dumps(values)

    return encode


def row_decoder(kinds: Sequence[str]) -> Callable[[list[Any]], list[Any]]:
    """Turns a row's JSON values back into what the store's columns take."""
    parse: dict[str, Callable[[Any], Any]] = {"date": date.fromisoformat, "datetime": datetime.fromisoformat,
                                              "bytes": base64.b64decode}
    special = [(i, parse[k]) for i, k in enumerate(kinds) if k in parse]

    def decode(values: list[Any]) -> list[Any]:
        for i, convert in special:
            if values[i] is not None:
                values[i] = convert(values[i])
        return values

    return decode


class ArchiveWriter:
    """Writes an archive to ``path`` through a ``.partial`` file renamed into place once complete, so a
    backup that stops half-way never leaves a file under the final name."""

    def __init__(self, path: Path, header: Header, *, compresslevel: int = 6) -> None:
        self.path = path
        self._partial = path.with_name(path.name + ".partial")
        self._raw: IO[bytes] = self._partial.open("wb")
        self._gz = gzip.GzipFile(fileobj=self._raw, mode="wb", compresslevel=compresslevel, mtime=0)
        self._content = hashlib.sha256()
        self._sums: dict[str, TableSum] = {}
        self._header = header
        self._write(orjson.dumps(header.as_json()))

    def _write(self, line: bytes) -> None:
        line += b"\n"
        self._content.update(line)
        self._gz.write(line)

    def table(self, spec: TableSpec, lines: Iterator[bytes]) -> TableSum:
        """Write one table: its marker, then each row's encoded line."""
        self._write(orjson.dumps({"table": spec.name}))
        digest = RowDigest()
        for line in lines:
            digest.add(line)
            self._write(line)
        self._sums[spec.name] = digest.result()
        return self._sums[spec.name]

    def finish(self) -> Manifest:
        manifest = Manifest(self._header, dict(self._sums), self._content.hexdigest())
        tables = {n: {"rows": s.rows, "checksum": s.checksum} for n, s in manifest.tables.items()}
        self._gz.write(orjson.dumps({"manifest": {"tables": tables, "rows": manifest.rows,
                                                  "content_sha256": manifest.content_sha256}}) + b"\n")
        self._gz.close()
        self._raw.flush()
        os.fsync(self._raw.fileno())
        self._raw.close()
        self._partial.replace(self.path)
        return manifest

    def abandon(self) -> None:
        self._gz.close()
        self._raw.close()
        self._partial.unlink(missing_ok=True)


# --- reading ------------------------------------------------------------------------------------------


@dataclass
class _Reading:
    """One pass over an archive, checking its structure as it goes."""

    path: Path
    content: Any = field(default_factory=hashlib.sha256)

    def lines(self) -> Generator[bytes]:
        try:
            with gzip.open(self.path, "rb") as gz:
                yield from gz
        except FileNotFoundError:
            raise ArchiveError(f"{self.path}: no such file") from None
        except (gzip.BadGzipFile, zlib.error, EOFError, OSError) as exc:
            raise self.damaged(f"the compressed stream is broken ({exc})") from None

    def damaged(self, why: str) -> ArchiveError:
        return ArchiveError(f"{self.path} is not a complete nordcert backup: {why}; nothing was restored")


def read_archive(path: Path) -> tuple[Header, Iterator[tuple[TableSpec, Iterator[list[Any]]]], Callable[[], Manifest]]:
    """Open an archive: its header, its tables in order (each with its decoded rows, to be consumed before
    the next table), and a function to call once every table was read, which checks the manifest against
    what was read and returns it. Every problem raises :class:`ArchiveError`."""
    reading = _Reading(path)
    lines = reading.lines()
    first = next(lines, b"")
    header = _parse_header(reading, first)
    reading.content.update(first)
    sums: dict[str, TableSum] = {}
    pending: list[bytes] = []  # a line read past the end of a table

    def table_rows(spec: TableSpec) -> Iterator[list[Any]]:
        decode = row_decoder([k for _, k in spec.columns])
        digest = RowDigest()
        width = len(spec.columns)
        for line in lines:
            if not line.startswith(b"["):
                pending.append(line)
                break
            reading.content.update(line)
            try:
                values = orjson.loads(line)
            except orjson.JSONDecodeError:
                raise reading.damaged(f"a row of {spec.name} is not valid JSON") from None
            if len(values) != width:
                raise reading.damaged(f"a row of {spec.name} has {len(values)} values, not {width}")
            digest.add(line.rstrip(b"\n"))
            yield decode(values)
        sums[spec.name] = digest.result()

    def tables() -> Iterator[tuple[TableSpec, Iterator[list[Any]]]]:
        for spec in header.tables:
            line = pending.pop() if pending else next(lines, b"")
            if line.rstrip(b"\n") != orjson.dumps({"table": spec.name}):
                raise reading.damaged(f"table {spec.name} was expected, the file has something else")
            reading.content.update(line)
            yield spec, table_rows(spec)
            if spec.name not in sums:
                raise RuntimeError(f"the rows of {spec.name} were not read")

    def manifest() -> Manifest:
        line = pending.pop() if pending else next(lines, b"")
        if not line:
            raise reading.damaged("it ends before its manifest (truncated)")
        if next(lines, b""):
            raise reading.damaged("it goes on after its manifest")
        return _check_manifest(reading, header, line, sums)

    return header, tables(), manifest


def _parse_header(reading: _Reading, line: bytes) -> Header:
    if not line:
        raise reading.damaged("it is empty")
    try:
        raw = orjson.loads(line)
    except orjson.JSONDecodeError:
        raise reading.damaged("its first line is not a backup header") from None
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise reading.damaged("its first line is not a backup header")
    if raw.get("format_version") != FORMAT_VERSION:
        raise ArchiveError(f"{reading.path} has backup format version {raw.get('format_version')!r}; this nordcert "
                           f"reads version {FORMAT_VERSION}")
    try:
        tables = tuple(TableSpec(str(t["name"]), tuple((str(c), str(k)) for c, k in t["columns"]), int(t["rows"]))
                       for t in raw["tables"])
        header = Header(str(raw["nordcert"]), str(raw["dialect"]), str(raw["alembic_revision"]),
                        str(raw["created_at"]), tables)
    except (KeyError, TypeError, ValueError):
        raise reading.damaged("its header is incomplete") from None
    unknown = sorted({k for t in tables for _, k in t.columns} - set(KINDS))
    if unknown:
        raise reading.damaged(f"its header names unknown column kinds {unknown}")
    return header


def _check_manifest(reading: _Reading, header: Header, line: bytes, sums: dict[str, TableSum]) -> Manifest:
    try:
        raw = orjson.loads(line)["manifest"]
        stated = {str(n): TableSum(int(t["rows"]), str(t["checksum"])) for n, t in raw["tables"].items()}
        content = str(raw["content_sha256"])
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError):
        raise reading.damaged("its last line is not a manifest (truncated?)") from None
    for spec in header.tables:
        found, expected = sums[spec.name], stated.get(spec.name)
        if expected is None:
            raise reading.damaged(f"the manifest does not list table {spec.name}")
        if found.rows != expected.rows or found.rows != spec.rows:
            raise reading.damaged(f"table {spec.name} holds {found.rows} rows; the manifest says {expected.rows}")
        if found.checksum != expected.checksum:
            raise reading.damaged(f"the rows of table {spec.name} do not match their checksum")
    if content != reading.content.hexdigest():
        raise reading.damaged("its content does not match the manifest's SHA-256")
    return Manifest(header, sums, content)


def read_header(path: Path) -> Header:
    """Only the archive's header (what it says it holds), without checking the rest."""
    reading = _Reading(path)
    lines = reading.lines()
    try:
        return _parse_header(reading, next(lines, b""))
    finally:
        lines.close()


def check_archive(path: Path, progress: Callable[[str, int], None] | None = None) -> Manifest:
    """Read a whole archive and check it (structure, every row count and checksum, the content hash)."""
    _header, tables, manifest = read_archive(path)
    for spec, rows in tables:
        done = 0
        for _row in rows:
            done += 1
            if progress is not None and done % 5000 == 0:
                progress(spec.name, 5000)
        if progress is not None:
            progress(spec.name, done % 5000)
    return manifest()
