"""Correlations, observables and sightings of an object, and the warninglist routes, over HTTP.

A correlation shows the other objects the reader may see that hold the same values; a sighting is
a STIX 2.1 sighting (§5.2) shared no wider than what it sights."""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from nordcert.accounts import service as accounts
from nordcert.clock import now_us
from nordcert.config import Settings
from nordcert.db import transaction
from nordcert.intel.validate import format_timestamp, timestamp_us
from nordcert.observables import warninglist_store
from nordcert.observables.warninglists import default_lists_dir
from nordcert.sharing.tlp import Tlp
from tests.factories import Member, indicator
from tests.observables.helpers import DAY_US, IBAN
from tests.observables.helpers import ago as _ago
from tests.observables.helpers import auth as _h
from tests.observables.helpers import fresh as _fresh
from tests.observables.helpers import submit as _submit


def _org(engine: Engine, m: Member) -> dict[str, Any]:
    with transaction(engine, write=False) as conn:
        return accounts.get_organisation(conn, m.org_id)


def _sight(http: httpx.Client, m: Member, sid: str, **body: Any) -> httpx.Response:
    return http.post(f"/api/v1/objects/{sid}/sightings", json=body, headers=_h(m))



# --- correlations ---------------------------------------------------------------------------------------


def test_correlations_show_other_objects_and_count_members(world: dict[str, Member], http: httpx.Client,
                                                           engine: Engine) -> None:
    alpha, boreal, outsider, fjord = (world[k] for k in ("alpha", "boreal", "outsider", "fjord"))
    x = _fresh(f"[ipv4-addr:value = '185.220.101.7'] OR [domain-name:value = 'evil.example'] OR "
               f"[x-bank-account:iban = '{IBAN}'] OR [url:value = 'https://lonely.example/']", name="X")
    own_other = _fresh(f"[x-bank-account:iban = '{IBAN}']", name="alpha's other")
    hidden_creator = _fresh("[ipv4-addr:value = '185.220.101.7']", name="anonymous report")
    named = _fresh("[domain-name:value = 'evil.example']", name="boreal's domain")
    counted = _fresh("[ipv4-addr:value = '185.220.101.7']", name="SE group only")
    secret = _fresh(f"[x-bank-account:iban = '{IBAN}'] OR [domain-name:value = 'evil.example']", name="red")
    _submit(http, alpha, x, own_other, tlp="green")
    _submit(http, boreal, hidden_creator, tlp="amber", anonymous="true")
    _submit(http, boreal, named, tlp="green")
    _submit(http, outsider, counted, tlp="amber", group="SE banks")
    _submit(http, fjord, secret, tlp="red")

    r = http.get(f"/api/v1/objects/{x['id']}/correlations", headers=_h(alpha))
    assert r.status_code == 200
    body = r.json()
    assert body["id"] == x["id"] and body["correlated"] == 3
    got = [(o["kind"], o["value"], [(m["name"], m["creator"]) for m in o["objects"]], o["reporting_members"],
            o["other_members"], o["reported_by_you"]) for o in body["observables"]]
    alpha_short, boreal_short = _org(engine, alpha)["short_name"], _org(engine, boreal)["short_name"]
    assert got == [
        ("ipv4", "185.220.101.7", [("anonymous report", "anonymous member")], 3, 1, True),
        ("domain", "evil.example", [("boreal's domain", boreal_short)], 2, 0, True),
        ("iban", IBAN, [("alpha's other", alpha_short)], 1, 0, True),
        ("url", "https://lonely.example/", [], 1, 0, True),
    ]
    assert all(o["warninglists"] == [] for o in body["observables"])
    for hidden in (counted["id"], secret["id"], _org(engine, outsider)["short_name"], _org(engine, fjord)["short_name"]):
        assert hidden not in r.text

    # The anonymous creator sees its own name; CERT staff see every creator.
    as_boreal = http.get(f"/api/v1/objects/{x['id']}/correlations", headers=_h(boreal)).json()
    assert as_boreal["observables"][0]["objects"][0]["creator"] == boreal_short
    as_admin = http.get(f"/api/v1/objects/{x['id']}/correlations", headers=_h(world["admin"])).json()
    by_value = {o["value"]: o for o in as_admin["observables"]}
    assert {m["name"] for m in by_value["185.220.101.7"]["objects"]} == {"anonymous report", "SE group only"}
    assert {m["name"] for m in by_value[IBAN]["objects"]} == {"alpha's other", "red"}
    assert by_value[IBAN]["reporting_members"] == 2 and by_value[IBAN]["reported_by_you"] is False


