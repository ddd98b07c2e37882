"""How an object's provenance and sharing travel between instances: a STIX 2.1 property extension.

Every object federation sends carries, under :data:`EXTENSION_ID`, the instance it came from first,
the organisation that created it there (left out when it was submitted anonymously), its sharing
group's name (AMBER) and the path of instances it passed through. The receiver takes the extension
off again and keeps its content in ``object_provenance``: the object it stores is the object as its
creator wrote it, with the TLP marking it carried.

Groups travel by name: "Nordic fraud" on the Danish instance and "Nordic fraud" on the Norwegian
one are the same group when each has the other's peer organisation as a member.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from nordcert.config import NORDCERT_NAMESPACE

EXTENSION_ID = f"extension-definition--{uuid.uuid5(NORDCERT_NAMESPACE, 'federation-provenance')}"
_MAX_PATH = 32
_MAX_TEXT = 200


class WireError(ValueError):
    """The federation extension of an object is malformed."""


@dataclass
class Provenance:
    origin_instance: str
    origin_instance_name: str
    path: list[str]
    origin_org: dict[str, str] | None = None  # id, name, country, sector (absent when anonymous)
    anonymous: bool = False
    group: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def as_extension(self) -> dict[str, Any]:
        ext: dict[str, Any] = {
            "extension_type": "property-extension",
            "origin_instance": self.origin_instance,
            "origin_instance_name": self.origin_instance_name,
            "path": self.path,
            "anonymous": self.anonymous,
        }
        if self.origin_org and not self.anonymous:
            ext["origin_organisation"] = self.origin_org
        if self.group:
            ext["sharing_group"] = self.group
        return ext


def attach(obj: dict[str, Any], prov: Provenance) -> dict[str, Any]:
    """``obj`` with the federation extension set (any earlier one replaced)."""
    exts = dict(obj.get("extensions") or {})
    exts[EXTENSION_ID] = prov.as_extension()
    obj["extensions"] = exts
    return obj


def _text(ext: dict[str, Any], key: str, *, required: bool = True) -> str | None:
    value = ext.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > _MAX_TEXT:
        raise WireError(f"federation extension: {key!r} must be a non-empty string of at most {_MAX_TEXT} characters")
    return value


@lru_cache(maxsize=4096)
def _is_identity(value: str) -> bool:
    """``identity--<uuid>``? Cached: every object of a page names the same few instances."""
    if not value.startswith("identity--"):
        return False
    try:
        uuid.UUID(value.removeprefix("identity--"))
    except ValueError:
        return False
    return True


def _identity(value: Any, what: str) -> str:
    if not isinstance(value, str) or not _is_identity(value):
        raise WireError(f"federation extension: {what} must be an identity id (identity--<uuid>), not {value!r:.60}")
    return value


def detach(obj: dict[str, Any]) -> Provenance | None:
    """Take the federation extension off ``obj`` and read it; None if the object carries none."""
    exts = obj.get("extensions")
    if not isinstance(exts, dict) or EXTENSION_ID not in exts:
        return None
    ext = exts.pop(EXTENSION_ID)
    if not exts:
        del obj["extensions"]
    if not isinstance(ext, dict):
        raise WireError("federation extension must be an object")
    origin = _identity(ext.get("origin_instance"), "origin_instance")
    name = _text(ext, "origin_instance_name")
    path = ext.get("path")
    if not isinstance(path, list) or not path or len(path) > _MAX_PATH:
        raise WireError(f"federation extension: 'path' must be a list of 1 to {_MAX_PATH} identity ids")
    path = [_identity(p, "a path entry") for p in path]
    if path[0] != origin:
        raise WireError("federation extension: the path must start at the origin instance")
    anonymous = ext.get("anonymous", False)
    if not isinstance(anonymous, bool):
        raise WireError("federation extension: 'anonymous' must be true or false")
    org = ext.get("origin_organisation")
    if org is not None:
        if not isinstance(org, dict):
            raise WireError("federation extension: 'origin_organisation' must be an object")
        org = {
            "id": _identity(org.get("id"), "origin_organisation.id"),
            "name": str(_text(org, "name")),
            "country": str(_text(org, "country", required=False) or ""),
            "sector": str(_text(org, "sector", required=False) or ""),
        }
    group = _text(ext, "sharing_group", required=False)
    return Provenance(origin, str(name), path, None if anonymous else org, anonymous, group)

