"""Shared helpers of the MISP tests (imported explicitly: tests/formats is shared with other formats)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
import uvicorn
from sqlalchemy import Engine

from nordcert.app import create_app
from nordcert.config import Settings
from nordcert.db import transaction
from nordcert.formats.misp_feed_api import router
from nordcert.formats.misp_import import import_misp
from nordcert.intel.ingest import submission_for
from tests.factories import Member

DATA = Path(__file__).resolve().parent.parent / "data"
PYMISP_EVENTS = sorted((DATA / "pymisp-test-events").glob("*.json"))
FEED = DATA / "digitalside-misp-feed" / "feed"
FEED_EVENTS = sorted(FEED.glob("*-*.json"))


def event_of(path: Path) -> dict[str, Any]:
    doc = orjson.loads(path.read_bytes())
    event: dict[str, Any] = doc.get("Event", doc)
    return event


def import_file(engine: Engine, settings: Settings, member: Member, source: Path | str,
                **sharing: Any) -> dict[str, Any]:
    with transaction(engine) as conn:
        sub = submission_for(conn, member.reader, **sharing)
        return import_misp(conn, source, sub, settings)


@contextmanager
def feed_server(settings: Settings, engine: Engine) -> Iterator[str]:
    """The app with the MISP feed router, on a loopback port (until app.py includes it)."""
    app = create_app(settings, engine=engine)
    if not any(getattr(r, "path", "").startswith("/feeds/misp") for r in app.routes):
        app.include_router(router)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
