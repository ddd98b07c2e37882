"""Token revocation and expiry take effect on the very next request, on every surface: REST, the
screening lookup, TAXII (Bearer and Basic) and the feeds (also when revalidating with an ETag)."""

from __future__ import annotations

import base64
import time

import httpx
from sqlalchemy import Engine

from nordcert.accounts import credentials
from nordcert.accounts import service as accounts
from nordcert.db import transaction
from tests.factories import make_member
from tests.guard.conftest import Serve

_TAXII = "application/taxii+json;version=2.1"


def _surfaces(client: httpx.Client, token: str, email: str, etag: str | None = None) -> dict[str, int]:
    bearer = {"Authorization": f"Bearer {token}"}
    basic = {"Authorization": "Basic " + base64.b64encode(f"{email}:{token}".encode()).decode()}
    return {
        "me": client.get("/api/v1/me", headers=bearer).status_code,
        "lookup": client.get("/api/v1/lookup", params={"value": "192.0.2.1"}, headers=bearer).status_code,
        "lookup many": client.post("/api/v1/lookup", json={"values": ["192.0.2.1"] * 20},
                                   headers=bearer).status_code,
        "taxii": client.get("/taxii2/", headers={**bearer, "Accept": _TAXII}).status_code,
        "taxii basic": client.get("/taxii2/api/collections/", headers={**basic, "Accept": _TAXII}).status_code,
        "feed": client.get("/feeds/ip.txt", headers=bearer).status_code,
        "feed revalidated": client.get("/feeds/ip.txt", headers={**basic, "If-None-Match": etag or "*"}).status_code,
    }


def test_a_revoked_token_is_refused_at_once_everywhere(engine: Engine, serve: Serve) -> None:
    member = make_member(engine)
    with serve() as url, httpx.Client(base_url=url, timeout=30) as client:
        etag = client.get("/feeds/ip.txt", headers={"Authorization": f"Bearer {member.token}"}).headers["etag"]
        before = _surfaces(client, member.token, member.email, etag)
        assert before == {"me": 200, "lookup": 200, "lookup many": 200, "taxii": 200, "taxii basic": 200,
                          "feed": 200, "feed revalidated": 304}
        token_id = client.get("/api/v1/tokens", headers={"Authorization": f"Bearer {member.token}"}).json()[0]["id"]
        assert client.delete(f"/api/v1/tokens/{token_id}",
                             headers={"Authorization": f"Bearer {member.token}"}).status_code == 200
        after = _surfaces(client, member.token, member.email, etag)
        assert set(after.values()) == {401}, after
        assert "revoked" in client.get("/api/v1/me", headers={"Authorization": f"Bearer {member.token}"}).text


def test_an_expired_token_is_refused_from_its_expiry_on(engine: Engine, serve: Serve) -> None:
    member = make_member(engine)
    with transaction(engine) as conn:
        short = credentials.create_token(conn, user=member.email, expires_days=4.0 / 86_400)  # four seconds
    with serve() as url, httpx.Client(base_url=url, timeout=30) as client:
        assert set(_surfaces(client, short.token, member.email).values()) <= {200, 304}
        assert short.expires_at is not None
        time.sleep(max(0.0, short.expires_at / 1e6 - time.time()) + 0.1)
        after = _surfaces(client, short.token, member.email)
        assert set(after.values()) == {401}, after
        assert "expired" in client.get("/api/v1/me", headers={"Authorization": f"Bearer {short.token}"}).text


def test_a_deactivated_users_tokens_stop_at_once(engine: Engine, serve: Serve) -> None:
    member = make_member(engine)
    with serve() as url, httpx.Client(base_url=url, timeout=30) as client:
        assert _surfaces(client, member.token, member.email)["taxii"] == 200
        with transaction(engine) as conn:
            accounts.set_user_active(conn, member.email, False)
        assert set(_surfaces(client, member.token, member.email).values()) == {401}
