"""Validation of single STIX 2.1 objects (``nordcert.intel.validate.check_object``) and its timestamps."""

from __future__ import annotations

import copy
import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import stix2
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from nordcert.intel.validate import (
    META_TYPES,
    SCO_TYPES,
    SDO_TYPES,
    SRO_TYPES,
    Checked,
    ObjectError,
    _uncached_identifier_type,
    check_object,
    format_timestamp,
    timestamp_us,
)
from nordcert.sharing.tlp import TLP1_MARKING_IDS, TLP2_MARKING_IDS, Tlp
from tests.factories import indicator

# Hypothesis' failure report touches mypy_extensions.TypedDict, deprecated: keep the report readable.
pytestmark = pytest.mark.filterwarnings("ignore:mypy_extensions.TypedDict is deprecated:DeprecationWarning")

DATA = Path(__file__).resolve().parent.parent / "data"
T = "2026-01-01T00:00:00.000Z"
T_US = 1_767_225_600_000_000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def sid(stype: str) -> str:
    return f"{stype}--{uuid.uuid4()}"


IDENTITY = sid("identity")
INDICATOR = sid("indicator")
IPV4 = sid("ipv4-addr")


def sdo(stype: str, **props: Any) -> dict[str, Any]:
    return {"type": stype, "spec_version": "2.1", "id": sid(stype), "created": T, "modified": T, **props}


def sco(stype: str, **props: Any) -> dict[str, Any]:
    return {"type": stype, "spec_version": "2.1", "id": sid(stype), **props}


# One minimal valid object of each type nordcert knows (each also accepted by the `stix2` library).
MINIMAL: dict[str, dict[str, Any]] = {
    "attack-pattern": sdo("attack-pattern", name="Spearphishing"),
    "campaign": sdo("campaign", name="Operation X"),
    "course-of-action": sdo("course-of-action", name="Block it"),
    "grouping": sdo("grouping", context="suspicious-activity", object_refs=[INDICATOR]),
    "identity": sdo("identity", name="Bank"),
    "incident": sdo("incident", name="Outage"),
    "indicator": sdo("indicator", pattern="[ipv4-addr:value = '198.51.100.1']", pattern_type="stix", valid_from=T),
    "infrastructure": sdo("infrastructure", name="C2"),
    "intrusion-set": sdo("intrusion-set", name="APT X"),
    "location": sdo("location", region="northern-europe"),
    "malware": sdo("malware", is_family=False),
    "malware-analysis": sdo("malware-analysis", product="av", result="malicious"),
    "note": sdo("note", content="seen", object_refs=[INDICATOR]),
    "observed-data": sdo("observed-data", first_observed=T, last_observed=T, number_observed=1, object_refs=[IPV4]),
    "opinion": sdo("opinion", opinion="agree", object_refs=[INDICATOR]),
    "report": sdo("report", name="Weekly", published=T, object_refs=[INDICATOR]),
    "threat-actor": sdo("threat-actor", name="Actor"),
    "tool": sdo("tool", name="psexec"),
    "vulnerability": sdo("vulnerability", name="CVE-2021-44228"),
    "relationship": sdo("relationship", relationship_type="indicates", source_ref=INDICATOR, target_ref=sid("malware")),
    "sighting": sdo("sighting", sighting_of_ref=INDICATOR),
    "artifact": sco("artifact", payload_bin="aGVsbG8=", mime_type="text/plain"),
    "autonomous-system": sco("autonomous-system", number=64496),
    "directory": sco("directory", path="/srv/share"),
    "domain-name": sco("domain-name", value="example.com"),
    "email-addr": sco("email-addr", value="a@example.com"),
    "email-message": sco("email-message", is_multipart=False),
    "file": sco("file", name="a.exe"),
    "ipv4-addr": sco("ipv4-addr", value="198.51.100.1"),
    "ipv6-addr": sco("ipv6-addr", value="2001:db8::1"),
    "mac-addr": sco("mac-addr", value="00:00:5e:00:53:01"),
    "mutex": sco("mutex", name="Global\\m"),
    "network-traffic": sco("network-traffic", protocols=["tcp"], src_ref=IPV4),
    "software": sco("software", name="Word"),
    "url": sco("url", value="http://example.com/"),
    "marking-definition": {
        "type": "marking-definition", "spec_version": "2.1", "id": sid("marking-definition"), "created": T,
        "definition_type": "statement", "definition": {"statement": "Copyright Example"},
    },
    "language-content": sdo("language-content", object_ref=INDICATOR, object_modified=T, contents={"fr": {"name": "x"}}),
    "extension-definition": sdo(
        "extension-definition", created_by_ref=IDENTITY, name="ext", schema="https://example.com/schema.json",
        version="1.0", extension_types=["property-extension"],
    ),
}

