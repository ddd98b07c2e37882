"""MISP out: the round trip MISP → nordcert → MISP keeps every attribute's value, type and TLP; every
export loads in PyMISP; a reader never gets an event, hash or attribute it may not see."""

from __future__ import annotations

import copy
import hashlib
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from pymisp import MISPEvent
from sqlalchemy import Engine

from nordcert.accounts import service as accounts
from nordcert.config import Settings
from nordcert.db import transaction
from nordcert.formats import misp_export
from nordcert.formats.misp_import import tlp_of_tags
from nordcert.intel.ingest import ingest
from nordcert.intel.submission import submission_for
from nordcert.sharing.tlp import Tlp
from tests.factories import make_member, refresh
from tests.formats.misp_conftest import DATA, FEED, FEED_EVENTS, PYMISP_EVENTS, event_of, import_file
from tests.formats.test_misp_import import FRAUD_EVENT, write_json
from tests.server import running_server

#: What a round trip changes, and why: misp-stix writes datetimes in ISO 8601 with a "T" (the same
#: instant), and drops an ssdeep "hash" with line breaks inside (to_delete2.json: not a valid ssdeep).
LOST = {("to_delete2.json", "ssdeep")}


def _value(attribute: dict[str, Any]) -> str:
    value = str(attribute["value"])
    if attribute["type"] == "datetime":
        moment = datetime.fromisoformat(value.replace(" ", "T").replace(".000000", ""))
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC).isoformat()
    return value


def _attributes(event: dict[str, Any], name: str, untagged: Tlp = Tlp.CLEAR) -> Counter[tuple[str, str, Tlp]]:
    """(type, value, effective TLP) of every attribute, top-level and in objects; ``untagged``: the TLP
    of an event without a TLP tag (the store applies its default TLP)."""
    tagged = tlp_of_tags(event.get("Tag"))
    event_tlp = untagged if tagged is None else tagged
    found: Counter[tuple[str, str, Tlp]] = Counter()
    holders = [event, *(event.get("Object") or ())]
    for holder in holders:
        for a in holder.get("Attribute") or ():
            if (name, a["type"]) in LOST:
                continue
            own = tlp_of_tags(a.get("Tag"))
            found[(a["type"], _value(a), max(event_tlp, own) if own is not None else event_tlp)] += 1
    return found


@pytest.fixture
def fed(engine: Engine, settings: Settings, tmp_path: Path) -> tuple[Any, Path, dict[str, Any]]:
    """Every test event imported by one member, and that member's MISP feed written to a folder."""
    member = make_member(engine)
    for path in PYMISP_EVENTS:
        import_file(engine, settings, member, path)
    import_file(engine, settings, member, FEED)
    import_file(engine, settings, member, write_json(tmp_path, "fraud.json", FRAUD_EVENT))
    with transaction(engine, write=False) as conn:
        summary = misp_export.write_feed(conn, member.reader, settings, tmp_path / "feed")
    return member, tmp_path / "feed", summary


def test_round_trip_keeps_every_attribute_value_type_and_tlp(fed: tuple[Any, Path, dict[str, Any]],
                                                            tmp_path: Path, settings: Settings) -> None:
    _member, folder, summary = fed
    sources = [*PYMISP_EVENTS, *FEED_EVENTS, tmp_path / "fraud.json"]
    assert summary["events"] == len(sources)
    for path in sources:
        before = event_of(path)
        after = orjson.loads((folder / f"{before['uuid']}.json").read_bytes())["Event"]
        assert tlp_of_tags(after.get("Tag")) is not None
        default = Tlp.parse(settings.default_tlp)
        assert _attributes(after, path.name) == _attributes(before, path.name, default), path.name
        top = {a["uuid"]: (a["type"], a["value"]) for a in before.get("Attribute") or ()}
        assert {a["uuid"]: (a["type"], a["value"]) for a in after.get("Attribute") or ()
                if a["type"] != "datetime"} == {k: v for k, v in top.items() if v[0] != "datetime"}
        assert {o["uuid"] for o in after.get("Object") or ()} == {o["uuid"] for o in before.get("Object") or ()}


def test_the_fraud_event_keeps_its_attribute_tlp(fed: tuple[Any, Path, dict[str, Any]]) -> None:
    _member, folder, _summary = fed
    event = orjson.loads((folder / "0e1f6b8a-3c5d-4e2f-9a1b-7c8d9e0f1a2b.json").read_bytes())["Event"]
    assert tlp_of_tags(event["Tag"]) is Tlp.AMBER
    tags = {a["value"]: tlp_of_tags(a.get("Tag")) for a in event["Attribute"]}
    assert tags["1BoatSLRHtKNngkdXEeobR76b53LETtpyT"] is Tlp.RED
    assert tags["203.0.113.7"] is Tlp.AMBER_STRICT
    assert tags["alphabank-login.example"] is None  # tlp:green inside an amber event is stored amber


