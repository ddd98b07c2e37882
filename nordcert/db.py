"""The store: one SQLAlchemy engine per process, SQLite (WAL) by default, PostgreSQL in production.

Tables are declared in each capability's ``tables.py`` against :data:`metadata`; the schema is
created and upgraded only by the Alembic migrations in ``nordcert/migrations``.
"""

from __future__ import annotations

import sqlite3
import threading
import time
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import BigInteger, Connection, Engine, Integer, MetaData, Table, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.pool import QueuePool

from nordcert.config import Settings

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

#: 64-bit integer keys; INTEGER on SQLite so that a primary key is the rowid.
BigId = BigInteger().with_variant(Integer(), "sqlite")


def make_engine(settings: Settings) -> Engine:
    """Build the engine for the configured store, with SQLite set up for WAL and concurrent access."""
    url = settings.resolved_database_url
    if url.startswith("sqlite"):
        if url.startswith("sqlite:///") and ":memory:" not in url:
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        # A small pool: each new SQLite connection costs a file open and the PRAGMAs below. Last in,
        # first out, so that requests one after another reuse one connection with its prepared
        # statements (ingest's multi-row inserts take ~0.3 ms each to prepare), and a statement cache
        # that holds what the application runs.
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30, "cached_statements": 512},
                               poolclass=QueuePool, pool_size=8, max_overflow=24, pool_use_lifo=True)
        background = url.startswith("sqlite:///") and ":memory:" not in url and settings.sqlite_checkpoint_interval > 0
        _configure_sqlite(engine, settings.sqlite_synchronous, settings.sqlite_mmap_size,
                          _BACKSTOP_BYTES if background else None, settings.sqlite_page_size)
        if background:
            _checkpointers[engine] = _Checkpointer(url.removeprefix("sqlite:///"), settings.sqlite_synchronous,
                                                   settings.sqlite_checkpoint_interval)
        return engine
    engine = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
    _configure_postgres(engine)
    return engine


def _configure_postgres(engine: Engine) -> None:
    @event.listens_for(engine, "do_connect")
    def _jit_off(_dialect: Any, _record: Any, _cargs: Any, cparams: dict[str, Any]) -> None:
        # PostgreSQL compiles a query whose cost estimate passes jit_above_cost, and a page with a
        # LIMIT over a filtered index scan is estimated as the whole scan: the compilation took ~30 ms
        # where the query took 4 (bench/load.py). Our queries are short; the URL's own options are kept.
        cparams["options"] = f"{cparams.get('options', '')} -c jit=off".strip()


