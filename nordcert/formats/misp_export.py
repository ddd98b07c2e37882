"""MISP out: what a reader may see, as MISP events and as a MISP feed (manifest.json, hashes.csv,
one ``<uuid>.json`` per event) that a MISP instance can subscribe to.

Every read goes through :func:`nordcert.sharing.policy.visible_clause`. Events are:

* one per visible report or grouping, holding the objects it refers to that the reader may see
  (the event uuid is the report's: an event imported from MISP goes back under its own uuid);
* one per creator, day of arrival and TLP for the indicators, observed data and observables that no
  visible report or grouping holds ("loose" objects, as TAXII or the REST API bring them).

The TLP of an event and of each attribute is the one this store applied (column ``tlp``), which
may be stricter than the source's tag. An anonymous submission shows the instance as its creator.
"""

from __future__ import annotations

import hashlib
import uuid as uuidlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection, and_, func, select

from nordcert.accounts.tables import organisations
from nordcert.config import NORDCERT_NAMESPACE, Settings
from nordcert.formats.misp_event_out import EventHead, is_from_misp, misp_event
from nordcert.intel.tables import object_recipients, stix_objects
from nordcert.sharing import policy
from nordcert.sharing.policy import Reader, Sharing
from nordcert.sharing.tlp import Tlp, with_tlp_marking

_t = stix_objects
_CONTAINERS = ("report", "grouping")
#: Types gathered into the per-creator, per-day events when no visible report or grouping holds them.
LOOSE_TYPES = ("indicator", "observed-data", "x-misp-attribute", "x-misp-object", "ipv4-addr", "ipv6-addr",
               "domain-name", "url", "email-addr", "file", "x-bank-account", "x-payment-card",
               "x-cryptocurrency-wallet", "x-phone-number")
_CHUNK = 500


@dataclass
class _Event:
    head: EventHead
    ids: list[str] = field(default_factory=list)  # the stored objects the event is made of


def _visible(reader: Reader | None) -> Any:
    return and_(_t.c.is_latest.is_(True), _t.c.revoked.is_(False),
                policy.visible_clause(reader, _t, object_recipients))


def _rows(conn: Connection, reader: Reader | None, *conditions: Any) -> Iterator[Any]:
    q = (select(_t.c.stix_id, _t.c.type, _t.c.tlp, _t.c.creator_org_id, _t.c.anonymous, _t.c.date_added,
                _t.c.modified, _t.c.created, _t.c.name, _t.c.body, organisations.c.name.label("org_name"),
                organisations.c.short_name.label("org_short"))
         .select_from(_t).outerjoin(organisations, organisations.c.id == _t.c.creator_org_id)
         .where(_visible(reader), *conditions))
    yield from conn.execute(q.order_by(_t.c.date_added))


def _orgc(row: Any, reader: Reader | None, settings: Settings) -> tuple[str, str]:
    sharing = Sharing(creator_org_id=row.creator_org_id, tlp=Tlp(row.tlp), anonymous=row.anonymous)
    if row.creator_org_id is None or not policy.creator_visible(sharing, reader):
        return settings.instance_name, settings.instance_identity_id.partition("--")[2]
    return row.org_name, str(uuidlib.uuid5(NORDCERT_NAMESPACE, f"organisation:{row.org_short}"))


def _seconds(us: int | None) -> int:
    return (us or 0) // 1_000_000


def _day(us: int) -> str:
    return datetime.fromtimestamp(us / 1_000_000, UTC).strftime("%Y-%m-%d")


def _container_event(row: Any, reader: Reader | None, settings: Settings) -> _Event:
    body = orjson.loads(row.body)
    name, org_uuid = _orgc(row, reader, settings)
    head = EventHead(uuid=row.stix_id.partition("--")[2], info=row.name or "", tlp=Tlp(row.tlp),
                     timestamp=_seconds(row.modified), date=_day(row.created or row.modified),
                     orgc_name=name, orgc_uuid=org_uuid)
    refs = [r for r in body.get("object_refs") or () if isinstance(r, str)]
    creator = body.get("created_by_ref")
    return _Event(head=head, ids=[row.stix_id, *refs, *([creator] if isinstance(creator, str) else [])])


