"""A STIX 2.1 bundle (STIX 2.1 §8) of the latest versions the reader may see, streamed in chunks.

The objects are the stored bodies, as submitted (custom objects and properties included); an
anonymous submission names the instance as its creator to those who may not know who sent it
(:func:`nordcert.sharing.policy.creator_visible`). The bundle is written object by object and is
never whole in memory.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Any

import orjson
from sqlalchemy import Connection, Select, exists, select

from nordcert.config import NORDCERT_NAMESPACE, Settings
from nordcert.formats._stream import stream_rows
from nordcert.intel.tables import object_labels, object_recipients, stix_objects
from nordcert.sharing import policy
from nordcert.sharing.policy import Reader, Sharing
from nordcert.sharing.tlp import Tlp

_s = stix_objects
#: Bytes gathered before a chunk is handed on.
CHUNK_BYTES = 256 * 1024


@dataclass(frozen=True)
class StixFilter:
    """Which objects a bundle holds; every filter is optional."""

    types: tuple[str, ...] = ()
    added_after: int | None = None  # date_added, µs
    labels: tuple[str, ...] = ()  # objects with any of these labels
    tlp_max: Tlp | None = None  # at most this TLP
    include_revoked: bool = False


def _statement(reader: Reader | None, f: StixFilter) -> Select[Any]:
    q = (select(_s.c.body, _s.c.anonymous, _s.c.creator_org_id)
         .where(_s.c.is_latest.is_(True), policy.visible_clause(reader, _s, object_recipients)))
    if f.types:
        q = q.where(_s.c.type.in_(f.types))
    if f.added_after is not None:
        q = q.where(_s.c.date_added > f.added_after)
    if f.tlp_max is not None:
        q = q.where(_s.c.tlp <= int(f.tlp_max))
    if not f.include_revoked:
        q = q.where(_s.c.revoked.is_(False))
    if f.labels:
        q = q.where(exists(select(object_labels.c.date_added).where(
            object_labels.c.date_added == _s.c.date_added, object_labels.c.label.in_(f.labels))))
    return q.order_by(_s.c.date_added)


def bundle_id(seed: str | None = None) -> str:
    """A bundle id: random, or derived from ``seed`` so that the same content has the same id."""
    return f"bundle--{uuid.uuid5(NORDCERT_NAMESPACE, 'bundle:' + seed) if seed else uuid.uuid4()}"


def _shown(body: str, anonymous: Any, creator: int | None, reader: Reader | None, settings: Settings) -> str:
    if anonymous and not policy.creator_visible(Sharing(creator_org_id=creator, tlp=Tlp.CLEAR, anonymous=True),
                                                reader):
        obj = orjson.loads(body)
        obj["created_by_ref"] = settings.instance_identity_id
        return orjson.dumps(obj).decode()
    return body


def bundle_chunks(conn: Connection, reader: Reader | None, settings: Settings, filters: StixFilter, *,
                  bundle_seed: str | None = None, counter: list[int] | None = None) -> Iterator[bytes]:
    """The bundle as UTF-8 JSON in chunks of about :data:`CHUNK_BYTES`; ``counter[0]`` counts objects."""
    head = f'{{"type":"bundle","id":"{bundle_id(bundle_seed)}","objects":['
    parts: list[str] = [head]
    size = len(head)
    first = True
    for rows in stream_rows(conn, _statement(reader, filters), batch=1000):
        for body, anonymous, creator in rows:
            text = _shown(body, anonymous, creator, reader, settings)
            if not first:
                parts.append(",")
            first = False
            parts.append(text)
            size += len(text) + 1
            if counter is not None:
                counter[0] += 1
            if size >= CHUNK_BYTES:
                yield "".join(parts).encode()
                parts, size = [], 0
    parts.append("]}\n")
    yield "".join(parts).encode()


def write_bundle(conn: Connection, reader: Reader | None, settings: Settings, out: IO[bytes],
                 filters: StixFilter = StixFilter(), *, on_progress: Callable[[int], None] | None = None) -> int:
    """Write the bundle to ``out``; returns the number of objects."""
    counter = [0]
    for chunk in bundle_chunks(conn, reader, settings, filters, counter=counter):
        out.write(chunk)
        if on_progress is not None:
            on_progress(counter[0])
    return counter[0]
