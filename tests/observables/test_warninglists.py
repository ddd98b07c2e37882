"""Warninglists: the MISP format, MISP's matching semantics per list type, and the shipped lists."""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nordcert.observables._warninglist_index import SubstringFinder
from nordcert.observables.kinds import Kind, normalise
from nordcert.observables.warninglists import (
    ListType,
    Matcher,
    Warninglist,
    WarninglistError,
    default_lists_dir,
    kinds_for,
    load_dir,
    load_file,
    parse,
)


def _data(list_type: str, entries: Any, attributes: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"name": f"A {list_type} list", "version": 3, "description": "for tests",
                            "type": list_type, "list": entries}
    if attributes is not None:
        data["matching_attributes"] = attributes
    return {**data, **extra}


def _wl(name: str, list_type: str, entries: list[str], attributes: list[str] | None = None) -> Warninglist:
    return parse(_data(list_type, entries, attributes), name=name)


def _write(folder: Path, name: str, data: Any) -> Path:
    path = folder / name / "list.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(data) if not isinstance(data, str) else data, encoding="utf-8")
    return path


def _match(matcher: Matcher, kind: Kind, raw: str) -> list[str]:
    got_kind, value = normalise(kind, raw)
    return matcher.match(got_kind, value)


# --- MISP attribute types -> our kinds ------------------------------------------------------------

def test_kinds_follow_the_matching_attributes_and_the_list_type() -> None:
    ip_attributes = ["ip-src", "ip-dst", "domain|ip", "ip-src|port"]
    assert kinds_for("cidr", ip_attributes) == {Kind.IPV4, Kind.IPV6, Kind.CIDR}
    assert kinds_for("hostname", ["hostname", "domain|ip", "url"]) == {Kind.DOMAIN, Kind.URL}
    assert kinds_for("string", ["ip-dst", "hostname|port"]) == {Kind.IPV4, Kind.IPV6, Kind.DOMAIN}
    assert kinds_for("string", ["md5", "filename|sha256", "sha224", "ssdeep"]) == {Kind.MD5, Kind.SHA256}
    assert kinds_for("substring", ["email-src", "whois-registrant-email"]) == {Kind.EMAIL}
    assert kinds_for("regex", ["phone-number", "iban", "bic", "btc", "AS"]) == {
        Kind.PHONE, Kind.IBAN, Kind.BIC, Kind.WALLET, Kind.ASN}
    # a hostname list cannot match hashes, a cidr list cannot match domains
    assert kinds_for("hostname", ["md5", "domain"]) == {Kind.DOMAIN}
    assert kinds_for("cidr", ["hostname"]) == frozenset()
    # no matching_attributes: MISP's ALL, as far as the type can match
    assert kinds_for("cidr", []) == {Kind.IPV4, Kind.IPV6, Kind.CIDR}
    assert kinds_for("string", []) == frozenset(Kind)


def test_a_list_of_foreign_attribute_types_is_loaded_but_matches_nothing() -> None:
    wl = _wl("azure-appid", "string", ["00000002-0000-0ff1-ce00-000000000000"], ["azure-application-id"])
    assert wl.kinds == frozenset()
    matcher = Matcher([wl])
    assert matcher.inert() == ["azure-appid"]
    assert matcher.describe()[0]["kinds"] == []
    assert all(matcher.match(kind, "00000002-0000-0ff1-ce00-000000000000") == [] for kind in Kind)


# --- string ---------------------------------------------------------------------------------------

def test_string_lists_match_exactly_after_tidying_the_entries() -> None:
    wl = _wl("names", "string", ["EXAMPLE.com.", ".Example.ORG", "bad..name", "10.0.0.1"], ["domain", "ip-dst"])
    matcher = Matcher([wl])
    assert _match(matcher, Kind.DOMAIN, "example.com") == ["names"]
    assert _match(matcher, Kind.DOMAIN, "Example.org.") == ["names"]
    assert _match(matcher, Kind.DOMAIN, "www.example.com") == []  # exact: no subdomains
    assert _match(matcher, Kind.IPV4, "10.0.0.1") == ["names"]
    assert matcher.match(Kind.URL, "https://example.com/") == []  # url is not a matching attribute here
    assert matcher.describe()[0]["skipped"] == 1  # "bad..name" is no value of any kind


