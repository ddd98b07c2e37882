"""MISP in: event JSON and MISP feeds (manifest.json + one file per event) to STIX 2.1 objects.

Each event is checked (:mod:`nordcert.formats.misp_check`), converted with misp-stix
(``MISPtoSTIX21Parser``, MISP core format → STIX 2.1) and post-processed for this store:

* TLP tags (``tlp:clear``/``white``/``green``/``amber``/``amber+strict``/``red``) of the event and of
  each attribute become TLP 2.0 ``object_marking_refs``; an object gets the strictest of its event's
  and its own TLP, an observable (SCO) that of the observed-data holding it, a relationship or
  sighting that of the objects it joins. Sharing only ever tightens.
* Objects shared by many events (the creator organisation's identity, galaxy clusters) get a fixed
  timestamp, so importing a second event of the same organisation never makes a new version of them.
* The result is checked to hold every attribute and object of the event: nothing is dropped silently.

The same event always gives the same objects (ids and ``modified``), so a re-import is unchanged.
"""

from __future__ import annotations

import uuid as uuidlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import httpx
import ijson
import orjson

from nordcert.errors import Invalid
from nordcert.formats.misp_check import check_event, event_body, is_uuid, misp_stix
from nordcert.sharing.tlp import MARKING_TLP, Tlp, with_tlp_marking

#: created/modified of objects many events share (identities, galaxy clusters): one version for all.
SHARED_TIMESTAMP = "1970-01-01T00:00:00.000Z"
_GALAXY_NAMESPACE = uuidlib.UUID("0b5e8a2c-6f3d-4c1e-9a7b-5d2f8e1c3a64")  # nordcert's, for uuid-less clusters
_TLP_TAGS = {"clear": Tlp.CLEAR, "white": Tlp.CLEAR, "green": Tlp.GREEN, "amber": Tlp.AMBER,
             "amber+strict": Tlp.AMBER_STRICT, "red": Tlp.RED}
_CONTAINERS = frozenset({"report", "grouping"})


def tlp_of_tags(tags: Any) -> Tlp | None:
    """The strictest TLP among MISP tags (``tlp:amber``, ``tlp:amber+strict``…), or None."""
    found: Tlp | None = None
    for tag in tags or ():
        name = tag.get("name") if isinstance(tag, dict) else None
        if isinstance(name, str) and name.lower().startswith("tlp:"):
            tlp = _TLP_TAGS.get(name[4:].strip().lower())
            if tlp is not None and (found is None or tlp > found):
                found = tlp
    return found


def objects_of_event(doc: dict[str, Any], *, where: str = "event") -> list[dict[str, Any]]:
    """One MISP event (``{"Event": {...}}`` or the bare event) as STIX 2.1 objects (JSON-ready dicts).

    Raises :class:`Invalid` naming ``where``, the event uuid and the attribute or object at fault.
    """
    event = event_body(doc)
    if event is None:
        raise Invalid(f"{where}: not a MISP event (expected {{\"Event\": {{...}}}} or an event object)")
    problems = check_event(event, where)
    if problems:
        first = problems[0]
        place = _place(first)
        raise Invalid(f"{where}: event {first['event']}: {len(problems)} problem(s), first{place}: {first['reason']}",
                      details=problems)
    event_uuid = event["uuid"]
    parser = misp_stix().MISPtoSTIX21Parser()
    try:
        parser.parse_misp_event({"Event": _prepared(event)})
        objects = [orjson.loads(o.serialize()) if hasattr(o, "serialize") else dict(o)
                   for o in parser.stix_objects]
    except Exception as exc:  # noqa: BLE001 - misp-stix raises many kinds; each is one bad event
        raise Invalid(f"{where}: event {event_uuid} could not be converted: {exc}",
                      details=[{"source": where, "event": event_uuid, "reason": str(exc)}]) from None
    _check_complete(event, objects, where)
    _verbatim_rules(objects, event)
    return _shared_and_marked(objects, event)


