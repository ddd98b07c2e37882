"""Fixtures: a real, freshly migrated store for every test.

SQLite by default (a temporary file). With ``NORDCERT_TEST_POSTGRES_URL`` set (for example
``postgresql+psycopg://postgres@127.0.0.1:5432/test``) every test gets a fresh PostgreSQL
schema instead, dropped afterwards: the same suite runs on both stores.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, create_engine, text

from nordcert.audit import buffered
from nordcert.config import Settings
from nordcert.db import make_engine, migrate
from tests.server import running_server

POSTGRES_URL = os.environ.get("NORDCERT_TEST_POSTGRES_URL")


def _pg_url_with_schema(url: str, schema: str) -> str:
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-csearch_path%3D{schema}"


@pytest.fixture
def settings(tmp_path: Path) -> Iterator[Settings]:
    """Settings of a fresh instance whose store is migrated and empty."""
    if POSTGRES_URL:
        schema = "t_" + uuid.uuid4().hex[:16]
        admin = create_engine(POSTGRES_URL)
        with admin.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        try:
            yield Settings(home=tmp_path, database_url=_pg_url_with_schema(POSTGRES_URL, schema))
        finally:
            with admin.begin() as conn:
                conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
            admin.dispose()
    else:
        yield Settings(home=tmp_path)


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    eng = make_engine(settings)
    migrate(eng)
    yield eng
    buffered.flush(eng)  # read events still queued go to this test's store, before its schema is dropped
    eng.dispose()


@pytest.fixture
def base_url(settings: Settings, engine: Engine) -> Iterator[str]:
    """A real server on loopback serving this test's store."""
    with running_server(settings, engine) as url:
        yield url


@pytest.fixture
def http(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=30) as client:
        yield client


def chromium_path() -> str | None:
    """Debian's Chromium (or ``NORDCERT_TEST_CHROMIUM``), driven by Playwright without a download."""
    for candidate in (os.environ.get("NORDCERT_TEST_CHROMIUM"), shutil.which("chromium"),
                      shutil.which("chromium-browser"), "/usr/bin/chromium"):
        if candidate and Path(candidate).exists():
            return candidate
    return None


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """One headless Chromium per test process, shared by every browser test (one Playwright session:
    two in one process conflict)."""
    path = chromium_path()
    if path is None:
        pytest.skip("no Chromium found: install Debian's chromium package (apt-get install chromium) "
                    "or set NORDCERT_TEST_CHROMIUM")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=path, headless=True,
                                     args=["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"])
        yield browser
        browser.close()
