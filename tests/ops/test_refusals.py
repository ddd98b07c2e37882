"""What restore refuses, leaving the store as it was: damaged, truncated or altered archives, a store that
holds data without --force."""

from __future__ import annotations

import gzip
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import Engine

from nordcert.accounts import service as accounts
from nordcert.db import make_engine, migrate, transaction
from nordcert.errors import Conflict, Invalid
from nordcert.ops.archive import ArchiveError, ArchiveWriter, line_encoder, read_archive
from nordcert.ops.backup import take_backup
from nordcert.ops.restore import restore
from tests.ops.conftest import StoreFactory, restored_data, table_contents


@pytest.fixture
def made(demo_store: Engine, archive: Path) -> Path:
    take_backup(demo_store, archive)
    return archive


@pytest.fixture
def occupied(new_store: StoreFactory) -> Iterator[Engine]:
    """A store holding one organisation: what a refused restore must leave exactly as it is."""
    engine = make_engine(new_store())
    migrate(engine)
    with transaction(engine) as conn:
        accounts.create_organisation(conn, name="Still Here Bank", country="FI", sector_type="bank", short_name="SHB")
    yield engine
    engine.dispose()


def _lines(archive: Path) -> list[bytes]:
    with gzip.open(archive, "rb") as gz:
        return gz.read().splitlines(keepends=True)


def _rewrite(archive: Path, lines: list[bytes], name: str) -> Path:
    out = archive.with_name(name)
    with gzip.open(out, "wb") as gz:
        gz.write(b"".join(lines))
    return out


def _rewritten(archive: Path, name: str, change: Callable[[str, list[Any]], list[Any]]) -> Path:
    """A well-formed archive (checksums and all, written by the archive writer) whose rows ``change`` altered."""
    out = archive.with_name(name)
    header, tables, finish = read_archive(archive)
    writer = ArchiveWriter(out, header)
    for spec, rows in tables:
        encode = line_encoder([k for _, k in spec.columns])
        altered = [encode(change(spec.name, row)) for row in rows]
        writer.table(spec, iter(altered))
    finish()
    writer.finish()
    return out


def _refused(engine: Engine, archive: Path, match: str, error: type[Exception] = ArchiveError) -> None:
    before = table_contents(engine)
    with pytest.raises(error, match=match):
        restore(engine, archive, force=True)
    assert table_contents(engine) == before


def test_a_truncated_file_is_refused(made: Path, occupied: Engine) -> None:
    data = made.read_bytes()
    cut = made.with_name("cut.jsonl.gz")
    cut.write_bytes(data[: len(data) // 2])
    _refused(occupied, cut, "not a complete nordcert backup: the compressed stream is broken")


def test_a_file_cut_after_a_whole_line_is_refused(made: Path, occupied: Engine) -> None:
    lines = _lines(made)
    _refused(occupied, _rewrite(made, lines[:-1], "no-manifest.jsonl.gz"), r"ends before its manifest \(truncated\)")
    _refused(occupied, _rewrite(made, lines[: len(lines) // 2], "half.jsonl.gz"), "table .* was expected|ends before")


def test_a_corrupted_byte_is_refused(made: Path, occupied: Engine) -> None:
    data = bytearray(made.read_bytes())
    data[len(data) // 2] ^= 0xFF
    bad = made.with_name("flipped.jsonl.gz")
    bad.write_bytes(bytes(data))
    _refused(occupied, bad, "not a complete nordcert backup")


def test_an_altered_row_is_refused_by_its_checksum(made: Path, occupied: Engine) -> None:
    lines = _lines(made)
    at = next(i for i, line in enumerate(lines) if b"Alpha Bank" in line and line.startswith(b"["))
    lines[at] = lines[at].replace(b"Alpha Bank", b"Alpha Bonk")
    _refused(occupied, _rewrite(made, lines, "altered.jsonl.gz"), "do not match their checksum")


def test_an_altered_header_is_refused_by_the_content_hash(made: Path, occupied: Engine) -> None:
    lines = _lines(made)
    header = orjson.loads(lines[0])
    header["created_at"] = "2020-01-01T00:00:00Z"
    lines[0] = orjson.dumps(header) + b"\n"
    _refused(occupied, _rewrite(made, lines, "header.jsonl.gz"), "content does not match the manifest's SHA-256")


def test_something_else_is_refused(tmp_path: Path, occupied: Engine) -> None:
    other = tmp_path / "other.jsonl.gz"
    with gzip.open(other, "wb") as gz:
        gz.write(b'{"type": "bundle", "objects": []}\n')
    _refused(occupied, other, "first line is not a backup header")
    plain = tmp_path / "plain.json"
    plain.write_text("{}")
    _refused(occupied, plain, "compressed stream is broken")
    _refused(occupied, tmp_path / "missing.jsonl.gz", "no such file")


def test_a_store_holding_data_is_replaced_only_with_force(made: Path, occupied: Engine, demo_store: Engine) -> None:
    before = table_contents(occupied)
    with pytest.raises(Conflict, match=r"the store is not empty \(it holds .*organisations.*--force"):
        restore(occupied, made)
    assert table_contents(occupied) == before
    report = restore(occupied, made, force=True)
    assert report["replaced"] is True
    assert restored_data(table_contents(occupied)) == table_contents(demo_store)
    with transaction(occupied, write=False) as conn:
        assert all(o["name"] != "Still Here Bank" for o in accounts.list_organisations(conn))


def test_a_freshly_initialised_store_counts_as_empty(made: Path, new_store: StoreFactory) -> None:
    engine = make_engine(new_store())
    migrate(engine)  # `nordcert init`: the schema and the migrations' own seed rows
    assert restore(engine, made)["replaced"] is False
    engine.dispose()


def test_rows_the_store_refuses_roll_the_whole_restore_back(made: Path, occupied: Engine) -> None:
    cols = next(t for t in read_archive(made)[0].tables if t.name == "organisations").column_names
    assert cols[0] == "id"
    name_at = cols.index("name")

    def nameless(table: str, row: list[Any]) -> list[Any]:
        if table == "organisations" and row[0] == 2:
            row[name_at] = None
        return row

    _refused(occupied, _rewritten(made, "nameless.jsonl.gz", nameless), "the store refused a row of organisations",
             Invalid)


def test_a_row_referring_to_nothing_rolls_the_restore_back(made: Path, occupied: Engine) -> None:
    cols = next(t for t in read_archive(made)[0].tables if t.name == "users").column_names
    org_at = cols.index("organisation_id")

    def orphan(table: str, row: list[Any]) -> list[Any]:
        if table == "users" and row[0] == 1:
            row[org_at] = 999_999
        return row

    _refused(occupied, _rewritten(made, "orphan.jsonl.gz", orphan),
             "refer to rows that do not exist|the store refused a row of users", Invalid)
