"""The store: migrations match the declared tables, SQLite runs in WAL, concurrent writers never tie."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, select, text

import nordcert.db
from nordcert.config import Settings
from nordcert.db import import_all_tables, is_postgres, migrate, transaction
from nordcert.intel.ingest import ingest
from nordcert.intel.tables import stix_objects
from tests.factories import indicator, make_member


def test_migrations_create_exactly_the_declared_schema(engine: Engine) -> None:
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), import_all_tables())
    # PostgreSQL's trigram indexes for text search exist where pg_trgm does (migration 0016), outside the
    # metadata every store shares.
    assert [d for d in diff if not (d[0] == "remove_index" and d[1].name.endswith("_trgm"))] == []


def test_migrate_is_idempotent(engine: Engine) -> None:
    migrate(engine)
    migrate(engine)
    with transaction(engine, write=False) as conn:
        current = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    script = ScriptDirectory(str(Path(nordcert.db.__file__).parent / "migrations"))
    assert current == script.get_current_head()


def test_default_store_is_a_wal_sqlite_file_in_the_instance_folder(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(home=tmp_path / "inst")
    assert settings.resolved_database_url == f"sqlite:///{tmp_path / 'inst' / 'nordcert.sqlite3'}"
    from nordcert.db import make_engine

    engine = make_engine(settings)
    migrate(engine)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    assert settings.sqlite_path.exists()
    engine.dispose()


def test_a_new_sqlite_store_takes_the_configured_page_size_and_an_existing_one_keeps_its_own(tmp_path: Path) -> None:
    from nordcert.db import make_engine

    default = make_engine(Settings(home=tmp_path / "a"))
    migrate(default)
    with default.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA page_size").scalar() == 8192
        # the backstop is a size in bytes, whatever the page
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == nordcert.db._BACKSTOP_BYTES // 8192
    default.dispose()
    small = Settings(home=tmp_path / "b", sqlite_page_size=4096)
    engine = make_engine(small)
    migrate(engine)
    engine.dispose()
    reopened = make_engine(Settings(home=tmp_path / "b", sqlite_page_size=65536))  # the file decides now
    with reopened.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA page_size").scalar() == 4096
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == nordcert.db._BACKSTOP_BYTES // 4096
        assert conn.exec_driver_sql("SELECT count(*) FROM alembic_version").scalar() == 1
    reopened.dispose()
    raw = sqlite3.connect(small.sqlite_path)
    assert raw.execute("PRAGMA page_size").fetchone()[0] == 4096
    raw.close()
    for bad in (1000, 256, 131072):
        with pytest.raises(ValueError, match="page_size"):
            Settings(sqlite_page_size=bad)


def _wait_idle(checkpointer: nordcert.db._Checkpointer) -> None:
    for _ in range(500):
        with checkpointer.lock:
            if not checkpointer.running:
                return
        time.sleep(0.01)
    raise AssertionError("the background checkpoint did not end within 5 s")


def _write_rows(engine: Engine, n: int) -> None:
    with transaction(engine) as conn:
        conn.exec_driver_sql("CREATE TABLE IF NOT EXISTS filler (body TEXT)")
        conn.exec_driver_sql("INSERT INTO filler VALUES (?)", [("x" * 4000,) for _ in range(n)])


def test_sqlite_checkpoints_run_in_the_background_after_a_commit(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "inst", sqlite_checkpoint_interval=0.01)
    engine = nordcert.db.make_engine(settings)
    checkpointer = nordcert.db._checkpointers[engine]
    with engine.connect() as conn:  # the committing connection leaves checkpoints to the background
        page = conn.exec_driver_sql("PRAGMA page_size").scalar()
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() * page == nordcert.db._BACKSTOP_BYTES
    _write_rows(engine, 1)
    _wait_idle(checkpointer)
    before = settings.sqlite_path.stat().st_size
    time.sleep(0.02)  # past the interval
    _write_rows(engine, 500)  # ~2 MB, far below the backstop: only a background checkpoint copies it
    _wait_idle(checkpointer)
    assert settings.sqlite_path.stat().st_size > before + 1_500_000
    raw = sqlite3.connect(settings.sqlite_path)  # everything committed is in the database file: nothing left
    busy, log, copied = raw.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    assert busy == 0 and log == copied
    assert raw.execute("SELECT count(*) FROM filler").fetchone()[0] == 501
    raw.close()
    engine.dispose()


def test_sqlite_background_checkpoints_are_rate_limited_and_optional(tmp_path: Path) -> None:
    engine = nordcert.db.make_engine(Settings(home=tmp_path / "a", sqlite_checkpoint_interval=3600))
    checkpointer = nordcert.db._checkpointers[engine]
    _write_rows(engine, 1)
    _wait_idle(checkpointer)
    first = checkpointer.last
    _write_rows(engine, 1)
    assert checkpointer.last == first  # within the interval: no second checkpoint
    engine.dispose()
    off = Settings(home=tmp_path / "b", sqlite_checkpoint_interval=0)
    engine = nordcert.db.make_engine(off)
    assert engine not in nordcert.db._checkpointers
    with engine.connect() as conn:  # SQLite's own automatic checkpoint, at its default
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 1000
    engine.dispose()


def test_a_background_checkpoint_never_creates_a_store_that_is_gone(tmp_path: Path) -> None:
    checkpointer = nordcert.db._Checkpointer(str(tmp_path / "gone.sqlite3"), "FULL", 0.01)
    checkpointer.after_commit()
    _wait_idle(checkpointer)
    assert not list(tmp_path.iterdir())


def test_database_url_selects_the_store() -> None:
    url = "postgresql+psycopg://u@db.example/nordcert"
    assert Settings(database_url=url).resolved_database_url == url


def test_concurrent_writers_get_strictly_increasing_date_added(engine: Engine, settings: Settings) -> None:
    members = [make_member(engine) for _ in range(3)]
    errors: list[BaseException] = []

    def write(i: int) -> None:
        try:
            from nordcert.intel.submission import submission_for

            for _ in range(5):
                with transaction(engine) as conn:
                    sub = submission_for(conn, members[i].reader, tlp="green")
                    ingest(conn, [indicator() for _ in range(40)], sub, settings)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with transaction(engine, write=False) as conn:
        added = conn.execute(select(stix_objects.c.date_added).order_by(stix_objects.c.date_added)).scalars().all()
    assert len(added) == len(set(added)) == 3 * 5 * 40


def test_postgres_connections_compile_no_query(engine: Engine, settings: Settings) -> None:
    # JIT compilation cost more than nordcert's short queries themselves (docs/benchmarks.md, load).
    if not is_postgres(engine):
        pytest.skip("PostgreSQL only")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SHOW jit").scalar_one() == "off"
        schema = conn.exec_driver_sql("SELECT current_schema()").scalar_one()
    assert schema and schema in str(settings.database_url)  # the URL's own options still apply


def test_text_search_uses_the_trigram_indexes_on_postgres(engine: Engine) -> None:
    if not is_postgres(engine):
        pytest.skip("PostgreSQL only")
    with engine.connect() as conn:
        names = set(conn.exec_driver_sql("SELECT indexname FROM pg_indexes WHERE tablename = 'stix_objects' "
                                         "AND schemaname = current_schema()").scalars())
        assert {"ix_stix_objects_name_trgm", "ix_stix_objects_description_trgm"} <= names
        conn.exec_driver_sql("SET enable_seqscan = off")  # an empty table: ask whether the index can serve
        plan = "\n".join(conn.exec_driver_sql(
            "EXPLAIN SELECT date_added FROM stix_objects WHERE "
            "(lower(name) LIKE '%%qakbot%%' OR lower(description) LIKE '%%qakbot%%')").scalars())
    assert "ix_stix_objects_name_trgm" in plan and "ix_stix_objects_description_trgm" in plan
