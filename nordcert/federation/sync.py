"""Sync with a peer over TAXII 2.1: pull what it forwards to us, push what we may forward to it.

- Incremental: a pull resumes after the peer's ``X-TAXII-Date-Added-Last`` of the last page stored,
  a push after our last ``date_added`` the peer confirmed. Each checkpoint moves in the transaction
  that stores the page (pull) or right after the peer's status says it has the batch (push).
- Idempotent and resumable: a crash loses at most the page in flight, which the next run fetches or
  sends again; the receiving side keeps one row per (id, version), so nothing is ever stored twice.
- One peer at a time per peer: a lease on the peer's row (a conditional UPDATE, the same on SQLite and
  PostgreSQL) lets any number of workers and ``federation sync`` commands share the peers.
- A peer that is down, slow or answers garbage gets an error recorded and a retry with exponential
  back-off (with jitter); the other peers are synced as usual.
"""

from __future__ import annotations

import os
import random
import socket
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
from sqlalchemy import Connection, Engine, or_, select, update

from nordcert.clock import now_us
from nordcert.config import Settings
from nordcert.db import transaction
from nordcert.errors import Conflict, NordcertError
from nordcert.federation import incoming, outgoing
from nordcert.federation.peers import Peer, get_peer
from nordcert.federation.tables import federation_peers
from nordcert.intel.validate import ObjectError, timestamp_us
from nordcert.taxii.client import TAXII, RemoteError, collection_url, wait_for_status

_fp = federation_peers
_US = 1_000_000
#: Back-off after failed syncs in a row: 5 s, 10 s, 20 s, ... at most 15 minutes (or the interval if longer).
BACKOFF_BASE_S = 5.0
BACKOFF_MAX_S = 900.0


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:64]


@dataclass
class SyncResult:
    peer: str
    ok: bool = True
    pulled_pages: int = 0
    received: dict[str, int] = field(default_factory=lambda: {"created": 0, "updated": 0, "unchanged": 0,
                                                              "looped": 0, "rejected": 0})
    sent: int = 0
    refused_by_peer: int = 0
    error: str | None = None
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"peer": self.peer, "ok": self.ok, "pulled_pages": self.pulled_pages, "received": self.received,
                "sent": self.sent, "refused_by_peer": self.refused_by_peer, "error": self.error,
                "seconds": round(self.seconds, 3)}


# --- the lease --------------------------------------------------------------------------------------


def _lease_seconds(peer: Peer) -> int:
    return max(120, peer.timeout_s * 4)


def _dead_here(owner: str | None) -> bool:
    """Was the lease taken by a process of this machine that no longer runs (killed mid-sync)?"""
    host, _, pid = (owner or "").rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def acquire(engine: Engine, peer: Peer, owner: str) -> bool:
    """Take the peer for ``owner`` unless someone else holds an unexpired lease.

    A lease left by a process of this machine that has died is taken over at once; one of another
    machine ends when it expires (the holder renews it with every page).
    """
    now = now_us()
    with transaction(engine) as conn:
        holder = conn.execute(select(_fp.c.lease_owner, _fp.c.lease_until).where(_fp.c.id == peer.id)).one()
        free = or_(_fp.c.lease_until.is_(None), _fp.c.lease_until < now, _fp.c.lease_owner == owner)
        if holder.lease_owner and _dead_here(holder.lease_owner):
            free = or_(free, _fp.c.lease_owner == holder.lease_owner)
        taken = conn.execute(
            update(_fp).where(_fp.c.id == peer.id, free)
            .values(lease_owner=owner, lease_until=now + _lease_seconds(peer) * _US, last_attempt_at=now)
        ).rowcount
    return bool(taken)


def _renew(conn: Connection, peer: Peer, owner: str) -> None:
    conn.execute(update(_fp).where(_fp.c.id == peer.id, _fp.c.lease_owner == owner)
                 .values(lease_until=now_us() + _lease_seconds(peer) * _US))


def release(engine: Engine, peer: Peer, owner: str) -> None:
    with transaction(engine) as conn:
        conn.execute(update(_fp).where(_fp.c.id == peer.id, _fp.c.lease_owner == owner)
                     .values(lease_owner=None, lease_until=None))


def backoff_seconds(failures: int, interval_s: int) -> float:
    """The wait after ``failures`` failed syncs in a row, with ±20 % jitter so peers do not retry in step."""
    base: float = min(BACKOFF_BASE_S * 2.0 ** max(failures - 1, 0), max(BACKOFF_MAX_S, float(interval_s)))
    return base * random.uniform(0.8, 1.2)  # nosec B311 # retry jitter, not secrecy


# --- one sync ---------------------------------------------------------------------------------------


def _client(peer: Peer) -> httpx.Client:
    headers = {"Accept": TAXII}
    if peer.token:
        headers["Authorization"] = f"Bearer {peer.token}"
    return httpx.Client(headers=headers, timeout=httpx.Timeout(peer.timeout_s), follow_redirects=True)


