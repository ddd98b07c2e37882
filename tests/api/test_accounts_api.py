"""Managing organisations, users and sharing groups over the API (cert_admin only)."""

from __future__ import annotations

import httpx
from sqlalchemy import Engine

from tests.factories import Member, make_member


def _h(m: Member) -> dict[str, str]:
    return {"Authorization": f"Bearer {m.token}"}


def test_cert_admin_onboards_a_member(engine: Engine, http: httpx.Client) -> None:
    admin = make_member(engine, role="cert_admin", sector_type="cert")
    r = http.post("/api/v1/organisations", headers=_h(admin),
                  json={"name": "Lille Sparekasse", "short_name": "LILLE", "country": "dk", "sector_type": "bank"})
    assert r.status_code == 201, r.text
    assert r.json()["country"] == "DK" and r.json()["identity_id"].startswith("identity--")
    r = http.post("/api/v1/users", headers=_h(admin),
                  json={"email": "SOC@Lille.example", "organisation": "LILLE", "role": "analyst"})
    assert r.status_code == 201 and r.json()["email"] == "soc@lille.example"
    r = http.post("/api/v1/groups", headers=_h(admin), json={"name": "DK savings banks", "members": ["LILLE"]})
    assert r.status_code == 201 and [m["short_name"] for m in r.json()["members"]] == ["LILLE"]
    r = http.post("/api/v1/groups/DK savings banks/members", headers=_h(admin), json={"organisation": admin.org_name})
    assert len(r.json()["members"]) == 2
    r = http.delete("/api/v1/groups/DK savings banks/members/LILLE", headers=_h(admin))
    assert [m["name"] for m in r.json()["members"]] == [admin.org_name]
    users = http.get("/api/v1/users", headers=_h(admin), params={"organisation": "LILLE"}).json()
    assert [u["email"] for u in users] == ["soc@lille.example"]


def test_members_may_not_manage(engine: Engine, http: httpx.Client) -> None:
    m = make_member(engine)
    for path, body in [
        ("/api/v1/organisations", {"name": "X Bank", "country": "DK", "sector_type": "bank"}),
        ("/api/v1/users", {"email": "x@x.example", "organisation": m.org_name, "role": "analyst"}),
        ("/api/v1/groups", {"name": "mine"}),
    ]:
        r = http.post(path, headers=_h(m), json=body)
        assert r.status_code == 403, path
        assert r.json()["error"] == "forbidden"
    assert http.get("/api/v1/users", headers=_h(m)).status_code == 403


def test_bad_input_gets_a_precise_error(engine: Engine, http: httpx.Client) -> None:
    admin = make_member(engine, role="cert_admin", sector_type="cert")
    r = http.post("/api/v1/organisations", headers=_h(admin), json={"name": "Y", "country": "XX", "sector_type": "bank"})
    assert r.status_code == 422 and "ISO 3166" in r.json()["message"]
    r = http.post("/api/v1/organisations", headers=_h(admin), json={"name": "Y", "country": "DK", "sector_type": "casino"})
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "sector_type"
    r = http.post("/api/v1/organisations", headers=_h(admin),
                  json={"name": admin.org_name, "country": "DK", "sector_type": "bank"})
    assert r.status_code == 409
    r = http.post("/api/v1/users", headers=_h(admin), json={"email": "nope", "organisation": admin.org_name,
                                                             "role": "analyst"})
    assert r.status_code == 422 and "email" in r.json()["message"]
    r = http.post("/api/v1/users", headers=_h(admin), json={"email": "a@b.example", "organisation": "Nobody",
                                                             "role": "analyst"})
    assert r.status_code == 404


def test_me_lists_the_callers_groups(engine: Engine, http: httpx.Client) -> None:
    admin = make_member(engine, role="cert_admin", sector_type="cert")
    m = make_member(engine)
    http.post("/api/v1/groups", headers=_h(admin), json={"name": "Nordic fraud", "members": [m.org_name]})
    me = http.get("/api/v1/me", headers=_h(m)).json()
    assert me["sharing_groups"] == ["Nordic fraud"] and me["role"] == "analyst"


def test_a_deactivated_user_is_shut_out_at_once_and_can_come_back(http: httpx.Client, engine: Engine) -> None:
    admin = make_member(engine, role="cert_admin", sector_type="cert")
    leaver = make_member(engine)
    me = {"Authorization": f"Bearer {leaver.token}"}
    assert http.get("/api/v1/me", headers=me).status_code == 200
    boss = {"Authorization": f"Bearer {admin.token}"}
    assert http.post(f"/api/v1/users/{leaver.email}/deactivate", headers=me).status_code == 403
    gone = http.post(f"/api/v1/users/{leaver.email}/deactivate", headers=boss)
    assert gone.status_code == 200 and gone.json()["active"] is False
    assert http.get("/api/v1/me", headers=me).status_code == 401
    assert http.get("/api/v1/me", auth=(leaver.email, leaver.token)).status_code == 401
    assert http.post(f"/api/v1/users/{admin.email}/deactivate", headers=boss).status_code == 403  # not yourself
    back = http.post(f"/api/v1/users/{leaver.email}/activate", headers=boss)
    assert back.status_code == 200 and back.json()["active"] is True
    assert http.get("/api/v1/me", headers=me).status_code == 200
