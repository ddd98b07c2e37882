"""The demo's fraud data as personal data (docs/privacy.md): a sector key whose id CERT staff registered and
whose keyring the members hold, mule accounts shared blinded by one member and in clear, with their blinded
forms, by another, so that a blinded lookup by any key holder finds both.

The keyring is written into the instance folder as ``sector.keyring`` (mode 0600), standing for the file the
members pass between them outside the platform. The platform holds only the key's id and check value.

- Boreal Bank's fraud team shares six mule IBANs **blinded** (``blind_objects`` in ``replace`` mode): the store
  never holds their clear values.
- Alpha Bank's SOC shares three mule IBANs **in clear**, annotated with their blinded forms; two of them are
  among Boreal's.
- Both go to the sharing group "Nordic fraud" as TLP:AMBER, under the legal basis ``fraud-prevention``, through
  the normal ingest path (as ``POST /api/v1/objects`` does).

``SHARED_IBAN`` is one both reported: the demo banner and the README show how to look it up blinded.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from nordcert.accounts import service as accounts
from nordcert.config import Settings
from nordcert.demo.values import iban
from nordcert.intel.ingest import ingest
from nordcert.intel.submission import submission_for
from nordcert.privacy import keys
from nordcert.privacy.blind_bundle import Mode, blind_objects
from nordcert.privacy.blinding import Keyring, new_key

KEYRING = "sector.keyring"
BLINDER = "fraud@borealbank.example"
CLEAR = "soc@alphabank.example"
TLP, GROUP, LEGAL_BASIS = "amber", "Nordic fraud", "fraud-prevention"
_NS = uuid.UUID("6b1f3a52-7d0e-4c55-8a0b-707269766163")
_SEED = 1213


def _mule(value: str, at: datetime, who: str) -> dict[str, Any]:
    ts = at.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return {
        "type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.uuid5(_NS, who + ':' + value)}",
        "created": ts, "modified": ts, "valid_from": ts, "name": f"Money-mule account {value[:4]}…{value[-4:]}",
        "description": "The account received the proceeds of a safe-account scam and forwarded them within "
                       "minutes; the holder was recruited through a job advert.",
        "indicator_types": ["malicious-activity"], "pattern": f"[x-bank-account:iban = '{value}']",
        "pattern_type": "stix", "labels": ["money-mule", "fraud"], "confidence": 85,
    }


def mule_ibans() -> tuple[list[str], list[str]]:
    """Boreal's six and Alpha's three mule IBANs (two of Alpha's are Boreal's), the same on every build."""
    rng = random.Random(_SEED)  # nosec B311 # reproducible made-up demo data, no secret
    boreal = [iban("NO", rng) for _ in range(6)]
    return boreal, [boreal[0], boreal[3], iban("DK", rng)]


#: The IBAN both members reported: blinded by Boreal, in clear by Alpha.
SHARED_IBAN = mule_ibans()[0][0]


def build(conn: Connection, settings: Settings, now: datetime | None = None) -> dict[str, Any]:
    """Register the sector key, write its keyring into the instance folder, and submit both members' mules."""
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    key = new_key(f"sector-{now.year}a")
    ring = Keyring((key,), key.key_id)
    path: Path = settings.home / KEYRING
    ring.save(path)
    keys.register_key(conn, reader=accounts.reader_for(conn, "admin@nfcert.example"), key_id=key.key_id,
                      check_value=key.check_value, note="demo: the keyring is sector.keyring in the instance folder")
    boreal, alpha = mule_ibans()
    batches: list[tuple[str, list[str], Mode]] = [(BLINDER, boreal, "replace"), (CLEAR, alpha, "annotate")]
    for email, values, mode in batches:
        objects = [_mule(v, now - timedelta(days=n + 1, hours=3), email) for n, v in enumerate(values)]
        reader = accounts.reader_for(conn, email)
        ingest(conn, blind_objects(objects, ring, mode), submission_for(conn, reader, tlp=TLP, group=GROUP, legal_basis=LEGAL_BASIS), settings)
    return {"key_id": key.key_id, "keyring": str(path), "shared_iban": SHARED_IBAN,
            "blinded": len(boreal), "clear": len(alpha)}