def test_correlations_of_an_object_the_reader_may_not_see_are_not_found(world: dict[str, Member],
                                                                        http: httpx.Client) -> None:
    secret = _fresh("[ipv4-addr:value = '185.220.101.8']")
    _submit(http, world["fjord"], secret, tlp="red")
    for path in ("correlations", "observables", "sightings"):
        r = http.get(f"/api/v1/objects/{secret['id']}/{path}", headers=_h(world["alpha"]))
        assert r.status_code == 404
        assert r.json() == {"error": "not_found", "message": f"no object {secret['id']}", "details": []}
        missing = indicator()["id"]
        r = http.get(f"/api/v1/objects/{missing}/{path}", headers=_h(world["alpha"]))
        assert r.json() == {"error": "not_found", "message": f"no object {missing}", "details": []}
        assert http.get(f"/api/v1/objects/{secret['id']}/{path}").status_code == 401
    assert http.get(f"/api/v1/objects/{secret['id']}/correlations", headers=_h(world["fjord"])).status_code == 200


def test_observables_of_an_object(world: dict[str, Member], http: httpx.Client, engine: Engine) -> None:
    with transaction(engine) as conn:
        warninglist_store.load(conn, [default_lists_dir()])
    ind = _fresh("[ipv4-addr:value = '10.1.2.3'] OR [x-bank-account:iban = 'NO93 8601 1117 947'] OR "
                 "[x-bank-account:iban = 'NO93 8601 1117 948'] OR [domain-name:value != 'good.example']")
    _submit(http, world["alpha"], ind, tlp="green")
    r = http.get(f"/api/v1/objects/{ind['id']}/observables", headers=_h(world["boreal"]))
    assert r.status_code == 200
    assert sorted(r.json(), key=lambda o: o["kind"]) == [
        {"kind": "iban", "value": IBAN, "warninglists": []},
        {"kind": "ipv4", "value": "10.1.2.3", "warninglists": ["rfc1918", "rfc5735"]},
    ]
    malware = {"type": "malware", "spec_version": "2.1", "id": indicator()["id"].replace("indicator", "malware"),
               "created": _ago(1), "modified": _ago(1), "name": "Nordic banker", "is_family": True}
    _submit(http, world["alpha"], malware, tlp="green")
    assert http.get(f"/api/v1/objects/{malware['id']}/observables", headers=_h(world["boreal"])).json() == []


# --- recording sightings -------------------------------------------------------------------------------


def test_a_sighting_is_a_stix_sighting_by_the_organisation(world: dict[str, Member], http: httpx.Client,
                                                           engine: Engine, settings: Settings) -> None:
    ind = _fresh("[ipv4-addr:value = '185.220.101.9']")
    _submit(http, world["alpha"], ind, tlp="green")
    before = now_us()
    r = _sight(http, world["boreal"], ind["id"], count=3, note="seen in our proxy logs")
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["tlp"] == "amber"  # the instance's default TLP, never looser than the object's
    s = body["sighting"]
    identity = _org(engine, world["boreal"])["identity_id"]
    assert {k: s[k] for k in ("type", "spec_version", "sighting_of_ref", "count", "where_sighted_refs",
                              "created_by_ref", "description")} == {
        "type": "sighting", "spec_version": "2.1", "sighting_of_ref": ind["id"], "count": 3,
        "where_sighted_refs": [identity], "created_by_ref": identity, "description": "seen in our proxy logs"}
    assert s["id"].startswith("sighting--") and s["first_seen"] == s["last_seen"]
    assert before - 1000 <= timestamp_us(s["first_seen"]) <= now_us()
    stored = http.get(f"/api/v1/objects/{s['id']}", headers=_h(world["alpha"])).json()
    assert stored["object"]["sighting_of_ref"] == ind["id"] and stored["meta"]["tlp"] == "amber"

    anonymous = _sight(http, world["boreal"], ind["id"], anonymous=True, tlp="green").json()
    assert anonymous["tlp"] == "green"
    assert anonymous["sighting"]["where_sighted_refs"] == [settings.instance_identity_id]
    assert anonymous["sighting"]["created_by_ref"] == settings.instance_identity_id
    seen_by_alpha = http.get(f"/api/v1/objects/{anonymous['sighting']['id']}", headers=_h(world["alpha"])).json()
    assert seen_by_alpha["meta"]["creator"] == "anonymous member"

    day3 = (now_us() - 3 * DAY_US) // 1000 * 1000
    timed = _sight(http, world["alpha"], ind["id"], first_seen=format_timestamp(day3),
                   last_seen=format_timestamp(day3 + DAY_US)).json()["sighting"]
    assert timestamp_us(timed["first_seen"]) == day3 and timestamp_us(timed["last_seen"]) == day3 + DAY_US


