"""Bulk inserts (nordcert.intel._bulk): the multi-row statements SQLite's ingest uses store exactly
what the driver's own executemany stores, whatever the number of rows, and fail as it fails."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError

from nordcert.db import is_postgres, transaction
from nordcert.intel._bulk import _BLOCKS, BulkInsert, insert_many
from nordcert.intel.tables import object_labels

_COLUMNS = "(k INTEGER PRIMARY KEY, t, b, f, n)"


def _connect() -> sqlite3.Connection:
    con = sqlite3.connect(":memory:", isolation_level=None)
    con.execute(f"CREATE TABLE ours {_COLUMNS}")
    con.execute(f"CREATE TABLE driver {_COLUMNS}")
    return con


@pytest.fixture
def db() -> Iterator[sqlite3.Connection]:
    con = _connect()
    yield con
    con.close()


def _contents(con: sqlite3.Connection, table: str) -> list[tuple[Any, ...]]:
    # typeof() too: a value must keep its storage class (TEXT stays TEXT, a big integer stays INTEGER).
    return con.execute(f"SELECT k, t, b, f, n, typeof(t), typeof(b), typeof(f) FROM {table} ORDER BY k").fetchall()


_values = st.one_of(st.none(), st.integers(min_value=-(2**63), max_value=2**63 - 1), st.text(max_size=40),
                    st.binary(max_size=20), st.floats(allow_nan=False))


@hsettings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(_values, _values, _values, _values), max_size=300))
def test_insert_many_stores_what_executemany_stores(rows: list[tuple[Any, ...]]) -> None:
    db = _connect()
    try:
        keyed = [(i, *row) for i, row in enumerate(rows)]
        insert_many(db, "INSERT INTO ours (k, t, b, f, n)", keyed)
        db.executemany("INSERT INTO driver (k, t, b, f, n) VALUES (?, ?, ?, ?, ?)", keyed)
        assert _contents(db, "ours") == _contents(db, "driver")
    finally:
        db.close()


@pytest.mark.parametrize("count", sorted({0, 1, 2, *_BLOCKS, *(b - 1 for b in _BLOCKS), *(b + 1 for b in _BLOCKS),
                                          200, 2 * _BLOCKS[0] + _BLOCKS[1] + 3}))
def test_every_row_is_written_once_whatever_the_count(db: sqlite3.Connection, count: int) -> None:
    rows = [(i, "nul \x00 inside", "🏦", 2**62 + i, None) for i in range(count)]
    insert_many(db, "INSERT INTO ours (k, t, b, f, n)", rows)
    assert db.execute("SELECT k, t, b, f, n FROM ours ORDER BY k").fetchall() == rows


def test_a_row_that_breaks_a_constraint_fails_the_insert(db: sqlite3.Connection) -> None:
    rows = [(i, "x", None, None, None) for i in range(150)] + [(3, "again", None, None, None)]
    db.execute("BEGIN")
    with pytest.raises(sqlite3.IntegrityError):
        insert_many(db, "INSERT INTO ours (k, t, b, f, n)", rows)
    db.execute("ROLLBACK")
    assert db.execute("SELECT count(*) FROM ours").fetchone() == (0,)


def test_bulk_insert_raises_as_sqlalchemy_and_the_transaction_keeps_nothing(engine: Engine) -> None:
    """On both stores (COPY on PostgreSQL): a duplicate key is SQLAlchemy's IntegrityError."""
    from nordcert.intel.tables import stix_objects

    row = {"date_added": 1, "stix_id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "type": "indicator",
           "spec_version": "2.1", "modified": 1, "created": 1, "is_latest": True, "revoked": False,
           "valid_until": None, "creator_org_id": None, "submitted_by": None, "tlp": 1, "group_id": None,
           "anonymous": False, "has_recipients": False, "name": None, "description": None, "body": "{}"}
    if not is_postgres(engine):
        row = {k: int(v) if isinstance(v, bool) else v for k, v in row.items()}
    with pytest.raises(IntegrityError), transaction(engine) as conn:
        bulk = BulkInsert(conn)
        bulk.rows(stix_objects, [row])
        bulk.tuples(object_labels, [(1, f"label {i}") for i in range(40)] + [(1, "label 7")])
    with transaction(engine, write=False) as conn:
        assert conn.execute(select(stix_objects.c.date_added)).all() == []
        assert conn.execute(select(object_labels.c.label)).all() == []


def test_a_wide_table_never_binds_more_values_than_sqlite_takes() -> None:
    con = sqlite3.connect(":memory:", isolation_level=None)
    try:
        columns = ", ".join(f"c{i}" for i in range(300))  # 300 columns: a block of 128 rows would bind 38,400
        con.execute(f"CREATE TABLE wide ({columns})")
        rows = [tuple(range(i, i + 300)) for i in range(130)]
        insert_many(con, f"INSERT INTO wide ({columns})", rows)
        assert con.execute("SELECT count(*), sum(c299) FROM wide").fetchone() == (130, sum(i + 299 for i in range(130)))
    finally:
        con.close()
