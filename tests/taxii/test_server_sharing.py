"""Sharing through TAXII collections: each reader gets what the TLP 2.0 policy allows, per collection kind.

A sector collection follows the policy table; a group collection holds only its group's objects;
an outbox only its owner's; what is added to a group collection is shared with that group; an
anonymous submission shows the instance's identity as its creator to everyone else.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import requests
from sqlalchemy import Engine

from nordcert.accounts import service as accounts
from nordcert.config import Settings
from nordcert.db import transaction
from nordcert.sharing.tlp import Tlp
from nordcert.taxii import collections
from tests.factories import indicator, refresh
from tests.taxii.conftest import Taxii, World, bearer, ids_of, put

READERS = ("alpha", "viewer", "boreal", "outsider", "admin")


def _marked(tlp: Tlp, value: str | None = None) -> dict[str, Any]:
    return indicator(value, object_marking_refs=[tlp.marking_id])


def _visible_ids(taxii: Taxii, world: World, who: str, coll: str) -> set[str]:
    c = taxii.collection(world.members()[who], world.coll[coll])
    env = c.get_objects()
    manifest = c.get_manifest()
    ids = ids_of(env)
    assert len(ids) == len(set(ids))
    assert [r["id"] for r in manifest.get("objects", [])] == ids  # manifest and objects agree
    return set(ids)


def test_sector_collection_follows_the_tlp_table(world: World, taxii: Taxii, http: httpx.Client, engine: Engine,
                                                 settings: Settings) -> None:
    a = world.alpha
    cases: dict[str, tuple[dict[str, Any], set[str]]] = {
        "clear": ({"tlp": "clear"}, set(READERS)),
        "green": ({"tlp": "green"}, set(READERS)),
        "amber": ({"tlp": "amber"}, set(READERS)),  # no group: every member
        "amber-dk": ({"tlp": "amber", "group": "DK banks"}, {"alpha", "viewer", "boreal", "admin"}),
        "strict-dk": ({"tlp": "amber+strict", "group": "DK banks"}, {"alpha", "viewer", "boreal", "admin"}),
        "strict": ({"tlp": "amber+strict"}, {"alpha", "viewer", "admin"}),  # no group: creator and CERT only
        "red-outsider": ({"tlp": "red", "recipients": [world.outsider.org_id]},
                         {"alpha", "viewer", "outsider", "admin"}),
        "red": ({"tlp": "red"}, {"alpha", "viewer", "admin"}),
        "untagged": ({}, set(READERS)),  # default_tlp amber without group
    }
    made = {}
    for name, (sharing, _) in cases.items():
        obj = indicator()
        put(engine, settings, a, [obj], **sharing)
        made[name] = obj["id"]
    # An object marked in its body is shared by its marking.
    marked = _marked(Tlp.RED)
    put(engine, settings, a, [marked])
    made["marked-red"] = marked["id"]
    cases["marked-red"] = ({}, {"alpha", "viewer", "admin"})

    for who in READERS:
        allowed = {made[n] for n, (_, readers) in cases.items() if who in readers}
        assert _visible_ids(taxii, world, who, "sector") == allowed, who
        coll = taxii.collection(world.members()[who], world.coll["sector"])
        for name, oid in made.items():
            if oid in allowed:
                assert ids_of(coll.get_object(oid)) == [oid]
                assert coll.object_versions(oid)["versions"] == ["2026-01-01T00:00:00.000Z"]
            else:
                # An object the reader may not see is exactly like one that does not exist.
                for endpoint in (coll.get_object, coll.object_versions):
                    with pytest.raises(requests.HTTPError) as exc:
                        endpoint(oid)
                    assert exc.value.response is not None and exc.value.response.status_code == 404, (who, name)
    # The same through the read-only sector view, for a bank that may only read it.
    outsider_allowed = {made[n] for n, (_, readers) in cases.items() if "outsider" in readers}
    assert _visible_ids(taxii, world, "outsider", "read_only") == outsider_allowed
    # Filters never widen what one sees: match[id] naming hidden objects returns only visible ones.
    r = http.get(f"/taxii2/api/collections/{world.coll['sector']}/objects/",
                 params={"match[id]": ",".join(made.values())}, headers=bearer(world.boreal))
    assert {o["id"] for o in r.json()["objects"]} == {made[n] for n, (_, rd) in cases.items() if "boreal" in rd}


def test_group_collection_holds_only_its_groups_objects(world: World, taxii: Taxii, engine: Engine,
                                                        settings: Settings) -> None:
    g1, g2, green, se1, red = indicator(), indicator(), indicator(), indicator(), indicator()
    put(engine, settings, world.alpha, [g1], tlp="amber", group="DK banks")
    put(engine, settings, world.boreal, [g2], tlp="amber+strict", group="DK banks")
    put(engine, settings, world.alpha, [green], tlp="green")
    put(engine, settings, world.outsider, [se1], tlp="amber", group="SE banks")
    put(engine, settings, world.alpha, [red], tlp="red", recipients=[world.boreal.org_id])

    for who in ("alpha", "boreal", "viewer", "admin"):
        assert _visible_ids(taxii, world, who, "dk") == {g1["id"], g2["id"]}, who
    for who in ("outsider", "admin"):
        assert _visible_ids(taxii, world, who, "se") == {se1["id"]}, who
    # A group collection one has no rights on does not exist for them.
    for who, coll in (("outsider", "dk"), ("alpha", "se"), ("boreal", "se")):
        with pytest.raises(requests.HTTPError) as exc:
            taxii.collection(world.members()[who], world.coll[coll]).refresh()
        assert exc.value.response is not None and exc.value.response.status_code == 404
    # The sector collection shows them all, each to its audience.
    assert _visible_ids(taxii, world, "outsider", "sector") == {green["id"], se1["id"]}
    assert _visible_ids(taxii, world, "boreal", "sector") == {g1["id"], g2["id"], green["id"], red["id"]}


def test_objects_added_to_a_group_collection_are_shared_with_the_group(world: World, taxii: Taxii,
                                                                       engine: Engine, settings: Settings) -> None:
    plain, green, strict = indicator(), _marked(Tlp.GREEN), _marked(Tlp.AMBER_STRICT)
    status = taxii.collection(world.boreal, world.coll["dk"]).add_objects({"objects": [plain, green, strict]})
    assert status.success_count == 3 and status.failure_count == 0
    by_admin = taxii.collection(world.admin, world.coll["dk"]).add_objects({"objects": [(cert := indicator())]})
    assert by_admin.success_count == 1

    expected_marking = {plain["id"]: Tlp.AMBER, green["id"]: Tlp.AMBER, strict["id"]: Tlp.AMBER_STRICT,
                        cert["id"]: Tlp.AMBER}
    for who in ("alpha", "boreal", "admin"):
        for coll in ("dk", "sector"):
            c = taxii.collection(world.members()[who], world.coll[coll])
            got = {o["id"]: o["object_marking_refs"] for o in c.get_objects()["objects"]}
            assert got == {i: [t.marking_id] for i, t in expected_marking.items()}, (who, coll)
    # Invisible to those outside the group, wherever they look.
    assert _visible_ids(taxii, world, "outsider", "sector") == set()
    assert _visible_ids(taxii, world, "outsider", "read_only") == set()
    outsider_sector = taxii.collection(world.outsider, world.coll["sector"])
    for oid in expected_marking:
        with pytest.raises(requests.HTTPError) as exc:
            outsider_sector.get_object(oid)
        assert exc.value.response is not None and exc.value.response.status_code == 404
    # Shared with the group, not merely hidden: a bank that joins the group sees them.
    with transaction(engine) as conn:
        accounts.add_group_member(conn, "DK banks", world.outsider.org_id, actor=world.admin.reader)
    refresh(engine, world.outsider)
    assert _visible_ids(taxii, world, "outsider", "sector") == set(expected_marking)


def test_writing_to_a_group_collection_needs_group_membership(world: World, http: httpx.Client, engine: Engine
                                                              ) -> None:
    with transaction(engine) as conn:
        cid = collections.create_collection(conn, title="DK drop", kind="group", group=world.dk_group,
                                            writers=[world.outsider.org_id], actor=world.admin.reader)["id"]
    r = http.post(f"/taxii2/api/collections/{cid}/objects/", json={"objects": [indicator()]},
                  headers={**bearer(world.outsider), "Content-Type": "application/taxii+json;version=2.1"})
    assert r.status_code == 403
    assert r.json()["http_status"] == "403" and "DK banks" in r.json()["description"]


def test_outbox_holds_only_its_owners_objects(world: World, taxii: Taxii, engine: Engine,
                                              settings: Settings) -> None:
    a1, a2, a3, b1 = indicator(), indicator(), indicator(), indicator()
    put(engine, settings, world.alpha, [a1], tlp="green")
    put(engine, settings, world.alpha, [a2], tlp="red", recipients=[world.outsider.org_id])
    put(engine, settings, world.alpha, [a3], tlp="amber+strict")
    put(engine, settings, world.boreal, [b1], tlp="green")
    assert _visible_ids(taxii, world, "alpha", "alpha_out") == {a1["id"], a2["id"], a3["id"]}
    assert _visible_ids(taxii, world, "admin", "alpha_out") == {a1["id"], a2["id"], a3["id"]}
    assert _visible_ids(taxii, world, "boreal", "alpha_out") == {a1["id"]}
    assert _visible_ids(taxii, world, "outsider", "alpha_out") == {a1["id"], a2["id"]}

    # The owner writes to its outbox; what it adds is its own and readable by the outbox's readers.
    status = taxii.collection(world.alpha, world.coll["alpha_out"]).add_objects({"objects": [(a4 := indicator())]})
    assert status.success_count == 1
    assert _visible_ids(taxii, world, "boreal", "alpha_out") == {a1["id"], a4["id"]}
    # CERT staff writing to alpha's outbox stores a CERT object, which is not alpha's.
    taxii.collection(world.admin, world.coll["alpha_out"]).add_objects({"objects": [(c1 := indicator())]})
    assert c1["id"] not in _visible_ids(taxii, world, "admin", "alpha_out")
    assert c1["id"] in _visible_ids(taxii, world, "admin", "sector")


def test_anonymous_submissions_show_the_instance_identity_to_others(world: World, taxii: Taxii, engine: Engine,
                                                                   settings: Settings) -> None:
    own_identity = "identity--0db95e69-f718-588d-a48c-789d5321a633"
    signed = indicator(created_by_ref=own_identity)
    unsigned = indicator()
    put(engine, settings, world.alpha, [signed, unsigned], tlp="amber", group="DK banks", anonymous=True)
    instance = settings.instance_identity_id

    def creators(who: str, coll: str) -> dict[str, str | None]:
        c = taxii.collection(world.members()[who], world.coll[coll])
        out = {o["id"]: o.get("created_by_ref") for o in c.get_objects()["objects"]}
        for oid, creator in out.items():
            (one,) = c.get_object(oid)["objects"]
            assert one.get("created_by_ref") == creator
        return out

    for coll in ("sector", "dk"):
        assert creators("boreal", coll) == {signed["id"]: instance, unsigned["id"]: instance}
        for who in ("alpha", "viewer", "admin"):
            assert creators(who, coll) == {signed["id"]: own_identity, unsigned["id"]: None}, (who, coll)


def test_an_outbox_does_not_reveal_its_owners_anonymous_submissions(world: World, taxii: Taxii, engine: Engine,
                                                                    settings: Settings) -> None:
    anon = indicator()
    put(engine, settings, world.alpha, [anon], tlp="green", anonymous=True)
    assert anon["id"] in _visible_ids(taxii, world, "boreal", "sector")  # shared, as the instance's
    assert anon["id"] in _visible_ids(taxii, world, "alpha", "alpha_out")  # the owner sees its own
    assert anon["id"] in _visible_ids(taxii, world, "admin", "alpha_out")  # and CERT staff
    assert anon["id"] not in _visible_ids(taxii, world, "boreal", "alpha_out")


def test_fraud_collection_holds_objects_with_fraud_observables_as_the_policy_allows(
        world: World, taxii: Taxii, engine: Engine, settings: Settings) -> None:
    with transaction(engine) as conn:
        world.coll["fraud"] = str(collections.create_collection(conn, title="Fraud", kind="fraud", read_all=True,
                                                                actor=world.admin.reader)["id"])
    mule = indicator(pattern="[x-bank-account:iban = 'NO93 8601 1117 947']", name="mule account")
    phone = indicator(pattern="[x-phone-number:value = '+46701740605']", name="vishing caller")
    bin_ = {"type": "x-payment-card", "spec_version": "2.1", "id": "x-payment-card--0f0e3c1a-6b7d-5c2e-9a41-3d5e6f7a8b9c",
            "bin": "454545"}
    c2 = indicator("198.51.100.77")  # not fraud
    put(engine, settings, world.alpha, [mule, phone, bin_, c2], tlp="green")
    secret = indicator(pattern="[x-bank-account:iban = 'DE89 3704 0044 0532 0130 00']", name="secret mule")
    put(engine, settings, world.alpha, [secret], tlp="amber", group="DK banks")
    old = indicator(pattern="[x-phone-number:value = '+4670 174 06 06']", name="revoked caller")
    put(engine, settings, world.boreal, [old], tlp="green")
    with transaction(engine) as conn:
        from nordcert.intel import service as intel
        intel.revoke(conn, world.boreal.reader, old["id"], settings)

    def seen(who: str) -> set[str]:
        return _visible_ids(taxii, world, who, "fraud")

    expected = {mule["id"], phone["id"], bin_["id"]}
    assert seen("boreal") == expected | {secret["id"]}  # boreal is in DK banks
    assert seen("outsider") == expected  # never the AMBER group object, never the C2 or the revoked one
    assert seen("alpha") == expected | {secret["id"]}
