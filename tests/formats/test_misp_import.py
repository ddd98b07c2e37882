"""MISP in: real events and a real feed import completely, idempotently, with fraud values indexed,
TLP tags applied, and every malformed input refused with one clear error naming its place."""

from __future__ import annotations

import copy
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import Engine, func, select

from nordcert.config import Settings
from nordcert.db import transaction
from nordcert.errors import Invalid
from nordcert.formats.misp_import import event_uuids, iter_feed, objects_of_event, read_events, tlp_of_tags
from nordcert.intel.tables import stix_objects
from nordcert.observables import service as observables
from nordcert.sharing.tlp import MARKING_TLP, Tlp
from tests.factories import make_member
from tests.formats.misp_conftest import FEED, FEED_EVENTS, PYMISP_EVENTS, event_of, import_file

#: STIX objects per event (misp-stix 2026.10 + nordcert's post-processing). The rule behind them is
#: checked by test_conversion_holds_every_attribute_object_sighting_and_cluster.
EXPECTED_OBJECTS = {
    "57c4445b-c548-4654-af0b-4be3950d210f.json": 28, "HTML_event.json": 35, "existing_event.json": 265,
    "galaxy_1.json": 39, "image_event.json": 130, "japanese_test.json": 5, "long_event.json": 1263,
    "mainly_objects_1.json": 31, "mainly_objects_2.json": 30, "misp_event.json": 5, "new_misp_event.json": 3,
    "sighting_1.json": 29, "sighting_2.json": 8, "to_delete1.json": 261, "to_delete2.json": 549,
    "to_delete3.json": 312, "very_long_event.json": 107,
    "00003011-78f7-4c37-b4e1-cd08e350b785.json": 26, "001af28a-1aaa-48bc-8245-ccd1fd88dea7.json": 27,
}
#: (attributes, objects) per event, as the README of the data set counts them.
SOURCE_COUNTS = {
    "existing_event.json": (9, 49), "galaxy_1.json": (4, 2), "mainly_objects_1.json": (0, 17),
    "mainly_objects_2.json": (1, 15), "long_event.json": (370, 0), "very_long_event.json": (16, 16),
    "image_event.json": (19, 20), "HTML_event.json": (13, 0), "to_delete1.json": (75, 0),
    "to_delete2.json": (111, 5), "to_delete3.json": (48, 24), "57c4445b-c548-4654-af0b-4be3950d210f.json": (9, 0),
    "sighting_1.json": (5, 0), "sighting_2.json": (2, 0), "japanese_test.json": (1, 0), "misp_event.json": (2, 0),
    "new_misp_event.json": (0, 0),
    "00003011-78f7-4c37-b4e1-cd08e350b785.json": (7, 1), "001af28a-1aaa-48bc-8245-ccd1fd88dea7.json": (7, 1),
}
ALL_EVENTS = PYMISP_EVENTS + FEED_EVENTS
_SCO_FREE = ("relationship", "identity", "report", "grouping")


def _uuid(stix_id: str) -> str:
    return stix_id.partition("--")[2]


def _tlp(obj: dict[str, Any]) -> Tlp | None:
    found = [MARKING_TLP[r] for r in obj.get("object_marking_refs") or () if r in MARKING_TLP]
    return max(found) if found else None


def test_the_data_sets_are_all_here() -> None:
    assert len(PYMISP_EVENTS) == 17 and len(FEED_EVENTS) == 2
    assert {p.name for p in ALL_EVENTS} == set(EXPECTED_OBJECTS) == set(SOURCE_COUNTS)


