"""The federation page: CERT staff see every peer's state and ask for a sync; nobody else sees it."""

from __future__ import annotations

import re
from typing import Any

import httpx
import orjson
from sqlalchemy import Engine, select, update

from nordcert.accounts import service as accounts
from nordcert.clock import now_us
from nordcert.config import Settings
from nordcert.db import transaction
from nordcert.federation import peers
from nordcert.federation.tables import federation_peers
from tests.web.conftest import PASSWORD, World, csrf_of, log_in, screenshot

ERROR = "ConnectError: [Errno 111] Connection refused while fetching http://127.0.0.1:9/taxii2/ (attempt 3)"
REFUSED_ID = "indicator--5e2c7d1a-3b4f-4c6d-8e9f-0a1b2c3d4e5f"


def _two_peers(engine: Engine, settings: Settings, world: World) -> None:
    """Norway failing three times in a row with refused objects; Sweden synced three minutes ago."""
    now = now_us()
    with transaction(engine) as conn:
        accounts.create_group(conn, name="Nordic CERTs")
        peers.add_peer(conn, settings, name="no", url="http://127.0.0.1:9/taxii2/", instance_name="nordcert-no",
                       country="NO", groups=["Nordic CERTs", world.group])
        peers.add_peer(conn, settings, name="se", url="http://127.0.0.1:9/se/taxii2/", instance_name="nordcert-se",
                       country="SE", direction="pull", max_tlp="green", token="token-of-se")
        fp = federation_peers.c
        conn.execute(update(federation_peers).where(fp.name == "no").values(
            failures=3, last_error=ERROR, last_error_at=now - 60_000_000, last_attempt_at=now - 60_000_000,
            next_attempt_at=now + 600_000_000, rejected_in=1,
            last_rejections=orjson.dumps([{"index": 0, "id": REFUSED_ID, "reason": "TLP:RED never crosses"}]).decode()))
        conn.execute(update(federation_peers).where(fp.name == "se").values(
            last_success_at=now - 180_000_000, last_attempt_at=now - 180_000_000, objects_in=42,
            next_attempt_at=now + 120_000_000))


def _row(html: str, name: str) -> str:
    """The part of the page about one peer: its row and the error and refusals under it."""
    start = html.index(f'<tbody class="peer" id="peer-{name}">')
    end = html.find('<tbody class="peer"', start + 1)
    return html[start:end if end > 0 else None]


def test_staff_see_how_to_add_a_peer_when_there_is_none(http: httpx.Client, world: World) -> None:
    log_in(http, world.staff.email)
    home = http.get("/")
    assert 'href="/federation"' in home.text
    page = http.get("/federation")
    assert page.status_code == 200 and "No federation peers yet" in page.text
    assert "nordcert federation peer add NAME --url URL --instance INSTANCE --country CC --group GROUP" in page.text


def test_staff_see_every_peer_with_its_state_traffic_and_errors(http: httpx.Client, world: World, engine: Engine,
                                                              settings: Settings) -> None:
    _two_peers(engine, settings, world)
    log_in(http, world.staff.email)
    page = http.get("/federation")
    assert page.status_code == 200
    no, se = _row(page.text, "no"), _row(page.text, "se")
    assert "nordcert-no" in no and "NO" in no and "TLP:AMBER" in no
    assert "Nordic CERTs" in no and world.group in no
    assert '<span class="state state-failing">failing</span>' in no
    assert ERROR in no and "no token" in no
    assert "<details>" in no and REFUSED_ID in no and "TLP:RED never crosses" in no
    assert re.search(r'<td class="num warn">3</td>', no)
    assert re.search(r"in (9|10) min", no)
    assert "nordcert-se" in se and "TLP:GREEN" in se and ">pull<" in se
    assert '<span class="state state-ok">ok</span>' in se
    assert re.search(r'<span title="\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC">3 min ago</span>', se)
    assert "<details>" not in se and "Last error" not in se and "no token" not in se
    assert ">42<" in se


def test_sync_now_asks_the_worker_to_sync_the_peer_at_its_next_round(http: httpx.Client, world: World,
                                                                     engine: Engine, settings: Settings) -> None:
    _two_peers(engine, settings, world)
    log_in(http, world.staff.email)
    token = csrf_of(http.get("/federation").text)
    forged = http.post("/federation/no/sync", data={"csrf": "forged"})
    assert forged.status_code == 403
    done = http.post("/federation/no/sync", data={"csrf": token}, follow_redirects=True)
    assert done.status_code == 200 and "Sync of no requested" in done.text
    assert str(done.url).endswith("/federation")
    with transaction(engine, write=False) as conn:
        due = dict(conn.execute(select(federation_peers.c.name, federation_peers.c.next_attempt_at)).all())
    assert due["no"] == 0 and due["se"] > 0
    unknown = http.post("/federation/dk/sync", data={"csrf": token})
    assert unknown.status_code == 422 and "no federation peer" in unknown.text


def test_only_cert_staff_see_the_page(http: httpx.Client, world: World, engine: Engine, settings: Settings) -> None:
    _two_peers(engine, settings, world)
    anonymous = http.get("/federation", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    log_in(http, world.alpha.email)
    assert 'href="/federation"' not in http.get("/").text
    refused = http.get("/federation", headers={"Accept": "text/html"})
    assert refused.status_code == 404 and "nordcert-no" not in refused.text
    token = csrf_of(http.get("/profile").text)
    assert http.post("/federation/no/sync", data={"csrf": token}).status_code == 404
    with transaction(engine, write=False) as conn:
        due = conn.execute(select(federation_peers.c.next_attempt_at).where(federation_peers.c.name == "no")).scalar()
    assert due > 0


def test_the_page_in_a_browser(browser_page: Any, world: World, engine: Engine, settings: Settings) -> None:
    _two_peers(engine, settings, world)
    page = browser_page
    page.goto("/login")
    page.get_by_label("Email").fill(world.staff.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/$"))
    page.get_by_role("link", name="Federation").click()
    page.wait_for_url(re.compile(r"/federation$"))
    assert page.locator("#peer-no .state").inner_text() == "failing"
    assert page.locator("#peer-se .state").inner_text() == "ok"
    page.locator("#peer-no summary").click()
    assert page.get_by_text(REFUSED_ID).is_visible()
    screenshot(page, "federation")
    page.get_by_role("button", name="Sync no now").click()
    page.wait_for_url(re.compile(r"/federation$"))
    assert "Sync of no requested" in page.locator(".flash").inner_text()
