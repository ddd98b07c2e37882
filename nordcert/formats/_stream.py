"""Streaming reads for exports: a SQLAlchemy statement run on the raw DBAPI cursor, in batches.

Exports read up to millions of rows. SQLAlchemy's result machinery costs more per row than the
query itself, so the statement (whose WHERE clause comes from :mod:`nordcert.sharing.policy`) is
compiled once and run on the connection's own cursor. On PostgreSQL the cursor is a server-side
(named) cursor, so the rows are never all held in memory at once.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, Select

from nordcert.db import is_postgres

#: Rows fetched per trip to the store.
BATCH = 5000

_names = itertools.count(1)


def _compiled(conn: Connection, stmt: Select[Any]) -> tuple[str, Any]:
    compiled = stmt.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    params = compiled.params
    if compiled.positiontup is not None:
        return str(compiled), tuple(params[name] for name in compiled.positiontup)
    return str(compiled), params


def stream_rows(conn: Connection, stmt: Select[Any], *, batch: int = BATCH) -> Iterator[list[Any]]:
    """The rows of ``stmt`` in lists of at most ``batch``, read in the connection's open transaction."""
    sql, params = _compiled(conn, stmt)
    dbapi_conn = conn.connection.dbapi_connection
    assert dbapi_conn is not None
    cur = dbapi_conn.cursor(name=f"nordcert_export_{next(_names)}") if is_postgres(conn) else dbapi_conn.cursor()
    try:
        cur.execute(sql, params)
        while True:
            rows = cur.fetchmany(batch)
            if not rows:
                return
            yield list(rows)
    finally:
        cur.close()


@contextmanager
def snapshot(engine: Engine) -> Iterator[Connection]:
    """A read-only transaction whose reads all see one state of the store.

    SQLite (WAL) gives each read transaction one snapshot; PostgreSQL needs REPEATABLE READ for
    that, so a feed's ETag and its body describe the same state.
    """
    with engine.connect() as conn:
        conn = conn.execution_options(nordcert_write=False)
        if is_postgres(conn):
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            yield conn
