"""The audit trail of issue 11: reads of TLP:AMBER and TLP:RED objects on every read path, exports,
administrative changes and log-ins, each with who, when and what, over a real server on both stores."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, select

from nordcert.accounts import credentials
from nordcert.accounts import service as accounts
from nordcert.audit import buffered
from nordcert.audit.tables import audit_events
from nordcert.config import Settings
from nordcert.db import transaction
from nordcert.taxii import collections
from tests.factories import Member, bundle, indicator, make_member, refresh
from tests.observables.helpers import auth
from tests.web.conftest import PASSWORD, csrf_of

TAXII = "application/taxii+json;version=2.1"


@pytest.fixture
def world(engine: Engine) -> dict[str, Any]:
    alpha, boreal = make_member(engine, name="Alpha Bank"), make_member(engine, name="Boreal Bank", country="NO")
    staff = make_member(engine, name="Nordic CERT", role="cert_admin", sector_type="cert")
    with transaction(engine) as conn:
        accounts.create_group(conn, name="DK banks", members=[alpha.org_id, boreal.org_id])
        credentials.set_password(conn, boreal.email, PASSWORD)
        coll = collections.create_collection(conn, title="Sector", read_all=True, write_all=True, actor=staff.reader)
    return {"alpha": refresh(engine, alpha), "boreal": refresh(engine, boreal), "staff": staff, "coll": coll["id"]}


def _submit(http: httpx.Client, m: Member, *objects: dict[str, Any], **params: Any) -> None:
    r = http.post("/api/v1/objects", json=bundle(*objects), headers=auth(m), params=params)
    assert r.status_code == 201, r.text


def _trail(http: httpx.Client, staff: Member, **params: Any) -> list[dict[str, Any]]:
    r = http.get("/api/v1/audit", headers=auth(staff), params={"limit": 1000, **params})
    assert r.status_code == 200, r.text
    return r.json()["events"]  # type: ignore[no-any-return]


def _read_ids(events: list[dict[str, Any]]) -> list[str]:
    return [o["id"] for e in events for o in e["details"].get("objects", ())]


@pytest.fixture
def shared(http: httpx.Client, world: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Alpha's objects: one AMBER for the group, one GREEN, one RED to Boreal; all hold IPs Boreal looks up."""
    amber, green, red = (indicator("203.0.113.10"), indicator("203.0.113.11"), indicator("203.0.113.12"))
    _submit(http, world["alpha"], amber, tlp="amber", group="DK banks")
    _submit(http, world["alpha"], green, tlp="green")
    _submit(http, world["alpha"], red, tlp="red", recipient=[world["boreal"].org_name])
    return {"amber": amber, "green": green, "red": red}


def test_reads_of_amber_and_red_are_recorded_with_who_when_what_and_where(
        http: httpx.Client, world: dict[str, Any], shared: dict[str, dict[str, Any]]) -> None:
    boreal, staff = world["boreal"], world["staff"]
    amber, green, red = shared["amber"], shared["green"], shared["red"]
    for obj in (amber, green, red):
        assert http.get(f"/api/v1/objects/{obj['id']}", headers=auth(boreal)).status_code == 200
    events = _trail(http, staff, action="object.read")
    assert sorted(_read_ids(events)) == sorted([amber["id"], red["id"]])  # the GREEN read leaves nothing
    red_event = next(e for e in events if e["target"] == red["id"])
    assert red_event["actor_email"] == boreal.email and red_event["actor_org_id"] == boreal.org_id
    [seen] = red_event["details"]["objects"]
    assert seen["id"] == red["id"] and seen["tlp"] == "red" and seen["version"].startswith("2026-01-01T00:00:00")
    assert red_event["details"]["request"] == f"GET /api/v1/objects/{red['id']}"
    assert red_event["details"]["address"] == "127.0.0.1"
    assert red_event["at"].startswith("20")
    # A list answer is one event naming every sensitive object it held.
    assert http.get("/api/v1/objects", headers=auth(boreal)).status_code == 200
    listed = [e for e in _trail(http, staff, action="object.read") if e["details"]["request"] == "GET /api/v1/objects"]
    assert len(listed) == 1 and sorted(_read_ids(listed)) == sorted([amber["id"], red["id"]])
    assert listed[0]["details"]["count"] == 2


