"""Rate limits: screening lookups per token and per client address (in-process buckets), web log-in
attempts per address (in-process) and failed log-ins per address (in the store, agreed by every process);
each answered 429 with Retry-After."""

from __future__ import annotations

import time

import httpx
import pytest
from sqlalchemy import Engine

from nordcert.accounts import credentials
from nordcert.db import transaction
from nordcert.guard.buckets import Buckets, retry_after
from tests.factories import make_member
from tests.guard.conftest import Serve
from tests.web.conftest import PASSWORD, csrf_of, log_in


def test_a_bucket_refills_at_its_rate_up_to_its_burst() -> None:
    bucket = Buckets(rate=2.0, burst=4.0)
    assert [bucket.take("a", 0.0) for _ in range(4)] == [0.0] * 4
    assert bucket.take("a", 0.0) == pytest.approx(0.5)  # one token refills in half a second
    assert bucket.take("b", 0.0) == 0.0  # each key has its own
    assert bucket.take("a", 0.5) == 0.0 and bucket.take("a", 0.5) > 0
    assert bucket.take("a", 100.0) == 0.0  # refilled, but never beyond the burst:
    assert sum(bucket.take("a", 100.0) == 0.0 for _ in range(10)) == 3
    assert retry_after(0.01) == "1" and retry_after(2.2) == "3"


def test_idle_keys_are_forgotten_when_there_are_too_many() -> None:
    bucket = Buckets(rate=1.0, burst=1.0, max_keys=10)
    for i in range(10):
        bucket.take(f"k{i}", 0.0)
    assert bucket.take("new", 5.0) == 0.0  # the idle ones made room
    assert len(bucket._state) <= 10


def _lookups(client: httpx.Client, token: str, n: int) -> list[int]:
    return [client.get("/api/v1/lookup", params={"value": "192.0.2.1"},
                       headers={"Authorization": f"Bearer {token}"}).status_code for _ in range(n)]


def test_lookups_are_limited_per_token(engine: Engine, serve: Serve) -> None:
    first, second = make_member(engine), make_member(engine)
    with serve(lookup_rate_per_token=2, lookup_rate_per_address=0) as url, \
            httpx.Client(base_url=url, timeout=30) as client:
        statuses = _lookups(client, first.token, 5)
        assert statuses[:4] == [200] * 4 and statuses[4] == 429  # a burst of twice the rate, then refused
        refused = client.post("/api/v1/lookup", json={"values": ["192.0.2.1"]},
                              headers={"Authorization": f"Bearer {first.token}"})
        assert refused.status_code == 429 and refused.json()["error"] == "too_many_requests"
        assert 1 <= int(refused.headers["retry-after"]) <= 2
        assert _lookups(client, second.token, 1) == [200]  # another token has its own bucket
        time.sleep(1.1)
        assert _lookups(client, first.token, 1) == [200]  # refilled


def test_lookups_are_limited_per_address(engine: Engine, serve: Serve) -> None:
    members = [make_member(engine) for _ in range(3)]
    with serve(lookup_rate_per_token=0, lookup_rate_per_address=1) as url, \
            httpx.Client(base_url=url, timeout=30) as client:
        statuses = [_lookups(client, m.token, 1)[0] for m in members]
        assert statuses == [200, 200, 429]  # whatever the token
        anonymous = client.get("/api/v1/lookup", params={"value": "192.0.2.1"})
        assert anonymous.status_code == 429  # counted before authentication
        assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {members[0].token}"}).status_code == 200


def test_log_in_attempts_are_limited_per_address(engine: Engine, serve: Serve) -> None:
    with serve(login_rate_per_address=3) as url, httpx.Client(base_url=url, timeout=30) as client:
        statuses = []
        for _ in range(4):
            client.cookies.clear()
            token = csrf_of(client.get("/login").text)
            statuses.append(client.post("/login", data={"email": "x@y.example", "password": "wrong password",
                                                        "csrf": token}).status_code)
        assert statuses == [401, 401, 401, 429]
        refused = client.post("/login", data={"email": "x@y.example", "password": "wrong", "csrf": token},
                              headers={"Accept": "text/html"})  # as a browser asks
        assert refused.headers["content-type"].startswith("text/html") and "Too many requests" in refused.text
        assert "Too many log-in attempts from your address" in refused.text and refused.headers["retry-after"]


def _member_with_password(engine: Engine) -> str:
    member = make_member(engine)
    with transaction(engine) as conn:
        credentials.set_password(conn, member.email, PASSWORD)
    return member.email


def test_failed_log_ins_per_address_are_agreed_by_every_process(engine: Engine, serve: Serve) -> None:
    email = _member_with_password(engine)
    limits = {"login_rate_per_address": 0, "login_address_max_failures": 3, "login_address_window_minutes": 0.05}
    with serve(**limits) as one, serve(**limits) as two, httpx.Client(base_url=one, timeout=30) as first, \
            httpx.Client(base_url=two, timeout=30) as second:
        assert log_in(first, email, "wrong password 1").status_code == 401
        assert log_in(second, "nobody@nowhere.example", "wrong password 2").status_code == 401
        assert log_in(first, email, "wrong password 3").status_code == 401
        for client in (first, second):  # both processes refuse the address, even the right password
            refused = log_in(client, email)
            assert refused.status_code == 429 and "Too many failed log-ins from your address" in refused.text
            assert 1 <= int(refused.headers["retry-after"]) <= 3
        time.sleep(3.1)  # the window (3 s) has passed
        assert log_in(second, email).status_code == 303