def _configure_sqlite(engine: Engine, synchronous: str, mmap_size: int, backstop_bytes: int | None,
                      page_size: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy issue BEGIN itself, so a transaction starts as IMMEDIATE when we write.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        # Before anything writes: a new store takes this page size, an existing one keeps its own.
        cur.execute(f"PRAGMA page_size={int(page_size)}")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA synchronous={synchronous}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA cache_size=-65536")
        cur.execute("PRAGMA temp_store=MEMORY")
        cur.execute(f"PRAGMA mmap_size={int(mmap_size)}")
        if backstop_bytes is not None:  # checkpoints mostly run in the background (_Checkpointer)
            store_page = cur.execute("PRAGMA page_size").fetchone()[0]
            cur.execute(f"PRAGMA wal_autocheckpoint={backstop_bytes // store_page}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # A writing transaction takes the write lock up front (IMMEDIATE), so two writers queue on
        # busy_timeout instead of one failing when it upgrades a stale read snapshot; readers never wait.
        if conn.get_execution_options().get("nordcert_write", True):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")


def is_postgres(conn: Connection | Engine) -> bool:
    return conn.dialect.name == "postgresql"


def driver_error(conn: Connection, statement: str, exc: Exception) -> StatementError:
    """A driver's error raised on ``conn``'s DBAPI connection directly (a COPY, a worker thread's
    statement), as SQLAlchemy would raise it on its own: IntegrityError, DataError, OperationalError, …"""
    dialect = conn.dialect
    return DBAPIError.instance(statement, None, exc, dialect.loaded_dbapi.Error, dialect=dialect)


@contextmanager
def transaction(engine: Engine, *, write: bool = True) -> Iterator[Connection]:
    """One unit of work: committed when the block ends, rolled back entirely if it raises.

    ``write=False`` marks a read-only unit, which on SQLite never waits for a writer.
    """
    with engine.connect() as conn:
        conn = conn.execution_options(nordcert_write=write)
        with conn.begin():
            yield conn
    if write:
        checkpointer = _checkpointers.get(engine)
        if checkpointer is not None:
            checkpointer.after_commit()


#: SQLite with background checkpoints: a committing connection copies the WAL into the database file
#: itself only once the log holds this many bytes of pages, should the background fall behind.
_BACKSTOP_BYTES = 64 << 20


class _Checkpointer:
    """Copies a SQLite store's write-ahead log into its database file in a background thread after a
    write transaction (:func:`transaction`) commits, at most every ``interval`` seconds.

    SQLite's automatic checkpoint runs in the connection that commits, after the commit is durable,
    so the request that wrote waits for it: every second TAXII envelope of 1,000 objects waited for
    ~1,000 pages to be copied and the database file synced (docs/benchmarks.md). Here that work
    overlaps with the next request. A PASSIVE checkpoint never blocks readers or the writer; what it
    cannot copy yet (a reader still needs it) is copied by the next one. Durability is the commit's,
    unchanged: a checkpoint only moves committed pages.
    """

    def __init__(self, path: str, synchronous: str, interval: float) -> None:
        self.uri = f"{Path(path).resolve().as_uri()}?mode=rw"  # rw: never create a store that is gone
        self.synchronous = synchronous
        self.interval = interval
        self.lock = threading.Lock()
        self.running = False
        self.last = 0.0

    def after_commit(self) -> None:
        now = time.monotonic()
        with self.lock:
            if self.running or now - self.last < self.interval:
                return
            self.running, self.last = True, now
        threading.Thread(target=self._run, name="nordcert-checkpoint", daemon=True).start()

    def _run(self) -> None:
        try:
            con = sqlite3.connect(self.uri, uri=True, timeout=5, check_same_thread=False)
            try:
                con.execute(f"PRAGMA synchronous={self.synchronous}")
                con.execute("PRAGMA wal_checkpoint(PASSIVE)")
            finally:
                con.close()
        except sqlite3.Error:
            pass  # the store is gone or busy: the next commit asks again, and the backstop remains
        finally:
            with self.lock:
                self.running = False


_checkpointers: weakref.WeakKeyDictionary[Engine, _Checkpointer] = weakref.WeakKeyDictionary()


def upsert_insert(conn: Connection, table: Table) -> postgresql.Insert | sqlite.Insert:
    """An INSERT in this store's dialect, for ``on_conflict_do_nothing`` / ``on_conflict_do_update`` (PostgreSQL
    and SQLite spell both the same)."""
    return postgresql.insert(table) if is_postgres(conn) else sqlite.insert(table)


def in_values(conn: Connection | Engine) -> str:
    """SQL testing a column against a list bound as one parameter (see :func:`values_param`):
    ``= ANY(%s)`` on PostgreSQL, ``IN (SELECT value FROM json_each(?))`` on SQLite. One bind,
    however long the list, so the statement is prepared once."""
    return "= ANY(%s)" if is_postgres(conn) else "IN (SELECT value FROM json_each(?))"


def values_param(conn: Connection | Engine, values: list[Any]) -> Any:
    """The parameter :func:`in_values` expects: the list itself, or its JSON for SQLite."""
    return values if is_postgres(conn) else orjson.dumps(values).decode()


def fetch_all(conn: Connection, sql: str, params: Sequence[Any] = ()) -> list[Any]:
    """Run a read on the connection's own DBAPI cursor, in its open transaction.

    For the hot paths (authentication, the screening lookup): SQLAlchemy's statement and result
    machinery costs more than the query itself there. ``sql`` uses the driver's paramstyle.
    """
    dbapi_conn = conn.connection.dbapi_connection
    assert dbapi_conn is not None
    cur = dbapi_conn.cursor()
    try:
        cur.execute(sql, params)
        return list(cur.fetchall())
    finally:
        cur.close()


def migrate(engine: Engine) -> None:
    """Bring the store's schema to the newest migration (idempotent)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def import_all_tables() -> MetaData:
    """Import every capability's tables so :data:`metadata` is complete (migrations and tests use it)."""
    from nordcert.accounts import tables as _accounts  # noqa: F401
    from nordcert.audit import tables as _audit  # noqa: F401
    from nordcert.baseline import tables as _baseline  # noqa: F401
    from nordcert.crisis import tables as _crisis  # noqa: F401
    from nordcert.federation import tables as _federation  # noqa: F401
    from nordcert.incidents import tables as _incidents  # noqa: F401
    from nordcert.intel import tables as _intel  # noqa: F401
    from nordcert.observables import tables as _observables  # noqa: F401
    from nordcert.privacy import tables as _privacy  # noqa: F401
    from nordcert.redteam import tables as _redteam  # noqa: F401
    from nordcert.sectormap import tables as _sectormap  # noqa: F401
    from nordcert.taxii import tables as _taxii  # noqa: F401

    return metadata