def _get(client: httpx.Client, url: str, params: dict[str, Any]) -> tuple[dict[str, Any], httpx.Response]:
    try:
        resp = client.get(url, params=params)
    except httpx.HTTPError as exc:
        raise RemoteError(f"{url}: {type(exc).__name__}: {exc}") from None
    if resp.status_code != 200:
        raise RemoteError(f"{url} answered HTTP {resp.status_code}: {resp.text[:200]}")
    try:
        doc = orjson.loads(resp.content)
    except orjson.JSONDecodeError:
        raise RemoteError(f"{url} did not answer JSON: {resp.content[:80]!r}") from None
    if not isinstance(doc, dict):
        raise RemoteError(f"{url} did not answer a TAXII envelope")
    if not isinstance(doc.get("objects", []), list):
        raise RemoteError(f"{url} answered 'objects' that is not a list")
    if not isinstance(doc.get("more", False), bool):
        raise RemoteError(f"{url} answered 'more' that is not true or false")
    return doc, resp


def _fetch(client: httpx.Client, url: str, params: dict[str, Any]) -> tuple[list[Any], bool, str | None, str | None]:
    """One page: (objects, more, next, X-TAXII-Date-Added-Last), checked enough to resume safely."""
    doc, resp = _get(client, url, params)
    objects = doc.get("objects", [])
    more = bool(doc.get("more")) and bool(objects)
    position = resp.headers.get("X-TAXII-Date-Added-Last")
    if objects and not position:
        raise RemoteError(f"{url} sent objects without X-TAXII-Date-Added-Last: cannot resume safely")
    if position:
        try:
            timestamp_us(position, "X-TAXII-Date-Added-Last")
        except ObjectError:
            raise RemoteError(f"{url} sent X-TAXII-Date-Added-Last {position[:40]!r}, not a timestamp") from None
    next_ = doc.get("next") if isinstance(doc.get("next"), str) else None
    return objects, more, next_, position


def pull(engine: Engine, settings: Settings, peer: Peer, client: httpx.Client, owner: str, result: SyncResult,
         on_progress: Callable[[str, int], None] | None = None) -> None:
    """Fetch every version the peer forwards to us since the checkpoint, page by page.

    The next page is fetched while this one is stored (one page ahead, never more): the peer serves
    while we write. A page is stored, and the checkpoint moved, strictly in order.
    """
    coll = collection_url(client, peer.url, peer.pull_collection or "")
    url = coll + "objects/"
    with transaction(engine, write=False) as conn:
        since = conn.execute(select(_fp.c.pull_position).where(_fp.c.id == peer.id)).scalar()

    def params(next_: str | None, after: str | None) -> dict[str, Any]:
        p: dict[str, Any] = {"limit": settings.federation_page_size, "match[version]": "all"}
        if next_:
            p["next"] = next_
        if after:
            p["added_after"] = after
        return p

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"pull-{peer.name}") as ahead:
        page = _fetch(client, url, params(None, since))
        for _ in range(10_000_000):  # a peer that always says "more" cannot hold us for ever: the lease ends
            objects, more, next_, position = page
            coming = None
            if more:
                since = since if next_ else position
                coming = ahead.submit(_fetch, client, url, params(next_, since))
            try:
                with transaction(engine) as conn:
                    got = incoming.receive(conn, peer, objects, settings)
                    incoming.note_received(conn, peer, got)
                    if position:
                        conn.execute(update(_fp).where(_fp.c.id == peer.id).values(pull_position=position))
                    _renew(conn, peer, owner)
            except BaseException:
                if coming is not None:
                    coming.cancel()
                raise
            result.pulled_pages += 1
            for key in result.received:
                result.received[key] += getattr(got, key)
            if on_progress:
                on_progress("in", len(objects))
            if coming is None:
                return
            page = coming.result()


