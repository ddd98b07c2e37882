"""Security headers on every answer, the right Content-Security-Policy for each kind of answer, HSTS over
HTTPS, and no caching of authenticated answers but feeds (which revalidate by ETag)."""

from __future__ import annotations

import httpx
from sqlalchemy import Engine

from nordcert.guard.headers import DATA_POLICY, DOCS_POLICY
from tests.factories import make_member
from tests.guard.conftest import Serve

_ALWAYS = {"x-content-type-options": "nosniff", "referrer-policy": "same-origin", "x-frame-options": "DENY",
           "cross-origin-opener-policy": "same-origin"}


def _common(answer: httpx.Response) -> None:
    for name, value in _ALWAYS.items():
        assert answer.headers.get(name) == value, (answer.request.url, name)
    assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]


def test_every_kind_of_answer_carries_the_headers(engine: Engine, serve: Serve) -> None:
    member = make_member(engine)
    auth = {"Authorization": f"Bearer {member.token}"}
    with serve() as url, httpx.Client(base_url=url, timeout=30) as client:
        page = client.get("/")
        _common(page)
        csp = page.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "default-src 'self'" in csp
        for path in ("/healthz", "/api/v1/nothing-here", "/taxii2/", "/api/openapi.json"):
            answer = client.get(path, headers={"Accept": "application/taxii+json;version=2.1"}
                                if path.startswith("/taxii2") else {})
            _common(answer)
            assert answer.headers["content-security-policy"] == DATA_POLICY, path
        assert client.get("/taxii2/").status_code == 401  # an error answer, headers and all
        docs = client.get("/api/docs")
        _common(docs)
        assert docs.headers["content-security-policy"] == DOCS_POLICY
        me = client.get("/api/v1/me", headers=auth)
        assert me.status_code == 200 and me.headers["cache-control"] == "no-store"
        assert "strict-transport-security" not in me.headers  # plain HTTP from a client
        assert "cache-control" not in client.get("/healthz").headers  # nobody's answer in particular


def test_feeds_revalidate_instead_of_no_store(engine: Engine, serve: Serve) -> None:
    member = make_member(engine)
    auth = {"Authorization": f"Bearer {member.token}"}
    with serve() as url, httpx.Client(base_url=url, timeout=30, headers=auth) as client:
        feed = client.get("/feeds/ip.txt")
        assert feed.status_code == 200 and feed.headers["etag"]
        assert feed.headers["cache-control"] == "private, no-cache"
        again = client.get("/feeds/ip.txt", headers={"If-None-Match": feed.headers["etag"]})
        assert again.status_code == 304 and again.headers["cache-control"] == "private, no-cache"


def test_strict_transport_security_over_https_or_when_told(engine: Engine, serve: Serve) -> None:
    with serve() as url, httpx.Client(base_url=url, timeout=30) as client:
        # From a trusted proxy (127.0.0.1) that ended TLS and says so.
        https = client.get("/healthz", headers={"X-Forwarded-Proto": "https"})
        assert https.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"
        assert "strict-transport-security" not in client.get("/healthz").headers
    with serve(trusted_proxies="192.0.2.1") as url, httpx.Client(base_url=url, timeout=30) as client:
        untrusted = client.get("/healthz", headers={"X-Forwarded-Proto": "https"})
        assert "strict-transport-security" not in untrusted.headers  # only a trusted proxy is believed
    with serve(hsts_always=True, hsts_seconds=600) as url, httpx.Client(base_url=url, timeout=30) as client:
        assert client.get("/healthz").headers["strict-transport-security"] == "max-age=600; includeSubDomains"
    with serve(hsts_seconds=0) as url, httpx.Client(base_url=url, timeout=30) as client:
        assert "strict-transport-security" not in client.get("/healthz", headers={"X-Forwarded-Proto": "https"}).headers
