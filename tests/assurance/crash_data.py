"""The intel the crash tests import: seeded batches of STIX 2.1 objects, each stored all or nothing.

A batch is one file for ``nordcert import`` or one TAXII envelope or REST bundle for ``nordcert serve``.
Batches hold indicators on network and fraud values (some values shared across batches, so that the
index correlates them), fraud cyber-observables (``x-bank-account``, ``x-phone-number``,
``x-payment-card``), sightings and reports; some objects have several versions in one batch, some get
a newer version in a later batch, some last versions are revoked. No version, ``(id, modified)``, is in
two batches: the versions a batch adds are its own, so the store shows at once which batches it holds.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

#: Objects are dated from here (fixed, so that a seed always draws the same files).
_BASE = datetime(2025, 6, 2, 8, 0, tzinfo=UTC)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass
class Batch:
    """One all-or-nothing unit of work and the versions it adds: ``(stix_id, modified in µs)``."""

    name: str
    objects: list[dict[str, Any]]
    keys: set[tuple[str, int]] = field(default_factory=set)

    def bundle(self) -> dict[str, Any]:
        return {"type": "bundle", "id": f"bundle--{uuid.uuid5(uuid.NAMESPACE_URL, self.name)}",
                "objects": self.objects}


def _ts(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def modified_us(obj: dict[str, Any]) -> int:
    """The version of an object as the store keys it: ``modified`` (or ``created``) in µs, 0 without."""
    stamp = obj.get("modified") or obj.get("created")
    if stamp is None:
        return 0
    moment = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    return (moment - _EPOCH) // timedelta(microseconds=1)


def _iban(rng: random.Random) -> str:
    """A Danish IBAN with valid check digits (ISO 13616: mod 97 of the rearranged number is 1)."""
    bban = "".join(rng.choice("0123456789") for _ in range(14))
    numeric = int(bban + "1320" + "00")  # the country code as digits (D=13, K=20), check digits 00
    return f"DK{98 - numeric % 97:02d}{bban}"


class _Values:
    """Draws observable values, with a small pool that batches share."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.n = 0
        self.pool = [self._fresh(kind) for kind in ("ipv4", "domain", "url", "iban", "phone", "cidr") for _ in range(3)]

    def _fresh(self, kind: str) -> tuple[str, str]:
        rng = self.rng
        self.n += 1
        n = self.n
        if kind == "ipv4":
            return "ipv4-addr:value", f"{rng.randint(11, 99)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
        if kind == "cidr":
            return "ipv4-addr:value", f"{rng.randint(11, 99)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.0/{rng.choice((24, 28))}"
        if kind == "domain":
            return "domain-name:value", f"crash-{n}-{rng.randint(0, 10**6)}.example"
        if kind == "url":
            return "url:value", f"https://login-{n}.example/reset/{rng.randint(0, 10**6)}"
        if kind == "sha256":
            return "file:hashes.'SHA-256'", f"{rng.getrandbits(256):064x}"
        if kind == "iban":
            return "x-bank-account:iban", _iban(rng)
        if kind == "phone":
            return "x-phone-number:value", f"+4670{rng.randint(1000000, 9999999)}"
        raise AssertionError(kind)

    def draw(self) -> tuple[str, str]:
        if self.rng.random() < 0.05:
            return self.rng.choice(self.pool)
        return self._fresh(self.rng.choice(("ipv4", "domain", "domain", "url", "sha256", "iban", "phone", "cidr")))


