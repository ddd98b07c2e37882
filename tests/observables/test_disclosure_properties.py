"""Property tests: lookup, correlation and sightings never reveal an object or an organisation the
reader may not see.

Random worlds (organisations, groups, objects with any sharing attributes, each holding values from
a small pool so that values collide, and sightings of them) are written to the real store; every
kind of reader then looks up every value, asks for correlations of every object it may see and for
the sightings of each. The answers are checked against the plain oracle of the TLP table.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, Engine, insert

from nordcert.config import Settings
from nordcert.errors import NotFound
from nordcert.observables import service, sightings
from nordcert.observables.tables import observables, sighting_index
from nordcert.sharing.tlp import Tlp
from tests.sharing.store import insert_items
from tests.sharing.test_policy_properties import (
    Ids,
    Obj,
    Who,
    World,
    oracle_countable,
    oracle_creator_visible,
    oracle_visible,
    readers_of,
    rolled_back,
    store_world,
)

POOL = ["198.51.100.7", "203.0.113.9", "mule.example", "+46701234567"]
KINDS = {"198.51.100.7": "ipv4", "203.0.113.9": "ipv4", "mule.example": "domain", "+46701234567": "phone"}
NOW = 1_800_000_000_000_000  # store timestamps are far enough in the past not to matter here


@dataclass(frozen=True)
class Case:
    world: World
    values: tuple[frozenset[int], ...]  # per object: indices into POOL
    sightings: tuple[tuple[int, Obj], ...]  # (sighted object index, the sighting's own sharing)


@st.composite
def cases(draw: st.DrawFn) -> Case:
    from tests.sharing.test_policy_properties import worlds

    world = draw(worlds(max_objects=10))
    values = tuple(draw(st.frozensets(st.integers(0, len(POOL) - 1), min_size=1, max_size=2))
                   for _ in world.objects)
    sighted: list[tuple[int, Obj]] = []
    if world.objects:
        org = st.integers(min_value=0, max_value=world.orgs - 1)
        group = st.none() | st.integers(0, len(world.groups) - 1) if world.groups else st.none()
        sighted = draw(st.lists(st.tuples(
            st.integers(0, len(world.objects) - 1),
            st.builds(Obj, creator=org, tlp=st.sampled_from(Tlp), group=group,
                      recipients=st.frozensets(org), anonymous=st.booleans())), max_size=8))
    return Case(world, values, tuple(sighted))


def _indicator_id(i: int) -> str:
    return f"indicator--{uuid.UUID(int=i + 1)}"


def store_case(conn: Connection, case: Case, ids: Ids) -> None:
    insert_items(conn, [(i + 1, ids.sharing(obj)) for i, obj in enumerate(case.world.objects)])
    base = 1000
    insert_items(conn, [(base + j, ids.sharing(s)) for j, (_target, s) in enumerate(case.sightings)])
    # Give the rows real ids, types and bodies.
    from sqlalchemy import update

    from nordcert.intel.tables import stix_objects
    for i, _obj in enumerate(case.world.objects):
        body = {"type": "indicator", "id": _indicator_id(i), "name": f"object {i}"}
        conn.execute(update(stix_objects).where(stix_objects.c.date_added == i + 1).values(
            stix_id=_indicator_id(i), body=orjson.dumps(body).decode(), modified=NOW, created=NOW))
    for j, (target, _s) in enumerate(case.sightings):
        conn.execute(update(stix_objects).where(stix_objects.c.date_added == base + j).values(
            stix_id=f"sighting--{uuid.UUID(int=base + j)}", type="sighting", modified=NOW, created=NOW,
            body=orjson.dumps({"type": "sighting", "sighting_of_ref": _indicator_id(target)}).decode()))
    rows = [{"kind": KINDS[POOL[v]], "value": POOL[v], "date_added": i + 1, "warninglists": None}
            for i, vals in enumerate(case.values) for v in sorted(vals)]
    if rows:
        conn.execute(insert(observables), rows)
    srows = [{"date_added": base + j, "sighting_of_ref": _indicator_id(t), "count": 1, "first_seen": NOW,
              "last_seen": NOW} for j, (t, _s) in enumerate(case.sightings)]
    if srows:
        conn.execute(insert(sighting_index), srows)


def org_names(ids: Ids) -> dict[str, int]:
    return {f"O{i}": i for i in range(len(ids.orgs))}


@given(case=cases())
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
def test_lookup_and_correlation_show_only_what_the_reader_may_see(engine: Engine, settings: Settings,
                                                                   case: Case) -> None:
    world = case.world
    with rolled_back(engine) as conn:
        ids = store_world(conn, world)
        store_case(conn, case, ids)
        names = org_names(ids)
        for who in readers_of(world):
            reader = ids.reader(world, who)
            if reader is None:
                continue  # lookup and correlation need a logged-in member
            answer = service.lookup(conn, reader, settings, list(POOL))
            for v, result in enumerate(answer["results"]):
                holders = [i for i, vals in enumerate(case.values) if v in vals]
                expected = {_indicator_id(i) for i in holders if oracle_visible(world, world.objects[i], who)}
                assert {m["id"] for m in result["matches"]} == expected, (who, POOL[v])
                _check_creators(result["matches"], world, who, names)
                _check_members(result, world, who, holders)
            for i, obj in enumerate(world.objects):
                if not oracle_visible(world, obj, who):
                    try:
                        service.correlations(conn, reader, settings, _indicator_id(i))
                    except NotFound:
                        continue
                    raise AssertionError(f"correlations of an invisible object answered for {who}")
                corr = service.correlations(conn, reader, settings, _indicator_id(i))
                assert {o["value"] for o in corr["observables"]} == {POOL[v] for v in case.values[i]}
                for o in corr["observables"]:
                    v = POOL.index(o["value"])
                    holders = [k for k, vals in enumerate(case.values) if v in vals]
                    expected = {_indicator_id(k) for k in holders
                                if k != i and oracle_visible(world, world.objects[k], who)}
                    assert {m["id"] for m in o["objects"]} == expected, who
                    _check_creators(o["objects"], world, who, names)
                    _check_members(o, world, who, holders)


def _check_creators(matches: list[dict], world: World, who: Who, names: dict[str, int]) -> None:
    for m in matches:
        i = int(uuid.UUID(m["id"].split("--")[1])) - 1
        obj = world.objects[i]
        if oracle_creator_visible(obj, who) and obj.creator is not None:
            assert m["creator"] == f"O{obj.creator}"
        elif not oracle_creator_visible(obj, who):
            assert m["creator"] == "anonymous member"
        assert m["creator"] not in names or names[m["creator"]] == obj.creator


def _check_members(result: dict, world: World, who: Who, holders: list[int]) -> None:
    counted = {world.objects[i].creator for i in holders if oracle_countable(world, world.objects[i], who)}
    seen = {world.objects[i].creator for i in holders if oracle_visible(world, world.objects[i], who)}
    assert result["reporting_members"] == len(counted), (who, holders)
    assert result["other_members"] == len(counted - seen), (who, holders)


@given(case=cases())
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
def test_sightings_count_and_name_only_what_the_reader_may_know(engine: Engine, settings: Settings,
                                                                case: Case) -> None:
    world = case.world
    with rolled_back(engine) as conn:
        ids = store_world(conn, world)
        store_case(conn, case, ids)
        for who in readers_of(world):
            reader = ids.reader(world, who)
            if reader is None:
                continue
            for i, obj in enumerate(world.objects):
                if not oracle_visible(world, obj, who):
                    try:
                        sightings.sightings_of(conn, reader, settings, _indicator_id(i))
                    except NotFound:
                        continue
                    raise AssertionError("sightings of an invisible object answered")
                got = sightings.sightings_of(conn, reader, settings, _indicator_id(i))
                mine = [s for t, s in case.sightings if t == i]
                shown = [s for s in mine if oracle_visible(world, s, who)]
                assert got["sightings"] == len(shown)
                assert got["count"] == len(shown)
                assert got["members"] == len({s.creator for s in mine if oracle_countable(world, s, who)})
                named = sorted(r["sighted_by"] for r in got["recent"])
                expected = sorted(f"O{s.creator}" if oracle_creator_visible(s, who) else "anonymous member"
                                  for s in shown)
                assert named == expected
