"""Real TAXII 2.1 peers for client tests: another nordcert instance, and the OASIS reference server medallion."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

MEDALLION_COLLECTION = "91a7b528-80eb-42ed-a74d-c6fbd5a26116"
MEDALLION_USER, MEDALLION_PASSWORD = "peer", "peer-secret"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def medallion(tmp: Path, objects: list[dict[str, Any]]) -> Iterator[str]:
    """medallion (memory backend) on a loopback port with one read/write collection holding ``objects``;
    yields its discovery URL and stops it afterwards."""
    added = "2026-11-20T08:00:00.000000Z"
    port = _free_port()
    root = f"http://127.0.0.1:{port}/api1/"
    data = {
        "/discovery": {"title": "medallion peer", "default": root, "api_roots": [root]},
        "api1": {
            "information": {"title": "api1", "versions": ["application/taxii+json;version=2.1"],
                            "max_content_length": 10_000_000},
            "status": [],
            "collections": [{
                "id": MEDALLION_COLLECTION, "title": "peer collection", "can_read": True, "can_write": True,
                "media_types": ["application/stix+json;version=2.1"],
                "objects": [{**o, "_date_added": added} for o in objects],
                "manifest": [{"id": o["id"], "date_added": added, "version": o.get("modified", added),
                              "media_type": "application/stix+json;version=2.1"} for o in objects],
            }],
        },
    }
    data_file = tmp / "medallion-data.json"
    data_file.write_text(json.dumps(data))
    config = tmp / "medallion.json"
    config.write_text(json.dumps({
        "backend": {"module": "medallion.backends.memory_backend", "module_class": "MemoryBackend",
                    "filename": str(data_file)},
        "users": {MEDALLION_USER: MEDALLION_PASSWORD},
        "taxii": {"max_page_size": 100},
    }))
    proc = subprocess.Popen([sys.executable, "-m", "medallion.scripts.run", "--host", "127.0.0.1", "--port",
                             str(port), str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}/taxii2/"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(url, auth=(MEDALLION_USER, MEDALLION_PASSWORD), timeout=1,
                          headers={"Accept": "application/taxii+json;version=2.1"})
                break
            except httpx.HTTPError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("medallion did not start: " + (proc.stderr.read() or b"").decode()[-500:])
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        if proc.stderr:
            proc.stderr.close()
