"""Backups restored: every row of a realistic store comes back, on either store and across them."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, func, insert, select, text

from nordcert.accounts import credentials
from nordcert.accounts import service as accounts
from nordcert.accounts.tables import organisations
from nordcert.config import Settings
from nordcert.db import make_engine, migrate, transaction
from nordcert.observables import service as observables
from nordcert.ops import store
from nordcert.ops.backup import take_backup
from nordcert.ops.restore import restore
from tests.conftest import POSTGRES_URL
from tests.ops.conftest import StoreFactory, restore_events, restored_data, table_contents

#: What the demo store must hold for the round trip to mean something.
_MUST_HOLD = ("organisations", "sharing_groups", "sharing_group_members", "users", "api_tokens", "stix_objects",
              "observables", "sighting_index", "incidents", "incident_reports", "crises", "crisis_status_reports",
              "sectormap_processes", "sectormap_dependencies", "sectormap_risks", "warninglists")


def _restored(new_store: StoreFactory, archive: Path, kind: str | None = None) -> tuple[Engine, dict]:
    target = make_engine(new_store(kind))
    report = restore(target, archive)
    return target, report


def test_the_demo_store_comes_back_row_for_row(demo_store: Engine, new_store: StoreFactory, archive: Path) -> None:
    written = take_backup(demo_store, archive)
    source = table_contents(demo_store)
    assert all(source[name][1] for name in _MUST_HOLD), [n for n in _MUST_HOLD if not source[n][1]]
    with transaction(demo_store, write=False) as conn:
        versions = conn.execute(text("SELECT count(*) FROM stix_objects WHERE stix_id = (SELECT stix_id FROM "
                                     "stix_objects WHERE name = 'C2 server, still active')")).scalar_one()
    assert versions == 2  # an object with two versions
    assert written["rows"] == sum(len(v[1]) for name, v in source.items() if name != "__revision__")
    target, report = _restored(new_store, archive)
    restored = table_contents(target)
    assert restored_data(restored) == source
    (event,) = restore_events(restored)  # the trail says where the store came from
    assert archive.name in event
    assert report["rows"] == written["rows"] and report["replaced"] is False
    assert report["alembic_revision"] == store.head_revision() and report["upgraded_to"] is None
    assert any("checksums match" in c for c in report["verified"])
    _restored_store_works(target, Settings(home=Path("unused")))
    target.dispose()


def _restored_store_works(engine: Engine, settings: Settings) -> None:
    """The restored store serves: the demo token authenticates, a lookup finds the demo's mule IBAN through
    the observable index, and new rows get fresh keys (sequences moved past the restored ones)."""
    with transaction(engine) as conn:
        reader = credentials.authenticate(conn, "demo-alpha-soc")
        assert reader.email == "soc@alphabank.example"
        found = observables.lookup(conn, reader, settings, ["203.0.113.77"], subdomains=False, include_stale=True)
        assert found["results"][0]["found"]
        before = conn.execute(select(func.max(organisations.c.id))).scalar_one()
        org = accounts.create_organisation(conn, name="Restored Sparebank", country="NO", sector_type="bank")
        assert org["id"] > before


@pytest.mark.skipif(not POSTGRES_URL, reason="a restore across stores needs PostgreSQL")
@pytest.mark.parametrize("source_kind, target_kind", [("sqlite", "postgresql"), ("postgresql", "sqlite")])
def test_a_backup_restores_onto_the_other_store(new_store: StoreFactory, tmp_path: Path, source_kind: str,
                                                 target_kind: str) -> None:
    from nordcert.demo.builder import build_demo

    settings = new_store(source_kind)
    settings = settings.model_copy(update={"home": settings.home / "demo"})
    build_demo(settings, progress=False)
    source = make_engine(settings)
    archive = tmp_path / "across.jsonl.gz"
    assert take_backup(source, archive)["dialect"] == source_kind
    target, report = _restored(new_store, archive, target_kind)
    assert (report["from_dialect"], report["to_dialect"]) == (source_kind, target_kind)
    assert restored_data(table_contents(target)) == table_contents(source)
    with transaction(target) as conn:
        assert credentials.authenticate(conn, "demo-fjord-risk").email == "risk@fjord.example"
        accounts.create_organisation(conn, name="Across Bank", country="SE", sector_type="bank")
    source.dispose()
    target.dispose()


def test_an_older_backup_is_restored_then_upgraded(new_store: StoreFactory, archive: Path) -> None:
    old = make_engine(new_store())
    with transaction(old) as conn:
        store.migrate_to(conn, "0010")
        conn.execute(insert(organisations).values(name="Old Bank", short_name="OLD", country="DK", sector_type="bank",
                                                  identity_id="identity--00000000-0000-4000-8000-000000000001",
                                                  created_at=1))
    assert take_backup(old, archive)["alembic_revision"] == "0010"
    target, report = _restored(new_store, archive)
    assert report["alembic_revision"] == "0010" and report["upgraded_to"] == store.head_revision()
    with transaction(target, write=False) as conn:
        assert store.revision(conn, store.reflect(conn)) == store.head_revision()
        assert accounts.get_organisation(conn, "OLD")["name"] == "Old Bank"
    old.dispose()
    target.dispose()


def test_a_store_without_schema_has_nothing_to_back_up(new_store: StoreFactory, archive: Path) -> None:
    from nordcert.errors import Invalid

    engine = make_engine(new_store())
    with pytest.raises(Invalid, match="no schema"):
        take_backup(engine, archive)
    assert not archive.exists()
    migrate(engine)
    assert take_backup(engine, archive)["rows"] == sum(store.seed_rows(store.head_revision()).values())
    engine.dispose()
