"""TAXII 2.1 client: pull a remote collection into the store, push our objects to a remote collection.

Both are incremental: a checkpoint per (server, collection, organisation) records how far the last
run got (``X-TAXII-Date-Added-Last`` of the remote for pulls, our ``date_added`` for pushes), so a
run that stops half-way resumes where it stopped and re-imports nothing twice (ingest is
idempotent anyway). httpx speaks to the server directly: taxii2-client hides the response headers
that checkpoints need.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

import httpx
import orjson
from sqlalchemy import Connection, Engine, insert, select, update

from nordcert.accounts import service as accounts
from nordcert.clock import now_us
from nordcert.config import Settings
from nordcert.db import transaction
from nordcert.errors import Invalid, NordcertError
from nordcert.intel.ingest import ingest
from nordcert.intel.submission import submission_for
from nordcert.intel.tables import object_recipients, stix_objects
from nordcert.intel.validate import format_timestamp
from nordcert.sharing import policy
from nordcert.sharing.tlp import Tlp
from nordcert.taxii.tables import taxii_checkpoints

TAXII = "application/taxii+json;version=2.1"
PAGE = 1000


class RemoteError(NordcertError):
    """The remote server failed or answered something that is not TAXII 2.1."""

    code = "remote_error"


@dataclass
class Credentials:
    user: str | None = None
    password: str | None = None
    token: str | None = None

    def auth(self) -> httpx.Auth | None:
        return httpx.BasicAuth(self.user, self.password or "") if self.user else None

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}


def _client(creds: Credentials, timeout: float) -> httpx.Client:
    return httpx.Client(auth=creds.auth(), headers={"Accept": TAXII, **creds.headers()}, timeout=timeout,
                        follow_redirects=True)


def _get_json(client: httpx.Client, url: str, **params: Any) -> tuple[Any, httpx.Response]:
    try:
        resp = client.get(url, params=params or None)
    except httpx.HTTPError as exc:
        raise RemoteError(f"{url}: {exc}") from None
    if resp.status_code != 200:
        raise RemoteError(f"{url} answered {resp.status_code}: {resp.text[:200]}")
    try:
        return orjson.loads(resp.content), resp
    except orjson.JSONDecodeError:
        raise RemoteError(f"{url} did not answer JSON") from None


def collection_url(client: httpx.Client, url: str, collection_id: str) -> str:
    """The collection's URL from a discovery URL or an API root URL."""
    base = url if url.endswith("/") else url + "/"
    doc, _ = _get_json(client, base)
    if isinstance(doc, dict) and "api_roots" in doc:  # a discovery document: use its default API root
        root = doc.get("default") or (doc["api_roots"] or [None])[0]
        if not root:
            raise RemoteError(f"{url} lists no API root")
        base = urljoin(base, root)
        base = base if base.endswith("/") else base + "/"
    return f"{base}collections/{collection_id}/"


def _checkpoint(conn: Connection, direction: str, url: str, collection_id: str, org_id: int) -> str | None:
    c = taxii_checkpoints.c
    return conn.execute(select(c.position).where(c.direction == direction, c.server_url == url,
                                                c.collection_id == collection_id, c.organisation_id == org_id)
                        ).scalar_one_or_none()


def _save_checkpoint(conn: Connection, direction: str, url: str, collection_id: str, org_id: int,
                     position: str) -> None:
    c = taxii_checkpoints.c
    where = (c.direction == direction, c.server_url == url, c.collection_id == collection_id,
             c.organisation_id == org_id)
    if conn.execute(update(taxii_checkpoints).where(*where).values(position=position, updated_at=now_us())).rowcount:
        return
    conn.execute(insert(taxii_checkpoints).values(direction=direction, server_url=url, collection_id=collection_id,
                                                  organisation_id=org_id, position=position, updated_at=now_us()))


