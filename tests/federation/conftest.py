"""Several real instances side by side: each its own store (a SQLite file, or a PostgreSQL schema of its
own when NORDCERT_TEST_POSTGRES_URL is set), its own server on a 127.0.0.1 port, its own instance name."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, func, select, text

from nordcert.accounts import service as accounts
from nordcert.audit import buffered
from nordcert.config import Settings
from nordcert.db import make_engine, migrate, transaction
from nordcert.federation import peers
from nordcert.intel.ingest import ingest
from nordcert.intel.submission import submission_for
from nordcert.intel.tables import stix_objects
from tests.conftest import POSTGRES_URL, _pg_url_with_schema
from tests.server import running_server


@dataclass
class Instance:
    name: str  # the instance name, e.g. nordcert-dk
    country: str
    settings: Settings
    engine: Engine
    url: str = ""
    members: dict[str, str] = field(default_factory=dict)  # org short name -> analyst email

    @property
    def taxii(self) -> str:
        return self.url + "/taxii2/"

    def member(self, short: str, groups: tuple[str, ...] = ()) -> str:
        """An organisation with an analyst; returns the analyst's email."""
        email = f"analyst@{short.lower()}.{self.country.lower()}.example"
        with transaction(self.engine) as conn:
            accounts.create_organisation(conn, name=f"{short} {self.country}", short_name=short, country=self.country,
                                         sector_type="bank")
            accounts.create_user(conn, email=email, organisation=short, role="analyst")
            for g in groups:
                accounts.add_group_member(conn, g, short)
        self.members[short] = email
        return email

    def group(self, name: str) -> None:
        with transaction(self.engine) as conn:
            accounts.create_group(conn, name=name)

    def submit(self, email: str, objects: list[dict[str, Any]], **sharing: Any) -> None:
        with transaction(self.engine) as conn:
            sub = submission_for(conn, accounts.reader_for(conn, email), **sharing)
            ingest(conn, objects, sub, self.settings)

    def count(self, **where: Any) -> int:
        t = stix_objects.c
        q = select(func.count()).select_from(stix_objects)
        for key, value in where.items():
            q = q.where(getattr(t, key) == value)
        with transaction(self.engine, write=False) as conn:
            return int(conn.execute(q).scalar_one())

    def ids(self) -> set[tuple[str, int]]:
        """Every stored (id, version)."""
        with transaction(self.engine, write=False) as conn:
            return {(r.stix_id, r.modified) for r in conn.execute(select(stix_objects.c.stix_id, stix_objects.c.modified))}


@contextmanager
def _store(tmp: Path, name: str) -> Iterator[Settings]:
    home = tmp / name
    home.mkdir()
    if not POSTGRES_URL:
        yield Settings(home=home, instance_name=name)
        return
    schema = "f_" + uuid.uuid4().hex[:16]
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield Settings(home=home, instance_name=name, database_url=_pg_url_with_schema(POSTGRES_URL, schema))
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture
def instances(tmp_path: Path) -> Iterator[Callable[..., Instance]]:
    """Start instances: ``make("nordcert-dk", "DK")``; all are stopped when the test ends."""
    with ExitStack() as stack:
        def make(name: str, country: str, *, serve: bool = True, **overrides: Any) -> Instance:
            settings = stack.enter_context(_store(tmp_path, name))
            if overrides:
                settings = settings.model_copy(update=overrides)
            engine = make_engine(settings)
            stack.callback(engine.dispose)
            stack.callback(buffered.flush, engine)  # queued audit events first, while the engine is whole
            migrate(engine)
            inst = Instance(name, country, settings, engine)
            if serve:
                inst.url = stack.enter_context(running_server(settings, engine))
            return inst
        yield make


def link(a: Instance, b: Instance, *, groups: tuple[str, ...] = (), direction: str = "both",
         max_tlp: str = "amber", **options: Any) -> None:
    """Configure a and b as each other's peers (as their two operators would, exchanging tokens)."""
    with transaction(a.engine) as conn:
        on_a = peers.add_peer(conn, a.settings, name=b.country.lower(), url=b.taxii, instance_name=b.name,
                              country=b.country, direction=direction, max_tlp=max_tlp, groups=list(groups), **options)
    with transaction(b.engine) as conn:
        on_b = peers.add_peer(conn, b.settings, name=a.country.lower(), url=a.taxii, instance_name=a.name,
                              country=a.country, direction=direction, max_tlp=max_tlp, groups=list(groups),
                              token=on_a["inbound_token"], **options)
    with transaction(a.engine) as conn:
        peers.update_peer(conn, b.country.lower(), token=on_b["inbound_token"])