# Required properties beyond the common ones; a tuple means "at least one of" (STIX 2.1 §4-§7).
REQUIRED: dict[str, tuple[str | tuple[str, ...], ...]] = {
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
    "marking-definition": ("created",),
    "language-content": ("created", "modified", "object_ref", "object_modified", "contents"),
    "extension-definition": ("created", "modified", "created_by_ref", "name", "schema", "version", "extension_types"),
}

REQUIRED_CASES = [
    pytest.param(stype, req, id=f"{stype}-{'|'.join(req) if isinstance(req, tuple) else req}")
    for stype, reqs in REQUIRED.items()
    for req in reqs
]


def without(obj: dict[str, Any], *props: str) -> dict[str, Any]:
    return {k: v for k, v in copy.deepcopy(obj).items() if k not in props}


def with_(obj: dict[str, Any], **props: Any) -> dict[str, Any]:
    return {**copy.deepcopy(obj), **props}


def refused(obj: Any, match: str | None = None) -> str:
    with pytest.raises(ObjectError, match=match) as err:
        check_object(obj)
    return str(err.value)


def load_objects(relpath: str) -> list[dict[str, Any]]:
    doc = json.loads((DATA / relpath).read_text(encoding="utf-8"))
    objects: list[dict[str, Any]] = doc["objects"] if isinstance(doc, dict) else doc
    return objects


# --- valid objects -------------------------------------------------------------------------------


def test_every_known_type_has_a_minimal_example() -> None:
    assert set(MINIMAL) == SDO_TYPES | SRO_TYPES | META_TYPES | (SCO_TYPES & set(REQUIRED))


@pytest.mark.parametrize("stype", sorted(MINIMAL))
def test_minimal_objects_are_accepted(stype: str) -> None:
    obj = MINIMAL[stype]
    stix2.parse(obj, allow_custom=False)  # the fixture really is valid STIX 2.1
    checked = check_object(copy.deepcopy(obj))
    assert isinstance(checked, Checked)
    assert (checked.stix_id, checked.type, checked.spec_version) == (obj["id"], stype, "2.1")
    assert checked.revoked is False


def test_checked_carries_the_version_timestamps() -> None:
    obj = sdo("indicator", pattern="[ipv4-addr:value = '198.51.100.1']", pattern_type="stix",
              created="2026-01-01T00:00:00Z", modified="2026-01-02T03:04:05.123456Z",
              valid_from="2026-01-01T00:00:00Z", valid_until="2026-02-01T00:00:00Z", revoked=True)
    c = check_object(obj)
    assert c.created == T_US
    assert c.modified == T_US + 86_400_000_000 + (3 * 3600 + 4 * 60 + 5) * 1_000_000 + 123_456
    assert c.valid_until == T_US + 31 * 86_400_000_000
    assert c.revoked is True
    assert c.obj is obj


def test_objects_without_modified_use_created_or_zero_as_version() -> None:
    marking = check_object(MINIMAL["marking-definition"])
    assert marking.created == marking.modified == T_US
    ip = check_object(MINIMAL["ipv4-addr"])
    assert ip.created is None and ip.modified == 0


@pytest.mark.parametrize("stype", sorted(t for t in SCO_TYPES if t in MINIMAL))
def test_sco_without_spec_version_is_accepted_as_2_1(stype: str) -> None:
    c = check_object(without(MINIMAL[stype], "spec_version"))
    assert c.spec_version == "2.1"


