"""What the crash tests check in a store after a kill, with SQL, against an independent expectation.

:class:`Checker` holds the batches the test drew and asserts, on SQLite and PostgreSQL alike:

- the store is sound: SQLite's ``integrity_check`` and ``foreign_key_check``; no index, label, sighting,
  personal-data or recipient row without its object; the ingest clock above every stored ``date_added``;
- no partial batch: of each batch's versions, all are stored or none; every batch the server
  acknowledged is stored, and every object a TAXII status resource lists as a success;
- no duplicate: no version ``(id, modified)`` twice, exactly one latest version per object, the newest;
- the index is consistent with the objects: the observable and sighting index rows are exactly what
  extracting the stored latest, unrevoked versions gives (the stored bodies are re-extracted, once per
  version), the label and personal-data rows exactly what each version's body holds;
- nothing holds a lock: the whole check runs in a writing transaction (SQLite ``BEGIN IMMEDIATE``, the
  ingest clock's row locked ``FOR UPDATE`` on PostgreSQL) that writes the clock and is rolled back.

:func:`snapshot` is a store's content without what differs between stores (``date_added``): two stores
into which the same batches went hold equal snapshots.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import OperationalError

from nordcert.config import Settings
from nordcert.db import is_postgres
from nordcert.observables.extract import extract
from nordcert.observables.index import sighting_values
from nordcert.observables.kinds import Kind
from nordcert.observables.warninglist_store import current_check
from nordcert.privacy.personal import personal_kinds
from tests.assurance.crash_data import Batch, modified_us

#: Longest a writer may wait for a lock after a kill: a lock a dead process held must be gone by then.
LOCK_WAIT_S = 10.0
#: Tables whose rows belong to one stored version (by ``date_added``).
_PER_VERSION = ("observables", "sighting_index", "object_labels", "personal_data", "object_recipients")


@dataclass(frozen=True)
class _Version:
    """What the check needs of one stored version's body, extracted once."""

    stix_id: str
    modified: int
    observables: frozenset[tuple[Kind, str]]
    sighting: tuple[Any, ...] | None
    labels: frozenset[str]
    personal: str | None


