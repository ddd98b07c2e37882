"""What a peer sends: checked against what may cross, stored under its origin, with its provenance.

Each object keeps its TLP, its sharing group (by name: the local group of that name, which the
sending peer's organisation must belong to) and its origin: the organisation that created it at the
origin instance becomes a local organisation of its own ("Nordea (nordcert-se)"), or, for an
anonymous submission, the origin instance's organisation. So the one sharing policy decides who may
read it here, nobody here may version it but CERT staff, and versions that arrive over different
paths are versions of one object.

Refused, each with its reason and the object's id: anything that is not a valid STIX object, TLP
AMBER+STRICT or RED, a TLP above what the peer may send, AMBER without a group or with a group this
peer does not share. An object that has passed through this instance already (a loop) is skipped.
One bad object never stops the others; the caller's transaction holds the whole page.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import Connection, func, insert, select, update

from nordcert.accounts import service as accounts
from nordcert.accounts.tables import organisations, sharing_group_members, sharing_groups
from nordcert.clock import now_us
from nordcert.config import NORDCERT_NAMESPACE, Settings
from nordcert.federation.peers import Peer
from nordcert.federation.tables import federation_peers as fp
from nordcert.federation.tables import object_provenance, remote_organisations
from nordcert.federation.wire import Provenance, WireError, detach
from nordcert.intel.ingest import IngestResult, ingest
from nordcert.intel.submission import Submission
from nordcert.sharing.tlp import MARKING_TLP, TLP2_EXTENSION_ID, Tlp, tlp_of_markings

_PUBLIC = frozenset({*MARKING_TLP, TLP2_EXTENSION_ID})


@dataclass
class Received:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    looped: int = 0
    rejected: int = 0
    rejections: list[dict[str, Any]] = field(default_factory=list)
    #: index in the page -> reason, for every refused object (the TAXII status lists them)
    refused: dict[int, str] = field(default_factory=dict)

    @property
    def stored(self) -> int:
        return self.created + self.updated

    def refuse(self, index: int, stix_id: Any, reason: str, limit: int) -> None:
        self.rejected += 1
        self.refused[index] = reason
        if len(self.rejections) < limit:
            self.rejections.append({"index": index, "id": stix_id if isinstance(stix_id, str) else None,
                                    "reason": reason})



class _Origins:
    """The local organisation for each (origin instance, organisation there), created when first met."""

    def __init__(self, conn: Connection, peer: Peer) -> None:
        self.conn = conn
        self.peer = peer
        self.cache: dict[tuple[str, str], int] = {}

    def organisation(self, prov: Provenance) -> int:
        instance = prov.origin_instance
        remote = prov.origin_org["id"] if prov.origin_org and not prov.anonymous else instance
        key = (instance, remote)
        found = self.cache.get(key)
        if found is not None:
            return found
        if remote == instance and instance == self.peer.instance_id:
            found = self.peer.organisation_id
        else:
            r = remote_organisations.c
            found = self.conn.execute(select(r.organisation_id).where(r.instance_id == instance,
                                                                     r.remote_identity_id == remote)).scalar()
            if found is None:
                found = self._create(prov, instance, remote)
        self.cache[key] = found
        return found

    def _create(self, prov: Provenance, instance: str, remote: str) -> int:
        # An origin instance met before its peer was configured, or an organisation of another instance.
        identity = (instance if remote == instance
                    else f"identity--{uuid.uuid5(NORDCERT_NAMESPACE, f'remote:{instance}:{remote}')}")
        existing = self.conn.execute(select(organisations.c.id).where(organisations.c.identity_id == identity)).scalar()
        if existing is None:
            org = prov.origin_org if remote != instance else None
            base = f"{org['name']} ({prov.origin_instance_name})" if org else f"{prov.origin_instance_name} (instance)"
            country = (org or {}).get("country") or self._peer_country()
            sector = (org or {}).get("sector") or "cert"
            if sector not in accounts.SECTOR_TYPES:
                sector = "cert"
            existing = self._insert_org(base[:190], country, sector, identity)
        self.conn.execute(insert(remote_organisations).values(organisation_id=existing, instance_id=instance,
                                                              remote_identity_id=remote))
        return int(existing)

    def _peer_country(self) -> str:
        return str(self.conn.execute(select(organisations.c.country)
                                     .where(organisations.c.id == self.peer.organisation_id)).scalar_one())

    def _insert_org(self, name: str, country: str, sector: str, identity: str) -> int:
        o = organisations.c
        candidate, n = name, 1
        while self.conn.execute(select(o.id).where((func.lower(o.name) == candidate.lower())
                                                   | (func.lower(o.short_name) == candidate[:50].lower()))).first():
            n += 1
            candidate = f"{name} {n}"
        code = country.upper() if len(country) == 2 and country.isalpha() else "EU"
        return int(self.conn.execute(insert(organisations).values(
            name=candidate, short_name=f"{uuid.uuid4().hex[:8]}-{candidate}"[:50], country=code,
            sector_type=sector, identity_id=identity, created_at=now_us(),
        ).returning(o.id)).scalar_one())


def _groups_of(conn: Connection, peer: Peer) -> dict[str, int]:
    """The local sharing groups the peer belongs to, by lower-case name."""
    rows = conn.execute(select(sharing_groups.c.id, sharing_groups.c.name)
                        .join(sharing_group_members, sharing_group_members.c.group_id == sharing_groups.c.id)
                        .where(sharing_group_members.c.organisation_id == peer.organisation_id))
    return {r.name.lower(): r.id for r in rows}


def receive(conn: Connection, peer: Peer, objects: list[Any], settings: Settings) -> Received:
    """Store what ``peer`` sent, in the open transaction ``conn``."""
    out = Received()
    limit = settings.max_reported_errors
    own = settings.instance_identity_id
    groups = _groups_of(conn, peer)
    origins = _Origins(conn, peer)
    # (creator, tlp, group, anonymous) -> [(index in the page, object, provenance)]
    batches: dict[tuple[int, Tlp, int | None, bool], list[tuple[int, dict[str, Any], Provenance]]] = defaultdict(list)
    for index, obj in enumerate(objects):
        if not isinstance(obj, dict):
            out.refuse(index, None, "not a STIX object (a JSON object was expected)", limit)
            continue
        sid = obj.get("id")
        try:
            prov = detach(obj)
        except WireError as exc:
            out.refuse(index, sid, str(exc), limit)
            continue
        if prov is None:  # a peer that is not a nordcert instance: the object is the peer's own
            prov = Provenance(peer.instance_id, peer.instance_name, [peer.instance_id])
        if prov.path[-1] != peer.instance_id:
            prov.path.append(peer.instance_id)
        if own in prov.path:
            out.looped += 1
            continue
        refs = obj.get("object_marking_refs")
        marked = tlp_of_markings(refs) if isinstance(refs, list) and all(isinstance(r, str) for r in refs) else None
        if sid in _PUBLIC:
            marked = Tlp.CLEAR
        tlp = marked if marked is not None else Tlp.parse(settings.default_tlp)
        reason = _refusal(tlp, marked, prov, peer, groups)
        if reason:
            out.refuse(index, sid, reason, limit)
            continue
        group_id = groups[prov.group.lower()] if tlp is Tlp.AMBER and prov.group else None
        creator = origins.organisation(prov)
        batches[(creator, tlp, group_id, prov.anonymous)].append((index, obj, prov))
    received_at = now_us()
    for (creator, tlp, group_id, anonymous), items in batches.items():
        sub = Submission(creator_org_id=creator, submitted_by=None, tlp=tlp, group_id=group_id, anonymous=anonymous)
        result = ingest(conn, [o for _, o, _ in items], sub, settings, strict=False, keep_ids=True)
        for r in result.rejections:
            out.refuse(items[r["index"]][0], r["id"], r["reason"], limit)
        out.rejected += result.rejected - len(result.rejections)  # refused beyond those listed
        out.created += result.created
        out.updated += result.updated
        out.unchanged += result.unchanged
        _record_provenance(conn, result, {o.get("id"): p for _, o, p in items}, peer, received_at)
    return out


def _refusal(tlp: Tlp, marked: Tlp | None, prov: Provenance, peer: Peer, groups: dict[str, int]) -> str | None:
    if tlp > Tlp.AMBER:
        return f"TLP:{tlp.label.upper()} never crosses to another instance"
    if tlp > peer.max_tlp:
        return f"TLP:{tlp.label.upper()} is above what peer {peer.name} may send here (at most {peer.max_tlp.label})"
    if tlp is Tlp.AMBER:
        if marked is None:
            return "no TLP marking: an object from a peer must carry its TLP"
        if not prov.group:
            return "TLP:AMBER without a sharing group does not cross between instances"
        if prov.group.lower() not in groups:
            return f"sharing group {prov.group!r} is not shared with peer {peer.name} here"
    return None


def _record_provenance(conn: Connection, result: IngestResult, by_id: dict[Any, Provenance], peer: Peer,
                       received_at: int) -> None:
    """Provenance rows for the versions ``result`` stored (``keep_ids``: their ids and date_added)."""
    rows = []
    paths: dict[int, str] = {}  # the objects of a page share a few provenances: encode each path once
    for key, sid in zip(result.keys, result.ids, strict=True):
        prov = by_id.get(sid)
        if prov is None:
            continue
        path = paths.get(id(prov))
        if path is None:
            path = paths[id(prov)] = orjson.dumps(prov.path).decode()
        rows.append({"date_added": key, "origin_instance": prov.origin_instance,
                     "origin_instance_name": prov.origin_instance_name[:200],
                     "origin_org_name": prov.origin_org["name"][:200] if prov.origin_org else None,
                     "received_from": peer.id, "path": path, "received_at": received_at})
    if rows:
        conn.execute(insert(object_provenance), rows)


def note_received(conn: Connection, peer: Peer, got: Received) -> None:
    """Add a page's counts to the peer's totals; keep its latest refusals for the status."""
    values: dict[str, Any] = {"objects_in": fp.c.objects_in + got.stored,
                              "rejected_in": fp.c.rejected_in + got.rejected}
    if got.rejections:
        values["last_rejections"] = orjson.dumps(got.rejections[:20]).decode()
    conn.execute(update(fp).where(fp.c.id == peer.id).values(**values))
