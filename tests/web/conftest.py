"""Web tests: a real server on loopback, members with passwords, and headless Chromium.

Chromium is Debian's ``chromium`` package (or ``NORDCERT_TEST_CHROMIUM``), driven by Playwright
without downloading a browser. Screenshots of the main pages go to ``tests/web/screenshots/``,
which git ignores.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from nordcert.accounts import credentials
from nordcert.accounts import service as accounts
from nordcert.db import transaction
from tests.conftest import chromium_path  # noqa: F401 - re-exported for the page tests
from tests.factories import Member, make_member, refresh

SCREENSHOTS = Path(__file__).parent / "screenshots"
PASSWORD = "correct horse battery"


@dataclass
class World:
    """Alpha and Boreal share the group "DK banks"; Carol's bank is in no group; Ingrid is CERT staff."""

    alpha: Member
    boreal: Member
    carol: Member
    staff: Member
    group: str = "DK banks"


@pytest.fixture
def world(engine: Engine) -> World:
    alpha = make_member(engine, name="Alpha Bank")
    boreal = make_member(engine, name="Boreal Bank", country="NO")
    carol = make_member(engine, name="Carol Sparbank", country="SE")
    staff = make_member(engine, name="Nordic CERT", role="cert_admin", sector_type="cert")
    with transaction(engine) as conn:
        accounts.create_group(conn, name="DK banks", members=[alpha.org_id, boreal.org_id])
        for m in (alpha, boreal, carol, staff):
            credentials.set_password(conn, m.email, PASSWORD)
    return World(refresh(engine, alpha), refresh(engine, boreal), carol, staff)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "the page has no CSRF token"
    return found.group(1)


def log_in(client: httpx.Client, email: str, password: str = PASSWORD) -> httpx.Response:
    """Log ``client`` in as ``email`` (as a new browser: any earlier session's cookies are dropped)."""
    client.cookies.clear()
    token = csrf_of(client.get("/login").text)
    return client.post("/login", data={"email": email, "password": password, "csrf": token, "next": "/"})


@pytest.fixture
def browser_page(chromium: Any, base_url: str) -> Iterator[Any]:
    context = chromium.new_context(base_url=base_url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


def screenshot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
