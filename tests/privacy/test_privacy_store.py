"""Blinded sharing and lookup, legal basis, retention and data-subject requests on a real store,
over a real server (issue 12's bar)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, inspect, select, text

from nordcert.audit.tables import audit_events
from nordcert.clock import now_us
from nordcert.config import Settings
from nordcert.db import transaction
from nordcert.intel.tables import stix_objects
from nordcert.observables.tables import observables
from nordcert.privacy import keys, retention, subjects
from nordcert.privacy.blind_bundle import blind_objects
from nordcert.privacy.blinding import Keyring, blind, lookup_items, new_key
from nordcert.privacy.tables import personal_data
from nordcert.taxii import collections
from tests.factories import Member, bundle, indicator, make_member
from tests.observables.helpers import auth

IBAN_SPACED = "NO93 8601 1117 947"
IBAN = "NO9386011117947"
PHONE = "+4791234567"
DAY_US = 86_400 * 1_000_000


@pytest.fixture
def world(engine: Engine) -> dict[str, Member]:
    return {"alpha": make_member(engine, name="Alpha Bank"), "boreal": make_member(engine, name="Boreal Bank"),
            "fjord": make_member(engine, name="Fjord Bank", country="NO"),
            "admin": make_member(engine, role="cert_admin", sector_type="cert", name="Nordic CERT")}


@pytest.fixture
def ring(engine: Engine) -> Keyring:
    """The sector's keyring (members hold it); the CERT registered its key id and check value."""
    key = new_key("sector-2026a")
    with transaction(engine) as conn:
        keys.register_key(conn, reader=None, key_id=key.key_id, check_value=key.check_value)
    return Keyring((key,), key.key_id)


def _mule(value: str = IBAN_SPACED, **extra: Any) -> dict[str, Any]:
    fields = {"name": f"Mule account {value}", "description": f"Money mule account {value}, invoice fraud", **extra}
    return indicator(pattern=f"[x-bank-account:iban = '{value}']", **fields)


def _submit(http: httpx.Client, m: Member, *objects: Any, expect: int = 201, **params: Any) -> dict[str, Any]:
    r = http.post("/api/v1/objects", json=bundle(*objects), headers=auth(m), params=params)
    assert r.status_code == expect, r.text
    return r.json()  # type: ignore[no-any-return]


def _lookup(http: httpx.Client, m: Member, items: list[Any]) -> list[dict[str, Any]]:
    r = http.post("/api/v1/lookup", json={"values": items}, headers=auth(m))
    assert r.status_code == 200, r.text
    return r.json()["results"]  # type: ignore[no-any-return]


def _found_ids(results: list[dict[str, Any]]) -> set[str]:
    return {m["id"] for r in results for m in r["matches"]}


def _all_text(engine: Engine) -> str:
    """Every value of every row of every table, as text: what the store holds."""
    out: list[str] = []
    with engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                out.append(" ".join(str(v) for v in row))
    return "\n".join(out)


def test_blinded_lookup_matches_blinded_and_key_holders_clear_submissions(
        world: dict[str, Member], ring: Keyring, http: httpx.Client, engine: Engine, settings: Settings) -> None:
    # alpha submits blinded; boreal, a key holder, submits the same value in clear with its blinded
    # form added by the client; fjord looks up blinded without disclosing the account.
    blinded_bundle = blind_objects([_mule()], ring, "replace")
    blinded_id = blinded_bundle[0]["id"]
    _submit(http, world["alpha"], *blinded_bundle, tlp="green")
    clear = _mule("no93-8601-1117-947")
    _submit(http, world["boreal"], *blind_objects([clear], ring, "annotate"), tlp="green")
    unrelated = blind_objects([_mule("NO8330001234567")], ring, "replace")
    _submit(http, world["alpha"], *unrelated, tlp="green")

    results = _lookup(http, world["fjord"], lookup_items([IBAN_SPACED], ring))
    assert _found_ids(results) == {blinded_id, clear["id"]}
    assert results[0]["kind"] == "blinded" and results[0]["reporting_members"] == 2
    # the clear lookup finds the clear submission only: the platform cannot link the blinded one
    assert _found_ids(_lookup(http, world["fjord"], [IBAN])) == {clear["id"]}
    # one blinded value, asked as a bare KEY:KIND:DIGEST with its kind
    one = blind("iban", IBAN, ring.current)
    assert _found_ids(_lookup(http, world["fjord"], [{"kind": "blinded", "value": one}])) == {blinded_id, clear["id"]}
    # and without any key (a different sector's) nothing matches
    stranger = Keyring((new_key("sector-2026a"),), "sector-2026a")
    assert _found_ids(_lookup(http, world["fjord"], lookup_items([IBAN], stranger))) == set()