def test_taxii_lookup_and_web_reads_are_recorded(http: httpx.Client, world: dict[str, Any],
                                                  shared: dict[str, dict[str, Any]]) -> None:
    boreal, staff = world["boreal"], world["staff"]
    r = http.get(f"/taxii2/api/collections/{world['coll']}/objects/",
                 headers={"Authorization": f"Bearer {boreal.token}", "Accept": TAXII})
    assert r.status_code == 200
    taxii = _trail(http, staff, action="taxii.read")
    assert len(taxii) == 1 and taxii[0]["target"] == world["coll"]
    assert sorted(_read_ids(taxii)) == sorted([shared["amber"]["id"], shared["red"]["id"]])

    r = http.post("/api/v1/lookup", json={"values": ["203.0.113.10", "203.0.113.11", "192.0.2.99"]},
                  headers=auth(boreal))
    assert r.status_code == 200 and r.json()["summary"]["matched"] == 2
    assert http.get("/api/v1/lookup", params={"value": "203.0.113.12"}, headers=auth(boreal)).status_code == 200
    looked = _trail(http, staff, action="lookup.match")
    assert sorted(_read_ids(looked)) == sorted([shared["amber"]["id"], shared["red"]["id"]])
    assert {e["details"]["request"] for e in looked} == {"POST /api/v1/lookup", "GET /api/v1/lookup"}

    client = httpx.Client(base_url=str(http.base_url), timeout=30)
    with client:
        token = csrf_of(client.get("/login").text)
        assert client.post("/login", data={"email": boreal.email, "password": PASSWORD, "csrf": token,
                                           "next": "/"}).status_code == 303
        assert client.get(f"/objects/{shared['red']['id']}").status_code == 200
    web = [e for e in _trail(http, staff, action="object.read")
           if e["details"]["request"] == f"GET /objects/{shared['red']['id']}"]
    assert len(web) == 1 and web[0]["actor_email"] == boreal.email


def test_exports_are_recorded_and_a_not_modified_answer_is_not(http: httpx.Client, world: dict[str, Any],
                                                                shared: dict[str, dict[str, Any]]) -> None:
    boreal, staff = world["boreal"], world["staff"]
    r = http.get("/feeds/stix", headers=auth(boreal))
    assert r.status_code == 200
    assert http.get("/feeds/stix", headers={**auth(boreal), "If-None-Match": r.headers["etag"]}).status_code == 304
    assert http.get("/feeds/ipv4.txt", headers=auth(boreal)).status_code == 200
    exports = _trail(http, staff, action="export")
    assert sorted(e["details"]["request"] for e in exports) == ["GET /feeds/ipv4.txt", "GET /feeds/stix"]
    stix = next(e for e in exports if e["details"]["request"] == "GET /feeds/stix")
    assert stix["actor_email"] == boreal.email
    assert stix["details"]["amber_or_stricter_visible"] == 2 and stix["details"]["versions_visible"] >= 3
    assert stix["details"]["etag"] == r.headers["etag"] and stix["details"]["snapshot"]