def test_custom_object_types_are_accepted() -> None:
    tactic = {
        "type": "x-mitre-tactic", "spec_version": "2.1", "id": sid("x-mitre-tactic"),
        "created": "2018-10-17T00:14:20.652Z", "modified": "2019-07-19T17:42:06.909Z",
        "name": "Collection", "x_mitre_shortname": "collection", "x_mitre_domains": ["enterprise-attack"],
        "external_references": [{"source_name": "mitre-attack", "external_id": "TA0009"}],
        "x_mitre_modified_by_ref": IDENTITY,
    }
    c = check_object(tactic)
    assert c.type == "x-mitre-tactic"
    assert c.obj["x_mitre_shortname"] == "collection"  # custom properties are kept as they are


def test_custom_properties_are_kept() -> None:
    obj = with_(MINIMAL["malware"], x_bank_severity={"level": 3}, x_tags=["a", 1, None])
    assert check_object(obj).obj["x_bank_severity"] == {"level": 3}


@pytest.mark.parametrize("mid", sorted(TLP2_MARKING_IDS.values()))
def test_tlp2_marking_definitions_are_accepted(mid: str) -> None:
    marking = {
        "type": "marking-definition", "spec_version": "2.1", "id": mid, "created": "2022-10-01T00:00:00.000Z",
        "name": "TLP", "extensions": {"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d": {
            "extension_type": "property-extension", "tlp_2_0": "green"}},
    }
    assert check_object(marking).stix_id == mid


def test_tlp1_marking_definition_from_the_spec_is_accepted() -> None:
    green = {
        "type": "marking-definition", "spec_version": "2.1", "id": TLP1_MARKING_IDS[Tlp.GREEN],
        "created": "2017-01-20T00:00:00.000Z", "definition_type": "tlp", "name": "TLP:GREEN",
        "definition": {"tlp": "green"},
    }
    assert check_object(green).type == "marking-definition"


@pytest.mark.parametrize("relpath", [
    "oasis-stix2-examples/threat-reports/apt1.json",
    "oasis-stix2-examples/threat-reports/poisonivy.json",
    # using-tlp2.0-green.json is known-invalid upstream (a relationship created "2022-101-27…"): see tests/formats
    *sorted(str(p.relative_to(DATA)) for p in (DATA / "oasis-stix-common-objects-tlp2").rglob("*.json")
            if p.name != "using-tlp2.0-green.json"),
])
def test_real_public_objects_are_accepted(relpath: str) -> None:
    for obj in load_objects(relpath):
        check_object(obj)


def test_real_sco_examples_only_refuse_the_three_bad_artifacts() -> None:
    bad = []
    for index, obj in enumerate(load_objects("cti-python-stix2/sco-examples-bundle.json")):
        try:
            check_object(obj)
        except ObjectError as exc:
            bad.append((index, obj["type"], str(exc)))
    assert [(i, t) for i, t, _ in bad] == [(6, "artifact"), (7, "artifact"), (20, "artifact")]
    assert all(reason == "payload_bin is not valid base64" for _, _, reason in bad)


def test_real_malware_without_spec_version_is_refused() -> None:
    (malware,) = load_objects(
        "cti-python-stix2/filesystem-store-v21/malware/malware--b42378e0-f147-496f-992a-26a49705395b/"
        "20170531213215263882.json"
    )
    assert "spec_version" not in malware
    refused(malware, "spec_version is missing")


# --- required properties ---------------------------------------------------------------------------


@pytest.mark.parametrize(("stype", "req"), REQUIRED_CASES)
def test_required_properties(stype: str, req: str | tuple[str, ...]) -> None:
    props = req if isinstance(req, tuple) else (req,)
    message = refused(without(MINIMAL[stype], *props))
    for prop in props:
        assert prop in message


@pytest.mark.parametrize("stype", sorted(SDO_TYPES | SRO_TYPES))
@pytest.mark.parametrize("prop", ["created", "modified"])
def test_sdo_and_sro_need_created_and_modified(stype: str, prop: str) -> None:
    refused(without(MINIMAL[stype], prop), f"missing the required property '{prop}'")


@pytest.mark.parametrize("prop", ["type", "id"])
def test_type_and_id_are_required(prop: str) -> None:
    refused(without(MINIMAL["campaign"], prop), prop)


def test_malware_family_needs_a_name() -> None:
    refused(with_(MINIMAL["malware"], is_family=True), "is_family true needs a name")
    check_object(with_(MINIMAL["malware"], is_family=True, name="Poison Ivy"))