def events(conn: Connection, reader: Reader | None, settings: Settings) -> Iterator[_Event]:
    """Every event ``reader`` may see: reports and groupings, then the loose objects by creator/day/TLP."""
    held: set[str] = set()
    for row in _rows(conn, reader, _t.c.type.in_(_CONTAINERS)):
        event = _container_event(row, reader, settings)
        held.update(event.ids)
        yield event
    loose: dict[tuple[str, str, int], _Event] = {}
    for row in _rows(conn, reader, _t.c.type.in_(LOOSE_TYPES)):
        if row.stix_id in held:
            continue
        name, org_uuid = _orgc(row, reader, settings)
        key = (org_uuid, _day(row.date_added), row.tlp)
        found_event = loose.get(key)
        if found_event is None:
            uid = str(uuidlib.uuid5(NORDCERT_NAMESPACE, f"misp-loose:{org_uuid}/{key[1]}/{row.tlp}"))
            head = EventHead(uuid=uid, info=f"{name}: intel of {key[1]} ({Tlp(row.tlp).display})",
                             tlp=Tlp(row.tlp), timestamp=_seconds(row.date_added), date=key[1],
                             orgc_name=name, orgc_uuid=org_uuid)
            found_event = loose[key] = _Event(head=head)
        event = found_event
        event.ids.append(row.stix_id)
        event.head = EventHead(**{**event.head.__dict__, "timestamp": max(event.head.timestamp,
                                                                          _seconds(row.date_added))})
    yield from loose.values()


def _objects(conn: Connection, reader: Reader | None, settings: Settings,
             ids: list[str]) -> tuple[list[dict[str, Any]], dict[str, Tlp]]:
    """The visible latest versions of ``ids``, marked with the TLP the store applied, and that TLP by uuid."""
    found: dict[str, dict[str, Any]] = {}
    tlps: dict[str, Tlp] = {}
    wanted = list(dict.fromkeys(ids))
    for _round in range(2):  # the objects, then what they refer to (sighting identities, observables)
        _fetch(conn, reader, wanted, found, tlps)
        wanted = list(dict.fromkeys(r for o in found.values() for r in _refs(o) if r not in found))
        if not wanted:
            break
    # Observed data without its observables cannot be converted: drop what lost its parts.
    kept = [o for o in found.values()
            if o.get("type") != "observed-data" or all(r in found for r in o.get("object_refs") or ())]
    return kept, tlps


def _refs(obj: dict[str, Any]) -> Iterator[str]:
    for prop, value in obj.items():
        if prop in ("object_marking_refs", "created_by_ref") or obj.get("type") in _CONTAINERS:
            continue
        if prop.endswith("_ref") and isinstance(value, str):
            yield value
        elif prop.endswith("_refs") and isinstance(value, list):
            yield from (v for v in value if isinstance(v, str))


def _fetch(conn: Connection, reader: Reader | None, unique: list[str], found: dict[str, dict[str, Any]],
           tlps: dict[str, Tlp]) -> None:
    for start in range(0, len(unique), _CHUNK):
        for row in _rows(conn, reader, _t.c.stix_id.in_(unique[start:start + _CHUNK])):
            obj = orjson.loads(row.body)
            tlp = Tlp(row.tlp)
            if obj.get("type") != "marking-definition":
                obj["object_marking_refs"] = with_tlp_marking(obj.get("object_marking_refs"), tlp)
            sharing = Sharing(creator_org_id=row.creator_org_id, tlp=tlp, anonymous=row.anonymous)
            if not policy.creator_visible(sharing, reader):
                if obj.get("type") == "identity":
                    continue
                obj.pop("created_by_ref", None)
            found[row.stix_id] = obj
            uid = row.stix_id.partition("--")[2]
            tlps[uid] = max(tlp, tlps.get(uid, tlp))
            for attribute in obj.get("x_misp_attributes") or ():
                if isinstance(attribute, dict) and isinstance(attribute.get("uuid"), str):
                    tlps[attribute["uuid"]] = tlp


