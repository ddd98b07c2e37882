"""What leaves this instance for a peer, and in which form.

The filter is the sharing policy's :func:`~nordcert.sharing.policy.forward_clause` (CLEAR and GREEN,
AMBER of the groups the peer's organisation belongs to, capped at the peer's configured TLP; never
AMBER+STRICT or RED) and one rule of federation's own: nothing goes to an instance it has already
passed through, so an object never returns where it came from and loops end.

Every version is sent, in ``date_added`` order: new versions and revocations propagate like the
first version did.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Connection, and_, exists, func, select

from nordcert.accounts.tables import organisations, sharing_groups
from nordcert.config import Settings
from nordcert.federation.peers import Peer, peer_group_ids
from nordcert.federation.tables import object_provenance, remote_organisations
from nordcert.federation.wire import Provenance, attach
from nordcert.intel.tables import stix_objects
from nordcert.sharing import policy
from nordcert.sharing.tlp import Tlp

_t = stix_objects
_p = object_provenance


def not_passed_through(instance_id: str) -> ColumnElement[bool]:
    """Rows whose path does not contain ``instance_id`` (the path is a JSON list of identity ids)."""
    quoted = orjson.dumps(instance_id).decode()  # "identity--…": ids hold no LIKE wildcards
    return ~exists(select(_p.c.date_added).where(_p.c.date_added == _t.c.date_added, _p.c.path.like(f"%{quoted}%")))


def peer_view(instance_id: str, group_ids: Sequence[int], max_tlp: Tlp) -> ColumnElement[bool]:
    """Everything that may be sent to the peer ``instance_id``: the policy's forward rule and no way back."""
    return and_(policy.forward_clause(group_ids, _t, max_tlp), not_passed_through(instance_id))


def pending(conn: Connection, peer: Peer, after: int, limit: int) -> list[Any]:
    """The next ``limit`` rows to push to ``peer`` after our ``date_added`` ``after``."""
    q = (select(_t.c.date_added).where(_t.c.date_added > after,
                                       peer_view(peer.instance_id, peer_group_ids(conn, peer), peer.max_tlp))
         .order_by(_t.c.date_added).limit(limit))
    return list(conn.execute(q).scalars())


def pending_count(conn: Connection, peer: Peer, after: int) -> tuple[int, int | None]:
    """How many rows wait for ``peer``, and the ``date_added`` of the oldest."""
    q = select(func.count(), func.min(_t.c.date_added)).where(
        _t.c.date_added > after, peer_view(peer.instance_id, peer_group_ids(conn, peer), peer.max_tlp))
    count, oldest = conn.execute(q).one()
    return int(count), oldest


_WIRE = (
    select(_t.c.date_added, _t.c.body, _t.c.anonymous, _t.c.group_id,
           organisations.c.identity_id, organisations.c.name.label("org_name"), organisations.c.country,
           organisations.c.sector_type, remote_organisations.c.remote_identity_id,
           sharing_groups.c.name.label("group_name"),
           _p.c.origin_instance, _p.c.origin_instance_name, _p.c.origin_org_name, _p.c.path)
    .select_from(_t)
    .outerjoin(organisations, organisations.c.id == _t.c.creator_org_id)
    .outerjoin(remote_organisations, remote_organisations.c.organisation_id == _t.c.creator_org_id)
    .outerjoin(sharing_groups, sharing_groups.c.id == _t.c.group_id)
    .outerjoin(_p, _p.c.date_added == _t.c.date_added)
)


def wire_bodies(conn: Connection, keys: Sequence[int], settings: Settings) -> list[bytes]:
    """The objects stored under ``keys`` (in that order) as federation sends them: with their provenance,
    and with an anonymous creator replaced by its instance's identity."""
    if not keys:
        return []
    own_id, own_name = settings.instance_identity_id, settings.instance_name
    rows = {r.date_added: r for r in conn.execute(_WIRE.where(_t.c.date_added.in_(list(keys))))}
    out: list[bytes] = []
    for key in keys:
        r = rows[key]
        obj = orjson.loads(r.body)
        if r.path is not None:  # it came from a peer: its origin stays, the path grows by us
            path = [*orjson.loads(r.path), own_id]
            origin, origin_name = r.origin_instance, r.origin_instance_name
            org_id, org_name = r.remote_identity_id, r.origin_org_name
        else:
            path, origin, origin_name = [own_id], own_id, own_name
            org_id, org_name = r.identity_id, r.org_name
        org = None
        if not r.anonymous and org_id and org_name:
            org = {"id": org_id, "name": org_name, "country": r.country or "", "sector": r.sector_type or ""}
        if r.anonymous:
            obj["created_by_ref"] = origin
        prov = Provenance(origin, origin_name, path, org, bool(r.anonymous),
                          r.group_name if r.group_id is not None else None)
        out.append(orjson.dumps(attach(obj, prov)))
    return out
