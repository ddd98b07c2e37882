"""`nordcert worker` left running: it syncs each peer on its schedule, keeps retrying a peer that went
down with back-off, and catches up by itself when the peer returns, with nothing lost or duplicated."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from nordcert.federation import sync
from nordcert.worker import run_worker
from tests.federation.conftest import Instance, link
from tests.federation.helpers import indicator
from tests.server import running_server


def _wait_for(cond: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.05)


def test_the_worker_catches_up_by_itself_after_a_peer_was_down(instances: Callable[..., Instance],
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sync, "BACKOFF_BASE_S", 0.2)  # seconds instead of minutes, same doubling
    dk = instances("nordcert-dk", "DK")
    se = instances("nordcert-se", "SE", serve=False)
    dk.member("DB")
    se.member("SEB")
    stop = threading.Event()
    results: list[sync.SyncResult] = []
    worker = threading.Thread(target=run_worker, args=(dk.engine, dk.settings),
                              kwargs={"tick_s": 0.05, "stop": stop, "on_result": results.append})
    try:
        with running_server(se.settings, se.engine) as url:
            se.url = url
            port = int(url.rsplit(":", 1)[1])
            link(dk, se, interval_s=1, timeout_s=2)
            worker.start()
            dk.submit(dk.members["DB"], [indicator("first.example")], tlp="green")
            _wait_for(lambda: se.count() == 1)
        # Sweden is down: the worker keeps failing and backing off; DK's members keep sharing.
        down_since = len(results)
        dk.submit(dk.members["DB"], [indicator(f"while-down-{i}.example") for i in range(20)], tlp="green")
        _wait_for(lambda: sum(not r.ok for r in results[down_since:]) >= 2)
        # Sweden returns on the same address: the worker catches up without anyone asking.
        with running_server(se.settings, se.engine, port=port):
            _wait_for(lambda: se.count() == 21)
            _wait_for(lambda: bool(results) and results[-1].ok)
    finally:
        stop.set()
        if worker.is_alive():
            worker.join(timeout=30)
    assert not worker.is_alive()
    assert len(se.ids()) == 21  # every version once
