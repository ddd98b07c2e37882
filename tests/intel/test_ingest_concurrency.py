"""Two writers at once: the clock that orders date_added is taken at the first write, not while a batch
is validated, and two batches holding the same version still store it once (both stores)."""

from __future__ import annotations

import threading
import time

from sqlalchemy import Engine, func, select

from nordcert.config import Settings
from nordcert.db import transaction
from nordcert.intel.ingest import IngestResult, ingest
from nordcert.intel.submission import Submission
from nordcert.intel.tables import stix_objects
from nordcert.sharing.tlp import Tlp
from tests.factories import indicator, make_member


def test_two_batches_of_one_version_store_it_once_and_in_order(engine: Engine, settings: Settings) -> None:
    m = make_member(engine)
    sub = Submission(creator_org_id=m.org_id, submitted_by=None, tlp=Tlp.GREEN)
    shared = indicator("198.51.100.7")
    first_written = threading.Event()
    results: dict[str, IngestResult] = {}
    errors: list[BaseException] = []

    def first() -> None:
        try:
            with transaction(engine) as conn:
                results["first"] = ingest(conn, [shared, indicator()], sub, settings)
                first_written.set()
                time.sleep(0.5)  # holds the clock (PostgreSQL) or the write lock (SQLite) until commit
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
            first_written.set()

    def second() -> None:
        first_written.wait(10)
        try:
            with transaction(engine) as conn:
                results["second"] = ingest(conn, [dict(shared), indicator()], sub, settings)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert (results["first"].created, results["second"].created, results["second"].unchanged) == (2, 1, 1)
    with transaction(engine, write=False) as conn:
        stored = conn.execute(select(func.count()).where(stix_objects.c.stix_id == shared["id"])).scalar_one()
        added = conn.execute(select(stix_objects.c.date_added).order_by(stix_objects.c.date_added)).scalars().all()
    assert stored == 1 and len(added) == 3 == len(set(added))
    assert results["second"].first_date_added > results["first"].last_date_added  # committed after, numbered after