@pytest.mark.parametrize("obj", [None, [], "indicator", 1, [MINIMAL["indicator"]]])
def test_non_objects_are_refused(obj: Any) -> None:
    refused(obj, "not a JSON object")


def test_nested_bundle_is_refused() -> None:
    refused({"type": "bundle", "id": sid("bundle"), "objects": []}, "bundle cannot be nested")


# --- type and id -------------------------------------------------------------------------------


@pytest.mark.parametrize("stype", ["Indicator", "in", "x_custom", "-abc", "abc-", "a b c", "", 5, None, "x" * 251])
def test_bad_type_names(stype: Any) -> None:
    obj = with_(MINIMAL["campaign"], type=stype, id=f"{stype}--{uuid.uuid4()}")
    refused(obj, "is not a STIX type name")


def test_id_must_match_type() -> None:
    refused(with_(MINIMAL["campaign"], id=sid("malware")), "does not start with its type 'campaign'")
    refused(with_(MINIMAL["ipv4-addr"], id=sid("ipv6-addr")), "does not start with its type")


@pytest.mark.parametrize("bad", [
    "campaign--1234",
    "campaign--",
    "campaign",
    "campaign-8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
    "campaign--8e2e2d2b17d44cbf938f98ee46b3cd3f",
    "campaign--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3",
    "campaign--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3fa",
    "campaign--8e2e2d2b-17d4-4cbf-938f-98ee46b3cdzz",
    "campaign--8e2e2d2b-17d4-4cbf-938f-98ee46b3-d3f",
    "campaign--8e2e2d2b--17d4-4cbf-938f-98ee46b3cd3",
    " campaign--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
    12,
    None,
])
def test_bad_identifiers(bad: Any) -> None:
    message = refused(with_(MINIMAL["campaign"], id=bad))
    assert message.startswith("id ") and "STIX identifier" in message


# --- spec_version --------------------------------------------------------------------------------


def test_missing_spec_version_is_refused_for_sdos() -> None:
    refused(without(MINIMAL["indicator"], "spec_version"), "spec_version is missing")
    refused(without(MINIMAL["relationship"], "spec_version"), "spec_version is missing")
    refused(without(MINIMAL["marking-definition"], "spec_version"), "spec_version is missing")


@pytest.mark.parametrize("stype", ["indicator", "ipv4-addr", "marking-definition"])
@pytest.mark.parametrize("version", ["2.0", "2.2", "2", 2.1, ""])
def test_other_spec_versions_are_refused(stype: str, version: Any) -> None:
    refused(with_(MINIMAL[stype], spec_version=version), "only STIX 2.1 is accepted")


# --- timestamps ----------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [
    "2026-01-01",
    "2026-01-01T00:00:00",
    "2026-01-01T00:00:00+00:00",
    "2026-01-01T00:00:00.000+01:00",
    "2026-01-01 00:00:00Z",
    "2026-01-01t00:00:00z",
    "2026-1-01T00:00:00Z",
    "26-01-01T00:00:00Z",
    "2026-01-01T00:00:00.Z",
    "2026-01-01T00:00Z",
    " 2026-01-01T00:00:00Z",
    "2026-01-01T00:00:00Z ",
    "2022-101-27T13:49:54.326Z",
    "",
    1767225600,
    None,
])
@pytest.mark.parametrize("prop", ["created", "modified"])
def test_malformed_timestamps_are_refused(prop: str, bad: Any) -> None:
    refused(with_(MINIMAL["campaign"], **{prop: bad}), prop)


@pytest.mark.parametrize("bad", [
    "2026-02-30T00:00:00Z",
    "2025-02-29T00:00:00Z",
    "2026-04-31T00:00:00Z",
    "2026-13-01T00:00:00Z",
    "2026-00-10T00:00:00Z",
    "2026-01-00T00:00:00Z",
    "2026-01-01T24:00:00Z",
    "2026-01-01T23:60:00Z",
    "0000-01-01T00:00:00Z",
])
def test_impossible_dates_are_refused(bad: str) -> None:
    message = refused(with_(MINIMAL["campaign"], created=bad, modified="2026-06-01T00:00:00Z"))
    assert "is not a valid date/time" in message and "created" in message


def test_leap_day_is_accepted() -> None:
    check_object(with_(MINIMAL["campaign"], created="2024-02-29T12:00:00Z", modified="2024-02-29T12:00:00Z"))