def test_string_lists_of_hashes_skip_the_hash_types_we_lack() -> None:
    empty = ["d41d8cd98f00b204e9800998ecf8427e", "DA39A3EE5E6B4B0D3255BFEF95601890AFD80709",
             "d14a028c2a3a2bc9476102bb288234c415a2b01f828ea62ac5b3e42f", "3::"]  # sha224, ssdeep
    matcher = Matcher([_wl("empty", "string", empty, ["md5", "sha1", "sha224", "ssdeep"])])
    assert matcher.match(Kind.MD5, "d41d8cd98f00b204e9800998ecf8427e") == ["empty"]
    assert matcher.match(Kind.SHA1, "da39a3ee5e6b4b0d3255bfef95601890afd80709") == ["empty"]
    assert matcher.match(Kind.SHA1, "d41d8cd98f00b204e9800998ecf8427e") == []
    assert matcher.describe()[0]["skipped"] == 2


# --- hostname -------------------------------------------------------------------------------------

def test_hostname_lists_match_the_domain_and_its_subdomains() -> None:
    wl = _wl("banks", "hostname", [".Example-Bank.COM", "bank.example.", ".barclays"],
             ["domain", "hostname", "url", "email-src"])
    matcher = Matcher([wl])
    for kind, raw in [
        (Kind.DOMAIN, "example-bank.com"), (Kind.DOMAIN, "netbank.example-bank.com"),
        (Kind.DOMAIN, "a.b.bank.example"), (Kind.DOMAIN, "home.barclays"),
        (Kind.URL, "HTTPS://Login.Example-Bank.com:443/path?q=1"), (Kind.EMAIL, "kundservice@mail.example-bank.com"),
    ]:
        assert _match(matcher, kind, raw) == ["banks"], raw
    for kind, raw in [
        (Kind.DOMAIN, "notexample-bank.com"), (Kind.DOMAIN, "example-bank.com.evil.net"),
        (Kind.DOMAIN, "example.bank"), (Kind.URL, "https://evil.net/example-bank.com"),
        (Kind.URL, "http://192.0.2.1/"), (Kind.EMAIL, "example-bank.com@evil.net"),
    ]:
        assert _match(matcher, kind, raw) == [], raw


# --- substring ------------------------------------------------------------------------------------

def test_substring_lists_find_an_entry_anywhere_in_the_value() -> None:
    wl = _wl("throwaway", "substring", ["mailinator.com", "Yopmail", "0v.ro"], ["email-src", "domain|ip"])
    matcher = Matcher([wl])
    assert _match(matcher, Kind.EMAIL, "someone@mailinator.com") == ["throwaway"]
    assert _match(matcher, Kind.EMAIL, "x@yopmail.fr") == ["throwaway"]
    assert _match(matcher, Kind.DOMAIN, "abc.0v.ro") == ["throwaway"]
    assert _match(matcher, Kind.DOMAIN, "mailinator.co") == []
    assert matcher.match(Kind.URL, "https://mailinator.com/") == []


def test_a_long_substring_list_is_indexed_not_scanned() -> None:
    # "Yopmail" is not a domain: the list is a real substring list (see the test below).
    entries = [f"throwaway{i}.example" for i in range(SubstringFinder.TRIE_UP_TO + 500)] + ["ab.cd", "Yopmail"]
    matcher = Matcher([_wl("many", "substring", entries, ["domain"])])
    assert _match(matcher, Kind.DOMAIN, "x.throwaway2400.example.net") == ["many"]
    assert _match(matcher, Kind.DOMAIN, "tab.cde.net") == ["many"]  # shorter than the index's prefix
    assert _match(matcher, Kind.DOMAIN, "throwaway.example") == []


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text("ab.c", min_size=1, max_size=8), min_size=1, max_size=30),
       st.lists(st.text("ab.cd", max_size=20), min_size=1, max_size=20), st.booleans())
def test_substring_finder_agrees_with_a_scan(entries: list[str], values: list[str], indexed: bool) -> None:
    # past the trie's size (padded with entries no value holds) the finder takes its other path
    padding = [f"#{i}" for i in range(SubstringFinder.TRIE_UP_TO)] if indexed else []
    finder = SubstringFinder([*entries, *padding])
    for value in values:
        assert finder.found(value) == any(entry in value for entry in entries), (entries, value)


def test_a_substring_entry_is_used_only_for_kinds_it_can_occur_in() -> None:
    wl = _wl("simulator", "substring", ["52.168.52.134", "portal.example"], ["ip-src", "domain"])
    matcher = Matcher([wl])
    assert matcher.match(Kind.IPV4, "52.168.52.134") == ["simulator"]
    assert matcher.match(Kind.IPV4, "152.168.52.134") == ["simulator"]  # MISP's substring semantics
    assert matcher.match(Kind.DOMAIN, "portal.example.net") == ["simulator"]
    assert matcher.describe()[0]["skipped"] == 0


