"""The screening lookup over HTTP (GET and POST /api/v1/lookup): detection, matching rules, errors
per value, who reported a value as the sharing policy allows, warninglists, decay and revocation."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from nordcert.accounts import service as accounts
from nordcert.config import Settings
from nordcert.db import transaction
from nordcert.observables import warninglist_store
from nordcert.observables.warninglists import default_lists_dir
from tests.factories import Member, make_member, stix_id
from tests.observables.helpers import IBAN
from tests.observables.helpers import ago as _ago
from tests.observables.helpers import auth as _h
from tests.observables.helpers import fresh as _fresh
from tests.observables.helpers import submit as _submit
from tests.server import running_server

PAN = "5500005555555559"  # a card-scheme test number (passes Luhn)
PAN_SPACED = "5500 0055 5555 5559"
SHA256 = "4a5c1e2b" * 8





def _ip(value: str, **extra: Any) -> dict[str, Any]:
    return _fresh(f"[ipv4-addr:value = '{value}']", **extra)



def _one(http: httpx.Client, m: Member, value: str, **params: Any) -> dict[str, Any]:
    r = http.get("/api/v1/lookup", params={"value": value, **params}, headers=_h(m))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["summary"]["values"] == 1
    (result,) = body["results"]
    return result  # type: ignore[no-any-return]


def _many(http: httpx.Client, m: Member, values: list[Any], **options: Any) -> dict[str, Any]:
    r = http.post("/api/v1/lookup", json={"values": values, **options}, headers=_h(m))
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def _short(engine: Engine, m: Member) -> str:
    with transaction(engine, write=False) as conn:
        return str(accounts.get_organisation(conn, m.org_id)["short_name"])



def test_one_value_by_get(world: dict[str, Member], http: httpx.Client, engine: Engine) -> None:
    ind = _ip("185.220.101.7", labels=["c2", "tor"], confidence=80, name="Tor exit used for ATO")
    _submit(http, world["alpha"], ind, tlp="green")
    result = _one(http, world["boreal"], " 185.220.101.7 ")
    (match,) = result.pop("matches")
    assert result == {"index": 0, "input": " 185.220.101.7 ", "kind": "ipv4", "value": "185.220.101.7",
                      "found": True, "warninglists": [], "reporting_members": 1, "other_members": 0,
                      "reported_by_you": False}
    score = match.pop("decay_score")
    assert match == {"id": ind["id"], "type": "indicator", "name": "Tor exit used for ATO", "tlp": "green",
                     "confidence": 80, "labels": ["c2", "tor"], "creator": _short(engine, world["alpha"]),
                     "first_seen": ind["valid_from"], "last_seen": ind["modified"], "valid_until": None,
                     "sightings": 0, "stale": False}
    assert score == pytest.approx(0.5 ** (1 / 30), abs=0.002)  # one day old, ipv4 half-life 30 days
    assert _one(http, world["alpha"], "185.220.101.7")["reported_by_you"] is True
    by_kind = _one(http, world["boreal"], "185.220.101.7", kind="ipv4")
    assert by_kind["found"] is True and by_kind["input"] == {"kind": "ipv4", "value": "185.220.101.7"}
    unknown = _one(http, world["boreal"], "185.220.101.8")
    assert (unknown["found"], unknown["matches"], unknown["reporting_members"]) == (False, [], 0)


def test_many_values_of_mixed_kinds_are_detected(world: dict[str, Member], http: httpx.Client) -> None:
    alpha = world["alpha"]
    objects = [
        _fresh(f"[x-bank-account:iban = '{IBAN}']", name="mule IBAN"),
        _fresh("[x-phone-number:value = '+46701234567']", name="vishing caller"),
        _fresh("[domain-name:value = 'alphabank-secure-login.example']", name="phishing domain"),
        _fresh(f"[file:hashes.'SHA-256' = '{SHA256}']", name="dropper"),
        _fresh("[x-payment-card:bin = '550000']", name="compromised BIN"),
        _fresh("[autonomous-system:number = 64500]", name="bulletproof AS"),
        _fresh("[email-addr:value = 'ceo@alphabank-secure-login.example']", name="BEC sender"),
    ]
    _submit(http, alpha, *objects, tlp="green")
    values: list[Any] = [
        "NO93 8601 1117 947", "+46 70 123 45 67", "AlphaBank-Secure-Login.Example.", SHA256.upper(),
        {"kind": "bin", "value": "550000"}, "AS64500", "CEO@alphabank-secure-login.example",
        {"kind": "phone", "value": "+46 70 123 45 68"}, "192.0.2.55",
    ]
    body = _many(http, world["boreal"], values)
    got = [(r["index"], r["kind"], r["value"], r["found"], [m["name"] for m in r["matches"]]) for r in body["results"]]
    assert got == [
        (0, "iban", IBAN, True, ["mule IBAN"]),
        (1, "phone", "+46701234567", True, ["vishing caller"]),
        (2, "domain", "alphabank-secure-login.example", True, ["phishing domain"]),
        (3, "sha256", SHA256, True, ["dropper"]),
        (4, "bin", "550000", True, ["compromised BIN"]),
        (5, "asn", "AS64500", True, ["bulletproof AS"]),
        (6, "email", "ceo@alphabank-secure-login.example", True, ["BEC sender"]),
        (7, "phone", "+46701234568", False, []),
        (8, "ipv4", "192.0.2.55", False, []),
    ]
    assert [r["input"] for r in body["results"]][:2] == ["NO93 8601 1117 947", "+46 70 123 45 67"]
    assert body["summary"] == {"values": 9, "matched": 7, "errors": 0}


def test_errors_are_per_value_and_a_card_number_is_never_echoed(world: dict[str, Member],
                                                                 http: httpx.Client) -> None:
    _submit(http, world["alpha"], _ip("185.220.101.7"), tlp="green")
    values: list[Any] = [
        {"kind": "colour", "value": "red"},
        "185.220.101.7",
        {"kind": "iban", "value": "NO93 8601 1117 948"},
        PAN_SPACED,
        {"kind": "bin", "value": PAN},
        "not a value!",
        {"kind": "IPV4", "value": "999.1.1.1"},
    ]
    r = http.post("/api/v1/lookup", json={"values": values}, headers=_h(world["boreal"]))
    assert r.status_code == 200
    assert PAN not in r.text and PAN_SPACED not in r.text and PAN[6:12] not in r.text
    results = r.json()["results"]
    assert results[0] == {"index": 0, "input": {"kind": "colour", "value": "red"},
                          "error": "unknown kind 'colour'; one of ipv4, ipv6, cidr, domain, url, email, md5, sha1, "
                                   "sha256, sha512, iban, bic, bin, wallet, phone, asn, card, blinded"}
    assert results[1]["found"] is True and "error" not in results[1]
    assert results[2] == {"index": 2, "input": {"kind": "iban", "value": "NO93 8601 1117 948"},
                          "error": "invalid iban: check digits do not match"}
    assert results[3]["input"] == results[4]["input"] == "550000…5559"
    assert "full payment card number (PAN) is not accepted" in results[3]["error"]
    assert results[4]["error"] == results[3]["error"]
    assert set(results[3]) == {"index", "input", "error"}
    assert results[5]["error"] == "not a value of any kind we index (give its kind to see why)"
    assert results[6]["error"] == "invalid ipv4: an octet is greater than 255"
    assert r.json()["summary"] == {"values": 7, "matched": 1, "errors": 6}
    one = http.get("/api/v1/lookup", params={"value": PAN}, headers=_h(world["boreal"]))
    assert one.status_code == 200 and PAN not in one.text
    assert one.json()["results"][0]["input"] == "550000…5559"


def test_an_address_matches_a_reported_range(world: dict[str, Member], http: httpx.Client) -> None:
    net = _fresh("[ipv4-addr:value = '203.0.113.0/24']", name="bulletproof hosting range")
    net6 = _fresh("[ipv6-addr:value = '2001:db8:abcd::/48']", name="v6 range")
    exact = _ip("203.0.113.77", name="the address itself")
    assert _one(http, world["boreal"], "203.0.113.77")["found"] is False  # asked before any range is known
    _submit(http, world["alpha"], net, net6, exact, tlp="green")
    inside = _one(http, world["boreal"], "203.0.113.77")
    by_id = {m["id"]: m for m in inside["matches"]}
    assert set(by_id) == {net["id"], exact["id"]}
    assert by_id[net["id"]]["matched"] == {"kind": "cidr", "value": "203.0.113.0/24"}
    assert "matched" not in by_id[exact["id"]]
    smaller = _one(http, world["boreal"], "203.0.113.128/25")
    assert (smaller["kind"], [m["id"] for m in smaller["matches"]]) == ("cidr", [net["id"]])
    assert _one(http, world["boreal"], "2001:db8:abcd:1::9")["matches"][0]["matched"] == {
        "kind": "cidr", "value": "2001:db8:abcd::/48"}
    in_url = _one(http, world["boreal"], "http://203.0.113.80/gate.php")
    assert [(m["id"], m["matched"]) for m in in_url["matches"]] == [(net["id"], {"kind": "cidr",
                                                                                 "value": "203.0.113.0/24"})]
    assert _one(http, world["boreal"], "203.0.114.1")["found"] is False
    assert _one(http, world["boreal"], "203.0.112.0/23")["found"] is False  # a larger range is not inside


def test_a_url_matches_its_host(world: dict[str, Member], http: httpx.Client) -> None:
    domain = _fresh("[domain-name:value = 'phish.example']")
    address = _ip("185.220.101.9")
    _submit(http, world["alpha"], domain, address, tlp="green")
    by_domain = _one(http, world["boreal"], "https://PHISH.example/login?next=%2Fhome")
    assert by_domain["kind"] == "url" and by_domain["found"] is True
    assert by_domain["matches"][0]["matched"] == {"kind": "domain", "value": "phish.example"}
    by_address = _one(http, world["boreal"], "http://185.220.101.9:8080/gate.php")
    assert by_address["matches"][0]["id"] == address["id"]
    assert by_address["matches"][0]["matched"] == {"kind": "ipv4", "value": "185.220.101.9"}
    assert _one(http, world["boreal"], "https://login.phish.example/")["found"] is False


def test_subdomains_match_reported_parents_only_when_asked(world: dict[str, Member], http: httpx.Client) -> None:
    parent = _fresh("[domain-name:value = 'evil.example']")
    _submit(http, world["alpha"], parent, tlp="green")
    boreal = world["boreal"]
    assert _one(http, boreal, "login.evil.example")["found"] is False
    asked = _one(http, boreal, "login.evil.example", subdomains="true")
    assert asked["matches"][0]["id"] == parent["id"]
    assert asked["matches"][0]["matched"] == {"kind": "domain", "value": "evil.example"}
    values = ["a.b.evil.example", "https://secure.evil.example/x", "ceo@mail.evil.example", "notevil.example"]
    without = _many(http, boreal, values)
    assert [r["found"] for r in without["results"]] == [False, False, False, False]
    found = _many(http, boreal, values, subdomains=True)
    assert [r["found"] for r in found["results"]] == [True, True, True, False]
    assert found["summary"]["matched"] == 3


def test_too_many_values_and_no_values(world: dict[str, Member], settings: Settings, engine: Engine) -> None:
    small = settings.model_copy(update={"max_lookup_values": 3})
    with running_server(small, engine) as url, httpx.Client(base_url=url, timeout=30) as http:
        h = _h(world["alpha"])
        r = http.post("/api/v1/lookup", json={"values": ["192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4"]},
                      headers=h)
        assert r.status_code == 422
        assert r.json() == {"error": "invalid", "message": "at most 3 values per lookup, not 4", "details": []}
        assert http.post("/api/v1/lookup", json={"values": ["192.0.2.1"] * 3}, headers=h).status_code == 200
        empty = http.post("/api/v1/lookup", json={"values": []}, headers=h)
        assert empty.status_code == 422
        assert empty.json() == {"error": "invalid", "message": "give at least one value to look up", "details": []}
        shapeless = http.post("/api/v1/lookup", json={"values": "192.0.2.1"}, headers=h)
        assert shapeless.status_code == 422 and shapeless.json()["error"] == "invalid"


def test_an_integer_beyond_64_bits_is_refused_not_a_server_error(world: dict[str, Member],
                                                                  http: httpx.Client) -> None:
    """Found by the schema fuzzer: the answer repeats each value as given, and JSON numbers beyond
    64 bits cannot be written back, so such a value is refused up front, naming where it is."""
    h = _h(world["alpha"])
    for huge in (2**63, -(2**63) - 1, -361455323304820456114998707486720):
        r = http.post("/api/v1/lookup", json={"values": [{"kind": "asn", "value": huge}]}, headers=h)
        assert r.status_code == 422, r.text
        assert r.json()["error"] == "invalid"
        assert any("values" in str(d.get("loc", d)) for d in r.json()["details"]), r.json()
    edge = http.post("/api/v1/lookup", json={"values": [{"kind": "asn", "value": 2**63 - 1},
                                                        {"kind": "bin", "value": -5}]}, headers=h)
    assert edge.status_code == 200  # in range: each value answered, a bad one with an error of its own
    assert [bool(v.get("error")) for v in edge.json()["results"]] == [True, True]


def test_authentication_is_required(world: dict[str, Member], http: httpx.Client) -> None:
    _submit(http, world["alpha"], _ip("185.220.101.7"), tlp="clear")
    for r in (http.get("/api/v1/lookup", params={"value": "185.220.101.7"}),
              http.post("/api/v1/lookup", json={"values": ["185.220.101.7"]}),
              http.get("/api/v1/lookup", params={"value": "185.220.101.7"},
                       headers={"Authorization": "Bearer nct_not-a-token"})):
        assert r.status_code == 401
        assert r.json()["error"] == "unauthenticated"
        assert "185.220.101.7" not in r.text


def test_reporting_members_follow_the_sharing_policy(world: dict[str, Member], http: httpx.Client,
                                                     engine: Engine) -> None:
    value = "185.220.101.50"
    alpha, boreal, outsider, fjord = (world[k] for k in ("alpha", "boreal", "outsider", "fjord"))
    by_alpha, by_boreal, by_outsider, by_fjord = _ip(value), _ip(value), _ip(value), _ip(value)
    _submit(http, alpha, by_alpha, tlp="amber")  # AMBER without a group: every member sees it
    _submit(http, boreal, by_boreal, tlp="amber+strict")  # its own organisation only
    _submit(http, outsider, by_outsider, tlp="amber", group="SE banks")  # SE banks only, counted elsewhere
    _submit(http, fjord, by_fjord, tlp="red")  # never counted outside its audience

    def members(m: Member) -> tuple[set[str], int, int, bool]:
        r = http.get("/api/v1/lookup", params={"value": value}, headers=_h(m))
        if m is not fjord:
            assert _short(engine, fjord) not in r.text and by_fjord["id"] not in r.text
        result = r.json()["results"][0]
        return ({x["id"] for x in result["matches"]}, result["reporting_members"], result["other_members"],
                result["reported_by_you"])

    assert members(alpha) == ({by_alpha["id"]}, 2, 1, True)  # alpha; the SE group's AMBER counted
    assert members(boreal) == ({by_alpha["id"], by_boreal["id"]}, 3, 1, True)
    assert members(outsider) == ({by_alpha["id"], by_outsider["id"]}, 2, 0, True)
    assert members(fjord) == ({by_alpha["id"], by_outsider["id"], by_fjord["id"]}, 3, 0, True)
    newcomer = make_member(engine)
    assert members(newcomer) == ({by_alpha["id"]}, 2, 1, False)
    alpha_view = http.get("/api/v1/lookup", params={"value": value}, headers=_h(alpha)).text
    assert _short(engine, outsider) not in alpha_view and by_outsider["id"] not in alpha_view
    assert _short(engine, boreal) not in alpha_view


def test_warninglists_in_the_answer(world: dict[str, Member], http: httpx.Client, engine: Engine) -> None:
    before = _one(http, world["alpha"], "10.1.2.3")
    assert before["warninglists"] == []
    with transaction(engine) as conn:
        warninglist_store.load(conn, [default_lists_dir()])
    _submit(http, world["boreal"], _ip("10.1.2.3", name="internal beacon"), tlp="green")
    body = _many(http, world["alpha"], ["10.1.2.3", "google.com", "d41d8cd98f00b204e9800998ecf8427e",
                                        "185.220.101.7", "https://bit.ly/3xYz", "soc@mailinator.com"])
    assert [r["warninglists"] for r in body["results"]] == [
        ["rfc1918", "rfc5735"], ["cloudflare-top10k", "google"], ["common-ioc-false-positive", "empty-hashes"], [],
        ["url-shortener"], ["common-contact-emails", "disposable-email"],
    ]
    assert body["results"][0]["found"] is True
    with transaction(engine) as conn:
        warninglist_store.set_enabled(conn, "rfc5735", False)
    assert _one(http, world["alpha"], "10.1.2.3")["warninglists"] == ["rfc1918"]


def test_stale_matches_are_marked_and_can_be_left_out(world: dict[str, Member], http: httpx.Client,
                                                      settings: Settings) -> None:
    expired = _ip("185.220.101.60", days=2, valid_until=_ago(1), name="expired")
    old = _ip("185.220.101.60", days=120, name="four half-lives old")
    fresh = _ip("185.220.101.60", name="fresh")
    _submit(http, world["alpha"], expired, old, fresh, tlp="green")
    result = _one(http, world["boreal"], "185.220.101.60")
    by_name = {m["name"]: m for m in result["matches"]}
    assert [m["name"] for m in result["matches"]] == ["fresh", "expired", "four half-lives old"]  # last seen first
    assert (by_name["expired"]["stale"], by_name["expired"]["valid_until"]) == (True, expired["valid_until"])
    assert by_name["expired"]["decay_score"] > 0.9  # stale because valid_until has passed
    assert by_name["four half-lives old"]["stale"] is True
    assert by_name["four half-lives old"]["decay_score"] == pytest.approx(0.5 ** 4, abs=0.002)
    assert by_name["fresh"]["stale"] is False
    live = _one(http, world["boreal"], "185.220.101.60", include_stale="false")
    assert [m["name"] for m in live["matches"]] == ["fresh"]
    only_stale = _ip("185.220.101.61", days=120)
    _submit(http, world["alpha"], only_stale, tlp="green")
    dropped = _many(http, world["boreal"], ["185.220.101.61"], include_stale=False)["results"][0]
    assert (dropped["found"], dropped["matches"]) == (False, [])
    # A recent sighting makes an old indicator current again.
    r = http.post(f"/api/v1/objects/{only_stale['id']}/sightings", json={"count": 2}, headers=_h(world["boreal"]))
    assert r.status_code == 201
    (seen,) = _one(http, world["boreal"], "185.220.101.61")["matches"]
    assert (seen["stale"], seen["sightings"], seen["last_seen"]) == (False, 2, r.json()["sighting"]["last_seen"])


def test_a_longer_half_life_keeps_a_match_fresh(world: dict[str, Member], settings: Settings,
                                                engine: Engine) -> None:
    slow = settings.model_copy(update={"decay_half_life_days": {"ipv4": 1000}})
    with running_server(slow, engine) as url, httpx.Client(base_url=url, timeout=30) as http:
        _submit(http, world["alpha"], _ip("185.220.101.62", days=120), tlp="green")
        (match,) = _one(http, world["boreal"], "185.220.101.62")["matches"]
        assert match["stale"] is False and match["decay_score"] == pytest.approx(0.5 ** 0.12, abs=0.002)


def test_a_revoked_indicator_no_longer_matches(world: dict[str, Member], http: httpx.Client) -> None:
    ind = _ip("185.220.101.70")
    _submit(http, world["alpha"], ind, tlp="green")
    assert _one(http, world["boreal"], "185.220.101.70")["found"] is True
    assert http.post(f"/api/v1/objects/{ind['id']}/revoke", headers=_h(world["alpha"])).status_code == 200
    after = _one(http, world["boreal"], "185.220.101.70")
    assert (after["found"], after["matches"], after["reporting_members"]) == (False, [], 0)
    assert _one(http, world["alpha"], "185.220.101.70")["reported_by_you"] is False


def test_an_sco_is_looked_up_like_an_indicator(world: dict[str, Member], http: httpx.Client) -> None:
    account = {"type": "x-bank-account", "spec_version": "2.1", "id": stix_id("x-bank-account"),
               "iban": "NO93 8601 1117 947", "bic": "DNBANOKK"}
    _submit(http, world["alpha"], account, tlp="green")
    body = _many(http, world["boreal"], [IBAN, {"kind": "bic", "value": "dnbanokkxxx"}])
    assert [(r["found"], r["matches"][0]["type"]) for r in body["results"]] == [
        (True, "x-bank-account"), (True, "x-bank-account")]
