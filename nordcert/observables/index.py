"""Keeping the observable and sighting indexes in step with ingest, in the same transaction.

Ingest calls :func:`index_rows` with the rows it writes and :func:`unindex` with the versions it
demotes; both cost a constant number of statements per chunk, whatever the size of the store.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import Connection, delete

from nordcert.db import fetch_all, upsert_insert
from nordcert.intel.validate import ObjectError, timestamp_us
from nordcert.observables.kinds import Kind
from nordcert.observables.tables import cidr_prefixes, observables, sighting_index

#: Looks a normalised value up in the warninglists: the names of the lists it is on.
WarninglistCheck = Callable[[Kind, str], list[str]]


def unindex(conn: Connection, date_added: Iterable[int]) -> None:
    """Drop the index rows of versions that are no longer the latest."""
    keys = sorted(set(date_added))
    for start in range(0, len(keys), 500):
        part = keys[start:start + 500]
        conn.execute(delete(observables).where(observables.c.date_added.in_(part)))
        conn.execute(delete(sighting_index).where(sighting_index.c.date_added.in_(part)))


def cidr_prefixes_of(rows: Iterable[dict[str, Any]]) -> set[tuple[int, int]]:
    """(family, prefix length) of the CIDR values among index rows."""
    out = set()
    for r in rows:
        if r["kind"] == "cidr":
            addr, _, prefix = r["value"].partition("/")
            out.add((6 if ":" in addr else 4, int(prefix)))
    return out


def note_prefixes(conn: Connection, prefixes: set[tuple[int, int]], known: set[tuple[int, int]]) -> None:
    """Record prefix lengths not in ``known`` (which is updated); concurrent writers may race: ignored."""
    new = prefixes - known
    if not new:
        return
    conn.execute(upsert_insert(conn, cidr_prefixes).on_conflict_do_nothing(),
                 [{"family": f, "prefix": p} for f, p in sorted(new)])
    known |= new


def known_prefixes(conn: Connection) -> set[tuple[int, int]]:
    return {(int(f), int(p)) for f, p in fetch_all(conn, "SELECT family, prefix FROM cidr_prefixes")}


def observable_rows(rows: Iterable[dict[str, Any]], check: WarninglistCheck | None) -> list[dict[str, Any]]:
    """Index rows for the latest, unrevoked versions among ``rows`` (each carrying ``_found``)."""
    out: list[dict[str, Any]] = []
    for row in rows:
        if not row["is_latest"] or row["revoked"]:
            continue
        found = row.get("_found")
        if not found:
            continue
        for kind, value in found:
            hits = check(kind, value) if check is not None else None
            out.append({"kind": str(kind), "value": value, "date_added": row["date_added"],
                        "warninglists": ",".join(hits) if hits else None})
    return out


def sighting_values(obj: dict[str, Any], created: int | None, modified: int) -> dict[str, Any]:
    """What the sighting index keeps of a sighting object.

    A sighting without ``count`` counts once (STIX 2.1 §5.2 leaves it unknown); without
    ``first_seen``/``last_seen`` its ``created`` and ``modified`` stand in.
    """
    count = obj.get("count", 1)
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        count = 1
    first = _ts(obj.get("first_seen")) or created or modified
    last = _ts(obj.get("last_seen")) or modified or first
    return {"sighting_of_ref": obj["sighting_of_ref"], "count": count, "first_seen": first,
            "last_seen": max(first, last)}


def sighting_rows(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Sighting index rows for the latest, unrevoked sightings among ``rows`` (each carrying ``_sighting``)."""
    return [{"date_added": row["date_added"], **row["_sighting"]}
            for row in rows if row.get("_sighting") and row["is_latest"] and not row["revoked"]]


def _ts(value: Any) -> int | None:
    if value is None:
        return None
    try:
        return timestamp_us(value)
    except ObjectError:
        return None
