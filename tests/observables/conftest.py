"""A real server on loopback for the lookup, correlation and sighting API tests (as in tests/api)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import Engine

from nordcert.config import Settings
from tests.server import running_server


@pytest.fixture
def base_url(settings: Settings, engine: Engine) -> Iterator[str]:
    with running_server(settings, engine) as url:
        yield url


@pytest.fixture
def http(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=30) as client:
        yield client