def test_the_store_never_holds_the_clear_value_of_a_blinded_submission(
        world: dict[str, Member], ring: Keyring, http: httpx.Client, engine: Engine, settings: Settings) -> None:
    account = {"type": "x-bank-account", "spec_version": "2.1", "id": "x-bank-account--5c7f2a8e-3b1d-4e6f-9a0c-1d2e3f4a5b6c",
               "iban": IBAN_SPACED, "account_holder_name": "Kari Nordmann"}
    phone = indicator(pattern=f"[x-phone-number:value = '{PHONE}']", name=f"Vishing caller {PHONE}")
    _submit(http, world["alpha"], *blind_objects([account, _mule(), phone], ring, "replace"), tlp="amber")
    forms = [IBAN, IBAN_SPACED, "86011117947", PHONE, "91234567", "Nordmann"]
    held = _all_text(engine)
    assert blind("iban", IBAN, ring.current).split(":")[2] in held  # the digest is there
    assert not [f for f in forms if f.lower() in held.lower()]
    if settings.database_url is None:  # SQLite: scan the database file and its write-ahead log
        engine.dispose()
        raw = b"".join(p.read_bytes() for p in Path(settings.home).glob("nordcert.sqlite3*"))
        assert raw and not [f for f in forms if f.encode() in raw]
        assert "8601 1117".encode("utf-16-le") not in raw


def test_keys_must_be_registered_and_rotation_keeps_old_values_findable_until_they_expire(
        world: dict[str, Member], ring: Keyring, http: httpx.Client, engine: Engine, settings: Settings) -> None:
    unregistered = Keyring((new_key("rogue-1"),), "rogue-1")
    refused = _submit(http, world["alpha"], *blind_objects([_mule()], unregistered, "replace"), expect=422)
    assert "not registered" in refused["details"][0]["reason"] and "sector-2026a" in refused["details"][0]["reason"]

    old = blind_objects([_mule()], ring, "replace")
    _submit(http, world["alpha"], *old, tlp="green")
    # rotation: the members add a key, the CERT registers it and retires the old one
    rotated = ring.with_new_key("sector-2026b")
    with transaction(engine) as conn:
        keys.register_key(conn, reader=world["admin"].reader, key_id="sector-2026b",
                          check_value=rotated.current.check_value)
        keys.retire_key(conn, reader=world["admin"].reader, key_id="sector-2026a")
    late = _submit(http, world["boreal"], *blind_objects([_mule()], ring, "replace"), expect=422)
    assert "retired" in late["details"][0]["reason"]
    new = blind_objects([_mule()], rotated, "replace")
    _submit(http, world["boreal"], *new, tlp="green")
    assert _found_ids(_lookup(http, world["fjord"], lookup_items([IBAN], rotated))) == {old[0]["id"], new[0]["id"]}

    # a year and a day later both have expired and been purged: nothing matches any more
    with transaction(engine) as conn:
        done = retention.purge_expired(conn, settings, now=now_us() + 366 * DAY_US)
    assert done["versions"] == 2 and set(done["objects"]) == {old[0]["id"], new[0]["id"]}
    assert _found_ids(_lookup(http, world["fjord"], lookup_items([IBAN], rotated))) == set()


