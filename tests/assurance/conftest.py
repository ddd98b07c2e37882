"""Fixtures of the assurance suites: one store and one real server per module, wiped between examples.

Hypothesis runs many examples; migrating a store and starting a server for each would cost more than
the reads. So each module gets one store (a SQLite file, or a PostgreSQL schema when
``NORDCERT_TEST_POSTGRES_URL`` is set) and one server on 127.0.0.1 serving it, and every example
empties the store first (:func:`tests.assurance.build.wipe`).

Budgets: the hypothesis profile ``assurance`` runs :data:`CI_EXAMPLES` examples per test; set
``NORDCERT_ASSURANCE_EXAMPLES`` to run more (or fewer) on demand. A failing example is reported as
found, without shrinking (an example costs a second or more, and shrinking one takes many minutes);
set ``NORDCERT_ASSURANCE_SHRINK=1`` to shrink it to a minimal world.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase
from hypothesis import settings as hypothesis_settings
from sqlalchemy import Engine, create_engine, text

from nordcert.config import Settings
from nordcert.db import make_engine, migrate
from tests.assurance.build import seeded_tables, wipe
from tests.conftest import POSTGRES_URL, _pg_url_with_schema
from tests.server import running_server

#: Examples per leak test in CI: each builds a world and reads it through every path as every user.
CI_EXAMPLES = 8
EXAMPLES = int(os.environ.get("NORDCERT_ASSURANCE_EXAMPLES", CI_EXAMPLES))
_PHASES = [Phase.explicit, Phase.reuse, Phase.generate, Phase.target]
if os.environ.get("NORDCERT_ASSURANCE_SHRINK") == "1":
    _PHASES.append(Phase.shrink)

hypothesis_settings.register_profile(
    "assurance", max_examples=EXAMPLES, deadline=None, phases=_PHASES,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
#: The settings every assurance test runs with (``@ASSURANCE``).
ASSURANCE = hypothesis_settings.get_profile("assurance")


@dataclass
class Store:
    """A migrated store, its settings, and the tables migration seeded (kept by :meth:`fresh`)."""

    settings: Settings
    engine: Engine
    seeded: set[str]

    def fresh(self) -> None:
        wipe(self.engine, self.seeded)


@contextmanager
def module_settings(home: Path) -> Iterator[Settings]:
    """Settings of a store of its own: a SQLite file in ``home``, or a fresh PostgreSQL schema dropped after."""
    if not POSTGRES_URL:
        yield Settings(home=home)
        return
    schema = "a_" + uuid.uuid4().hex[:16]
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield Settings(home=home, database_url=_pg_url_with_schema(POSTGRES_URL, schema))
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    with module_settings(tmp_path_factory.mktemp("assurance")) as conf:
        engine = make_engine(conf)
        migrate(engine)
        try:
            yield Store(conf, engine, seeded_tables(engine))
        finally:
            engine.dispose()


@pytest.fixture(scope="module")
def server(store: Store) -> Iterator[str]:
    """The base URL of a real server on loopback serving the module's store."""
    with running_server(store.settings, store.engine) as url:
        yield url