@pytest.mark.parametrize("path", ALL_EVENTS, ids=lambda p: p.name)
def test_conversion_holds_every_attribute_object_sighting_and_cluster(path: Path) -> None:
    """The rule: one report or grouping per event (its uuid); every attribute and every object is an
    object named by its uuid (an indicator when to_ids is set, observed data and observables, or
    misp-stix's x-misp-attribute / x-misp-object); every sighting of type 0 is a sighting, of type 1
    (false positive) an opinion; every galaxy cluster one threat-actor, intrusion-set, malware, tool,
    attack-pattern, course-of-action or x-misp-galaxy-cluster."""
    event = event_of(path)
    objects = objects_of_event(orjson.loads(path.read_bytes()), where=path.name)
    assert len(objects) == EXPECTED_OBJECTS[path.name]
    assert len({o["id"] for o in objects}) == len(objects)
    attributes, misp_objects = SOURCE_COUNTS[path.name]
    assert (len(event.get("Attribute") or ()), len(event.get("Object") or ())) == (attributes, misp_objects)
    by_uuid = Counter(_uuid(o["id"]) for o in objects)
    containers = [o for o in objects if o["type"] in ("report", "grouping")]
    assert [_uuid(c["id"]) for c in containers] == [event["uuid"]]
    carried = {a["uuid"] for o in objects for a in o.get("x_misp_attributes") or ()}
    for attribute in event.get("Attribute") or ():
        assert by_uuid[attribute["uuid"]] >= 1 or attribute["uuid"] in carried, attribute["uuid"]
    for obj in event.get("Object") or ():
        assert by_uuid[obj["uuid"]] >= 1, obj["uuid"]
    sightings = [s for a in event.get("Attribute") or () for s in a.get("Sighting") or ()]
    kinds = Counter(o["type"] for o in objects)
    assert kinds["sighting"] == sum(1 for s in sightings if s.get("type") == "0")
    assert kinds["opinion"] == sum(1 for s in sightings if s.get("type") == "1")
    clusters = {c.get("uuid") or c.get("collection_uuid") for g in _galaxies(event) for c in g["GalaxyCluster"]}
    galaxy_types = {"threat-actor", "intrusion-set", "malware", "tool", "attack-pattern", "course-of-action",
                    "x-misp-galaxy-cluster"}
    assert clusters == {_uuid(o["id"]) for o in objects if o["type"] in galaxy_types}


def _galaxies(event: dict[str, Any]) -> list[dict[str, Any]]:
    found = list(event.get("Galaxy") or ())
    found += [g for a in event.get("Attribute") or () for g in a.get("Galaxy") or ()]
    found += [g for o in event.get("Object") or () for a in o.get("Attribute") or () for g in a.get("Galaxy") or ()]
    return found


def test_conversion_is_deterministic() -> None:
    path = next(p for p in PYMISP_EVENTS if p.name == "galaxy_1.json")
    doc = orjson.loads(path.read_bytes())
    assert objects_of_event(copy.deepcopy(doc)) == objects_of_event(doc)


def _stored(engine: Engine) -> int:
    with transaction(engine, write=False) as conn:
        return int(conn.execute(select(func.count()).select_from(stix_objects)).scalar_one())


def test_every_event_imports_completely_and_again_changes_nothing(engine: Engine, settings: Settings) -> None:
    member = make_member(engine)
    ids: set[str] = set()
    for path in PYMISP_EVENTS:
        result = import_file(engine, settings, member, path)
        assert result["events"] == 1 and result["rejected"] == 0
        assert result["total"] == EXPECTED_OBJECTS[path.name]
        ids.update(o["id"] for o in objects_of_event(orjson.loads(path.read_bytes())))
    feed = import_file(engine, settings, member, FEED)
    assert feed["events"] == 2 and feed["total"] == sum(EXPECTED_OBJECTS[p.name] for p in FEED_EVENTS)
    ids.update(o["id"] for p in FEED_EVENTS for o in objects_of_event(orjson.loads(p.read_bytes())))
    stored = _stored(engine)
    assert stored == len(ids)  # one version each: shared identities and clusters are not re-versioned
    for source in [*PYMISP_EVENTS, FEED]:
        again = import_file(engine, settings, member, source)
        assert again["created"] == again["updated"] == 0 and again["unchanged"] == again["total"]
    assert _stored(engine) == stored