def test_legal_basis_and_expiry_are_recorded_and_required(
        world: dict[str, Member], http: httpx.Client, engine: Engine, settings: Settings) -> None:
    plain = indicator(pattern="[ipv4-addr:value = '198.51.100.9']")
    mule = _mule()
    _submit(http, world["alpha"], plain, mule, legal_basis="legal-obligation")
    with transaction(engine, write=False) as conn:
        rows = conn.execute(select(personal_data, stix_objects.c.date_added.label("key"))
                            .join(stix_objects, stix_objects.c.date_added == personal_data.c.date_added)).all()
    (row,) = rows  # the indicator on an IP holds no personal data
    assert (row.stix_id, row.legal_basis, row.kinds) == (mule["id"], "legal-obligation", "iban")
    assert row.expires_at == row.date_added + 365 * DAY_US
    bad = http.post("/api/v1/objects", json=bundle(_mule()), headers=auth(world["alpha"]),
                    params={"legal_basis": "because"})
    assert bad.status_code == 422 and "legal basis 'because' is not one of" in bad.json()["message"]
    r = http.get("/api/v1/privacy/legal-bases", headers=auth(world["fjord"]))
    assert r.status_code == 200 and r.json()["default"] == "fraud-prevention"
    assert r.json()["retention_days"]["iban"] == 365


def test_without_a_default_basis_personal_data_needs_one(world: dict[str, Member], engine: Engine,
                                                         settings: Settings) -> None:
    from nordcert.intel.ingest import ingest
    from nordcert.intel.submission import submission_for

    strict = settings.model_copy(update={"default_legal_basis": ""})
    with transaction(engine) as conn:
        sub = submission_for(conn, world["alpha"].reader)
        with pytest.raises(Exception) as err:
            ingest(conn, [_mule()], sub, strict)
    assert "needs a legal basis" in str(getattr(err.value, "details", err.value))
    with transaction(engine) as conn:
        sub = submission_for(conn, world["alpha"].reader, legal_basis="public-task")
        assert ingest(conn, [_mule(), indicator()], sub, strict).created == 2


def test_minimisation_reduces_and_refuses(world: dict[str, Member], http: httpx.Client) -> None:
    account = {"type": "x-bank-account", "spec_version": "2.1", "id": "x-bank-account--7d1e2f3a-4b5c-4d6e-8f90-a1b2c3d4e5f6",
               "iban": IBAN, "account_holder_name": "Kari Nordmann", "date_of_birth": "1990-01-01", "bic": "DNBANOKK"}
    done = _submit(http, world["alpha"], account)
    reasons = [w["reason"] for w in done["warnings"]]
    assert "reduced: account_holder_name removed (personal data not needed to match)" in reasons
    assert any("date_of_birth removed" in r for r in reasons)
    stored = http.get(f"/api/v1/objects/{account['id']}", headers=auth(world["alpha"])).json()["object"]
    assert "account_holder_name" not in stored and stored["iban"] == IBAN
    card = {"type": "x-payment-card", "spec_version": "2.1", "id": "x-payment-card--8e2f3a4b-5c6d-4e7f-9a01-b2c3d4e5f6a7",
            "bin": "457173", "last4": "1234", "cvv": "123"}
    refused = _submit(http, world["alpha"], card, expect=422)
    assert "card authentication data is never shared" in refused["details"][0]["reason"]
    assert "123" not in json.dumps(refused["details"][0]["reason"].split(":")[1])
    pan_text = _mule(description="paid with card 4111 1111 1111 1111")
    refused = _submit(http, world["alpha"], pan_text, expect=422)
    assert "full payment card number" in refused["details"][0]["reason"] and "4111" not in json.dumps(refused)
    masked = {**card, "id": "x-payment-card--9f3a4b5c-6d7e-4f80-8a12-c3d4e5f6a7b8"}
    masked.pop("cvv")
    _submit(http, world["alpha"], masked)
    found = _lookup(http, world["boreal"], [{"kind": "card", "value": "457173******1234"}])
    assert _found_ids(found) == {masked["id"]}


def _taxii_collection(engine: Engine, admin: Member) -> str:
    with transaction(engine) as conn:
        coll = collections.create_collection(conn, actor=admin.reader, title="Sector", kind="sector",
                                             read_all=True, write_all=False)
    return str(coll["id"])


