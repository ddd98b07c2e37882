"""TAXII collections: named views over the store, each with read and write rights per organisation.

Kinds: ``sector`` (everything the reader may see), ``group`` (one sharing group's objects; writes
are shared with that group), ``outbox`` (one organisation's own objects), ``fraud`` (the objects
holding a fraud observable: IBAN, BIC, card BIN, wallet or phone number; fraud SCOs and the
indicators on them, latest versions), ``federation`` (what may cross to the federation peer that
reads it, every version, each with its provenance; see nordcert.federation). The sharing policy
still filters every object a collection returns.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, bindparam, delete, exists, insert, or_, select, true

from nordcert.accounts import service as accounts
from nordcert.accounts.service import require_cert_admin
from nordcert.audit.service import record_change
from nordcert.clock import now_us
from nordcert.errors import Conflict, Invalid, NotFound
from nordcert.federation.outgoing import peer_view
from nordcert.federation.peers import peer_of_organisation
from nordcert.intel.tables import stix_objects
from nordcert.observables.kinds import FRAUD_KINDS
from nordcert.observables.tables import observables
from nordcert.sharing.policy import Reader, Role
from nordcert.sharing.tlp import Tlp
from nordcert.taxii.tables import taxii_collection_access, taxii_collections

KINDS = ("sector", "group", "outbox", "fraud")
#: Made by ``nordcert federation peer add``, not by hand.
FEDERATION = "federation"


@dataclass(frozen=True)
class Collection:
    id: str
    title: str
    description: str
    kind: str
    group_id: int | None
    organisation_id: int | None
    can_read: bool
    can_write: bool
    #: For a federation collection read by a peer: the peer's instance identity and its TLP cap.
    peer_instance: str | None = None
    peer_max_tlp: Tlp = Tlp.AMBER

    def as_taxii(self) -> dict[str, Any]:
        """The collection resource (TAXII 2.1 §5.2.1)."""
        return {
            "id": self.id,
            "title": self.title,
            "description": self.description,
            "can_read": self.can_read,
            "can_write": self.can_write,
            "media_types": ["application/stix+json;version=2.1"],
        }

    def view_clause(self, reader: Reader) -> ColumnElement[bool]:
        """The rows this collection shows (the sharing policy then filters them for ``reader``).

        An outbox names its owner as the creator of everything in it, so it leaves out the owner's
        anonymous submissions for everyone who may not know who made them.
        """
        if self.kind == FEDERATION:
            if self.peer_instance is not None:
                return peer_view(self.peer_instance, sorted(reader.group_ids), self.peer_max_tlp)
            # CERT staff see what may leave to some peer: CLEAR, GREEN and AMBER with a group.
            return or_(stix_objects.c.tlp <= int(Tlp.GREEN),
                       and_(stix_objects.c.tlp == int(Tlp.AMBER), stix_objects.c.group_id.is_not(None)))
        if self.kind == "group":
            return stix_objects.c.group_id == self.group_id
        if self.kind == "fraud":
            return exists(select(observables.c.date_added).where(
                observables.c.date_added == stix_objects.c.date_added,
                observables.c.kind.in_(sorted(k.value for k in FRAUD_KINDS))))
        if self.kind == "outbox":
            own = stix_objects.c.creator_org_id == self.organisation_id
            if reader.is_cert_staff or reader.organisation_id == self.organisation_id:
                return own
            return and_(own, stix_objects.c.anonymous.is_(False))
        return true()


def create_collection(
    conn: Connection,
    *,
    title: str,
    kind: str = "sector",
    description: str = "",
    group: str | int | None = None,
    organisation: str | int | None = None,
    read_all: bool = False,
    write_all: bool = False,
    readers: list[str | int] = (),  # type: ignore[assignment]
    writers: list[str | int] = (),  # type: ignore[assignment]
    collection_id: str | None = None,
    actor: Reader | None = None,
) -> dict[str, Any]:
    """Add a collection. A group collection's members, and an outbox's owner, read and write it by default."""
    require_cert_admin(actor)
    if kind not in KINDS:
        raise Invalid(f"collection kind {kind!r} is not one of: {', '.join(KINDS)}")
    if not title.strip():
        raise Invalid("a collection needs a title")
    if conn.execute(select(taxii_collections.c.id).where(taxii_collections.c.title == title.strip())).first():
        raise Conflict(f"a collection titled {title!r} exists already")
    group_id = org_id = None
    rights: dict[int, list[bool]] = {}
    if kind == "group":
        if group is None:
            raise Invalid("a group collection needs --group")
        g = accounts.get_group(conn, group)
        group_id = g["id"]
        for m in g["members"]:
            rights[m["id"]] = [True, True]
    elif kind == "outbox":
        if organisation is None:
            raise Invalid("an outbox collection needs --org")
        org_id = accounts.get_organisation(conn, organisation)["id"]
        rights[org_id] = [True, True]
    for ref in readers:
        rights.setdefault(accounts.get_organisation(conn, ref)["id"], [False, False])[0] = True
    for ref in writers:
        rights.setdefault(accounts.get_organisation(conn, ref)["id"], [False, False])[1] = True
    cid = str(uuid.UUID(collection_id)) if collection_id else str(uuid.uuid4())
    conn.execute(insert(taxii_collections).values(
        id=cid, title=title.strip(), description=description, kind=kind, group_id=group_id,
        organisation_id=org_id, read_all=read_all, write_all=write_all, created_at=now_us(),
    ))
    if rights:
        conn.execute(insert(taxii_collection_access), [
            {"collection_id": cid, "organisation_id": o, "can_read": r, "can_write": w}
            for o, (r, w) in sorted(rights.items())
        ])
    record_change(conn, actor, "collection.created", title.strip(), {
        "id": cid, "kind": kind, "group_id": group_id, "organisation_id": org_id, "read_all": read_all,
        "write_all": write_all, "rights": {str(o): {"read": r, "write": w} for o, (r, w) in sorted(rights.items())}})
    return describe(conn, cid)


def describe(conn: Connection, collection_id: str) -> dict[str, Any]:
    """A collection with every organisation's rights (for administrators)."""
    row = conn.execute(select(taxii_collections).where(taxii_collections.c.id == collection_id)).first()
    if row is None:
        raise NotFound(f"no collection {collection_id}")
    access = conn.execute(
        select(taxii_collection_access).where(taxii_collection_access.c.collection_id == collection_id)
    ).all()
    orgs = {o["id"]: o["short_name"] for o in accounts.list_organisations(conn)}
    return {
        **{k: v for k, v in row._mapping.items() if k != "created_at"},
        "readers": "all members" if row.read_all else sorted(orgs[a.organisation_id] for a in access if a.can_read),
        "writers": "all members" if row.write_all else sorted(orgs[a.organisation_id] for a in access if a.can_write),
    }


