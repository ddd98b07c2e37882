"""STIX 2.1 objects → one MISP event, with misp-stix's STIX → MISP parsers.

Objects that misp-stix made from MISP (they carry its ``misp:`` labels and ``x-misp-*`` types) go
through its internal parser, which restores the original attribute types, values and uuids;
everything else through its external parser. nordcert's fraud observables, which the external
parser does not know, become MISP ``iban``, ``bic``, ``btc``, ``phone-number`` and ``bin``
attributes. TLP tags are set from the TLP this store applied to each object, and attribute uuids
the parsers had to invent are derived from the event, so the same objects give the same event.
"""

from __future__ import annotations

import logging
import uuid as uuidlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from nordcert.errors import Invalid
from nordcert.formats.misp_check import misp_stix
from nordcert.observables.extract import extract
from nordcert.observables.kinds import Kind
from nordcert.sharing.tlp import Tlp

FROM_MISP_LABEL = 'misp:tool="MISP-STIX-Converter"'
#: Tags the parsers add on their own, not the source's: dropped from exported events.
_NOISE_TAGS = (FROM_MISP_LABEL, "misp-galaxy:producer=", "Threat-Report")
_FRAUD_TYPES = {Kind.IBAN: "iban", Kind.BIC: "bic", Kind.WALLET: "btc", Kind.PHONE: "phone-number",
                Kind.BIN: "bin"}
_FRAUD_SCOS = frozenset({"x-bank-account", "x-payment-card", "x-cryptocurrency-wallet", "x-phone-number",
                         "bank-account", "payment-card", "cryptocurrency-wallet", "phone-number"})
_OUT_NAMESPACE = uuidlib.UUID("3f9b6c1d-2a4e-4f8b-9c7d-1e2f3a4b5c6d")  # nordcert's, for invented uuids


@dataclass(frozen=True)
class EventHead:
    """What the event is, decided from the store (not from the objects' own claims)."""

    uuid: str
    info: str
    tlp: Tlp
    timestamp: int  # seconds
    date: str  # YYYY-MM-DD
    orgc_name: str
    orgc_uuid: str


def is_from_misp(obj: dict[str, Any]) -> bool:
    """Was ``obj`` made by misp-stix from a MISP event?"""
    if str(obj.get("type", "")).startswith("x-misp-"):
        return True
    return any(isinstance(x, str) and x.startswith(("misp:type=", "misp:name=")) or x == FROM_MISP_LABEL
               for x in obj.get("labels") or ())


def misp_event(objects: list[dict[str, Any]], tlps: dict[str, Tlp], head: EventHead) -> Any:
    """The ``pymisp.MISPEvent`` of ``objects`` (STIX ids → TLP applied in ``tlps``), described by ``head``."""
    import stix2

    converter = misp_stix()

    from_misp = any(is_from_misp(o) for o in objects if o.get("type") in ("report", "grouping")) or (
        all(is_from_misp(o) for o in objects if o.get("type") not in ("report", "grouping", "identity")))
    fraud: list[tuple[str, str, str, bool]] = []
    kept = []
    for o in objects:
        if not from_misp and (o.get("type") in _FRAUD_SCOS or _fraud_pattern(o)):
            fraud.extend(_fraud_values(o))
            if o.get("type") in _FRAUD_SCOS:
                continue
        kept.append(o)
    container = next((o for o in kept if o["id"].partition("--")[2] == head.uuid), None)
    if container is None:
        container = {"type": "grouping", "spec_version": "2.1", "id": f"grouping--{head.uuid}",
                     "created": _stix_time(head.timestamp), "modified": _stix_time(head.timestamp),
                     "name": head.info, "context": "suspicious-activity",
                     "object_refs": [o["id"] for o in kept] or [f"grouping--{head.uuid}"]}
        if from_misp:
            container["labels"] = [FROM_MISP_LABEL]
        kept.insert(0, container)
    parser = converter.InternalSTIX2toMISPParser() if from_misp else converter.ExternalSTIX2toMISPParser()
    logging.getLogger("pymisp").disabled = True  # template warnings of old events are not ours to print
    try:
        bundle = stix2.parse({"type": "bundle", "id": f"bundle--{head.uuid}", "objects": kept}, allow_custom=True)
        parser.load_stix_bundle(bundle)
        parser.parse_stix_bundle(single_event=True)
    except Exception as exc:  # noqa: BLE001 - one event that misp-stix cannot write is reported, not raised raw
        raise Invalid(f"event {head.uuid} could not be converted to MISP: {exc}") from None
    event = parser.misp_event
    for misp_type, value, source_id, to_ids in fraud:
        attribute = event.add_attribute(misp_type, value, category="Financial fraud", to_ids=to_ids)
        attribute.uuid = str(uuidlib.uuid5(_OUT_NAMESPACE, f"{source_id}/{misp_type}/{value}"))
        tlps.setdefault(attribute.uuid, tlps.get(source_id, head.tlp))
    _describe(event, head)
    known = {o["id"].partition("--")[2] for o in objects}
    known.update(a["uuid"] for o in objects for a in o.get("x_misp_attributes") or ()
                 if isinstance(a, dict) and isinstance(a.get("uuid"), str))
    known.update(a.uuid for a in event.attributes if a.uuid in tlps)  # the fraud attributes made above
    _stable_uuids(event, head, known)
    _tlp_tags(event, tlps, head.tlp)
    return event


