"""The objects API: submit, read, search, page, version and revoke, always through the sharing policy."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func, select

from nordcert.accounts import service as accounts
from nordcert.db import transaction
from nordcert.intel.tables import object_labels, stix_objects
from nordcert.sharing.tlp import Tlp
from tests.factories import Member, bundle, indicator, make_member, refresh


def _h(m: Member) -> dict[str, str]:
    return {"Authorization": f"Bearer {m.token}"}


def _submit(http: httpx.Client, m: Member, *objects: dict[str, Any], **params: Any) -> httpx.Response:
    return http.post("/api/v1/objects", json=bundle(*objects), headers=_h(m), params=params)


def _count(engine: Engine, table: Any = stix_objects) -> int:
    with transaction(engine, write=False) as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


@pytest.fixture
def world(engine: Engine) -> dict[str, Member]:
    """Two banks in group 'DK banks', an outsider bank, CERT staff."""
    alpha, boreal, outsider = make_member(engine), make_member(engine), make_member(engine, country="SE")
    admin = make_member(engine, role="cert_admin", sector_type="cert")
    with transaction(engine) as conn:
        accounts.create_group(conn, name="DK banks", members=[alpha.org_id, boreal.org_id])
    return {"alpha": refresh(engine, alpha), "boreal": refresh(engine, boreal), "outsider": refresh(engine, outsider),
            "admin": admin}


def test_submit_and_read_back(world: dict[str, Member], http: httpx.Client) -> None:
    alpha = world["alpha"]
    ind = indicator("198.51.100.7", labels=["c2"])
    r = _submit(http, alpha, ind, tlp="green")
    assert r.status_code == 201
    assert r.json() == {"created": 1, "updated": 0, "unchanged": 0, "rejected": 0, "total": 1, "rejections": [],
                        "observables_indexed": 1, "warning_count": 0, "warnings": []}
    got = http.get(f"/api/v1/objects/{ind['id']}", headers=_h(world["boreal"])).json()
    assert got["object"]["pattern"] == ind["pattern"]
    assert got["object"]["object_marking_refs"] == [Tlp.GREEN.marking_id]
    assert got["meta"]["tlp"] == "green" and got["meta"]["creator"].startswith("TB")
    again = _submit(http, alpha, ind, tlp="green").json()
    assert again["unchanged"] == 1 and again["created"] == 0


@pytest.mark.parametrize(
    ("params", "may_read"),
    [
        ({"tlp": "clear"}, {"alpha", "boreal", "outsider", "admin", "public"}),
        ({"tlp": "green"}, {"alpha", "boreal", "outsider", "admin"}),
        ({"tlp": "amber"}, {"alpha", "boreal", "outsider", "admin"}),
        ({"tlp": "amber", "group": "DK banks"}, {"alpha", "boreal", "admin"}),
        ({"tlp": "amber+strict", "group": "DK banks"}, {"alpha", "boreal", "admin"}),
        ({"tlp": "amber+strict"}, {"alpha", "admin"}),
        ({"tlp": "red", "recipient": ["__outsider__"]}, {"alpha", "outsider", "admin"}),
        ({"tlp": "red"}, {"alpha", "admin"}),
    ],
)
def test_every_read_path_follows_the_tlp_table(world: dict[str, Member], http: httpx.Client,
                                               params: dict[str, Any], may_read: set[str]) -> None:
    if "recipient" in params:
        params = {**params, "recipient": [world["outsider"].org_name]}
    ind = indicator()
    assert _submit(http, world["alpha"], ind, **params).status_code == 201
    for who in ("alpha", "boreal", "outsider", "admin", "public"):
        headers = _h(world[who]) if who != "public" else {}
        one = http.get(f"/api/v1/objects/{ind['id']}", headers=headers)
        listed = http.get("/api/v1/objects", headers=headers).json()["objects"]
        versions = http.get(f"/api/v1/objects/{ind['id']}/versions", headers=headers)
        if who in may_read:
            assert one.status_code == 200, who
            assert [o["object"]["id"] for o in listed] == [ind["id"]], who
            assert versions.status_code == 200
        else:
            assert one.status_code == 404, who
            assert one.json() == {"error": "not_found", "message": f"no object {ind['id']}", "details": []}
            assert listed == [], who
            assert versions.status_code == 404


def test_forbidden_is_indistinguishable_from_missing(world: dict[str, Member], http: httpx.Client) -> None:
    ind = indicator()
    _submit(http, world["alpha"], ind, tlp="red")
    forbidden = http.get(f"/api/v1/objects/{ind['id']}", headers=_h(world["outsider"]))
    missing = http.get(f"/api/v1/objects/{indicator()['id']}", headers=_h(world["outsider"]))
    assert forbidden.status_code == missing.status_code == 404
    assert forbidden.json()["error"] == missing.json()["error"]
    assert forbidden.headers.keys() == missing.headers.keys()


def test_anonymous_submission_hides_the_creator(world: dict[str, Member], http: httpx.Client,
                                                settings: Any) -> None:
    ind = indicator(created_by_ref="identity--0db95e69-f718-588d-a48c-789d5321a633")
    _submit(http, world["alpha"], ind, tlp="amber", group="DK banks", anonymous="true")
    seen_by_peer = http.get(f"/api/v1/objects/{ind['id']}", headers=_h(world["boreal"])).json()
    assert seen_by_peer["meta"]["creator"] == "anonymous member"
    assert seen_by_peer["object"]["created_by_ref"] == settings.instance_identity_id
    by_creator = http.get(f"/api/v1/objects/{ind['id']}", headers=_h(world["alpha"])).json()
    assert by_creator["object"]["created_by_ref"] == ind["created_by_ref"]
    by_cert = http.get(f"/api/v1/objects/{ind['id']}", headers=_h(world["admin"])).json()
    assert by_cert["meta"]["creator"] == by_creator["meta"]["creator"] != "anonymous member"
    # Filtering by creator must not reveal who submitted anonymously.
    alpha_short = by_creator["meta"]["creator"]
    assert http.get("/api/v1/objects", params={"creator": alpha_short}, headers=_h(world["boreal"])).json()["objects"] == []


def test_invalid_object_in_a_batch_of_1000_stores_nothing(world: dict[str, Member], http: httpx.Client,
                                                          engine: Engine) -> None:
    _submit(http, world["alpha"], indicator(labels=["before"]), tlp="green")
    before = (_count(engine), _count(engine, object_labels))
    objects = [indicator(f"10.1.{i // 250}.{i % 250}", labels=["bulk"]) for i in range(1000)]
    objects[613]["pattern"] = "[ipv4-addr:value = '10.0.0.1'"
    r = _submit(http, world["alpha"], *objects, tlp="green")
    assert r.status_code == 422
    body = r.json()
    assert body["error"] == "invalid"
    assert body["message"] == "1 of 1000 objects rejected; nothing was stored"
    assert [(d["index"], d["id"]) for d in body["details"]] == [(613, objects[613]["id"])]
    assert "pattern" in body["details"][0]["reason"]
    assert (_count(engine), _count(engine, object_labels)) == before


def test_versions_latest_by_default_and_old_versions_on_request(world: dict[str, Member], http: httpx.Client) -> None:
    v1 = indicator("192.0.2.1", modified="2026-02-01T00:00:00.000Z")
    v2 = {**v1, "modified": "2026-03-01T00:00:00.000Z", "name": "renamed"}
    _submit(http, world["alpha"], v1, tlp="green")
    r = _submit(http, world["alpha"], v2, tlp="green")
    assert r.json()["updated"] == 1
    h = _h(world["boreal"])
    assert http.get(f"/api/v1/objects/{v1['id']}", headers=h).json()["object"]["name"] == "renamed"
    old = http.get(f"/api/v1/objects/{v1['id']}", params={"version": "2026-02-01T00:00:00Z"}, headers=h).json()
    assert old["object"]["name"] == v1["name"]
    assert http.get(f"/api/v1/objects/{v1['id']}/versions", headers=h).json()["versions"] == [
        "2026-02-01T00:00:00.000Z", "2026-03-01T00:00:00.000Z"]
    listed = http.get("/api/v1/objects", headers=h).json()["objects"]
    assert [o["object"]["name"] for o in listed] == ["renamed"]
    bad = http.get(f"/api/v1/objects/{v1['id']}", params={"version": "yesterday"}, headers=h)
    assert bad.status_code == 422


def test_only_the_creator_or_cert_staff_revoke(world: dict[str, Member], http: httpx.Client) -> None:
    ind = indicator()
    _submit(http, world["alpha"], ind, tlp="green")
    assert http.post(f"/api/v1/objects/{ind['id']}/revoke", headers=_h(world["boreal"])).status_code == 403
    r = http.post(f"/api/v1/objects/{ind['id']}/revoke", headers=_h(world["alpha"]))
    assert r.status_code == 200 and r.json()["object"]["revoked"] is True and r.json()["meta"]["tlp"] == "green"
    assert http.post(f"/api/v1/objects/{ind['id']}/revoke", headers=_h(world["alpha"])).status_code == 422
    h = _h(world["boreal"])
    assert http.get("/api/v1/objects", headers=h).json()["objects"] == []
    revoked = http.get("/api/v1/objects", params={"include_revoked": "true"}, headers=h).json()["objects"]
    assert [o["meta"]["revoked"] for o in revoked] == [True]
    assert len(http.get(f"/api/v1/objects/{ind['id']}/versions", headers=h).json()["versions"]) == 2
    other = indicator()
    _submit(http, world["alpha"], other, tlp="green")
    assert http.post(f"/api/v1/objects/{other['id']}/revoke", headers=_h(world["admin"])).status_code == 200
    hidden = indicator()
    _submit(http, world["alpha"], hidden, tlp="red")
    assert http.post(f"/api/v1/objects/{hidden['id']}/revoke", headers=_h(world["outsider"])).status_code == 404


def test_search_filters(world: dict[str, Member], http: httpx.Client) -> None:
    alpha, boreal = world["alpha"], world["boreal"]
    a = indicator(name="Phishing kit for MitID", labels=["phishing"])
    b = indicator(description="Mule account cash-out", labels=["money-mule"])
    c = {"type": "malware", "spec_version": "2.1", "id": "malware--2ad8a1a4-9b0e-4b8f-8e8a-52f7e0b0a1c3",
         "created": "2026-01-01T00:00:00Z", "modified": "2026-01-01T00:00:00Z", "name": "Nordic banker",
         "is_family": True}
    _submit(http, alpha, a, tlp="green")
    _submit(http, boreal, b, c, tlp="amber")
    h = _h(world["outsider"])

    def ids(**params: Any) -> set[str]:
        r = http.get("/api/v1/objects", params=params, headers=h)
        assert r.status_code == 200, r.text
        return {o["object"]["id"] for o in r.json()["objects"]}

    assert ids(type="malware") == {c["id"]}
    assert ids(type=["malware", "indicator"]) == {a["id"], b["id"], c["id"]}
    assert ids(label="phishing") == {a["id"]}
    assert ids(q="MITID") == {a["id"]}
    assert ids(q="cash-out") == {b["id"]}
    assert ids(tlp="amber") == {b["id"], c["id"]}
    assert ids(creator=boreal.org_name) == {b["id"], c["id"]}
    newest = http.get("/api/v1/objects", params={"order": "oldest", "limit": 1}, headers=h).json()["objects"][0]
    assert ids(added_after=newest["meta"]["date_added"]) == {b["id"], c["id"]}
    assert http.get("/api/v1/objects", params={"added_after": "last week"}, headers=h).status_code == 422
    assert http.get("/api/v1/objects", params={"limit": 0}, headers=h).status_code == 422


def test_cursor_paging_is_complete_and_never_repeats(world: dict[str, Member], http: httpx.Client) -> None:
    objects = [indicator(f"10.2.0.{i}") for i in range(1, 58)]
    _submit(http, world["alpha"], *objects[:30], tlp="green")
    _submit(http, world["boreal"], *objects[30:], tlp="green")
    for order in ("newest", "oldest"):
        seen: list[str] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": 10, "order": order}
            if cursor:
                params["cursor"] = cursor
            page = http.get("/api/v1/objects", params=params, headers=_h(world["outsider"])).json()
            seen += [o["object"]["id"] for o in page["objects"]]
            cursor = page["next"]
            if cursor is None:
                break
        assert len(seen) == len(set(seen)) == 57
        assert set(seen) == {o["id"] for o in objects}
    assert http.get("/api/v1/objects", params={"cursor": "!!"}, headers=_h(world["alpha"])).status_code == 422
    huge = base64.urlsafe_b64encode(str(2**70).encode()).decode()
    assert http.get("/api/v1/objects", params={"cursor": huge}, headers=_h(world["alpha"])).status_code == 422


def test_submission_rules(world: dict[str, Member], http: httpx.Client, engine: Engine) -> None:
    reader = make_member(engine, role="reader", org=str(world["alpha"].org_id))
    assert _submit(http, reader, indicator()).status_code == 403
    assert _submit(http, world["outsider"], indicator(), group="DK banks").status_code == 403
    assert _submit(http, world["alpha"], indicator(), group="No such group").status_code == 404
    assert _submit(http, world["alpha"], indicator(), tlp="purple").status_code == 422
    assert _submit(http, world["alpha"]).json()["total"] == 0
    assert http.post("/api/v1/objects", content=b"{not json", headers=_h(world["alpha"])).status_code == 422
    assert http.post("/api/v1/objects", json={"type": "bundle", "id": "x"}, headers={}).status_code == 401
