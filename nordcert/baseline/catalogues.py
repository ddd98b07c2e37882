"""Catalogue versions in the store: the shipped version (stored by migration 0011), drafts CERT staff make from an
existing version and edit control by control, publication (after which a version never changes), the diff of two
versions, and export and import in the JSON shape of the shipped data file.

Every change to a draft is checked whole by :func:`catalogue.from_dict` before it is stored, so the store never
holds a catalogue the shipped file's rules would refuse. Edits lock the version's row (``FOR UPDATE`` on
PostgreSQL; SQLite's writer lock serialises them anyway), so two editors changing different controls both land.
"""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import Connection, delete, func, select, update

from nordcert.baseline import diff as catalogue_diff
from nordcert.baseline.access import require_staff, require_user
from nordcert.baseline.catalogue import (
    Catalogue,
    control_from_dict,
    control_to_dict,
    from_dict,
    to_dict,
)
from nordcert.baseline.tables import baseline_campaigns, baseline_catalogues
from nordcert.clock import iso, now_us
from nordcert.db import upsert_insert
from nordcert.errors import Conflict, Invalid, NotFound
from nordcert.sharing.policy import Reader

_t = baseline_catalogues


def load(conn: Connection, *, catalogue_id: int) -> Catalogue:
    """The catalogue stored under ``catalogue_id`` (no access check: for services that checked already)."""
    body = conn.execute(select(_t.c.body).where(_t.c.id == catalogue_id)).scalar()
    if body is None:
        raise NotFound(f"no catalogue {catalogue_id}")
    return from_dict(orjson.loads(body))


def list_versions(conn: Connection, *, reader: Reader) -> list[dict[str, Any]]:
    """Catalogue versions, newest first: published ones for every user, drafts too for CERT staff."""
    require_user(reader)
    q = _meta_query().order_by(_t.c.created_at.desc(), _t.c.id.desc())
    if not reader.is_cert_staff:
        q = q.where(_t.c.published.is_(True))
    return [_meta(row) for row in conn.execute(q).mappings()]


def get_version(conn: Connection, *, reader: Reader, version: str) -> dict[str, Any]:
    """One version's facts and its whole catalogue (``catalogue``, the data file's shape)."""
    row = _row(conn, reader, version)
    return {**_meta(row), "catalogue": orjson.loads(row["body"])}


def version_catalogue(conn: Connection, *, reader: Reader, version: str) -> Catalogue:
    return from_dict(orjson.loads(_row(conn, reader, version)["body"]))


def create_draft(conn: Connection, *, reader: Reader, base_version: str, version: str,
                 title: str | None = None) -> dict[str, Any]:
    """A new draft version with the content of ``base_version`` (CERT staff)."""
    require_staff(reader, "make catalogue versions")
    base = _row(conn, reader, base_version)
    data = orjson.loads(base["body"])
    data["version"] = version
    if title is not None:
        data["title"] = title
    catalogue = from_dict(data)
    return _insert(conn, reader, catalogue, based_on_id=base["id"], published=False)


def update_draft(conn: Connection, *, reader: Reader, version: str, title: str) -> dict[str, Any]:
    """Change a draft's title (CERT staff)."""
    row = _draft_for_edit(conn, reader, version)
    data = orjson.loads(row["body"])
    data["title"] = title
    return _store_body(conn, row, from_dict(data))


def put_control(conn: Connection, *, reader: Reader, version: str, control_id: str | None,
                data: dict[str, Any]) -> dict[str, Any]:
    """Add a control to a draft (``control_id`` None) or change one (CERT staff); returns the stored control.

    The control is checked alone (fields named as in the control: ``criteria[1].level``), then the catalogue whole
    (a new control's id must be free).
    """
    row = _draft_for_edit(conn, reader, version)
    body = orjson.loads(row["body"])
    data = dict(data)
    if control_id is not None:
        if data.setdefault("id", control_id) != control_id:
            raise Invalid("a control's id is not changed by an edit: remove it and add a new one",
                          details=[{"field": "id", "reason": f"must be {control_id} (the control edited)"}])
        at = next((n for n, c in enumerate(body["controls"]) if c["id"] == control_id), None)
        if at is None:
            raise NotFound(f"catalogue {version} has no control {control_id}")
    control = control_from_dict(data, domain_keys=[d["key"] for d in body["domains"]])
    if control_id is None:
        if any(c["id"] == control.id for c in body["controls"]):
            raise Conflict(f"catalogue {version} has a control {control.id} already",
                           details=[{"field": "id", "reason": f"{control.id} is used by another control"}])
        body["controls"].append(control_to_dict(control))
    else:
        body["controls"][at] = control_to_dict(control)
    _store_body(conn, row, from_dict(body))
    return control_to_dict(control)


def remove_control(conn: Connection, *, reader: Reader, version: str, control_id: str) -> dict[str, Any]:
    """Remove a control from a draft (CERT staff); a catalogue keeps at least one control."""
    row = _draft_for_edit(conn, reader, version)
    body = orjson.loads(row["body"])
    kept = [c for c in body["controls"] if c["id"] != control_id]
    if len(kept) == len(body["controls"]):
        raise NotFound(f"catalogue {version} has no control {control_id}")
    body["controls"] = kept
    return _store_body(conn, row, from_dict(body))


