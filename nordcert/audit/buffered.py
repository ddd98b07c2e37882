"""Audit events of the read paths, written off the answer's critical path.

A read answers from a read-only snapshot; writing its audit event in the same request would turn
every read of TLP:AMBER or TLP:RED intel into a durable write (on SQLite: waiting for the write lock
behind an import). Instead the event is stamped with its time when the read happens and queued per
store; the queue is written in one transaction at most :data:`FLUSH_AFTER_S` later (a timer started
by the first queued event), when it reaches :data:`FLUSH_AT` events, before the audit trail is read
(``GET /api/v1/audit`` and the web page flush first), when the server stops and when the process
exits. What a ``kill -9`` of the server can lose is therefore at most the last fraction of a second of
read events; administrative changes, log-ins and exports are recorded in their own transaction
(:func:`nordcert.audit.service.record`), never through this queue.

Where the request came from (method, path, client address) is taken from :data:`REQUEST`, set by
:class:`RequestContext` for every HTTP request.
"""

from __future__ import annotations

import atexit
import contextvars
import logging
import threading
import weakref
from collections.abc import Iterable
from typing import Any

import orjson
from sqlalchemy import Engine, insert
from starlette.types import ASGIApp, Receive, Scope, Send

from nordcert.audit.tables import audit_events
from nordcert.clock import now_us
from nordcert.db import transaction
from nordcert.intel.validate import format_timestamp
from nordcert.sharing.policy import Reader
from nordcert.sharing.tlp import Tlp

log = logging.getLogger(__name__)

#: Seconds from the first queued event to the write of the queue.
FLUSH_AFTER_S = 0.2
#: A queue this long is written at once, by the request that filled it.
FLUSH_AT = 2000
#: Objects named in one event; a longer read is recorded as several events.
IDS_PER_EVENT = 1000
#: Events kept for a retry when the store refuses a write (then the oldest are dropped, and logged).
MAX_RETAINED = 100_000

#: TLP values whose reads are audited.
SENSITIVE = int(Tlp.AMBER)

#: (method, path, client address) of the HTTP request being answered, or None outside one.
REQUEST: contextvars.ContextVar[tuple[str, str, str] | None] = contextvars.ContextVar("nordcert_request",
                                                                                     default=None)


class RequestContext:
    """ASGI middleware: puts the request's method, path and client address in :data:`REQUEST`."""

    def __init__(self, app: ASGIApp, *, address_of: Any) -> None:
        self.app = app
        self.address_of = address_of

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        token = REQUEST.set((scope["method"], scope["path"], self.address_of(scope)))
        try:
            await self.app(scope, receive, send)
        finally:
            REQUEST.reset(token)


class _Queue:
    """The pending events of one store."""

    def __init__(self, engine: Engine) -> None:
        self._engine = weakref.ref(engine)
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()  # one writer at a time keeps the events in order
        self._rows: list[dict[str, Any]] = []
        self._timer: threading.Timer | None = None

    def add(self, rows: list[dict[str, Any]]) -> None:
        with self._lock:
            self._rows.extend(rows)
            full = len(self._rows) >= FLUSH_AT
            if self._timer is None and not full:
                self._timer = threading.Timer(FLUSH_AFTER_S, self.flush)
                self._timer.daemon = True
                self._timer.start()
        if full:
            self.flush()

    def flush(self) -> None:
        with self._write_lock:
            with self._lock:
                rows, self._rows = self._rows, []
                timer, self._timer = self._timer, None
            if timer is not None and timer is not threading.current_thread():
                timer.cancel()
            engine = self._engine()
            if not rows or engine is None:
                return
            try:
                with transaction(engine) as conn:
                    conn.execute(insert(audit_events), rows)
            except Exception:  # the store is away: keep the events for the next write, within bounds
                log.exception("could not write %d audit events; kept for the next attempt", len(rows))
                with self._lock:
                    self._rows[:0] = rows
                    if len(self._rows) > MAX_RETAINED:
                        lost = len(self._rows) - MAX_RETAINED
                        del self._rows[:lost]
                        log.error("dropped the %d oldest audit events: the store refused them repeatedly", lost)


_queues: weakref.WeakKeyDictionary[Engine, _Queue] = weakref.WeakKeyDictionary()
_queues_lock = threading.Lock()


def _queue(engine: Engine) -> _Queue:
    found = _queues.get(engine)
    if found is None:
        with _queues_lock:
            found = _queues.get(engine)
            if found is None:
                found = _queues[engine] = _Queue(engine)
    return found


def flush(engine: Engine) -> None:
    """Write the store's queued events now (before the trail is read, when a server stops)."""
    found = _queues.get(engine)
    if found is not None:
        found.flush()


@atexit.register
def _flush_all() -> None:
    for engine in list(_queues.keys()):
        try:
            flush(engine)
        except Exception:  # exiting: say so, and go on with the other stores
            log.exception("audit events not written at exit")


def request_details() -> dict[str, Any]:
    """The request being answered (method and path, client address), or nothing outside one."""
    request = REQUEST.get()
    if request is None:
        return {}
    method, path, address = request
    return {"request": f"{method} {path}", "address": address}


def note(engine: Engine, *, actor: Reader | None, action: str, target: str, details: dict[str, Any] | None = None,
         email: str | None = None) -> None:
    """Queue one event, stamped now, with the request it belongs to."""
    _queue(engine).add([_row(now_us(), actor, action, target, {**request_details(), **(details or {})}, email)])


def _row(at: int, actor: Reader | None, action: str, target: str, details: dict[str, Any],
         email: str | None) -> dict[str, Any]:
    return {"at": at, "actor_user_id": actor.user_id if actor else None,
            "actor_org_id": actor.organisation_id if actor else None,
            "actor_email": actor.email if actor else email, "action": action, "target": target[:300],
            "details": orjson.dumps(details).decode()}


def note_reads(engine: Engine, reader: Reader | None, action: str, target: str,
               objects: Iterable[tuple[str, int | None, int]]) -> None:
    """Queue the read of whichever of ``objects`` (STIX id, ``modified`` in µs or None for an object without
    versions, TLP value) are TLP:AMBER or stricter. Reads of CLEAR and GREEN objects leave no event.
    """
    seen = [(stix_id, version, tlp) for stix_id, version, tlp in objects if tlp >= SENSITIVE]
    if not seen:
        return
    at = now_us()
    where = request_details()
    rows = []
    for start in range(0, len(seen), IDS_PER_EVENT):
        part = seen[start:start + IDS_PER_EVENT]
        details = {**where, "count": len(part),
                   "objects": [{"id": i, "version": format_timestamp(v) if v else None, "tlp": Tlp(t).label}
                               for i, v, t in part]}
        rows.append(_row(at, reader, action, target, details, None if reader else "anonymous"))
    _queue(engine).add(rows)