def test_who_may_record_a_sighting_and_of_what(world: dict[str, Member], http: httpx.Client) -> None:
    ind = _fresh("[ipv4-addr:value = '185.220.101.10']")
    secret = _fresh("[ipv4-addr:value = '185.220.101.11']")
    _submit(http, world["alpha"], ind, tlp="green")
    _submit(http, world["fjord"], secret, tlp="red")
    as_reader = _sight(http, world["reader"], ind["id"])
    assert as_reader.status_code == 403
    assert as_reader.json() == {"error": "forbidden", "details": [],
                                "message": "role reader may not record sightings (analyst or cert_admin needed)"}
    hidden = _sight(http, world["alpha"], secret["id"])
    assert hidden.status_code == 404
    assert hidden.json() == {"error": "not_found", "message": f"no object {secret['id']}", "details": []}
    backwards = _sight(http, world["alpha"], ind["id"], first_seen=_ago(1), last_seen=_ago(2))
    assert backwards.status_code == 422
    assert backwards.json()["message"] == "last_seen must not be before first_seen"
    assert _sight(http, world["alpha"], ind["id"], first_seen="yesterday").status_code == 422
    assert _sight(http, world["alpha"], ind["id"], count=-1).status_code == 422
    future = _sight(http, world["alpha"], ind["id"], first_seen=format_timestamp(now_us() + DAY_US))
    assert (future.status_code, future.json()["message"]) == (422, "first_seen is in the future")
    assert http.post(f"/api/v1/objects/{ind['id']}/sightings", json={}).status_code == 401
    sighting_id = _sight(http, world["alpha"], ind["id"]).json()["sighting"]["id"]
    of_sighting = _sight(http, world["alpha"], sighting_id)
    assert (of_sighting.status_code, of_sighting.json()["message"]) == (422, "a sighting cannot be sighted")
    # nothing was recorded by the refused requests
    assert http.get(f"/api/v1/objects/{ind['id']}/sightings", headers=_h(world["alpha"])).json()["sightings"] == 1


@pytest.mark.parametrize(
    ("sharing", "asked", "expected"),
    [({"tlp": "amber"}, "green", "amber"), ({"tlp": "green"}, "clear", "green"), ({"tlp": "clear"}, "clear", "clear"),
     ({"tlp": "clear"}, "red", "red"), ({"tlp": "amber+strict"}, None, "amber+strict")],
)
def test_a_sighting_is_never_shared_wider_than_its_object(world: dict[str, Member], http: httpx.Client,
                                                          sharing: dict[str, str], asked: str | None,
                                                          expected: str) -> None:
    ind = _fresh("[ipv4-addr:value = '185.220.101.12']")
    _submit(http, world["alpha"], ind, **sharing)
    r = _sight(http, world["alpha"], ind["id"], **({"tlp": asked} if asked else {}))
    assert r.status_code == 201
    assert r.json()["tlp"] == expected
    assert Tlp.parse(expected) >= Tlp.parse(sharing["tlp"])


def test_a_sighting_of_a_group_object_is_shared_with_that_group_only(world: dict[str, Member],
                                                                    http: httpx.Client) -> None:
    ind = _fresh("[domain-name:value = 'dk-only.example']")
    _submit(http, world["alpha"], ind, tlp="amber", group="DK banks")
    r = _sight(http, world["boreal"], ind["id"], tlp="green")
    assert (r.status_code, r.json()["tlp"]) == (201, "amber")
    sid = r.json()["sighting"]["id"]
    seen = http.get(f"/api/v1/objects/{sid}", headers=_h(world["alpha"]))
    assert seen.status_code == 200 and seen.json()["meta"]["sharing_group"] == "DK banks"
    assert http.get(f"/api/v1/objects/{sid}", headers=_h(world["outsider"])).status_code == 404
    listed = http.get("/api/v1/objects", params={"type": "sighting"}, headers=_h(world["outsider"])).json()
    assert listed["objects"] == []
    # CERT staff outside the group may sight it; the sighting stays in the group.
    by_admin = _sight(http, world["admin"], ind["id"])
    assert by_admin.json()["tlp"] == "amber"
    assert http.get(f"/api/v1/objects/{by_admin.json()['sighting']['id']}",
                    headers=_h(world["fjord"])).status_code == 404
    assert http.get(f"/api/v1/objects/{ind['id']}/sightings", headers=_h(world["boreal"])).json()["sightings"] == 2


