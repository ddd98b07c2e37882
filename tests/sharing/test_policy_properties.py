"""Property-based tests of the sharing policy against a plain oracle of the TLP table.

Random instances (organisations, sharing groups with random members, objects with any sharing
attributes) and every kind of reader: :func:`visible` must agree with the oracle for every pair, and
the SQL filter :func:`visible_clause` must return exactly the rows the oracle allows, on the real store.

The oracle speaks of organisations and group *membership* only, straight from the table; it knows
nothing of ``Reader.group_ids`` or of the order of TLP levels.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, Engine, select

from nordcert.accounts.service import create_group, create_organisation
from nordcert.intel.tables import stix_objects
from nordcert.sharing.policy import (
    Reader,
    Role,
    Sharing,
    countable,
    creator_visible,
    forward_clause,
    may_forward,
    may_modify,
    visible,
)
from nordcert.sharing.tlp import Tlp
from tests.sharing.store import insert_items, visible_keys

# --- the model: organisations and groups are indices, mapped to ids per store -------------------------


@dataclass(frozen=True)
class Obj:
    creator: int | None  # index of the creator organisation
    tlp: Tlp
    group: int | None  # index of the sharing group
    recipients: frozenset[int]  # indices of the named organisations
    anonymous: bool


@dataclass(frozen=True)
class World:
    orgs: int  # how many organisations
    groups: tuple[frozenset[int], ...]  # the member organisations of each sharing group
    objects: tuple[Obj, ...]


@dataclass(frozen=True)
class Who:
    """A reader in the model: ``org`` None means not logged in."""

    org: int | None
    role: Role | None


# --- the oracle, from the table in DESIGN.md ---------------------------------------------------------


def oracle_visible(world: World, obj: Obj, who: Who) -> bool:
    if who.org is None:
        return obj.tlp == Tlp.CLEAR  # without logging in: CLEAR only
    if who.role == Role.CERT_ADMIN:
        return True  # CERT staff see everything
    if who.role == Role.PEER:  # a federation peer reads what may be forwarded to it, nothing else
        return oracle_may_forward(obj, frozenset(g for g, members in enumerate(world.groups) if who.org in members))
    if obj.creator is not None and obj.creator == who.org:
        return True  # the creator organisation sees its own
    in_group = obj.group is not None and who.org in world.groups[obj.group]
    if obj.tlp == Tlp.CLEAR or obj.tlp == Tlp.GREEN:
        return True  # anyone / every member organisation
    if obj.tlp == Tlp.AMBER:
        return obj.group is None or in_group  # the group's members; without a group every member
    if obj.tlp == Tlp.AMBER_STRICT:
        return in_group  # the group's members only; without a group nobody more
    if obj.tlp == Tlp.RED:
        return who.org in obj.recipients  # the named recipients only
    raise AssertionError(f"no row for {obj.tlp!r}")


def oracle_creator_visible(obj: Obj, who: Who) -> bool:
    if not obj.anonymous:
        return True
    return who.org is not None and (who.role == Role.CERT_ADMIN or (obj.creator is not None and who.org == obj.creator))


def oracle_countable(world: World, obj: Obj, who: Who) -> bool:
    """May the reader learn that the object exists (counted, never shown)? What it may see, and AMBER
    objects of groups it is not in; never AMBER+STRICT or RED outside their audience, nothing for the public."""
    if oracle_visible(world, obj, who):
        return True
    return who.org is not None and who.role != Role.PEER and obj.tlp == Tlp.AMBER


def oracle_may_forward(obj: Obj, peer_groups: frozenset[int]) -> bool:
    if obj.tlp == Tlp.CLEAR or obj.tlp == Tlp.GREEN:
        return True
    if obj.tlp == Tlp.AMBER:
        return obj.group is not None and obj.group in peer_groups
    return False  # AMBER+STRICT and RED never leave this instance


def oracle_may_modify(obj: Obj, who: Who) -> bool:
    return who.role == Role.CERT_ADMIN or (
        who.role == Role.ANALYST and obj.creator is not None and obj.creator == who.org)


# --- random instances -------------------------------------------------------------------------------


@st.composite
def worlds(draw: st.DrawFn, max_objects: int = 25) -> World:
    orgs = draw(st.integers(min_value=1, max_value=6))
    org = st.integers(min_value=0, max_value=orgs - 1)
    groups = tuple(draw(st.lists(st.frozensets(org), max_size=4)))
    group = st.none() | st.integers(min_value=0, max_value=len(groups) - 1) if groups else st.none()
    objects = draw(st.lists(
        st.builds(Obj, creator=st.none() | org, tlp=st.sampled_from(Tlp), group=group,
                  recipients=st.frozensets(org), anonymous=st.booleans()),
        max_size=max_objects,
    ))
    return World(orgs, groups, tuple(objects))


def readers_of(world: World) -> list[Who]:
    """Every kind of reader: not logged in, and each role in each organisation."""
    return [Who(None, None), *(Who(org, role) for org in range(world.orgs) for role in Role)]


@dataclass(frozen=True)
class Ids:
    """The ids the organisations and groups of a world have in one store (or in memory)."""

    orgs: list[int]
    groups: list[int]

    def sharing(self, obj: Obj) -> Sharing:
        return Sharing(
            creator_org_id=None if obj.creator is None else self.orgs[obj.creator],
            tlp=obj.tlp,
            group_id=None if obj.group is None else self.groups[obj.group],
            recipients=frozenset(self.orgs[r] for r in obj.recipients),
            anonymous=obj.anonymous,
        )

    def reader(self, world: World, who: Who) -> Reader | None:
        if who.org is None or who.role is None:
            return None
        member_of = frozenset(self.groups[g] for g, members in enumerate(world.groups) if who.org in members)
        return Reader(user_id=100 + who.org, email=f"{who.role}@org{who.org}.example",
                      organisation_id=self.orgs[who.org], role=who.role, group_ids=member_of)


@st.composite
def worlds_with_ids(draw: st.DrawFn) -> tuple[World, Ids]:
    """A world with in-memory ids, drawn from one small range so organisation and group ids collide."""
    world = draw(worlds())
    ids = st.integers(min_value=1, max_value=9)
    orgs = draw(st.lists(ids, min_size=world.orgs, max_size=world.orgs, unique=True))
    groups = draw(st.lists(ids, min_size=len(world.groups), max_size=len(world.groups), unique=True))
    return world, Ids(orgs, groups)


# --- the policy in Python ---------------------------------------------------------------------------


@given(worlds_with_ids())
@settings(max_examples=300)
def test_visible_follows_the_table(case: tuple[World, Ids]) -> None:
    world, ids = case
    for obj in world.objects:
        item = ids.sharing(obj)
        for who in readers_of(world):
            assert visible(item, ids.reader(world, who)) is oracle_visible(world, obj, who), (obj, who)


@given(worlds_with_ids())
@settings(max_examples=300)
def test_creator_visible_hides_anonymous_creators(case: tuple[World, Ids]) -> None:
    world, ids = case
    for obj in world.objects:
        item = ids.sharing(obj)
        for who in readers_of(world):
            assert creator_visible(item, ids.reader(world, who)) is oracle_creator_visible(obj, who), (obj, who)


@given(worlds_with_ids())
@settings(max_examples=300)
def test_countable_reveals_existence_only_where_the_table_allows(case: tuple[World, Ids]) -> None:
    world, ids = case
    for obj in world.objects:
        item = ids.sharing(obj)
        for who in readers_of(world):
            assert countable(item, ids.reader(world, who)) is oracle_countable(world, obj, who), (obj, who)


@given(worlds_with_ids(), st.data())
@settings(max_examples=300)
def test_may_forward_lets_only_clear_green_and_shared_amber_leave(case: tuple[World, Ids], data: st.DataObject) -> None:
    world, ids = case
    peer = data.draw(st.frozensets(st.sampled_from(range(len(world.groups)))) if world.groups else st.just(frozenset()))
    peer_ids = [ids.groups[g] for g in sorted(peer)]
    for obj in world.objects:
        assert may_forward(ids.sharing(obj), peer_ids) is oracle_may_forward(obj, peer), (obj, peer)


@given(worlds_with_ids())
@settings(max_examples=300)
def test_may_modify_is_for_the_creator_organisations_analysts_and_cert_staff(case: tuple[World, Ids]) -> None:
    world, ids = case
    for obj in world.objects:
        item = ids.sharing(obj)
        for who in readers_of(world):
            reader = ids.reader(world, who)
            if reader is not None:
                assert may_modify(item, reader) is oracle_may_modify(obj, who), (obj, who)


# --- the policy in SQL, on the real store -----------------------------------------------------------


@contextmanager
def rolled_back(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction that is always rolled back: each example starts from the empty store."""
    with engine.connect() as conn:
        trans = conn.begin()
        try:
            yield conn
        finally:
            trans.rollback()


