"""Writing one ingest chunk while the next is validated (SQLite).

SQLite runs a statement without holding the interpreter's lock, but an ``executemany`` takes that
lock back for every row, so a thread inserting rows one by one gets almost nothing done while
another thread validates. A chunk's rows are therefore first copied into TEMP tables (in memory,
without indexes: the cheap part of an insert), and one statement moves them into the store: an
insert into a TEMP table whose trigger runs ``INSERT INTO … SELECT …`` for each table, parents
first. That one statement runs in a worker thread, on the other core, while the caller validates
the next chunk.

The chunk stays in the caller's transaction: one connection, used by one thread at a time (the
caller waits for the move before its next statement), so a failure anywhere still rolls back
everything, and foreign keys are checked as the rows reach the store.
"""

from __future__ import annotations

import threading
import zlib
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_for
from typing import Any

from sqlalchemy import Connection, Table

from nordcert.db import driver_error
from nordcert.intel._bulk import insert_rows

_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def _worker() -> ThreadPoolExecutor:
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="nordcert-ingest")
        return _executor


def _move(dbapi_conn: Any, statement: str, started: threading.Event) -> None:
    # The driver's own cursor: SQLAlchemy's bookkeeping would hold the interpreter's lock longer.
    started.set()  # the caller goes on as this thread enters the statement, which lets go of the interpreter
    cur = dbapi_conn.cursor()
    try:
        cur.execute(statement)
    finally:
        cur.close()


class Stager:
    """Stages rows of ``tables`` (in that order) and moves them into the store in the background."""

    def __init__(self, conn: Connection, tables: tuple[Table, ...]) -> None:
        self.conn = conn
        self.tables = tables
        self._pending: Future[None] | None = None
        columns = {t.name: [c.name for c in t.columns] for t in tables}
        # Named after the columns, so a connection that outlives a schema change makes new ones.
        tag = f"{zlib.crc32(repr(sorted(columns.items())).encode()):08x}"
        self._temp = {t.name: f"nordcert_stage_{t.name}_{tag}" for t in tables}
        self._insert = {t.name: f"INSERT INTO temp.{self._temp[t.name]}" for t in tables}  # nosec B608 # names of the schema's tables; values are bound
        flush = f"nordcert_stage_move_{tag}"
        # A trigger names the tables it writes unqualified: the store's (main) tables and the TEMP ones.
        moves = "".join(
            f"INSERT INTO {t.name} ({', '.join(columns[t.name])}) "  # nosec B608 # names of the schema's tables and columns; values are bound
            f"SELECT {', '.join(columns[t.name])} FROM temp.{self._temp[t.name]}; "
            f"DELETE FROM {self._temp[t.name]}; "
            for t in tables
        )
        self._move = f"INSERT INTO temp.{flush} VALUES (1)"  # nosec B608 # names of the schema's tables and columns; values are bound
        for t in tables:  # untyped columns keep each value as bound; the store's columns convert it as before
            conn.exec_driver_sql(f"CREATE TEMP TABLE IF NOT EXISTS {self._temp[t.name]} ({', '.join(columns[t.name])})")
            conn.exec_driver_sql(f"DELETE FROM temp.{self._temp[t.name]}")  # nosec B608 # names of the schema's tables and columns; values are bound
        conn.exec_driver_sql(f"CREATE TEMP TABLE IF NOT EXISTS {flush} (n)")
        conn.exec_driver_sql(f"CREATE TEMP TRIGGER IF NOT EXISTS {flush}_rows AFTER INSERT ON {flush} "  # nosec B608 # names of the schema's tables and columns; values are bound
                             f"BEGIN {moves}DELETE FROM {flush}; END")

    def stage(self, rows: dict[str, list[tuple[Any, ...]]]) -> None:
        """Copy the rows (by table name) into the TEMP tables, then start moving them into the store."""
        self.wait()
        for name, table_rows in rows.items():
            insert_rows(self.conn, self._insert[name], table_rows)
        started = threading.Event()
        self._pending = _worker().submit(_move, self.conn.connection.dbapi_connection, self._move, started)
        # Block, without the interpreter's lock, until the worker runs: else it could wait a whole
        # switch interval (5 ms) for that lock while this thread validates.
        started.wait()

    def wait(self) -> None:
        """Wait until the staged rows are in the store; raise what moving them raised."""
        pending, self._pending = self._pending, None
        if pending is None:
            return
        try:
            pending.result()
        except self.conn.dialect.loaded_dbapi.Error as exc:
            raise driver_error(self.conn, self._move, exc) from exc

    def abandon(self) -> None:
        """Wait for a move in progress, whatever its outcome (the caller is failing and rolls back)."""
        pending, self._pending = self._pending, None
        if pending is not None:
            wait_for([pending])
