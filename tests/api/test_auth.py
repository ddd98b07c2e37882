"""Authentication: Bearer and Basic, tokens stored only as hashes, expiry and revocation at once."""

from __future__ import annotations

import base64

import httpx
from sqlalchemy import Engine, select, update

from nordcert.accounts.credentials import hash_token
from nordcert.accounts.tables import api_tokens
from nordcert.db import transaction
from tests.factories import make_member


def _basic(email: str, token: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{email}:{token}".encode()).decode()}


def test_bearer_and_basic_both_authenticate(engine: Engine, http: httpx.Client) -> None:
    m = make_member(engine)
    bearer = http.get("/api/v1/me", headers={"Authorization": f"Bearer {m.token}"})
    basic = http.get("/api/v1/me", headers=_basic(m.email, m.token))
    assert bearer.status_code == basic.status_code == 200
    assert bearer.json()["email"] == basic.json()["email"] == m.email
    assert bearer.json()["organisation"]["name"] == m.org_name


def test_basic_with_another_users_email_is_refused(engine: Engine, http: httpx.Client) -> None:
    a, b = make_member(engine), make_member(engine)
    r = http.get("/api/v1/me", headers=_basic(b.email, a.token))
    assert r.status_code == 401
    assert r.json()["error"] == "unauthenticated"


def test_missing_wrong_and_malformed_credentials_are_401(engine: Engine, http: httpx.Client) -> None:
    make_member(engine)
    assert http.get("/api/v1/me").status_code == 401
    r = http.get("/api/v1/me", headers={"Authorization": "Bearer not-a-token"})
    assert r.status_code == 401
    assert "Bearer" in r.headers["www-authenticate"]
    assert http.get("/api/v1/me", headers={"Authorization": "Basic %%%"}).status_code == 401
    assert http.get("/api/v1/me", headers={"Authorization": "Digest abc"}).status_code == 401


def test_token_is_stored_only_as_a_hash(engine: Engine) -> None:
    m = make_member(engine)
    with transaction(engine, write=False) as conn:
        rows = conn.execute(select(api_tokens)).mappings().all()
    stored = [str(v) for row in rows for v in row.values()]
    assert all(m.token not in v for v in stored)
    assert hash_token(m.token) in stored


def test_revoked_token_stops_working_at_once(engine: Engine, http: httpx.Client) -> None:
    m = make_member(engine)
    headers = {"Authorization": f"Bearer {m.token}"}
    tokens = http.get("/api/v1/tokens", headers=headers).json()
    assert len(tokens) == 1 and m.token.startswith(tokens[0]["prefix"])
    assert http.delete(f"/api/v1/tokens/{tokens[0]['id']}", headers=headers).status_code == 200
    r = http.get("/api/v1/me", headers=headers)
    assert r.status_code == 401
    assert "revoked" in r.json()["message"]


def test_expired_token_is_refused(engine: Engine, http: httpx.Client) -> None:
    m = make_member(engine)
    with transaction(engine) as conn:
        conn.execute(update(api_tokens).where(api_tokens.c.token_hash == hash_token(m.token)).values(expires_at=1))
    r = http.get("/api/v1/me", headers={"Authorization": f"Bearer {m.token}"})
    assert r.status_code == 401
    assert "expired" in r.json()["message"]


def test_a_user_creates_a_token_for_themself_shown_once(engine: Engine, http: httpx.Client) -> None:
    m = make_member(engine)
    r = http.post("/api/v1/tokens", json={"label": "siem", "expires_days": 30},
                  headers={"Authorization": f"Bearer {m.token}"})
    assert r.status_code == 201
    new = r.json()["token"]
    assert http.get("/api/v1/me", headers={"Authorization": f"Bearer {new}"}).status_code == 200
    listed = http.get("/api/v1/tokens", headers={"Authorization": f"Bearer {new}"}).json()
    assert all("token" not in t for t in listed)
    assert {t["label"] for t in listed} == {"", "siem"}


def test_only_cert_admin_creates_tokens_for_others(engine: Engine, http: httpx.Client) -> None:
    a, b = make_member(engine), make_member(engine)
    admin = make_member(engine, role="cert_admin", sector_type="cert")
    r = http.post("/api/v1/tokens", json={"user": b.email}, headers={"Authorization": f"Bearer {a.token}"})
    assert r.status_code == 403
    r = http.post("/api/v1/tokens", json={"user": b.email}, headers={"Authorization": f"Bearer {admin.token}"})
    assert r.status_code == 201 and r.json()["user"] == b.email
