"""Imports of STIX bundles and folders, CSV files and malformed inputs, on the real store.

Every public STIX data set in tests/data imports completely, with the counts of the source; a
malformed input is refused with its place named, and a refused import stores nothing.
"""

from __future__ import annotations

import gzip
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from nordcert.config import Settings
from nordcert.db import transaction
from nordcert.errors import Invalid
from nordcert.formats.csv_import import Mapping, pattern_for
from nordcert.formats.imports import Report, detect_format, run_import
from nordcert.intel.submission import submission_for
from nordcert.intel.tables import stix_objects
from nordcert.observables import service as observables
from nordcert.observables.kinds import Kind
from tests.factories import Member, bundle, indicator, make_member

DATA = Path(__file__).resolve().parents[1] / "data"
ICS = Path(__file__).resolve().parents[2] / "nordcert" / "demo" / "data" / "ics-attack-18.1.json"


@pytest.fixture
def member(engine: Engine) -> Member:
    return make_member(engine, name="Nordlys Bank", country="NO")


def _import(engine: Engine, settings: Settings, member: Member, source: Path | str, fmt: str | None = None,
            **kwargs: Any) -> Report:
    with transaction(engine) as conn:
        sub = submission_for(conn, member.reader, tlp=kwargs.pop("tlp", None))
        return run_import(conn, str(source), fmt or detect_format(str(source)), sub, settings, **kwargs)


def _stored(engine: Engine) -> Counter[str]:
    with transaction(engine, write=False) as conn:
        rows = conn.execute(select(stix_objects.c.type, func.count()).group_by(stix_objects.c.type)).all()
    return Counter({t: n for t, n in rows})


