"""The /feeds/ router over a real server: authentication, streaming, content types, ETag and 304."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from nordcert.accounts import service as accounts
from nordcert.config import Settings
from nordcert.db import transaction
from nordcert.intel import service as intel
from nordcert.observables import warninglist_store
from tests.factories import Member, make_member, refresh
from tests.formats.test_export import benign_list, fresh, submit, validate


@pytest.fixture
def feeds_url(base_url: str) -> str:
    """A real server on loopback (the app mounts the feeds)."""
    return base_url


@pytest.fixture
def client(feeds_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=feeds_url, timeout=30) as c:
        yield c


def basic(m: Member) -> httpx.BasicAuth:
    return httpx.BasicAuth(m.email, m.token)


def bearer(m: Member) -> dict[str, str]:
    return {"Authorization": f"Bearer {m.token}"}


def test_feeds_need_credentials(client: httpx.Client, engine: Engine) -> None:
    for path in ("/feeds/", "/feeds/stix", "/feeds/csv", "/feeds/ip.txt", "/feeds/domain.rpz"):
        r = client.get(path)
        assert r.status_code == 401, path
        assert r.json()["error"] == "unauthenticated" and "Basic" in r.headers["www-authenticate"]
    member = make_member(engine)
    r = client.get("/feeds/ip.txt", auth=httpx.BasicAuth(member.email, "wrong"))
    assert r.status_code == 401


def test_index_lists_the_feeds_with_urls(client: httpx.Client, feeds_url: str, engine: Engine) -> None:
    member = make_member(engine)
    r = client.get("/feeds/", auth=basic(member))
    assert r.status_code == 200
    feeds = {f["name"]: f for f in r.json()["feeds"]}
    assert feeds["ip.txt"]["url"] == f"{feeds_url}/feeds/ip.txt"
    assert {"stix", "csv", "domain.txt", "hash.txt", "iban.txt", "phone.txt", "url.txt", "domain.rpz"} <= set(feeds)
    for feed in r.json()["feeds"]:
        if feed["name"] != "misp":
            assert client.get(feed["url"], auth=basic(member)).status_code == 200, feed


def test_content_types_bodies_and_headers(client: httpx.Client, engine: Engine, settings: Settings) -> None:
    member = make_member(engine)
    submit(engine, settings, member, [fresh("[ipv4-addr:value = '203.0.113.9']", description="C2"),
                                      fresh("[domain-name:value = 'phish.example']", description="phishing")],
           tlp="green")
    r = client.get("/feeds/ip.txt", auth=basic(member))
    assert r.status_code == 200 and r.text == "203.0.113.9\n"
    assert r.headers["content-type"] == "text/plain; charset=utf-8"
    assert "private" in r.headers["cache-control"] and r.headers["etag"].startswith('"')
    r = client.get("/feeds/domain.rpz", headers=bearer(member))
    assert r.status_code == 200 and "phish.example CNAME .\n" in r.text and "IN SOA" in r.text
    r = client.get("/feeds/csv", params={"kind": "domain"}, auth=basic(member))
    assert r.headers["content-type"].startswith("text/csv") and r.text.count("\r\n") == 2
    r = client.get("/feeds/stix", params={"type": "indicator"}, auth=basic(member))
    assert r.headers["content-type"] == "application/stix+json;version=2.1"
    assert len(r.json()["objects"]) == 2 and validate(r.content) == []
    assert client.get("/feeds/stix", params={"type": "indicator"}, auth=basic(member)).json()["id"] == r.json()["id"]
    assert client.get("/feeds/stix", params={"type": "report"}, auth=basic(member)).json()["objects"] == []
    r = client.get("/feeds/nope.txt", auth=basic(member))
    assert r.status_code == 404 and "ip.txt" in r.json()["message"]
    r = client.get("/feeds/csv", params={"kind": "nope"}, auth=basic(member))
    assert r.status_code == 422 and "unknown blocklist kind" in r.json()["message"]
    r = client.get("/feeds/stix", params={"since": "yesterday"}, auth=basic(member))
    assert r.status_code == 422


def test_a_large_feed_is_streamed(client: httpx.Client, engine: Engine, settings: Settings) -> None:
    member = make_member(engine)
    objs = [fresh(f"[ipv4-addr:value = '10.{i // 250}.{i % 250}.1']") for i in range(3000)]
    submit(engine, settings, member, objs, tlp="green")
    with client.stream("GET", "/feeds/ipv4.txt", auth=basic(member), params={"include_warninglisted": "true"}) as r:
        assert "content-length" not in r.headers  # chunked: produced while sent
        lines = b"".join(r.iter_bytes()).decode().splitlines()
    assert len(lines) == 3000 and lines == sorted(lines)


def _get(client: httpx.Client, m: Member, path: str, etag: str | None = None) -> httpx.Response:
    headers = {"If-None-Match": etag} if etag else {}
    return client.get(path, auth=basic(m), headers=headers)


def test_etag_and_not_modified(client: httpx.Client, engine: Engine, settings: Settings, tmp_path: Path) -> None:
    alpha, boreal = make_member(engine), make_member(engine)
    first = fresh("[domain-name:value = 'phish.example']")
    submit(engine, settings, alpha, [first], tlp="green")
    paths = ["/feeds/domain.txt", "/feeds/stix", "/feeds/csv", "/feeds/domain.rpz"]
    tags = {p: _get(client, boreal, p).headers["etag"] for p in paths}

    def check(changed: bool, *, unchanged: tuple[str, ...] = ()) -> None:
        for p in paths:
            r = _get(client, boreal, p, tags[p])
            if changed and p not in unchanged:
                assert r.status_code == 200 and r.headers["etag"] != tags[p], p
                tags[p] = r.headers["etag"]
            else:
                assert r.status_code == 304 and r.content == b"" and r.headers["etag"] == tags[p], p

    check(changed=False)
    assert _get(client, boreal, "/feeds/domain.txt", f'W/{tags["/feeds/domain.txt"]}, "other"').status_code == 304
    assert _get(client, boreal, "/feeds/domain.txt", "*").status_code == 304
    assert _get(client, boreal, "/feeds/domain.txt?tlp=green", tags["/feeds/domain.txt"]).status_code == 200
    assert _get(client, alpha, "/feeds/domain.txt", tags["/feeds/domain.txt"]).status_code == 200
    # a new object
    submit(engine, settings, alpha, [fresh("[domain-name:value = 'mule.example']")], tlp="green")
    check(changed=True)
    # a revocation
    with transaction(engine) as conn:
        intel.revoke(conn, alpha.reader, first["id"], settings)
    check(changed=True)
    assert _get(client, boreal, "/feeds/domain.txt").text == "mule.example\n"
    # a change to the reader's groups (and what it may see)
    with transaction(engine) as conn:
        group = accounts.create_group(conn, name="DK banks", members=[alpha.org_id])
    submit(engine, settings, refresh(engine, alpha), [fresh("[domain-name:value = 'dk.example']")], tlp="amber",
           group="DK banks")
    check(changed=False)  # boreal is not in the group: nothing changed for it
    with transaction(engine) as conn:
        accounts.add_group_member(conn, group["id"], boreal.org_id, actor=None)
    check(changed=True)
    assert _get(client, boreal, "/feeds/domain.txt").text == "dk.example\nmule.example\n"
    # a warninglist enabled, then disabled
    with transaction(engine) as conn:
        warninglist_store.load(conn, [benign_list(tmp_path, ["mule.example"])])
    check(changed=True, unchanged=("/feeds/stix",))  # a bundle does not depend on warninglists
    assert _get(client, boreal, "/feeds/domain.txt").text == "dk.example\n"
    with transaction(engine) as conn:
        warninglist_store.set_enabled(conn, warninglist_store.list_all(conn)[0]["name"], False)
    check(changed=True, unchanged=("/feeds/stix",))
    assert _get(client, boreal, "/feeds/domain.txt").text == "dk.example\nmule.example\n"


def test_feeds_show_only_what_the_reader_may_see(client: httpx.Client, engine: Engine, settings: Settings) -> None:
    alpha, boreal, outsider = make_member(engine), make_member(engine), make_member(engine)
    with transaction(engine) as conn:
        accounts.create_group(conn, name="Nordic fraud", members=[alpha.org_id, boreal.org_id])
    alpha = refresh(engine, alpha)
    submit(engine, settings, alpha, [fresh("[domain-name:value = 'strict.example']")], tlp="amber+strict",
           group="Nordic fraud")
    submit(engine, settings, alpha, [fresh("[domain-name:value = 'red.example']")], tlp="red",
           recipients=[str(outsider.org_id)])
    submit(engine, settings, alpha, [fresh("[domain-name:value = 'anon.example']")], tlp="green", anonymous=True)
    assert _get(client, boreal, "/feeds/domain.txt").text == "anon.example\nstrict.example\n"
    assert _get(client, outsider, "/feeds/domain.txt").text == "anon.example\nred.example\n"
    bundle = _get(client, outsider, "/feeds/stix").json()
    assert {o["created_by_ref"] for o in bundle["objects"] if "anon" in o["pattern"]} == {
        settings.instance_identity_id}
    rows = _get(client, boreal, "/feeds/csv").text
    assert "red.example" not in rows and "anonymous member" in rows
    assert base64  # Basic credentials are built by httpx
    assert json.loads(_get(client, alpha, "/feeds/").text)["reader"] == alpha.email
