"""Exports: STIX bundles valid for the OASIS validator, CSV, blocklists and RPZ, only what the policy allows.

Real data (the OASIS examples, MITRE ATT&CK for ICS) is exported and validated; blocklists are
checked kind by kind (normalised, deduplicated, ordered, stale and warninglisted values left out
unless asked for); random worlds check every export against the plain oracle of the TLP table.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from sqlalchemy import Connection, Engine, insert, update

from nordcert.config import Settings
from nordcert.db import transaction
from nordcert.errors import Invalid
from nordcert.formats.csv_export import guard
from nordcert.formats.export import (
    COLUMNS,
    CsvFilter,
    ExportRequest,
    StixFilter,
    bundle_chunks,
    csv_chunks,
    export_to,
    parse_since,
    write_blocklist,
    write_rpz,
)
from nordcert.intel import service as intel
from nordcert.intel.ingest import ingest
from nordcert.intel.submission import submission_for
from nordcert.intel.tables import stix_objects
from nordcert.observables import warninglist_store
from nordcert.observables.tables import observables
from nordcert.sharing.tlp import Tlp
from tests.factories import Member, indicator, make_member
from tests.observables.helpers import ago
from tests.sharing.store import insert_items
from tests.sharing.test_policy_properties import (
    World,
    oracle_creator_visible,
    oracle_visible,
    readers_of,
    rolled_back,
    store_world,
    worlds,
)

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
DEMO = ROOT / "nordcert" / "demo" / "data"

#: The validator runs in strict mode (its warnings are errors too) without the best-practice checks
#: about how third-party content is written, not whether it is valid STIX: custom properties and
#: objects "should" be extensions (401; ATT&CK's x_mitre_*), external references "should" carry
#: hashes (302), relationship types "should" come from the suggested list (202; ATT&CK's
#: subtechnique-of), network traffic "should" name both ports (301; the OASIS SCO examples).
BEST_PRACTICE_ONLY = ["extensions-use", "extref-hashes", "relationship-types", "network-traffic-ports"]


# --- helpers shared with the feed tests ------------------------------------------------------------


def submit(engine: Engine, settings: Settings, member: Member, objects: Iterable[dict[str, Any]],
           **sharing: Any) -> None:
    with transaction(engine) as conn:
        ingest(conn, objects, submission_for(conn, member.reader, **sharing), settings)


def fresh(pattern: str, *, days: float = 1, **extra: Any) -> dict[str, Any]:
    stamp = ago(days)
    return indicator(pattern=pattern, created=stamp, modified=stamp, valid_from=stamp, **extra)


def blocklist(engine: Engine, settings: Settings, member: Member | None, kind: str, **options: Any) -> list[str]:
    out = io.BytesIO()
    with transaction(engine, write=False) as conn:
        n = write_blocklist(conn, member.reader if member else None, settings, kind, out, **options)
    text = out.getvalue().decode()
    lines = text.splitlines()
    assert len(lines) == n and (text.endswith("\n") or not text)
    return lines


def benign_list(tmp_path: Path, entries: list[str], list_type: str = "string") -> Path:
    path = tmp_path / "benign-test" / "list.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"name": "Benign for tests", "version": 1, "description": "test",
                                "type": list_type, "list": entries}), encoding="utf-8")
    return path


def validate(raw: bytes) -> list[str]:
    """The validator's errors for a bundle, in strict mode without the best-practice checks above."""
    from stix2validator import ValidationOptions, validate_string

    result = validate_string(raw.decode(), ValidationOptions(version="2.1", strict=True,
                                                             disabled=BEST_PRACTICE_ONLY))
    return [str(e) for e in result.errors or ()]


def bundle_bytes(engine: Engine, settings: Settings, member: Member | None, filters: StixFilter | None = None
                 ) -> bytes:
    with transaction(engine, write=False) as conn:
        return b"".join(bundle_chunks(conn, member.reader if member else None, settings, filters or StixFilter()))