FRAUD_EVENT: dict[str, Any] = {"Event": {
    "uuid": "0e1f6b8a-3c5d-4e2f-9a1b-7c8d9e0f1a2b", "info": "Mule accounts and vishing (synthetic)",
    "date": "2026-11-20", "timestamp": "1763630000", "analysis": "2", "threat_level_id": "2",
    "Orgc": {"name": "Alpha Bank", "uuid": "5e2c1a0b-1c2d-4e3f-8a9b-0c1d2e3f4a5b"},
    "Tag": [{"name": "tlp:amber"}, {"name": "fraud:mule"}],
    "Attribute": [
        {"uuid": "a1000000-0000-4000-8000-000000000001", "type": "iban", "category": "Financial fraud",
         "value": "NO9386011117947", "to_ids": True, "timestamp": "1763630000"},
        {"uuid": "a1000000-0000-4000-8000-000000000002", "type": "bic", "category": "Financial fraud",
         "value": "DNBANOKK", "to_ids": False, "timestamp": "1763630000"},
        {"uuid": "a1000000-0000-4000-8000-000000000003", "type": "btc", "category": "Financial fraud",
         "value": "1BoatSLRHtKNngkdXEeobR76b53LETtpyT", "to_ids": True, "timestamp": "1763630000",
         "Tag": [{"name": "tlp:red"}]},
        {"uuid": "a1000000-0000-4000-8000-000000000004", "type": "phone-number", "category": "Financial fraud",
         "value": "+46701234567", "to_ids": True, "timestamp": "1763630000"},
        {"uuid": "a1000000-0000-4000-8000-000000000005", "type": "domain", "category": "Network activity",
         "value": "alphabank-login.example", "to_ids": True, "timestamp": "1763630000",
         "Tag": [{"name": "tlp:green"}, {"name": "phishing"}]},
        {"uuid": "a1000000-0000-4000-8000-000000000006", "type": "email-src", "category": "Payload delivery",
         "value": "support@alphabank-login.example", "to_ids": False, "timestamp": "1763630000"},
        {"uuid": "a1000000-0000-4000-8000-000000000007", "type": "filename|sha256", "category": "Payload delivery",
         "value": "invoice.pdf.exe|1c6d094c7bc64b66b3d756bb64059af7324fae2aaefd74bb1436b1a1a8fdb5bc",
         "to_ids": True, "timestamp": "1763630000"},
        {"uuid": "a1000000-0000-4000-8000-000000000008", "type": "hostname", "category": "Network activity",
         "value": "login.alphabank-login.example", "to_ids": False, "timestamp": "1763630000"},
        {"uuid": "a1000000-0000-4000-8000-000000000009", "type": "ip-src", "category": "Network activity",
         "value": "203.0.113.7", "to_ids": True, "timestamp": "1763630000",
         "Tag": [{"name": "tlp:amber+strict"}]},
        {"uuid": "a1000000-0000-4000-8000-00000000000a", "type": "url", "category": "Network activity",
         "value": "https://alphabank-login.example/verify", "to_ids": True, "timestamp": "1763630000"},
        {"uuid": "a1000000-0000-4000-8000-00000000000b", "type": "email-dst", "category": "Payload delivery",
         "value": "victim@example.org", "to_ids": False, "timestamp": "1763630000"},
        {"uuid": "a1000000-0000-4000-8000-00000000000c", "type": "md5", "category": "Payload delivery",
         "value": "13fe5ae878bee44638c93459548b4226", "to_ids": False, "timestamp": "1763630000"},
        {"uuid": "a1000000-0000-4000-8000-00000000000d", "type": "sha1", "category": "Payload delivery",
         "value": "163cb6e76411aea35b6593fc16bd2f09ac438603", "to_ids": True, "timestamp": "1763630000"},
        {"uuid": "a1000000-0000-4000-8000-00000000000e", "type": "ip-dst", "category": "Network activity",
         "value": "198.51.100.23", "to_ids": False, "timestamp": "1763630000"},
        {"uuid": "a1000000-0000-4000-8000-00000000000f", "type": "xmr", "category": "Financial fraud",
         "value": "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A",
         "to_ids": False, "timestamp": "1763630000"},
    ],
    "Object": [
        {"uuid": "b2000000-0000-4000-8000-000000000001", "name": "bank-account", "meta-category": "financial",
         "timestamp": "1763630000", "Attribute": [
             {"uuid": "b2000000-0000-4000-8000-000000000011", "type": "iban", "object_relation": "iban",
              "category": "Financial fraud", "value": "DK5000400440116243", "to_ids": True},
             {"uuid": "b2000000-0000-4000-8000-000000000012", "type": "bic", "object_relation": "swift",
              "category": "Financial fraud", "value": "DABADKKK", "to_ids": False}]},
        {"uuid": "b2000000-0000-4000-8000-000000000002", "name": "btc-wallet", "meta-category": "financial",
         "timestamp": "1763630000", "Attribute": [
             {"uuid": "b2000000-0000-4000-8000-000000000021", "type": "btc", "object_relation": "wallet-address",
              "category": "Financial fraud", "value": "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", "to_ids": True}]},
        {"uuid": "b2000000-0000-4000-8000-000000000003", "name": "phone", "meta-category": "misc",
         "timestamp": "1763630000", "Attribute": [
             {"uuid": "b2000000-0000-4000-8000-000000000031", "type": "phone-number", "object_relation": "phone",
              "category": "Other", "value": "+4520123456", "to_ids": False}]},
        {"uuid": "b2000000-0000-4000-8000-000000000004", "name": "domain-ip", "meta-category": "network",
         "timestamp": "1763630000", "Attribute": [
             {"uuid": "b2000000-0000-4000-8000-000000000041", "type": "domain", "object_relation": "domain",
              "category": "Network activity", "value": "mule-recruit.example", "to_ids": True},
             {"uuid": "b2000000-0000-4000-8000-000000000042", "type": "ip-dst", "object_relation": "ip",
              "category": "Network activity", "value": "192.0.2.44", "to_ids": True}]},
    ],
}}


