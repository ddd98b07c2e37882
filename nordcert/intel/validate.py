"""Validation of STIX 2.1 objects (STIX 2.1 §3-§7): what every object needs before it is stored.

Checks, per object: the type name (§3.1), the identifier and its UUID (§2.9), the timestamps
(§3.2) and their order, the required properties of each SDO, SRO, SCO and meta object type,
references (``*_ref``/``*_refs``), confidence, labels, external references, binary properties
(base64) and, for ``pattern_type: stix``, the indicator pattern. Custom object types and custom
properties are kept as they are. The checks are hand-written for speed (bulk ingest runs them on
every object); patterns go through ``stix2-patterns``.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

from nordcert.intel.patterns import validate_pattern

_TYPE_RE = re.compile(r"[a-z0-9][a-z0-9-]{1,248}[a-z0-9]")
# The UUID of an identifier (type--UUID), its hex digits in either case.
_UUID_RE = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_TS_RE = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}):([0-9]{2})(?:\.([0-9]+))?Z")
_TIMESTAMP_PROPS = (
    "created",
    "modified",
    "valid_from",
    "valid_until",
    "first_seen",
    "last_seen",
    "published",
    "first_observed",
    "last_observed",
)

SDO_TYPES = frozenset(
    ["attack-pattern", "campaign", "course-of-action", "grouping", "identity", "incident", "indicator", "infrastructure", "intrusion-set", "location", "malware", "malware-analysis", "note", "observed-data", "opinion", "report", "threat-actor", "tool", "vulnerability"]
)
SRO_TYPES = frozenset({"relationship", "sighting"})
#: nordcert's custom fraud observables and OpenCTI's equivalents (docs/observables.md): cyber-observable
#: objects, so without created/modified like the STIX 2.1 §6 ones.
FRAUD_SCO_TYPES = frozenset({"x-bank-account", "x-payment-card", "x-cryptocurrency-wallet", "x-phone-number",
                             "bank-account", "payment-card", "cryptocurrency-wallet", "phone-number"})
#: A keyed hash of a personal value (docs/privacy.md): a cyber-observable, without created/modified.
BLINDED_TYPE = "x-blinded-value"
SCO_TYPES = frozenset(
    ["artifact", "autonomous-system", "directory", "domain-name", "email-addr", "email-message", "file", "ipv4-addr", "ipv6-addr", "mac-addr", "mutex", "network-traffic", "process", "software", "url", "user-account", "windows-registry-key", "x509-certificate"]
) | FRAUD_SCO_TYPES | {BLINDED_TYPE}
META_TYPES = frozenset({"marking-definition", "language-content", "extension-definition"})
#: Type names known to be well formed (the rest are checked against the STIX type-name grammar).
_STANDARD_TYPES = SDO_TYPES | SRO_TYPES | SCO_TYPES | META_TYPES

# Required properties beyond the common ones (STIX 2.1 §4-§7). A tuple inside means "at least one of".
_REQUIRED: dict[str, tuple[str | tuple[str, ...], ...]] = {
    "attack-pattern": ("name",),
    "campaign": ("name",),
    "course-of-action": ("name",),
    "grouping": ("context", "object_refs"),
    "identity": ("name",),
    "incident": ("name",),
    "indicator": ("pattern", "pattern_type", "valid_from"),
    "infrastructure": ("name",),
    "intrusion-set": ("name",),
    "location": (("region", "country", "latitude"),),
    "malware": ("is_family",),
    "malware-analysis": ("product", ("result", "analysis_sco_refs")),
    "note": ("content", "object_refs"),
    "observed-data": ("first_observed", "last_observed", "number_observed", ("object_refs", "objects")),
    "opinion": ("opinion", "object_refs"),
    "report": ("name", "published", "object_refs"),
    "threat-actor": ("name",),
    "tool": ("name",),
    "vulnerability": ("name",),
    "relationship": ("relationship_type", "source_ref", "target_ref"),
    "sighting": ("sighting_of_ref",),
    "artifact": (("payload_bin", "url"),),
    "autonomous-system": ("number",),
    "directory": ("path",),
    "domain-name": ("value",),
    "email-addr": ("value",),
    "email-message": ("is_multipart",),
    "file": (("hashes", "name"),),
    "ipv4-addr": ("value",),
    "ipv6-addr": ("value",),
    "mac-addr": ("value",),
    "mutex": ("name",),
    "network-traffic": ("protocols", ("src_ref", "dst_ref")),
    "software": ("name",),
    "url": ("value",),
    BLINDED_TYPE: ("value",),
    "marking-definition": ("created",),
    "language-content": ("created", "modified", "object_ref", "object_modified", "contents"),
    "extension-definition": ("created", "modified", "created_by_ref", "name", "schema", "version", "extension_types"),
}


#: Limits on one object's shape: deeper nesting or longer strings are refused, not stored. Real STIX
#: content nests a few levels (extensions, external references, hashes) and its longest strings are
#: artifacts' base64 payloads; these bounds keep a hostile object from costing every reader later.
MAX_NESTING = 32
MAX_STRING_CHARS = 4 * 1024 * 1024


class ObjectError(ValueError):
    """One reason an object is refused."""


class _Oversized(Exception):
    """A value too deep or too long, somewhere below a property; ``path`` is filled in on the way out."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        self.path: list[str] = []