@pytest.mark.parametrize("prop", ["valid_from", "valid_until", "first_seen", "last_seen", "published",
                                  "first_observed", "last_observed"])
def test_other_timestamp_properties_are_checked(prop: str) -> None:
    refused(with_(MINIMAL["campaign"], **{prop: "2026-02-30T00:00:00Z"}), prop)


def test_modified_before_created_is_refused() -> None:
    refused(with_(MINIMAL["campaign"], created="2026-01-02T00:00:00Z", modified="2026-01-01T23:59:59.999Z"),
            "modified is earlier than created")
    refused(with_(MINIMAL["campaign"], created="2026-01-01T00:00:00.000002Z", modified="2026-01-01T00:00:00.000001Z"),
            "modified is earlier than created")
    check_object(with_(MINIMAL["campaign"], created="2026-01-01T00:00:00Z", modified="2026-01-01T00:00:00.000Z"))


@pytest.mark.parametrize("text", ["２０２６-01-01T00:00:00Z", "2026-01-0١T00:00:00Z", "2026-01-01T00:00:00.１Z"])
def test_non_ascii_digits_in_timestamps_are_refused(text: str) -> None:
    """RFC 3339 digits are ASCII (Python's \\d alone also matches other scripts' digits)."""
    refused(with_(MINIMAL["campaign"], created=text, modified="2026-06-01T00:00:00Z"), "created")


# --- common properties ---------------------------------------------------------------------------


@pytest.mark.parametrize("conf", [-1, 101, 50.5, "50", True, False, None, [50]])
def test_confidence_out_of_range_or_not_an_integer_is_refused(conf: Any) -> None:
    refused(with_(MINIMAL["indicator"], confidence=conf), "confidence must be an integer from 0 to 100")


@pytest.mark.parametrize("conf", [0, 1, 50, 100])
def test_confidence_in_range_is_accepted(conf: int) -> None:
    check_object(with_(MINIMAL["indicator"], confidence=conf))


@pytest.mark.parametrize("labels", ["malicious-activity", ["ok", 1], [None], {"a": 1}, 3])
def test_labels_must_be_a_list_of_strings(labels: Any) -> None:
    refused(with_(MINIMAL["indicator"], labels=labels), "labels must be a list of strings")


def test_labels_list_of_strings_is_accepted() -> None:
    check_object(with_(MINIMAL["indicator"], labels=["malicious-activity", "c2", "ünïcode"]))
    check_object(with_(MINIMAL["indicator"], labels=[]))


@pytest.mark.parametrize("refs", [
    [{"url": "https://example.com"}],
    [{"source_name": 5}],
    ["cve"],
    {"source_name": "cve"},
])
def test_external_references_need_a_source_name(refs: Any) -> None:
    refused(with_(MINIMAL["vulnerability"], external_references=refs), "external_references")


def test_revoked_must_be_boolean() -> None:
    refused(with_(MINIMAL["campaign"], revoked="false"), "revoked must be true or false")
    assert check_object(with_(MINIMAL["campaign"], revoked=True)).revoked is True


def test_relationship_type_must_be_a_string() -> None:
    refused(with_(MINIMAL["relationship"], relationship_type=["indicates"]), "relationship_type must be a string")


# --- references ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("stype", "prop", "value"), [
    ("campaign", "created_by_ref", "identity"),
    ("campaign", "created_by_ref", "identity--not-a-uuid"),
    ("campaign", "created_by_ref", ["identity--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"]),
    ("campaign", "created_by_ref", None),
    ("relationship", "source_ref", "Indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"),
    ("relationship", "target_ref", "malware--xyz"),
    ("sighting", "sighting_of_ref", 42),
    ("network-traffic", "src_ref", "ipv4-addr"),
    ("campaign", "object_marking_refs", "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"),
    ("campaign", "object_marking_refs", ["marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9", "tlp:white"]),
    ("report", "object_refs", [INDICATOR, "indicator--1"]),
    ("report", "object_refs", None),
    ("sighting", "where_sighted_refs", [IDENTITY, 7]),
    ("campaign", "custom_ref", "not an id"),
    ("campaign", "custom_refs", "not a list"),
])
def test_bad_references_are_refused(stype: str, prop: str, value: Any) -> None:
    message = refused(with_(MINIMAL[stype], **{prop: value}))
    assert message.startswith(prop)
    assert "STIX identifier" in message or "list of identifiers" in message