def write_json(tmp_path: Path, name: str, doc: Any) -> Path:
    path = tmp_path / name
    path.write_bytes(orjson.dumps(doc))
    return path


def test_fraud_values_are_found_by_the_lookup(engine: Engine, settings: Settings, tmp_path: Path) -> None:
    member = make_member(engine)
    result = import_file(engine, settings, member, write_json(tmp_path, "fraud.json", FRAUD_EVENT))
    assert result["created"] == result["total"] and result["warning_count"] == 1  # the Monero address
    values = ["NO93 8601 1117 947", "DNBANOKK", "1BoatSLRHtKNngkdXEeobR76b53LETtpyT", "+46 70 123 45 67",
              "alphabank-login.example", "support@alphabank-login.example",
              "1c6d094c7bc64b66b3d756bb64059af7324fae2aaefd74bb1436b1a1a8fdb5bc", "login.alphabank-login.example",
              "203.0.113.7", "https://alphabank-login.example/verify", "victim@example.org",
              "13fe5ae878bee44638c93459548b4226", "163cb6e76411aea35b6593fc16bd2f09ac438603", "198.51.100.23",
              "DK5000400440116243", "DABADKKK", "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", "+4520123456",
              "mule-recruit.example", "192.0.2.44"]
    with transaction(engine, write=False) as conn:
        answer = observables.lookup(conn, member.reader, settings, values)
    missing = [r["input"] for r in answer["results"] if not r.get("found")]
    assert missing == []
    kinds = {r["kind"] for r in answer["results"]}
    assert {"iban", "bic", "wallet", "phone", "domain", "email", "sha256", "ipv4", "url", "md5", "sha1"} <= kinds


