"""Three real instances in a triangle (DK, NO, SE: own stores, own servers on loopback ports) sync in
every direction, several rounds, in varying order: what crosses and what does not for every TLP and
group case, provenance, anonymity, versions and revocations, and no duplicates after loops."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import orjson
import pytest
from sqlalchemy import select

from nordcert.accounts.tables import organisations, sharing_groups
from nordcert.db import transaction
from nordcert.federation.sync import sync_peer
from nordcert.federation.tables import object_provenance
from nordcert.intel.tables import stix_objects
from nordcert.sharing.tlp import Tlp
from tests.federation.conftest import Instance, link
from tests.federation.helpers import indicator, new_version

NORDIC = "Nordic fraud"
DKNO = "DK-NO cards"


@pytest.fixture
def triangle(instances: Callable[..., Instance]) -> tuple[Instance, Instance, Instance]:
    dk, no, se = instances("nordcert-dk", "DK"), instances("nordcert-no", "NO"), instances("nordcert-se", "SE")
    for inst in (dk, no, se):
        inst.group(NORDIC)
    dk.group(DKNO)
    no.group(DKNO)
    dk.member("DB", (NORDIC, DKNO))
    no.member("DNB", (NORDIC, DKNO))
    se.member("SEB", (NORDIC,))
    se.member("HB")  # in no group
    link(dk, no, groups=(NORDIC, DKNO))
    link(no, se, groups=(NORDIC,))
    link(se, dk, groups=(NORDIC,))
    return dk, no, se


def sync_all(insts: tuple[Instance, ...], rounds: int = 2) -> None:
    """Every instance syncs with each of its peers, ``rounds`` times, in a different order each round."""
    pairs = [(i, p) for i in insts for p in ("dk", "no", "se") if p != i.country.lower()]
    for r in range(rounds):
        order = pairs[r % len(pairs):] + pairs[:r % len(pairs)]
        if r % 2:
            order.reverse()
        for inst, peer in order:
            result = sync_peer(inst.engine, inst.settings, peer)
            assert result.ok, (inst.name, peer, result.error)


def versions_of(inst: Instance, stix_id: str) -> list[tuple[int, bool, bool]]:
    """(modified, is_latest, revoked) of every stored version of ``stix_id``."""
    t = stix_objects.c
    with transaction(inst.engine, write=False) as conn:
        return [tuple(r) for r in conn.execute(select(t.modified, t.is_latest, t.revoked)
                                                .where(t.stix_id == stix_id).order_by(t.modified))]


def stored(inst: Instance, stix_id: str) -> dict:
    t = stix_objects.c
    with transaction(inst.engine, write=False) as conn:
        row = conn.execute(
            select(t.tlp, t.anonymous, t.body, organisations.c.name.label("creator"), sharing_groups.c.name.label("grp"),
                   object_provenance.c.path, object_provenance.c.origin_instance_name, object_provenance.c.origin_org_name)
            .join(organisations, organisations.c.id == t.creator_org_id)
            .outerjoin(sharing_groups, sharing_groups.c.id == t.group_id)
            .outerjoin(object_provenance, object_provenance.c.date_added == t.date_added)
            .where(t.stix_id == stix_id, t.is_latest.is_(True))).one()
    return dict(row._mapping)


def test_what_crosses_the_triangle_and_what_never_does(triangle: tuple[Instance, Instance, Instance]) -> None:
    dk, no, se = triangle
    db, dnb = dk.members["DB"], no.members["DNB"]
    cases = {
        "clear": (indicator("clear.example"), {"tlp": "clear"}, {"no", "se"}),
        "green": (indicator("green.example"), {"tlp": "green"}, {"no", "se"}),
        "amber-nordic": (indicator("nordic.example"), {"tlp": "amber", "group": NORDIC}, {"no", "se"}),
        "amber-dkno": (indicator("dkno.example"), {"tlp": "amber", "group": DKNO}, {"no"}),
        "amber-no-group": (indicator("amber.example"), {"tlp": "amber"}, set()),
        "strict": (indicator("strict.example"), {"tlp": "amber+strict", "group": NORDIC}, set()),
        "strict-no-group": (indicator("strict2.example"), {"tlp": "amber+strict"}, set()),
        "red": (indicator("red.example"), {"tlp": "red", "recipients": ["DB"]}, set()),
        "anonymous": (indicator("anon.example"), {"tlp": "green", "anonymous": True}, {"no", "se"}),
    }
    for obj, sharing, _ in cases.values():
        dk.submit(db, [obj], **sharing)
    from_no = indicator("from-norway.example")
    no.submit(dnb, [from_no], tlp="green")

    sync_all((dk, no, se), rounds=3)

    by_country = {"no": no, "se": se}
    for name, (obj, _, reaches) in cases.items():
        for country, inst in by_country.items():
            held = versions_of(inst, obj["id"])
            assert len(held) == (1 if country in reaches else 0), (name, country, held)
    for inst in (dk, se):
        assert len(versions_of(inst, from_no["id"])) == 1

    # Nothing doubled by the loops: one row per (id, version) everywhere, and the counts add up.
    assert dk.count() == len(cases) + 1
    assert no.count() == 1 + 5  # its own and the five of DK that may cross to it
    assert se.count() == 1 + 4  # NO's one and four of DK's (not the DK-NO group's)

    # TLP, group, origin and provenance are kept.
    nordic = stored(se, cases["amber-nordic"][0]["id"])
    assert nordic["tlp"] == int(Tlp.AMBER) and nordic["grp"] == NORDIC
    assert nordic["creator"] == "DB DK (nordcert-dk)" and nordic["origin_org_name"] == "DB DK"
    path = orjson.loads(nordic["path"])
    assert path[0] == dk.settings.instance_identity_id and path[-1] in (dk.settings.instance_identity_id,
                                                                        no.settings.instance_identity_id)
    assert len(path) == len(set(path))
    dkno = stored(no, cases["amber-dkno"][0]["id"])
    assert dkno["grp"] == DKNO and orjson.loads(dkno["path"]) == [dk.settings.instance_identity_id]
    # The anonymous submission names no organisation anywhere it went.
    for inst in (no, se):
        anon = stored(inst, cases["anonymous"][0]["id"])
        assert anon["anonymous"] and anon["origin_org_name"] is None
        assert anon["creator"] == "nordcert-dk (peer)" if inst is no else anon["creator"] in (
            "nordcert-dk (peer)", "nordcert-dk (instance)")
        body = orjson.loads(anon["body"])
        assert body.get("created_by_ref") == dk.settings.instance_identity_id
        assert "DB" not in anon["body"]
    # The provenance extension is not stored: the object is as its creator wrote it.
    assert "extensions" not in orjson.loads(stored(se, cases["green"][0]["id"])["body"])
    # The federated AMBER object is visible on SE to the group's member only, by the one policy.
    from nordcert.accounts.service import reader_for
    from nordcert.sharing.policy import Sharing, visible
    with transaction(se.engine, write=False) as conn:
        seb, hb = reader_for(conn, se.members["SEB"]), reader_for(conn, se.members["HB"])
        group_id = conn.execute(select(sharing_groups.c.id).where(sharing_groups.c.name == NORDIC)).scalar_one()
    item = Sharing(creator_org_id=-1, tlp=Tlp.AMBER, group_id=group_id)
    assert visible(item, seb) and not visible(item, hb)


def test_versions_and_revocations_propagate_without_duplicates(triangle: tuple[Instance, Instance, Instance]
                                                               ) -> None:
    dk, no, se = triangle
    db = dk.members["DB"]
    first = indicator("versioned.example")
    doomed = indicator("revoked.example")
    dk.submit(db, [first, doomed], tlp="amber", group=NORDIC)
    sync_all((dk, no, se), rounds=1)
    dk.submit(db, [new_version(first, "2026-11-02T00:00:00.000Z", confidence=80),
                   new_version(doomed, "2026-11-03T00:00:00.000Z", revoked=True)], tlp="amber", group=NORDIC)
    sync_all((dk, no, se), rounds=2)
    for inst in (no, se):
        v = versions_of(inst, first["id"])
        assert [x[1] for x in v] == [False, True], inst.name
        r = versions_of(inst, doomed["id"])
        assert len(r) == 2 and r[-1][1] and r[-1][2], inst.name  # the latest version is the revoked one
        assert inst.count() == 4
    # A peer may not version an object of another origin: NO cannot change DK's object on SE.
    sync_all((dk, no, se), rounds=1)
    assert se.count() == 4 and no.count() == 4 and dk.count() == 4


def test_every_pair_and_round_order_converges_to_the_same_state(triangle: tuple[Instance, Instance, Instance]
                                                                ) -> None:
    dk, no, se = triangle
    objs = {inst.country: [indicator(f"{inst.country.lower()}-{i}.example") for i in range(30)]
            for inst in (dk, no, se)}
    for inst, member in ((dk, "DB"), (no, "DNB"), (se, "SEB")):
        inst.submit(inst.members[member], objs[inst.country], tlp="amber", group=NORDIC)
    sync_all((dk, no, se), rounds=2)
    expected = {(o["id"], 0) for o in itertools.chain(*objs.values())}
    for inst in (dk, no, se):
        assert {i for i, _ in inst.ids()} == {i for i, _ in expected}, inst.name
        assert inst.count() == 90


def test_an_analyst_sees_where_a_federated_object_came_from(triangle: tuple[Instance, Instance, Instance]) -> None:
    """The objects API shows the provenance: origin instance and organisation, the peer, the path."""
    import httpx

    from nordcert.accounts.credentials import create_token
    dk, no, _se = triangle
    obj = indicator("provenance.example")
    dk.submit(dk.members["DB"], [obj], tlp="amber", group=NORDIC)
    sync_all((dk, no), rounds=1)
    with transaction(no.engine) as conn:
        token = create_token(conn, user=no.members["DNB"]).token
    got = httpx.get(f"{no.url}/api/v1/objects/{obj['id']}", headers={"Authorization": f"Bearer {token}"}).json()
    assert got["meta"]["federation"] == {"origin_instance": "nordcert-dk", "origin_organisation": "DB DK",
                                         "received_from": "dk", "path": [dk.settings.instance_identity_id]}
    assert got["meta"]["sharing_group"] == NORDIC and got["meta"]["tlp"] == "amber"
