"""Stores for backup tests: a demo instance to back up (built once per module) and fresh, empty targets.

Each store is of the kind the suite runs on (a SQLite file, or a PostgreSQL schema when
``NORDCERT_TEST_POSTGRES_URL`` is set); ``other_kind_store`` makes one of the other kind for the
cross-store restores (only when PostgreSQL is there).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, MetaData, create_engine, select, text

from nordcert.accounts import service as accounts
from nordcert.config import Settings
from nordcert.db import make_engine, transaction
from nordcert.demo.builder import build_demo
from nordcert.intel.ingest import ingest
from nordcert.intel.submission import submission_for
from nordcert.ops import store
from tests.conftest import POSTGRES_URL, _pg_url_with_schema
from tests.factories import indicator

StoreFactory = Callable[..., Settings]


@pytest.fixture(scope="session")
def _stores(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StoreFactory]:
    schemas: list[str] = []

    def make(kind: str | None = None) -> Settings:
        kind = kind or ("postgresql" if POSTGRES_URL else "sqlite")
        home = tmp_path_factory.mktemp("store")
        if kind == "sqlite":
            return Settings(home=home)
        assert POSTGRES_URL
        schema = "t_" + uuid.uuid4().hex[:16]
        admin = create_engine(POSTGRES_URL)
        with admin.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        admin.dispose()
        schemas.append(schema)
        return Settings(home=home, database_url=_pg_url_with_schema(POSTGRES_URL, schema))

    yield make
    if schemas:
        admin = create_engine(POSTGRES_URL or "")
        for schema in schemas:  # one transaction each: a schema's tables take many locks
            with admin.begin() as conn:
                conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture
def new_store(_stores: StoreFactory) -> StoreFactory:
    """``new_store(kind=None)``: the settings of a fresh store with no schema yet."""
    return _stores


@pytest.fixture(scope="session")
def demo_settings(_stores: StoreFactory) -> Settings:
    """The demo instance (organisations, groups, users, tokens, intel with observables and sightings,
    incidents, a crisis, the sector map), plus a second version of one object. Tests only read it."""
    settings = _stores()
    settings = settings.model_copy(update={"home": settings.home / "demo"})
    build_demo(settings, progress=False)
    engine = make_engine(settings)
    first = indicator("203.0.113.77")
    second = {**first, "modified": "2026-02-01T00:00:00.000Z", "name": "C2 server, still active"}
    with transaction(engine) as conn:
        sub = submission_for(conn, accounts.reader_for(conn, "soc@alphabank.example"), tlp="green")
        ingest(conn, [first], sub, settings)
        ingest(conn, [second], sub, settings)
    engine.dispose()
    return settings


@pytest.fixture
def demo_store(demo_settings: Settings) -> Iterator[Engine]:
    engine = make_engine(demo_settings)
    yield engine
    engine.dispose()


def table_contents(engine: Engine) -> dict[str, Any]:
    """Every row of every table (but the migrations' version table), in a form both stores compare in."""
    with transaction(engine, write=False) as conn:
        md: MetaData = store.reflect(conn)
        out: dict[str, Any] = {"__revision__": store.revision(conn, md)}
        for table in store.data_tables(md):
            cols = sorted(table.columns.keys())
            rows = conn.execute(select(*(table.c[c] for c in cols))).all()
            out[str(table.name)] = (cols, sorted((tuple(r) for r in rows), key=repr))
    return out


def restore_events(contents: dict[str, Any]) -> list[tuple[Any, ...]]:
    """The ``store.restore`` events of the audit trail in ``table_contents``."""
    cols, rows = contents["audit_events"]
    return [r for r in rows if r[cols.index("action")] == "store.restore"]


def restored_data(contents: dict[str, Any]) -> dict[str, Any]:
    """``table_contents`` without the restore's own audit event: what must equal the backed-up store."""
    cols, rows = contents["audit_events"]
    events = set(restore_events(contents))
    return {**contents, "audit_events": (cols, [r for r in rows if r not in events])}


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    return tmp_path / "backup.jsonl.gz"