# --- sighting summaries --------------------------------------------------------------------------------


def test_sighting_summary_counts_members_and_shows_a_new_trend(world: dict[str, Member], http: httpx.Client,
                                                               engine: Engine) -> None:
    ind = _fresh("[ipv4-addr:value = '185.220.101.13']")
    _submit(http, world["alpha"], ind, tlp="green")
    shared = [_sight(http, world["boreal"], ind["id"], count=3, tlp="green"),
              _sight(http, world["boreal"], ind["id"], count=2, tlp="green"),
              _sight(http, world["outsider"], ind["id"], count=4, tlp="green", anonymous=True),
              _sight(http, world["alpha"], ind["id"], count=1, tlp="green")]
    assert [r.status_code for r in shared] == [201] * 4
    per_day: Counter[str] = Counter()
    for r in shared:
        per_day[r.json()["sighting"]["last_seen"][:10]] += r.json()["sighting"]["count"]
    # A RED sighting is shared with the object's creator only: boreal neither sees nor counts it.
    assert _sight(http, world["fjord"], ind["id"], count=50, tlp="red").status_code == 201
    # A sighting submitted as STIX to the SE group: counted as a member elsewhere, never shown.
    grouped = {"type": "sighting", "spec_version": "2.1", "id": indicator()["id"].replace("indicator", "sighting"),
               "created": _ago(0.1), "modified": _ago(0.1), "sighting_of_ref": ind["id"], "count": 7}
    _submit(http, world["fjord"], grouped, tlp="amber", group="SE banks")

    as_boreal = http.get(f"/api/v1/objects/{ind['id']}/sightings", headers=_h(world["boreal"])).json()
    days = as_boreal.pop("trend")
    recent = as_boreal.pop("recent")
    first_seen, last_seen = as_boreal.pop("first_seen"), as_boreal.pop("last_seen")
    assert as_boreal == {"id": ind["id"], "count": 10, "sightings": 4, "members": 4, "members_last_7_days": 4,
                         "summary": "sighted by 4 members in the last 7 days"}
    assert first_seen <= last_seen
    assert days["direction"] == "new"
    assert len(days["days"]) == 14 and sum(d["count"] for d in days["days"]) == 10
    assert {d["date"]: d["count"] for d in days["days"] if d["count"]} == per_day  # the days they were recorded
    assert days["days"][-1]["date"] >= max(per_day)
    short = {k: _org(engine, world[k])["short_name"] for k in ("alpha", "boreal", "outsider", "fjord")}
    assert sorted((x["sighted_by"], x["count"], x["tlp"]) for x in recent) == sorted([
        (short["boreal"], 3, "green"), (short["boreal"], 2, "green"), ("anonymous member", 4, "green"),
        (short["alpha"], 1, "green")])
    text = http.get(f"/api/v1/objects/{ind['id']}/sightings", headers=_h(world["boreal"])).text
    assert short["fjord"] not in text and short["outsider"] not in text and grouped["id"] not in text

    as_alpha = http.get(f"/api/v1/objects/{ind['id']}/sightings", headers=_h(world["alpha"])).json()
    assert (as_alpha["count"], as_alpha["sightings"], as_alpha["members"]) == (60, 5, 4)
    assert (short["fjord"], 50, "red") in {(x["sighted_by"], x["count"], x["tlp"]) for x in as_alpha["recent"]}
    as_outsider = http.get(f"/api/v1/objects/{ind['id']}/sightings", headers=_h(world["outsider"])).json()
    assert short["outsider"] in {x["sighted_by"] for x in as_outsider["recent"]}  # its own, anonymous or not


