"""``nordcert restore``: an archive back into a store, checked before and verified after.

1. The whole archive is read and checked first (structure, every table's row count and checksum, the
   content hash). A damaged or truncated archive is refused here, before the store is touched.
2. In one transaction on the target store: refuse a store holding data unless ``force``; drop its schema;
   migrate it to the archive's Alembic revision; load every row; move PostgreSQL's sequences past the
   restored keys; verify (every table's row count and checksum read back from the store, the revision,
   foreign keys, and ``PRAGMA integrity_check`` on SQLite). Any failure rolls everything back: the store
   is as it was.
3. Once committed, the store is migrated to this nordcert's newest revision, if the archive is older,
   and the audit trail (the backup's own) gains a ``store.restore`` event naming the file.

The archive holds plain values by column kind, so a backup of a SQLite store restores onto PostgreSQL
and the reverse.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, MetaData, Table, select
from sqlalchemy.exc import DBAPIError

from nordcert.audit import service as audit
from nordcert.db import is_postgres, transaction
from nordcert.errors import Conflict, Invalid
from nordcert.ops import store
from nordcert.ops.archive import Manifest, RowDigest, TableSpec, check_archive, line_encoder, read_archive

#: Rows written to the store per statement.
BATCH = 2000

#: Called as work advances: (phase, table, rows since the last call); phases: check, load, verify.
Progress = Callable[[str, str, int], None]


class VerificationFailed(Invalid):
    """The restored store does not hold what the archive does (the restore was rolled back)."""


def restore(engine: Engine, path: Path, *, force: bool = False, progress: Progress | None = None) -> dict[str, Any]:
    """Restore the archive at ``path`` into the store of ``engine``; returns the report of what was checked."""
    started = time.perf_counter()
    manifest = check_archive(path, None if progress is None else lambda t, n: progress("check", t, n))
    header = manifest.header
    if not store.is_known_revision(header.alembic_revision):
        raise Invalid(f"the backup's schema is at revision {header.alembic_revision}, which this nordcert does "
                      f"not know; restore it with nordcert {header.nordcert} or newer")
    with transaction(engine) as conn:
        existing = store.reflect(conn)
        holding = store.holds_data(conn, existing)
        if holding and not force:
            raise Conflict(f"the store is not empty (it holds {', '.join(holding[:5])}"
                           f"{' …' if len(holding) > 5 else ''}); restore with --force to replace it")
        if not is_postgres(conn):
            conn.exec_driver_sql("PRAGMA defer_foreign_keys = ON")  # checked at commit, and below
        store.drop_all(conn, existing)
        store.migrate_to(conn, header.alembic_revision)
        target = store.reflect(conn)
        tables = _matching_tables(target, header.tables)
        for table in reversed(tables):  # rows the migrations seeded: the archive has the store's own
            conn.execute(table.delete())
        _load(conn, path, manifest, {t.name: t for t in tables}, progress)
        store.reset_sequences(conn, tables)
        checks = _verify(conn, target, manifest, tables, progress)
    upgraded_to = None
    with transaction(engine) as conn:
        if header.alembic_revision != store.head_revision():
            store.migrate_to(conn, "head")
            upgraded_to = store.head_revision()
        report = {"file": str(path), "from_dialect": header.dialect, "to_dialect": engine.dialect.name,
                  "backup_created_at": header.created_at, "backup_nordcert": header.nordcert,
                  "alembic_revision": header.alembic_revision, "upgraded_to": upgraded_to,
                  "replaced": bool(holding), "tables": len(header.tables), "rows": manifest.rows, "verified": checks}
        # The restored trail is the backup's; this event, after it, says where the store came from.
        audit.record(conn, actor=None, action="store.restore", target=path.name,
                     details={k: report[k] for k in ("backup_created_at", "from_dialect", "alembic_revision",
                                                     "upgraded_to", "replaced", "rows")})
    return {**report, "seconds": round(time.perf_counter() - started, 3)}


def _matching_tables(target: MetaData, specs: tuple[TableSpec, ...]) -> list[Table]:
    """The target's tables in the archive's order; the archive must hold exactly the schema's tables and
    columns at its revision (anything else means the archive was not made by nordcert at that revision)."""
    names = {t.name for t in store.data_tables(target)}
    missing = names - {s.name for s in specs}
    extra = [s.name for s in specs if s.name not in names]
    if missing or extra:
        raise Invalid(f"the backup does not match its schema revision: tables missing {sorted(missing)}, "
                      f"unknown {extra}")
    out = []
    for spec in specs:
        table = target.tables[spec.name]
        if set(spec.column_names) != set(table.columns.keys()):
            raise Invalid(f"the backup's columns of {spec.name} do not match its schema revision")
        out.append(table)
    return out


def _load(conn: Connection, path: Path, checked: Manifest, tables: dict[str, Table], progress: Progress | None
          ) -> None:
    """Insert every row, reading the archive a second time (and checking it again as it goes)."""
    _header, archive_tables, finish = read_archive(path)
    for spec, rows in archive_tables:
        table, names = tables[spec.name], spec.column_names
        batch: list[dict[str, Any]] = []
        for values in rows:
            batch.append(dict(zip(names, values, strict=True)))
            if len(batch) == BATCH:
                _insert(conn, table, batch, progress)
                batch = []
        if batch:
            _insert(conn, table, batch, progress)
    if finish().content_sha256 != checked.content_sha256:
        raise Invalid(f"{path} changed while it was being restored; nothing was restored")


def _insert(conn: Connection, table: Table, batch: list[dict[str, Any]], progress: Progress | None) -> None:
    try:
        conn.execute(table.insert(), batch)
    except DBAPIError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)
        raise Invalid(f"the store refused a row of {table.name} ({reason}); nothing was restored") from None
    if progress is not None:
        progress("load", table.name, len(batch))


def _verify(conn: Connection, target: MetaData, manifest: Manifest, tables: list[Table],
            progress: Progress | None) -> list[str]:
    """Read everything back and compare it with the archive; returns the checks passed, in words."""
    for spec, table in zip(manifest.header.tables, tables, strict=True):
        encode = line_encoder([k for _, k in spec.columns])
        digest = RowDigest()
        result = conn.execution_options(yield_per=BATCH).execute(select(*(table.c[n] for n in spec.column_names)))
        for row in result:
            digest.add(encode(row))
        if progress is not None:
            progress("verify", spec.name, digest.rows)
        found, expected = digest.result(), manifest.tables[spec.name]
        if found.rows != expected.rows:
            raise VerificationFailed(f"{spec.name}: {found.rows} rows restored, the backup has {expected.rows}; "
                                     "nothing was restored")
        if found.checksum != expected.checksum:
            raise VerificationFailed(f"{spec.name}: the restored rows differ from the backup's; nothing was restored")
    revision = store.revision(conn, target)
    if revision != manifest.header.alembic_revision:
        raise VerificationFailed(f"the store is at revision {revision}, the backup at "
                                 f"{manifest.header.alembic_revision}; nothing was restored")
    checks = [f"{len(tables)} tables: row counts and checksums match the backup",
              f"schema at the backup's revision {revision}"]
    if is_postgres(conn):
        checks.append("foreign keys enforced by PostgreSQL as each row was inserted")
        return checks
    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise VerificationFailed(f"{len(broken)} rows refer to rows that do not exist (first in table "
                                 f"{broken[0][0]}); nothing was restored")
    checks.append("foreign keys: PRAGMA foreign_key_check finds no dangling reference")
    integrity = [r[0] for r in conn.exec_driver_sql("PRAGMA integrity_check").fetchall()]
    if integrity != ["ok"]:
        raise VerificationFailed(f"PRAGMA integrity_check: {'; '.join(integrity[:5])}; nothing was restored")
    checks.append("PRAGMA integrity_check: ok")
    return checks
