"""Request body limits per route family (JSON API and forms; TAXII envelopes, bundles and uploads) answered
413 in each family's error shape, and the body timeout answered 408; a refused request stores nothing."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
from sqlalchemy import Engine, func, select

from nordcert.db import transaction
from nordcert.intel.tables import stix_objects
from nordcert.taxii import collections
from tests.factories import bundle, indicator, make_member
from tests.guard.conftest import Serve

_SMALL = {"max_json_bytes": 2048, "max_request_bytes": 8192}


def _objects(engine: Engine) -> int:
    with transaction(engine, write=False) as conn:
        return int(conn.execute(select(func.count()).select_from(stix_objects)).scalar_one())


def _sighting(note: str) -> dict[str, object]:
    return {"count": 1, "note": note}


def test_json_api_bodies_are_limited(engine: Engine, serve: Serve) -> None:
    member = make_member(engine)
    auth = {"Authorization": f"Bearer {member.token}"}
    target = indicator("192.0.2.55")
    with serve(**_SMALL) as url, httpx.Client(base_url=url, timeout=30, headers=auth) as client:
        assert client.post("/api/v1/objects", json=bundle(target)).status_code == 201
        stored = _objects(engine)
        path = f"/api/v1/objects/{target['id']}/sightings"
        big = client.post(path, json=_sighting("x" * 3000))
        assert big.status_code == 413
        assert big.json()["error"] == "too_large" and "2048 bytes" in big.json()["message"]

        def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
            yield b'{"count": 1, "note": "'
            for _ in range(10):
                yield b"y" * 500
            yield b'"}'

        streamed = client.post(path, content=chunks(), headers={"Content-Type": "application/json"})
        assert streamed.status_code == 413 and streamed.json()["error"] == "too_large"
        assert _objects(engine) == stored  # neither sighting was stored
        assert client.post(path, json=_sighting("z" * 500)).status_code == 201  # the limit, not the route
        assert _objects(engine) == stored + 1


def test_taxii_envelopes_are_limited_to_the_advertised_max_content_length(engine: Engine, serve: Serve) -> None:
    member = make_member(engine)
    with transaction(engine) as conn:
        coll = collections.create_collection(conn, title="Sector", read_all=True, write_all=True)
    taxii = {"Authorization": f"Bearer {member.token}", "Accept": "application/taxii+json;version=2.1",
             "Content-Type": "application/taxii+json;version=2.1"}
    with serve(**_SMALL) as url, httpx.Client(base_url=url, timeout=30, headers=taxii) as client:
        root = client.get("/taxii2/api/").json()
        assert root["max_content_length"] == 8192
        objects_path = f"/taxii2/api/collections/{coll['id']}/objects/"
        fits = {"objects": [indicator(f"192.0.2.{i}") for i in range(1, 13)]}
        assert 2048 < len(httpx.Request("POST", "/", json=fits).content) <= 8192
        assert client.post(objects_path, json=fits).status_code == 202
        stored = _objects(engine)
        too_big = {"objects": [indicator(f"198.51.100.{i}") for i in range(1, 40)]}
        refused = client.post(objects_path, json=too_big)
        assert refused.status_code == 413
        assert refused.headers["content-type"].startswith("application/taxii+json")
        assert refused.json()["http_status"] == "413" and "max_content_length" in refused.json()["description"]
        assert _objects(engine) == stored


def test_bundles_and_uploads_take_the_larger_limit(engine: Engine, serve: Serve) -> None:
    member = make_member(engine)
    auth = {"Authorization": f"Bearer {member.token}"}
    with serve(**_SMALL) as url, httpx.Client(base_url=url, timeout=30, headers=auth) as client:
        medium = bundle(*(indicator(f"203.0.113.{i}") for i in range(1, 13)))
        assert client.post("/api/v1/objects", json=medium).status_code == 201  # over 2048, under 8192
        stored = _objects(engine)
        large = bundle(*(indicator(f"198.18.0.{i}") for i in range(1, 40)))
        refused = client.post("/api/v1/objects", json=large)
        assert refused.status_code == 413 and refused.json()["error"] == "too_large"
        assert _objects(engine) == stored


def test_a_page_form_too_large_gets_an_error_page(engine: Engine, serve: Serve) -> None:
    with serve(**_SMALL) as url, httpx.Client(base_url=url, timeout=30) as client:
        answer = client.post("/login", data={"email": "a@b.example", "password": "p" * 4000},
                             headers={"Accept": "text/html"})
        assert answer.status_code == 413 and answer.headers["content-type"].startswith("text/html")
        assert "Too large" in answer.text and "2048 bytes" in answer.text


def test_a_body_sent_too_slowly_is_answered_408(engine: Engine, serve: Serve) -> None:
    member = make_member(engine)
    target = indicator("192.0.2.77")
    with serve(request_body_timeout_seconds=0.5) as url:
        with httpx.Client(base_url=url, timeout=30) as client:
            assert client.post("/api/v1/objects", json=bundle(target),
                               headers={"Authorization": f"Bearer {member.token}"}).status_code == 201
        stored = _objects(engine)
        parts = urlsplit(url)
        with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
            sock.sendall((f"POST /api/v1/objects/{target['id']}/sightings HTTP/1.1\r\nHost: {parts.netloc}\r\n"
                          f"Authorization: Bearer {member.token}\r\nContent-Type: application/json\r\n"
                          "Content-Length: 200\r\n\r\n{\"count\": 1,").encode())
            started = time.monotonic()
            received = [sock.recv(65536)]
            waited = time.monotonic() - started
            while received[-1]:  # the answer says Connection: close
                received.append(sock.recv(65536))
            answer = b"".join(received).decode()
        assert answer.startswith("HTTP/1.1 408"), answer[:200]
        assert '"error":"timeout"' in answer and 0.4 < waited < 5
        assert _objects(engine) == stored