def _verbatim_rules(objects: list[dict[str, Any]], event: dict[str, Any]) -> None:
    """misp-stix wraps a yara, snort or sigma rule in ``[…]`` as if it were a STIX pattern; an indicator
    whose ``pattern_type`` is not ``stix`` holds the rule itself (STIX 2.1 §10.14)."""
    values = {a["uuid"]: a["value"] for a in event.get("Attribute") or () if isinstance(a.get("value"), str)}
    for o in objects:
        if o["type"] == "indicator" and o.get("pattern_type") not in (None, "stix"):
            value = values.get(_uuid_of(o["id"]))
            if value is not None and o.get("pattern") == f"[{value}]":
                o["pattern"] = value


def _place(problem: dict[str, Any]) -> str:
    parts = []
    if "object_index" in problem:
        parts.append(f"object #{problem['object_index']} ({problem.get('object')})")
    if "attribute_index" in problem:
        parts.append(f"attribute #{problem['attribute_index']} ({problem.get('attribute')})")
    return " at " + ", ".join(parts) if parts else ""


def _prepared(event: dict[str, Any]) -> dict[str, Any]:
    """The event with a uuid for every galaxy cluster (of the event, its attributes and its objects'
    attributes): older MISP left it empty and kept the cluster's uuid in ``collection_uuid``; failing
    that, one is derived from the cluster's type and value."""

    def cluster(c: Any) -> Any:
        if not isinstance(c, dict) or c.get("uuid"):
            return c
        found = c.get("collection_uuid")
        key = f"{c.get('type')}={c.get('value')}"
        return {**c, "uuid": found if is_uuid(found) else str(uuidlib.uuid5(_GALAXY_NAMESPACE, key))}

    def with_galaxies(holder: dict[str, Any]) -> dict[str, Any]:
        galaxies = holder.get("Galaxy")
        if not galaxies:
            return holder
        return {**holder, "Galaxy": [{**g, "GalaxyCluster": [cluster(c) for c in g.get("GalaxyCluster") or ()]}
                                     for g in galaxies]}

    prepared = with_galaxies(event)
    prepared["Attribute"] = [with_galaxies(a) for a in event.get("Attribute") or ()]
    prepared["Object"] = [{**o, "Attribute": [with_galaxies(a) for a in o.get("Attribute") or ()]}
                          for o in event.get("Object") or ()]
    return prepared


def _uuid_of(stix_id: str) -> str:
    return stix_id.partition("--")[2]


def event_uuids(event: dict[str, Any]) -> set[str]:
    """The uuids of the event, its attributes, objects, object attributes and sightings."""
    found = {event["uuid"]}
    for attribute in event.get("Attribute") or ():
        found.add(attribute["uuid"])
        found.update(s["uuid"] for s in attribute.get("Sighting") or () if is_uuid(s.get("uuid")))
    for obj in event.get("Object") or ():
        found.add(obj["uuid"])
        for attribute in obj.get("Attribute") or ():
            found.add(attribute["uuid"])
            found.update(s["uuid"] for s in attribute.get("Sighting") or () if is_uuid(s.get("uuid")))
    return found


def _check_complete(event: dict[str, Any], objects: list[dict[str, Any]], where: str) -> None:
    """Every attribute and every object of the event is represented by an object named by its uuid."""
    present = {_uuid_of(o["id"]) for o in objects}
    carried = {a.get("uuid") for o in objects for a in o.get("x_misp_attributes") or () if isinstance(a, dict)}
    missing = [{"source": where, "event": event["uuid"], "attribute": a["uuid"], "attribute_index": i,
                "reason": f"misp-stix did not convert this {a.get('type')} attribute"}
               for i, a in enumerate(event.get("Attribute") or ())
               if a["uuid"] not in present and a["uuid"] not in carried]
    missing += [{"source": where, "event": event["uuid"], "object": o["uuid"], "object_index": i,
                 "reason": f"misp-stix did not convert this {o.get('name')} object"}
                for i, o in enumerate(event.get("Object") or ()) if o["uuid"] not in present]
    if missing:
        raise Invalid(f"{where}: event {event['uuid']}: {len(missing)} attribute(s) or object(s) could not be "
                      f"converted, first{_place(missing[0])}: {missing[0]['reason']}", details=missing)


