"""TLP 2.0 (FIRST, 2022) and its STIX 2.1 marking definitions, TLP 1.0 ids understood too.

Ids from oasis-open/cti-stix-common-objects (TLP 2.0 extension) and STIX 2.1 §7.2.1.4 (TLP 1.0).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

from nordcert.errors import Invalid


class Tlp(enum.IntEnum):
    """TLP labels ordered by restriction: a larger value is stricter."""

    CLEAR = 0
    GREEN = 1
    AMBER = 2
    AMBER_STRICT = 3
    RED = 4

    @property
    def label(self) -> str:
        """The TLP 2.0 value, e.g. ``amber+strict``."""
        return _LABELS[self]

    @property
    def display(self) -> str:
        return "TLP:" + self.label.upper()

    @property
    def marking_id(self) -> str:
        """The TLP 2.0 STIX marking-definition id."""
        return TLP2_MARKING_IDS[self]

    @classmethod
    def parse(cls, value: str | Tlp) -> Tlp:
        """Read a TLP name as people write it: ``amber+strict``, ``TLP:AMBER+STRICT``, ``white``…"""
        if isinstance(value, Tlp):
            return value
        key = value.strip().lower().removeprefix("tlp:").replace("_", "+").replace(" ", "")
        if key == "white":
            key = "clear"
        for tlp, label in _LABELS.items():
            if label == key:
                return tlp
        raise Invalid(f"unknown TLP {value!r}: use clear, green, amber, amber+strict or red")


_LABELS = {
    Tlp.CLEAR: "clear",
    Tlp.GREEN: "green",
    Tlp.AMBER: "amber",
    Tlp.AMBER_STRICT: "amber+strict",
    Tlp.RED: "red",
}

TLP2_EXTENSION_ID = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"

TLP2_MARKING_IDS = {
    Tlp.CLEAR: "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    Tlp.GREEN: "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    Tlp.AMBER: "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    Tlp.AMBER_STRICT: "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    Tlp.RED: "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}

TLP1_MARKING_IDS = {
    Tlp.CLEAR: "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",  # TLP:WHITE
    Tlp.GREEN: "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
    Tlp.AMBER: "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
    Tlp.RED: "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed",
}

#: Every marking-definition id that means a TLP level, 2.0 and 1.0 alike.
MARKING_TLP: dict[str, Tlp] = {
    **{mid: tlp for tlp, mid in TLP2_MARKING_IDS.items()},
    **{mid: tlp for tlp, mid in TLP1_MARKING_IDS.items()},
}


def tlp_of_markings(refs: Iterable[str]) -> Tlp | None:
    """The strictest TLP among an object's ``object_marking_refs``, or None if it has none."""
    found: Tlp | None = None
    for ref in refs:
        tlp = MARKING_TLP.get(ref)
        if tlp is not None and (found is None or tlp > found):
            found = tlp
    return found


def with_tlp_marking(refs: list[str] | None, tlp: Tlp) -> list[str]:
    """``object_marking_refs`` with every TLP marking replaced by the TLP 2.0 marking of ``tlp``."""
    kept = [r for r in refs or () if r not in MARKING_TLP]
    return [tlp.marking_id, *kept]


def tlp2_marking_definition(tlp: Tlp) -> dict[str, object]:
    """The TLP 2.0 marking-definition object (oasis-open/cti-stix-common-objects, TLP 2.0 extension)."""
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": tlp.marking_id,
        "created": "2022-10-01T00:00:00.000Z",
        "name": tlp.display,
        "extensions": {TLP2_EXTENSION_ID: {"extension_type": "property-extension", "tlp_2_0": tlp.label}},
    }