# --- regex ----------------------------------------------------------------------------------------

def test_regex_lists_take_misp_delimited_patterns() -> None:
    contacts = _wl("contacts", "regex", [r"/^(security|noc|soc|abuse)\@.*\..*$/i"], ["email-src"])
    bare = _wl("bare", "regex", ["^cert@"], ["target-email"])
    matcher = Matcher([contacts, bare])
    assert _match(matcher, Kind.EMAIL, "Abuse@Example.net") == ["contacts"]
    assert _match(matcher, Kind.EMAIL, "cert@example.net") == ["bare"]
    assert _match(matcher, Kind.EMAIL, "notabuse@example.net") == []


def test_phone_patterns_written_with_a_trunk_zero_match_e164_numbers() -> None:
    # Sweden's range for fiction (PTS): 070-1740605 ... 070-1740699, written as MISP does
    wl = _wl("fiction", "regex", [r"/((?:\+|00)46)?07017406(0[5-9]|[1-9][0-9])/g"], ["phone-number"])
    matcher = Matcher([wl])
    assert _match(matcher, Kind.PHONE, "+46 70 174 06 05") == ["fiction"]
    assert _match(matcher, Kind.PHONE, "0046701740699") == ["fiction"]
    assert _match(matcher, Kind.PHONE, "+46 70 174 06 04") == []
    assert _match(matcher, Kind.PHONE, "+46 70 123 45 67") == []


# --- cidr -----------------------------------------------------------------------------------------

def test_cidr_lists_hold_addresses_and_subnets() -> None:
    wl = _wl("nets", "cidr", ["10.0.0.0/8", "192.0.2.7", "198.51.100.77/24", "2001:DB8::/32"], ["ip-dst"])
    matcher = Matcher([wl])
    for kind, raw in [(Kind.IPV4, "10.200.3.4"), (Kind.CIDR, "10.1.0.0/16"), (Kind.CIDR, "10.0.0.0/8"),
                      (Kind.IPV4, "192.0.2.7"), (Kind.IPV4, "198.51.100.1"), (Kind.IPV6, "2001:db8::1"),
                      (Kind.CIDR, "2001:db8:ff00::/40")]:
        assert _match(matcher, kind, raw) == ["nets"], raw
    for kind, raw in [(Kind.IPV4, "11.0.0.1"), (Kind.CIDR, "10.0.0.0/7"), (Kind.IPV4, "192.0.2.8"),
                      (Kind.CIDR, "192.0.2.6/31"), (Kind.IPV6, "2001:db9::1"), (Kind.IPV6, "::ffff:10.0.0.1")]:
        assert _match(matcher, kind, raw) == [], raw


_V4 = st.integers(0, 2**32 - 1)
_V6 = st.integers(0, 2**128 - 1)


@st.composite
def _networks(draw: st.DrawFn) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    if draw(st.booleans()):
        return ipaddress.ip_network((draw(_V4), draw(st.integers(0, 32))), strict=False)
    return ipaddress.ip_network((draw(_V6), draw(st.sampled_from([0, 1, 16, 32, 33, 48, 64, 127, 128]))), strict=False)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(_networks(), min_size=1, max_size=6), min_size=1, max_size=4), st.data())
def test_cidr_matching_agrees_with_a_scan(lists: list[list[Any]], data: st.DataObject) -> None:
    wls = [_wl(f"l{i}", "cidr", [str(n) for n in nets], ["ip-src"]) for i, nets in enumerate(lists)]
    matcher = Matcher(wls)
    every = [n for nets in lists for n in nets]
    for _ in range(20):
        base = data.draw(st.sampled_from(every))
        # an address or network inside a listed one, near one, or anywhere
        inside = int(base.network_address) + data.draw(st.integers(0, base.num_addresses - 1))
        number = data.draw(st.sampled_from([inside, inside ^ 1 << data.draw(st.integers(0, base.max_prefixlen - 1)),
                                            data.draw(_V4 if base.version == 4 else _V6)]))
        length = data.draw(st.integers(0, base.max_prefixlen))
        value = ipaddress.ip_network((number, length), strict=False)
        expected = sorted({f"l{i}" for i, nets in enumerate(lists)
                           for n in nets if n.version == value.version and value.subnet_of(n)})
        kind, text = normalise(Kind.CIDR, str(value))
        assert matcher.match(kind, text) == expected, (value, lists)


# --- loading --------------------------------------------------------------------------------------

