"""MISP galaxy cluster files (the misp-galaxy project's ``clusters/<name>.json``) as STIX 2.1.

A cluster file is the MISP community's library of threat actors, malware families, tools, attack
patterns, sectors and countries. It is converted the way MISP events carry galaxies, through
misp-stix, so a cluster imported from the library and the same cluster tagged on an event become
the same STIX object (``threat-actor--<cluster uuid>``, ``malware--…``, ``attack-pattern--…``,
``tool--…``, ``identity--…`` for a sector, ``location--…`` for a country). The file itself
becomes a ``report`` of its clusters, named after the galaxy, versioned by the file's ``version``.
"""

from __future__ import annotations

import uuid
from typing import Any

from nordcert.errors import Invalid

#: The organisation the library's objects are attributed to (misp-galaxy has no MISP organisation uuid).
GALAXY_ORG = {"name": "MISP galaxy (misp-galaxy project)", "uuid": "7f3b0e63-3d2c-4b64-8f7c-3f0b1b8c9e21"}
#: A file of version N is dated this many seconds plus N hours: later versions are later versions.
_VERSION_EPOCH = 1_577_836_800  # 2020-01-01T00:00:00Z
_KEYS = frozenset({"name", "type", "uuid", "values"})


def is_galaxy(doc: Any) -> bool:
    """A misp-galaxy cluster file: an object with name, type, uuid and a list of values."""
    return isinstance(doc, dict) and _KEYS <= doc.keys() and isinstance(doc["values"], list) and "Event" not in doc


def event_of_galaxy(doc: dict[str, Any], where: str) -> dict[str, Any]:
    """The cluster file as a MISP event holding one galaxy with every cluster (for misp-stix)."""
    problems = []
    galaxy_uuid = _uuid(doc.get("uuid"))
    if galaxy_uuid is None:
        raise Invalid(f"{where}: the galaxy's uuid {str(doc.get('uuid'))[:60]!r} is not a UUID")
    version = doc.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 0:
        version = 0
    clusters = []
    for index, value in enumerate(doc["values"]):
        name = value.get("value") if isinstance(value, dict) else None
        cluster_uuid = _uuid(value.get("uuid")) if isinstance(value, dict) else None
        if not isinstance(name, str) or not name.strip():
            problems.append({"source": where, "cluster_index": index, "reason": "a cluster needs a text 'value'"})
            continue
        if cluster_uuid is None:
            problems.append({"source": where, "cluster_index": index, "cluster": name[:80],
                             "reason": "a cluster needs a UUID 'uuid'"})
            continue
        meta = value.get("meta")
        clusters.append({
            "uuid": cluster_uuid, "value": name, "type": doc["type"],
            "description": value.get("description") if isinstance(value.get("description"), str) else "",
            "meta": meta if isinstance(meta, dict) else {},
            "tag_name": f'misp-galaxy:{doc["type"]}="{name}"', "collection_uuid": galaxy_uuid,
            "source": doc.get("source") or "", "authors": doc.get("authors") or [], "version": str(version),
        })
    if problems:
        raise Invalid(f"{where}: {len(problems)} cluster(s) refused, first #{problems[0]['cluster_index']}: "
                      f"{problems[0]['reason']}", details=problems)
    timestamp = _VERSION_EPOCH + 3600 * version
    return {"Event": {
        "uuid": galaxy_uuid,
        "info": f"MISP galaxy: {doc.get('name')} (version {version})",
        "date": "2020-01-01", "timestamp": str(timestamp), "publish_timestamp": str(timestamp),
        "published": True, "analysis": "2", "threat_level_id": "4",
        "Orgc": GALAXY_ORG, "Org": GALAXY_ORG, "Attribute": [], "Object": [],
        "Galaxy": [{"uuid": galaxy_uuid, "name": doc.get("name"), "type": doc["type"],
                    "description": doc.get("description") or "", "namespace": "misp", "GalaxyCluster": clusters}],
    }}


def _uuid(value: Any) -> str | None:
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        return None