def _stix_time(seconds: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _fraud_pattern(obj: dict[str, Any]) -> bool:
    return obj.get("type") == "indicator" and any(
        f"{t}:" in str(obj.get("pattern", "")) for t in _FRAUD_SCOS)


def _fraud_values(obj: dict[str, Any]) -> list[tuple[str, str, str, bool]]:
    found = extract(obj)
    uid = obj["id"].partition("--")[2]
    return [(_FRAUD_TYPES[kind], value, uid, obj.get("type") == "indicator")
            for kind, value in found.observables if kind in _FRAUD_TYPES]


def _describe(event: Any, head: EventHead) -> None:
    from pymisp import MISPOrganisation

    event.uuid = head.uuid
    event.info = head.info or f"nordcert event {head.uuid}"
    event.timestamp = head.timestamp
    event.date = head.date
    event.published = True
    event.publish_timestamp = head.timestamp
    if not getattr(event, "analysis", None):
        event.analysis = 2
    if not getattr(event, "threat_level_id", None):
        event.threat_level_id = 4
    org = MISPOrganisation()
    org.from_dict(name=head.orgc_name, uuid=head.orgc_uuid)
    event.Orgc = org
    event.tags = [t for t in event.tags if not _is_noise(t.name)]


def _is_noise(name: str) -> bool:
    return name.lower().startswith("tlp:") or any(name.startswith(n) for n in _NOISE_TAGS)


def _stable_uuids(event: Any, head: EventHead, known: set[str]) -> None:
    """Attribute and object uuids the parsers invented become ones derived from the event."""
    for obj in event.objects:
        if obj.uuid not in known:
            obj.uuid = str(uuidlib.uuid5(_OUT_NAMESPACE, f"{head.uuid}/object/{obj.name}/{_values_key(obj.attributes)}"))
        for attribute in obj.attributes:
            if attribute.uuid not in known:
                key = f"{obj.uuid}/{attribute.object_relation}/{attribute.type}/{attribute.value}"
                attribute.uuid = str(uuidlib.uuid5(_OUT_NAMESPACE, key))
    for attribute in event.attributes:
        if attribute.uuid not in known:
            attribute.uuid = str(uuidlib.uuid5(_OUT_NAMESPACE, f"{head.uuid}/{attribute.type}/{attribute.value}"))


def _values_key(attributes: Iterable[Any]) -> str:
    return "|".join(sorted(f"{a.object_relation}={a.value}" for a in attributes))


def _tlp_tags(event: Any, tlps: dict[str, Tlp], event_tlp: Tlp) -> None:
    """The event is tagged with its TLP; an attribute or object whose TLP differs gets its own tag."""
    event.add_tag(f"tlp:{event_tlp.label}")

    def retag(item: Any, tlp: Tlp) -> None:
        item.tags = [t for t in item.tags if not t.name.lower().startswith("tlp:")]
        if tlp is not event_tlp:
            item.add_tag(f"tlp:{tlp.label}")

    for attribute in event.attributes:
        retag(attribute, tlps.get(attribute.uuid, event_tlp))
    for obj in event.objects:
        obj_tlp = tlps.get(obj.uuid, event_tlp)
        for attribute in obj.attributes:
            retag(attribute, tlps.get(attribute.uuid, obj_tlp))