def _as_misp(conn: Connection, reader: Reader | None, settings: Settings, event: _Event) -> Any:
    objects, tlps = _objects(conn, reader, settings, event.ids)
    if any(o.get("type") == "identity" and is_from_misp_identity(o, objects) for o in objects):
        identity = next(o for o in objects if o.get("type") == "identity" and is_from_misp_identity(o, objects))
        event.head = EventHead(**{**event.head.__dict__, "orgc_name": identity.get("name") or event.head.orgc_name,
                                  "orgc_uuid": identity["id"].partition("--")[2]})
    return misp_event(objects, tlps, event.head)


def is_from_misp_identity(identity: dict[str, Any], objects: list[dict[str, Any]]) -> bool:
    """The creator identity of a container misp-stix made: the original MISP event's Orgc."""
    return any(o.get("type") in _CONTAINERS and o.get("created_by_ref") == identity["id"] and is_from_misp(o)
               for o in objects)


def feed_event(conn: Connection, reader: Reader | None, settings: Settings, uuid: str) -> dict[str, Any] | None:
    """One event of the feed as MISP feed JSON (``{"Event": {...}}``), or None if the reader may not see it."""
    try:
        uuidlib.UUID(uuid)
    except ValueError:
        return None
    found = next(_rows(conn, reader, _t.c.stix_id.in_([f"{t}--{uuid}" for t in _CONTAINERS])), None)
    if found is not None:
        event = _container_event(found, reader, settings)
    else:
        searched = next((e for e in events(conn, reader, settings) if e.head.uuid == uuid), None)
        if searched is None:
            return None
        event = searched
    feed: dict[str, Any] = _as_misp(conn, reader, settings, event).to_feed()
    return feed


def feed_entries(conn: Connection, reader: Reader | None, settings: Settings) -> Iterator[tuple[str, Any]]:
    """(uuid, pymisp.MISPEvent) of every event the reader may see, one at a time."""
    for event in events(conn, reader, settings):
        yield event.head.uuid, _as_misp(conn, reader, settings, event)


def feed_manifest(conn: Connection, reader: Reader | None, settings: Settings) -> dict[str, Any]:
    """``manifest.json``: uuid → {Orgc, Tag, info, date, analysis, threat_level_id, timestamp}."""
    manifest: dict[str, Any] = {}
    for _uuid, event in feed_entries(conn, reader, settings):
        manifest.update(event.manifest)
    return manifest


def feed_hashes(conn: Connection, reader: Reader | None, settings: Settings) -> Iterator[str]:
    """The lines of ``hashes.csv``: ``<md5 of an attribute value>,<event uuid>``."""
    for event_uuid, event in feed_entries(conn, reader, settings):
        for digest in event.attributes_hashes("md5"):
            yield f"{digest},{event_uuid}\n"


def feed_etag(conn: Connection, reader: Reader | None) -> str:
    """A validator that changes whenever what the reader may see changes (new, revoked or removed objects,
    or the reader's own sharing groups)."""
    count, last = conn.execute(
        select(func.count(), func.max(_t.c.date_added)).where(_t.c.is_latest.is_(True),
                                                               policy.visible_clause(reader, _t, object_recipients))
    ).one()
    who = "public" if reader is None else f"{reader.organisation_id}/{reader.role.value}/{sorted(reader.group_ids)}"
    return hashlib.sha256(f"misp-feed/1|{who}|{count}|{last}".encode()).hexdigest()[:32]


def write_feed(conn: Connection, reader: Reader | None, settings: Settings, folder: Path, *,
               on_progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Write a MISP feed of what ``reader`` may see into ``folder``: ``manifest.json``, ``hashes.csv`` and
    one ``<uuid>.json`` per event, each written whole before the next is read."""
    folder.mkdir(parents=True, exist_ok=True)
    manifest: dict[str, Any] = {}
    count = attributes = 0
    with (folder / "hashes.csv").open("w", encoding="utf-8") as hashes:
        for event_uuid, event in feed_entries(conn, reader, settings):
            (folder / f"{event_uuid}.json").write_bytes(orjson.dumps(event.to_feed()))
            manifest.update(event.manifest)
            for digest in event.attributes_hashes("md5"):
                hashes.write(f"{digest},{event_uuid}\n")
                attributes += 1
            count += 1
            if on_progress:
                on_progress(count)
    (folder / "manifest.json").write_bytes(orjson.dumps(manifest))
    return {"events": count, "hashes": attributes, "folder": str(folder)}