@dataclass(slots=True)
class Checked:
    """What ingest needs from a valid object."""

    obj: dict[str, Any]
    stix_id: str
    type: str
    spec_version: str
    modified: int
    created: int | None
    revoked: bool
    valid_until: int | None


def timestamp_us(value: Any, prop: str = "timestamp") -> int:
    """Microseconds since the epoch of a STIX timestamp (RFC 3339, UTC, ``Z``)."""
    if type(value) is not str:
        raise ObjectError(f"{prop} must be a timestamp string")
    m = _TS_RE.fullmatch(value)
    if m is None:
        raise ObjectError(f"{prop} {value!r} is not a STIX timestamp (YYYY-MM-DDTHH:MM:SS[.s]Z)")
    try:
        since = datetime.fromisoformat(value) - _EPOCH  # the shape is checked above; this checks the ranges
    except ValueError:
        return _timestamp_us_slow(m, value, prop)  # names what is out of range
    return (since.days * 86_400 + since.seconds) * 1_000_000 + since.microseconds


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _timestamp_us_slow(m: re.Match[str], value: str, prop: str) -> int:
    minute, second, frac = m.groups()
    base = _MINUTES.get(minute)
    if base is None:
        base = _minute_seconds(minute, value, prop)
    if second > "59":
        raise ObjectError(f"{prop} {value!r} is not a valid date/time: second out of range")
    return (base + int(second)) * 1_000_000 + (int(frac[:6].ljust(6, "0")) if frac else 0)


_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
# Seconds since the epoch of each 'YYYY-MM-DDTHH:MM' seen: bulk data shares minutes. Bounded.
_MINUTES: dict[str, int] = {}


def _minute_seconds(minute: str, value: str, prop: str) -> int:
    hour, mins = int(minute[11:13]), int(minute[14:16])
    if hour > 23 or mins > 59:
        raise ObjectError(f"{prop} {value!r} is not a valid date/time: time out of range")
    try:
        day = date(int(minute[:4]), int(minute[5:7]), int(minute[8:10])).toordinal() - _EPOCH_ORDINAL
    except ValueError as exc:
        raise ObjectError(f"{prop} {value!r} is not a valid date/time: {exc}") from None
    seconds = day * 86_400 + hour * 3600 + mins * 60
    if len(_MINUTES) >= 100_000:
        _MINUTES.clear()
    _MINUTES[minute] = seconds
    return seconds


