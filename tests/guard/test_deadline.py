"""The read deadline: a GET whose answer has not started in time is answered 503 with Retry-After; a
write waits as long as it needs and answers what it stored."""

from __future__ import annotations

import threading
import time

import httpx
from sqlalchemy import Engine, update

from nordcert.accounts import credentials
from nordcert.accounts.tables import api_tokens
from nordcert.db import transaction
from tests.factories import bundle, indicator, make_member
from tests.guard.conftest import Serve


def test_a_stuck_read_is_answered_503_and_a_stuck_write_is_not_cut_off(engine: Engine, serve: Serve) -> None:
    member = make_member(engine)
    target = indicator("192.0.2.99")
    with transaction(engine) as conn:
        writer = credentials.create_token(conn, user=member.email)  # never used: its first use records that
        reader_token = credentials.create_token(conn, user=member.email)
    with serve(request_timeout_seconds=0.5) as url, httpx.Client(base_url=url, timeout=30) as client:
        assert client.post("/api/v1/objects", json=bundle(target),
                           headers={"Authorization": f"Bearer {member.token}"}).status_code == 201
        posted: list[httpx.Response] = []
        with transaction(engine) as lock:
            # Holds the tokens' rows (and on SQLite the store's write lock): recording a token's use waits.
            lock.execute(update(api_tokens).where(api_tokens.c.id.in_([writer.id, reader_token.id]))
                         .values(label="held"))
            started = time.monotonic()
            stuck = client.get("/api/v1/me", headers={"Authorization": f"Bearer {reader_token.token}"})
            waited = time.monotonic() - started

            def write() -> None:
                with httpx.Client(base_url=url, timeout=30) as other:
                    posted.append(other.post(f"/api/v1/objects/{target['id']}/sightings", json={"count": 2},
                                             headers={"Authorization": f"Bearer {writer.token}"}))

            thread = threading.Thread(target=write)
            thread.start()
            time.sleep(1.5)  # three times the deadline
            assert not posted  # still waiting, not cut off
        thread.join(timeout=30)
        assert stuck.status_code == 503 and 0.4 < waited < 5
        assert stuck.json()["error"] == "timeout" and stuck.headers["retry-after"] == "30"
        assert posted[0].status_code == 201, posted[0].text
        sightings = client.get(f"/api/v1/objects/{target['id']}/sightings",
                               headers={"Authorization": f"Bearer {member.token}"}).json()
        assert sightings["count"] == 2
        assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {reader_token.token}"}).status_code == 200
