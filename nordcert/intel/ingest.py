"""Bulk ingest of STIX 2.1 objects: validate, version, share, write, all or nothing.

A batch is streamed in chunks: each chunk is validated, checked against the versions already
stored with one query, and written with one bulk insert per table (nordcert.intel._bulk). The whole batch is one
transaction, so one invalid object anywhere rejects it with every problem listed by
(index, id, reason) and nothing is stored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from operator import itemgetter
from typing import Any

import orjson
from sqlalchemy import Connection, bindparam, select, update

from nordcert.clock import now_us
from nordcert.config import Settings
from nordcert.db import fetch_all, in_values, is_postgres, values_param
from nordcert.errors import Invalid
from nordcert.intel._bulk import BulkInsert
from nordcert.intel._stage import Stager
from nordcert.intel.submission import Submission
from nordcert.intel.tables import ingest_clock, object_labels, object_recipients, stix_objects
from nordcert.intel.validate import FRAUD_SCO_TYPES, Checked, ObjectError, check_object
from nordcert.observables import index as observable_index
from nordcert.observables.extract import extract
from nordcert.observables.kinds import FullCardNumber, Kind
from nordcert.observables.tables import observables as observables_table
from nordcert.observables.tables import sighting_index
from nordcert.observables.warninglist_store import current_check
from nordcert.privacy.personal import PersonalDataRules, minimise, personal_kinds
from nordcert.privacy.tables import personal_data
from nordcert.sharing.tlp import MARKING_TLP, TLP2_EXTENSION_ID, Tlp, tlp_of_markings, with_tlp_marking

_WELL_KNOWN_CLEAR = frozenset({*MARKING_TLP, TLP2_EXTENSION_ID})
# Objects of one bundle share a handful of marking lists: decide each list's TLP once.
_tlp_of_refs = lru_cache(maxsize=1024)(tlp_of_markings)
#: Chunk size when a list is ingested on SQLite: each chunk is written while the next is validated
#: (nordcert.intel._stage), so smaller chunks overlap more; the last one is written directly.
_OVERLAP_CHUNK = 200
#: The tables whose rows are written while the next chunk is validated, parents first.
_STAGED = (stix_objects, observables_table, object_labels)


@dataclass
class IngestResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    first_date_added: int | None = None
    last_date_added: int | None = None
    ids: list[str] = field(default_factory=list)
    #: With ``keep_ids``: the date_added of each stored version, in the order of ``ids``.
    keys: list[int] = field(default_factory=list)
    indexed: int = 0
    #: Values that were not indexed (the objects are stored): (index, id, reason), the first few.
    warnings: list[dict[str, Any]] = field(default_factory=list)
    warning_count: int = 0
    #: Objects refused and skipped (only when ingesting with ``strict=False``): the count, and the first few.
    rejected: int = 0
    rejections: list[dict[str, Any]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged

    def as_dict(self) -> dict[str, Any]:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged,
                "rejected": self.rejected, "total": self.total, "rejections": self.rejections,
                "observables_indexed": self.indexed, "warning_count": self.warning_count, "warnings": self.warnings}

    def add(self, other: IngestResult) -> None:
        """Fold the result of another batch of the same import into this one."""
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.rejected += other.rejected
        self.indexed += other.indexed
        self.warning_count += other.warning_count
        self.rejections.extend(other.rejections)
        self.warnings.extend(other.warnings)
        self.ids.extend(other.ids)
        self.keys.extend(other.keys)
        if other.first_date_added is not None:
            self.first_date_added = self.first_date_added or other.first_date_added
            self.last_date_added = other.last_date_added

    def warn(self, index: int, stix_id: str, reason: str, limit: int) -> None:
        self.warning_count += 1
        if len(self.warnings) < limit:
            self.warnings.append({"index": index, "id": stix_id, "reason": reason})


class _Clock:
    """Hands out date_added values for one transaction, strictly above every value stored before."""

    def __init__(self, conn: Connection) -> None:
        q = select(ingest_clock.c.last_date_added).where(ingest_clock.c.id == 1)
        if is_postgres(conn):
            q = q.with_for_update()  # serialise writers: nothing commits below a value already read
        last = conn.execute(q).scalar_one()  # the row is created by the first migration
        self.conn = conn
        self.last = last

    def take(self, n: int) -> int:
        """Reserve ``n`` consecutive values; returns the first."""
        first: int = max(now_us(), int(self.last) + 1)
        self.last = first + n - 1
        return first

    def save(self) -> None:
        self.conn.execute(update(ingest_clock).where(ingest_clock.c.id == 1).values(last_date_added=self.last))


def ingest(
    conn: Connection,
    objects: Iterable[Any],
    submission: Submission,
    settings: Settings,
    *,
    on_progress: Callable[[int], None] | None = None,
    keep_ids: bool = False,
    strict: bool = True,
) -> IngestResult:
    """Store a batch of STIX objects in the open transaction ``conn``; raise :class:`Invalid` if any is bad.

    The caller's transaction must roll back on the exception; nothing is then stored. With
    ``strict=False`` the bad objects are skipped instead, and counted and listed in the result as rejected.
    """
    result = IngestResult()
    problems = _Problems(settings.max_reported_errors)
    # Writing a chunk while validating the next needs input that touches no store while it is read
    # (a list, no progress callback) and more than one chunk of it.
    chunk_size = settings.ingest_chunk_size
    overlap = (isinstance(objects, list) and on_progress is None and not is_postgres(conn)
               and len(objects) > min(chunk_size, _OVERLAP_CHUNK))
    if overlap:
        chunk_size = min(chunk_size, _OVERLAP_CHUNK)
    writer = _Writer(conn, submission, settings, result, problems, keep_ids, strict, overlap)
    try:
        _ingest_chunks(objects, writer, settings, chunk_size, on_progress)
    except BaseException:
        writer.abandon()
        raise
    return result


def _ingest_chunks(objects: Iterable[Any], writer: _Writer, settings: Settings, chunk_size: int,
                   on_progress: Callable[[int], None] | None) -> None:
    result, problems, strict = writer.result, writer.problems, writer.strict
    chunk: list[tuple[int, Checked, list[tuple[Kind, str]], frozenset[Kind]]] = []
    seen = 0
    last = len(objects) if isinstance(objects, list) else -1
    for index, obj in enumerate(objects):
        seen = index + 1
        try:
            checked = check_object(obj)
            reduced = minimise(checked.obj) if checked.type in FRAUD_SCO_TYPES else None
            found = extract(checked.obj, phone_region=settings.phone_region)
            personal = personal_kinds(found.observables)
            if personal:
                writer.wait()  # the check may read the store
                writer.personal.check(checked.obj, found.observables, personal)
        except (ObjectError, FullCardNumber) as exc:
            oid = obj.get("id") if isinstance(obj, dict) else None
            problems.add(index, oid if isinstance(oid, str) else None, str(exc))
            continue
        if problems.count and strict:
            continue  # the batch is lost; keep validating to report every problem
        for reason in found.skipped:
            result.warn(index, checked.stix_id, reason, settings.max_reported_errors)
        for reason in reduced or ():
            result.warn(index, checked.stix_id, reason, settings.max_reported_errors)
        chunk.append((index, checked, found.observables, personal))
        if len(chunk) >= chunk_size:
            writer.write(chunk, overlap=seen < last)  # the last chunk of a list has nothing to overlap with
            chunk = []
            if on_progress:
                on_progress(seen)
    if chunk and not (strict and problems.count):
        writer.write(chunk)
    if on_progress:
        on_progress(seen)
    if problems.count:
        if strict:
            raise Invalid(f"{problems.count} of {seen} objects rejected; nothing was stored", details=problems.listed)
        result.rejected, result.rejections = problems.count, problems.listed
    writer.finish()


class _Problems:
    """Every rejected object is counted; the first ``limit`` are listed."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.count = 0
        self.listed: list[dict[str, Any]] = []

    def add(self, index: int, stix_id: str | None, reason: str) -> None:
        self.count += 1
        if len(self.listed) < self.limit:
            self.listed.append({"index": index, "id": stix_id, "reason": reason})