def test_expired_objects_leave_every_read_path_and_the_index(
        world: dict[str, Member], http: httpx.Client, engine: Engine, settings: Settings) -> None:
    coll = _taxii_collection(engine, world["admin"])
    keep = indicator(pattern="[ipv4-addr:value = '198.51.100.77']", name="kept C2")
    v1 = _mule(modified="2026-01-01T00:00:00.000Z")
    v2 = {**v1, "modified": "2026-02-01T00:00:00.000Z", "confidence": 90}
    phone = indicator(pattern=f"[x-phone-number:value = '{PHONE}']", name="Vishing caller")
    _submit(http, world["alpha"], keep, v1, phone, tlp="green")
    _submit(http, world["alpha"], v2, tlp="green")
    reader = world["boreal"]
    assert http.get(f"/api/v1/objects/{v1['id']}", headers=auth(reader)).status_code == 200
    with transaction(engine) as conn:
        assert retention.purge_expired(conn, settings, now=now_us() + 100 * DAY_US)["versions"] == 0
        done = retention.purge_expired(conn, settings, now=now_us() + 366 * DAY_US)
    assert done["versions"] == 3 and done["kinds"] == {"iban": 2, "phone": 1}
    for gone in (v1["id"], phone["id"]):
        assert http.get(f"/api/v1/objects/{gone}", headers=auth(reader)).status_code == 404
        assert http.get(f"/api/v1/objects/{gone}/versions", headers=auth(reader)).status_code == 404
        t = http.get(f"/taxii2/api/collections/{coll}/objects/{gone}/", headers={**auth(reader),
                     "Accept": "application/taxii+json;version=2.1"})
        assert t.status_code == 404
    listed = http.get("/api/v1/objects", headers=auth(reader), params={"limit": 100}).json()
    assert [o["object"]["id"] for o in listed["objects"]] == [keep["id"]]
    assert http.get("/api/v1/objects", headers=auth(reader), params={"q": "Mule"}).json()["objects"] == []
    page = http.get(f"/taxii2/api/collections/{coll}/objects/", headers={**auth(reader),
                    "Accept": "application/taxii+json;version=2.1"}).json()
    assert [o["id"] for o in page["objects"]] == [keep["id"]]
    assert _found_ids(_lookup(http, reader, [IBAN, PHONE])) == set()
    feed = http.get("/feeds/stix", headers=auth(reader))
    assert feed.status_code == 200 and v1["id"] not in feed.text and keep["id"] in feed.text
    with transaction(engine, write=False) as conn:
        assert conn.execute(select(observables.c.kind)).scalars().all() == ["ipv4"]
        assert conn.execute(select(personal_data)).all() == []
        (event,) = conn.execute(select(audit_events).where(audit_events.c.action == "personal_data.expired")).all()
    assert event.actor_email == "system: retention" and v1["id"] in event.details
    assert IBAN not in event.details and "8601" not in event.details and PHONE not in event.details


