"""Reading STIX objects out of a bundle, a TAXII envelope, a JSON array or a single object.

Files are parsed as a stream (ijson's C backend), so memory stays bounded however large the bundle.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

import ijson
import orjson

from nordcert.errors import Invalid


def objects_from_bytes(data: bytes) -> list[Any]:
    """The objects of an in-memory document (API request bodies)."""
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise Invalid(f"the body is not valid JSON: {exc}") from None
    return objects_of_document(doc)


def objects_of_document(doc: Any) -> list[Any]:
    if isinstance(doc, list):
        return doc
    if isinstance(doc, dict):
        if "objects" in doc and not isinstance(doc["objects"], list):
            raise Invalid(f"'objects' must be a list of STIX objects, not {type(doc['objects']).__name__}")
        if isinstance(doc.get("objects"), list):
            if doc.get("type") not in (None, "bundle"):
                raise Invalid(f"a document with an 'objects' list must be a bundle, not {doc.get('type')!r}")
            objects: list[Any] = doc["objects"]
            return objects
        if "type" in doc and doc["type"] != "bundle":
            return [doc]
        if doc.get("type") == "bundle":
            return []
    raise Invalid("expected a STIX bundle, a TAXII envelope, a JSON array of objects or one STIX object")


def iter_objects_from_file(fh: IO[bytes]) -> Iterator[Any]:
    """Stream the objects of a JSON file; raises :class:`Invalid` naming the byte offset of bad JSON."""
    first = _first_char(fh)
    fh.seek(0)
    count = 0
    try:
        if first == b"[":
            for obj in ijson.items(fh, "item", use_float=True):
                count += 1
                yield obj
            return
        if first != b"{":
            raise Invalid("the file is not JSON: expected a STIX bundle or a JSON array of objects")
        # The document's own type, if any (usually the first key, so this reads only a few bytes).
        doc_type = next(ijson.items(fh, "type"), None)
        fh.seek(0)
        if doc_type not in (None, "bundle") and _has_objects_list(fh):
            raise Invalid(f"a document with an 'objects' list must be a bundle, not {doc_type!r}")
        fh.seek(0)
        for obj in ijson.items(fh, "objects.item", use_float=True):
            count += 1
            yield obj
        if count == 0:
            fh.seek(0)
            doc = orjson.loads(fh.read())
            yield from objects_of_document(doc)
    except ijson.JSONError as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise Invalid(f"the file is not valid JSON: {_where(fh, count)}: {reason}") from None
    except orjson.JSONDecodeError as exc:
        raise Invalid(f"the file is not valid JSON: {exc}") from None


def _where(fh: IO[bytes], count: int) -> str:
    """Where a parse stopped: after which object, near which byte (the parser reads ahead in blocks)."""
    try:
        near = f" (read up to byte {fh.tell():,})"
    except (OSError, ValueError):
        near = ""
    return (f"after object {count - 1}" if count else "before the first object") + near


def _has_objects_list(fh: IO[bytes]) -> bool:
    return any(event == "start_array" for prefix, event, _ in ijson.parse(fh) if prefix == "objects")


def _first_char(fh: IO[bytes]) -> bytes:
    while True:
        c = fh.read(1)
        if not c or not c.isspace():
            return c
