"""The servers bench/taxii.py measures: nordcert and medallion set up with their own tools, each with
one read/write collection, and a bare uvicorn app for the physical limits. Each start registers its
stop on the caller's ExitStack."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
from _servers import HOST, BenchError, Server, clean_env, free_port

TAXII = "application/taxii+json;version=2.1"
BENCH_EMAIL = "analyst@bench.example"
MEDALLION_USER, MEDALLION_PASSWORD = "bench", "bench-secret"


@dataclass
class Target:
    """Where a TAXII server keeps the benchmark's collection, and how to authenticate."""

    name: str
    server: Server
    objects_path: str  # .../collections/<id>/objects/
    status_path: str  # .../status/
    headers: dict[str, str]
    auth: tuple[str, str] | None = None

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.server.base, headers={"Accept": TAXII, **self.headers}, auth=self.auth,
                            timeout=httpx.Timeout(600.0, connect=10.0))


def _cli(home: Path, *args: str, env: dict[str, str] | None = None) -> Any:
    """One ``nordcert --instance HOME ... --json`` command; its JSON output."""
    argv = [sys.executable, "-m", "nordcert", "--instance", str(home), *args, "--json"]
    done = subprocess.run(argv, check=False, capture_output=True, env={**clean_env(), **(env or {})}, timeout=120,
                          stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        raise BenchError(f"nordcert {' '.join(args)} failed:\n{done.stderr.decode(errors='replace')}")
    return orjson.loads(done.stdout)


def start_nordcert(stack: contextlib.ExitStack, tmp: Path, env: dict[str, str] | None = None) -> Target:
    """nordcert on a fresh instance; ``env``: NORDCERT_* settings for its commands and its server."""
    home = tmp / f"nordcert-{uuid.uuid4().hex[:8]}"
    _cli(home, "init", env=env)
    _cli(home, "org", "add", "Bench Bank ASA", "--country", "NO", "--type", "bank", "--short", "BENCH")
    _cli(home, "user", "add", BENCH_EMAIL, "--org", "BENCH", "--role", "analyst")
    token = _cli(home, "token", "create", BENCH_EMAIL, "--label", "bench")["token"]
    coll = _cli(home, "collection", "add", "Bench", "--kind", "sector", "--read-all", "--write-all")["id"]
    port = free_port()
    server = Server("nordcert", [sys.executable, "-m", "nordcert", "--instance", str(home), "serve",
                                 "--host", HOST, "--port", str(port)], home.with_suffix(".log"), port, env=env)
    stack.callback(server.stop)
    server.start("/taxii2/")
    return Target("nordcert", server, f"/taxii2/api/collections/{coll}/objects/", "/taxii2/api/status/",
                  {"Authorization": f"Bearer {token}"})


def start_medallion(stack: contextlib.ExitStack, tmp: Path) -> Target:
    folder = tmp / f"medallion-{uuid.uuid4().hex[:8]}"
    folder.mkdir()
    port = free_port()
    coll = str(uuid.uuid4())
    data = {
        "/discovery": {"title": "medallion (bench)", "description": "bench", "default": f"http://{HOST}:{port}/bench/",
                       "api_roots": [f"http://{HOST}:{port}/bench/"]},
        "bench": {
            "information": {"title": "Bench", "description": "bench", "versions": [TAXII],
                            "max_content_length": 256 * 1024 * 1024},
            "status": [],
            "collections": [{"id": coll, "title": "Bench", "description": "", "can_read": True, "can_write": True,
                             "media_types": ["application/stix+json;version=2.1"], "objects": [], "manifest": []}],
        },
    }
    (folder / "data.json").write_bytes(orjson.dumps(data))
    config = {
        # session_timeout: how long a 'next' stays valid (default 30 s, too short to page through 50k objects).
        "backend": {"module": "medallion.backends.memory_backend", "module_class": "MemoryBackend",
                    "filename": str(folder / "data.json"), "session_timeout": 24 * 3600},
        "users": {MEDALLION_USER: MEDALLION_PASSWORD},
        "taxii": {"max_page_size": 10_000},
    }
    (folder / "config.json").write_bytes(orjson.dumps(config))
    server = Server("medallion", [sys.executable, "-m", "medallion.scripts.run", "--host", HOST, "--port", str(port),
                                  "--log-level", "WARN", str(folder / "config.json")], folder / "server.log", port,
                    cwd=folder)
    stack.callback(server.stop)
    server.start("/taxii2/")
    return Target("medallion", server, f"/bench/collections/{coll}/objects/", "/bench/status/", {},
                  (MEDALLION_USER, MEDALLION_PASSWORD))


_BARE_APP = r"""
import sys
import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

PAGE = open(sys.argv[2], "rb").read()
MEDIA = "application/taxii+json;version=2.1"

async def hello(request):
    return JSONResponse({"hello": "world"})

async def page(request):
    return Response(PAGE, media_type=MEDIA)

async def add(request):
    n = len(orjson.loads(await request.body())["objects"])
    return Response(orjson.dumps({"status": "complete", "success_count": n}), status_code=202, media_type=MEDIA)

app = Starlette(routes=[Route("/hello", hello), Route("/page", page), Route("/add", add, methods=["POST"])])
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="info")
"""


def start_bare(stack: contextlib.ExitStack, tmp: Path, page: bytes) -> Server:
    (tmp / "page.json").write_bytes(page)
    port = free_port()
    server = Server("bare", [sys.executable, "-c", _BARE_APP, str(port), str(tmp / "page.json")],
                    tmp / "bare.log", port)
    stack.callback(server.stop)
    server.start("/hello")
    return server


# --- the measurements -----------------------------------------------------------------------