def pull(engine: Engine, settings: Settings, *, url: str, collection_id: str, as_email: str, creds: Credentials,
         tlp: str | None = None, group: str | None = None, timeout: float = 60.0,
         on_page: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Fetch what the remote collection added since the last pull and store it; returns counts."""
    with transaction(engine, write=False) as conn:
        reader = accounts.reader_for(conn, as_email)
    totals = {"pages": 0, "created": 0, "updated": 0, "unchanged": 0}
    with _client(creds, timeout) as client:
        coll = collection_url(client, url, collection_id)
        with transaction(engine, write=False) as conn:
            since = _checkpoint(conn, "pull", coll, collection_id, reader.organisation_id)
        started = format_timestamp(now_us())
        next_: str | None = None
        for _ in range(1_000_000):  # bounded: a server that never says "more": false cannot loop us forever
            params: dict[str, Any] = {"limit": PAGE}
            if next_:
                params["next"] = next_
            if since:
                params["added_after"] = since
            doc, resp = _get_json(client, coll + "objects/", **params)
            if not isinstance(doc, dict):
                raise RemoteError(f"{coll}objects/ did not answer a TAXII envelope")
            objects = doc.get("objects", [])
            if not isinstance(objects, list):
                raise RemoteError(f"{coll}objects/ answered 'objects' that is not a list")
            position = resp.headers.get("X-TAXII-Date-Added-Last")
            with transaction(engine) as conn:
                sub = submission_for(conn, reader, tlp=tlp, group=group)
                try:
                    result = ingest(conn, objects, sub, settings)
                except Invalid as exc:
                    exc.message = f"page {totals['pages'] + 1} from {coll}: {exc.message}"
                    raise
                more = bool(doc.get("more"))
                # Without `next`, page on with added_after; the checkpoint moves only as pages land.
                new_since = position or (since if more else started)
                if new_since:
                    _save_checkpoint(conn, "pull", coll, collection_id, reader.organisation_id, new_since)
            totals["pages"] += 1
            for key in ("created", "updated", "unchanged"):
                totals[key] += getattr(result, key)
            if on_page:
                on_page(len(objects))
            if not more or not objects:
                break
            next_ = doc.get("next")
            if not next_:
                if not position:
                    raise RemoteError(f"{coll} says there is more but gives neither next nor X-TAXII-Date-Added-Last")
                since = position
    return {"collection": coll, **totals}


def _local_batches(engine: Engine, reader: Any, after: int, max_tlp: Tlp) -> Iterator[list[Any]]:
    """Our organisation's own objects (every version), in date_added order, that may leave at ``max_tlp``."""
    t = stix_objects
    while True:
        with transaction(engine, write=False) as conn:
            rows = conn.execute(
                select(t.c.date_added, t.c.body, t.c.creator_org_id, t.c.tlp, t.c.group_id, t.c.anonymous)
                .where(t.c.date_added > after, t.c.creator_org_id == reader.organisation_id,
                       t.c.tlp <= int(max_tlp), policy.visible_clause(reader, t, object_recipients))
                .order_by(t.c.date_added).limit(500)
            ).all()
        if not rows:
            return
        yield list(rows)
        after = rows[-1].date_added


def push(engine: Engine, settings: Settings, *, url: str, collection_id: str, as_email: str, creds: Credentials,
         max_tlp: str = "green", timeout: float = 60.0, on_batch: Callable[[int], None] | None = None
         ) -> dict[str, Any]:
    """Send our organisation's objects added since the last push (TLP at most ``max_tlp``)."""
    limit = Tlp.parse(max_tlp)
    if limit > Tlp.AMBER:
        raise Invalid("AMBER+STRICT and RED never leave this instance")
    with transaction(engine, write=False) as conn:
        reader = accounts.reader_for(conn, as_email)
    sent = 0
    with _client(creds, timeout) as client:
        coll = collection_url(client, url, collection_id)
        with transaction(engine, write=False) as conn:
            after = int(_checkpoint(conn, "push", coll, collection_id, reader.organisation_id) or 0)
        for rows in _local_batches(engine, reader, after, limit):
            body = b'{"objects":[' + b",".join(r.body.encode() for r in rows) + b"]}"
            try:
                resp = client.post(coll + "objects/", content=body, headers={"Content-Type": TAXII})
            except httpx.HTTPError as exc:
                raise RemoteError(f"{coll}objects/: {exc}") from None
            if resp.status_code not in (200, 202):
                raise RemoteError(f"{coll}objects/ answered {resp.status_code}: {resp.text[:200]}")
            status = wait_for_status(client, urljoin(coll, "../../status/"), orjson.loads(resp.content), timeout)
            if status.get("failure_count"):
                first = (status.get("failures") or [{}])[0]
                raise RemoteError(f"{coll}: {status['failure_count']} objects refused, e.g. "
                                  f"{first.get('id')}: {first.get('message')}")
            with transaction(engine) as conn:
                _save_checkpoint(conn, "push", coll, collection_id, reader.organisation_id, str(rows[-1].date_added))
            sent += len(rows)
            if on_batch:
                on_batch(len(rows))
    return {"collection": coll, "sent": sent}


def wait_for_status(client: httpx.Client, status_base: str, status: Any, timeout: float) -> dict[str, Any]:
    """Poll a pending add until it completes (bounded by ``timeout``); the final status resource."""
    if not isinstance(status, dict) or "status" not in status:
        raise RemoteError("the remote server did not answer a TAXII status resource")
    deadline = time.monotonic() + timeout
    while status.get("status") == "pending" and status.get("id") and time.monotonic() < deadline:
        time.sleep(0.2)
        status, _ = _get_json(client, f"{status_base}{status['id']}/")
    if status.get("status") != "complete":
        raise RemoteError("the remote server did not finish the add in time; it is sent again next time")
    done: dict[str, Any] = status
    return done