def list_all(conn: Connection) -> list[dict[str, Any]]:
    ids = conn.execute(select(taxii_collections.c.id).order_by(taxii_collections.c.title)).scalars().all()
    return [describe(conn, i) for i in ids]


def remove_collection(conn: Connection, ref: str, *, actor: Reader | None = None) -> dict[str, Any]:
    require_cert_admin(actor)
    row = conn.execute(
        select(taxii_collections.c.id, taxii_collections.c.title).where(or_(taxii_collections.c.id == ref, taxii_collections.c.title == ref))
    ).first()
    if row is None:
        raise NotFound(f"no collection {ref!r}")
    conn.execute(delete(taxii_collections).where(taxii_collections.c.id == row.id))
    record_change(conn, actor, "collection.removed", row.title, {"id": row.id})
    return {"id": row.id, "removed": True}


_ACCESS = taxii_collection_access
#: Every collection with the reader's organisation's rights on it (outer join: none is NULL).
_WITH_RIGHTS = (
    select(taxii_collections, _ACCESS.c.can_read, _ACCESS.c.can_write)
    .outerjoin(_ACCESS, (_ACCESS.c.collection_id == taxii_collections.c.id)
               & (_ACCESS.c.organisation_id == bindparam("organisation_id")))
    .order_by(taxii_collections.c.title)
)
_ONE_WITH_RIGHTS = _WITH_RIGHTS.where(taxii_collections.c.id == bindparam("collection_id"))


def _visible(conn: Connection, row: Any, reader: Reader) -> Collection | None:
    can_read = reader.is_cert_staff or row.read_all or bool(row.can_read)
    can_write = reader.is_cert_staff or row.write_all or bool(row.can_write)
    peer_instance, peer_max_tlp = None, Tlp.AMBER
    if row.kind == FEDERATION and not reader.is_cert_staff:
        # Only an enabled peer's service account, whatever rights rows say.
        peer = peer_of_organisation(conn, reader.organisation_id) if reader.role is Role.PEER else None
        if peer is None:
            return None
        peer_instance, peer_max_tlp = peer.instance_id, peer.max_tlp
    elif reader.role is Role.PEER:
        return None  # a peer's service account sees the federation collection only
    if not (can_read or can_write):
        return None
    return Collection(row.id, row.title, row.description, row.kind, row.group_id, row.organisation_id,
                      can_read, can_write, peer_instance, peer_max_tlp)


def for_reader(conn: Connection, reader: Reader) -> list[Collection]:
    """The collections ``reader`` may read or write (TAXII 2.1 §5.1 lists only those)."""
    rows = conn.execute(_WITH_RIGHTS, {"organisation_id": reader.organisation_id}).all()
    return [c for c in (_visible(conn, r, reader) for r in rows) if c is not None]


def get_for_reader(conn: Connection, reader: Reader, collection_id: str) -> Collection:
    """A collection the reader has some right on; a collection they have none on does not exist for them."""
    row = conn.execute(_ONE_WITH_RIGHTS, {"organisation_id": reader.organisation_id,
                                          "collection_id": collection_id}).first()
    found = _visible(conn, row, reader) if row is not None else None
    if found is None:
        raise NotFound(f"no collection {collection_id}")
    return found