def test_load_file_names_the_list_after_its_folder_or_file(tmp_path: Path) -> None:
    wl = load_file(_write(tmp_path, "my-list", _data("cidr", ["10.0.0.0/8"], ["ip-src"])))
    assert (wl.name, wl.title, wl.version, wl.type) == ("my-list", "A cidr list", 3, ListType.CIDR)
    assert wl.entries == ("10.0.0.0/8",)
    assert wl.matching_attributes == ("ip-src",)
    (tmp_path / "other.json").write_text(json.dumps(_data("string", ["x"])), encoding="utf-8")
    assert load_file(tmp_path / "other.json").name == "other"


def test_load_dir_takes_folders_and_json_files(tmp_path: Path) -> None:
    _write(tmp_path, "b-list", _data("cidr", ["10.0.0.0/8"], ["ip-src"]))
    (tmp_path / "a-list.json").write_text(json.dumps(_data("string", ["example.com"])), encoding="utf-8")
    (tmp_path / "README.md").write_text("not a list", encoding="utf-8")
    (tmp_path / "empty-folder").mkdir()
    assert [wl.name for wl in load_dir(tmp_path)] == ["a-list", "b-list"]


def test_load_dir_refuses_two_lists_of_one_name(tmp_path: Path) -> None:
    _write(tmp_path, "same", _data("string", ["a.example"]))
    (tmp_path / "same.json").write_text(json.dumps(_data("string", ["b.example"])), encoding="utf-8")
    with pytest.raises(WarninglistError, match="two lists are named 'same'"):
        load_dir(tmp_path)
    with pytest.raises(WarninglistError, match="not a folder"):
        load_dir(tmp_path / "same.json")


