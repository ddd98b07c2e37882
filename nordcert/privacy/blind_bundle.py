"""Blinding a STIX bundle on the member's side before it is submitted (docs/privacy.md).

Two modes:

- ``annotate``: every object keeps its clear values and gains the blinding property extension
  (:data:`BLINDING_EXTENSION_ID`) listing them blinded under the current key, so that members who
  look up blinded values find this clear submission too;
- ``replace``: the clear personal values leave the bundle. A cyber-observable holding one (bank
  account, phone number, e-mail address, wallet, card) becomes an ``x-blinded-value`` per value,
  and references to it point to the new object(s); an indicator whose pattern compares one personal
  value becomes ``[x-blinded-value:value = 'KEY_ID:KIND:DIGEST']``; the value is also removed from
  the object's name and description. An object whose personal values this cannot rewrite (a
  pattern with several comparisons, a MISP attribute) is an error naming it: nothing is written.
"""

from __future__ import annotations

import copy
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from nordcert.intel.patterns import comparisons
from nordcert.observables.extract import BLINDING_EXTENSION_ID, extract
from nordcert.observables.kinds import PERSONAL_KINDS, Kind
from nordcert.privacy.blinding import Keyring, blind_normalised

Mode = Literal["annotate", "replace"]

#: The STIX 2.1 namespace of deterministic SCO identifiers (STIX 2.1 §2.9).
_SCO_NAMESPACE = uuid.UUID("00abedb4-aa42-466c-9c01-fed23315a9b7")
_TEXT_FIELDS = ("name", "description")
_PERSONAL_SCOS = frozenset({"x-bank-account", "bank-account", "x-phone-number", "phone-number", "email-addr",
                            "x-cryptocurrency-wallet", "cryptocurrency-wallet", "x-payment-card", "payment-card"})


class BlindingError(ValueError):
    """An object this tool cannot blind; the message names it (never its values)."""


@dataclass
class BlindReport:
    """What blinding did: counts, for the CLI's summary."""

    objects: int = 0
    blinded_values: int = 0
    replaced_objects: int = 0
    rewritten_patterns: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)


def blinded_sco(value: str) -> dict[str, Any]:
    """The ``x-blinded-value`` cyber-observable of one blinded value (deterministic id)."""
    sid = uuid.uuid5(_SCO_NAMESPACE, '{"value":"' + value + '"}')
    return {"type": "x-blinded-value", "spec_version": "2.1", "id": f"x-blinded-value--{sid}", "value": value}


def _personal(obj: dict[str, Any], phone_region: str | None) -> list[tuple[Kind, str]]:
    return [(k, v) for k, v in extract(obj, phone_region=phone_region).observables
            if k in PERSONAL_KINDS and k is not Kind.BLINDED]


def _scrub(obj: dict[str, Any], raws: list[str]) -> None:
    for prop in _TEXT_FIELDS:
        text = obj.get(prop)
        if isinstance(text, str):
            for raw in sorted(set(raws), key=len, reverse=True):
                text = re.sub(re.escape(raw), "[blinded]", text, flags=re.IGNORECASE)
            obj[prop] = text


def blind_objects(objects: list[Any], ring: Keyring, mode: Mode, *, phone_region: str | None = None,
                  report: BlindReport | None = None) -> list[Any]:
    """The objects of a bundle, blinded; raises :class:`BlindingError` naming the first object it cannot blind."""
    rep = report if report is not None else BlindReport()
    key = ring.current
    out: list[Any] = []
    renamed: dict[str, list[str]] = {}
    for obj in objects:
        rep.objects += 1
        if not isinstance(obj, dict):
            out.append(obj)
            continue
        found = _personal(obj, phone_region)
        if not found:
            out.append(obj)
            continue
        blinded = [blind_normalised(k, v, key) for k, v in found]
        rep.blinded_values += len(blinded)
        for k, _v in found:
            rep.by_kind[k.value] = rep.by_kind.get(k.value, 0) + 1
        if mode == "annotate":
            new = copy.deepcopy(obj)
            ext = new.setdefault("extensions", {})
            ext[BLINDING_EXTENSION_ID] = {"extension_type": "property-extension", "values": blinded}
            out.append(new)
            continue
        out.extend(_replace(obj, found, blinded, renamed, rep))
    if renamed:
        out = [_rewrite_refs(o, renamed) for o in out]
    return out


def _replace(obj: dict[str, Any], found: list[tuple[Kind, str]], blinded: list[str],
             renamed: dict[str, list[str]], rep: BlindReport) -> list[dict[str, Any]]:
    otype, oid = obj.get("type"), obj.get("id")
    if otype in _PERSONAL_SCOS:
        scos = [blinded_sco(b) for b in blinded]
        renamed[str(oid)] = [s["id"] for s in scos]
        rep.replaced_objects += 1
        return scos
    if otype == "indicator" and obj.get("pattern_type") == "stix" and isinstance(obj.get("pattern"), str):
        comps = comparisons(obj["pattern"])
        if len(comps) == 1 and comps[0][2] == "=" and len(found) == 1:
            new = copy.deepcopy(obj)
            new["pattern"] = f"[x-blinded-value:value = '{blinded[0]}']"
            _scrub(new, [str(lit) for lit in comps[0][3]] + [found[0][1]])
            rep.rewritten_patterns += 1
            return [new]
        raise BlindingError(f"{oid}: its pattern holds personal values in a form that cannot be blinded "
                            "(more than one comparison); split it into one indicator per value")
    raise BlindingError(f"{oid}: a {otype} holding personal values cannot be blinded here; "
                        "remove the values or use --mode annotate")


def _rewrite_refs(obj: Any, renamed: dict[str, list[str]]) -> Any:
    if not isinstance(obj, dict):
        return obj
    changed: dict[str, Any] = {}
    for prop, value in obj.items():
        if prop.endswith("_ref") and isinstance(value, str) and value in renamed:
            changed[prop] = renamed[value][0]
        elif prop.endswith("_refs") and isinstance(value, list) and any(v in renamed for v in value):
            changed[prop] = list(_expand(value, renamed))
    return {**obj, **changed} if changed else obj


def _expand(refs: list[Any], renamed: dict[str, list[str]]) -> Iterator[Any]:
    for ref in refs:
        if isinstance(ref, str) and ref in renamed:
            yield from renamed[ref]
        else:
            yield ref
