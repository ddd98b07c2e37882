"""The TAXII 2.1 server over loopback with the OASIS taxii2-client: every endpoint, and the filters.

Discovery, API root, collections, objects (get, add with its status, one object, delete,
versions), manifest; ``added_after``, ``limit``/``next``, ``match[id|type|version|spec_version]``
and the ``X-TAXII-Date-Added-First/Last`` headers, on the real store.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import requests
from sqlalchemy import Engine
from taxii2client.v21 import Status

from nordcert.config import Settings
from nordcert.intel.validate import timestamp_us
from nordcert.sharing.tlp import Tlp
from tests.factories import indicator, make_member, stix_id
from tests.taxii.conftest import TAXII, Taxii, World, bearer, ids_of, put

STIX = "application/stix+json;version=2.1"


def _status_code(exc: pytest.ExceptionInfo[requests.HTTPError]) -> int:
    assert exc.value.response is not None
    return exc.value.response.status_code


# --- discovery, API root, collections -------------------------------------------------------------


def test_discovery_and_api_root(world: World, taxii: Taxii, settings: Settings) -> None:
    server = taxii.server(world.outsider)
    assert server.title == f"{settings.instance_name} TAXII 2.1 server"
    assert server.description
    assert [root.url for root in server.api_roots] == [taxii.api_url]
    assert server.default is server.api_roots[0]
    root = server.default
    assert root.title == settings.instance_name
    assert root.versions == [TAXII]
    assert root.max_content_length == settings.max_request_bytes
    assert root.custom_properties == {}


def test_bearer_tokens_work_as_well_as_basic(world: World, http: httpx.Client) -> None:
    r = http.get("/taxii2/", headers=bearer(world.boreal))
    assert r.status_code == 200
    assert r.headers["content-type"] == TAXII
    assert r.json()["api_roots"] == ["/taxii2/api/"] and r.json()["default"] == "/taxii2/api/"
    listed = http.get("/taxii2/api/collections/", headers=bearer(world.boreal))
    assert listed.status_code == 200 and listed.headers["content-type"] == TAXII
    assert world.coll["hidden"] in {c["id"] for c in listed.json()["collections"]}


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("alpha", {"Alpha outbox": "rw", "DK banks": "rw", "Read only": "r", "Sector": "rw", "Write only": "w"}),
        ("boreal", {"Alpha outbox": "r", "DK banks": "rw", "Hidden": "r", "Read only": "r", "Sector": "rw",
                    "Write only": "w"}),
        ("outsider", {"Alpha outbox": "r", "Read only": "r", "SE banks": "rw", "Sector": "rw", "Write only": "w"}),
        # Rights belong to the organisation: alpha's reader-role user is listed what alpha is.
        ("viewer", {"Alpha outbox": "rw", "DK banks": "rw", "Read only": "r", "Sector": "rw", "Write only": "w"}),
        ("admin", {t: "rw" for t in ("Alpha outbox", "DK banks", "Hidden", "Read only", "SE banks", "Sector",
                                     "Write only")}),
    ],
)
def test_collections_lists_only_what_the_reader_may_read_or_write(
        world: World, taxii: Taxii, who: str, expected: dict[str, str]) -> None:
    root = taxii.root(world.members()[who])
    listed = root.collections
    assert [c.title for c in listed] == sorted(expected)  # ordered by title
    for c in listed:
        assert ("r" if c.can_read else "") + ("w" if c.can_write else "") == expected[c.title], c.title
        assert c.media_types == [STIX]
        assert c.url == f"{taxii.api_url}collections/{c.id}/"
    by_title = {c.title: c.id for c in listed}
    assert set(by_title.values()) <= set(world.coll.values())


def test_no_collections_is_an_empty_resource(engine: Engine, taxii: Taxii, http: httpx.Client) -> None:
    lonely = make_member(engine)  # no collection exists yet
    r = http.get("/taxii2/api/collections/", headers=bearer(lonely))
    assert r.status_code == 200 and r.headers["content-type"] == TAXII and r.json() == {}
    assert taxii.root(lonely).collections == []


def test_one_collection(world: World, taxii: Taxii) -> None:
    coll = taxii.collection(world.boreal, world.coll["alpha_out"])
    assert coll.id == world.coll["alpha_out"]
    assert coll.title == "Alpha outbox"
    assert coll.description == ""
    assert (coll.can_read, coll.can_write) == (True, False)
    assert coll.media_types == [STIX]
    assert coll._raw == {"id": world.coll["alpha_out"], "title": "Alpha outbox", "description": "",
                         "can_read": True, "can_write": False, "media_types": [STIX]}


# --- objects: add, status, get, one object, versions, manifest, delete -----------------------------


def test_add_objects_status_get_versions_manifest_and_delete(world: World, taxii: Taxii) -> None:
    coll = taxii.collection(world.alpha, world.coll["sector"])
    v1 = indicator("192.0.2.10", modified="2026-02-01T00:00:00.000Z")
    other = indicator("192.0.2.11")
    status = coll.add_objects({"objects": [v1, other]})
    assert isinstance(status, Status)
    assert status.status == "complete"
    assert (status.total_count, status.success_count, status.failure_count, status.pending_count) == (2, 2, 0, 0)
    assert status.successes == [{"id": v1["id"], "version": v1["modified"]},
                                {"id": other["id"], "version": other["modified"]}]
    assert status.failures == [] and status.pendings == []
    assert status.url == f"{taxii.api_url}status/{status.id}/"

    # GET /taxii2/api/status/{id}/: the same resource, through ApiRoot and through Status itself.
    again = taxii.root(world.alpha).get_status(status.id)
    assert again._raw == status._raw
    fresh = Status(status.url, user=world.alpha.email, password=world.alpha.token)
    try:
        assert fresh.status == "complete" and fresh.successes == status.successes and fresh
    finally:
        fresh.close()

    v2 = {**v1, "modified": "2026-03-01T00:00:00.000Z", "name": "renamed"}
    status2 = coll.add_objects({"objects": [v2]})
    assert status2.success_count == 1 and status2.successes == [{"id": v1["id"], "version": v2["modified"]}]

    # Get objects: the latest version of each, oldest addition first, with the TLP the store gave them.
    env = coll.get_objects()
    assert env["more"] is False and "next" not in env
    assert ids_of(env) == [other["id"], v1["id"]]
    got = {o["id"]: o for o in env["objects"]}
    assert got[v1["id"]]["name"] == "renamed" and got[v1["id"]]["modified"] == v2["modified"]
    assert got[v1["id"]]["object_marking_refs"] == [Tlp.AMBER.marking_id]  # default_tlp, no group: every member
    assert {k: v for k, v in got[other["id"]].items() if k != "object_marking_refs"} == other

    # Another member reads what alpha added.
    peer = taxii.collection(world.outsider, world.coll["sector"])
    assert ids_of(peer.get_objects()) == [other["id"], v1["id"]]

    # One object: its latest version; every version on request.
    one = peer.get_object(v1["id"])
    assert one["more"] is False and [o["modified"] for o in one["objects"]] == [v2["modified"]]
    every = peer.get_object(v1["id"], version="all")
    assert [o["modified"] for o in every["objects"]] == [v1["modified"], v2["modified"]]
    assert [o["name"] for o in every["objects"]] == [v1["name"], "renamed"]

    # Versions.
    assert peer.object_versions(v1["id"]) == {"more": False, "versions": [v1["modified"], v2["modified"]]}

    # Manifest: one record per object (latest version), in date_added order.
    manifest = peer.get_manifest()
    assert manifest["more"] is False
    records = manifest["objects"]
    assert [(r["id"], r["version"], r["media_type"]) for r in records] == [
        (other["id"], other["modified"], STIX), (v1["id"], v2["modified"], STIX)]
    assert timestamp_us(records[0]["date_added"]) < timestamp_us(records[1]["date_added"])
    assert set(records[0]) == {"id", "date_added", "version", "media_type"}

    # Delete: every version goes; the object is then 404 everywhere.
    coll.delete_object(v1["id"])
    for endpoint in (peer.get_object, peer.object_versions):
        with pytest.raises(requests.HTTPError) as exc:
            endpoint(v1["id"])
        assert _status_code(exc) == 404
    assert ids_of(peer.get_objects(version="all")) == [other["id"]]
    assert [r["id"] for r in peer.get_manifest()["objects"]] == [other["id"]]
    with pytest.raises(requests.HTTPError) as exc:
        coll.delete_object(v1["id"])
    assert _status_code(exc) == 404


def test_only_the_creator_or_cert_staff_delete(world: World, taxii: Taxii, engine: Engine,
                                               settings: Settings) -> None:
    a, b = indicator(), indicator()
    put(engine, settings, world.alpha, [a, b], tlp="green")
    with pytest.raises(requests.HTTPError) as exc:
        taxii.collection(world.boreal, world.coll["sector"]).delete_object(a["id"])
    assert _status_code(exc) == 403
    taxii.collection(world.admin, world.coll["sector"]).delete_object(a["id"])
    assert ids_of(taxii.collection(world.boreal, world.coll["sector"]).get_objects()) == [b["id"]]


def test_delete_one_version_keeps_the_others(world: World, taxii: Taxii, engine: Engine,
                                             settings: Settings) -> None:
    v1 = indicator(modified="2026-02-01T00:00:00.000Z")
    v2 = {**v1, "modified": "2026-03-01T00:00:00.000Z"}
    v3 = {**v1, "modified": "2026-04-01T00:00:00.000Z"}
    put(engine, settings, world.alpha, [v1, v2, v3], tlp="green")
    coll = taxii.collection(world.alpha, world.coll["sector"])
    coll.delete_object(v1["id"], version=v2["modified"])
    assert coll.object_versions(v1["id"])["versions"] == [v1["modified"], v3["modified"]]
    coll.delete_object(v1["id"], version="first")
    assert coll.object_versions(v1["id"])["versions"] == [v3["modified"]]
    assert [o["modified"] for o in coll.get_objects()["objects"]] == [v3["modified"]]


def test_delete_with_match_version_last_deletes_only_the_latest(world: World, taxii: Taxii, engine: Engine,
                                                                settings: Settings) -> None:
    v1 = indicator(modified="2026-02-01T00:00:00.000Z")
    v2 = {**v1, "modified": "2026-03-01T00:00:00.000Z"}
    put(engine, settings, world.alpha, [v1, v2], tlp="green")
    coll = taxii.collection(world.alpha, world.coll["sector"])
    coll.delete_object(v1["id"], version="last")
    assert coll.object_versions(v1["id"])["versions"] == [v1["modified"]]
    # The remaining version is the latest again.
    assert [o["modified"] for o in coll.get_objects()["objects"]] == [v1["modified"]]


# --- filters ----------------------------------------------------------------------------------------


@pytest.fixture
def catalogue(world: World, engine: Engine, settings: Settings) -> dict[str, dict[str, Any]]:
    """Six rows in one batch (date_added in this order): three versions of i1, i2, a malware, an SCO."""
    i1v1 = indicator("203.0.113.1", modified="2026-01-01T00:00:00.000Z")
    i1v2 = {**i1v1, "modified": "2026-02-01T00:00:00.000Z", "name": "second"}
    i1v3 = {**i1v1, "modified": "2026-03-01T00:00:00.000Z", "name": "third"}
    i2 = indicator("203.0.113.2")
    m1 = {"type": "malware", "spec_version": "2.1", "id": stix_id("malware"), "created": "2026-01-05T00:00:00.000Z",
          "modified": "2026-01-05T00:00:00.000Z", "name": "Nordic banker", "is_family": True}
    ip = {"type": "ipv4-addr", "spec_version": "2.1", "id": stix_id("ipv4-addr"), "value": "203.0.113.3"}
    objs = {"i1v1": i1v1, "i2": i2, "m1": m1, "i1v2": i1v2, "ip": ip, "i1v3": i1v3}
    put(engine, settings, world.alpha, list(objs.values()), tlp="green")
    return objs


def _rows(env: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(o["id"], o.get("modified")) for o in env.get("objects", [])]


def test_match_version_first_last_all_timestamp_and_combinations(world: World, taxii: Taxii,
                                                                 catalogue: dict[str, dict[str, Any]]) -> None:
    coll = taxii.collection(world.outsider, world.coll["sector"])
    c = catalogue

    def rows(*names: str) -> list[tuple[str, str | None]]:
        return [(c[n]["id"], c[n].get("modified")) for n in names]

    assert _rows(coll.get_objects()) == rows("i2", "m1", "ip", "i1v3")
    assert _rows(coll.get_objects(version="last")) == rows("i2", "m1", "ip", "i1v3")
    assert _rows(coll.get_objects(version="first")) == rows("i1v1", "i2", "m1", "ip")
    assert _rows(coll.get_objects(version="all")) == rows("i1v1", "i2", "m1", "i1v2", "ip", "i1v3")
    assert _rows(coll.get_objects(version="2026-02-01T00:00:00.000Z")) == rows("i1v2")
    assert _rows(coll.get_objects(version="2026-02-01T00:00:00Z")) == rows("i1v2")  # same instant
    assert _rows(coll.get_objects(version="2026-01-01T00:00:00.000Z")) == rows("i1v1", "i2")
    assert _rows(coll.get_objects(version=["first", "last"])) == rows("i1v1", "i2", "m1", "ip", "i1v3")
    assert _rows(coll.get_objects(version=["2026-02-01T00:00:00.000Z", "last"])) == rows(
        "i2", "m1", "i1v2", "ip", "i1v3")
    assert _rows(coll.get_objects(version=["first", "all"])) == rows("i1v1", "i2", "m1", "i1v2", "ip", "i1v3")
    assert _rows(coll.get_objects(version="1999-01-01T00:00:00Z")) == []
    # The same filters on one object, its versions and the manifest.
    i1 = c["i1v1"]["id"]
    assert _rows(coll.get_object(i1, version=["first", "last"])) == rows("i1v1", "i1v3")
    assert _rows(coll.get_object(i1, version="2026-02-01T00:00:00.000Z")) == rows("i1v2")
    assert [(r["id"], r["version"]) for r in coll.get_manifest(version="first")["objects"]][:1] == rows("i1v1")
    assert [r["version"] for r in coll.get_manifest(id=i1, version="all")["objects"]] == [
        "2026-01-01T00:00:00.000Z", "2026-02-01T00:00:00.000Z", "2026-03-01T00:00:00.000Z"]


def test_match_id_type_and_spec_version(world: World, taxii: Taxii, catalogue: dict[str, dict[str, Any]]) -> None:
    coll = taxii.collection(world.boreal, world.coll["sector"])
    c = catalogue
    i1, i2, m1, ip = c["i1v1"]["id"], c["i2"]["id"], c["m1"]["id"], c["ip"]["id"]
    assert ids_of(coll.get_objects(id=[i1, m1])) == [m1, i1]  # match[id]=a,b
    assert ids_of(coll.get_objects(id=[i1, m1, ip, stix_id("indicator")])) == [m1, ip, i1]
    assert ids_of(coll.get_objects(id=i1, version="all")) == [i1, i1, i1]
    assert ids_of(coll.get_objects(type="malware")) == [m1]
    assert ids_of(coll.get_objects(type=["malware", "ipv4-addr"])) == [m1, ip]
    assert ids_of(coll.get_objects(type="indicator", version="all")) == [i1, i2, i1, i1]
    assert ids_of(coll.get_objects(type="indicator", id=[m1, i2])) == [i2]
    assert ids_of(coll.get_objects(spec_version="2.1")) == [i2, m1, ip, i1]
    assert ids_of(coll.get_objects(spec_version=["2.0", "2.1"])) == [i2, m1, ip, i1]
    empty = coll.get_objects(spec_version="2.0")
    assert empty == {"more": False}  # no objects: the envelope has no 'objects'
    assert coll.get_manifest(type="vulnerability") == {"more": False}
    assert [r["id"] for r in coll.get_manifest(type=["ipv4-addr", "malware"])["objects"]] == [m1, ip]


def test_added_after_limit_next_and_date_added_headers(world: World, http: httpx.Client, taxii: Taxii,
                                                       catalogue: dict[str, dict[str, Any]]) -> None:
    coll = taxii.collection(world.boreal, world.coll["sector"])
    cid = world.coll["sector"]
    everything = coll.get_manifest(version="all")["objects"]
    assert len(everything) == 6
    added = [r["date_added"] for r in everything]
    instants = [timestamp_us(a) for a in added]  # precision varies (.123Z, .123456Z): compare instants
    assert instants == sorted(instants) and len(set(instants)) == 6  # strictly increasing

    # added_after: strictly after the given instant.
    after = coll.get_manifest(version="all", added_after=added[2])["objects"]
    assert after == everything[3:]
    assert ids_of(coll.get_objects(version="all", added_after=added[2])) == [r["id"] for r in everything[3:]]
    assert coll.get_objects(added_after=added[-1]) == {"more": False}

    # limit and next: pages of two, 'more' and 'next' until the end.
    pages, nxt = [], None
    while True:
        env = coll.get_objects(version="all", limit=2, **({"next": nxt} if nxt else {}))
        pages.append(env)
        nxt = env.get("next")
        if not env["more"]:
            assert nxt is None
            break
        assert isinstance(nxt, str) and nxt
    assert [len(p["objects"]) for p in pages] == [2, 2, 2]
    assert [p["more"] for p in pages] == [True, True, False]
    assert [i for p in pages for i in ids_of(p)] == [r["id"] for r in everything]
    # next and added_after combine; the manifest and versions page the same way.
    m = coll.get_manifest(version="all", limit=4)
    assert m["more"] is True and m["objects"] == everything[:4]
    rest = coll.get_manifest(version="all", limit=4, next=m["next"])
    assert rest == {"more": False, "objects": everything[4:]}
    assert coll.get_manifest(version="all", limit=1, next=m["next"], added_after=added[4])["objects"] == [
        everything[5]]
    i1 = catalogue["i1v1"]["id"]
    v = coll.object_versions(i1, limit=2)
    assert v["more"] is True and v["versions"] == ["2026-01-01T00:00:00.000Z", "2026-02-01T00:00:00.000Z"]
    assert coll.object_versions(i1, limit=2, next=v["next"]) == {"more": False,
                                                                 "versions": ["2026-03-01T00:00:00.000Z"]}
    one = coll.get_object(i1, version="all", limit=1)
    assert one["more"] is True and _rows(one) == [(i1, "2026-01-01T00:00:00.000Z")]
    assert _rows(coll.get_object(i1, version="all", limit=5, next=one["next"])) == [
        (i1, "2026-02-01T00:00:00.000Z"), (i1, "2026-03-01T00:00:00.000Z")]

    # X-TAXII-Date-Added-First/Last: the first and last date_added of the page, exactly.
    h = bearer(world.boreal)
    base = f"/taxii2/api/collections/{cid}"
    cases: list[tuple[str, dict[str, Any], list[dict[str, Any]]]] = [
        ("objects/", {"match[version]": "all"}, everything),
        ("objects/", {"match[version]": "all", "limit": 2}, everything[:2]),
        ("objects/", {"match[version]": "all", "added_after": added[1], "limit": 3}, everything[2:5]),
        ("manifest/", {"match[version]": "all", "limit": 1}, everything[:1]),
        ("manifest/", {"match[type]": "malware"}, [r for r in everything if r["id"] == catalogue["m1"]["id"]]),
        (f"objects/{i1}/", {"match[version]": "all"}, [r for r in everything if r["id"] == i1]),
        (f"objects/{i1}/versions/", {}, [r for r in everything if r["id"] == i1]),
    ]
    for path, params, expected in cases:
        r = http.get(f"{base}/{path}", params=params, headers=h)
        assert r.status_code == 200, (path, params, r.text)
        assert r.headers["content-type"] == TAXII
        assert r.headers["x-taxii-date-added-first"] == expected[0]["date_added"], (path, params)
        assert r.headers["x-taxii-date-added-last"] == expected[-1]["date_added"], (path, params)
    empty = http.get(f"{base}/objects/", params={"added_after": added[-1]}, headers=h)
    assert empty.status_code == 200 and empty.json() == {"more": False}
    assert "x-taxii-date-added-first" not in empty.headers and "x-taxii-date-added-last" not in empty.headers
