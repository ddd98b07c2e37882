"""``nordcert worker``: the background work, coordinated through the database.

Federation: every enabled peer is synced when its next attempt is due (its interval
after a success, a growing back-off after failures). Peers are synced in parallel threads, so a
slow or unreachable peer never holds up the others, and a peer is held by a lease in the store, so
any number of workers (on one or many machines, against one PostgreSQL) share the peers without
syncing one twice at the same time.

Incident report deadlines: once a minute, the reports due within the hour or overdue are reminded of
(:mod:`nordcert.incidents.reminders`), each deadline once between all workers.

Retention: once a minute, the stored versions holding personal data whose retention has expired are
deleted (:mod:`nordcert.privacy.retention`), with their observables, in batches; workers racing on
the same rows serialise on them and the loser finds nothing left to delete.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from sqlalchemy import Engine

from nordcert.config import Settings
from nordcert.db import transaction
from nordcert.errors import Conflict
from nordcert.federation import sync
from nordcert.incidents import reminders
from nordcert.privacy import retention

log = logging.getLogger("nordcert.worker")
REMINDERS_EVERY_S = 60.0


def remind(engine: Engine) -> None:
    """One round of incident deadline reminders; a failure is logged and the next round tries again."""
    try:
        reminders.remind_due(engine)
    except Exception:
        log.exception("incident deadline reminders failed")


def expire(engine: Engine, settings: Settings) -> int:
    """Delete what has expired, batch after batch; the number of versions deleted. Failures are logged."""
    deleted = 0
    try:
        while True:
            with transaction(engine) as conn:
                done = retention.purge_expired(conn, settings)
            if not done["versions"]:
                return deleted
            deleted += done["versions"]
            log.info("retention: deleted %d expired versions of %d objects", done["versions"], len(done["objects"]))
    except Exception:
        log.exception("retention purge failed")
        return deleted


def run_worker(engine: Engine, settings: Settings, *, once: bool = False, tick_s: float = 1.0,
               stop: threading.Event | None = None,
               on_result: Callable[[sync.SyncResult], None] | None = None) -> list[sync.SyncResult]:
    """Sync due peers until ``stop`` is set (or one round, with ``once``); returns the results of ``once``."""
    stop = stop or threading.Event()
    owner = sync.worker_id()
    running: dict[str, Future[sync.SyncResult | None]] = {}
    results: list[sync.SyncResult] = []
    reminders_due = 0.0

    def one(name: str) -> sync.SyncResult | None:
        try:
            return sync.sync_peer(engine, settings, name, owner=owner)
        except Conflict:
            return None  # another worker took it first
        except Exception:  # a bug must not end the worker: log it, the peer's row records the failure
            log.exception("sync with peer %s failed", name)
            return None

    with ThreadPoolExecutor(max_workers=settings.worker_threads, thread_name_prefix="federation") as pool:
        while True:
            if time.monotonic() >= reminders_due:
                reminders_due = time.monotonic() + REMINDERS_EVERY_S
                remind(engine)
                expire(engine, settings)
            for name in sync.due_peers(engine):
                if name not in running:
                    running[name] = pool.submit(one, name)
            if once:
                for fut in running.values():
                    res = fut.result()
                    if res is not None:
                        results.append(res)
                        if on_result:
                            on_result(res)
                return results
            for name, fut in list(running.items()):
                if fut.done():
                    del running[name]
                    res = fut.result()
                    if res is not None:
                        log.info("peer %s: %s", name, res.as_dict())
                        if on_result:
                            on_result(res)
            if stop.wait(tick_s):
                break
        for fut in running.values():
            fut.result()
    return results