def _shared_and_marked(objects: list[dict[str, Any]], event: dict[str, Any]) -> list[dict[str, Any]]:
    own = event_uuids(event)
    event_tlp = tlp_of_tags(event.get("Tag"))
    kept = [o for o in objects if not (o["type"] == "marking-definition" and o["id"] in MARKING_TLP)]
    by_id = {o["id"]: o for o in kept}

    def stricter(*levels: Tlp | None) -> Tlp | None:
        given = [t for t in levels if t is not None]
        return max(given) if given else None

    decided: dict[str, Tlp | None] = {}
    for o in kept:  # SDOs and custom objects: their own marking, at least the event's
        if "created" in o and o["type"] not in ("relationship", "sighting"):
            marked = [MARKING_TLP[r] for r in o.get("object_marking_refs") or () if r in MARKING_TLP]
            decided[o["id"]] = stricter(event_tlp, *marked)
    for o in kept:  # observables: the strictest of the objects holding them
        if o["type"] not in _CONTAINERS:
            for ref in o.get("object_refs") or ():
                if ref in by_id and "created" not in by_id[ref]:
                    decided[ref] = stricter(decided.get(ref, event_tlp), decided.get(o["id"]))
    for o in kept:  # relationships and sightings: the strictest of the objects they join
        if o["type"] in ("relationship", "sighting"):
            refs = [o.get("source_ref"), o.get("target_ref"), o.get("sighting_of_ref"),
                    *(o.get("observed_data_refs") or ())]
            decided[o["id"]] = stricter(event_tlp, *(decided.get(r) for r in refs if isinstance(r, str)))
    for o in kept:
        if o["id"] not in decided:
            decided[o["id"]] = event_tlp
        tlp = decided[o["id"]]
        if tlp is not None:
            o["object_marking_refs"] = with_tlp_marking(o.get("object_marking_refs"), tlp)
        shared = _uuid_of(o["id"]) not in own and "created" in o and (
            o["type"] != "relationship" or not ({_uuid_of(o["source_ref"]), _uuid_of(o["target_ref"])} & own))
        if shared:
            o["created"] = o["modified"] = SHARED_TIMESTAMP
    return kept


# --- reading events ------------------------------------------------------------------------------

def _not_binary(head: bytes, where: str) -> None:
    if b"\x00" in head[:8192]:
        raise Invalid(f"{where}: a binary file, not MISP JSON")
    try:
        head[:8192].decode()
    except UnicodeDecodeError as exc:
        if exc.start < len(head[:8192]) - 4:  # a character cut at the end of the sample is fine
            raise Invalid(f"{where}: not UTF-8 text, not MISP JSON") from None


