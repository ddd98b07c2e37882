"""``nordcert backup``: a consistent snapshot of the whole store, taken while the server runs and writes.

Every table is read inside one read transaction: on SQLite (WAL) the transaction's snapshot is fixed by
its first read, and writers carry on beside it; on PostgreSQL the transaction is REPEATABLE READ and READ
ONLY, so every table is read as of the same moment. An object committed with its observables is in the
backup with them, or neither is. Rows are streamed (server-side cursors on PostgreSQL), so memory stays
bounded whatever the size of the store. The archive format is described in :mod:`nordcert.ops.archive`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Table, select

from nordcert import __version__
from nordcert.clock import iso, now_us
from nordcert.db import is_postgres, transaction
from nordcert.errors import Invalid
from nordcert.ops import store
from nordcert.ops.archive import ArchiveWriter, Header, TableSpec, line_encoder

#: Rows fetched from the store per round trip.
BATCH = 2000

#: Called as rows are written: (table, rows since the last call, rows of the whole backup). The CLI draws its
#: progress bar with it.
Progress = Callable[[str, int, int], None]


@contextmanager
def snapshot(engine: Engine) -> Iterator[Connection]:
    """A read transaction in which every read sees the store as of one moment."""
    if is_postgres(engine):
        with engine.connect() as conn:
            conn = conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
            with conn.begin():
                yield conn
    else:
        with transaction(engine, write=False) as conn:
            yield conn


def default_path(now: int | None = None) -> Path:
    """``nordcert-backup-<UTC time>.jsonl.gz`` in the current folder."""
    stamp = (iso(now or now_us()) or "").replace("-", "").replace(":", "").split(".")[0]
    return Path(f"nordcert-backup-{stamp}Z.jsonl.gz")


def take_backup(engine: Engine, path: Path, *, progress: Progress | None = None, compresslevel: int = 6
                ) -> dict[str, Any]:
    """Write a backup of the whole store to ``path``; returns what was written (for the CLI to report)."""
    if path.exists() and path.is_dir():
        raise Invalid(f"{path} is a folder; name the backup file to write")
    if not path.parent.exists():
        raise Invalid(f"{path.parent} does not exist")
    started = time.perf_counter()
    with snapshot(engine) as conn:
        md = store.reflect(conn)  # the first read: on SQLite it fixes the snapshot
        revision = store.revision(conn, md)
        if revision is None:
            raise Invalid("the store has no schema yet: there is nothing to back up")
        tables = store.data_tables(md)
        specs = [TableSpec(str(t.name), store.columns_of(t), store.count_rows(conn, t)) for t in tables]
        header = Header(__version__, engine.dialect.name, revision, iso(now_us()) or "", tuple(specs))
        writer = ArchiveWriter(path, header, compresslevel=compresslevel)
        try:
            for table, spec in zip(tables, specs, strict=True):
                written = writer.table(spec, _lines(conn, table, spec, progress, header.rows))
                if written.rows != spec.rows:  # the snapshot makes this impossible; say so if it ever is not
                    raise RuntimeError(f"{table.name}: counted {spec.rows} rows, read {written.rows}")
            manifest = writer.finish()
        except BaseException:
            writer.abandon()
            raise
    return {"file": str(path), "bytes": path.stat().st_size, "alembic_revision": revision,
            "dialect": engine.dialect.name, "nordcert": __version__, "created_at": header.created_at,
            "tables": len(specs), "rows": manifest.rows, "content_sha256": manifest.content_sha256,
            "seconds": round(time.perf_counter() - started, 3)}


def _lines(conn: Connection, table: Table, spec: TableSpec, progress: Progress | None, total: int
           ) -> Iterator[bytes]:
    """The table's rows as archive lines, in primary-key order (a parent row before rows that refer to it)."""
    encode = line_encoder([k for _, k in spec.columns])
    query = select(*(table.c[name] for name in spec.column_names)).order_by(*table.primary_key.columns)
    result = conn.execution_options(yield_per=BATCH).execute(query)
    done = 0
    for row in result:
        yield encode(row)
        done += 1
        if progress is not None and done == BATCH:
            progress(spec.name, done, total)
            done = 0
    if progress is not None:
        progress(spec.name, done, total)
