"""Shape checks of a MISP event before conversion: every problem named by event, attribute and object.

MISP's own limits apply (MISP core format, draft-dulaunoy-misp-core-format): attribute types are
those MISP knows (PyMISP's ``describeTypes``), attribute values and the event ``info`` are stored
in TEXT columns (at most 65,535 bytes), tag names in VARCHAR(255). A MISP instance refuses anything
beyond them, so nordcert refuses it too rather than store what could never go back to MISP.
"""

from __future__ import annotations

import uuid as uuidlib
from functools import lru_cache
from typing import Any

MAX_TEXT_BYTES = 65_535
MAX_TAG_LENGTH = 255


@lru_cache(maxsize=1)
def known_attribute_types() -> frozenset[str]:
    """The attribute types MISP defines (PyMISP's describeTypes)."""
    from pymisp import MISPAttribute

    return frozenset(MISPAttribute().known_types)


def event_body(doc: Any) -> dict[str, Any] | None:
    """The event of ``{"Event": {...}}`` or of a bare event dict; None if ``doc`` is neither."""
    if isinstance(doc, dict):
        inner = doc.get("Event")
        if isinstance(inner, dict):
            return inner
        if "info" in doc or "Attribute" in doc or "Object" in doc:
            return doc
    return None


def is_uuid(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        uuidlib.UUID(value)
    except ValueError:
        return False
    return len(value) == 36


class _Problems:
    def __init__(self, event_uuid: str | None, where: str) -> None:
        self.event = event_uuid
        self.where = where
        self.found: list[dict[str, Any]] = []

    def add(self, reason: str, **place: Any) -> None:
        self.found.append({"source": self.where, "event": self.event, **place, "reason": reason})


def check_event(event: dict[str, Any], where: str) -> list[dict[str, Any]]:
    """Every shape problem of one event, each naming its place; empty when the event is fine."""
    event_uuid = event.get("uuid") if isinstance(event.get("uuid"), str) else None
    p = _Problems(event_uuid, where)
    if not is_uuid(event.get("uuid")):
        p.add("the event has no valid uuid (needed to identify it on every import)")
    info = event.get("info")
    if info is not None and not isinstance(info, str):
        p.add(f"info must be a string, not {type(info).__name__}")
    elif isinstance(info, str) and len(info.encode()) > MAX_TEXT_BYTES:
        p.add(f"info is longer than {MAX_TEXT_BYTES} bytes")
    _check_tags(event.get("Tag"), p, {})
    attributes = event.get("Attribute", [])
    if not isinstance(attributes, list):
        p.add(f"Attribute must be a list, not {type(attributes).__name__}")
        attributes = []
    for index, attribute in enumerate(attributes):
        _check_attribute(attribute, p, {"attribute_index": index})
    objects = event.get("Object", [])
    if not isinstance(objects, list):
        p.add(f"Object must be a list, not {type(objects).__name__}")
        objects = []
    for index, obj in enumerate(objects):
        place: dict[str, Any] = {"object_index": index}
        if not isinstance(obj, dict):
            p.add(f"an object must be a JSON object, not {type(obj).__name__}", **place)
            continue
        place["object"] = obj.get("uuid")
        if not is_uuid(obj.get("uuid")):
            p.add("the object has no valid uuid", **place)
        if not isinstance(obj.get("name"), str) or not obj["name"]:
            p.add("the object has no name (its template name)", **place)
        inner = obj.get("Attribute", [])
        if not isinstance(inner, list):
            p.add(f"the object's Attribute must be a list, not {type(inner).__name__}", **place)
            continue
        for i, attribute in enumerate(inner):
            _check_attribute(attribute, p, {**place, "attribute_index": i})
    galaxies = event.get("Galaxy", [])
    if not isinstance(galaxies, list) or not all(
            isinstance(g, dict) and isinstance(g.get("GalaxyCluster", []), list) for g in galaxies):
        p.add("Galaxy must be a list of galaxies, each with a GalaxyCluster list")
    return p.found


def _check_attribute(attribute: Any, p: _Problems, place: dict[str, Any]) -> None:
    if not isinstance(attribute, dict):
        p.add(f"an attribute must be a JSON object, not {type(attribute).__name__}", **place)
        return
    place = {**place, "attribute": attribute.get("uuid")}
    if not is_uuid(attribute.get("uuid")):
        p.add("the attribute has no valid uuid", **place)
    atype = attribute.get("type")
    if not isinstance(atype, str):
        p.add("the attribute has no type", **place)
    elif atype not in known_attribute_types():
        p.add(f"unknown MISP attribute type {atype[:80]!r}", **place)
    value = attribute.get("value")
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        p.add(f"the attribute value must be a string, not {type(value).__name__}", **place)
    elif isinstance(value, str) and len(value.encode()) > MAX_TEXT_BYTES:
        p.add(f"the attribute value is longer than {MAX_TEXT_BYTES} bytes", **place)
    if "to_ids" in attribute and attribute["to_ids"] not in (True, False, 0, 1, "0", "1"):
        p.add("to_ids must be true or false", **place)
    for key in ("timestamp", "first_seen", "last_seen"):
        stamp = attribute.get(key)
        if stamp is not None and not isinstance(stamp, (int, str)):
            p.add(f"{key} must be a timestamp, not {type(stamp).__name__}", **place)
    if "timestamp" in attribute and isinstance(attribute["timestamp"], str) \
            and not attribute["timestamp"].isdigit():
        p.add("timestamp must be seconds since the epoch", **place)
    _check_tags(attribute.get("Tag"), p, place)
    sightings = attribute.get("Sighting", [])
    if not isinstance(sightings, list) or not all(isinstance(s, dict) for s in sightings):
        p.add("Sighting must be a list of sightings", **place)


def _check_tags(tags: Any, p: _Problems, place: dict[str, Any]) -> None:
    if tags is None:
        return
    if not isinstance(tags, list):
        p.add(f"Tag must be a list, not {type(tags).__name__}", **place)
        return
    for tag in tags:
        name = tag.get("name") if isinstance(tag, dict) else None
        if not isinstance(name, str):
            p.add("a tag has no name", **place)
        elif len(name) > MAX_TAG_LENGTH:
            p.add(f"a tag name is longer than {MAX_TAG_LENGTH} characters", **place)


@lru_cache(maxsize=1)
def misp_stix() -> Any:
    """The ``misp_stix_converter`` module, imported once. Its STIX 1 dependencies (mixbox's vendored
    six) raise an ImportWarning on Python 3.11 that says nothing about our use: silenced here only."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ImportWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        import misp_stix_converter
    _quiet_six_importers()
    return misp_stix_converter


def _quiet_six_importers() -> None:
    """Old vendored copies of six (mixbox's) leave a meta-path importer without ``find_spec``: every
    later failed import anywhere in the process then warns. Give it the ``find_spec`` newer six has."""
    import importlib.util
    import sys

    for finder in sys.meta_path:
        if type(finder).__name__ == "_SixMetaPathImporter" and "find_spec" not in type(finder).__dict__:
            known = getattr(finder, "known_modules", {})

            def find_spec(fullname: str, path: Any = None, target: Any = None, _f: Any = finder,
                          _known: Any = known) -> Any:
                return importlib.util.spec_from_loader(fullname, _f) if fullname in _known else None

            finder.find_spec = find_spec  # type: ignore[method-assign]
