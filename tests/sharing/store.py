"""Helpers for the sharing tests: put :class:`Sharing` items into ``stix_objects`` and read back what a reader sees."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, insert, select

from nordcert.intel.tables import object_recipients, stix_objects
from nordcert.sharing.policy import Reader, Sharing, visible_clause


def object_row(date_added: int, item: Sharing) -> dict[str, Any]:
    """A complete ``stix_objects`` row carrying the sharing attributes of ``item``."""
    return {
        "date_added": date_added,
        "stix_id": f"indicator--{uuid.uuid4()}",
        "type": "indicator",
        "spec_version": "2.1",
        "modified": 0,
        "created": 0,
        "is_latest": True,
        "revoked": False,
        "creator_org_id": item.creator_org_id,
        "tlp": int(item.tlp),
        "group_id": item.group_id,
        "anonymous": item.anonymous,
        "has_recipients": bool(item.recipients),
        "body": "{}",
    }


def insert_items(conn: Connection, items: Iterable[tuple[int, Sharing]]) -> None:
    """Store each ``(date_added, item)`` with its recipients, in one executemany per table."""
    pairs = list(items)
    if not pairs:
        return
    conn.execute(insert(stix_objects), [object_row(key, item) for key, item in pairs])
    named = [{"date_added": key, "organisation_id": org} for key, item in pairs for org in sorted(item.recipients)]
    if named:
        conn.execute(insert(object_recipients), named)


def visible_keys(conn: Connection, reader: Reader | None) -> set[int]:
    """The ``date_added`` of every stored row the SQL filter lets ``reader`` see."""
    query = select(stix_objects.c.date_added).where(visible_clause(reader, stix_objects, object_recipients))
    return set(conn.execute(query).scalars())