@pytest.mark.parametrize(("data", "problem"), [
    ("{not json", "not valid JSON"),
    ([], "not a JSON object"),
    ({"name": "x", "version": 1, "type": "string", "list": []}, "missing field 'description'"),
    ({"version": 1, "description": "", "list": []}, "missing field 'name', 'type'"),
    (_data("netblock", ["10.0.0.0/8"]), r"unknown type 'netblock' \(expected one of string, hostname"),
    (_data("cidr", ["10.0.0.0/8", "10.0.0.0/33"]), r"entry 1 \('10.0.0.0/33'\) is not an IP network"),
    (_data("cidr", ["example.com"]), r"entry 0 \('example.com'\) is not an IP network"),
    (_data("regex", ["/(unclosed/i"]), r"entry 0 \('/\(unclosed/i'\) is not a valid regular expression"),
    (_data("regex", ["/abc/U"]), "unsupported flag 'U'"),
    (_data("string", ["a", 7]), "entry 1 is not a string: 7"),
    (_data("string", "a,b"), "'list' must be an array of strings"),
    (_data("string", ["a"], version="v2"), "version must be a whole number, not 'v2'"),
    (_data("string", ["a"], matching_attributes="domain"), "'matching_attributes' must be an array of strings"),
])
def test_load_errors_name_the_file_and_the_problem(tmp_path: Path, data: Any, problem: str) -> None:
    path = _write(tmp_path, "broken", data)
    with pytest.raises(WarninglistError, match=problem) as caught:
        load_file(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert caught.value.source == str(path)


def test_load_file_of_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(WarninglistError, match="cannot be read"):
        load_file(tmp_path / "nope" / "list.json")


def test_entries_with_comments_and_lists_from_storage() -> None:
    wl = parse(_data("string", {"example.com": "our own", "example.net": ""}, ["domain"]), name="commented")
    assert wl.entries == ("example.com", "example.net")
    # the store hands back plain strings; they are read as the enums
    stored = Warninglist(name="s", version="7", description="", type="cidr",  # type: ignore[arg-type]
                         kinds=frozenset({"ipv4"}), entries=("10.0.0.0/8",))  # type: ignore[arg-type]
    assert (stored.version, stored.type, stored.kinds) == (7, ListType.CIDR, frozenset({Kind.IPV4}))
    assert Matcher([stored]).match(Kind.IPV4, "10.1.1.1") == ["s"]
    with pytest.raises(WarninglistError, match="s: unknown type 'cidrs'"):
        Warninglist(name="s", version=1, description="", type="cidrs",  # type: ignore[arg-type]
                    kinds=frozenset(), entries=())


def test_describe_lists_every_list() -> None:
    matcher = Matcher([_wl("nets", "cidr", ["10.0.0.0/8"], ["ip-src"]),
                       _wl("names", "string", ["example.com", "x"], ["domain"])])
    assert matcher.describe() == [
        {"name": "nets", "title": "A cidr list", "version": 3, "type": "cidr", "kinds": ["cidr", "ipv4", "ipv6"],
         "entries": 1, "skipped": 0},
        {"name": "names", "title": "A string list", "version": 3, "type": "string", "kinds": ["domain"],
         "entries": 2, "skipped": 1},
    ]
    assert matcher.inert() == []
    assert matcher.match(Kind.MD5, "d41d8cd98f00b204e9800998ecf8427e") == []


# --- the shipped lists ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def shipped() -> Matcher:
    return Matcher(load_dir(default_lists_dir()))


def _entries(name: str) -> tuple[str, ...]:
    return load_file(default_lists_dir() / name / "list.json").entries


def test_every_shipped_list_loads_and_can_match(shipped: Matcher) -> None:
    names = [row["name"] for row in shipped.describe()]
    assert len(names) >= 40
    assert shipped.inert() == []
    readme = (default_lists_dir() / "README.md").read_text(encoding="utf-8")
    assert "CC0" in readme
    assert all(f"`{name}`" in readme for name in names)
    size = sum(p.stat().st_size for p in default_lists_dir().glob("*/list.json"))
    assert size < 1_500_000


def test_shipped_reserved_ranges(shipped: Matcher) -> None:
    assert "rfc1918" in shipped.match(Kind.IPV4, "10.1.2.3")
    assert "rfc1918" in shipped.match(Kind.CIDR, "192.168.0.0/24")
    assert "rfc6598" in shipped.match(Kind.IPV4, "100.64.1.1")
    assert "ipv6-linklocal" in shipped.match(Kind.IPV6, "fe80::1")
    assert "rfc3849" in shipped.match(Kind.IPV6, "2001:db8::53")
    titles = {row["name"]: (row["title"] + " " + wl.description).lower()
              for row, wl in zip(shipped.describe(), shipped.lists, strict=True)}
    assert not [name for name in shipped.match(Kind.IPV4, "8.8.8.8") if "private" in titles[name]]


def test_shipped_bank_websites(shipped: Matcher) -> None:
    bank = next(e for e in _entries("bank-website") if e.lower().endswith(".se")).strip(".").lower()
    assert "bank-website" in shipped.match(Kind.DOMAIN, bank)
    assert "bank-website" in shipped.match(Kind.DOMAIN, "login.secure." + bank)
    assert "bank-website" in shipped.match(*normalise(Kind.URL, f"https://www.{bank}/privat/"))
    assert "bank-website" not in shipped.match(Kind.DOMAIN, bank + ".phish.example")


def test_shipped_hashes_cloud_ranges_and_fraud_kinds(shipped: Matcher) -> None:
    assert "empty-hashes" in shipped.match(Kind.MD5, "d41d8cd98f00b204e9800998ecf8427e")
    assert "eicar.com" in shipped.match(Kind.MD5, "44d88612fea8a8f36de82e1278abb02f")
    aws = ipaddress.ip_network(next(e for e in _entries("amazon-aws") if "." in e))
    assert "amazon-aws" in shipped.match(Kind.IPV4, str(aws.network_address + aws.num_addresses // 2))
    assert "disposable-email" in shipped.match(Kind.EMAIL, "someone@mailinator.com")
    assert "common-contact-emails" in shipped.match(Kind.EMAIL, "abuse@example.net")
    assert "phone_numbers" in shipped.match(*normalise(Kind.PHONE, "+46 70 174 06 50"))
    assert shipped.match(*normalise(Kind.PHONE, "+46 70 123 45 67")) == []


def test_a_substring_list_of_domains_matches_domains_and_subdomains_not_any_substring() -> None:
    # MISP would flag every @hotmail.com address because 'tmail.com' is on disposable-email.
    wl = _wl("disposable", "substring", ["tmail.com", "mailinator.com"], ["email-src", "domain|ip"])
    matcher = Matcher([wl])
    assert _match(matcher, Kind.EMAIL, "someone@hotmail.com") == []
    assert _match(matcher, Kind.EMAIL, "someone@tmail.com") == ["disposable"]
    assert _match(matcher, Kind.EMAIL, "x@eu.mailinator.com") == ["disposable"]
    assert _match(matcher, Kind.DOMAIN, "mailinator.com") == ["disposable"]
    assert _match(matcher, Kind.DOMAIN, "notmailinator.com") == []


def test_the_shipped_disposable_email_list_spares_the_big_providers() -> None:
    matcher = Matcher(load_dir(default_lists_dir()))
    for address in ("a@hotmail.com", "a@fastmail.com", "a@gmail.com", "a@outlook.com"):
        assert "disposable-email" not in matcher.match(Kind.EMAIL, address), address
