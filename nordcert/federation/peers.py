"""Federation peers: the other national instances this one shares with, and what may cross to each.

A peer is configured once on each side. Adding one here creates

- a local organisation that stands for the peer instance (its STIX identity is the peer's instance
  identity). Its sharing groups are the AMBER groups that may cross: "AMBER only where the sharing
  group includes the peer" is group membership, decided by the one sharing policy;
- a service user of role ``peer`` in that organisation and a token for it, which the peer's
  operator configures on their side: with it the peer reads and writes this instance's federation
  collection, and reads nothing the policy would not forward to it;
- the federation collection (once per instance), a TAXII collection with a well-known id.

The token this instance presents at the peer is the peer's operator's to hand over (``--token``).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import orjson
from sqlalchemy import Connection, delete, insert, select, update

from nordcert.accounts import credentials
from nordcert.accounts import service as accounts
from nordcert.accounts.service import require_cert_admin
from nordcert.accounts.tables import organisations, sharing_group_members, sharing_groups, users
from nordcert.audit.service import record_change
from nordcert.clock import now_us
from nordcert.config import NORDCERT_NAMESPACE, Settings
from nordcert.errors import Conflict, Invalid, NotFound
from nordcert.federation.tables import federation_peers
from nordcert.sharing.policy import Reader
from nordcert.sharing.tlp import Tlp
from nordcert.taxii.tables import taxii_collection_access, taxii_collections

DIRECTIONS = ("pull", "push", "both")
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,49}$")


def instance_identity(instance_name: str) -> str:
    """The STIX identity of an instance, from its name (the same formula every instance uses for itself)."""
    return f"identity--{uuid.uuid5(NORDCERT_NAMESPACE, 'instance:' + instance_name)}"


def federation_collection_id(instance_name: str) -> str:
    """The well-known id of an instance's federation collection: a peer needs only the instance's name."""
    return str(uuid.uuid5(NORDCERT_NAMESPACE, "federation-collection:" + instance_name))


@dataclass(frozen=True)
class Peer:
    id: int
    name: str
    instance_name: str
    instance_id: str
    organisation_id: int
    url: str
    pull_collection: str | None
    push_collection: str | None
    direction: str
    max_tlp: Tlp
    token: str | None
    interval_s: int
    timeout_s: int
    enabled: bool

    @property
    def pulls(self) -> bool:
        return self.direction in ("pull", "both")

    @property
    def pushes(self) -> bool:
        return self.direction in ("push", "both")


def _peer(row: Any) -> Peer:
    return Peer(row.id, row.name, row.instance_name, row.instance_id, row.organisation_id, row.url,
                row.pull_collection, row.push_collection, row.direction, Tlp(row.max_tlp), row.token,
                row.interval_s, row.timeout_s, row.enabled)


def get_peer(conn: Connection, ref: str | int) -> Peer:
    c = federation_peers.c
    where = c.id == int(ref) if isinstance(ref, int) or str(ref).isdecimal() else c.name == str(ref).strip().lower()
    row = conn.execute(select(federation_peers).where(where)).first()
    if row is None:
        raise NotFound(f"no federation peer {ref!r}")
    return _peer(row)


def peer_of_organisation(conn: Connection, organisation_id: int) -> Peer | None:
    """The peer a (role ``peer``) reader speaks for, if its organisation stands for an enabled peer."""
    row = conn.execute(select(federation_peers).where(federation_peers.c.organisation_id == organisation_id,
                                                      federation_peers.c.enabled.is_(True))).first()
    return _peer(row) if row is not None else None


def all_peers(conn: Connection) -> list[Peer]:
    return [_peer(r) for r in conn.execute(select(federation_peers).order_by(federation_peers.c.name))]


def peer_group_ids(conn: Connection, peer: Peer) -> list[int]:
    """The sharing groups whose AMBER objects may cross to ``peer`` (its organisation's groups)."""
    c = sharing_group_members.c
    return sorted(conn.execute(select(c.group_id).where(c.organisation_id == peer.organisation_id)).scalars())


def _check_url(url: str) -> str:
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Invalid(f"peer URL {url!r} must be an http(s) URL of the peer's TAXII discovery or API root")
    if parts.username or parts.password:
        raise Invalid("put credentials in --token, not in the peer URL")
    return url if url.endswith("/") else url + "/"


def _check_tlp(max_tlp: str | Tlp) -> Tlp:
    tlp = Tlp.parse(max_tlp)
    if tlp > Tlp.AMBER:
        raise Invalid("AMBER+STRICT and RED never cross to another instance: max TLP is clear, green or amber")
    return tlp


def _ensure_federation_collection(conn: Connection, settings: Settings) -> str:
    cid = federation_collection_id(settings.instance_name)
    if conn.execute(select(taxii_collections.c.id).where(taxii_collections.c.id == cid)).first() is None:
        title = "Federation"
        if conn.execute(select(taxii_collections.c.id).where(taxii_collections.c.title == title)).first():
            title = f"Federation ({settings.instance_name})"
        conn.execute(insert(taxii_collections).values(
            id=cid, title=title, kind="federation", group_id=None, organisation_id=None, read_all=False,
            write_all=False, created_at=now_us(),
            description="What this instance shares with federation peers; peers read and write it with their "
                        "service accounts. CLEAR, GREEN and the AMBER of groups the peer belongs to; never "
                        "AMBER+STRICT or RED."))
    return cid


def add_peer(
    conn: Connection,
    settings: Settings,
    *,
    name: str,
    url: str,
    instance_name: str,
    country: str,
    direction: str = "both",
    max_tlp: str = "amber",
    groups: list[str] = (),  # type: ignore[assignment]
    token: str | None = None,
    pull_collection: str | None = None,
    push_collection: str | None = None,
    interval_s: int = 300,
    timeout_s: int = 60,
    actor: Reader | None = None,
) -> dict[str, Any]:
    """Configure a peer; returns it with the token the peer presents here (shown once)."""
    require_cert_admin(actor)
    name = name.strip().lower()
    if not _NAME_RE.match(name):
        raise Invalid(f"peer name {name!r}: use lower-case letters, digits and '-' (e.g. 'no' or 'cert-se')")
    instance_name = instance_name.strip()
    if not instance_name:
        raise Invalid("give the peer's instance name (its NORDCERT_INSTANCE_NAME)")
    if instance_name == settings.instance_name:
        raise Invalid(f"the peer's instance name {instance_name!r} is this instance's own: every instance in a "
                      "federation needs its own NORDCERT_INSTANCE_NAME")
    if direction not in DIRECTIONS:
        raise Invalid(f"direction {direction!r} is not one of: {', '.join(DIRECTIONS)}")
    tlp = _check_tlp(max_tlp)
    if interval_s < 1 or timeout_s < 1:
        raise Invalid("interval and timeout are positive numbers of seconds")
    url = _check_url(url)
    c = federation_peers.c
    instance_id = instance_identity(instance_name)
    clash = conn.execute(select(c.name).where((c.name == name) | (c.instance_id == instance_id))).first()
    if clash:
        raise Conflict(f"peer {clash.name!r} is already configured with that name or instance")
    group_rows = [accounts.get_group(conn, g) for g in groups]
    # The organisation that stands for the peer instance, and its service account.
    org_name = f"{instance_name} (peer)"
    existing = conn.execute(select(organisations).where(organisations.c.identity_id == instance_id)).first()
    if existing is not None:
        org_id = existing.id  # a peer removed earlier, or an origin first met through another peer
        conn.execute(update(organisations).where(organisations.c.id == org_id)
                     .values(name=org_name[:200], country=country.strip().upper()))
    else:
        org = accounts.create_organisation(conn, name=org_name, short_name=f"peer-{name}", country=country,
                                           sector_type="cert", actor=actor)
        org_id = org["id"]
        conn.execute(update(organisations).where(organisations.c.id == org_id).values(identity_id=instance_id))
    for g in group_rows:
        accounts.add_group_member(conn, g["id"], org_id, actor=actor)
    email = f"{name}@peers.nordcert.invalid"
    user = conn.execute(select(users.c.id).where(users.c.email == email)).first()
    if user is None:
        accounts.create_user(conn, email=email, organisation=org_id, role="peer", name=f"Federation peer {name}",
                             actor=actor)
    else:
        accounts.set_user_active(conn, email, True, actor=actor)
    inbound = credentials.create_token(conn, user=email, label=f"federation peer {name}", actor=actor)
    coll = _ensure_federation_collection(conn, settings)
    conn.execute(delete(taxii_collection_access).where(taxii_collection_access.c.collection_id == coll,
                                                       taxii_collection_access.c.organisation_id == org_id))
    conn.execute(insert(taxii_collection_access).values(collection_id=coll, organisation_id=org_id, can_read=True,
                                                        can_write=True))
    remote_coll = federation_collection_id(instance_name)
    conn.execute(insert(federation_peers).values(
        name=name, instance_name=instance_name, instance_id=instance_id, organisation_id=org_id, url=url,
        pull_collection=pull_collection or remote_coll, push_collection=push_collection or remote_coll,
        direction=direction, max_tlp=int(tlp), token=token, interval_s=interval_s, timeout_s=timeout_s,
        enabled=True, created_at=now_us(), push_position=0, objects_in=0, objects_out=0, rejected_in=0,
        failures=0, next_attempt_at=0,
    ))
    record_change(conn, actor, "peer.added", name, {"instance": instance_name, "url": url, "direction": direction,
                                                    "max_tlp": Tlp(tlp).label})
    out = describe(conn, name)
    out["inbound_token"] = inbound.token
    out["federation_collection"] = coll
    return out


def update_peer(
    conn: Connection,
    ref: str,
    *,
    url: str | None = None,
    token: str | None = None,
    direction: str | None = None,
    max_tlp: str | None = None,
    add_groups: list[str] = (),  # type: ignore[assignment]
    remove_groups: list[str] = (),  # type: ignore[assignment]
    enabled: bool | None = None,
    interval_s: int | None = None,
    timeout_s: int | None = None,
    pull_collection: str | None = None,
    push_collection: str | None = None,
    actor: Reader | None = None,
) -> dict[str, Any]:
    """Change a peer's configuration; sync state and checkpoints stay."""
    require_cert_admin(actor)
    peer = get_peer(conn, ref)
    values: dict[str, Any] = {}
    if url is not None:
        values["url"] = _check_url(url)
    if token is not None:
        values["token"] = token or None
    if direction is not None:
        if direction not in DIRECTIONS:
            raise Invalid(f"direction {direction!r} is not one of: {', '.join(DIRECTIONS)}")
        values["direction"] = direction
    if max_tlp is not None:
        values["max_tlp"] = int(_check_tlp(max_tlp))
    if enabled is not None:
        values["enabled"] = enabled
        accounts.set_user_active(conn, f"{peer.name}@peers.nordcert.invalid", enabled, actor=actor)
    for key, value in (("interval_s", interval_s), ("timeout_s", timeout_s)):
        if value is not None:
            if value < 1:
                raise Invalid(f"{key.removesuffix('_s')} is a positive number of seconds")
            values[key] = value
    if pull_collection is not None:
        values["pull_collection"] = pull_collection
    if push_collection is not None:
        values["push_collection"] = push_collection
    if values:
        values["next_attempt_at"] = 0  # the new configuration is tried at once
        conn.execute(update(federation_peers).where(federation_peers.c.id == peer.id).values(**values))
    for g in add_groups:
        accounts.add_group_member(conn, g, peer.organisation_id, actor=actor)
    for g in remove_groups:
        accounts.remove_group_member(conn, g, peer.organisation_id, actor=actor)
    changed = {k: (Tlp(v).label if k == "max_tlp" else v) for k, v in values.items()
               if k not in ("token", "next_attempt_at")}
    if "token" in values:
        changed["token"] = "replaced"  # nosec B105 # a word in the audit record, never the token
    record_change(conn, actor, "peer.updated", peer.name, {"changed": changed, "groups_added": list(add_groups),
                                                           "groups_removed": list(remove_groups)})
    return describe(conn, peer.name)


def remove_peer(conn: Connection, ref: str, *, actor: Reader | None = None) -> dict[str, Any]:
    """Stop federating with a peer: its configuration and service account go; what it sent stays,
    under its organisation, and keeps its provenance."""
    require_cert_admin(actor)
    peer = get_peer(conn, ref)
    accounts.set_user_active(conn, f"{peer.name}@peers.nordcert.invalid", False, actor=actor)
    conn.execute(delete(taxii_collection_access).where(
        taxii_collection_access.c.organisation_id == peer.organisation_id))
    conn.execute(delete(sharing_group_members).where(sharing_group_members.c.organisation_id == peer.organisation_id))
    conn.execute(delete(federation_peers).where(federation_peers.c.id == peer.id))
    record_change(conn, actor, "peer.removed", peer.name)
    return {"name": peer.name, "removed": True}


def describe(conn: Connection, ref: str | int) -> dict[str, Any]:
    """A peer's configuration and sync state (never the token itself)."""
    peer = get_peer(conn, ref)
    row = conn.execute(select(federation_peers).where(federation_peers.c.id == peer.id)).one()
    groups = conn.execute(
        select(sharing_groups.c.name).join(sharing_group_members,
                                           sharing_group_members.c.group_id == sharing_groups.c.id)
        .where(sharing_group_members.c.organisation_id == peer.organisation_id).order_by(sharing_groups.c.name)
    ).scalars().all()
    org = conn.execute(select(organisations.c.short_name, organisations.c.country)
                       .where(organisations.c.id == peer.organisation_id)).one()
    rejections = orjson.loads(row.last_rejections) if row.last_rejections else []
    return {
        "name": peer.name,
        "instance_name": peer.instance_name,
        "instance_id": peer.instance_id,
        "organisation": org.short_name,
        "country": org.country,
        "url": peer.url,
        "direction": peer.direction,
        "max_tlp": peer.max_tlp.label,
        "groups": list(groups),
        "pull_collection": peer.pull_collection,
        "push_collection": peer.push_collection,
        "token_set": bool(peer.token),
        "interval_s": peer.interval_s,
        "timeout_s": peer.timeout_s,
        "enabled": peer.enabled,
        "pull_position": row.pull_position,
        "push_position": row.push_position,
        "objects_in": row.objects_in,
        "objects_out": row.objects_out,
        "rejected_in": row.rejected_in,
        "last_rejections": rejections,
        "last_attempt_at": row.last_attempt_at,
        "last_success_at": row.last_success_at,
        "last_error": row.last_error,
        "last_error_at": row.last_error_at,
        "failures": row.failures,
        "next_attempt_at": row.next_attempt_at,
        "syncing": bool(row.lease_until and row.lease_until > now_us()),
    }



def status(conn: Connection) -> list[dict[str, Any]]:
    """Every peer's configuration and sync state, with what waits to go out and the lag.

    ``pending_out``: versions that may go to the peer and that it has not confirmed yet (push peers);
    ``lag_s``: how old the oldest of them is, or, for a pull-only peer, the time since the last success.
    """
    from nordcert.federation.outgoing import pending_count  # outgoing builds on this module

    now = now_us()
    out = []
    for peer in all_peers(conn):
        row = describe(conn, peer.id)
        pending, oldest = pending_count(conn, peer, int(row["push_position"] or 0)) if peer.pushes else (0, None)
        if oldest is not None:
            lag = (now - oldest) / 1e6
        elif row["last_success_at"] is not None:
            lag = 0.0 if peer.pushes else (now - row["last_success_at"]) / 1e6
        else:
            lag = None
        row["pending_out"] = pending
        row["lag_s"] = None if lag is None else round(lag, 1)
        row["state"] = ("disabled" if not peer.enabled else "syncing" if row["syncing"]
                        else "failing" if row["failures"] else "never synced" if row["last_success_at"] is None
                        else "ok")
        out.append(row)
    return out
