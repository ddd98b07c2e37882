"""Sync under failure: a peer answering garbage, down or slow is recorded as an error and retried with
back-off while sync with the others goes on; a peer killed mid-sync and restarted, and a sync process
killed mid-run and started again, lose and duplicate nothing; what a peer must not send is refused
object by object, with reasons, and the rest is stored."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import uvicorn
from sqlalchemy import select, update
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from nordcert.clock import now_us
from nordcert.db import transaction
from nordcert.federation import peers
from nordcert.federation.incoming import receive
from nordcert.federation.sync import sync_peer
from nordcert.federation.tables import federation_peers
from nordcert.federation.wire import EXTENSION_ID
from nordcert.sharing.tlp import Tlp
from nordcert.worker import run_worker
from tests.federation.conftest import Instance, link
from tests.federation.helpers import indicator

NORDIC = "Nordic fraud"
TAXII = "application/taxii+json;version=2.1"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def bad_peer(behaviour: str) -> Iterator[str]:
    """A server that speaks TAXII discovery but then misbehaves; yields its discovery URL."""
    async def discovery(request: Request) -> Response:
        root = str(request.base_url) + "api/"
        return JSONResponse({"title": "bad", "default": root, "api_roots": [root]}, media_type=TAXII)

    async def objects(request: Request) -> Response:
        if behaviour == "not-json":
            return Response(b"<html>502 Bad Gateway</html>", media_type="text/html")
        if behaviour == "objects-not-a-list":
            return JSONResponse({"more": False, "objects": {"type": "indicator"}}, media_type=TAXII)
        if behaviour == "server-error":
            return Response(b"boom", status_code=500)
        if behaviour == "slow":
            await asyncio.sleep(3)
            return JSONResponse({"more": False}, media_type=TAXII)
        if behaviour == "no-position":
            return JSONResponse({"more": False, "objects": [indicator("x.example")]}, media_type=TAXII)
        raise AssertionError(behaviour)

    app = Starlette(routes=[Route("/taxii2/", discovery), Route("/api/collections/{cid}/objects/", objects)])
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/taxii2/"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def peer_row(inst: Instance, name: str) -> Any:
    with transaction(inst.engine, write=False) as conn:
        return conn.execute(select(federation_peers).where(federation_peers.c.name == name)).one()


@pytest.mark.parametrize("behaviour", ["not-json", "objects-not-a-list", "server-error", "slow", "no-position",
                                       "down"])
def test_a_misbehaving_peer_is_an_error_and_the_others_sync_on(instances: Callable[..., Instance],
                                                                behaviour: str) -> None:
    dk, no = instances("nordcert-dk", "DK"), instances("nordcert-no", "NO")
    dk.member("DB")
    no.member("DNB")
    link(dk, no)
    no.submit(no.members["DNB"], [indicator(f"n{i}.example") for i in range(5)], tlp="green")
    dk.submit(dk.members["DB"], [indicator("d.example")], tlp="green")
    with bad_peer(behaviour) as url:
        if behaviour == "down":
            url = f"http://127.0.0.1:{_free_port()}/taxii2/"
        with transaction(dk.engine) as conn:
            peers.add_peer(conn, dk.settings, name="fi", url=url, instance_name="nordcert-fi", country="FI",
                           token="nct_x", timeout_s=1)
        before = now_us()
        results = {r.peer: r for r in run_worker(dk.engine, dk.settings, once=True)}
    assert results["no"].ok and results["no"].received["created"] == 5
    assert not results["fi"].ok and results["fi"].error
    fi = peer_row(dk, "fi")
    assert fi.failures == 1 and fi.last_error and fi.last_error_at >= before
    assert fi.next_attempt_at > now_us()  # backed off: not retried at the next tick
    assert fi.lease_owner is None  # released for the next attempt
    assert fi.pull_position is None and fi.objects_in == 0  # nothing half-recorded
    assert no.count() == 6 and dk.count() == 6
    # The worker's next round leaves the failing peer alone until its back-off ends.
    assert [r.peer for r in run_worker(dk.engine, dk.settings, once=True)] == []
    # After two more failures the wait has grown (5 s, 10 s, 20 s … with jitter).
    waits = []
    for _ in range(2):
        with transaction(dk.engine) as conn:
            conn.execute(update(federation_peers).where(federation_peers.c.name == "fi").values(next_attempt_at=0))
        start = now_us()
        with bad_peer(behaviour if behaviour != "down" else "server-error") as url:
            with transaction(dk.engine) as conn:
                peers.update_peer(conn, "fi", url=url)
            run_worker(dk.engine, dk.settings, once=True)
        waits.append(peer_row(dk, "fi").next_attempt_at - start)
    assert peer_row(dk, "fi").failures == 3 and waits[1] > waits[0]


def test_refused_objects_are_listed_and_the_rest_stored(instances: Callable[..., Instance]) -> None:
    dk = instances("nordcert-dk", "DK", serve=False)
    dk.group(NORDIC)
    dk.group("Other")
    with transaction(dk.engine) as conn:
        peers.add_peer(conn, dk.settings, name="no", url="http://127.0.0.1:9/taxii2/", instance_name="nordcert-no",
                       country="NO", groups=[NORDIC], max_tlp="amber")
        peer = peers.get_peer(conn, "no")
    no_id = peer.instance_id

    def marked(value: str, tlp: Tlp, **ext: Any) -> dict[str, Any]:
        obj = indicator(value, object_marking_refs=[tlp.marking_id])
        if ext:
            obj["extensions"] = {EXTENSION_ID: {"extension_type": "property-extension", "origin_instance": no_id,
                                                "origin_instance_name": "nordcert-no", "path": [no_id], **ext}}
        return obj

    page = [
        marked("ok-green.example", Tlp.GREEN),
        marked("ok-amber.example", Tlp.AMBER, sharing_group=NORDIC),
        marked("red.example", Tlp.RED),
        marked("strict.example", Tlp.AMBER_STRICT, sharing_group=NORDIC),
        marked("amber-nogroup.example", Tlp.AMBER),
        marked("amber-other.example", Tlp.AMBER, sharing_group="Other"),
        {"type": "indicator", "id": "indicator--not-a-uuid", "object_marking_refs": [Tlp.GREEN.marking_id]},
        "not an object",
        marked("bad-ext.example", Tlp.GREEN, path="nope"),
        marked("loop.example", Tlp.GREEN, path=[no_id, dk.settings.instance_identity_id]),
    ]
    page[-1]["extensions"][EXTENSION_ID]["path"] = [no_id, dk.settings.instance_identity_id]
    with transaction(dk.engine) as conn:
        got = receive(conn, peer, page, dk.settings)
    assert (got.created, got.looped, got.rejected) == (2, 1, 7)
    reasons = {r["index"]: r["reason"] for r in got.rejections}
    assert "TLP:RED never crosses" in reasons[2]
    assert "TLP:AMBER+STRICT never crosses" in reasons[3]
    assert "without a sharing group" in reasons[4]
    assert "'Other' is not shared with peer no" in reasons[5]
    assert "id" in reasons[6]
    assert "not a STIX object" in reasons[7]
    assert "'path' must be a list" in reasons[8]
    assert dk.count() == 2
    # A peer capped at GREEN may not send AMBER at all.
    with transaction(dk.engine) as conn:
        peers.update_peer(conn, "no", max_tlp="green")
        capped = peers.get_peer(conn, "no")
        again = receive(conn, capped, [marked("amber2.example", Tlp.AMBER, sharing_group=NORDIC)], dk.settings)
    assert again.rejected == 1 and "above what peer no may send" in again.rejections[0]["reason"]


def _env(inst: Instance, **extra: str) -> dict[str, str]:
    env = {**os.environ, "NORDCERT_HOME": str(inst.settings.home), "NORDCERT_INSTANCE_NAME": inst.name, **extra}
    if inst.settings.database_url:
        env["NORDCERT_DATABASE_URL"] = inst.settings.database_url
    return env


@contextmanager
def served(inst: Instance, port: int) -> Iterator[subprocess.Popen[bytes]]:
    """``nordcert serve`` for ``inst`` in a process of its own (so that it can be killed)."""
    proc = subprocess.Popen([sys.executable, "-m", "nordcert", "serve", "--host", "127.0.0.1", "--port", str(port)],
                            env=_env(inst), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"server did not start: {proc.stderr.read() if proc.stderr else ''}") from None
                time.sleep(0.05)
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=10)
        if proc.stderr:
            proc.stderr.close()


def _wait_for(cond: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.02)


N = 1500


def test_a_peer_killed_mid_sync_and_restarted_loses_and_duplicates_nothing(
        instances: Callable[..., Instance]) -> None:
    dk = instances("nordcert-dk", "DK", federation_page_size=25)
    no = instances("nordcert-no", "NO", serve=False)
    dk.member("DB")
    no.member("DNB")
    objs = [indicator(f"n{i}.example") for i in range(N)]
    no.submit(no.members["DNB"], objs, tlp="green")
    port = _free_port()
    no.url = f"http://127.0.0.1:{port}"
    link(dk, no, direction="pull")
    with served(no, port) as proc:
        box: dict[str, Any] = {}
        worker = threading.Thread(target=lambda: box.update(r=sync_peer(dk.engine, dk.settings, "no")))
        worker.start()
        _wait_for(lambda: dk.count() > 0)
        proc.send_signal(signal.SIGKILL)  # the peer dies mid-sync
        proc.wait()
        worker.join(timeout=60)
    partial = dk.count()
    assert not box["r"].ok and 0 < partial < N, partial
    assert peer_row(dk, "no").failures == 1
    with served(no, port):  # back on the same address
        result = sync_peer(dk.engine, dk.settings, "no")
    assert result.ok, result.error
    assert dk.count() == N and {i for i, _ in dk.ids()} == {o["id"] for o in objs}
    assert peer_row(dk, "no").objects_in == N and peer_row(dk, "no").failures == 0


def test_a_sync_process_killed_mid_run_and_started_again_loses_and_duplicates_nothing(
        instances: Callable[..., Instance]) -> None:
    dk = instances("nordcert-dk", "DK", serve=False)
    no = instances("nordcert-no", "NO")
    dk.member("DB")
    no.member("DNB")
    objs = [indicator(f"n{i}.example") for i in range(N)]
    no.submit(no.members["DNB"], objs, tlp="green")
    dk.url = "http://127.0.0.1:9"  # DK only pulls: nobody calls it
    link(dk, no, direction="pull")
    cmd = [sys.executable, "-m", "nordcert", "federation", "sync", "no", "--json"]
    env = _env(dk, NORDCERT_FEDERATION_PAGE_SIZE="25")
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _wait_for(lambda: dk.count() > 0)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    partial = dk.count()
    assert 0 < partial < N, partial
    assert peer_row(dk, "no").lease_owner is not None  # the dead process still holds the peer …
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr  # … and the next run takes it over at once
    assert dk.count() == N and {i for i, _ in dk.ids()} == {o["id"] for o in objs}
