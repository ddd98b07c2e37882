"""Bulk inserts of ingest rows, the fastest way each store takes them.

SQLite: a few DBAPI statements of many rows each (:func:`insert_many`), a multi-row ``VALUES``
binding a whole block in one call, where the driver's ``executemany`` runs its own loop a row at a
time (2-5× slower a row on an in-memory table; in ingest most of a row's cost is the insert itself,
docs/benchmarks.md). PostgreSQL:
``COPY … FROM STDIN``, each row encoded by psycopg's C code; a pipelined ``executemany`` dumps and
prepares every row in Python (about 50 µs an object). Errors are raised as SQLAlchemy raises them
(IntegrityError, DataError, …) whichever path wrote the rows.
"""

from __future__ import annotations

from functools import lru_cache
from itertools import chain
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, Table

from nordcert.db import driver_error, is_postgres


class BulkInsert:
    """Inserts rows into tables through one connection, in its open transaction."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.pg = is_postgres(conn)
        self._sql: dict[str, str] = {}

    def rows(self, table: Table, rows: list[dict[str, Any]]) -> None:
        """Rows as mappings of column name to value."""
        row_values = itemgetter(*(col.name for col in table.columns))
        self.tuples(table, [row_values(r) for r in rows])

    def tuples(self, table: Table, rows: list[tuple[Any, ...]]) -> None:
        """Rows already in the table's column order."""
        sql = self._sql.get(table.name)
        if sql is None:
            columns = ", ".join(col.name for col in table.columns)
            if self.pg:
                sql = f"COPY {table.name} ({columns}) FROM STDIN"  # nosec B608 # the schema's names; values are streamed
            else:
                sql = f"INSERT INTO {table.name} ({columns})"  # nosec B608 # the schema's names; values are bound
            self._sql[table.name] = sql
        if not self.pg:
            insert_rows(self.conn, sql, rows)
            return
        dbapi_conn: Any = self.conn.connection.dbapi_connection  # a psycopg connection
        try:
            with dbapi_conn.cursor() as cur, cur.copy(sql) as copy:
                for row in rows:
                    copy.write_row(row)
        except self.conn.dialect.loaded_dbapi.Error as exc:
            raise driver_error(self.conn, sql, exc) from exc


#: Rows per statement of :func:`insert_many`, largest first: each size's statement is prepared once
#: per connection and kept in the driver's statement cache. 128 rows of the widest ingest table
#: bind 2,304 values; a block never binds more than SQLite's limit of 32,766.
_BLOCKS = (128, 32, 8, 1)
_MAX_VALUES = 32766


@lru_cache(maxsize=256)
def _values_sql(head: str, columns: int, rows: int) -> str:
    row = "(" + ", ".join("?" * columns) + ")"
    return f"{head} VALUES {', '.join([row] * rows)}"


def insert_rows(conn: Connection, head: str, rows: list[tuple[Any, ...]]) -> None:
    """:func:`insert_many` on a SQLite connection in its open transaction, its errors raised as
    SQLAlchemy raises them (IntegrityError, OperationalError, …)."""
    try:
        insert_many(conn.connection.dbapi_connection, head, rows)
    except conn.dialect.loaded_dbapi.Error as exc:
        raise driver_error(conn, head, exc) from exc


def insert_many(dbapi_conn: Any, head: str, rows: list[tuple[Any, ...]]) -> None:
    """``head`` (``INSERT INTO t (a, b)``) for every row, on a sqlite3 connection, in blocks of
    multi-row ``VALUES``; the rows are all of one width. Raises the driver's error."""
    if not rows:
        return
    columns = len(rows[0])
    cur = dbapi_conn.cursor()
    try:
        start, left = 0, len(rows)
        for block in _BLOCKS:
            if left < block or (block > 1 and block * columns > _MAX_VALUES):
                continue
            sql = _values_sql(head, columns, block)
            while left >= block:
                cur.execute(sql, tuple(chain.from_iterable(rows[start:start + block])))
                start += block
                left -= block
    finally:
        cur.close()
