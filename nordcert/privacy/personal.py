"""Personal data at ingest: minimisation, legal basis, blinded keys, retention (docs/privacy.md).

Called by :func:`nordcert.intel.ingest.ingest` for every object; cheap for objects without
personal values (one pass over the few observables extracted). For an object that holds personal
values (:data:`PERSONAL_KINDS`):

- **minimisation**: a fraud cyber-observable loses the properties that name or describe a person
  and are not needed to match (holder names, addresses, birth dates, national identity numbers),
  with a warning saying which; card security codes, PINs and magnetic-stripe data refuse the
  object (PCI DSS Req. 3.3.1: never stored after authorisation); a full card number in its name or
  description refuses it;
- **legal basis**: the submission's, or the instance's default; none at all refuses the object;
- **blinded values** must be under a sector key registered on this instance and not retired;
- **retention**: each stored version gets a ``personal_data`` row with its basis and the time it
  expires: the shortest retention of its kinds after it was added.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Connection, select

from nordcert.config import Settings
from nordcert.errors import Invalid
from nordcert.intel.validate import FRAUD_SCO_TYPES, ObjectError
from nordcert.observables._blinded import blinded_key_id
from nordcert.observables.kinds import PERSONAL_KINDS, Kind, luhn_ok
from nordcert.privacy.tables import blinding_keys

_DAY_US = 86_400 * 1_000_000

#: Properties of fraud cyber-observables that describe a person and are never needed to match.
REDUCED_PROPERTIES = frozenset({
    "account_holder", "account_holder_name", "holder", "holder_name", "cardholder", "cardholder_name", "owner",
    "owner_name", "full_name", "first_name", "last_name", "date_of_birth", "birth_date", "birthdate", "address",
    "postal_address", "street_address", "national_id", "personal_id", "personal_number", "ssn", "personnummer",
    "fodselsnummer", "cpr", "cpr_number", "hetu", "henkilotunnus", "kennitala", "passport_number",
})
#: Sensitive authentication data of a card: an object carrying any of it is refused.
REFUSED_PROPERTIES = frozenset({"cvv", "cvv2", "cvc", "cvc2", "cid", "security_code", "pin", "pin_block", "track1",
                                "track2", "track_data", "magnetic_stripe", "chip_data"})
_PAN_RUN = re.compile(r"(?<![0-9A-Za-z])[0-9](?:[ -]?[0-9]){12,18}(?![0-9A-Za-z])")  # not inside an IBAN or id


def personal_kinds(found: list[tuple[Kind, str]]) -> frozenset[Kind]:
    """The personal kinds among an object's observables (usually none)."""
    for kind, _value in found:  # ingest asks this of every object: no set is built for the usual answer
        if kind in PERSONAL_KINDS:
            return frozenset(k for k, _v in found if k in PERSONAL_KINDS)
    return _NONE


_NONE: frozenset[Kind] = frozenset()


def minimise(obj: dict[str, Any]) -> list[str]:
    """Reduce a fraud cyber-observable in place; the warnings saying what was removed. Raises
    :class:`ObjectError` for card authentication data."""
    if obj.get("type") not in FRAUD_SCO_TYPES:
        return []
    refused = sorted(p for p in obj if p.lower() in REFUSED_PROPERTIES)
    if refused:
        raise ObjectError(f"{', '.join(refused)}: card authentication data is never shared (PCI DSS Req. 3.3.1); "
                          "remove it")
    removed = sorted(p for p in obj if p.lower() in REDUCED_PROPERTIES)
    for prop in removed:
        del obj[prop]
    return [f"reduced: {prop} removed (personal data not needed to match)" for prop in removed]


def _has_pan(text: Any) -> bool:
    if not isinstance(text, str):
        return False
    for m in _PAN_RUN.finditer(text):
        digits = m.group().replace(" ", "").replace("-", "")
        if luhn_ok(digits):
            return True
    return False


class PersonalDataRules:
    """The rules of one ingest: its legal basis, the sector keys, the retention periods."""

    def __init__(self, conn: Connection, settings: Settings, legal_basis: str | None) -> None:
        if legal_basis is not None and legal_basis not in settings.legal_bases:
            raise Invalid(f"legal basis {legal_basis!r} is not one of: {', '.join(settings.legal_bases)}")
        self.conn = conn
        self.basis = legal_basis or settings.default_legal_basis or None
        self.bases = settings.legal_bases
        self.retention = settings.retention_days
        self._keys: dict[str, int | None] | None = None

    def check(self, obj: dict[str, Any], found: list[tuple[Kind, str]], kinds: frozenset[Kind]) -> None:
        """Raise :class:`ObjectError` if an object holding personal values may not be stored."""
        if self.basis is None:
            raise ObjectError(f"it holds personal data ({', '.join(sorted(kinds))}) and needs a legal basis: "
                              f"one of {', '.join(self.bases)}")
        for prop in ("name", "description"):
            if _has_pan(obj.get(prop)):
                raise ObjectError(f"its {prop} holds what looks like a full payment card number; remove it "
                                  "(only the BIN and the last 4 digits are shared)")
        if Kind.BLINDED in kinds:
            keys = self._known_keys()
            for kind, value in found:
                if kind is Kind.BLINDED:
                    key_id = blinded_key_id(value)
                    if key_id not in keys:
                        raise ObjectError(f"blinded under key {key_id!r}, which is not registered here; registered: "
                                          f"{', '.join(k for k, r in keys.items() if r is None) or 'none'}")
                    if keys[key_id] is not None:
                        raise ObjectError(f"blinded under key {key_id!r}, which is retired; blind under the current "
                                          "sector key")

    def _known_keys(self) -> dict[str, int | None]:
        if self._keys is None:
            self._keys = {r.key_id: r.retired_at for r in
                          self.conn.execute(select(blinding_keys.c.key_id, blinding_keys.c.retired_at))}
        return self._keys

    def row(self, date_added: int, stix_id: str, kinds: frozenset[Kind]) -> dict[str, Any]:
        """The ``personal_data`` row of a stored version."""
        days = min(self.retention[k.value] for k in kinds)
        return {"date_added": date_added, "stix_id": stix_id, "legal_basis": self.basis,
                "kinds": ",".join(sorted(k.value for k in kinds)), "expires_at": date_added + days * _DAY_US}
