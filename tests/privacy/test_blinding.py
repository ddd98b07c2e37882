"""Blinding on the member's side: normalisation, keys, rotation, bundles (no store involved)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from nordcert.observables.extract import BLINDING_EXTENSION_ID, extract
from nordcert.observables.kinds import FullCardNumber, Kind, ObservableError, normalise
from nordcert.privacy.blind_bundle import BlindingError, BlindReport, blind_objects
from nordcert.privacy.blinding import Keyring, KeyringError, SectorKey, blind, lookup_items, new_key
from tests.factories import indicator

KEY = SectorKey("sector-1", bytes(range(32)))


def test_same_value_in_any_form_blinds_alike_and_keys_differ() -> None:
    forms = ["NO93 8601 1117 947", "no9386011117947", "IBAN NO93-8601-1117-947"]
    assert len({blind("iban", f, KEY) for f in forms}) == 1
    other = SectorKey("sector-2", bytes(range(1, 33)))
    a, b = blind("iban", forms[0], KEY), blind("iban", forms[0], other)
    assert a.split(":")[:2] == ["sector-1", "iban"] and b.startswith("sector-2:iban:") and a[-64:] != b[-64:]
    # the kind is part of what is hashed: the same text as two kinds never collides
    assert blind("email", "a@example.com", KEY)[-64:] != blind("phone", "+4791234567", KEY)[-64:]
    assert blind("phone", "+47 912 34 567", KEY) == blind("phone", "+4791234567", KEY)
    # a blinded value is a valid observable of kind blinded, normalised as the index keeps it
    assert normalise(Kind.BLINDED, a.upper().replace("SECTOR-1:IBAN", "sector-1:iban")) == (Kind.BLINDED, a)


def test_only_personal_kinds_and_valid_values_are_blinded() -> None:
    with pytest.raises(ObservableError, match="not blinded"):
        blind("domain", "example.com", KEY)
    with pytest.raises(ObservableError, match="invalid iban"):
        blind("iban", "NO93 8601 1117 948", KEY)  # bad check digits
    with pytest.raises(FullCardNumber):
        blind("card", "4111 1111 1111 1111", KEY)
    assert blind("card", "411111******1111", KEY) == blind("card", "411111 •••• 1111", KEY)


def test_keyring_roundtrip_rotation_and_errors(tmp_path: Path) -> None:
    path = tmp_path / "ring.json"
    ring = Keyring((new_key("k1"),), "k1")
    ring.save(path)
    assert path.stat().st_mode & 0o777 == 0o600
    loaded = Keyring.load(path)
    assert loaded.current.secret == ring.current.secret and loaded.current.check_value == ring.current.check_value
    rotated = loaded.with_new_key("k2")
    assert rotated.current_id == "k2" and [k.key_id for k in rotated.keys] == ["k1", "k2"]
    items = lookup_items(["NO93 8601 1117 947", ("phone", "+47 912 34 567")], rotated)
    assert len(items) == 4 and {i["value"].split(":")[0] for i in items} == {"k1", "k2"}
    assert rotated.without("k1").current_id == "k2"
    with pytest.raises(KeyringError, match="current key cannot be dropped"):
        rotated.without("k2")
    with pytest.raises(KeyringError, match="already holds"):
        rotated.with_new_key("k1")
    for bad, message in [({"keys": []}, "non-empty"),
                         ({"keys": [{"id": "k", "secret": "!!"}], "current": "k"}, "not base64"),
                         ({"keys": [{"id": "k", "secret": base64.b64encode(b"short").decode()}], "current": "k"},
                          "at least 32"),
                         ({"keys": [{"id": "k 1", "secret": base64.b64encode(bytes(32)).decode()}], "current": "k 1"},
                          "key id"),
                         ({"keys": [{"id": "k", "secret": base64.b64encode(bytes(32)).decode()}], "current": "x"},
                          "'current' must name")]:
        path.write_text(json.dumps(bad))
        with pytest.raises(KeyringError, match=message) as err:
            Keyring.load(path)
        assert base64.b64encode(bytes(32)).decode() not in str(err.value)


def _bank_account(iban: str) -> dict[str, object]:
    return {"type": "x-bank-account", "spec_version": "2.1", "id": "x-bank-account--0f0d4b2e-1c1a-4b7e-9e8e-1b1b1b1b1b1b",
            "iban": iban, "account_holder_name": "Kari Nordmann"}


def test_replace_leaves_no_clear_value_and_keeps_references() -> None:
    iban = "NO93 8601 1117 947"
    account = _bank_account(iban)
    ind = indicator(pattern=f"[x-bank-account:iban = '{iban}']", name=f"Mule account {iban}",
                    description="Money mule account NO9386011117947 used in invoice fraud")
    rel = {"type": "relationship", "spec_version": "2.1", "id": "relationship--1d6c7f5a-9b8e-4f0a-8d3e-2c1b0a9f8e7d",
           "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
           "relationship_type": "based-on", "source_ref": ind["id"], "target_ref": account["id"]}
    report = BlindReport()
    out = blind_objects([account, ind, rel], Keyring((KEY,), "sector-1"), "replace", report=report)
    text = json.dumps(out)
    assert "8601" not in text and "Nordmann" not in text and "NO93" not in text
    blinded = blind("iban", iban, KEY)
    sco = next(o for o in out if o["type"] == "x-blinded-value")
    assert sco["value"] == blinded
    new_ind = next(o for o in out if o["type"] == "indicator")
    assert new_ind["pattern"] == f"[x-blinded-value:value = '{blinded}']"
    assert extract(new_ind).observables == [(Kind.BLINDED, blinded)]
    assert next(o for o in out if o["type"] == "relationship")["target_ref"] == sco["id"]
    assert (report.blinded_values, report.replaced_objects, report.rewritten_patterns) == (2, 1, 1)


def test_annotate_keeps_clear_values_and_adds_blinded_forms() -> None:
    ind = indicator(pattern="[x-phone-number:value = '+4791234567']")
    out = blind_objects([ind], Keyring((KEY,), "sector-1"), "annotate")
    assert out[0]["pattern"] == ind["pattern"] and "extensions" not in ind  # the input is not changed
    found = extract(out[0]).observables
    assert (Kind.PHONE, "+4791234567") in found and (Kind.BLINDED, blind("phone", "+4791234567", KEY)) in found
    assert out[0]["extensions"][BLINDING_EXTENSION_ID]["extension_type"] == "property-extension"


def test_objects_that_cannot_be_blinded_are_named() -> None:
    two = indicator(pattern="[x-bank-account:iban = 'NO9386011117947'] OR [x-phone-number:value = '+4791234567']")
    with pytest.raises(BlindingError, match=two["id"]) as err:
        blind_objects([two], Keyring((KEY,), "sector-1"), "replace")
    assert "NO93" not in str(err.value)