def test_every_export_loads_in_pymisp_and_the_feed_is_complete(fed: tuple[Any, Path, dict[str, Any]]) -> None:
    _member, folder, summary = fed
    manifest = orjson.loads((folder / "manifest.json").read_bytes())
    files = sorted(p.stem for p in folder.glob("*-*.json"))
    assert sorted(manifest) == files and len(files) == summary["events"]
    hashes: set[tuple[str, str]] = set()
    for line in (folder / "hashes.csv").read_text().splitlines():
        digest, event_uuid = line.split(",")
        hashes.add((digest, event_uuid))
    for uuid in files:
        doc = orjson.loads((folder / f"{uuid}.json").read_bytes())
        event = MISPEvent()
        event.load(copy.deepcopy(doc))
        assert str(event.uuid) == uuid and event.info == manifest[uuid]["info"]
        assert {"Orgc", "Tag", "info", "date", "analysis", "threat_level_id", "timestamp"} <= set(manifest[uuid])
        expected = {(digest, uuid) for digest in event.attributes_hashes("md5")}  # as MISP's feed generator
        assert expected and expected <= hashes or not (event.attributes or event.objects)
        for attribute in event.attributes:
            if attribute.type in ("domain", "url", "md5"):  # one plain value: the md5 of the value itself
                digest = hashlib.md5(str(attribute.value).encode()).hexdigest()
                assert (digest, uuid) in hashes


def test_native_stix_becomes_events(engine: Engine, settings: Settings) -> None:
    member = make_member(engine)
    apt1 = orjson.loads((DATA / "oasis-stix2-examples" / "threat-reports" / "apt1.json").read_bytes())
    loose = {"type": "indicator", "spec_version": "2.1", "id": "indicator--5f0c8a4e-8d2b-4f7a-9c1e-2b3d4e5f6a7b",
             "created": "2026-11-23T09:00:00.000Z", "modified": "2026-11-23T09:00:00.000Z", "name": "Mule IBAN",
             "pattern_type": "stix", "pattern": "[x-bank-account:iban = 'NO93 8601 1117 947']",
             "valid_from": "2026-11-23T09:00:00Z"}
    with transaction(engine) as conn:
        ingest(conn, [*apt1["objects"], loose], submission_for(conn, member.reader, tlp="green"), settings)
    with transaction(engine, write=False) as conn:
        entries = dict(misp_export.feed_entries(conn, member.reader, settings))
    report = entries.pop("e33ffe07-2f4c-48d8-b0af-ee2619d765cf")
    assert report.info.startswith("APT1") and {"ip-dst", "domain"} <= {a.type for a in report.attributes}
    (day,) = entries.values()  # the loose indicator: one event for its creator, day and TLP
    assert [(a.type, a.value) for a in day.attributes] == [("iban", "NO9386011117947")]
    assert [t.name for t in day.tags] == ["tlp:green"]


def test_a_reader_gets_only_what_they_may_see(engine: Engine, settings: Settings, tmp_path: Path) -> None:
    alpha = make_member(engine)
    nordpay = make_member(engine)
    boreal = make_member(engine, country="NO")
    with transaction(engine) as conn:
        accounts.create_group(conn, name="DK banks", members=[alpha.org_id, nordpay.org_id])
    alpha, nordpay = refresh(engine, alpha), refresh(engine, nordpay)
    import_file(engine, settings, alpha, write_json(tmp_path, "fraud.json", FRAUD_EVENT), group="DK banks")
    red = copy.deepcopy(event_of(FEED_EVENTS[0]))
    red["Tag"] = [{"name": "tlp:red"}]
    import_file(engine, settings, alpha, write_json(tmp_path, "red.json", {"Event": red}))
    hidden = {"0e1f6b8a-3c5d-4e2f-9a1b-7c8d9e0f1a2b", red["uuid"]}
    with transaction(engine, write=False) as conn:
        assert hidden <= set(misp_export.feed_manifest(conn, alpha.reader, settings))
        seen = misp_export.feed_manifest(conn, nordpay.reader, settings)
        assert "0e1f6b8a-3c5d-4e2f-9a1b-7c8d9e0f1a2b" in seen and red["uuid"] not in seen
        member_event = misp_export.feed_event(conn, nordpay.reader, settings, "0e1f6b8a-3c5d-4e2f-9a1b-7c8d9e0f1a2b")
        assert member_event is not None
        values = {a["value"] for a in member_event["Event"]["Attribute"]}
        assert "1BoatSLRHtKNngkdXEeobR76b53LETtpyT" not in values  # the RED attribute
        assert "NO9386011117947" in values
        assert not set(misp_export.feed_manifest(conn, boreal.reader, settings)) & hidden
        assert not {line.split(",")[1].strip() for line in misp_export.feed_hashes(conn, boreal.reader, settings)} \
            & hidden
        for uuid in hidden:
            assert misp_export.feed_event(conn, boreal.reader, settings, uuid) is None
    with running_server(settings, engine) as url, httpx.Client(base_url=url, timeout=60) as http:
        assert http.get("/feeds/misp/manifest.json").status_code == 401
        as_boreal = {"Authorization": f"Bearer {boreal.token}"}
        for uuid in hidden:
            assert http.get(f"/feeds/misp/{uuid}.json", headers=as_boreal).status_code == 404
        assert not set(http.get("/feeds/misp/manifest.json", headers=as_boreal).json()) & hidden
        basic = httpx.BasicAuth(alpha.email, alpha.token)
        listed = http.get("/feeds/misp/manifest.json", auth=basic)
        assert listed.status_code == 200 and hidden <= set(listed.json())
        etag = listed.headers["etag"]
        again = http.get("/feeds/misp/manifest.json", auth=basic, headers={"If-None-Match": etag})
        assert again.status_code == 304
        event = http.get(f"/feeds/misp/{red['uuid']}.json", auth=basic)
        assert event.status_code == 200 and MISPEvent().load(event.json()) is None
        csv = http.get("/feeds/misp/hashes.csv", auth=basic)
        assert csv.status_code == 200 and red["uuid"] in csv.text
