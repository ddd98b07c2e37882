"""What the web forms do to intel beyond the API's verbs: one indicator from one value, and
re-sharing an object (a new version with another TLP, group or anonymity, STIX 2.1 §3.6).

Service functions: no transport, every read through the sharing policy, permissions checked here.
"""

from __future__ import annotations

import copy
import dataclasses
import uuid
from typing import Any

import orjson
from sqlalchemy import Connection, select

from nordcert.clock import now_us
from nordcert.config import Settings
from nordcert.errors import Forbidden, Invalid
from nordcert.formats.csv_import import pattern_for
from nordcert.intel.ingest import ingest
from nordcert.intel.submission import submission_for
from nordcert.intel.tables import stix_objects
from nordcert.intel.validate import format_timestamp
from nordcert.observables.hits import latest_visible
from nordcert.observables.kinds import FRAUD_KINDS, Kind, ObservableError, as_kind, detect, normalise
from nordcert.sharing import policy
from nordcert.sharing.policy import Reader, Sharing
from nordcert.sharing.tlp import MARKING_TLP, Tlp

#: How each kind is named in a submitted indicator's default name.
KIND_NAMES = {
    "ipv4": "IP address", "ipv6": "IP address", "cidr": "Network", "domain": "Domain", "url": "URL",
    "email": "E-mail address", "md5": "MD5 hash", "sha1": "SHA-1 hash", "sha256": "SHA-256 hash",
    "sha512": "SHA-512 hash", "iban": "IBAN", "bic": "BIC", "bin": "Card BIN", "wallet": "Crypto wallet",
    "phone": "Phone number", "asn": "Autonomous system",
}


def sharing_of(conn: Connection, reader: Reader | None, stix_id: str) -> Sharing:
    """The sharing of an object's latest version, if the reader may see it (else NotFound)."""
    row = latest_visible(conn, reader, stix_id)
    return Sharing(creator_org_id=row["creator_org_id"], tlp=Tlp(row["tlp"]), group_id=row["group_id"])


def observed_value(kind: str, value: str, settings: Settings) -> tuple[Kind, str]:
    """The kind and normal form of one value typed into the form (``kind`` "auto": detected)."""
    text = value.strip()
    if not text:
        raise Invalid("give a value: an IP address, domain, URL, IBAN, phone number, wallet, hash…")
    try:
        if kind in ("", "auto"):
            found = detect(text, phone_region=settings.phone_region)
            if found is None:
                raise Invalid("could not tell what kind of value this is: choose its kind")
            return found
        return normalise(as_kind(kind), text, phone_region=settings.phone_region)
    except ObservableError as exc:
        raise Invalid(str(exc)) from None


def submit_value(conn: Connection, reader: Reader, settings: Settings, *, kind: str, value: str, name: str = "",
                 description: str = "", tlp: str | None = None, group: str | None = None,
                 anonymous: bool = False, confidence: int | None = None) -> str:
    """Submit one observable as a STIX indicator; returns its id."""
    sub = submission_for(conn, reader, tlp=tlp, group=group, anonymous=anonymous)
    found_kind, normal = observed_value(kind, value, settings)
    stamp = format_timestamp(now_us() // 1000 * 1000)
    described = KIND_NAMES.get(found_kind.value, found_kind.value)
    obj: dict[str, Any] = {
        "type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.uuid4()}",
        "created": stamp, "modified": stamp, "valid_from": stamp,
        "name": name.strip()[:300] or f"{described} {normal}",
        "pattern_type": "stix", "pattern": pattern_for(found_kind, normal),
        "indicator_types": ["malicious-activity"],
    }
    if found_kind in FRAUD_KINDS:
        obj["labels"] = ["fraud"]
    if description.strip():
        obj["description"] = description.strip()[:20_000]
    if confidence is not None:
        if not 0 <= confidence <= 100:
            raise Invalid("confidence is between 0 and 100 (STIX 2.1 §3.2)")
        obj["confidence"] = confidence
    ingest(conn, [obj], sub, settings)
    return str(obj["id"])


def reshare(conn: Connection, reader: Reader, settings: Settings, stix_id: str, *, tlp: str,
            group: str | None = None, recipients: list[str] = (), anonymous: bool = False) -> None:  # type: ignore[assignment]
    """Share an object differently: a new version whose TLP marking is the chosen one.

    Only its creator organisation's analysts or CERT staff (:func:`policy.may_modify`); the new
    version keeps the object's creator.
    """
    row = latest_visible(conn, reader, stix_id)
    current = Sharing(creator_org_id=row["creator_org_id"], tlp=Tlp(row["tlp"]), group_id=row["group_id"])
    if not policy.may_modify(current, reader):
        raise Forbidden("only the organisation that created this object, or CERT staff, may change its sharing")
    chosen = Tlp.parse(tlp)
    if chosen is Tlp.RED and not recipients:
        raise Invalid("TLP:RED needs at least one named recipient organisation")
    if group and chosen not in (Tlp.AMBER, Tlp.AMBER_STRICT):
        raise Invalid("a sharing group goes with TLP:AMBER or TLP:AMBER+STRICT")
    body = conn.execute(select(stix_objects.c.body, stix_objects.c.modified)
                        .where(stix_objects.c.date_added == row["date_added"])).one()
    obj = orjson.loads(body.body)
    if "modified" not in obj:
        raise Invalid(f"{row['type']} objects have no versions, so their sharing cannot change (STIX 2.1 §3.6)")
    sub = submission_for(conn, reader, tlp=chosen.label, group=group or None, recipients=recipients,
                         anonymous=anonymous)
    sub = dataclasses.replace(sub, creator_org_id=row["creator_org_id"], is_cert_staff=True)
    new = copy.deepcopy(obj)
    new["modified"] = format_timestamp(max(now_us(), body.modified + 1000) // 1000 * 1000)
    kept = [r for r in new.get("object_marking_refs", []) if r not in MARKING_TLP]
    if kept:
        new["object_marking_refs"] = kept
    else:
        new.pop("object_marking_refs", None)
    ingest(conn, [new], sub, settings)