class Intel:
    """Draws the batches of one crash test from ``seed``."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.values = _Values(self.rng)
        self.minutes = 0
        #: Indicators a later batch may add a version to: id -> its newest version so far.
        self.versioned: dict[str, dict[str, Any]] = {}

    def _id(self, kind: str) -> str:
        return f"{kind}--{uuid.UUID(int=self.rng.getrandbits(128), version=4)}"

    def _indicator(self, name: str) -> dict[str, Any]:
        self.minutes += 1
        created = _BASE + timedelta(minutes=self.minutes)
        terms = [f"[{path} = '{value}']" for path, value in (self.values.draw() for _ in range(self.rng.randint(1, 3)))]
        return {"type": "indicator", "spec_version": "2.1", "id": self._id("indicator"), "created": _ts(created),
                "modified": _ts(created), "name": f"{name} indicator {self.minutes}", "pattern": " OR ".join(terms),
                "pattern_type": "stix", "valid_from": _ts(created), "labels": ["crash-test", name]}

    def _next_version(self, obj: dict[str, Any], *, revoke: bool = False) -> dict[str, Any]:
        newer = {**obj, "modified": _ts(datetime.strptime(obj["modified"], "%Y-%m-%dT%H:%M:%S.%fZ")
                                         .replace(tzinfo=UTC) + timedelta(seconds=self.rng.randint(1, 90)))}
        if self.rng.random() < 0.5:  # the new version holds one more value
            path, value = self.values.draw()
            newer["pattern"] = f"{obj['pattern']} OR [{path} = '{value}']"
        if revoke:
            newer["revoked"] = True
        return newer

    def _sco(self) -> dict[str, Any]:
        kind = self.rng.choice(("x-bank-account", "x-phone-number", "x-payment-card"))
        if kind == "x-bank-account":
            return {"type": kind, "spec_version": "2.1", "id": self._id(kind), "iban": _iban(self.rng)}
        if kind == "x-phone-number":
            return {"type": kind, "spec_version": "2.1", "id": self._id(kind),
                    "value": f"+4670{self.rng.randint(1000000, 9999999)}"}
        return {"type": kind, "spec_version": "2.1", "id": self._id(kind), "bin": f"4{self.rng.randint(10000, 99999)}"}

    def batch(self, name: str, size: int) -> Batch:
        """About ``size`` objects: mostly indicators (some in several versions), fraud SCOs, sightings, a
        report, and new versions of some earlier batches' indicators."""
        rng = self.rng
        objects: list[dict[str, Any]] = []
        indicators: list[dict[str, Any]] = []
        earlier = list(self.versioned)
        for sid in rng.sample(earlier, min(len(earlier), size // 20)):
            newer = self._next_version(self.versioned[sid], revoke=rng.random() < 0.1)
            self.versioned[sid] = newer
            objects.append(newer)
        while len(objects) < size:
            roll = rng.random()
            if roll < 0.7:
                obj = self._indicator(name)
                objects.append(obj)
                indicators.append(obj)
                if rng.random() < 0.15:  # more versions in the same batch, sometimes out of order
                    versions = [obj]
                    for _ in range(rng.randint(1, 2)):
                        versions.append(self._next_version(versions[-1], revoke=rng.random() < 0.2))
                    later = versions[1:]
                    rng.shuffle(later)
                    objects.extend(later)
                    obj = versions[-1]
                if not obj.get("revoked"):
                    self.versioned[obj["id"]] = obj
            elif roll < 0.9:
                objects.append(self._sco())
            elif indicators:
                target = rng.choice(indicators)
                seen = _ts(_BASE + timedelta(minutes=self.minutes, seconds=30))
                objects.append({"type": "sighting", "spec_version": "2.1", "id": self._id("sighting"),
                                "created": seen, "modified": seen, "sighting_of_ref": target["id"],
                                "count": rng.randint(1, 9), "first_seen": seen, "last_seen": seen})
        refs = [o["id"] for o in indicators[:20]]
        if refs:
            stamp = _ts(_BASE + timedelta(minutes=self.minutes))
            objects.append({"type": "report", "spec_version": "2.1", "id": self._id("report"), "created": stamp,
                            "modified": stamp, "name": f"{name} report", "published": stamp,
                            "report_types": ["threat-report"], "object_refs": refs, "labels": ["crash-test"]})
        return Batch(name, objects, {(o["id"], modified_us(o)) for o in objects})
