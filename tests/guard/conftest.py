"""A real server on loopback with settings the test chooses (limits small enough to reach)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import pytest
from sqlalchemy import Engine

from nordcert.config import Settings
from tests.server import running_server

Serve = Callable[..., AbstractContextManager[str]]


@pytest.fixture
def serve(settings: Settings, engine: Engine) -> Serve:
    """``with serve(lookup_rate_per_token=5) as url:`` a server on the test's store with those settings, run
    as ``nordcert serve`` runs it (uvicorn's own proxy handling off)."""

    @contextmanager
    def start(**changes: Any) -> Iterator[str]:
        with running_server(settings.model_copy(update=changes), engine, proxy_headers=False) as url:
            yield url

    return start
