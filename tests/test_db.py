"""The store: migrations match the declared tables, SQLite runs in WAL, concurrent writers never tie."""

from __future__ import annotations

import threading
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, select, text

import nordcert.db
from nordcert.config import Settings
from nordcert.db import import_all_tables, migrate, transaction
from nordcert.intel.ingest import ingest
from nordcert.intel.tables import stix_objects
from tests.factories import indicator, make_member


def test_migrations_create_exactly_the_declared_schema(engine: Engine) -> None:
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), import_all_tables())
    assert diff == []


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


def test_database_url_selects_the_store() -> None:
    url = "postgresql+psycopg://u@db.example/nordcert"
    assert Settings(database_url=url).resolved_database_url == url


def test_concurrent_writers_get_strictly_increasing_date_added(engine: Engine, settings: Settings) -> None:
    members = [make_member(engine) for _ in range(3)]
    errors: list[BaseException] = []

    def write(i: int) -> None:
        try:
            from nordcert.intel.ingest import submission_for

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