def events_of_document(doc: Any, where: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(uuid, event) of a document: one event, a list of events, or a REST answer ``{"response": [...]}``."""
    items: Iterable[Any]
    if isinstance(doc, dict) and isinstance(doc.get("response"), list):
        items = doc["response"]
    elif isinstance(doc, list):
        items = doc
    else:
        items = [doc]
        if event_body(doc) is None:
            raise Invalid(f"{where}: not a MISP event, a list of events or a {{\"response\": [...]}} answer")
    for index, item in enumerate(items):
        yield _event_item(item, index, where)


def _event_item(item: Any, index: int, where: str) -> tuple[str, dict[str, Any]]:
    event = event_body(item)
    if event is None:
        raise Invalid(f"{where}: item #{index} is not a MISP event",
                      details=[{"source": where, "index": index, "reason": "not a MISP event"}])
    return str(event.get("uuid")), item


def read_events(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """(uuid, event) of a file holding one event, a JSON list of events or ``{"response": [...]}``.

    A list is streamed, one event at a time.
    """
    where = path.name
    try:
        fh = path.open("rb")
    except OSError as exc:
        raise Invalid(f"{where}: cannot be read: {exc.strerror}") from None
    with fh:
        head = fh.read(8192)
        _not_binary(head, where)
        first = head.lstrip()[:1]
        fh.seek(0)
        if first == b"[":
            for index, item in enumerate(_stream_list(fh, where)):
                yield _event_item(item, index, where)
            return
        yield from events_of_document(_loads(fh.read(), where), where)


def _stream_list(fh: Any, where: str) -> Iterator[Any]:
    try:
        yield from ijson.items(fh, "item", use_float=True)
    except ijson.JSONError as exc:
        raise Invalid(f"{where}: not valid JSON (truncated or malformed): {exc}") from None


def _loads(data: bytes, where: str) -> Any:
    _not_binary(data[:8192], where)
    if not data.strip():
        raise Invalid(f"{where}: empty, not MISP JSON")
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise Invalid(f"{where}: not valid JSON (truncated or malformed): {exc}") from None


def iter_feed(source: str, *, transport: httpx.BaseTransport | None = None,
              timeout: float = 60.0) -> Iterator[tuple[str, dict[str, Any]]]:
    """(uuid, event) of a MISP feed, one event at a time, in the order of the uuids of its manifest.

    ``source`` is a folder or an http(s) URL holding ``manifest.json`` and ``<uuid>.json`` per event.
    """
    if source.startswith(("http://", "https://")):
        with httpx.Client(transport=transport, timeout=timeout, follow_redirects=True) as client:
            base = source.rstrip("/")
            manifest = _manifest(_fetch(client, f"{base}/manifest.json"), "manifest.json")
            for event_uuid in manifest:
                yield _one_event(_fetch(client, f"{base}/{event_uuid}.json"), event_uuid)
        return
    folder = Path(source)
    if not (folder / "manifest.json").is_file():
        raise Invalid(f"{folder.name or source}: no manifest.json, so not a MISP feed folder")
    manifest = _manifest((folder / "manifest.json").read_bytes(), "manifest.json")
    for event_uuid in manifest:
        try:
            data = (folder / f"{event_uuid}.json").read_bytes()
        except OSError:
            raise Invalid(f"{event_uuid}.json: listed in manifest.json but missing from the feed") from None
        yield _one_event(data, event_uuid)


def download_feed(url: str, folder: Path, *, transport: httpx.BaseTransport | None = None,
                  timeout: float = 60.0) -> int:
    """Copy a MISP feed (manifest.json and every event it lists) from ``url`` into ``folder``, one
    event in memory at a time; returns the number of events. Credentials may be given in the URL."""
    with httpx.Client(transport=transport, timeout=timeout, follow_redirects=True) as client:
        base = url.rstrip("/")
        raw = _fetch(client, f"{base}/manifest.json")
        manifest = _manifest(raw, "manifest.json")
        (folder / "manifest.json").write_bytes(raw)
        for event_uuid in manifest:
            (folder / f"{event_uuid}.json").write_bytes(_fetch(client, f"{base}/{event_uuid}.json"))
    return len(manifest)


def _fetch(client: httpx.Client, url: str) -> bytes:
    name = url.rsplit("/", 1)[-1]
    try:
        response = client.get(url)
    except httpx.HTTPError as exc:
        raise Invalid(f"{name}: the feed could not be fetched: {exc}") from None
    if response.status_code != 200:
        raise Invalid(f"{name}: the feed answered HTTP {response.status_code}")
    return response.content


def _manifest(data: bytes, where: str) -> list[str]:
    doc = _loads(data, where)
    if not isinstance(doc, dict):
        raise Invalid(f"{where}: a MISP feed manifest is a JSON object keyed by event uuid")
    bad = [k for k in doc if not is_uuid(k)]
    if bad:
        raise Invalid(f"{where}: {len(bad)} key(s) are not event uuids, first {bad[0][:80]!r}")
    return sorted(doc)


def _one_event(data: bytes, event_uuid: str) -> tuple[str, dict[str, Any]]:
    where = f"{event_uuid}.json"
    doc = _loads(data, where)
    event = event_body(doc)
    if event is None:
        raise Invalid(f"{where}: not a MISP event")
    if event.get("uuid") != event_uuid:
        raise Invalid(f"{where}: holds event {event.get('uuid')}, not the event the manifest names")
    return event_uuid, doc


def events_of_source(source: str | Path, *, transport: httpx.BaseTransport | None = None,
                     ) -> Iterator[tuple[str, dict[str, Any]]]:
    """A feed (folder or URL with manifest.json) or one file of events."""
    text = str(source)
    if text.startswith(("http://", "https://")) or Path(text).is_dir():
        return iter_feed(text, transport=transport)
    return read_events(Path(text))
