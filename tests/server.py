"""A real nordcert server on a loopback port for protocol tests, stopped when the test ends."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn
from sqlalchemy import Engine

from nordcert.app import create_app
from nordcert.config import Settings


@contextmanager
def running_server(settings: Settings, engine: Engine, port: int = 0, **options: Any) -> Iterator[str]:
    """Serve the app on 127.0.0.1 (``port``, or a free one) in a thread; yields its base URL.

    ``options`` go to uvicorn's Config (e.g. ``proxy_headers=False``, as ``nordcert serve`` runs)."""
    # IPPROTO_TCP named: asyncio sets TCP_NODELAY only on accepted sockets whose protocol says TCP, and
    # without it every answer waits ~40 ms on Nagle's algorithm and the client's delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    port = sock.getsockname()[1]
    config = uvicorn.Config(create_app(settings, engine=engine), log_level="warning", lifespan="off", **options)
    server = uvicorn.Server(config)
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
