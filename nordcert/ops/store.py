"""The store as backups see it: every table of its schema, read from the store itself (so tables added by
later migrations are included without a list to keep), its Alembic revision, and the schema made anew."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Connection, MetaData, Table, create_engine, func, select, text
from sqlalchemy.pool import StaticPool

from nordcert.db import is_postgres
from nordcert.ops.archive import kind_of

VERSION_TABLE = "alembic_version"


def _alembic_config(conn: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parents[1] / "migrations"))
    if conn is not None:
        cfg.attributes["connection"] = conn
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None
    return head


def is_known_revision(revision: str) -> bool:
    try:
        return ScriptDirectory.from_config(_alembic_config()).get_revision(revision) is not None
    except CommandError:
        return False


def migrate_to(conn: Connection, revision: str) -> None:
    """Upgrade the store on ``conn`` to ``revision`` inside the connection's open transaction."""
    command.upgrade(_alembic_config(conn), revision)


def reflect(conn: Connection) -> MetaData:
    """Every table of the store's schema (on PostgreSQL, the connection's current schema)."""
    md = MetaData()
    md.reflect(bind=conn)
    return md


def data_tables(md: MetaData) -> list[Table]:
    """The tables that hold the instance's data, parents before the tables that refer to them."""
    return [t for t in md.sorted_tables if t.name != VERSION_TABLE]


def revision(conn: Connection, md: MetaData) -> str | None:
    if VERSION_TABLE not in md.tables:
        return None
    return conn.execute(select(md.tables[VERSION_TABLE].c.version_num)).scalar_one_or_none()


def columns_of(table: Table) -> tuple[tuple[str, str], ...]:
    """The table's columns with their archive kinds, in the table's order."""
    out = []
    for col in table.columns:
        try:
            kind = kind_of(col.type.python_type)
        except (NotImplementedError, TypeError):
            raise TypeError(f"column {table.name}.{col.name} has a type backups do not know ({col.type})") from None
        out.append((col.name, kind))
    return tuple(out)


def count_rows(conn: Connection, table: Table) -> int:
    return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def drop_all(conn: Connection, md: MetaData) -> None:
    """Remove every table of the store's schema and, on PostgreSQL, what the migrations made with them:
    the functions their triggers run (the audit trail's append-only guard) and enum types."""
    functions: list[str] = []
    if is_postgres(conn):
        functions = list(conn.execute(text(
            "SELECT DISTINCT t.tgfoid::regprocedure::text FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE NOT t.tgisinternal AND n.nspname = current_schema()"
        )).scalars())
    md.drop_all(conn)
    for function in functions:
        conn.execute(text(f"DROP FUNCTION IF EXISTS {function}"))
    if is_postgres(conn):
        enums = conn.execute(text(
            "SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
            "WHERE t.typtype = 'e' AND n.nspname = current_schema()")).scalars().all()
        for name in enums:
            conn.execute(text(f'DROP TYPE "{name}"'))


@lru_cache(maxsize=8)
def seed_rows(revision: str) -> dict[str, int]:
    """Rows a freshly migrated store holds at ``revision`` by table (the migrations' own seed rows)."""
    engine = create_engine("sqlite://", poolclass=StaticPool)
    try:
        with engine.begin() as conn:
            migrate_to(conn, revision)
            md = reflect(conn)
            return {t.name: count_rows(conn, t) for t in data_tables(md)}
    finally:
        engine.dispose()


def holds_data(conn: Connection, md: MetaData) -> list[str]:
    """The tables holding more than a freshly migrated store's rows (empty: none)."""
    rev = revision(conn, md)
    seeds = seed_rows(rev) if rev is not None and is_known_revision(rev) else {}
    return [t.name for t in data_tables(md) if count_rows(conn, t) > seeds.get(t.name, 0)]


def reset_sequences(conn: Connection, tables: list[Table]) -> None:
    """On PostgreSQL, move each serial key's sequence past the restored keys (SQLite needs nothing)."""
    if not is_postgres(conn):
        return
    for table in tables:
        for col in table.primary_key.columns:
            seq = conn.execute(text("SELECT pg_get_serial_sequence(:t, :c)"),
                               {"t": table.name, "c": col.name}).scalar_one_or_none()
            if seq is not None:
                top = conn.execute(select(func.max(col))).scalar_one_or_none()
                conn.execute(text("SELECT setval(:s, :v, false)"), {"s": seq, "v": (top or 0) + 1})
