"""Observables of a STIX object: from indicator patterns and from cyber-observable objects.

Each positive ``=`` or ``IN`` comparison of a STIX pattern (STIX 2.1 §9) whose property names an
observable yields one observable per literal; a cyber-observable object (STIX 2.1 §6) yields the
values of its identifying properties. Fraud observables that STIX lacks use our custom SCO types
(documented in docs/observables.md); the equivalent types of OpenCTI are read too, so a member's
OpenCTI export indexes the same way.

A full payment-card number anywhere a card value is expected refuses the object
(:class:`FullCardNumber`, PCI DSS: only the BIN may be shared). Any other value that is not valid
for its kind is not indexed and reported as a warning; the object itself is kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from nordcert.intel.patterns import comparisons
from nordcert.observables.kinds import FullCardNumber, Kind, ObservableError, normalise
from nordcert.observables.tables import MAX_VALUE_LENGTH

_AUTO = "auto"  # an address or name whose kind the value tells (network-traffic refs)
_CARD = "card"  # a card number property: a BIN is indexed, a full number refused

_HASHES = {"MD5": Kind.MD5, "SHA1": Kind.SHA1, "SHA256": Kind.SHA256, "SHA512": Kind.SHA512}

#: (object type, property path) -> kind. Paths are property names with list indexes removed.
PATH_KINDS: dict[tuple[str, tuple[str, ...]], Kind | str] = {
    ("ipv4-addr", ("value",)): Kind.IPV4,
    ("ipv6-addr", ("value",)): Kind.IPV6,
    ("domain-name", ("value",)): Kind.DOMAIN,
    ("url", ("value",)): Kind.URL,
    ("email-addr", ("value",)): Kind.EMAIL,
    ("email-message", ("from_ref", "value")): Kind.EMAIL,
    ("email-message", ("sender_ref", "value")): Kind.EMAIL,
    ("email-message", ("to_refs", "value")): Kind.EMAIL,
    ("email-message", ("cc_refs", "value")): Kind.EMAIL,
    ("email-message", ("bcc_refs", "value")): Kind.EMAIL,
    ("network-traffic", ("dst_ref", "value")): _AUTO,
    ("network-traffic", ("src_ref", "value")): _AUTO,
    ("autonomous-system", ("number",)): Kind.ASN,
    # nordcert's fraud SCOs (docs/observables.md)
    ("x-bank-account", ("iban",)): Kind.IBAN,
    ("x-bank-account", ("bic",)): Kind.BIC,
    ("x-payment-card", ("bin",)): Kind.BIN,
    ("x-payment-card", ("number",)): _CARD,
    ("x-payment-card", ("card_number",)): _CARD,
    ("x-cryptocurrency-wallet", ("value",)): Kind.WALLET,
    ("x-phone-number", ("value",)): Kind.PHONE,
    ("x-payment-card", ("masked_number",)): Kind.CARD,
    # a blinded personal value (docs/privacy.md)
    ("x-blinded-value", ("value",)): Kind.BLINDED,
    # OpenCTI's equivalents
    ("bank-account", ("iban",)): Kind.IBAN,
    ("bank-account", ("bic",)): Kind.BIC,
    ("payment-card", ("card_number",)): _CARD,
    ("cryptocurrency-wallet", ("value",)): Kind.WALLET,
    ("phone-number", ("value",)): Kind.PHONE,
}
_HASHED_TYPES = frozenset({"file", "artifact", "x509-certificate"})
#: SCO types whose properties hold observables, and which properties.
_SCO_PROPERTIES: dict[str, list[tuple[str, Kind | str]]] = {}
for (_type, _path), _kind in PATH_KINDS.items():
    if len(_path) == 1:
        _SCO_PROPERTIES.setdefault(_type, []).append((_path[0], _kind))

#: The kinds a payment-card object may carry (used to refuse a PAN in any card property).
CARD_TYPES = frozenset({"x-payment-card", "payment-card"})


@dataclass
class Extraction:
    """The normalised observables of one object, and why some values were not indexed."""

    observables: list[tuple[Kind, str]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def add(self, kind: Kind | str, value: Any, phone_region: str | None) -> None:
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            return
        if kind == _CARD:
            # A card number property holds a BIN, or a masked number (BIN, masked middle, last 4).
            kind = Kind.CARD if isinstance(value, str) and _MASK_CHARS.intersection(value) else Kind.BIN
        try:
            if kind == _AUTO:
                pair = _auto(str(value))
                if pair is None:
                    return
            else:
                pair = normalise(kind, value, phone_region=phone_region)
        except FullCardNumber:
            raise
        except ObservableError as exc:
            self.skipped.append(str(exc))
            return
        if len(pair[1]) > MAX_VALUE_LENGTH:
            self.skipped.append(f"{pair[0]} value longer than {MAX_VALUE_LENGTH} characters is not indexed")
            return
        if pair not in self.observables:
            self.observables.append(pair)


_MASK_CHARS = frozenset("*xX\u2022\u00b7\u2026")

#: The property extension a key holder's client adds to an object that holds clear personal values:
#: their blinded forms, so blinded lookups find the clear submission too (docs/privacy.md).
BLINDING_EXTENSION_ID = "extension-definition--5a0e6a3c-8f1d-5b8e-9c62-3f2f1d3b7a41"


def _auto(value: str) -> tuple[Kind, str] | None:
    for kind in (Kind.IPV4, Kind.IPV6, Kind.DOMAIN):
        try:
            return normalise(kind, value)
        except FullCardNumber:
            raise
        except ObservableError:
            continue
    return None  # a MAC address or other reference names no indexed kind


def path_kind(obj_type: str, path: tuple[str, ...]) -> Kind | str | None:
    """The kind a pattern property names, or None."""
    if len(path) == 2 and path[0] == "hashes" and obj_type in _HASHED_TYPES:
        return _HASHES.get(path[1].upper().replace("-", "").replace("_", ""))
    return PATH_KINDS.get((obj_type, path))


def extract(obj: dict[str, Any], *, phone_region: str | None = None) -> Extraction:
    """The observables of ``obj`` (a validated STIX object). Raises :class:`FullCardNumber`."""
    found = Extraction()
    extensions = obj.get("extensions")
    if type(extensions) is dict and BLINDING_EXTENSION_ID in extensions:
        _extract_blinded(extensions[BLINDING_EXTENSION_ID], found)
    obj_type = obj.get("type")
    if obj_type == "indicator":
        if obj.get("pattern_type") == "stix" and isinstance(obj.get("pattern"), str):
            for c_type, path, _op, literals in comparisons(obj["pattern"]):
                kind = path_kind(c_type, path)
                if kind is None:
                    if c_type in CARD_TYPES:
                        _refuse_card_digits(literals)
                    continue
                for literal in literals:
                    found.add(kind, literal, phone_region)
            _refuse_card_literals(obj["pattern"])
        return found
    if not isinstance(obj_type, str):
        return found
    if obj_type in MISP_CUSTOM_TYPES:
        _extract_misp_custom(obj, found, phone_region)
        return found
    for prop, kind in _SCO_PROPERTIES.get(obj_type, ()):
        if prop in obj:
            found.add(kind, obj[prop], phone_region)
    if obj_type in CARD_TYPES:
        for prop, value in obj.items():
            if prop not in ("id", "bin", "number", "card_number") and not prop.endswith(("_ref", "_refs")):
                _refuse_pan_anywhere(value)
        bin_, last4 = obj.get("bin"), obj.get("last4")
        if isinstance(bin_, (str, int)) and isinstance(last4, (str, int)) and not isinstance(bin_, bool):
            found.add(Kind.CARD, f"{bin_}*{last4}", phone_region)
    if obj_type in _HASHED_TYPES and isinstance(obj.get("hashes"), dict):
        for name, value in obj["hashes"].items():
            kind = _HASHES.get(str(name).upper().replace("-", "").replace("_", ""))
            if kind is not None:
                found.add(kind, value, phone_region)
    return found


def _extract_blinded(extension: Any, found: Extraction) -> None:
    values = extension.get("values") if isinstance(extension, dict) else None
    if not isinstance(values, list):
        found.skipped.append("the blinding extension needs a list of values (KEY_ID:KIND:DIGEST)")
        return
    for value in values:
        found.add(Kind.BLINDED, value, None)


def _refuse_card_digits(values: tuple[Any, ...]) -> None:
    """A payment-card object may carry no 13-19 digit number in any property (a PAN)."""
    for value in values:
        digits = "".join(ch for ch in str(value) if ch not in " -")
        if digits.isdigit() and 13 <= len(digits) <= 19:
            raise FullCardNumber()


_PAN_RUN = re.compile(r"(?<![0-9])[0-9](?:[ -]?[0-9]){12,18}(?![0-9])")


def _refuse_pan_anywhere(value: Any) -> None:
    """No 13-19 digit run (spaces or hyphens between digits allowed) anywhere in a value, however nested."""
    if isinstance(value, bool):
        return
    if isinstance(value, (str, int)):
        if _PAN_RUN.search(str(value)):
            raise FullCardNumber()
    elif isinstance(value, dict):
        for inner in value.values():
            _refuse_pan_anywhere(inner)
    elif isinstance(value, list):
        for inner in value:
            _refuse_pan_anywhere(inner)


def _refuse_card_literals(pattern: str) -> None:
    """No comparison of a payment-card property may carry a PAN, whatever its operator: ``!=``,
    ``NOT =``, ``LIKE`` and ``MATCHES`` name no value to index, but the pattern would still be stored."""
    if "payment-card:" not in pattern:
        return
    from stix2patterns.v21.pattern import Pattern

    try:
        inspected = Pattern(pattern).inspect()
    except Exception:  # noqa: BLE001 - an invalid pattern was refused by validation already
        return
    for obj_type, comps in inspected.comparisons.items():
        if obj_type in CARD_TYPES and any(_PAN_RUN.search(str(raw)) for _path, _op, raw in comps):
            raise FullCardNumber()


# --- MISP attributes kept as misp-stix custom objects -------------------------------------------
# misp-stix (MISP -> STIX 2.1) keeps MISP attributes and objects that STIX has no type for as
# ``x-misp-attribute`` (``x_misp_type``, ``x_misp_value``) and ``x-misp-object`` (``x_misp_attributes``,
# a list of ``{type, value}``): among them the fraud types iban, bic, btc, xmr, phone-number and the
# bank-account, btc-wallet and phone objects. Their values are indexed by MISP attribute type.

MISP_CUSTOM_TYPES = frozenset({"x-misp-attribute", "x-misp-object"})

#: MISP attribute type -> kind. Composite types (``filename|md5``, ``ip-dst|port``) are split on ``|``
#: and each part is read with the kind at its position (None: that part is not indexed).
MISP_TYPE_KINDS: dict[str, tuple[Kind | str | None, ...]] = {
    "ip-src": (_AUTO,), "ip-dst": (_AUTO,), "domain": (Kind.DOMAIN,), "hostname": (Kind.DOMAIN,),
    "url": (Kind.URL,), "email": (Kind.EMAIL,), "email-src": (Kind.EMAIL,), "email-dst": (Kind.EMAIL,),
    "md5": (Kind.MD5,), "sha1": (Kind.SHA1,), "sha256": (Kind.SHA256,), "sha512": (Kind.SHA512,),
    "filename|md5": (None, Kind.MD5), "filename|sha1": (None, Kind.SHA1),
    "filename|sha256": (None, Kind.SHA256), "filename|sha512": (None, Kind.SHA512),
    "ip-src|port": (_AUTO, None), "ip-dst|port": (_AUTO, None), "hostname|port": (Kind.DOMAIN, None),
    "domain|ip": (Kind.DOMAIN, _AUTO), "AS": (Kind.ASN,),
    "iban": (Kind.IBAN,), "bic": (Kind.BIC,), "btc": (Kind.WALLET,), "xmr": (Kind.WALLET,),
    "phone-number": (Kind.PHONE,), "whois-registrant-phone": (Kind.PHONE,),
    "bin": (Kind.BIN,), "cc-number": (_CARD,),
}


def _extract_misp_custom(obj: dict[str, Any], found: Extraction, phone_region: str | None) -> None:
    """Index the values of a misp-stix ``x-misp-attribute`` or ``x-misp-object`` by MISP type."""
    if obj.get("type") == "x-misp-attribute":
        pairs = [(obj.get("x_misp_type"), obj.get("x_misp_value"))]
    else:
        attributes = obj.get("x_misp_attributes")
        pairs = [(a.get("type"), a.get("value")) for a in attributes or () if isinstance(a, dict)]
    for misp_type, value in pairs:
        kinds = MISP_TYPE_KINDS.get(misp_type) if isinstance(misp_type, str) else None
        if kinds is None or not isinstance(value, (str, int)) or isinstance(value, bool):
            continue
        parts = str(value).split("|") if len(kinds) > 1 else [value]
        for kind, part in zip(kinds, parts, strict=False):
            if kind is not None:
                found.add(kind, part, phone_region)
