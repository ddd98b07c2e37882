"""Putting a :class:`~tests.assurance.world.World` into a real store, through the services a real
instance uses: accounts (organisations, users, tokens, groups), federation (the peer), TAXII
collections, web sessions, and every object version through ``nordcert.intel.ingest.ingest`` with a
``Submission`` carrying that version's sharing. :func:`wipe` empties the store between examples.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, MetaData, Table, delete, func, select, text

from nordcert.accounts import credentials
from nordcert.accounts import service as accounts
from nordcert.config import Settings
from nordcert.db import transaction
from nordcert.federation import peers
from nordcert.intel.ingest import ingest
from nordcert.intel.submission import Submission
from nordcert.sharing.policy import Role
from nordcert.taxii import collections
from nordcert.web import sessions
from tests.assurance.world import POOL, SCO_KINDS, Share, Spec, Who, World, marker, own_domain

PEER_NAME = "peer-one"
PEER_INSTANCE = "Assurance Peer Instance"


@dataclass
class User:
    who: Who
    email: str
    token: str
    session: str | None  # the web session cookie (None: the peer's service account has none)


@dataclass
class Coll:
    id: str
    kind: str  # sector, group, outbox, fraud, federation
    group: int | None = None
    owner: int | None = None


@dataclass
class Built:
    world: World
    org_ids: list[int]
    org_names: list[str]
    org_shorts: list[str]
    org_identities: list[str]
    group_ids: list[int]
    stix_ids: list[str]
    users: list[User]
    collections: list[Coll]
    #: (object, version) -> the order in which it was stored (date_added order)
    seq: dict[tuple[int, int], int] = field(default_factory=dict)
    #: (object, version) -> its ``modified`` as submitted (None for cyber-observables)
    modified: dict[tuple[int, int], str | None] = field(default_factory=dict)

    def user(self, who: Who) -> User | None:
        return next((u for u in self.users if u.who == who), None)

    def index_of(self, stix_id: str) -> int:
        return self.stix_ids.index(stix_id)

    def version_of(self, obj: dict[str, Any]) -> tuple[int, int]:
        """(object, version) of a STIX object as an answer shows it."""
        i = self.index_of(obj["id"])
        if obj.get("modified") is None:
            return i, 0
        return i, next(v for v in range(len(self.world.objects[i].versions))
                       if self.modified[(i, v)] == obj["modified"])


# --- the store between examples --------------------------------------------------------------------


#: Tables :func:`wipe` leaves alone: the audit trail is append-only (its triggers refuse deletes) and
#: nothing refers to its rows.
APPEND_ONLY = frozenset({"audit_events"})


def seeded_tables(engine: Engine) -> set[str]:
    """The tables :func:`wipe` keeps: those that hold rows right after migration, and the append-only ones."""
    meta = MetaData()
    meta.reflect(engine)
    with engine.connect() as conn:
        seeded = {t.name for t in meta.sorted_tables if conn.execute(select(func.count()).select_from(t)).scalar()}
    return seeded | APPEND_ONLY


def wipe(engine: Engine, keep: set[str]) -> None:
    """Delete every row an example wrote: every table but the seeded ones, dependants first."""
    meta = MetaData()
    meta.reflect(engine)
    tables: list[Table] = [t for t in reversed(meta.sorted_tables) if t.name not in keep]
    with transaction(engine) as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t.name}"' for t in tables) + " CASCADE"))
        else:
            for t in tables:
                conn.execute(delete(t))


# --- one world -----------------------------------------------------------------------------------------


def base_time() -> datetime:
    """Objects are created a day ago (to the second), so that they are recent and never in the future."""
    return (datetime.now(UTC) - timedelta(days=1)).replace(microsecond=0)


def _ts(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def stix_body(built: Built, i: int, v: int, base: datetime) -> dict[str, Any]:
    """Version ``v`` of object ``i`` as its creator submits it."""
    spec = built.world.objects[i]
    sid = built.stix_ids[i]
    m = marker(i, v)
    if spec.kind in SCO_KINDS:
        _kind, value, _path = POOL[spec.values[0]]
        prop = "iban" if spec.kind == "x-bank-account" else "value"
        return {"type": spec.kind, "spec_version": "2.1", "id": sid, prop: value}
    created = base + timedelta(minutes=i)
    obj: dict[str, Any] = {
        "type": spec.kind, "spec_version": "2.1", "id": sid, "created": _ts(created),
        "modified": _ts(created + timedelta(seconds=v + 1)), "created_by_ref": built.org_identities[spec.creator],
        "labels": ["assurance"],
    }
    if spec.versions[v].revoked:
        obj["revoked"] = True
    refs = [built.stix_ids[r] for r in spec.refs]
    if spec.kind == "indicator":
        terms = [f"[{POOL[p][2]} = '{POOL[p][1]}']" for p in spec.values]
        terms.append(f"[domain-name:value = '{own_domain(i)}']")
        obj.update(name=f"Indicator {m}", description=f"assurance {m}", pattern=" OR ".join(terms),
                   pattern_type="stix", valid_from=_ts(created))
    elif spec.kind == "identity":
        obj.update(name=f"Identity {m}", description=f"assurance {m}", identity_class="organization")
    elif spec.kind == "report":
        obj.update(name=f"Report {m}", description=f"assurance {m}", published=_ts(created), object_refs=refs,
                   report_types=["threat-report"])
    elif spec.kind == "note":
        obj.update(abstract=f"Note {m}", content=f"assurance {m}", object_refs=refs)
    elif spec.kind == "relationship":
        obj.update(relationship_type="related-to", source_ref=refs[0], target_ref=refs[1],
                   description=f"assurance {m}")
    elif spec.kind == "sighting":
        seen = datetime.now(UTC) - timedelta(hours=1)
        obj.update(sighting_of_ref=refs[0], count=spec.count, first_seen=_ts(seen), last_seen=_ts(seen),
                   description=f"assurance {m}")
    return obj


def _submission(built: Built, spec: Spec, share: Share) -> Submission:
    return Submission(
        creator_org_id=built.org_ids[spec.creator], submitted_by=None, tlp=share.tlp,
        group_id=None if share.group is None else built.group_ids[share.group],
        recipients=frozenset(built.org_ids[r] for r in share.recipients), anonymous=share.anonymous)


def build(engine: Engine, settings: Settings, world: World, *, peer_url: str = "http://127.0.0.1:9/taxii2/") -> Built:
    """Create the world in the (empty) store."""
    names, shorts, ids, identities = [], [], [], []
    with transaction(engine) as conn:
        for o in range(world.members + 1):
            name, short = (f"Member {o} {world.sectors[o]}", f"M{o}") if o < world.members else ("Nordic CERT", "CERT")
            org = accounts.create_organisation(conn, name=name, short_name=short, country="DK",
                                               sector_type=world.sectors[o] if o < world.members else "cert")
            names.append(org["name"])
            shorts.append(org["short_name"])
            ids.append(org["id"])
            identities.append(org["identity_id"])
        if world.peer is not None:
            added = peers.add_peer(conn, settings, name=PEER_NAME, url=peer_url, instance_name=PEER_INSTANCE,
                                   country="NO", direction="push", max_tlp=world.peer.max_tlp.label, token="t")
            peer_org = accounts.get_organisation(conn, f"peer-{PEER_NAME}")
            names.append(peer_org["name"])
            shorts.append(peer_org["short_name"])
            ids.append(peer_org["id"])
            identities.append(peer_org["identity_id"])
        group_ids = [accounts.create_group(conn, name=f"Group {g}", members=[ids[m] for m in sorted(members)])["id"]
                     for g, members in enumerate(world.groups)]
    built = Built(world, ids, names, shorts, identities, group_ids,
                  [f"{s.kind}--{uuid.uuid4()}" for s in world.objects], [], [])
    _users(engine, settings, built, added["inbound_token"] if world.peer is not None else None)
    _collections(engine, settings, built)
    base = base_time()
    for n, (i, v) in enumerate(world.order):
        spec = world.objects[i]
        body = stix_body(built, i, v, base)
        with transaction(engine) as conn:
            ingest(conn, [body], _submission(built, spec, spec.versions[v].share), settings)
        built.seq[(i, v)] = n
        built.modified[(i, v)] = body.get("modified")
    return built


def _users(engine: Engine, settings: Settings, built: Built, peer_token: str | None) -> None:
    world = built.world
    with transaction(engine) as conn:
        for org in range(world.orgs):
            for role in world.roles[org]:
                who = Who(org, role)
                if role is Role.PEER:
                    assert peer_token is not None
                    email = f"{PEER_NAME}@peers.nordcert.invalid"
                    built.users.append(User(who, email, peer_token, None))
                    continue
                email = f"{role.value.replace('_', '-')}@org{org}.example"
                accounts.create_user(conn, email=email, organisation=built.org_ids[org], role=role.value)
                token = credentials.create_token(conn, user=email).token
                session = sessions.start(conn, accounts.reader_for(conn, email), hours=1)
                built.users.append(User(who, email, token, session))


def _collections(engine: Engine, settings: Settings, built: Built) -> None:
    """A sector, a fraud, an outbox (of the first member, readable by all) and one collection per group."""
    world = built.world
    with transaction(engine) as conn:
        made = [
            (collections.create_collection(conn, title="Sector", kind="sector", read_all=True), "sector", None, None),
            (collections.create_collection(conn, title="Fraud", kind="fraud", read_all=True), "fraud", None, None),
            (collections.create_collection(conn, title="Outbox", kind="outbox", organisation=built.org_ids[0],
                                           read_all=True), "outbox", None, 0),
            *((collections.create_collection(conn, title=f"Group {g}", kind="group", group=built.group_ids[g]),
               "group", g, None) for g in range(len(world.groups))),
        ]
    built.collections = [Coll(c["id"], kind, group, owner) for c, kind, group, owner in made]
    if world.peer is not None:
        built.collections.append(Coll(peers.federation_collection_id(settings.instance_name), "federation"))