class Checker:
    """Checks a store against the batches drawn so far (:meth:`add`) after every kill (:meth:`check`)."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings
        self.batches: dict[str, Batch] = {}
        self._owner: dict[tuple[str, int], str] = {}
        self._versions: dict[int, _Version] = {}  # by date_added

    def add(self, batch: Batch) -> None:
        for key in batch.keys:
            assert key not in self._owner, f"{key} is in {self._owner[key]} and {batch.name}"
            self._owner[key] = batch.name
        self.batches[batch.name] = batch

    def check(self, *, acknowledged: set[str], context: str) -> set[str]:
        """Assert everything the module docstring lists; return the names of the batches stored."""
        with self.engine.connect() as conn:
            sqlite = not is_postgres(conn)
            if sqlite:  # wait LOCK_WAIT_S for the write lock, not the store's 30 s
                conn.connection.driver_connection.execute(f"PRAGMA busy_timeout={int(LOCK_WAIT_S * 1000)}")
            try:
                return self._locked_check(conn, acknowledged, context)
            finally:
                if sqlite:
                    conn.connection.driver_connection.execute("PRAGMA busy_timeout=30000")

    def _locked_check(self, conn: Connection, acknowledged: set[str], context: str) -> set[str]:
        try:
            tx = conn.begin()  # on SQLite BEGIN IMMEDIATE: the write lock
            if is_postgres(conn):
                conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{int(LOCK_WAIT_S * 1000)}ms'")
                conn.exec_driver_sql("SELECT last_date_added FROM ingest_clock WHERE id = 1 FOR UPDATE")
            conn.exec_driver_sql("UPDATE ingest_clock SET last_date_added = last_date_added WHERE id = 1")
        except OperationalError as exc:
            raise AssertionError(f"{context}: a writer still finds the store locked after {LOCK_WAIT_S} s: "
                                 f"{exc.orig}") from None
        try:
            return self._check(conn, acknowledged, context)
        finally:
            tx.rollback()

    def _check(self, conn: Connection, acknowledged: set[str], context: str) -> set[str]:
        if not is_postgres(conn):
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalars().all() == ["ok"], context
            assert conn.exec_driver_sql("PRAGMA foreign_key_check").all() == [], context
        for table in _PER_VERSION:
            orphans = conn.exec_driver_sql(
                f"SELECT count(*) FROM {table} x WHERE NOT EXISTS "
                "(SELECT 1 FROM stix_objects o WHERE o.date_added = x.date_added)").scalar_one()
            assert orphans == 0, f"{context}: {orphans} {table} rows without their object"
        rows = conn.exec_driver_sql(
            "SELECT date_added, stix_id, modified, is_latest, revoked FROM stix_objects").all()
        clock = conn.exec_driver_sql("SELECT last_date_added FROM ingest_clock WHERE id = 1").scalar_one()
        assert not rows or clock >= max(r.date_added for r in rows), f"{context}: the ingest clock is behind"

        # No duplicate, one latest per object and it is the newest version.
        keys = Counter((r.stix_id, r.modified) for r in rows)
        twice = [k for k, n in keys.items() if n > 1]
        assert not twice, f"{context}: versions stored twice: {twice[:5]}"
        foreign = [k for k in keys if k not in self._owner]
        assert not foreign, f"{context}: versions no batch holds: {foreign[:5]}"
        newest: dict[str, int] = {}
        latest: dict[str, list[int]] = {}
        for r in rows:
            newest[r.stix_id] = max(newest.get(r.stix_id, r.modified), r.modified)
            if r.is_latest:
                latest.setdefault(r.stix_id, []).append(r.modified)
        wrong = [sid for sid in newest if latest.get(sid) != [newest[sid]]]
        assert not wrong, f"{context}: objects without exactly one latest version, the newest: {wrong[:5]}"

        # No partial batch: all of a batch's versions, or none.
        held = Counter(self._owner[k] for k in keys)
        partial = {name: f"{n} of {len(self.batches[name].keys)}" for name, n in held.items()
                   if n != len(self.batches[name].keys)}
        assert not partial, f"{context}: batches stored in part: {partial}"
        stored = set(held)
        lost = acknowledged - stored
        assert not lost, f"{context}: batches acknowledged and not stored: {sorted(lost)}"
        for (body,) in conn.exec_driver_sql("SELECT body FROM taxii_status"):
            status = orjson.loads(body)
            missing = [s for s in status["successes"]
                       if (s["id"], modified_us({"modified": s.get("version")})) not in keys]
            assert not missing, f"{context}: a TAXII status lists as stored what is not: {missing[:3]}"

        self._check_index(conn, rows, context)
        return stored

    def _check_index(self, conn: Connection, rows: list[Any], context: str) -> None:
        self._extract_new(conn, [r.date_added for r in rows if (v := self._versions.get(r.date_added)) is None
                                 or (v.stix_id, v.modified) != (r.stix_id, r.modified)])
        check = current_check(conn)
        want_obs: set[tuple[str, str, int, str | None]] = set()
        want_sightings: set[tuple[Any, ...]] = set()
        want_labels: set[tuple[int, str]] = set()
        want_personal: set[tuple[int, str]] = set()
        for r in rows:
            v = self._versions[r.date_added]
            want_labels |= {(r.date_added, label) for label in v.labels}
            if v.personal:
                want_personal.add((r.date_added, v.personal))
            if not r.is_latest or r.revoked:
                continue
            for kind, value in v.observables:
                hits = check(kind, value) if check is not None else None
                want_obs.add((kind.value, value, r.date_added, ",".join(hits) if hits else None))
            if v.sighting is not None:
                want_sightings.add((r.date_added, *v.sighting))
        got_obs = _rows(conn, "SELECT kind, value, date_added, warninglists FROM observables")
        _same(got_obs, want_obs, f"{context}: the observable index")
        got_sightings = _rows(conn, "SELECT date_added, sighting_of_ref, count, first_seen, last_seen "
                                    "FROM sighting_index")
        _same(got_sightings, want_sightings, f"{context}: the sighting index")
        _same(_rows(conn, "SELECT date_added, label FROM object_labels"), want_labels,
              f"{context}: the labels")
        _same(_rows(conn, "SELECT date_added, kinds FROM personal_data"), want_personal,
              f"{context}: the personal-data rows")
        prefixes = {(int(f), int(p)) for f, p in conn.exec_driver_sql("SELECT family, prefix FROM cidr_prefixes")}
        needed = {(6 if ":" in v else 4, int(v.rpartition("/")[2])) for k, v, _, _ in want_obs if k == "cidr"}
        assert needed <= prefixes, f"{context}: CIDR prefix lengths not recorded: {needed - prefixes}"

    def _extract_new(self, conn: Connection, keys: list[int]) -> None:
        """Extract the observables of versions not seen before from their stored bodies."""
        region = self.settings.phone_region
        for start in range(0, len(keys), 500):
            part = keys[start:start + 500]
            listed = ", ".join(str(int(k)) for k in part)
            for date_added, stix_id, modified, typ, created, body in conn.exec_driver_sql(
                    "SELECT date_added, stix_id, modified, type, created, body FROM stix_objects "
                    f"WHERE date_added IN ({listed})"):
                obj = orjson.loads(body)
                found = extract(obj, phone_region=region).observables
                kinds = personal_kinds(found)
                sighting = sighting_values(obj, created, modified) if typ == "sighting" else None
                self._versions[date_added] = _Version(
                    stix_id, modified, frozenset(found),
                    None if sighting is None else (sighting["sighting_of_ref"], sighting["count"],
                                                   sighting["first_seen"], sighting["last_seen"]),
                    frozenset(label[:250] for label in obj.get("labels", ())),
                    ",".join(sorted(k.value for k in kinds)) if kinds else None)


def _rows(conn: Connection, sql: str) -> set[tuple[Any, ...]]:
    return {tuple(r) for r in conn.exec_driver_sql(sql)}


def _same(got: set[Any], want: set[Any], what: str) -> None:
    if got != want:
        raise AssertionError(f"{what} differs from the stored objects: {len(got - want)} rows too many "
                             f"({sorted(got - want)[:3]}), {len(want - got)} missing ({sorted(want - got)[:3]})")


def snapshot(source: Engine | Connection) -> dict[str, Any]:
    """A store's intel with versions named by ``(id, modified)`` instead of ``date_added``."""
    if isinstance(source, Engine):
        with source.connect() as conn:
            return snapshot(conn)
    conn = source
    key = "o.stix_id, o.modified"
    join = "JOIN stix_objects o ON o.date_added = x.date_added"
    return {
        "versions": {tuple(r[:2]): tuple(r[2:]) for r in conn.exec_driver_sql(
            "SELECT stix_id, modified, type, spec_version, created, is_latest, revoked, valid_until, "
            "creator_org_id, submitted_by, tlp, group_id, anonymous, has_recipients, name, description, body "
            "FROM stix_objects")},
        "labels": _rows(conn, f"SELECT {key}, x.label FROM object_labels x {join}"),
        "observables": _rows(conn, f"SELECT {key}, x.kind, x.value, x.warninglists FROM observables x {join}"),
        "sightings": _rows(conn, f"SELECT {key}, x.sighting_of_ref, x.count, x.first_seen, x.last_seen "
                                 f"FROM sighting_index x {join}"),
        "personal": _rows(conn, f"SELECT {key}, x.legal_basis, x.kinds FROM personal_data x {join}"),
        "recipients": _rows(conn, f"SELECT {key}, x.organisation_id FROM object_recipients x {join}"),
        "cidr_prefixes": _rows(conn, "SELECT family, prefix FROM cidr_prefixes"),
    }


def differences(got: dict[str, Any], want: dict[str, Any]) -> list[str]:
    """How two snapshots differ, part by part, with a few examples of each."""
    out = []
    for part, expected in want.items():
        actual = got[part]
        if isinstance(expected, dict):
            extra = sorted(k for k in actual if k not in expected)
            missing = sorted(k for k in expected if k not in actual)
            changed = sorted(k for k in expected if k in actual and actual[k] != expected[k])
            if extra or missing or changed:
                out.append(f"{part}: {len(extra)} too many {extra[:3]}, {len(missing)} missing {missing[:3]}, "
                           f"{len(changed)} changed {changed[:3]}")
        elif actual != expected:
            out.append(f"{part}: {len(actual - expected)} too many {sorted(actual - expected)[:3]}, "
                       f"{len(expected - actual)} missing {sorted(expected - actual)[:3]}")
    return out