class _Writer:
    def __init__(self, conn: Connection, sub: Submission, settings: Settings, result: IngestResult,
                 problems: _Problems, keep_ids: bool, strict: bool = True, overlap: bool = False) -> None:
        self.conn = conn
        self.strict = strict
        self.problems = problems
        self.sub = sub
        self.default_tlp = Tlp.parse(settings.default_tlp)
        self.result = result
        self.keep_ids = keep_ids
        # Taken by the first write, not here: on PostgreSQL the clock's row lock serialises writers until
        # commit, and validating a batch (or its first chunk) needs no lock. Taken before the first read
        # of stored versions, so two batches holding one version still find each other's.
        self.clock: _Clock | None = None
        self.check = current_check(conn)
        self.prefixes: set[tuple[int, int]] | None = None  # CIDR prefix lengths known to the index
        self.personal = PersonalDataRules(conn, settings, sub.legal_basis)
        self.pg = is_postgres(conn)
        # Booleans as the store keeps them: SQLite's driver binds 1 and 0 directly, while a bool takes
        # its slow path (an adapter lookup) on every row; PostgreSQL's columns take booleans.
        self._yes: bool | int = True if self.pg else 1
        self._no: bool | int = False if self.pg else 0
        self._anonymous = self._yes if sub.anonymous else self._no
        self._bulk = BulkInsert(conn)
        self._stager = Stager(conn, _STAGED) if overlap else None
        self._sharing: dict[Tlp | None, tuple[Tlp, int | None, bool | int]] = {}
        # The ids of a chunk travel as one parameter (an array, or JSON for SQLite), not thousands.
        self._versions_sql = (
            "SELECT stix_id, modified, is_latest, creator_org_id, date_added FROM stix_objects "  # nosec B608 # the schema's names and the dialect's placeholders; values are bound
            f"WHERE stix_id {in_values(conn)} ORDER BY stix_id, date_added"
        )

    def _sharing_for(self, marked: Tlp | None) -> tuple[Tlp, int | None, bool | int]:
        """(TLP, group, has named recipients) of an object marked ``marked`` in this submission."""
        decided = self._sharing.get(marked)
        if decided is None:
            sub = self.sub
            tlp = sub.effective_tlp(marked, self.default_tlp)
            group_id = sub.group_id if tlp in (Tlp.AMBER, Tlp.AMBER_STRICT) else None
            named = bool(sub.recipients) and tlp is Tlp.RED
            decided = self._sharing[marked] = (tlp, group_id, self._yes if named else self._no)
        return decided

    def wait(self) -> None:
        """Until the chunk being written is in the store (before any other use of the connection)."""
        if self._stager is not None:
            self._stager.wait()

    def abandon(self) -> None:
        if self._stager is not None:
            self._stager.abandon()

    def write(self, chunk: list[tuple[int, Checked, list[tuple[Kind, str]], frozenset[Kind]]], *,
              overlap: bool = False) -> None:
        """Write a chunk; with ``overlap``, its rows may still be on their way when this returns (:meth:`wait`)."""
        self.wait()
        if self.clock is None:
            self.clock = _Clock(self.conn)
        ids = list({c.stix_id for _, c, _, _ in chunk})
        # One query: every stored version of the chunk's ids.
        versions: dict[str, dict[int, tuple[bool, int | None]]] = {}
        origin: dict[str, int | None] = {}  # the organisation that created each object (its first version)
        latest: dict[str, tuple[int, dict[str, Any] | None]] = {}
        stored_key: dict[str, int] = {}  # date_added of each stored latest version
        # On the driver's own cursor: SQLAlchemy's result machinery cost more than this query here.
        for sid, modified, is_latest, creator, date_added in fetch_all(
                self.conn, self._versions_sql, (values_param(self.conn, ids),)):
            versions.setdefault(sid, {})[modified] = (bool(is_latest), creator)
            origin.setdefault(sid, creator)
            if is_latest:
                latest[sid] = (modified, None)
                stored_key[sid] = date_added
        rows: list[dict[str, Any]] = []
        labels: list[tuple[dict[str, Any], str]] = []
        demote: list[dict[str, Any]] = []
        sub = self.sub
        for index, c, found, personal in chunk:
            stored = versions.get(c.stix_id)
            if stored is not None and c.modified in stored:
                self.result.unchanged += 1
                continue
            if stored:
                creator = origin[c.stix_id]
                if not sub.is_cert_staff and creator != sub.creator_org_id:
                    self.problems.add(index, c.stix_id, "only the organisation that created this object may add versions")
                    continue
                self.result.updated += 1
            else:
                self.result.created += 1
            # A new version keeps the object's creator, even when CERT staff add it.
            creator_org_id = origin.setdefault(c.stix_id, sub.creator_org_id)
            versions.setdefault(c.stix_id, {})[c.modified] = (False, creator_org_id)
            row = self._row(c, creator_org_id)
            row["_found"] = found
            row["_personal"] = personal
            current = latest.get(c.stix_id)
            if current is None or c.modified > current[0]:
                if current is not None:
                    if current[1] is None:
                        demote.append({"sid": c.stix_id, "mod": current[0], "key": stored_key[c.stix_id]})
                    else:
                        current[1]["is_latest"] = self._no
                row["is_latest"] = self._yes
                latest[c.stix_id] = (c.modified, row)
            rows.append(row)
            for label in c.obj.get("labels", ()):
                labels.append((row, self._text(label[:250])))
        if (self.strict and self.problems.count) or not rows:
            return
        assert self.clock is not None
        first = self.clock.take(len(rows))
        for i, row in enumerate(rows, first):
            row["date_added"] = i
        if self.result.first_date_added is None:
            self.result.first_date_added = first
        self.result.last_date_added = first + len(rows) - 1
        if self.keep_ids:
            self.result.ids.extend(r["stix_id"] for r in rows)
            self.result.keys.extend(r["date_added"] for r in rows)
        if demote:
            self.conn.execute(
                update(stix_objects)
                .where(stix_objects.c.stix_id == bindparam("sid"), stix_objects.c.modified == bindparam("mod"))
                .values(is_latest=False),
                [{"sid": d["sid"], "mod": d["mod"]} for d in demote],
            )
            observable_index.unindex(self.conn, [d["key"] for d in demote])
        indexed = observable_index.observable_rows(rows, self.check)
        if indexed:
            self.result.indexed += len(indexed)
            prefixes = observable_index.cidr_prefixes_of(indexed)
            if prefixes:
                if self.prefixes is None:
                    self.prefixes = observable_index.known_prefixes(self.conn)
                observable_index.note_prefixes(self.conn, prefixes, self.prefixes)
        sighted = observable_index.sighting_rows(rows)
        # A label repeated within one object is stored once (columns: date_added, label).
        unique_labels = list(dict.fromkeys((row["date_added"], label) for row, label in labels))
        personal_rows = [self.personal.row(r["date_added"], r["stix_id"], kinds)
                         for r in rows if (kinds := r["_personal"])]
        named = [{"date_added": r["date_added"], "organisation_id": o}
                 for r in rows if r["has_recipients"] for o in sorted(sub.recipients)]
        if overlap and self._stager is not None and not (sighted or personal_rows or named):
            objects_row = itemgetter(*(col.name for col in stix_objects.columns))
            observables_row = itemgetter(*(col.name for col in observables_table.columns))
            self._stager.stage({stix_objects.name: [objects_row(r) for r in rows],
                                observables_table.name: [observables_row(r) for r in indexed],
                                object_labels.name: unique_labels})
            return
        # Parents first: the index rows refer to the objects' rows.
        self._bulk.rows(stix_objects, rows)
        if indexed:
            self._bulk.rows(observables_table, indexed)
        if sighted:
            self._bulk.rows(sighting_index, sighted)
        if unique_labels:
            self._bulk.tuples(object_labels, unique_labels)
        if personal_rows:
            self._bulk.rows(personal_data, personal_rows)
        if named:
            self._bulk.rows(object_recipients, named)

    def _text(self, value: str) -> str:
        """A string for a searchable column: PostgreSQL's text holds no NUL, so it is left out there (the
        body keeps the value exactly, escaped as JSON)."""
        return value.replace("\x00", "") if self.pg and "\x00" in value else value

    def _row(self, c: Checked, creator_org_id: int | None) -> dict[str, Any]:
        obj = c.obj
        sub = self.sub
        if c.stix_id in _WELL_KNOWN_CLEAR:
            tlp = Tlp.CLEAR  # the TLP definitions themselves are public
            group_id, has_recipients = None, self._no
        else:
            refs = obj.get("object_marking_refs")
            marked = _tlp_of_refs(tuple(refs)) if refs else None
            tlp, group_id, has_recipients = self._sharing_for(marked)
            if marked is not tlp or (refs and refs[0] != tlp.marking_id):
                obj["object_marking_refs"] = with_tlp_marking(refs, tlp)
        name = obj.get("name")
        desc = obj.get("description")
        row: dict[str, Any] = {
            "date_added": None,
            "stix_id": c.stix_id,
            "type": c.type,
            "spec_version": c.spec_version,
            "modified": c.modified,
            "created": c.created,
            "is_latest": self._no,
            "revoked": self._yes if c.revoked else self._no,
            "valid_until": c.valid_until,
            "creator_org_id": creator_org_id,
            "submitted_by": sub.submitted_by,
            "tlp": int(tlp),
            "group_id": group_id,
            "anonymous": self._anonymous,
            "has_recipients": has_recipients,
            "name": self._text(name) if isinstance(name, str) else None,
            "description": self._text(desc) if isinstance(desc, str) else None,
            "body": orjson.dumps(obj).decode(),
        }
        if c.type == "sighting":
            row["_sighting"] = observable_index.sighting_values(obj, c.created, c.modified)
        return row

    def finish(self) -> None:
        self.wait()
        if self.clock is not None:
            self.clock.save()