def publish(conn: Connection, *, reader: Reader, version: str) -> dict[str, Any]:
    """Publish a draft (CERT staff): campaigns may then use it, and it is never changed again."""
    row = _draft_for_edit(conn, reader, version)
    at = now_us()
    conn.execute(update(_t).where(_t.c.id == row["id"]).values(published=True, published_at=at,
                                                               published_by_user_id=reader.user_id))
    return _meta(_fetch(conn, version))


def delete_draft(conn: Connection, *, reader: Reader, version: str) -> None:
    """Delete a draft nobody answers against (CERT staff); a published version stays."""
    row = _draft_for_edit(conn, reader, version)
    conn.execute(update(_t).where(_t.c.based_on_id == row["id"]).values(based_on_id=row["based_on_id"]))
    conn.execute(delete(_t).where(_t.c.id == row["id"]))


def diff_versions(conn: Connection, *, reader: Reader, before: str, after: str) -> dict[str, Any]:
    """What changed from version ``before`` to version ``after``."""
    return catalogue_diff.diff(version_catalogue(conn, reader=reader, version=before),
                               version_catalogue(conn, reader=reader, version=after))


def export_version(conn: Connection, *, reader: Reader, version: str) -> dict[str, Any]:
    """The version in the JSON shape of the shipped data file."""
    return to_dict(version_catalogue(conn, reader=reader, version=version))


def import_version(conn: Connection, *, reader: Reader, data: Any, publish: bool = False) -> dict[str, Any]:
    """Store a catalogue given in the data file's shape as a new version (CERT staff), a draft unless ``publish``.

    Checked whole first: every bad field is named and nothing is stored; a version that exists is a conflict.
    """
    require_staff(reader, "import catalogue versions")
    catalogue = from_dict(data)
    return _insert(conn, reader, catalogue, based_on_id=None, published=publish)


# --- rows -----------------------------------------------------------------------------------------------


def _meta_query() -> Any:
    base = _t.alias("base")
    campaigns = (select(func.count()).where(baseline_campaigns.c.catalogue_id == _t.c.id)
                 .correlate(_t).scalar_subquery())
    return (select(_t, base.c.version.label("based_on"), campaigns.label("campaigns"))
            .select_from(_t.outerjoin(base, base.c.id == _t.c.based_on_id)))


def _meta(row: Any) -> dict[str, Any]:
    body = orjson.loads(row["body"])
    return {
        "id": row["id"], "version": row["version"], "title": row["title"], "published": bool(row["published"]),
        "published_at": iso(row["published_at"]), "shipped": bool(row["shipped"]), "based_on": row["based_on"],
        "created_at": iso(row["created_at"]), "updated_at": iso(row["updated_at"]),
        "controls": len(body["controls"]), "campaigns": int(row["campaigns"]),
    }


def _fetch(conn: Connection, version: str, *, lock: bool = False) -> Any:
    q = _meta_query().where(_t.c.version == version)
    if lock:
        q = q.with_for_update(of=_t)
    return conn.execute(q).mappings().first()


def _row(conn: Connection, reader: Reader, version: str) -> Any:
    require_user(reader)
    row = _fetch(conn, version)
    if row is None or not (row["published"] or reader.is_cert_staff):
        raise NotFound(f"no catalogue version {version}")
    return row


def _draft_for_edit(conn: Connection, reader: Reader, version: str) -> Any:
    require_staff(reader, "edit catalogue versions")
    row = _fetch(conn, version, lock=True)
    if row is None:
        raise NotFound(f"no catalogue version {version}")
    if row["published"]:
        raise Conflict(f"catalogue {version} is published and never changes: make a new draft version from it")
    return row


def _store_body(conn: Connection, row: Any, catalogue: Catalogue) -> dict[str, Any]:
    conn.execute(update(_t).where(_t.c.id == row["id"]).values(
        title=catalogue.title, body=orjson.dumps(to_dict(catalogue)).decode(), updated_at=now_us()))
    return _meta(_fetch(conn, row["version"]))


def _insert(conn: Connection, reader: Reader, catalogue: Catalogue, *, based_on_id: int | None,
            published: bool) -> dict[str, Any]:
    at = now_us()
    stmt = upsert_insert(conn, _t).values(
        version=catalogue.version, title=catalogue.title, body=orjson.dumps(to_dict(catalogue)).decode(),
        based_on_id=based_on_id, shipped=False, created_by_user_id=reader.user_id, created_at=at, updated_at=at,
        published=published, published_at=at if published else None,
        published_by_user_id=reader.user_id if published else None,
    ).on_conflict_do_nothing(index_elements=["version"]).returning(_t.c.id)
    if conn.execute(stmt).scalar() is None:
        raise Conflict(f"catalogue version {catalogue.version} exists already",
                       details=[{"field": "version", "reason": f"{catalogue.version} is taken"}])
    return _meta(_fetch(conn, catalogue.version))
