"""Bulk inserts of ingest rows, the fastest way each store takes them.

SQLite: one DBAPI ``executemany`` of plain tuples (no per-row SQLAlchemy processing). PostgreSQL:
``COPY … FROM STDIN``, each row encoded by psycopg's C code; a pipelined ``executemany`` dumps and
prepares every row in Python (about 50 µs an object). Errors are raised as SQLAlchemy raises them
(IntegrityError, DataError, …) whichever path wrote the rows.
"""

from __future__ import annotations

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
            names = [col.name for col in table.columns]
            columns = ", ".join(names)
            if self.pg:
                sql = f"COPY {table.name} ({columns}) FROM STDIN"  # nosec B608 # the schema's names; values are streamed
            else:
                marks = ", ".join("?" for _ in names)
                sql = f"INSERT INTO {table.name} ({columns}) VALUES ({marks})"  # nosec B608 # the schema's names; values are bound
            self._sql[table.name] = sql
        if not self.pg:
            self.conn.exec_driver_sql(sql, rows)
            return
        dbapi_conn: Any = self.conn.connection.dbapi_connection  # a psycopg connection
        try:
            with dbapi_conn.cursor() as cur, cur.copy(sql) as copy:
                for row in rows:
                    copy.write_row(row)
        except self.conn.dialect.loaded_dbapi.Error as exc:
            raise driver_error(self.conn, sql, exc) from exc
