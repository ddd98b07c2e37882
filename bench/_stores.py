"""Fresh, migrated stores for the benchmarks (SQLite files or PostgreSQL schemas), and the rows
nordcert writes for the generated indicators, for the raw executemany references."""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from _data import ORG_NAME
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from nordcert.accounts import service as accounts
from nordcert.clock import now_us
from nordcert.config import Settings
from nordcert.db import make_engine, migrate, transaction
from nordcert.intel.validate import timestamp_us
from nordcert.sharing.tlp import Tlp


@dataclass
class Store:
    kind: str
    settings: Settings
    engine: Engine
    org_id: int
    user_id: int
    schema: str | None = None  # PostgreSQL: the schema holding this store


class Stores:
    """Fresh, migrated stores with one organisation and one analyst; removed on close."""

    def __init__(self, tmp: Path, pg_url: str) -> None:
        self.tmp = tmp
        self.pg_url = pg_url
        self.live: list[Store] = []
        self.n = 0

    def fresh(self, kind: str, **overrides: Any) -> Store:
        """A fresh store of ``kind`` (sqlite or postgres); ``overrides``: other settings (e.g. sqlite_page_size)."""
        self.n += 1
        schema = None
        if kind == "sqlite":
            settings = Settings(home=self.tmp / f"sqlite-{self.n}", database_url=None, **overrides)
        else:
            schema = f"bench_{secrets.token_hex(6)}"
            with self._admin() as conn, conn.begin():
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            url = make_url(self.pg_url).update_query_dict({"options": f"-csearch_path={schema}"})
            settings = Settings(home=self.tmp / f"pg-{self.n}", database_url=url.render_as_string(hide_password=False),
                                **overrides)
        engine = make_engine(settings)
        store = Store(kind, settings, engine, 0, 0, schema)
        self.live.append(store)
        migrate(engine)
        with transaction(engine) as conn:
            org = accounts.create_organisation(conn, name=ORG_NAME, short_name="BENCH", country="NO",
                                               sector_type="bank")
            user = accounts.create_user(conn, email="analyst@bench.example", organisation=org["id"], role="analyst")
        store.org_id, store.user_id = org["id"], user["id"]
        return store

    def drop(self, store: Store) -> None:
        store.engine.dispose()
        if store.schema is not None:
            with self._admin() as conn, conn.begin():
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{store.schema}" CASCADE'))
        else:
            shutil.rmtree(store.settings.home, ignore_errors=True)
        self.live.remove(store)

    @contextmanager
    def _admin(self) -> Iterator[Any]:
        engine = create_engine(self.pg_url)
        try:
            with engine.connect() as conn:
                yield conn
        finally:
            engine.dispose()

    def postgres_version(self) -> str:
        try:
            with self._admin() as conn:
                return str(conn.execute(text("SHOW server_version")).scalar_one()).split()[0]
        except OperationalError as exc:
            raise SystemExit(f"PostgreSQL is not reachable ({exc.orig}); pass --postgres-url or --store sqlite") from None

    def close(self) -> None:
        for store in list(self.live):
            self.drop(store)


_PATTERN_KINDS = {"ipv4-addr": "ipv4", "domain-name": "domain", "url": "url", "file": "sha256"}


def raw_rows(objects: list[dict[str, Any]], store: Store) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The stix_objects, object_labels and observables rows nordcert writes for these objects
    (TLP:GREEN, new ids; the generator's values are already in their normal form)."""
    first = now_us()
    rows: list[dict[str, Any]] = []
    labels: list[dict[str, Any]] = []
    for i, obj in enumerate(objects):
        date_added = first + i
        rows.append({
            "date_added": date_added,
            "stix_id": obj["id"],
            "type": obj["type"],
            "spec_version": obj["spec_version"],
            "modified": timestamp_us(obj["modified"]),
            "created": timestamp_us(obj["created"]),
            "is_latest": True,
            "revoked": False,
            "valid_until": timestamp_us(obj["valid_until"]) if "valid_until" in obj else None,
            "creator_org_id": store.org_id,
            "submitted_by": store.user_id,
            "tlp": int(Tlp.GREEN),
            "group_id": None,
            "anonymous": False,
            "has_recipients": False,
            "name": obj["name"],
            "description": obj["description"],
            "body": orjson.dumps(obj).decode(),
        })
        for label in dict.fromkeys(obj["labels"]):
            labels.append({"date_added": date_added, "label": label[:250]})
        pattern = obj["pattern"]
        kind = _PATTERN_KINDS[pattern[1:pattern.index(":")]]
        value = pattern[pattern.index("'") + 1:pattern.rindex("'")]
        labels.append({"date_added": date_added, "kind": kind, "value": value, "warninglists": None, "_obs": True})
    return rows, labels
