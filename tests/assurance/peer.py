"""A federation peer that records what is pushed to it: a minimal TAXII 2.1 receiver on 127.0.0.1.

It answers discovery (TAXII 2.1 §4.1) and an add of objects to any collection (§5.4) with a complete
status, and keeps every envelope it was sent, so a test can check what left the instance.
"""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

TAXII = "application/taxii+json;version=2.1"


class Recorder:
    def __init__(self) -> None:
        self.objects: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    def clear(self) -> None:
        with self.lock:
            self.objects.clear()

    def app(self) -> Starlette:
        async def discovery(request: Request) -> Response:
            return Response(orjson.dumps({"title": "recording peer", "default": "/taxii2/api/",
                                          "api_roots": ["/taxii2/api/"]}), media_type=TAXII)

        async def add(request: Request) -> Response:
            envelope = orjson.loads(await request.body())
            objects = envelope.get("objects", [])
            with self.lock:
                self.objects.extend(objects)
            status = {"id": str(uuid.uuid4()), "status": "complete", "total_count": len(objects),
                      "success_count": len(objects), "successes": [], "failure_count": 0, "failures": [],
                      "pending_count": 0, "pendings": []}
            return Response(orjson.dumps(status), status_code=202, media_type=TAXII)

        return Starlette(routes=[Route("/taxii2/", discovery),
                                 Route("/taxii2/api/collections/{cid}/objects/", add, methods=["POST"])])


@contextmanager
def recording_peer() -> Iterator[tuple[str, Recorder]]:
    """Serve a :class:`Recorder` on a free loopback port; yields (discovery URL, recorder)."""
    recorder = Recorder()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # TCP_NODELAY (tests/server.py)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(recorder.app(), log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the recording peer did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}/taxii2/", recorder
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
