"""Ingest of a list on SQLite writes each chunk while it validates the next (nordcert.intel._stage):
the store must end up exactly as when the chunks are written one after the other."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from sqlalchemy import Engine, Table, func, select
from sqlalchemy.exc import IntegrityError

from nordcert.config import Settings
from nordcert.db import is_postgres, transaction
from nordcert.errors import Invalid
from nordcert.intel.ingest import _OVERLAP_CHUNK, IngestResult, ingest
from nordcert.intel.submission import Submission
from nordcert.intel.tables import object_labels, stix_objects
from nordcert.observables.tables import observables, sighting_index
from tests.factories import indicator, make_member, stix_id


def _objects(n: int, tag: str) -> list[dict[str, Any]]:
    out = []
    for i in range(n):
        obj = indicator(f"10.{tag}.{i // 250}.{i % 250 + 1}", labels=["c2", "phishing", "c2"][: 1 + i % 3])
        if i % 7 == 0:
            obj["pattern"] = f"[domain-name:value = 'Host{i}.{tag}.Example.COM']"
        out.append(obj)
    # A new version of an object of an earlier chunk, and one that repeats an earlier version.
    out.append({**out[3], "modified": "2026-02-01T00:00:00.000Z"})
    out.append(dict(out[5]))
    return out


def _snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the three tables, with date_added replaced by the object's id and version."""
    with transaction(engine, write=False) as conn:
        keys = {r.date_added: (r.stix_id, r.modified) for r in
                conn.execute(select(stix_objects.c.date_added, stix_objects.c.stix_id, stix_objects.c.modified))}

        def rows(table: Table) -> list[tuple[Any, ...]]:
            out = []
            for r in conn.execute(select(table)):
                values = dict(r._mapping)
                values["date_added"] = keys[values["date_added"]]
                out.append(tuple(sorted(values.items())))
            return sorted(out)

        return {t.name: rows(t) for t in (stix_objects, object_labels, observables)}


def _run(engine: Engine, objects: Any, sub: Submission, settings: Settings) -> IngestResult:
    with transaction(engine) as conn:
        return ingest(conn, objects, sub, settings)


@pytest.fixture
def sub(engine: Engine) -> Submission:
    member = make_member(engine, role="analyst")
    return Submission(creator_org_id=member.org_id, submitted_by=member.reader.user_id)


@pytest.fixture
def sqlite_only(engine: Engine) -> Iterator[None]:
    if is_postgres(engine):
        pytest.skip("chunks overlap on SQLite only")
    yield


def test_a_list_is_stored_as_the_same_objects_read_one_by_one(engine: Engine, settings: Settings,
                                                              sub: Submission) -> None:
    objects = _objects(1_000, "1")
    chunked = settings.model_copy(update={"ingest_chunk_size": _OVERLAP_CHUNK})
    overlapped = _run(engine, objects, sub, chunked)  # a list: chunks overlap (on SQLite)
    after_list = _snapshot(engine)
    with transaction(engine) as conn:
        for table in (object_labels, observables, stix_objects):
            conn.execute(table.delete())
    # A generator, in chunks of the same size: each written before the next is read.
    one_by_one = _run(engine, iter(objects), sub, chunked)
    assert overlapped.as_dict() == one_by_one.as_dict()
    assert (overlapped.created, overlapped.updated, overlapped.unchanged) == (1_000, 1, 1)
    assert _snapshot(engine) == after_list
    assert len(after_list["stix_objects"]) == 1_001
    assert len(after_list["object_labels"]) == sum(len(set(o.get("labels", ()))) for o in objects[:1_001])
    assert len(after_list["observables"]) == 1_000  # the latest versions


def test_an_invalid_object_in_a_late_chunk_stores_nothing(engine: Engine, settings: Settings, sub: Submission) -> None:
    objects = _objects(900, "2")
    objects.append({**indicator(), "pattern": "[ipv4-addr:value = '1.2.3.4'"})
    with pytest.raises(Invalid) as err:
        _run(engine, objects, sub, settings)
    assert [d["index"] for d in err.value.details] == [len(objects) - 1]
    assert _snapshot(engine) == {"stix_objects": [], "object_labels": [], "observables": []}
    # The connections go back to the pool clean: the next ingest stores exactly its own objects.
    again = _objects(450, "3")
    assert _run(engine, again, sub, settings).created == 450
    assert len(_snapshot(engine)["stix_objects"]) == 451


def test_a_failing_write_rolls_everything_back(engine: Engine, settings: Settings, sub: Submission,
                                               sqlite_only: None) -> None:
    """A row the store refuses (here a creator that does not exist) fails the ingest with SQLAlchemy's
    error, whichever thread wrote it, and nothing is stored."""
    ghost = Submission(creator_org_id=10**9, submitted_by=None)
    with pytest.raises(IntegrityError):
        _run(engine, _objects(700, "4"), ghost, settings)
    assert _snapshot(engine)["stix_objects"] == []
    assert _run(engine, _objects(300, "5"), sub, settings).created == 300


def test_objects_with_rows_in_other_tables_are_written_in_order(engine: Engine, settings: Settings,
                                                                sub: Submission) -> None:
    """Sightings have rows in the sighting index: their chunks are written directly, the others overlap."""
    objects = _objects(600, "6")
    objects[450:450] = [{"type": "sighting", "spec_version": "2.1", "id": stix_id("sighting"),
                         "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
                         "sighting_of_ref": objects[i]["id"]} for i in range(10)]
    assert _run(engine, objects, sub, settings).created == 610
    stored = _snapshot(engine)
    assert len(stored["stix_objects"]) == 611
    with transaction(engine, write=False) as conn:
        assert conn.execute(select(func.count()).select_from(sighting_index)).scalar_one() == 10


def test_strings_reach_the_store_exactly_as_written_directly(engine: Engine, settings: Settings,
                                                             sub: Submission) -> None:
    """Staged chunks (TEMP tables, moved by a trigger in another thread; COPY on PostgreSQL) keep every
    value exactly: quotes, backslashes, escapes, NUL, text outside the BMP, long strings and big integers."""
    objects = _objects(700, "7")
    tricky = ['say "hi"\\n', "\\u0041 is not A", "Ørsted 🏦 中文", "tab\there", "x" * 5000, "nul \x00 inside"]
    for i, obj in enumerate(objects[:690]):
        text = tricky[i % len(tricky)]
        obj["name"] = text
        obj["description"] = text[::-1]
        obj["labels"] = [text[:250]]
        obj["x_big"] = 2**62 + i
    chunked = settings.model_copy(update={"ingest_chunk_size": _OVERLAP_CHUNK})
    assert _run(engine, objects, sub, chunked).created == 700
    after_list = _snapshot(engine)
    with transaction(engine) as conn:
        for table in (object_labels, observables, stix_objects):
            conn.execute(table.delete())
    _run(engine, iter(objects), sub, chunked)
    assert _snapshot(engine) == after_list
    with transaction(engine, write=False) as conn:
        stored = set(conn.execute(select(stix_objects.c.name)).scalars())
        bodies = {orjson.loads(b)["name"] for b in conn.execute(select(stix_objects.c.body)).scalars()}
    searchable = {t.replace("\x00", "") for t in tricky} if is_postgres(engine) else set(tricky)
    assert searchable <= stored  # PostgreSQL's text holds no NUL: the searchable columns leave it out
    assert set(tricky) <= bodies  # the objects keep every value exactly