def test_tlp_tags_become_tlp2_markings_and_only_tighten() -> None:
    objects = objects_of_event(copy.deepcopy(FRAUD_EVENT))
    by_id = {o["id"]: o for o in objects}
    assert not any(o["type"] == "marking-definition" for o in objects)
    container = next(o for o in objects if o["type"] in ("report", "grouping"))
    assert _tlp(container) is Tlp.AMBER
    assert _tlp(by_id["x-misp-attribute--a1000000-0000-4000-8000-000000000003"]) is Tlp.RED  # attribute tag
    assert _tlp(by_id["indicator--a1000000-0000-4000-8000-000000000005"]) is Tlp.AMBER  # green < event's amber
    strict = "a1000000-0000-4000-8000-000000000009"
    assert _tlp(by_id[f"indicator--{strict}"]) is Tlp.AMBER_STRICT
    assert _tlp(by_id[f"ipv4-addr--{strict}"]) is Tlp.AMBER_STRICT  # an observable takes its holder's TLP
    assert _tlp(by_id[f"network-traffic--{strict}"]) is Tlp.AMBER_STRICT
    for o in objects:
        marking = [r for r in o.get("object_marking_refs") or () if r in MARKING_TLP]
        assert marking == [(_tlp(o) or Tlp.AMBER).marking_id]  # TLP 2.0 ids only
    assert "fraud:mule" in container["labels"]
    assert "phishing" in by_id["indicator--a1000000-0000-4000-8000-000000000005"]["labels"]


def test_tlp_of_tags_reads_every_tlp_name() -> None:
    assert tlp_of_tags([{"name": "tlp:white"}]) is Tlp.CLEAR
    assert tlp_of_tags([{"name": "tlp:clear"}, {"name": "TLP:AMBER+STRICT"}]) is Tlp.AMBER_STRICT
    assert tlp_of_tags([{"name": "tlp:green"}, {"name": "tlp:red"}]) is Tlp.RED
    assert tlp_of_tags([{"name": "type:OSINT"}]) is None


def test_the_stored_tlp_follows_the_tags(engine: Engine, settings: Settings, tmp_path: Path) -> None:
    member = make_member(engine)
    import_file(engine, settings, member, write_json(tmp_path, "fraud.json", FRAUD_EVENT))
    with transaction(engine, write=False) as conn:
        rows = dict(conn.execute(select(stix_objects.c.stix_id, stix_objects.c.tlp)).all())
    assert rows["x-misp-attribute--a1000000-0000-4000-8000-000000000003"] == Tlp.RED
    assert rows["grouping--0e1f6b8a-3c5d-4e2f-9a1b-7c8d9e0f1a2b"] == Tlp.AMBER


def test_a_feed_is_read_from_a_url_one_event_at_a_time() -> None:
    served: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        name = request.url.path.rsplit("/", 1)[-1]
        served.append(name)
        path = FEED / name
        return httpx.Response(200, content=path.read_bytes()) if path.is_file() else httpx.Response(404)

    events = iter_feed("https://feeds.example/misp/", transport=httpx.MockTransport(handler))
    first = next(events)
    assert served == ["manifest.json", f"{first[0]}.json"]  # nothing read ahead
    rest = list(events)
    assert [first[0], *(u for u, _ in rest)] == sorted(p.stem for p in FEED_EVENTS)


def test_a_file_of_events_or_a_rest_answer(tmp_path: Path) -> None:
    docs = [orjson.loads(p.read_bytes()) for p in FEED_EVENTS]
    listed = list(read_events(write_json(tmp_path, "list.json", docs)))
    answer = list(read_events(write_json(tmp_path, "answer.json", {"response": docs})))
    assert [u for u, _ in listed] == [u for u, _ in answer] == sorted(p.stem for p in FEED_EVENTS)


# --- malformed input -------------------------------------------------------------------------------------

def _refused(engine: Engine, settings: Settings, source: Path | str) -> Invalid:
    member = make_member(engine)
    with pytest.raises(Invalid) as caught:
        import_file(engine, settings, member, source)
    assert _stored(engine) == 0  # a rejected import stores nothing
    return caught.value


