"""A backup taken while the server keeps adding objects holds one moment of the store: every object in it
has its observables, and its counts are those of a moment between two of the writer's commits."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
from sqlalchemy import Engine, text

from nordcert.db import make_engine, transaction
from nordcert.ops.backup import take_backup
from nordcert.ops.restore import restore
from tests.factories import bundle, indicator, make_member
from tests.ops.conftest import StoreFactory

_PER_BATCH = 5


def _counts(engine: Engine) -> tuple[int, int]:
    """(indicators the writer added, observables of theirs) as one read sees them."""
    with transaction(engine, write=False) as conn:
        objects = conn.execute(text("SELECT count(*) FROM stix_objects WHERE name LIKE 'writer %'")).scalar_one()
        values = conn.execute(text("SELECT count(*) FROM observables o JOIN stix_objects s ON "
                                   "s.date_added = o.date_added WHERE s.name LIKE 'writer %'")).scalar_one()
    return objects, values


def test_a_backup_taken_while_objects_are_added_is_consistent(engine: Engine, base_url: str, tmp_path: Path,
                                                               new_store: StoreFactory) -> None:
    member = make_member(engine)
    committed = [0]  # batches the server has answered 201 for
    stop = threading.Event()
    failures: list[str] = []

    def writer() -> None:
        with httpx.Client(base_url=base_url, timeout=30,
                          headers={"Authorization": f"Bearer {member.token}"}) as client:
            n = 0
            while not stop.is_set():
                objs = [indicator(f"198.18.{(n * _PER_BATCH + i) // 250}.{(n * _PER_BATCH + i) % 250 + 1}",
                                  name=f"writer {n}.{i}") for i in range(_PER_BATCH)]
                answer = client.post("/api/v1/objects", json=bundle(*objs), params={"tlp": "green"})
                if answer.status_code != 201:
                    failures.append(answer.text)
                    return
                n += 1
                committed[0] = n

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while committed[0] < 3:
            time.sleep(0.01)
        during: list[int] = []

        def between_tables(table: str, _rows: int, _total: int) -> None:
            # Once the objects are read, let the writer commit more before the observables are.
            if table == "stix_objects" and not during:
                seen = committed[0]
                deadline = time.monotonic() + 20
                while committed[0] < seen + 3 and time.monotonic() < deadline:
                    time.sleep(0.01)
                during.append(committed[0] - seen)

        archive = tmp_path / "live.jsonl.gz"
        take_backup(engine, archive, progress=between_tables)
    finally:
        stop.set()
        thread.join(timeout=30)
    assert not failures, failures
    assert during and during[0] >= 3  # writes were committed between reading the objects and their observables
    target = make_engine(new_store())
    restore(target, archive)  # verified, and foreign keys hold: no observable without its object
    objects, values = _counts(target)
    assert objects % _PER_BATCH == 0 and 3 * _PER_BATCH <= objects < committed[0] * _PER_BATCH
    assert values == objects  # each indicator with its one observable, none half-written
    assert _counts(engine)[0] == committed[0] * _PER_BATCH  # the writer's later commits are in the store only
    target.dispose()