@pytest.mark.parametrize(("prop", "value"), [
    ("x_mitre_modified_by_ref", "not an identifier"),
    ("x_custom_ref", None),
    ("x_custom_refs", "not a list"),
    ("x_custom_refs", ["whatever", 1]),
])
def test_custom_x_reference_properties_are_exempt(prop: str, value: Any) -> None:
    check_object(with_(MINIMAL["campaign"], **{prop: value}))


def test_valid_references_are_accepted() -> None:
    check_object(with_(
        MINIMAL["campaign"], created_by_ref=IDENTITY, object_marking_refs=list(TLP2_MARKING_IDS.values()),
        x_custom_ref=IDENTITY,
    ))
    check_object(with_(MINIMAL["sighting"], where_sighted_refs=[IDENTITY], observed_data_refs=[]))


# --- indicators ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("pattern", "reason"), [
    ("[ipv4-addr:value = '198.51.100.1'", "Error found"),
    ("ipv4-addr:value = '198.51.100.1'", "missing square brackets"),
    ("[file:hashes.MD5 = 'abc']", "'abc' is not a valid MD5 hash"),
    ("[file:hashes.'SHA-256' = 'abc']", "'abc' is not a valid"),
    ("[file:name = 'a'] WITHIN 5 SECONDS WITHIN 6 SECONDS", "Duplicate qualifier type"),
])
def test_invalid_stix_pattern_is_refused_with_the_reason(pattern: str, reason: str) -> None:
    message = refused(indicator(pattern=pattern), "invalid STIX pattern")
    assert reason in message
    assert pattern in message
    assert "FAIL:" not in message


@pytest.mark.parametrize("pattern", [None, 5, "", "   ", ["[ipv4-addr:value = '1.2.3.4']"]])
def test_pattern_must_be_a_non_empty_string(pattern: Any) -> None:
    refused(indicator(pattern=pattern), "pattern must be a non-empty string")


def test_patterns_of_other_languages_are_not_parsed_as_stix() -> None:
    check_object(indicator(pattern="alert tcp any any -> any any (msg:\"x\";)", pattern_type="snort"))
    check_object(indicator(pattern="rule x { condition: true }", pattern_type="yara"))


@pytest.mark.parametrize("valid_until", ["2026-01-01T00:00:00Z", "2026-01-01T00:00:00.000Z", "2025-12-31T23:59:59.999Z"])
def test_valid_until_must_be_after_valid_from(valid_until: str) -> None:
    refused(indicator(valid_from="2026-01-01T00:00:00Z", valid_until=valid_until),
            "valid_until must be later than valid_from")


def test_valid_until_after_valid_from_is_accepted() -> None:
    c = check_object(indicator(valid_from="2026-01-01T00:00:00Z", valid_until="2026-01-01T00:00:00.001Z"))
    assert c.valid_until == T_US + 1000


def test_factory_indicator_is_valid() -> None:
    assert check_object(indicator("198.51.100.9")).type == "indicator"


# --- artifacts -----------------------------------------------------------------------------------


@pytest.mark.parametrize("payload", ["aGVsbG8=", "", "AAEC", "YQ==", "+/+/"])
def test_artifact_with_base64_payload_is_accepted(payload: str) -> None:
    check_object(with_(MINIMAL["artifact"], payload_bin=payload))


@pytest.mark.parametrize("payload", ["aGVsbG8", "not base64!", "aGVs bG8=", "aGVsbG8=\n", "YQ=", "Y", "-_-_", 12, None])
def test_artifact_with_bad_base64_is_refused(payload: Any) -> None:
    refused(with_(MINIMAL["artifact"], payload_bin=payload), "payload_bin")


