"""Paging 10,000 objects through TAXII while other members keep adding objects.

Pages of 1000 are read with ``next`` (taxii2-client's ``as_pages``, and raw requests on the
manifest) and with ``added_after`` set to each page's ``X-TAXII-Date-Added-Last``, while three
writers add objects (two through ``ingest`` in their own transactions, one through TAXII add).
No object present at the start may be skipped or repeated, ``date_added`` must strictly increase
across pages, and once the writers stop, continuing from the last page finds every object stored.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy import Engine, select
from taxii2client.v21 import Collection, as_pages

from nordcert.config import Settings
from nordcert.db import transaction
from nordcert.intel.tables import stix_objects
from nordcert.intel.validate import timestamp_us
from tests.factories import Member, indicator
from tests.taxii.conftest import TAXII, Taxii, World, bearer, ids_of, put

N = 10_000
PAGE = 1000


def _ip(i: int) -> str:
    return f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}"


class Writers:
    """Threads that add batches of new GREEN objects until stopped (or a bound is reached)."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.errors: list[BaseException] = []
        self.written: list[int] = []
        self.threads: list[threading.Thread] = []
        self.started: list[threading.Event] = []

    def add(self, write: Callable[[list[dict[str, Any]]], None], offset: int, batch: int = 20,
            max_batches: int = 150) -> None:
        slot = len(self.written)
        self.written.append(0)
        started = threading.Event()
        self.started.append(started)

        def run() -> None:
            try:
                for b in range(max_batches):
                    if self.stop.is_set():
                        break
                    write([indicator(_ip(offset + b * batch + i)) for i in range(batch)])
                    self.written[slot] += batch
                    started.set()
                    time.sleep(0.01)
            except Exception as exc:  # noqa: BLE001 - reported by join()
                self.errors.append(exc)
            finally:
                started.set()

        self.threads.append(threading.Thread(target=run, daemon=True))

    def start(self) -> None:
        for t in self.threads:
            t.start()
        for e in self.started:
            assert e.wait(20)

    def join(self) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(30)
            assert not t.is_alive()
        assert not self.errors, self.errors


def _page_manifest(http: httpx.Client, path: str, m: Member, **params: Any) -> tuple[dict[str, Any], httpx.Headers]:
    r = http.get(path, params={"limit": PAGE, **params}, headers=bearer(m))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == TAXII
    return r.json(), r.headers


def test_paging_10000_objects_while_others_write(world: World, taxii: Taxii, http: httpx.Client, engine: Engine,
                                                 settings: Settings) -> None:
    initial = [indicator(_ip(i)) for i in range(N)]
    put(engine, settings, world.alpha, initial, tlp="green")
    initial_ids = [o["id"] for o in initial]  # date_added follows this order
    reader = world.outsider
    cid = world.coll["sector"]
    base = f"/taxii2/api/collections/{cid}"
    coll: Collection = taxii.collection(reader, cid)

    writers = Writers()
    writers.add(lambda objs: put(engine, settings, world.alpha, objs, tlp="green"), offset=1 << 20)
    writers.add(lambda objs: put(engine, settings, world.boreal, objs, tlp="green"), offset=2 << 20)
    # The third writer goes through TAXII add, on its own connection.
    pusher = taxii.collection(world.admin, cid)

    def push(objs: list[dict[str, Any]]) -> None:
        status = pusher.add_objects({"objects": objs, "more": False})
        assert status.success_count == len(objs), status.failures

    writers.add(push, offset=3 << 20)
    writers.start()
    try:
        # 1. as_pages over get_objects: pages of 1000 following 'next'.
        seen: list[str] = []
        pages = 0
        for env in as_pages(coll.get_objects, per_request=PAGE):
            pages += 1
            got = ids_of(env)
            if env["more"]:
                assert len(got) == PAGE and env["next"]
            seen += got
        assert pages > N // PAGE
        assert len(seen) == len(set(seen)), "an object was repeated"
        first = set(initial_ids)
        assert [i for i in seen if i in first] == initial_ids, "an initial object was skipped or reordered"

        # 2. The manifest page by page with 'next': date_added strictly increasing, headers exact.
        records: list[dict[str, Any]] = []
        env, headers = _page_manifest(http, f"{base}/manifest/", reader)
        while True:
            page = env["objects"]
            assert headers["x-taxii-date-added-first"] == page[0]["date_added"]
            assert headers["x-taxii-date-added-last"] == page[-1]["date_added"]
            records += page
            if not env["more"]:
                assert "next" not in env
                break
            assert len(page) == PAGE
            env, headers = _page_manifest(http, f"{base}/manifest/", reader, next=env["next"])
        # Timestamps are compared as instants: their precision varies (.123Z, .123456Z).
        added = [timestamp_us(r["date_added"]) for r in records]
        assert all(a < b for a, b in itertools.pairwise(added)), "date_added not strictly increasing"
        ids = [r["id"] for r in records]
        assert len(ids) == len(set(ids))
        assert [i for i in ids if i in first] == initial_ids

        # 3. Objects with added_after = the X-TAXII-Date-Added-Last of each page.
        by_date: list[str] = []
        after: str | None = None
        last_seen: list[int] = []
        while True:
            params: dict[str, Any] = {"limit": PAGE}
            if after:
                params["added_after"] = after
            r = http.get(f"{base}/objects/", params=params, headers=bearer(reader))
            assert r.status_code == 200
            got = ids_of(r.json())
            by_date += got
            if not got:
                assert "x-taxii-date-added-last" not in r.headers
                break
            if after is not None:
                assert timestamp_us(r.headers["x-taxii-date-added-first"]) > timestamp_us(after)
            last_seen.append(timestamp_us(r.headers["x-taxii-date-added-last"]))
            after = r.headers["x-taxii-date-added-last"]
            if not r.json()["more"]:
                break
        assert last_seen == sorted(last_seen) and len(set(last_seen)) == len(last_seen)
        assert len(by_date) == len(set(by_date))
        assert [i for i in by_date if i in first] == initial_ids
    finally:
        writers.join()

    # The writers did write while the pages were read.
    assert all(n > 0 for n in writers.written)
    concurrent = sum(writers.written)
    assert any(i not in first for i in seen + ids + by_date)

    # Once they stop, continuing from the last header finds every object stored, each once.
    while True:
        r = http.get(f"{base}/objects/", params={"limit": PAGE, "added_after": after}, headers=bearer(reader))
        got = ids_of(r.json())
        by_date += got
        if not r.json()["more"]:
            break
        after = r.headers["x-taxii-date-added-last"]
    with transaction(engine, write=False) as conn:
        stored = conn.execute(select(stix_objects.c.stix_id).order_by(stix_objects.c.date_added)).scalars().all()
    assert len(stored) == N + concurrent
    assert by_date == list(stored)
