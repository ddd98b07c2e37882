"""Reading, searching and revoking STIX objects: every read filtered by the sharing policy."""

from __future__ import annotations

import base64
import copy
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection, Select, and_, exists, func, or_, select

from nordcert.accounts.tables import organisations, sharing_groups
from nordcert.audit import buffered as audited
from nordcert.clock import now_us
from nordcert.config import Settings
from nordcert.errors import Forbidden, Invalid, NotFound
from nordcert.federation.tables import federation_peers
from nordcert.federation.tables import object_provenance as _prov
from nordcert.intel.ingest import ingest
from nordcert.intel.submission import Submission
from nordcert.intel.tables import object_labels, object_recipients, stix_objects
from nordcert.intel.validate import ObjectError, format_timestamp, timestamp_us
from nordcert.sharing import policy
from nordcert.sharing.policy import Reader, Sharing
from nordcert.sharing.tlp import Tlp

MAX_PAGE = 1000
_t = stix_objects


@dataclass(frozen=True)
class ObjectFilter:
    """Filters of a listing; every one is optional."""

    types: tuple[str, ...] = ()
    creator: str | None = None
    tlp: Tlp | None = None
    added_after: int | None = None
    label: str | None = None
    text: str | None = None
    include_revoked: bool = False


@dataclass
class Page:
    objects: list[dict[str, Any]]
    next: str | None


def _base_query() -> Select[Any]:
    return (
        select(_t, organisations.c.short_name.label("creator_short"), organisations.c.name.label("creator_name"),
               sharing_groups.c.name.label("group_name"), _prov.c.origin_instance_name, _prov.c.origin_org_name,
               _prov.c.path.label("federation_path"), federation_peers.c.name.label("received_from"))
        .select_from(_t)
        .outerjoin(organisations, organisations.c.id == _t.c.creator_org_id)
        .outerjoin(sharing_groups, sharing_groups.c.id == _t.c.group_id)
        .outerjoin(_prov, _prov.c.date_added == _t.c.date_added)
        .outerjoin(federation_peers, federation_peers.c.id == _prov.c.received_from)
    )


def _visible(reader: Reader | None) -> Any:
    return policy.visible_clause(reader, _t, object_recipients)


def get_object(
    conn: Connection, reader: Reader | None, stix_id: str, settings: Settings, *, version: str | None = None
) -> dict[str, Any]:
    """One object (its latest version, or ``version`` = a ``modified`` timestamp) as the reader may see it.

    A forbidden object is reported exactly like a missing one.
    """
    q = _base_query().where(_t.c.stix_id == stix_id, _visible(reader))
    if version in (None, "latest"):
        q = q.where(_t.c.is_latest.is_(True))
    else:
        try:
            q = q.where(_t.c.modified == timestamp_us(version, "version"))
        except ObjectError as exc:
            raise Invalid(str(exc)) from None
    row = conn.execute(q).first()
    if row is None:
        raise NotFound(f"no object {stix_id}" + (f" at version {version}" if version not in (None, "latest") else ""))
    audited.note_reads(conn.engine, reader, "object.read", stix_id, ((row.stix_id, row.modified, row.tlp),))
    return present(conn, row._mapping, reader, settings)


def versions(conn: Connection, reader: Reader | None, stix_id: str) -> list[str]:
    """The ``modified`` timestamps of the versions the reader may see, oldest first."""
    mods = conn.execute(
        select(_t.c.modified).where(_t.c.stix_id == stix_id, _visible(reader)).order_by(_t.c.modified)
    ).scalars().all()
    if not mods:
        raise NotFound(f"no object {stix_id}")
    return [format_timestamp(m) for m in mods]


def list_objects(
    conn: Connection, reader: Reader | None, settings: Settings, *, filters: ObjectFilter,
    limit: int = 100, cursor: str | None = None, newest_first: bool = True,
) -> Page:
    """The latest versions the reader may see, matching ``filters``, in pages of ``limit``."""
    if not 1 <= limit <= MAX_PAGE:
        raise Invalid(f"limit must be between 1 and {MAX_PAGE}")
    q = _base_query().where(_t.c.is_latest.is_(True), _visible(reader))
    q = _apply_filters(q, filters)
    if cursor:
        after = _decode_cursor(cursor)
        q = q.where(_t.c.date_added < after if newest_first else _t.c.date_added > after)
    q = q.order_by(_t.c.date_added.desc() if newest_first else _t.c.date_added).limit(limit + 1)
    rows = conn.execute(q).all()
    more = len(rows) > limit
    rows = rows[:limit]
    audited.note_reads(conn.engine, reader, "object.read", "objects list", ((r.stix_id, r.modified, r.tlp) for r in rows))
    out = [present(conn, r._mapping, reader, settings) for r in rows]
    return Page(objects=out, next=_encode_cursor(rows[-1].date_added) if more and rows else None)