def test_artifact_by_url_is_accepted() -> None:
    check_object(with_(without(MINIMAL["artifact"], "payload_bin"), url="https://example.com/a.bin",
                       hashes={"SHA-256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}))


# --- timestamp_us / format_timestamp -------------------------------------------------------------


@pytest.mark.parametrize(("text", "us"), [
    ("1970-01-01T00:00:00Z", 0),
    ("1970-01-01T00:00:00.000Z", 0),
    ("1970-01-01T00:00:00.000001Z", 1),
    ("1969-12-31T23:59:59.999999Z", -1),
    ("2026-01-01T00:00:00Z", T_US),
    ("2026-01-01T00:00:00.1Z", T_US + 100_000),
    ("2026-01-01T00:00:00.123Z", T_US + 123_000),
    ("2026-01-01T00:00:00.1234567891Z", T_US + 123_456),  # finer than microseconds is truncated
])
def test_timestamp_us(text: str, us: int) -> None:
    assert timestamp_us(text) == us


@pytest.mark.parametrize(("us", "text"), [
    (0, "1970-01-01T00:00:00.000Z"),
    (1, "1970-01-01T00:00:00.000001Z"),
    (-1, "1969-12-31T23:59:59.999999Z"),
    (T_US + 123_000, "2026-01-01T00:00:00.123Z"),
    (T_US + 123_400, "2026-01-01T00:00:00.123400Z"),
    (253_402_300_799_999_999, "9999-12-31T23:59:59.999999Z"),
])
def test_format_timestamp(us: int, text: str) -> None:
    assert format_timestamp(us) == text
    assert timestamp_us(text) == us


def test_timestamp_us_names_the_property() -> None:
    with pytest.raises(ObjectError, match="valid_from"):
        timestamp_us("yesterday", "valid_from")
    with pytest.raises(ObjectError, match="timestamp string"):
        timestamp_us(None)


@hsettings(max_examples=300, database=None)
@given(st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59, 999_999)))
def test_timestamp_round_trip(naive: datetime) -> None:
    dt = naive.replace(tzinfo=UTC)
    us = (dt - EPOCH) // timedelta(microseconds=1)
    frac = f"{dt.microsecond // 1000:03d}" if dt.microsecond % 1000 == 0 else f"{dt.microsecond:06d}"
    text = format_timestamp(us)
    assert text == f"{dt.year:04d}-{dt:%m-%dT%H:%M:%S}.{frac}Z"
    assert timestamp_us(text) == us
    assert timestamp_us(f"{dt.year:04d}-{dt:%m-%dT%H:%M:%S.%f}Z") == us


@pytest.mark.parametrize("text", ["0999-01-01T00:00:00.000Z", "0001-01-01T00:00:00.000001Z", "0042-07-04T12:30:00.500Z"])
def test_timestamp_round_trip_before_year_1000(text: str) -> None:
    """The year keeps four digits (strftime('%Y') does not pad it on Linux)."""
    assert format_timestamp(timestamp_us(text)) == text


# --- identifiers against the grammar ----------------------------------------------------------------

_IDENTIFIER_GRAMMAR = re.compile(
    r"([a-z0-9][a-z0-9-]{1,248}[a-z0-9])--[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)
_UUID = "8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"


@hsettings(max_examples=3000, deadline=None)
@given(st.text(alphabet="az09-A_.\n ", max_size=12), st.sampled_from(["--", "-", "---", "", "--\n"]),
       st.sampled_from([_UUID, _UUID.upper(), _UUID[:-1], _UUID + "0", _UUID.replace("-", "--", 1), "x" * 36,
                        _UUID[:8] + "\n" + _UUID[9:], _UUID.replace("-", "", 1) + "0"]))
def test_identifier_types_follow_the_grammar(type_part: str, separator: str, uuid_part: str) -> None:
    """The validator's identifier check (no search for the '--') against the grammar as one regular
    expression: the same type part, or None, for every string."""
    value = type_part + separator + uuid_part
    m = _IDENTIFIER_GRAMMAR.fullmatch(value)
    assert _uncached_identifier_type(value) == (m.group(1) if m else None)


def test_a_bad_reference_in_a_list_is_named_with_its_position() -> None:
    good = "indicator--" + _UUID
    refused(with_(MINIMAL["report"], object_refs=[good, good, "indicator--nope", 5]), re.escape("object_refs[2] 'indicator--nope'"))
    refused(with_(MINIMAL["report"], object_refs=[good, 5]), re.escape("object_refs[1] must be a STIX identifier string"))
    refused(with_(MINIMAL["report"], object_refs="indicator--" + _UUID), "object_refs must be a list of identifiers")