def _file_objects(path: Path) -> list[dict[str, Any]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return data["objects"] if isinstance(data, dict) else data


# --- STIX ------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_stix_export_of_real_data_passes_the_oasis_validator(engine: Engine, settings: Settings) -> None:
    member = make_member(engine)
    submit(engine, settings, member, _file_objects(DEMO / "ics-attack-18.1.json"), tlp="clear")
    for name in ("apt1.json", "poisonivy.json"):
        submit(engine, settings, member, _file_objects(DATA / "oasis-stix2-examples" / "threat-reports" / name),
               tlp="green")
    sco = [o for i, o in enumerate(_file_objects(DATA / "cti-python-stix2" / "sco-examples-bundle.json"))
           if i not in (6, 7, 20)]  # the artifacts with invalid base64 (tests/data/README.md)
    submit(engine, settings, member, sco, tlp="amber")
    tlp_examples = DATA / "oasis-stix-common-objects-tlp2" / "tlp-2.0-examples"
    for name in ("tlp-clear.json", "tlp-amber.json"):
        submit(engine, settings, member, _file_objects(tlp_examples / name))
    raw = bundle_bytes(engine, settings, member)
    bundle = json.loads(raw)
    assert bundle["type"] == "bundle" and bundle["id"].startswith("bundle--")
    assert len(bundle["objects"]) > 2000
    assert any(k.startswith("x_mitre_") for o in bundle["objects"] for k in o)  # custom content kept
    assert validate(raw) == []


def test_custom_objects_and_properties_are_kept_and_valid(engine: Engine, settings: Settings) -> None:
    member = make_member(engine)
    custom = {"type": "x-nordcert-note", "spec_version": "2.1", "id": f"x-nordcert-note--{uuid.uuid4()}",
              "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z", "x_text": "hello"}
    submit(engine, settings, member, [custom, indicator(x_nordcert_score=7, description="C2")], tlp="green")
    raw = bundle_bytes(engine, settings, member)
    objs = json.loads(raw)["objects"]
    assert {o["type"] for o in objs} == {"x-nordcert-note", "indicator"}
    assert validate(raw) == []
    from stix2validator import ValidationOptions, validate_string

    assert validate_string(raw.decode(), ValidationOptions(version="2.1")).is_valid


def test_stix_filters_revocation_and_anonymity(engine: Engine, settings: Settings) -> None:
    alpha, other = make_member(engine), make_member(engine)
    a = indicator(labels=["phishing"])
    b = indicator(labels=["money-mule"])
    submit(engine, settings, alpha, [a], tlp="green")
    submit(engine, settings, alpha, [b], tlp="amber", anonymous=True)
    report = {"type": "report", "spec_version": "2.1", "id": f"report--{uuid.uuid4()}", "name": "r",
              "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
              "published": "2026-01-01T00:00:00Z", "object_refs": [a["id"]]}
    submit(engine, settings, alpha, [report], tlp="clear")

    def ids(member: Member | None, **f: Any) -> set[str]:
        return {o["id"] for o in json.loads(bundle_bytes(engine, settings, member, StixFilter(**f)))["objects"]}

    assert ids(other) == {a["id"], b["id"], report["id"]}
    assert ids(None) == {report["id"]}
    assert ids(other, types=("report",)) == {report["id"]}
    assert ids(other, labels=("money-mule",)) == {b["id"]}
    assert ids(other, tlp_max=Tlp.GREEN) == {a["id"], report["id"]}
    shown = {o["id"]: o for o in json.loads(bundle_bytes(engine, settings, other))["objects"]}
    assert shown[b["id"]]["created_by_ref"] == settings.instance_identity_id
    with transaction(engine) as conn:
        intel.revoke(conn, alpha.reader, a["id"], settings)
        last = conn.execute(stix_objects.select().order_by(stix_objects.c.date_added.desc())).first()
    assert last is not None
    assert ids(other) == {b["id"], report["id"]}
    assert ids(other, include_revoked=True) == {a["id"], b["id"], report["id"]}
    assert ids(other, added_after=last.date_added) == set()
    assert ids(other, added_after=last.date_added - 1, include_revoked=True) == {a["id"]}


# --- blocklists ------------------------------------------------------------------------------------


def test_each_blocklist_kind_is_normalised_deduplicated_and_sorted(engine: Engine, settings: Settings) -> None:
    alpha, boreal = make_member(engine), make_member(engine)
    sha256 = "A" * 64
    patterns = [
        "[ipv4-addr:value = '203.0.113.9']", "[ipv4-addr:value = '198.51.100.0/24']",
        "[ipv6-addr:value = '2001:DB8:0:0::1']", "[domain-name:value = 'Phish.Example']",
        "[url:value = 'HTTPS://Phish.Example/login']", "[file:hashes.MD5 = 'D41D8CD98F00B204E9800998ECF8427E']",
        f"[file:hashes.'SHA-256' = '{sha256}']", "[email-addr:value = 'Mule@Phish.Example']",
    ]
    submit(engine, settings, alpha, [fresh(p) for p in patterns], tlp="green")
    # the same values again, from another member: one line each
    submit(engine, settings, boreal, [fresh(p) for p in patterns[:4]], tlp="green")
    fraud = [fresh("[x-bank-account:iban = 'NO93 8601 1117 947']"),
             fresh("[x-phone-number:value = '+46 70 123 45 67']"), fresh("[x-bank-account:iban = 'no9386011117947']")]
    submit(engine, settings, alpha, fraud, tlp="green")
    assert blocklist(engine, settings, boreal, "ip") == ["203.0.113.9", "2001:db8::1", "198.51.100.0/24"]
    assert blocklist(engine, settings, boreal, "ipv4") == ["203.0.113.9", "198.51.100.0/24"]
    assert blocklist(engine, settings, boreal, "ipv6") == ["2001:db8::1"]
    assert blocklist(engine, settings, boreal, "domain") == ["phish.example"]
    assert blocklist(engine, settings, boreal, "url") == ["https://phish.example/login"]
    assert blocklist(engine, settings, boreal, "hash") == ["d41d8cd98f00b204e9800998ecf8427e", sha256.lower()]
    assert blocklist(engine, settings, boreal, "sha256") == [sha256.lower()]
    assert blocklist(engine, settings, boreal, "email") == ["mule@phish.example"]
    assert blocklist(engine, settings, boreal, "iban") == ["NO9386011117947"]
    assert blocklist(engine, settings, boreal, "phone") == ["+46701234567"]
    with pytest.raises(Invalid, match="unknown blocklist kind 'ipx'; one of ip, ipv4"):
        blocklist(engine, settings, boreal, "ipx")


def test_stale_and_warninglisted_values_are_left_out_unless_asked_for(engine: Engine, settings: Settings,
                                                                      tmp_path: Path) -> None:
    member = make_member(engine)
    old_only = fresh("[ipv4-addr:value = '203.0.113.1']", days=400)
    old_and_new = [fresh("[ipv4-addr:value = '203.0.113.2']", days=400),
                   fresh("[ipv4-addr:value = '203.0.113.2']", days=2)]
    expired = fresh("[ipv4-addr:value = '203.0.113.3']", valid_until=ago(0.5))
    benign = fresh("[domain-name:value = 'benign.example']")
    bad = fresh("[domain-name:value = 'bad.example']")
    submit(engine, settings, member, [old_only, *old_and_new, expired, benign, bad], tlp="green")
    assert blocklist(engine, settings, member, "ip") == ["203.0.113.2"]
    assert blocklist(engine, settings, member, "ip", include_stale=True) == ["203.0.113.1", "203.0.113.2",
                                                                             "203.0.113.3"]
    with transaction(engine) as conn:
        warninglist_store.load(conn, [benign_list(tmp_path, ["benign.example"])])
    assert blocklist(engine, settings, member, "domain") == ["bad.example"]
    assert blocklist(engine, settings, member, "domain", include_warninglisted=True) == ["bad.example",
                                                                                        "benign.example"]
    with transaction(engine) as conn:
        name = warninglist_store.list_all(conn)[0]["name"]
        warninglist_store.set_enabled(conn, name, False)
    assert blocklist(engine, settings, member, "domain") == ["bad.example", "benign.example"]


def test_a_sighting_the_reader_may_see_keeps_an_old_value_fresh(engine: Engine, settings: Settings) -> None:
    alpha, boreal, outsider = make_member(engine), make_member(engine), make_member(engine)
    old = fresh("[ipv4-addr:value = '203.0.113.50']", days=400)
    submit(engine, settings, alpha, [old], tlp="green")
    sighting = {"type": "sighting", "spec_version": "2.1", "id": f"sighting--{uuid.uuid4()}", "created": ago(1),
                "modified": ago(1), "sighting_of_ref": old["id"], "first_seen": ago(1), "last_seen": ago(1),
                "count": 1}
    submit(engine, settings, boreal, [sighting], tlp="red", recipients=[str(boreal.org_id)])
    assert blocklist(engine, settings, boreal, "ip") == ["203.0.113.50"]
    assert blocklist(engine, settings, outsider, "ip") == []  # it may not see the sighting


def test_rpz_zone(engine: Engine, settings: Settings) -> None:
    member = make_member(engine)
    submit(engine, settings, member, [fresh("[domain-name:value = 'phish.example']"),
                                      fresh("[domain-name:value = 'mule.example']")], tlp="green")
    out = io.BytesIO()
    with transaction(engine, write=False) as conn:
        assert write_rpz(conn, member.reader, settings, out) == 2
    text = out.getvalue().decode()
    assert "$TTL 300\n@ IN SOA localhost. hostmaster.localhost. " in text
    assert text.endswith("mule.example CNAME .\n*.mule.example CNAME .\nphish.example CNAME .\n"
                         "*.phish.example CNAME .\n")


# --- CSV -------------------------------------------------------------------------------------------


def test_csv_columns_quoting_and_formula_guard(engine: Engine, settings: Settings) -> None:
    member = make_member(engine)
    dde = "=cmd|'/ccalc'!a0@evil.example"
    quoted = dde.replace("'", "\\'")
    objs = [fresh(f"[email-addr:value = '{quoted}']", name='=HYPERLINK("http://evil.example","x")',
                  labels=["phishing", "@mention"], confidence=80),
            fresh("[domain-name:value = 'phish.example']", name="Phishing, \"quoted\"\nnew line")]
    submit(engine, settings, member, objs, tlp="amber")
    with transaction(engine, write=False) as conn:
        raw = b"".join(csv_chunks(conn, member.reader, settings))
        unguarded = b"".join(csv_chunks(conn, member.reader, settings, CsvFilter(formula_guard=False)))
    rows = list(csv.reader(io.StringIO(raw.decode(), newline="")))
    assert tuple(rows[0]) == COLUMNS and raw.startswith(b"kind,value,") and b"\r\n" in raw
    by_kind = {r[0]: dict(zip(COLUMNS, r, strict=True)) for r in rows[1:]}
    email, domain = by_kind["email"], by_kind["domain"]
    assert email["value"] == "'" + dde and email["name"].startswith("'=HYPERLINK")
    assert email["labels"] == "phishing;@mention" and email["confidence"] == "80" and email["tlp"] == "amber"
    assert domain["name"] == "Phishing, \"quoted\"\nnew line" and domain["stale"] == "false"
    assert float(domain["decay_score"]) > 0.9 and domain["stix_id"] == objs[1]["id"]
    for row in rows[1:]:
        for cell in row:
            assert not cell or cell[0] not in "=+-@\t\r" or cell.lstrip("+-").replace(".", "").isdigit()
    plain = {r[0]: r for r in csv.reader(io.StringIO(unguarded.decode(), newline=""))}
    assert plain["email"][1] == dde


@pytest.mark.parametrize(("cell", "shown"), [
    ("=1+1", "'=1+1"), ("+46701234567", "+46701234567"), ("-12.5", "-12.5"), ("-x", "'-x"), ("@a", "'@a"),
    ("\tx", "'\tx"), ("'quoted", "''quoted"), ("plain", "plain"), ("", ""),
])
def test_formula_guard(cell: str, shown: str) -> None:
    assert guard(cell) == shown


def test_requests_are_checked_with_helpful_errors(engine: Engine, settings: Settings) -> None:
    with transaction(engine, write=False) as conn:
        for request, message in [
            (ExportRequest(format="xml"), "unknown export format 'xml'; one of stix, misp, csv, txt, rpz"),
            (ExportRequest(format="txt"), "a txt blocklist needs a kind: one of ip, "),
            (ExportRequest(format="txt", kind="ipz"), "unknown blocklist kind 'ipz'"),
            (ExportRequest(format="stix", kind="ip"), "leave out the kind"),
            (ExportRequest(format="rpz", kind="ip"), "RPZ zone holds domains"),
        ]:
            with pytest.raises(Invalid, match=message.replace("(", r"\(")):
                export_to(conn, None, settings, request, io.BytesIO())
    with pytest.raises(Invalid, match="not a timestamp"):
        parse_since("yesterday", 0)


# --- nothing the policy forbids, in any export -----------------------------------------------------

POOL = ["198.51.100.7", "203.0.113.9", "10.1.2.0/24", "mule.example"]
KINDS = {"198.51.100.7": "ipv4", "203.0.113.9": "ipv4", "10.1.2.0/24": "cidr", "mule.example": "domain"}
RECENT = 10**15 * 2  # far ahead of now: every row is fresh


@st.composite
def export_worlds(draw: st.DrawFn) -> tuple[World, tuple[frozenset[int], ...]]:
    world = draw(worlds(max_objects=10))
    values = tuple(draw(st.frozensets(st.integers(0, len(POOL) - 1), min_size=1, max_size=2))
                   for _ in world.objects)
    return world, values


def _store(conn: Connection, world: World, values: tuple[frozenset[int], ...]) -> Any:
    ids = store_world(conn, world)
    insert_items(conn, [(i + 1, ids.sharing(obj)) for i, obj in enumerate(world.objects)])
    for i, _obj in enumerate(world.objects):
        sid = f"indicator--{uuid.UUID(int=i + 1)}"
        conn.execute(update(stix_objects).where(stix_objects.c.date_added == i + 1).values(
            stix_id=sid, modified=RECENT, created=RECENT,
            body=orjson.dumps({"type": "indicator", "id": sid, "created_by_ref": f"identity--{uuid.UUID(int=i)}"}
                              ).decode()))
    rows = [{"kind": KINDS[POOL[v]], "value": POOL[v], "date_added": i + 1, "warninglists": None}
            for i, vals in enumerate(values) for v in sorted(vals)]
    if rows:
        conn.execute(insert(observables), rows)
    return ids


@given(case=export_worlds())
@hsettings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
def test_exports_hold_only_what_the_reader_may_see(engine: Engine, settings: Settings,
                                                   case: tuple[World, tuple[frozenset[int], ...]]) -> None:
    world, values = case
    with rolled_back(engine) as conn:
        ids = _store(conn, world, values)
        for who in readers_of(world):
            reader = ids.reader(world, who)
            seen = [i for i, obj in enumerate(world.objects) if oracle_visible(world, obj, who)]
            expected_values = {POOL[v] for i in seen for v in values[i]}
            out = io.BytesIO()
            write_blocklist(conn, reader, settings, "ip", out, include_warninglisted=True)
            got = out.getvalue().decode().splitlines()
            assert got == sorted(set(got), key=got.index)  # no value twice
            assert set(got) == {v for v in expected_values if KINDS[v] != "domain"}, who
            out = io.BytesIO()
            write_blocklist(conn, reader, settings, "domain", out, include_warninglisted=True)
            assert set(out.getvalue().decode().splitlines()) == {v for v in expected_values if v == "mule.example"}
            bundle = json.loads(b"".join(bundle_chunks(conn, reader, settings, StixFilter())))
            assert {o["id"] for o in bundle["objects"]} == {f"indicator--{uuid.UUID(int=i + 1)}" for i in seen}
            for o in bundle["objects"]:
                i = int(uuid.UUID(o["id"].split("--")[1])) - 1
                hidden = not oracle_creator_visible(world.objects[i], who)
                assert (o["created_by_ref"] == settings.instance_identity_id) is hidden
            rows = list(csv.DictReader(io.StringIO(b"".join(csv_chunks(
                conn, reader, settings, CsvFilter(include_warninglisted=True))).decode(), newline="")))
            assert {(r["stix_id"], r["value"]) for r in rows} == {
                (f"indicator--{uuid.UUID(int=i + 1)}", POOL[v]) for i in seen for v in values[i]}
            for r in rows:
                i = int(uuid.UUID(r["stix_id"].split("--")[1])) - 1
                assert (r["creator"] == "anonymous member") is (not oracle_creator_visible(world.objects[i], who))