def _apply_filters(q: Select[Any], f: ObjectFilter) -> Select[Any]:
    if f.types:
        q = q.where(_t.c.type.in_(f.types))
    if f.tlp is not None:
        q = q.where(_t.c.tlp == int(f.tlp))
    if f.added_after is not None:
        q = q.where(_t.c.date_added > f.added_after)
    if not f.include_revoked:
        q = q.where(_t.c.revoked.is_(False))
    if f.label:
        q = q.where(exists(select(object_labels.c.date_added).where(
            object_labels.c.date_added == _t.c.date_added, object_labels.c.label == f.label)))
    if f.text:
        needle = f"%{f.text.lower()}%"
        q = q.where(or_(func.lower(_t.c.name).like(needle), func.lower(_t.c.description).like(needle)))
    if f.creator:
        key = f.creator.strip().lower()
        # Anonymous objects never match a creator filter, except for those who may see their creator.
        q = q.where(
            or_(func.lower(organisations.c.short_name) == key, func.lower(organisations.c.name) == key),
            _t.c.anonymous.is_(False),
        )
    return q


def _encode_cursor(date_added: int) -> str:
    return base64.urlsafe_b64encode(str(date_added).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int:
    try:
        position = int(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode())
    except (ValueError, UnicodeDecodeError):
        position = -1
    if not 0 <= position < 2**63:
        raise Invalid("the cursor is not one this server handed out")
    return position


def sharing_of(conn: Connection, row: Any) -> Sharing:
    recipients: frozenset[int] = frozenset()
    if row["has_recipients"]:
        recipients = frozenset(conn.execute(
            select(object_recipients.c.organisation_id).where(object_recipients.c.date_added == row["date_added"])
        ).scalars())
    return Sharing(
        creator_org_id=row["creator_org_id"],
        tlp=Tlp(row["tlp"]),
        group_id=row["group_id"],
        recipients=recipients,
        anonymous=row["anonymous"],
    )


def present(conn: Connection, row: Any, reader: Reader | None, settings: Settings) -> dict[str, Any]:
    """The object and its metadata, with an anonymous creator hidden from those who may not know it."""
    obj = orjson.loads(row["body"])
    sharing = Sharing(creator_org_id=row["creator_org_id"], tlp=Tlp(row["tlp"]), group_id=row["group_id"],
                      anonymous=row["anonymous"])
    show_creator = policy.creator_visible(sharing, reader)
    if not show_creator:
        obj["created_by_ref"] = settings.instance_identity_id
    meta: dict[str, Any] = {
        "date_added": format_timestamp(row["date_added"]),
        "tlp": Tlp(row["tlp"]).label,
        "sharing_group": row["group_name"],
        "creator": (row["creator_short"] or settings.instance_name) if show_creator else "anonymous member",
        "anonymous": row["anonymous"],
        "revoked": row["revoked"],
        "version": format_timestamp(row["modified"]) if row["modified"] else None,
    }
    if row.get("federation_path"):
        # It came from another instance: where from, through which instances, from which peer.
        meta["federation"] = {
            "origin_instance": row["origin_instance_name"],
            "origin_organisation": row["origin_org_name"] if show_creator else None,
            "received_from": row["received_from"],
            "path": orjson.loads(row["federation_path"]),
        }
    if row["has_recipients"] and reader is not None and policy.may_modify(sharing, reader):
        ids = sharing_of(conn, row).recipients
        meta["recipients"] = sorted(conn.execute(
            select(organisations.c.short_name).where(organisations.c.id.in_(sorted(ids)))).scalars())
    return {"object": obj, "meta": meta}


def revoke(conn: Connection, reader: Reader, stix_id: str, settings: Settings) -> dict[str, Any]:
    """Revoke an object (STIX 2.1 §3.6): a new version with ``revoked: true``, same sharing."""
    row = conn.execute(
        select(_t).where(_t.c.stix_id == stix_id, _t.c.is_latest.is_(True), _visible(reader))
    ).first()
    if row is None:
        raise NotFound(f"no object {stix_id}")
    sharing = sharing_of(conn, row._mapping)
    if not policy.may_modify(sharing, reader):
        raise Forbidden("only the organisation that created this object, or CERT staff, may revoke it")
    if row.revoked:
        raise Invalid(f"{stix_id} is revoked already")
    obj = orjson.loads(row.body)
    if "modified" not in obj:
        raise Invalid(f"{row.type} objects have no versions and cannot be revoked (STIX 2.1 §3.6)")
    new = copy.deepcopy(obj)
    new["revoked"] = True
    new["modified"] = format_timestamp(max(now_us(), row.modified + 1000) // 1000 * 1000)
    sub = Submission(
        creator_org_id=row.creator_org_id,
        submitted_by=reader.user_id,
        tlp=sharing.tlp,
        group_id=sharing.group_id,
        recipients=sharing.recipients,
        anonymous=sharing.anonymous,
        is_cert_staff=True,  # the permission was checked above against the object's creator
    )
    ingest(conn, [new], sub, settings)
    return get_object(conn, reader, stix_id, settings)


def count_visible(conn: Connection, reader: Reader | None) -> dict[str, int]:
    """Latest, unrevoked objects the reader may see, by type."""
    rows = conn.execute(
        select(_t.c.type, func.count()).where(
            and_(_t.c.is_latest.is_(True), _t.c.revoked.is_(False), _visible(reader))
        ).group_by(_t.c.type)
    )
    return {r[0]: r[1] for r in rows}