def test_cli_export_is_recorded_as_the_local_operator(settings: Settings, engine: Engine, world: dict[str, Any],
                                                      shared: dict[str, dict[str, Any]], tmp_path: Path) -> None:
    out = tmp_path / "boreal.json"
    cmd = [sys.executable, "-m", "nordcert", "--instance", str(settings.home), "export", "--as", world["boreal"].email,
           "--format", "stix", "--output", str(out)]
    env = {**os.environ, "NORDCERT_DATABASE_URL": settings.database_url} if settings.database_url else dict(os.environ)
    done = subprocess.run(cmd, check=False, capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    with transaction(engine, write=False) as conn:
        row = conn.execute(select(audit_events).where(audit_events.c.action == "export")).one()
    assert row.actor_email == "local operator (command line)" and row.target == "cli export stix"
    assert '"as":"' + world["boreal"].email + '"' in row.details and '"output":"boreal.json"' in row.details


def test_administrative_changes_are_recorded_with_their_actor(http: httpx.Client, world: dict[str, Any],
                                                              engine: Engine) -> None:
    staff = world["staff"]
    h = auth(staff)
    assert http.post("/api/v1/organisations", json={"name": "Gamma Pay", "country": "FI", "sector_type": "payment_system"},
                     headers=h).status_code in (200, 201)
    r = http.post("/api/v1/users", json={"email": "ops@gamma.example", "organisation": "Gamma Pay",
                                         "role": "analyst"}, headers=h)
    assert r.status_code in (200, 201), r.text
    r = http.post("/api/v1/tokens", json={"user": "ops@gamma.example", "label": "siem"}, headers=h)
    assert r.status_code in (200, 201), r.text
    token_id = r.json()["id"]
    assert http.delete(f"/api/v1/tokens/{token_id}", headers=h).status_code in (200, 204)
    events = _trail(http, staff)
    mine = [(e["action"], e["target"]) for e in events if e["actor_email"] == staff.email]
    assert ("organisation.created", "Gamma Pay") in mine
    assert ("user.created", "ops@gamma.example") in mine
    assert ("token.created", "ops@gamma.example") in mine
    assert ("token.revoked", f"token {token_id}") in mine
    created = next(e for e in events if e["action"] == "token.created" and e["actor_email"] == staff.email)
    assert created["details"]["request"] == "POST /api/v1/tokens"
    assert r.json()["token"] not in str(events)  # never the token itself
    # A change refused (a member is no admin) leaves nothing, as it changed nothing.
    before = len(_trail(http, staff))
    assert http.post("/api/v1/organisations", json={"name": "Delta", "country": "SE", "sector_type": "bank"},
                     headers=auth(world["alpha"])).status_code == 403
    assert len(_trail(http, staff)) == before


def test_log_ins_succeeded_failed_and_api_authentication_failures(http: httpx.Client, world: dict[str, Any]) -> None:
    boreal, staff = world["boreal"], world["staff"]
    with httpx.Client(base_url=str(http.base_url), timeout=30) as client:
        for password in ("wrong password!", PASSWORD):
            token = csrf_of(client.get("/login").text)
            client.post("/login", data={"email": boreal.email, "password": password, "csrf": token, "next": "/"})
        client.cookies.clear()  # a new browser
        token = csrf_of(client.get("/login").text)
        client.post("/login", data={"email": "nobody@nowhere.example", "password": "x" * 12, "csrf": token,
                                    "next": "/"})
    assert http.get("/api/v1/objects", headers={"Authorization": "Bearer nct_not-a-token"}).status_code == 401
    events = _trail(http, staff)
    logins = [(e["action"], e["target"]) for e in events if e["action"].startswith("login.")]
    assert ("login.failed", boreal.email) in logins and ("login.succeeded", boreal.email) in logins
    assert ("login.failed", "nobody@nowhere.example") in logins
    ok = next(e for e in events if e["action"] == "login.succeeded")
    assert ok["actor_user_id"] == boreal.reader.user_id and ok["details"]["address"] == "127.0.0.1"
    failed = next(e for e in events if e["action"] == "api_auth.failed")
    assert failed["details"]["reason"] == "invalid credentials" and "nct_not-a-token" not in str(failed)
    assert PASSWORD not in str(events) and "wrong password!" not in str(events)


def test_the_trail_is_for_cert_staff_only(http: httpx.Client, world: dict[str, Any]) -> None:
    assert http.get("/api/v1/audit", headers=auth(world["alpha"])).status_code == 403
    assert http.get("/api/v1/audit").status_code == 401


def test_queued_read_events_reach_the_store_without_anyone_asking(engine: Engine, http: httpx.Client,
                                                                  world: dict[str, Any],
                                                                  shared: dict[str, dict[str, Any]]) -> None:
    """The queue is written within a fraction of a second by its timer, not only when the trail is read."""
    assert http.get(f"/api/v1/objects/{shared['amber']['id']}", headers=auth(world["boreal"])).status_code == 200
    deadline = time.monotonic() + 5
    found: list[Any] = []
    while time.monotonic() < deadline and not found:
        time.sleep(buffered.FLUSH_AFTER_S / 2)
        with transaction(engine, write=False) as conn:
            found = conn.execute(select(audit_events.c.target).where(audit_events.c.action == "object.read")).all()
    assert [f.target for f in found] == [shared["amber"]["id"]]



def test_the_web_page_shows_the_trail_to_staff_with_filters(http: httpx.Client, world: dict[str, Any],
                                                            shared: dict[str, dict[str, Any]],
                                                            engine: Engine) -> None:
    with transaction(engine) as conn:
        credentials.set_password(conn, world["staff"].email, PASSWORD)
        credentials.set_password(conn, world["alpha"].email, PASSWORD)
    assert http.get(f"/api/v1/objects/{shared['red']['id']}", headers=auth(world["boreal"])).status_code == 200
    with httpx.Client(base_url=str(http.base_url), timeout=30) as client:
        token = csrf_of(client.get("/login").text)
        client.post("/login", data={"email": world["alpha"].email, "password": PASSWORD, "csrf": token, "next": "/"})
        assert client.get("/admin/audit").status_code == 404  # a member: no such page
        client.cookies.clear()
        token = csrf_of(client.get("/login").text)
        client.post("/login", data={"email": world["staff"].email, "password": PASSWORD, "csrf": token, "next": "/"})
        page = client.get("/admin/audit")
        assert page.status_code == 200
        assert shared["red"]["id"] in page.text and "TLP:RED" in page.text and "login.succeeded" in page.text
        assert "<svg" in page.text  # the events per day
        only_reads = client.get("/admin/audit", params={"action": "object.", "actor": world["boreal"].email})
        assert shared["red"]["id"] in only_reads.text and "login.succeeded" not in only_reads.text
        assert client.get("/admin/audit", params={"since": "yesterday"}).status_code == 422
