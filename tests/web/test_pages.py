"""Pages over HTTP: bad input gives a message (never a 500), every page shows only what the policy allows."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

import httpx
from sqlalchemy import Engine

from nordcert.config import Settings
from nordcert.db import transaction
from nordcert.intel.ingest import ingest
from nordcert.intel.submission import submission_for
from tests.factories import indicator, make_member
from tests.web.conftest import PASSWORD, World, csrf_of, log_in

_ATOM = "{http://www.w3.org/2005/Atom}"


def _report(name: str, n: int) -> dict[str, object]:
    return {"type": "report", "spec_version": "2.1", "id": f"report--0b0c0d0e-0f10-4111-8213-14151617181{n}",
            "created": "2026-11-20T08:00:00.000Z", "modified": "2026-11-20T08:00:00.000Z", "name": name,
            "published": "2026-11-20T08:00:00Z", "report_types": ["campaign"], "description": f"About {name}.",
            "object_refs": ["identity--a4c3b2f1-0e9d-4c8b-8a7f-6e5d4c3b2a19"]}


def test_bad_submissions_are_explained_on_the_page(http: httpx.Client, world: World) -> None:
    log_in(http, world.alpha.email)
    token = csrf_of(http.get("/submit").text)
    cases = {
        "": "give a value",
        "not a value at all": "could not tell what kind",
        "4111 1111 1111 1111": "card",
    }
    for value, message in cases.items():
        answer = http.post("/submit", data={"csrf": token, "value": value, "kind": "auto"})
        assert answer.status_code == 422, value
        assert message in answer.text.lower(), (value, answer.text[-3000:])
    assert "4111 1111 1111 1111" not in answer.text  # a card number is never echoed
    wrong_kind = http.post("/submit", data={"csrf": token, "value": "example.org", "kind": "iban"})
    assert wrong_kind.status_code == 422 and 'class="error"' in wrong_kind.text
    no_kind = http.post("/submit", data={"csrf": token, "value": "example.org", "kind": "nonsense"})
    assert no_kind.status_code == 422
    bad_conf = http.post("/submit", data={"csrf": token, "value": "example.org", "confidence": "high"})
    assert bad_conf.status_code == 422 and "Confidence" in bad_conf.text
    not_member = http.post("/submit", data={"csrf": token, "value": "example.org", "group": "No such group"})
    assert not_member.status_code == 422 and "No such group" in not_member.text


def test_bad_uploads_are_explained_on_the_page(http: httpx.Client, world: World) -> None:
    log_in(http, world.alpha.email)
    token = csrf_of(http.get("/submit").text)

    def upload(name: str, body: bytes, **form: str) -> httpx.Response:
        return http.post("/upload", data={"csrf": token, **form}, files={"file": (name, io.BytesIO(body))})

    assert "Choose a file" in http.post("/upload", data={"csrf": token}).text
    assert upload("x.exe", b"MZ").status_code == 422
    broken = upload("bundle.json", b'{"type": "bundle", "objects": [{"type": "indicator"')
    assert broken.status_code == 422 and 'class="error"' in broken.text
    invalid = upload("bundle.json", b'{"type":"bundle","id":"bundle--1","objects":[{"type":"indicator","id":"x"}]}')
    assert invalid.status_code == 422 and "bundle.json" in invalid.text
    good = upload("iocs.csv", b"value,kind\n198.51.100.77,ipv4\n", tlp="green")
    assert good.status_code == 200 and 'id="created">1<' in good.text


def test_search_and_object_pages_follow_the_policy(http: httpx.Client, world: World, engine: Engine,
                                                   settings: Settings) -> None:
    secret = indicator("203.0.113.200", name="Boreal internal C2")
    with transaction(engine) as conn:
        ingest(conn, [secret], submission_for(conn, world.boreal.reader, tlp="amber+strict"), settings)
    log_in(http, world.carol.email)
    assert "Boreal internal C2" not in http.get("/search?q=Boreal").text
    lookup = http.get("/search?q=203.0.113.200")
    assert lookup.status_code == 200 and "Not in any object you may see" in lookup.text
    assert "Boreal internal C2" not in lookup.text
    assert http.get(f"/objects/{secret['id']}").status_code == 404
    assert http.get(f"/objects/{secret['id']}?version=nonsense").status_code == 422
    for bad in ("/search?tlp=purple", "/search?cursor=%%%", "/search?since=yesterday"):
        answer = http.get(bad)
        assert answer.status_code == 422 and 'class="error"' in answer.text, bad

    log_in(http, world.alpha.email)  # same sharing group, but AMBER+STRICT without a group is Boreal's only
    assert http.get(f"/objects/{secret['id']}").status_code == 404
    log_in(http, world.boreal.email)
    page = http.get(f"/objects/{secret['id']}")
    assert page.status_code == 200 and "TLP:AMBER+STRICT" in page.text and "Revoke" in page.text


def test_actions_on_an_object(http: httpx.Client, world: World, engine: Engine, settings: Settings) -> None:
    own = indicator("198.51.100.9", name="Alpha C2")
    with transaction(engine) as conn:
        ingest(conn, [own], submission_for(conn, world.alpha.reader, tlp="amber", group="DK banks"), settings)
    log_in(http, world.carol.email)
    assert http.get(f"/objects/{own['id']}").status_code == 404

    log_in(http, world.alpha.email)
    token = csrf_of(http.get(f"/objects/{own['id']}").text)
    shared = http.post(f"/objects/{own['id']}/sharing", data={"csrf": token, "tlp": "green"}, follow_redirects=True)
    assert "Sharing changed" in shared.text and "TLP:GREEN" in shared.text
    bad = http.post(f"/objects/{own['id']}/sharing", data={"csrf": token, "tlp": "red"}, follow_redirects=True)
    assert "needs at least one named recipient" in bad.text
    sighting = http.post(f"/objects/{own['id']}/sightings", data={"csrf": token, "count": "many"},
                         follow_redirects=True)
    assert "whole number" in sighting.text

    log_in(http, world.carol.email)  # GREEN now: every member sees it, but may not change it
    page = http.get(f"/objects/{own['id']}")
    assert page.status_code == 200 and "Change sharing" not in page.text
    token = csrf_of(page.text)
    refused = http.post(f"/objects/{own['id']}/revoke", data={"csrf": token}, follow_redirects=True)
    assert "Not revoked" in refused.text

    log_in(http, world.alpha.email)
    token = csrf_of(http.get(f"/objects/{own['id']}").text)
    revoked = http.post(f"/objects/{own['id']}/revoke", data={"csrf": token}, follow_redirects=True)
    assert "Revoked" in revoked.text and "revoked" in revoked.text
    versions = revoked.text.count("?version=")
    assert versions >= 2


def test_readers_do_not_submit_and_only_staff_administer(http: httpx.Client, world: World, engine: Engine) -> None:
    reader = make_member(engine, role="reader")
    from nordcert.accounts import credentials

    with transaction(engine) as conn:
        credentials.set_password(conn, reader.email, PASSWORD)
    log_in(http, reader.email)
    assert "does not submit" in http.get("/submit").text
    assert http.get("/admin", headers={"Accept": "text/html"}).status_code == 404
    log_in(http, world.staff.email)
    admin = http.get("/admin")
    assert admin.status_code == 200 and "Warninglists" in admin.text
    token = csrf_of(admin.text)
    clash = http.post("/admin/organisations", data={"csrf": token, "name": "Alpha Bank", "country": "DK",
                                                    "sector_type": "bank"})
    assert clash.status_code == 422 and "already uses that name" in clash.text
    bad = http.post("/admin/users", data={"csrf": token, "email": "not-an-email", "organisation": "Alpha Bank",
                                          "role": "analyst"})
    assert bad.status_code == 422 and "is not an email address" in bad.text


def test_public_advisories_and_feed_show_clear_reports_only(http: httpx.Client, world: World, engine: Engine,
                                                           settings: Settings) -> None:
    with transaction(engine) as conn:
        ingest(conn, [_report("Safe-account scam wave", 1)],
               submission_for(conn, world.staff.reader, tlp="clear"), settings)
        ingest(conn, [_report("Members-only campaign notes", 2)],
               submission_for(conn, world.staff.reader, tlp="amber"), settings)
    page = http.get("/advisories")
    assert "Safe-account scam wave" in page.text and "Members-only" not in page.text
    feed = http.get("/advisories/feed.atom")
    assert feed.headers["content-type"].startswith("application/atom+xml")
    root = ET.fromstring(feed.content)
    titles = [e.findtext(f"{_ATOM}title") for e in root.findall(f"{_ATOM}entry")]
    assert titles == ["Safe-account scam wave"]
    assert http.get("/").status_code == 200 and "Safe-account scam wave" in http.get("/").text


def test_api_errors_keep_their_json_shape(http: httpx.Client) -> None:
    api = http.get("/api/v1/objects/indicator--00000000-0000-4000-8000-000000000000")
    assert api.status_code == 404 and api.json()["error"] == "not_found"
    page = http.get("/no-such-page", headers={"Accept": "text/html"})
    assert page.status_code == 404 and "<h1>Not found</h1>" in page.text
    assert "server-timing" in page.headers and "server-timing" not in api.headers


def test_staff_add_and_remove_taxii_collections(http: httpx.Client, world: World, engine: Engine) -> None:
    from nordcert.taxii import collections

    log_in(http, world.staff.email)
    token = csrf_of(http.get("/admin").text)
    added = http.post("/admin/collections", data={"csrf": token, "title": "Sector feed", "kind": "sector",
                                                  "read_all": "1"}, follow_redirects=True)
    assert added.status_code == 200 and "Collection Sector feed added." in added.text
    with transaction(engine, write=False) as conn:
        made = next(c for c in collections.list_all(conn) if c["title"] == "Sector feed")
    assert made["kind"] == "sector" and made["readers"] == "all members"
    incomplete = http.post("/admin/collections", data={"csrf": token, "title": "Group feed", "kind": "group"})
    assert incomplete.status_code == 422 and "needs" in incomplete.text
    removed = http.post("/admin/collections/remove", data={"csrf": token, "collection": made["id"]},
                        follow_redirects=True)
    assert removed.status_code == 200 and "Collection removed." in removed.text
    with transaction(engine, write=False) as conn:
        assert all(c["title"] != "Sector feed" for c in collections.list_all(conn))
    forged = http.post("/admin/collections", data={"csrf": "forged", "title": "X", "kind": "sector"})
    assert forged.status_code in (400, 403)


def test_staff_deactivate_a_user_whose_session_ends_at_once(base_url: str, world: World) -> None:
    with httpx.Client(base_url=base_url, timeout=30) as leaver, httpx.Client(base_url=base_url, timeout=30) as staff:
        log_in(leaver, world.carol.email)
        assert leaver.get("/profile").status_code == 200
        log_in(staff, world.staff.email)
        token = csrf_of(staff.get("/admin").text)
        done = staff.post("/admin/users/active", data={"csrf": token, "email": world.carol.email, "active": "0"},
                          follow_redirects=True)
        assert done.status_code == 200 and f"User {world.carol.email} deactivated." in done.text
        assert leaver.get("/profile", follow_redirects=False).status_code in (302, 303, 401)
        assert "Wrong email or password" in log_in(leaver, world.carol.email).text
        staff.post("/admin/users/active", data={"csrf": token, "email": world.carol.email, "active": "1"})
        assert log_in(leaver, world.carol.email).status_code in (200, 303)
        assert leaver.get("/profile").status_code == 200
