"""Errors of the TAXII 2.1 server: 401, 403, 404, 406, 413, 415, 400, and rejected envelopes.

Every error under /taxii2/ is the TAXII error message resource (title, description, http_status as a
string) sent as application/taxii+json;version=2.1.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
import requests
from sqlalchemy import Engine
from taxii2client.v21 import ApiRoot

from nordcert.config import Settings
from tests.factories import indicator
from tests.server import running_server
from tests.taxii.conftest import NO_KEEPALIVE, TAXII, Taxii, World, bearer, count_objects, ids_of, put

AUTHENTICATE = 'Bearer, Basic realm="nordcert"'


def _assert_taxii_error(r: httpx.Response, status: int) -> dict[str, Any]:
    assert r.status_code == status, (r.request.method, r.request.url, r.text)
    assert r.headers["content-type"] == TAXII
    body: dict[str, Any] = r.json()
    assert set(body) <= {"title", "description", "http_status", "details"}
    assert body["http_status"] == str(status)
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["description"], str) and body["description"]
    return body


def _post_headers(m: Any, content_type: str = TAXII) -> dict[str, str]:
    return {**bearer(m), "Content-Type": content_type}


def _envelope(*objects: Any) -> bytes:
    return orjson.dumps({"objects": list(objects)})


@pytest.fixture
def endpoints(world: World, engine: Engine, settings: Settings) -> list[tuple[str, str]]:
    """(method, path) of every TAXII endpoint, on the sector collection and one stored object."""
    obj = indicator()
    put(engine, settings, world.alpha, [obj], tlp="green")
    coll = f"/taxii2/api/collections/{world.coll['sector']}"
    return [
        ("GET", "/taxii2/"),
        ("GET", "/taxii2/api/"),
        ("GET", "/taxii2/api/collections/"),
        ("GET", f"{coll}/"),
        ("GET", f"{coll}/objects/"),
        ("POST", f"{coll}/objects/"),
        ("GET", f"{coll}/objects/{obj['id']}/"),
        ("DELETE", f"{coll}/objects/{obj['id']}/"),
        ("GET", f"{coll}/objects/{obj['id']}/versions/"),
        ("GET", f"{coll}/manifest/"),
        ("GET", f"/taxii2/api/status/{uuid.uuid4()}/"),
    ]


# --- 401 ----------------------------------------------------------------------------------------------


def test_401_without_or_with_bad_credentials(world: World, http: httpx.Client, endpoints: list[tuple[str, str]],
                                             engine: Engine) -> None:
    a = world.alpha
    basic = base64.b64encode(f"{a.email}:{a.token}".encode()).decode()
    wrong_email = base64.b64encode(f"{world.boreal.email}:{a.token}".encode()).decode()
    bad_password = base64.b64encode(f"{a.email}:nct_not-a-token".encode()).decode()
    no_password = base64.b64encode(f"{a.email}:".encode()).decode()
    auths = [None, "Bearer nct_not-a-token", f"Basic {wrong_email}", f"Basic {bad_password}", f"Basic {no_password}",
             "Basic %%%not-base64", "Token " + a.token, "Bearer"]
    for method, path in endpoints:
        for auth in auths:
            headers = {"Accept": TAXII, "Content-Type": TAXII}
            if auth is not None:
                headers["Authorization"] = auth
            r = http.request(method, path, headers=headers, content=_envelope(indicator()) if method == "POST" else None)
            _assert_taxii_error(r, 401)
            assert r.headers["www-authenticate"] == AUTHENTICATE, (method, path, auth)
    # The same credentials, right, are accepted (Basic: email and token).
    ok = http.get("/taxii2/", headers={"Accept": TAXII, "Authorization": f"Basic {basic}"})
    assert ok.status_code == 200
    assert count_objects(engine) == 1  # no unauthenticated POST stored anything


def test_401_through_the_client_library(world: World, taxii: Taxii) -> None:
    for server in (taxii.server(), taxii.server(world.alpha, password="nct_wrong")):
        with pytest.raises(requests.HTTPError) as exc:
            server.refresh()
        assert exc.value.response is not None
        assert exc.value.response.status_code == 401
        assert exc.value.response.headers["WWW-Authenticate"] == AUTHENTICATE
        assert exc.value.response.json()["http_status"] == "401"
    root = ApiRoot(taxii.api_url, user=world.alpha.email, password=world.boreal.token)  # another user's token
    try:
        with pytest.raises(requests.HTTPError) as exc:
            root.refresh_information()
        assert exc.value.response is not None and exc.value.response.status_code == 401
    finally:
        root.close()


# --- 403 ----------------------------------------------------------------------------------------------


def test_403_reading_a_write_only_collection_and_writing_a_read_only_one(
        world: World, http: httpx.Client, engine: Engine, settings: Settings) -> None:
    obj = indicator()
    put(engine, settings, world.alpha, [obj], tlp="green")
    h = bearer(world.alpha)
    wo = f"/taxii2/api/collections/{world.coll['write_only']}"
    ro = f"/taxii2/api/collections/{world.coll['read_only']}"
    # The collection itself is listed and described (one may write it)...
    assert http.get(f"{wo}/", headers=h).json()["can_read"] is False
    # ...but none of its contents can be read.
    for path in (f"{wo}/objects/", f"{wo}/manifest/", f"{wo}/objects/{obj['id']}/",
                 f"{wo}/objects/{obj['id']}/versions/"):
        body = _assert_taxii_error(http.get(path, headers=h), 403)
        assert world.coll["write_only"] in body["description"]
    _assert_taxii_error(http.delete(f"{wo}/objects/{obj['id']}/", headers=h), 403)
    # Writing to it works.
    r = http.post(f"{wo}/objects/", content=_envelope(indicator()), headers=_post_headers(world.alpha))
    assert r.status_code == 202 and r.json()["success_count"] == 1

    # A read-only collection reads, and refuses writes and deletes.
    assert obj["id"] in ids_of(http.get(f"{ro}/objects/", headers=h).json())
    before = count_objects(engine)
    r = http.post(f"{ro}/objects/", content=_envelope(indicator()), headers=_post_headers(world.alpha))
    body = _assert_taxii_error(r, 403)
    assert world.coll["read_only"] in body["description"]
    _assert_taxii_error(http.delete(f"{ro}/objects/{obj['id']}/", headers=h), 403)
    assert count_objects(engine) == before
    # A user whose role may not submit is refused even where the organisation may write.
    sector = f"/taxii2/api/collections/{world.coll['sector']}"
    body = _assert_taxii_error(http.post(f"{sector}/objects/", content=_envelope(indicator()),
                                         headers=_post_headers(world.viewer)), 403)
    assert "reader" in body["description"]
    assert count_objects(engine) == before


# --- 404 ----------------------------------------------------------------------------------------------


def test_404_unknown_collection_collection_without_rights_unknown_object_and_status(
        world: World, http: httpx.Client, engine: Engine, settings: Settings) -> None:
    h = bearer(world.alpha)
    unknown = str(uuid.uuid4())
    hidden = world.coll["hidden"]  # exists; alpha has no right on it
    obj = indicator()
    put(engine, settings, world.boreal, [obj], tlp="green")
    answers = {}
    for cid in (unknown, hidden):
        for method, suffix in (("GET", ""), ("GET", "objects/"), ("GET", "manifest/"), ("POST", "objects/"),
                               ("GET", f"objects/{obj['id']}/"), ("GET", f"objects/{obj['id']}/versions/"),
                               ("DELETE", f"objects/{obj['id']}/")):
            r = http.request(method, f"/taxii2/api/collections/{cid}/{suffix}", headers=_post_headers(world.alpha),
                             content=_envelope(indicator()) if method == "POST" else None)
            body = _assert_taxii_error(r, 404)
            assert body["description"] == f"no collection {cid}"
            answers.setdefault(cid, []).append((r.status_code, body["title"], sorted(r.headers.keys())))
    # A collection without rights answers exactly like one that does not exist.
    assert answers[unknown] == answers[hidden]
    # Boreal may read 'Hidden' and finds boreal's object there.
    assert ids_of(http.get(f"/taxii2/api/collections/{hidden}/objects/", headers=bearer(world.boreal)).json()) == [
        obj["id"]]

    sector = f"/taxii2/api/collections/{world.coll['sector']}"
    missing = f"indicator--{uuid.uuid4()}"
    for path in (f"{sector}/objects/{missing}/", f"{sector}/objects/{missing}/versions/"):
        body = _assert_taxii_error(http.get(path, headers=h), 404)
        assert missing in body["description"]
    _assert_taxii_error(http.delete(f"{sector}/objects/{missing}/", headers=h), 404)
    _assert_taxii_error(http.get(f"/taxii2/api/status/{uuid.uuid4()}/", headers=h), 404)
    _assert_taxii_error(http.get("/taxii2/api/no-such-thing/", headers=h), 404)

    # A status belongs to the organisation that made the request (and CERT staff).
    r = http.post(f"{sector}/objects/", content=_envelope(indicator()), headers=_post_headers(world.alpha))
    status_path = f"/taxii2/api/status/{r.json()['id']}/"
    assert http.get(status_path, headers=h).json() == r.json()
    assert http.get(status_path, headers=bearer(world.viewer)).json() == r.json()
    assert http.get(status_path, headers=bearer(world.admin)).status_code == 200
    _assert_taxii_error(http.get(status_path, headers=bearer(world.boreal)), 404)


# --- 406, 415 -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("accept", ["application/json", "application/taxii+json;version=2.0",
                                    "application/stix+json;version=2.1", "text/html"])
def test_406_for_media_types_other_than_taxii_2_1(world: World, http: httpx.Client,
                                                  endpoints: list[tuple[str, str]], accept: str) -> None:
    for method, path in endpoints:
        r = http.request(method, path, headers={**bearer(world.alpha, accept=accept), "Content-Type": TAXII},
                         content=_envelope(indicator()) if method == "POST" else None)
        body = _assert_taxii_error(r, 406)
        assert accept in body["description"]


@pytest.mark.parametrize("accept", [TAXII, "application/taxii+json", "application/taxii+json; version=2.1",
                                    "*/*", "application/*", "application/json, application/taxii+json;version=2.1"])
def test_accepted_media_types(world: World, http: httpx.Client, accept: str) -> None:
    r = http.get("/taxii2/api/collections/", headers=bearer(world.alpha, accept=accept))
    assert r.status_code == 200 and r.headers["content-type"] == TAXII


def test_415_for_a_body_that_is_not_taxii_json(world: World, http: httpx.Client, engine: Engine) -> None:
    path = f"/taxii2/api/collections/{world.coll['sector']}/objects/"
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "application/stix+json;version=2.1"):
        body = _assert_taxii_error(http.post(path, content=_envelope(indicator()),
                                             headers=_post_headers(world.alpha, content_type)), 415)
        assert content_type.split(";")[0] in body["description"]
    r = http.post(path, content=_envelope(indicator()), headers=bearer(world.alpha))  # no Content-Type
    _assert_taxii_error(r, 415)
    assert count_objects(engine) == 0
    for content_type in (TAXII, "application/json"):
        r = http.post(path, content=_envelope(indicator()), headers=_post_headers(world.alpha, content_type))
        assert r.status_code == 202 and r.headers["content-type"] == TAXII
    assert count_objects(engine) == 2


# --- 413 ----------------------------------------------------------------------------------------------


@pytest.fixture
def small_server(settings: Settings, engine: Engine) -> Iterator[tuple[Settings, str]]:
    small = settings.model_copy(update={"max_request_bytes": 2048})
    with running_server(small, engine) as url:
        yield small, url


def test_413_for_a_body_over_max_content_length(world: World, small_server: tuple[Settings, str],
                                                engine: Engine) -> None:
    small, url = small_server
    path = f"/taxii2/api/collections/{world.coll['sector']}/objects/"
    fits = _envelope(indicator())
    big = _envelope(*(indicator() for _ in range(8)))
    assert len(fits) < small.max_request_bytes < len(big)
    with httpx.Client(base_url=url, timeout=30, headers=NO_KEEPALIVE) as http:
        assert http.get("/taxii2/api/", headers=bearer(world.alpha)).json()["max_content_length"] == 2048
        body = _assert_taxii_error(http.post(path, content=big, headers=_post_headers(world.alpha)), 413)
        assert "2048" in body["description"]
        # Without a Content-Length (chunked), the body read is measured.
        chunked = http.post(path, content=iter([big[:1000], big[1000:]]), headers=_post_headers(world.alpha))
        assert "content-length" not in chunked.request.headers
        _assert_taxii_error(chunked, 413)
        assert count_objects(engine) == 0
        ok = http.post(path, content=fits, headers=_post_headers(world.alpha))
        assert ok.status_code == 202 and ok.json()["success_count"] == 1
    assert count_objects(engine) == 1


# --- 400 ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "names"),
    [
        ({"added_after": "yesterday"}, "added_after"),
        ({"added_after": "2026-01-01"}, "added_after"),
        ({"added_after": "2026-01-01T00:00:00+01:00"}, "added_after"),
        ({"added_after": "2026-02-30T00:00:00Z"}, "added_after"),
        ({"match[version]": "newest"}, "match[version]"),
        ({"match[version]": "first,2026-13-01T00:00:00Z"}, "match[version]"),
        ({"match[version]": "last,2026-01-01"}, "match[version]"),
        ({"next": "!!"}, "next"),
        ({"next": "abc"}, "next"),
        ({"next": base64.urlsafe_b64encode(b"not a number").decode()}, "next"),
        ({"next": base64.urlsafe_b64encode(b"9" * 30).decode().rstrip("=")}, "next"),  # beyond 64 bits
        ({"next": base64.urlsafe_b64encode(b"-1").decode().rstrip("=")}, "next"),
        ({"limit": "0"}, "limit"),
        ({"limit": "10001"}, "limit"),
        ({"limit": "ten"}, "limit"),
    ],
)
def test_400_for_bad_filters(world: World, http: httpx.Client, params: dict[str, str], names: str,
                             engine: Engine, settings: Settings) -> None:
    obj = indicator()
    put(engine, settings, world.alpha, [obj], tlp="green")
    coll = f"/taxii2/api/collections/{world.coll['sector']}"
    paths = [f"{coll}/objects/", f"{coll}/manifest/", f"{coll}/objects/{obj['id']}/"]
    if "match[version]" not in params:
        paths.append(f"{coll}/objects/{obj['id']}/versions/")
    for path in paths:
        body = _assert_taxii_error(http.get(path, params=params, headers=bearer(world.boreal)), 400)
        assert names in body["description"] or names in str(body.get("details")), (path, body)
    if "added_after" not in params and "next" not in params and "limit" not in params:
        _assert_taxii_error(http.delete(f"{coll}/objects/{obj['id']}/", params=params, headers=bearer(world.alpha)),
                            400)
    assert count_objects(engine) == 1


def test_400_for_a_body_that_is_not_an_envelope(world: World, http: httpx.Client, engine: Engine) -> None:
    path = f"/taxii2/api/collections/{world.coll['sector']}/objects/"
    for content in (b"{not json", b"[]", b'{"objects": {}}', b'{"type": "bundle"}', b'"objects"'):
        body = _assert_taxii_error(http.post(path, content=content, headers=_post_headers(world.alpha)), 400)
        assert "JSON" in body["description"] or "envelope" in body["description"]
    assert count_objects(engine) == 0


# --- a rejected envelope --------------------------------------------------------------------------------


def test_one_invalid_object_fails_the_whole_envelope(world: World, taxii: Taxii, http: httpx.Client,
                                                     engine: Engine, settings: Settings) -> None:
    put(engine, settings, world.alpha, [(kept := indicator())], tlp="green")
    before = count_objects(engine)
    objects = [indicator() for _ in range(5)]
    objects[3]["pattern"] = "[ipv4-addr:value = '10.0.0.1'"  # unbalanced
    coll = taxii.collection(world.alpha, world.coll["sector"])
    status = coll.add_objects({"objects": objects})
    assert status.status == "complete"
    assert (status.total_count, status.success_count, status.failure_count, status.pending_count) == (5, 0, 5, 0)
    assert status.successes == []
    assert [f["id"] for f in status.failures] == [o["id"] for o in objects]
    assert [f["version"] for f in status.failures] == [o["modified"] for o in objects]
    bad = status.failures[3]["message"]
    assert "pattern" in bad and "rejected" not in bad
    for i in (0, 1, 2, 4):
        assert status.failures[i]["message"].startswith("not stored: the envelope was rejected")
        assert "1 of 5 objects rejected" in status.failures[i]["message"]
    # The status is kept, and nothing of the envelope was stored.
    assert taxii.root(world.alpha).get_status(status.id)._raw == status._raw
    assert count_objects(engine) == before
    assert ids_of(coll.get_objects()) == [kept["id"]]

    # Several problems, one not an object at all, one without an id: each named at its place.
    no_id = indicator()
    del no_id["id"]
    mixed: list[Any] = [indicator(), "not an object", no_id, {**indicator(), "spec_version": "2.0"}]
    r = http.post(f"/taxii2/api/collections/{world.coll['sector']}/objects/", content=_envelope(*mixed),
                  headers=_post_headers(world.alpha))
    assert r.status_code == 202 and r.headers["content-type"] == TAXII
    s = r.json()
    assert (s["total_count"], s["success_count"], s["failure_count"]) == (4, 0, 4)
    failures = s["failures"]
    assert [f["id"] for f in failures] == [mixed[0]["id"], "unknown", "unknown", mixed[3]["id"]]
    assert failures[0]["message"].startswith("not stored")
    assert "JSON object" in failures[1]["message"]
    assert "id" in failures[2]["message"]
    assert "spec_version" in failures[3]["message"] and "2.0" in failures[3]["message"]
    # A new version of another organisation's object fails the same way.
    theirs = {**kept, "modified": "2026-05-01T00:00:00.000Z"}
    s2 = taxii.collection(world.boreal, world.coll["sector"]).add_objects({"objects": [indicator(), theirs]})
    assert (s2.success_count, s2.failure_count) == (0, 2)
    assert "created this object" in s2.failures[1]["message"]
    assert count_objects(engine) == before