def test_truncated_json_names_the_file(engine: Engine, settings: Settings, tmp_path: Path) -> None:
    data = FEED_EVENTS[0].read_bytes()
    path = tmp_path / "cut.json"
    path.write_bytes(data[: len(data) // 2])
    exc = _refused(engine, settings, path)
    assert exc.message.startswith("cut.json: not valid JSON")


def test_a_binary_file_is_refused(engine: Engine, settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "sample.bin"
    path.write_bytes(bytes(range(256)) * 16)
    assert _refused(engine, settings, path).message == "sample.bin: a binary file, not MISP JSON"


def test_not_an_event(engine: Engine, settings: Settings) -> None:
    path = Path(PYMISP_EVENTS[0]).parent / "other" / "sharing_groups.json"
    assert "item #0 is not a MISP event" in _refused(engine, settings, path).message


def _bad(mutate: Any) -> dict[str, Any]:
    doc = copy.deepcopy(FRAUD_EVENT)
    mutate(doc["Event"])
    return doc


@pytest.mark.parametrize(("mutate", "place", "reason"), [
    (lambda e: e["Attribute"][3].update(type="no-such-type"), "attribute #3 (a1000000-0000-4000-8000-000000000004)",
     "unknown MISP attribute type 'no-such-type'"),
    (lambda e: e["Attribute"][1].update(value={"iban": "x"}), "attribute #1 (a1000000-0000-4000-8000-000000000002)",
     "the attribute value must be a string, not dict"),
    (lambda e: e["Attribute"][2].update(value="A" * 70_000), "attribute #2 (a1000000-0000-4000-8000-000000000003)",
     "the attribute value is longer than 65535 bytes"),
    (lambda e: e["Object"][1]["Attribute"][0].update(type=7),
     "object #1 (b2000000-0000-4000-8000-000000000002), attribute #0 (b2000000-0000-4000-8000-000000000021)",
     "the attribute has no type"),
    (lambda e: e.update(Attribute="iban"), "", "Attribute must be a list, not str"),
    (lambda e: e.update(info="x" * 70_000), "", "info is longer than 65535 bytes"),
    (lambda e: e["Tag"].append({"name": "t" * 300}), "", "a tag name is longer than 255 characters"),
    (lambda e: e["Attribute"][0].update(timestamp="yesterday"), "attribute #0 (a1000000-0000-4000-8000-000000000001)",
     "timestamp must be seconds since the epoch"),
])
def test_a_bad_event_is_refused_naming_the_place(engine: Engine, settings: Settings, tmp_path: Path,
                                                 mutate: Any, place: str, reason: str) -> None:
    good = orjson.loads(FEED_EVENTS[0].read_bytes())
    path = write_json(tmp_path, "events.json", [good, _bad(mutate)])  # one good event: still nothing stored
    exc = _refused(engine, settings, path)
    assert "event 0e1f6b8a-3c5d-4e2f-9a1b-7c8d9e0f1a2b" in exc.message
    assert (f" at {place}: " if place else ", first: ") + reason in exc.message
    assert exc.details[0]["event"] == "0e1f6b8a-3c5d-4e2f-9a1b-7c8d9e0f1a2b"
    assert exc.details[0]["reason"] == reason


def test_a_feed_without_manifest_or_with_a_missing_event(engine: Engine, settings: Settings,
                                                         tmp_path: Path) -> None:
    assert "no manifest.json" in _refused(engine, settings, str(tmp_path)).message
    (tmp_path / "manifest.json").write_bytes((FEED / "manifest.json").read_bytes())
    exc = _refused(engine, settings, str(tmp_path))
    assert "listed in manifest.json but missing from the feed" in exc.message


def test_a_feed_url_that_fails() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(503))
    with pytest.raises(Invalid, match=r"^manifest.json: the feed answered HTTP 503$"):
        list(iter_feed("https://feeds.example/misp", transport=transport))


def test_event_uuids_cover_sightings() -> None:
    event = event_of(next(p for p in PYMISP_EVENTS if p.name == "sighting_1.json"))
    assert len(event_uuids(event)) == 1 + 5 + 6