def format_timestamp(us: int) -> str:
    """A STIX timestamp with millisecond precision or finer, as needed to keep ``us`` exact."""
    dt = datetime.fromtimestamp(us // 1_000_000, tz=UTC)
    micro = us % 1_000_000
    frac = f"{micro:06d}"
    if frac.endswith("000"):
        frac = frac[:3]
    return f"{dt.year:04d}-{dt.month:02d}-{dt.day:02d}T{dt.hour:02d}:{dt.minute:02d}:{dt.second:02d}.{frac}Z"


def _check_identifier(value: Any, prop: str) -> str:
    otype = _identifier_type(value) if isinstance(value, str) else None
    if otype is None:
        if not isinstance(value, str):
            raise ObjectError(f"{prop} must be a STIX identifier string")
        raise ObjectError(f"{prop} {value!r} is not a STIX identifier (type--UUID)")
    return otype


def _uncached_identifier_type(value: str) -> str | None:
    """The type part of a valid identifier, else None."""
    # type--UUID: the UUID is the last 36 characters, so no search for the "--" is needed (a regular
    # expression over the whole identifier backtracks through the UUID to find it).
    if len(value) < 41 or value[-38:-36] != "--" or _UUID_RE.fullmatch(value, len(value) - 36) is None:
        return None
    otype = value[:-38]
    return otype if otype in _STANDARD_TYPES or _TYPE_RE.fullmatch(otype) else None


#: References repeat across a bundle: cached. An object's own id is unique, so it is not.
_identifier_type = lru_cache(maxsize=65536)(_uncached_identifier_type)


def check_object(obj: Any) -> Checked:
    """Validate one STIX 2.1 object; raise :class:`ObjectError` naming the first problem."""
    if not isinstance(obj, dict):
        raise ObjectError("not a JSON object")
    otype = obj.get("type")
    if not isinstance(otype, str) or (otype not in _STANDARD_TYPES and not _TYPE_RE.fullmatch(otype)):
        raise ObjectError(f"type {otype!r} is not a STIX type name (3-250 of a-z, 0-9, '-')")
    if otype == "bundle":
        raise ObjectError("a bundle cannot be nested inside a bundle")
    stix_id = obj.get("id")
    id_type = _uncached_identifier_type(stix_id) if isinstance(stix_id, str) else None
    if id_type is None:
        _check_identifier(stix_id, "id")  # raises, naming the problem
    if id_type != otype:
        raise ObjectError(f"id {stix_id!r} does not start with its type {otype!r}")
    is_sco = otype in SCO_TYPES
    spec = obj.get("spec_version")
    if spec is None and not is_sco:
        raise ObjectError("spec_version is missing: only STIX 2.1 objects are accepted")
    if spec is not None and spec != "2.1":
        raise ObjectError(f"spec_version {spec!r} is not supported: only STIX 2.1 is accepted")

    for req in _REQUIRED.get(otype, ()):
        if isinstance(req, tuple):
            if not any(p in obj for p in req):
                raise ObjectError(f"{otype} needs one of: {', '.join(req)}")
        elif req not in obj:
            raise ObjectError(f"{otype} is missing the required property {req!r}")

    times: dict[str, int] = {}
    parsed: dict[str, int] = {}  # created, modified and valid_from are often the same string
    for prop in _TIMESTAMP_PROPS:
        if prop in obj:
            value = obj[prop]
            us = parsed.get(value) if type(value) is str else None
            if us is None:
                us = timestamp_us(value, prop)
                parsed[value] = us
            times[prop] = us
    created, modified = times.get("created"), times.get("modified")
    is_versioned = otype in SDO_TYPES or otype in SRO_TYPES or (not is_sco and otype not in META_TYPES)
    if is_versioned:
        if created is None:
            raise ObjectError(f"{otype} is missing the required property 'created'")
        if modified is None:
            raise ObjectError(f"{otype} is missing the required property 'modified'")
    if created is not None and modified is not None and modified < created:
        raise ObjectError("modified is earlier than created")
    _check_common(obj, otype)  # references, sizes and nesting, common properties
    valid_until = None
    if otype == "indicator":
        valid_until = _check_indicator(obj, times)
    elif otype == "malware" and obj.get("is_family") is True and "name" not in obj:
        raise ObjectError("malware with is_family true needs a name")
    elif otype == "artifact" and "payload_bin" in obj:
        _check_base64(obj["payload_bin"], "payload_bin")
    revoked = obj.get("revoked", False)
    if not isinstance(revoked, bool):
        raise ObjectError("revoked must be true or false")
    return Checked(
        obj=obj,
        stix_id=str(stix_id),  # checked by _check_identifier above
        type=otype,
        spec_version=spec or "2.1",
        modified=modified if modified is not None else (created if created is not None else 0),
        created=created,
        revoked=revoked,
        valid_until=valid_until,
    )


_REF_KIND: dict[str, int] = {}


def _ref_kind(prop: str) -> int:
    """1 for an identifier reference, 2 for a list of them, 0 otherwise (custom x_ ones are kept as they are)."""
    if prop.startswith("x_"):
        return 0
    return 1 if prop.endswith("_ref") else 2 if prop.endswith("_refs") else 0


def _check_common(obj: dict[str, Any], otype: str) -> None:
    for prop, value in obj.items():
        kind = _REF_KIND.get(prop)
        if kind is None:
            kind = _ref_kind(prop)
            if len(_REF_KIND) < 10_000:  # bounded: property names come from the input
                _REF_KIND[prop] = kind
        if kind == 1:
            _check_identifier(value, prop)
            continue  # a valid identifier is a short string
        if kind == 2:
            if not isinstance(value, list):
                raise ObjectError(f"{prop} must be a list of identifiers")
            for i, ref in enumerate(value):
                if not (isinstance(ref, str) and _identifier_type(ref)):
                    _check_identifier(ref, f"{prop}[{i}]")  # raises, naming the bad one
            continue  # a list of valid identifiers: short strings, nothing nested
        value_type = type(value)
        if value_type is str:
            if len(value) > MAX_STRING_CHARS:
                raise ObjectError(f"{prop} is {len(value):,} characters long; at most {MAX_STRING_CHARS:,} "
                                  "are accepted")
        elif value_type is dict or value_type is list:
            try:
                _check_nested(value, 2)
            except _Oversized as exc:
                raise ObjectError(f"{prop}{''.join(reversed(exc.path))} {exc.reason}") from None
    if "labels" in obj:
        labels = obj["labels"]
        if not isinstance(labels, list):
            raise ObjectError("labels must be a list of strings")
        for label in labels:
            if not isinstance(label, str):
                raise ObjectError("labels must be a list of strings")
    if "confidence" in obj:
        conf = obj["confidence"]
        if not isinstance(conf, int) or isinstance(conf, bool) or not 0 <= conf <= 100:
            raise ObjectError("confidence must be an integer from 0 to 100")
    if "external_references" in obj:
        refs = obj["external_references"]
        if not isinstance(refs, list):
            raise ObjectError("external_references must be a list")
        for i, ref in enumerate(refs):
            if not isinstance(ref, dict) or not isinstance(ref.get("source_name"), str):
                raise ObjectError(f"external_references[{i}] needs a source_name")
    if otype == "relationship" and not isinstance(obj["relationship_type"], str):
        raise ObjectError("relationship_type must be a string")


def _check_nested(value: dict[str, Any] | list[Any], depth: int) -> None:
    if depth > MAX_NESTING:
        raise _Oversized(f"is nested more than {MAX_NESTING} levels deep")
    items = value.items() if type(value) is dict else enumerate(value)
    for key, inner in items:
        kind = type(inner)
        try:
            if kind is str:
                if len(inner) > MAX_STRING_CHARS:
                    raise _Oversized(f"is {len(inner):,} characters long; at most {MAX_STRING_CHARS:,} are accepted")
            elif kind is dict or kind is list:
                _check_nested(inner, depth + 1)
        except _Oversized as exc:
            exc.path.append(f"[{key}]" if type(key) is int else f".{key}")
            raise


def _check_indicator(obj: dict[str, Any], times: dict[str, int]) -> int | None:
    pattern, pattern_type = obj["pattern"], obj["pattern_type"]
    if not isinstance(pattern, str) or not pattern.strip():
        raise ObjectError("pattern must be a non-empty string")
    if pattern_type == "stix":
        problems = validate_pattern(pattern)
        if problems:
            raise ObjectError(f"invalid STIX pattern {pattern!r}: {problems[0].removeprefix('FAIL: ')}")
    valid_from = times["valid_from"]
    valid_until = times.get("valid_until")
    if valid_until is not None:
        if valid_until <= valid_from:
            raise ObjectError("valid_until must be later than valid_from")
        return valid_until
    return None


def _check_base64(value: Any, prop: str) -> None:
    if not isinstance(value, str):
        raise ObjectError(f"{prop} must be a base64 string")
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ObjectError(f"{prop} is not valid base64") from None