def test_sighting_summary_of_older_sightings(world: dict[str, Member], http: httpx.Client) -> None:
    ind = _fresh("[ipv4-addr:value = '185.220.101.14']")
    _submit(http, world["alpha"], ind, tlp="green")
    empty = http.get(f"/api/v1/objects/{ind['id']}/sightings", headers=_h(world["boreal"])).json()
    assert (empty["count"], empty["first_seen"], empty["last_seen"], empty["trend"]["direction"], empty["recent"]) == (
        0, None, None, "none", [])
    assert empty["summary"] == "sighted by 0 members in the last 7 days"
    for days, count in ((10, 5), (9, 5), (2, 1)):
        r = _sight(http, world["boreal"], ind["id"], count=count, tlp="green", first_seen=_ago(days + 0.5),
                   last_seen=_ago(days))
        assert r.status_code == 201
    summary = http.get(f"/api/v1/objects/{ind['id']}/sightings", headers=_h(world["alpha"])).json()
    assert (summary["count"], summary["members"], summary["members_last_7_days"]) == (11, 1, 1)
    assert summary["summary"] == "sighted by 1 member in the last 7 days"
    assert summary["trend"]["direction"] == "falling"  # 1 in the last 7 days against 10 in the 7 before
    assert [x["count"] for x in summary["recent"]] == [1, 5, 5]  # most recent first
    only_old = _fresh("[ipv4-addr:value = '185.220.101.15']")
    _submit(http, world["alpha"], only_old, tlp="green")
    _sight(http, world["boreal"], only_old["id"], first_seen=_ago(9), last_seen=_ago(8))
    old = http.get(f"/api/v1/objects/{only_old['id']}/sightings", headers=_h(world["alpha"])).json()
    assert (old["members"], old["members_last_7_days"], old["trend"]["direction"]) == (1, 0, "falling")


# --- warninglist routes --------------------------------------------------------------------------------


def test_warninglist_routes(world: dict[str, Member], http: httpx.Client, engine: Engine) -> None:
    analyst, admin = world["alpha"], world["admin"]
    assert http.get("/api/v1/warninglists", headers=_h(analyst)).json() == []
    with transaction(engine) as conn:
        warninglist_store.load(conn, [default_lists_dir()])
    listed = http.get("/api/v1/warninglists", headers=_h(analyst)).json()
    assert len(listed) == 46 and [w["name"] for w in listed] == sorted(w["name"] for w in listed)
    rfc1918 = next(w for w in listed if w["name"] == "rfc1918")
    assert {k: v for k, v in rfc1918.items() if k != "description"} == {
        "name": "rfc1918", "version": "5", "type": "cidr", "kinds": ["cidr", "ipv4", "ipv6"], "enabled": True,
        "entries": 3}
    assert "private network" in rfc1918["description"]

    def flags() -> list[str]:
        r = http.get("/api/v1/lookup", params={"value": "10.1.2.3"}, headers=_h(analyst))
        return r.json()["results"][0]["warninglists"]  # type: ignore[no-any-return]

    assert flags() == ["rfc1918", "rfc5735"]
    refused = http.post("/api/v1/warninglists/rfc1918/disable", headers=_h(analyst))
    assert refused.status_code == 403
    assert refused.json() == {"error": "forbidden", "message": "this needs the cert_admin role", "details": []}
    assert http.post("/api/v1/warninglists/rfc1918/disable", headers=_h(world["reader"])).status_code == 403
    assert http.post("/api/v1/warninglists/rfc1918/disable").status_code == 401
    assert flags() == ["rfc1918", "rfc5735"]

    done = http.post("/api/v1/warninglists/rfc1918/disable", headers=_h(admin))
    assert (done.status_code, done.content) == (204, b"")
    assert flags() == ["rfc5735"]
    by_name = {w["name"]: w["enabled"] for w in http.get("/api/v1/warninglists", headers=_h(analyst)).json()}
    assert by_name["rfc1918"] is False and by_name["rfc5735"] is True
    assert http.post("/api/v1/warninglists/rfc1918/enable", headers=_h(analyst)).status_code == 403
    assert http.post("/api/v1/warninglists/rfc1918/enable", headers=_h(admin)).status_code == 204
    assert flags() == ["rfc1918", "rfc5735"]
    missing = http.post("/api/v1/warninglists/no-such-list/enable", headers=_h(admin))
    assert missing.status_code == 404
    assert missing.json() == {"error": "not_found", "message": "no warninglist 'no-such-list'", "details": []}
    assert http.get("/api/v1/warninglists").status_code == 401