def test_data_subject_requests_find_every_copy_versions_included(
        world: dict[str, Member], ring: Keyring, http: httpx.Client, engine: Engine, settings: Settings) -> None:
    v1 = _mule(modified="2026-01-01T00:00:00.000Z")
    v2 = {**v1, "modified": "2026-02-01T00:00:00.000Z", "description": "still active"}
    v3 = {**v1, "modified": "2026-03-01T00:00:00.000Z", "pattern": "[x-bank-account:iban = 'NO8330001234567']",
          "name": "another account", "description": "the first was closed"}
    _submit(http, world["alpha"], v1, tlp="green")
    _submit(http, world["alpha"], v2, tlp="green")
    _submit(http, world["alpha"], v3, tlp="green")  # the value is no longer in the latest version
    other = _mule("no93 8601 1117 947")
    _submit(http, world["boreal"], other, tlp="red", recipient=[world["fjord"].org_name])
    blinded = blind_objects([_mule()], ring, "replace")
    _submit(http, world["fjord"], *blinded, tlp="amber")
    unrelated = _mule("NO8330001234567")
    _submit(http, world["fjord"], unrelated, tlp="green")

    admin = auth(world["admin"])
    ask = {"values": [{"kind": "iban", "value": IBAN_SPACED}, {"kind": "blinded", "value": blind("iban", IBAN, ring.current)}]}
    r = http.post("/api/v1/privacy/subjects/search", json=ask, headers=admin)
    assert r.status_code == 200, r.text
    found = {o["id"]: o for o in r.json()["objects"]}
    assert set(found) == {v1["id"], other["id"], blinded[0]["id"]}
    holding = [v["holds_value"] for v in found[v1["id"]]["versions"]]
    assert holding == [True, True, False] and r.json()["holding"] == 4
    assert found[other["id"]]["creator"] == "Boreal Bank"
    assert http.post("/api/v1/privacy/subjects/search", json=ask, headers=auth(world["alpha"])).status_code == 403

    exported = http.post("/api/v1/privacy/subjects/export", json=ask, headers=admin).json()
    assert sorted(o["modified"] for o in exported["objects"] if o["id"] == v1["id"]) == [
        v1["modified"], v2["modified"], v3["modified"]]
    assert len(exported["objects"]) == 5

    refused = http.post("/api/v1/privacy/subjects/erase", json={**ask, "reason": " "}, headers=admin)
    assert refused.status_code == 422
    erased = http.post("/api/v1/privacy/subjects/erase", json={**ask, "reason": "DSR-2026-17"}, headers=admin).json()
    assert set(erased["objects"]) == set(found) and erased["versions"] == 5
    assert http.post("/api/v1/privacy/subjects/search", json=ask, headers=admin).json()["objects"] == []
    assert http.get(f"/api/v1/objects/{unrelated['id']}", headers=auth(world["fjord"])).status_code == 200
    trail = http.get("/api/v1/audit", headers=admin).json()["events"]
    actions = [e["action"] for e in trail]
    assert actions[:4] == ["data_subject.search", "data_subject.erase", "data_subject.export", "data_subject.search"]
    assert {"data_subject.erase", "data_subject.export", "data_subject.search", "blinding_key.registered"} <= set(actions)
    text_of_trail = json.dumps(trail)
    assert IBAN not in text_of_trail and "8601" not in text_of_trail and "DSR-2026-17" in text_of_trail
    assert http.get("/api/v1/audit", headers=auth(world["alpha"])).status_code == 403
    with transaction(engine, write=False) as conn:
        assert subjects.find(conn, reader=None, values=[IBAN], settings=settings, audit=False)["objects"] == []


def test_the_audit_trail_is_append_only(world: dict[str, Member], ring: Keyring, engine: Engine) -> None:
    from sqlalchemy.exc import DBAPIError

    for statement in ("UPDATE audit_events SET action = 'x'", "DELETE FROM audit_events"):
        with pytest.raises(DBAPIError, match="append-only"), transaction(engine) as conn:
            conn.execute(text(statement))
    with transaction(engine, write=False) as conn:
        actions = conn.execute(select(audit_events.c.action)).scalars().all()
    # the key's registration, and the world's organisations, users and tokens (administrative changes) are all there
    assert {"blinding_key.registered", "organisation.created", "user.created", "token.created"} <= set(actions)


def test_backfill_records_what_was_stored_before_records_were_kept(
        world: dict[str, Member], engine: Engine, settings: Settings) -> None:
    from sqlalchemy import delete

    from nordcert.intel.ingest import ingest
    from nordcert.intel.submission import submission_for

    with transaction(engine) as conn:
        sub = submission_for(conn, world["alpha"].reader)
        ingest(conn, [_mule(), indicator(), indicator(pattern=f"[x-phone-number:value = '{PHONE}']")], sub, settings)
        conn.execute(delete(personal_data))  # as a store upgraded from before this release
    with transaction(engine) as conn:
        done = retention.backfill(conn, settings, legal_basis="public-task")
        again = retention.backfill(conn, settings)
    assert (done["scanned"], done["recorded"], done["expired_already"]) == (3, 2, 0)
    assert (again["scanned"], again["recorded"]) == (1, 0)  # only the indicator on an IP is left unrecorded
    with transaction(engine, write=False) as conn:
        assert sorted(conn.execute(select(personal_data.c.kinds, personal_data.c.legal_basis)).all()) == [
            ("iban", "public-task"), ("phone", "public-task")]
    strict = settings.model_copy(update={"default_legal_basis": ""})
    with pytest.raises(Exception, match="name the legal basis"), transaction(engine) as conn:
        retention.backfill(conn, strict)