def push(engine: Engine, settings: Settings, peer: Peer, client: httpx.Client, owner: str, result: SyncResult,
         on_progress: Callable[[str, int], None] | None = None) -> None:
    """Send every version we may forward to the peer since the checkpoint, batch by batch.

    The next batch is read and serialised while the peer stores this one; the checkpoint moves only
    when the peer's status confirms a batch, strictly in order.
    """
    coll = collection_url(client, peer.url, peer.push_collection or "")
    status_base = coll.rsplit("/collections/", 1)[0] + "/status/"
    with transaction(engine, write=False) as conn:
        after = int(conn.execute(select(_fp.c.push_position).where(_fp.c.id == peer.id)).scalar() or 0)

    def batch(after: int) -> tuple[list[int], bytes]:
        with transaction(engine, write=False) as conn:
            keys = outgoing.pending(conn, peer, after, settings.federation_page_size)
            bodies = outgoing.wire_bodies(conn, keys, settings)
        return keys, b'{"objects":[' + b",".join(bodies) + b"]}"

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"push-{peer.name}") as ahead:
        keys, envelope = batch(after)
        while keys:
            coming = ahead.submit(batch, keys[-1])
            try:
                refused, status = _send(client, coll, status_base, envelope, peer.timeout_s)
            except BaseException:
                coming.cancel()
                raise
            with transaction(engine) as conn:
                conn.execute(update(_fp).where(_fp.c.id == peer.id).values(
                    push_position=keys[-1], objects_out=_fp.c.objects_out + len(keys) - refused))
                _renew(conn, peer, owner)
            result.sent += len(keys) - refused
            result.refused_by_peer += refused
            if refused:
                first = (status.get("failures") or [{}])[0]
                result.error = f"{peer.name} refused {refused} objects, e.g. {first.get('id')}: {first.get('message')}"
            if on_progress:
                on_progress("out", len(keys))
            keys, envelope = coming.result()


def _send(client: httpx.Client, coll: str, status_base: str, envelope: bytes, timeout: float
          ) -> tuple[int, dict[str, Any]]:
    """POST one envelope; (objects the peer refused, its final status)."""
    try:
        resp = client.post(coll + "objects/", content=envelope, headers={"Content-Type": TAXII})
    except httpx.HTTPError as exc:
        raise RemoteError(f"{coll}objects/: {type(exc).__name__}: {exc}") from None
    if resp.status_code not in (200, 202):
        raise RemoteError(f"{coll}objects/ answered HTTP {resp.status_code}: {resp.text[:200]}")
    try:
        status = orjson.loads(resp.content)
    except orjson.JSONDecodeError:
        raise RemoteError(f"{coll}objects/ did not answer a status resource") from None
    status = wait_for_status(client, status_base, status, timeout)
    return int(status.get("failure_count") or 0), status


def sync_peer(engine: Engine, settings: Settings, ref: str | int, *, owner: str | None = None,
              on_progress: Callable[[str, int], None] | None = None) -> SyncResult:
    """Pull and/or push once with one peer; record the outcome and when to try next."""
    owner = owner or worker_id()
    with transaction(engine, write=False) as conn:
        peer = get_peer(conn, ref)
    if not acquire(engine, peer, owner):
        raise Conflict(f"peer {peer.name} is being synced by another worker; try again when it is done")
    result = SyncResult(peer.name, ok=False)
    started = time.monotonic()
    try:
        with _client(peer) as client:
            if peer.pulls:
                pull(engine, settings, peer, client, owner, result, on_progress)
            if peer.pushes:
                push(engine, settings, peer, client, owner, result, on_progress)
        result.ok = True
    except (RemoteError, NordcertError, httpx.HTTPError, ValueError) as exc:
        result.error = str(exc) if isinstance(exc, NordcertError) else f"{type(exc).__name__}: {exc}"
    finally:
        if not result.ok and result.error is None:
            result.error = "the sync stopped unexpectedly (see the worker's log)"
        result.seconds = time.monotonic() - started
        _record(engine, peer, owner, result)
    return result


def _record(engine: Engine, peer: Peer, owner: str, result: SyncResult) -> None:
    now = now_us()
    with transaction(engine) as conn:
        failures = int(conn.execute(select(_fp.c.failures).where(_fp.c.id == peer.id)).scalar() or 0)
        if result.ok:
            values: dict[str, Any] = {"last_success_at": now, "failures": 0,
                                      "next_attempt_at": now + peer.interval_s * _US}
            if result.error:  # the sync went through, but the peer refused some of what we sent
                values.update(last_error=result.error[:2000], last_error_at=now)
        else:
            failures += 1
            values = {"failures": failures, "last_error": (result.error or "")[:2000], "last_error_at": now,
                      "next_attempt_at": now + int(backoff_seconds(failures, peer.interval_s) * _US)}
        conn.execute(update(_fp).where(_fp.c.id == peer.id).values(**values, lease_owner=None, lease_until=None))


def due_peers(engine: Engine) -> list[str]:
    """The enabled peers whose next attempt is due and that nobody holds."""
    now = now_us()
    with transaction(engine, write=False) as conn:
        return list(conn.execute(
            select(_fp.c.name).where(_fp.c.enabled.is_(True), _fp.c.next_attempt_at <= now,
                                     or_(_fp.c.lease_until.is_(None), _fp.c.lease_until < now))
            .order_by(_fp.c.next_attempt_at)
        ).scalars())


def request_sync(conn: Connection, ref: str) -> dict[str, Any]:
    """Ask the workers to sync a peer at their next round (the API's "sync now")."""
    peer = get_peer(conn, ref)
    conn.execute(update(_fp).where(_fp.c.id == peer.id).values(next_attempt_at=0))
    return {"peer": peer.name, "requested": True}