def _source_objects(path: Path) -> list[dict[str, Any]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        doc = json.load(fh)
    return doc if isinstance(doc, list) else doc.get("objects", [doc])


# --- real data ------------------------------------------------------------------------------------

@pytest.mark.parametrize("path, total", [
    (DATA / "mitre-attack-stix" / "mobile-attack-17.1.json.gz", 2148),
    (ICS, 1826),
    (DATA / "oasis-stix2-examples" / "threat-reports" / "apt1.json", 76),
    (DATA / "oasis-stix2-examples" / "threat-reports" / "poisonivy.json", 155),
    (DATA / "oasis-stix2-examples" / "indicators-for-C2-with-COA.json", 8),
    (DATA / "oasis-stix2-examples" / "infrastructure.json", 10),
    (DATA / "oasis-stix2-examples" / "malicious-email-indicator-with-attachment.json", 6),
    (DATA / "oasis-stix2-examples" / "indicator-to-campaign-relationship.json", 3),
    (DATA / "oasis-stix2-examples" / "indicator-for-c2-ip-address.json", 1),
    (DATA / "oasis-stix2-examples" / "interop-objectmarking-test.json", 1),
])
def test_real_bundles_import_completely_with_the_source_counts(engine: Engine, settings: Settings, member: Member,
                                                               path: Path, total: int) -> None:
    source = _source_objects(path)
    assert len(source) == total  # the count the data set's README states
    report = _import(engine, settings, member, path)
    r = report.result
    assert (r.total, r.rejected) == (total, 0)
    versions = {(o["id"], o.get("modified", o.get("created"))) for o in source}
    assert r.created + r.updated == len(versions)
    stored = _stored(engine)
    assert stored == Counter(o["type"] for o in {(o["id"], o.get("modified")): o for o in source}.values())
    again = _import(engine, settings, member, path).result
    assert (again.created, again.updated, again.unchanged) == (0, 0, total)  # idempotent
    assert _stored(engine) == stored


def test_a_stix_folder_imports_every_file_and_names_the_file_of_a_bad_object(
        engine: Engine, settings: Settings, member: Member) -> None:
    folder = DATA / "cti-python-stix2" / "filesystem-store-v21"
    files = sorted(folder.rglob("*.json"))
    assert len(files) == 31
    with pytest.raises(Invalid) as refused:
        _import(engine, settings, member, folder)
    (problem,) = refused.value.details
    assert problem["file"].startswith("malware/malware--b42378e0") and "spec_version" in problem["reason"]
    assert _stored(engine) == Counter()  # all or nothing
    report = _import(engine, settings, member, folder, strict=False)
    assert (report.result.total, report.result.rejected) == (30, 1)
    assert sum(_stored(engine).values()) == 30
    # versions of one object in several files: all kept, the latest is the default view
    assert _stored(engine)["malware"] == 6


def test_the_sco_examples_keep_their_valid_objects_and_reject_the_bad_base64(
        engine: Engine, settings: Settings, member: Member) -> None:
    path = DATA / "cti-python-stix2" / "sco-examples-bundle.json"
    source = _source_objects(path)
    with pytest.raises(Invalid) as refused:
        _import(engine, settings, member, path)
    assert [d["index"] for d in refused.value.details] == [6, 7, 20]
    assert all("base64" in d["reason"] for d in refused.value.details)
    report = _import(engine, settings, member, path, strict=False).result
    assert report.rejected == 3 and report.total == len(source) - 3
    distinct = {o["id"] for i, o in enumerate(source) if i not in (6, 7, 20)}
    assert sum(_stored(engine).values()) == len(distinct) == report.created


def test_the_tlp_marking_definitions_import(engine: Engine, settings: Settings, member: Member) -> None:
    folder = DATA / "oasis-stix-common-objects-tlp2"
    report = _import(engine, settings, member, folder, strict=False).result
    # the one known-invalid object upstream: a relationship whose created is "2022-101-27T13:49:54.326Z"
    assert report.rejected == 1 and "created" in report.rejections[0]["reason"]
    assert report.rejections[0]["file"] == "tlp-2.0-examples/using-tlp2.0-green.json"
    assert _stored(engine)["marking-definition"] >= 5


# --- CSV -----------------------------------------------------------------------------------------

CSV = (
    "indicator,type,comment,tags,confidence,first_seen\n"
    "198.51.100.7,ip-dst,C2 of the Nordlys botnet,\"c2,botnet\",80,2026-11-01\n"
    "evil-bank.example,domain,Phishing kit,phishing,,\n"
    "NO9386011117947,iban,Money mule account,fraud;mule,90%,2026-11-02T10:00:00Z\n"
    "+4791234567,,Call-back number of a CEO fraud,,,\n"
    "https://evil-bank.example/login,url,,,,\n"
)


def test_csv_rows_become_indicators_that_the_lookup_finds(engine: Engine, settings: Settings, member: Member,
                                                         tmp_path: Path) -> None:
    path = tmp_path / "iocs.csv"
    path.write_text(CSV)
    first = _import(engine, settings, member, path, tlp="amber").result
    assert (first.created, first.updated, first.unchanged, first.rejected) == (5, 0, 0, 0)
    assert first.indexed == 5
    with transaction(engine, write=False) as conn:
        found = observables.lookup(conn, member.reader, settings, ["NO93 8601 1117 947", "+47 912 34 567"])
    assert [v["found"] for v in found["results"]] == [True, True]
    with transaction(engine, write=False) as conn:
        bodies = [json.loads(b) for (b,) in conn.execute(select(stix_objects.c.body))]
    iban = next(b for b in bodies if "x-bank-account" in b["pattern"])
    assert iban["pattern"] == "[x-bank-account:iban = 'NO9386011117947']"
    assert iban["labels"] == ["fraud", "mule"] and iban["confidence"] == 90
    assert iban["valid_from"] == "2026-11-02T10:00:00.000Z" and iban["description"] == "Money mule account"
    ip = next(b for b in bodies if "ipv4" in b["pattern"])
    assert ip["labels"] == ["c2", "botnet"] and ip["valid_from"] == "2026-11-01T00:00:00.000Z"


def test_csv_import_is_idempotent_and_a_changed_row_makes_a_new_version(
        engine: Engine, settings: Settings, member: Member, tmp_path: Path) -> None:
    path = tmp_path / "iocs.csv"
    path.write_text(CSV)
    _import(engine, settings, member, path)
    again = _import(engine, settings, member, path).result
    assert (again.created, again.updated, again.unchanged) == (0, 0, 5)
    path.write_text(CSV.replace("Phishing kit", "Phishing kit - second wave"))
    changed = _import(engine, settings, member, path).result
    assert (changed.created, changed.updated, changed.unchanged) == (0, 1, 4)
    assert sum(_stored(engine).values()) == 6  # both versions of the changed row are kept


def test_another_member_importing_the_same_csv_gets_its_own_indicators(
        engine: Engine, settings: Settings, member: Member, tmp_path: Path) -> None:
    path = tmp_path / "iocs.csv"
    path.write_text(CSV)
    _import(engine, settings, member, path, tlp="green")
    other = make_member(engine, name="Fjord Sparebank")
    theirs = _import(engine, settings, other, path, tlp="green").result
    assert theirs.created == 5  # ids are random: nothing ties them to who submitted


def test_csv_without_header_mapped_by_number_with_one_kind(engine: Engine, settings: Settings, member: Member,
                                                          tmp_path: Path) -> None:
    path = tmp_path / "blocklist.txt"
    path.write_text("# firewall export\n203.0.113.9;seen 3 times\n203.0.113.10;seen once\n\n")
    mapping = Mapping.parse(["1=value", "2=description"], header=False, kind="ipv4")
    report = _import(engine, settings, member, path, "csv", mapping=mapping).result
    assert report.created == 2
    with transaction(engine, write=False) as conn:
        bodies = {json.loads(b)["description"] for (b,) in conn.execute(select(stix_objects.c.body))}
    assert bodies == {"seen 3 times", "seen once"}


def test_bad_csv_rows_are_named_by_line_and_nothing_is_stored(engine: Engine, settings: Settings, member: Member,
                                                             tmp_path: Path) -> None:
    path = tmp_path / "iocs.csv"
    path.write_text("value,kind,tlp,confidence\n198.51.100.7,ipv4,,\n999.1.1.1,ipv4,,\n"
                    "evil.example,domain,purple,\nok.example,domain,,120\nNO9386011117948,iban,,\n")
    with pytest.raises(Invalid) as refused:
        _import(engine, settings, member, path)
    lines = [(d["line"], d["reason"]) for d in refused.value.details]
    assert [line for line, _ in lines] == [3, 4, 5, 6]
    assert "tlp 'purple'" in lines[1][1] and "confidence" in lines[2][1] and "check digits" in lines[3][1]
    assert "line 3" in refused.value.message and "nothing was stored" in refused.value.message
    assert _stored(engine) == Counter()
    lenient = _import(engine, settings, member, path, strict=False).result
    assert (lenient.created, lenient.rejected) == (1, 4)
    assert [d["line"] for d in lenient.rejections] == [3, 4, 5, 6]


def test_a_card_number_in_a_csv_is_refused_without_echoing_it(engine: Engine, settings: Settings, member: Member,
                                                              tmp_path: Path) -> None:
    path = tmp_path / "cards.csv"
    path.write_text("value\n4111111111111111\n")
    with pytest.raises(Invalid) as refused:
        _import(engine, settings, member, path)
    assert "4111111111111111" not in str(refused.value.message) + str(refused.value.details)
    assert _stored(engine) == Counter()


def test_csv_mapping_errors_are_clear(tmp_path: Path) -> None:
    with pytest.raises(Invalid, match="unknown field 'colour'"):
        Mapping.parse(["a=colour"])
    with pytest.raises(Invalid, match="COLUMN=FIELD"):
        Mapping.parse(["value"])
    with pytest.raises(Invalid, match="map columns by number"):
        Mapping.parse(["ioc=value"], header=False)
    with pytest.raises(Invalid, match="unknown observable kind"):
        Mapping.parse([], kind="colour")


def test_a_csv_without_a_value_column_says_which_columns_it_has(engine: Engine, settings: Settings, member: Member,
                                                               tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("host,port\nexample.com,443\n")
    with pytest.raises(Invalid, match=r"no value column.*host, port"):
        _import(engine, settings, member, path)


def test_patterns_of_every_kind_are_valid_and_indexed() -> None:
    from nordcert.intel.validate import check_object
    from nordcert.observables.extract import extract

    samples = {Kind.IPV4: "198.51.100.7", Kind.IPV6: "2001:db8::1", Kind.CIDR: "198.51.100.0/24",
               Kind.DOMAIN: "example.com", Kind.URL: "https://example.com/a'b", Kind.EMAIL: "a@example.com",
               Kind.MD5: "d41d8cd98f00b204e9800998ecf8427e", Kind.SHA1: "da39a3ee5e6b4b0d3255bfef95601890afd80709",
               Kind.SHA256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
               Kind.SHA512: "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877"
                            "eec2f63b931bd47417a81a538327af927da3e",
               Kind.IBAN: "NO9386011117947", Kind.BIC: "DNBANOKK", Kind.BIN: "454545",
               Kind.WALLET: "1BoatSLRHtKNngkdXEeobR76b53LETtpyT", Kind.PHONE: "+4791234567", Kind.ASN: "AS64500",
               Kind.CARD: "457173*1234", Kind.BLINDED: "sector-1:iban:" + "ab" * 32}
    assert set(samples) == set(Kind)
    for kind, value in samples.items():
        obj = indicator(pattern=pattern_for(kind, value))
        check_object(obj)
        assert (kind, value) in extract(obj).observables, kind


# --- malformed input -----------------------------------------------------------------------------

def _write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    path = tmp_path / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    return path


def _nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {"leaf": "x"}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


def _malformed(tmp_path: Path) -> list[tuple[Path, str]]:
    good = [indicator(f"10.1.0.{i}") for i in range(1, 6)]
    deep = indicator("10.2.0.1", x_context=_nested(50))
    long = indicator("10.2.0.2", description="A" * (5 * 1024 * 1024))
    bad_pattern = indicator(pattern="[ipv4-addr:value = '10.2.0.3'")
    wrong_type = {**indicator("10.2.0.4"), "confidence": "high"}
    whole = json.dumps(bundle(*good, indicator("10.2.0.5")))
    return [
        (_write(tmp_path, "truncated.json", whole[: len(whole) // 2]), "not valid JSON: after object"),
        (_write(tmp_path, "deep.json", json.dumps(bundle(*good, deep))), "nested more than 32 levels"),
        (_write(tmp_path, "long.json", json.dumps(bundle(*good, long))), "description is 5,242,880 characters"),
        (_write(tmp_path, "pattern.json", json.dumps(bundle(*good, bad_pattern))), "invalid STIX pattern"),
        (_write(tmp_path, "types.json", json.dumps(bundle(*good, wrong_type))), "confidence must be an integer"),
        (_write(tmp_path, "objects.json", json.dumps({"type": "bundle", "objects": {"a": 1}})), "must be a list"),
        (_write(tmp_path, "binary.json", bytes(range(256)) * 20), "binary file"),
        (_write(tmp_path, "text.json", "just some words\n"), "not JSON"),
    ]


def test_malformed_inputs_are_refused_naming_the_place_and_store_nothing(
        engine: Engine, settings: Settings, member: Member, tmp_path: Path) -> None:
    _import(engine, settings, member, _write(tmp_path, "base.json", json.dumps(bundle(indicator("10.9.9.9")))))
    before = _stored(engine)
    for path, expected in _malformed(tmp_path):
        with pytest.raises(Invalid) as refused:
            fmt = "stix" if path.name == "text.json" else None
            _import(engine, settings, member, path, fmt)
        text = refused.value.message + " " + json.dumps(refused.value.details)
        assert expected in text, (path.name, text)
        assert path.name in refused.value.message or path.name == "binary.json", refused.value.message
        if refused.value.details:
            assert all("index" in d and "reason" in d for d in refused.value.details), path.name
            assert refused.value.details[0]["index"] == 5, path.name  # the bad one, after five good objects
        assert _stored(engine) == before, path.name


def test_a_truncated_gzip_is_refused(engine: Engine, settings: Settings, member: Member, tmp_path: Path) -> None:
    data = gzip.compress(json.dumps(bundle(*[indicator(f"10.3.0.{i}") for i in range(1, 200)])).encode())
    path = _write(tmp_path, "feed.json.gz", data[: len(data) // 2])
    with pytest.raises(Invalid, match="feed.json.gz"):
        _import(engine, settings, member, path)
    assert _stored(engine) == Counter()


def test_detect_format(tmp_path: Path) -> None:
    assert detect_format(str(_write(tmp_path, "a.json", json.dumps(bundle(indicator()))))) == "stix"
    assert detect_format(str(_write(tmp_path, "e.json", '{"Event": {"info": "x"}}'))) == "misp"
    assert detect_format(str(_write(tmp_path, "r.json", '{"response": []}'))) == "misp"
    assert detect_format(str(_write(tmp_path, "l.csv", "value\n1.2.3.4\n"))) == "csv"
    assert detect_format(str(_write(tmp_path, "plain", "1.2.3.4\n"))) == "csv"
    (tmp_path / "feed").mkdir()
    (tmp_path / "feed" / "manifest.json").write_text("{}")
    assert detect_format(str(tmp_path / "feed")) == "misp"
    assert detect_format(str(DATA / "cti-python-stix2" / "filesystem-store-v21")) == "stix"
    assert detect_format("https://feeds.example/misp/") == "misp"