def store_world(conn: Connection, world: World) -> Ids:
    """Create the world's organisations and sharing groups; their ids are the store's."""
    orgs = [
        create_organisation(conn, name=f"Org {i}", country="DK", sector_type="bank", short_name=f"O{i}")["id"]
        for i in range(world.orgs)
    ]
    groups = []
    for j, members in enumerate(world.groups):
        member_ids: list[str | int] = [orgs[m] for m in sorted(members)]
        groups.append(create_group(conn, name=f"Group {j}", members=member_ids)["id"])
    return Ids(orgs, groups)


@given(world=worlds())
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_visible_clause_selects_exactly_the_rows_the_table_allows(engine: Engine, world: World) -> None:
    with rolled_back(engine) as conn:
        ids = store_world(conn, world)
        rows = list(enumerate(world.objects, start=1))
        insert_items(conn, [(key, ids.sharing(obj)) for key, obj in rows])
        for who in readers_of(world):
            expected = {key for key, obj in rows if oracle_visible(world, obj, who)}
            assert visible_keys(conn, ids.reader(world, who)) == expected, who


@given(world=worlds(), data=st.data())
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_forward_clause_selects_exactly_what_may_leave_for_a_peer(engine: Engine, world: World,
                                                                 data: st.DataObject) -> None:
    """Federation's SQL filter: what may_forward allows, capped at the peer's configured TLP."""
    peer = data.draw(st.frozensets(st.sampled_from(range(len(world.groups)))) if world.groups else st.just(frozenset()))
    max_tlp = data.draw(st.sampled_from([Tlp.CLEAR, Tlp.GREEN, Tlp.AMBER]))
    with rolled_back(engine) as conn:
        ids = store_world(conn, world)
        rows = list(enumerate(world.objects, start=1))
        insert_items(conn, [(key, ids.sharing(obj)) for key, obj in rows])
        clause = forward_clause([ids.groups[g] for g in peer], stix_objects, max_tlp)
        got = set(conn.execute(select(stix_objects.c.date_added).where(clause)).scalars())
        expected = {key for key, obj in rows if oracle_may_forward(obj, peer) and obj.tlp <= max_tlp}
        assert got == expected, (peer, max_tlp)
