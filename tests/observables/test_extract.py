"""Observables of STIX objects (``nordcert.observables.extract``): from indicator patterns (STIX 2.1 §9)
and from cyber-observable objects (STIX 2.1 §6), our custom fraud SCOs and OpenCTI's equivalents.
A full payment-card number refuses the object, and the refusal never repeats it."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from nordcert.intel.patterns import _parsed_comparisons, comparisons, validate_pattern
from nordcert.observables.extract import extract
from nordcert.observables.kinds import FullCardNumber, Kind

SHA256_EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
MD5_EMPTY = "d41d8cd98f00b204e9800998ecf8427e"
SHA1_EMPTY = "da39a3ee5e6b4b0d3255bfef95601890afd80709"
PAN = "4111111111111111"  # a card-scheme test number (passes Luhn)
PAN_SPACED = "4111 1111 1111 1111"


def _indicator(pattern: str) -> dict[str, Any]:
    return {"type": "indicator", "spec_version": "2.1", "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
            "pattern_type": "stix", "pattern": pattern}


def _of_pattern(pattern: str) -> list[tuple[Kind, str]]:
    found = extract(_indicator(pattern))
    assert found.skipped == []
    return found.observables


# --- indicator patterns ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("[ipv4-addr:value = '198.51.100.7']", [(Kind.IPV4, "198.51.100.7")]),
        ("[ipv4-addr:value = '198.51.100.77/24']", [(Kind.CIDR, "198.51.100.0/24")]),
        ("[ipv6-addr:value = '2001:DB8:0:0:0:0:0:1']", [(Kind.IPV6, "2001:db8::1")]),
        ("[ipv4-addr:value IN ('198.51.100.1', '198.51.100.2', '198.51.100.1')]",
         [(Kind.IPV4, "198.51.100.1"), (Kind.IPV4, "198.51.100.2")]),
        ("[domain-name:value = 'Evil.Example.'] AND [url:value = 'HTTP://Evil.Example:80/a/../b#frag']",
         [(Kind.DOMAIN, "evil.example"), (Kind.URL, "http://evil.example/b")]),
        ("[domain-name:value = 'a.example' OR domain-name:value = 'b.example']",
         [(Kind.DOMAIN, "a.example"), (Kind.DOMAIN, "b.example")]),
        ("[email-addr:value = 'Fraud@Mule.Example']", [(Kind.EMAIL, "fraud@mule.example")]),
        ("[autonomous-system:number = 64500]", [(Kind.ASN, "AS64500")]),
        ("[x-bank-account:iban = 'NO93 8601 1117 947' AND x-bank-account:bic = 'dnbanokkxxx']",
         [(Kind.IBAN, "NO9386011117947"), (Kind.BIC, "DNBANOKK")]),
        ("[x-payment-card:bin = '411111']", [(Kind.BIN, "411111")]),
        ("[x-phone-number:value = '+46 70 123 45 67']", [(Kind.PHONE, "+46701234567")]),
        ("[x-cryptocurrency-wallet:value = 'BC1QAR0SRRR7XFKVY5L643LYDNW9RE59GTZZWF5MDQ']",
         [(Kind.WALLET, "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq")]),
        # a property that names no observable, and an object type we do not index
        ("[file:name = 'invoice.pdf.exe'] AND [mutex:name = 'Global\\\\x']", []),
    ],
)
def test_positive_comparisons_yield_normalised_values(pattern: str, expected: list[tuple[Kind, str]]) -> None:
    assert validate_pattern(pattern) == []
    assert _of_pattern(pattern) == expected


@pytest.mark.parametrize(
    "pattern",
    [
        "[domain-name:value != 'good.example']",
        "[domain-name:value NOT = 'good.example']",
        "[domain-name:value NOT IN ('good.example', 'fine.example')]",
        "[domain-name:value LIKE '%.good.example']",
        "[url:value MATCHES '^https?://good\\\\.example/']",
        "[autonomous-system:number > 64500]",
    ],
)
def test_negations_and_non_equality_operators_name_no_value(pattern: str) -> None:
    assert validate_pattern(pattern) == []
    assert _of_pattern(pattern) == []


def test_only_the_positive_comparisons_of_a_mixed_pattern_are_taken() -> None:
    pattern = ("[domain-name:value = 'bad.example' AND domain-name:value != 'good.example'] "
               "OR [url:value LIKE 'https://good.example/%'] OR [ipv4-addr:value NOT = '192.0.2.1']")
    assert _of_pattern(pattern) == [(Kind.DOMAIN, "bad.example")]


def test_hashes_with_quoted_and_bare_names() -> None:
    pattern = (f"[file:hashes.'SHA-256' = '{SHA256_EMPTY.upper()}' AND file:hashes.MD5 = '{MD5_EMPTY.upper()}'] "
               f"OR [file:hashes.'SHA-1' = '{SHA1_EMPTY}'] OR [file:hashes.SSDEEP = '3:abc:def']")
    assert _of_pattern(pattern) == [(Kind.SHA256, SHA256_EMPTY), (Kind.MD5, MD5_EMPTY), (Kind.SHA1, SHA1_EMPTY)]
    # the same names on artifacts and certificates
    assert _of_pattern(f"[artifact:hashes.'SHA-256' = '{SHA256_EMPTY}']") == [(Kind.SHA256, SHA256_EMPTY)]
    assert _of_pattern(f"[x509-certificate:hashes.MD5 = '{MD5_EMPTY}']") == [(Kind.MD5, MD5_EMPTY)]
    # a hashes property on a type that has none is not a hash
    assert _of_pattern(f"[x-thing:hashes.MD5 = '{MD5_EMPTY}']") == []


def test_email_message_references() -> None:
    pattern = ("[email-message:from_ref.value = 'Boss@Evil.Example' AND email-message:sender_ref.value = "
               "'relay@evil.example' AND email-message:to_refs[*].value = 'cfo@bank.example' AND "
               "email-message:cc_refs[0].value = 'cc@bank.example' AND email-message:bcc_refs[*].value = "
               "'bcc@bank.example' AND email-message:subject = 'Urgent payment']")
    assert _of_pattern(pattern) == [
        (Kind.EMAIL, "boss@evil.example"), (Kind.EMAIL, "relay@evil.example"), (Kind.EMAIL, "cfo@bank.example"),
        (Kind.EMAIL, "cc@bank.example"), (Kind.EMAIL, "bcc@bank.example"),
    ]


def test_network_traffic_references_take_the_kind_the_value_tells() -> None:
    pattern = ("[network-traffic:dst_ref.value = '203.0.113.5' AND network-traffic:src_ref.value = "
               "'C2.Evil.Example'] OR [network-traffic:dst_ref.value = '2001:db8::7'] OR "
               "[network-traffic:dst_ref.value = '00:11:22:33:44:55'] OR [network-traffic:dst_port = 443]")
    assert _of_pattern(pattern) == [
        (Kind.IPV4, "203.0.113.5"), (Kind.DOMAIN, "c2.evil.example"), (Kind.IPV6, "2001:db8::7"),
    ]


def test_autonomous_system_number_is_an_integer_literal() -> None:
    (comparison,) = comparisons("[autonomous-system:number = 64500]")
    assert comparison == ("autonomous-system", ("number",), "=", (64500,))
    assert _of_pattern("[autonomous-system:number IN (64500, 64501)]") == []  # IN takes string literals only
    assert _of_pattern("[autonomous-system:number = 4294967295]") == [(Kind.ASN, "AS4294967295")]


def test_invalid_values_are_skipped_with_a_reason_that_does_not_repeat_them() -> None:
    found = extract(_indicator(
        "[ipv4-addr:value = '999.1.1.1'] OR [x-bank-account:iban = 'NO93 8601 1117 948'] "
        "OR [domain-name:value = 'fine.example'] OR [x-phone-number:value = '070 123 45 67']"))
    assert found.observables == [(Kind.DOMAIN, "fine.example")]
    assert found.skipped == [
        "invalid ipv4: an octet is greater than 255",
        "invalid iban: check digits do not match",
        "invalid phone: a national number needs its country: give +country code (or a phone region)",
    ]
    assert not any("999.1.1.1" in s or "NO93" in s or "070" in s for s in found.skipped)


def test_national_phone_numbers_with_a_phone_region() -> None:
    found = extract(_indicator("[x-phone-number:value = '070-123 45 67']"), phone_region="SE")
    assert (found.observables, found.skipped) == ([(Kind.PHONE, "+46701234567")], [])


def test_over_long_values_are_skipped() -> None:
    url = "https://long.example/" + "a" * 2100
    found = extract(_indicator(f"[url:value = '{url}']"))
    assert found.observables == []
    assert found.skipped == ["url value longer than 2048 characters is not indexed"]


def test_other_pattern_languages_and_other_objects_yield_nothing() -> None:
    sigma = {**_indicator("title: x"), "pattern_type": "sigma"}
    assert extract(sigma).observables == []
    assert extract({"type": "malware", "name": "198.51.100.7"}).observables == []
    assert extract({"type": "x-unknown", "value": "198.51.100.7"}).observables == []


# --- cyber-observable objects ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sco", "expected"),
    [
        ({"type": "ipv4-addr", "value": "198.51.100.7"}, [(Kind.IPV4, "198.51.100.7")]),
        ({"type": "ipv4-addr", "value": "198.51.100.77/24"}, [(Kind.CIDR, "198.51.100.0/24")]),
        ({"type": "ipv4-addr", "value": "198.51.100.7/32"}, [(Kind.IPV4, "198.51.100.7")]),
        ({"type": "ipv6-addr", "value": "2001:DB8::/32"}, [(Kind.CIDR, "2001:db8::/32")]),
        ({"type": "domain-name", "value": "Bücher.Example."}, [(Kind.DOMAIN, "xn--bcher-kva.example")]),
        ({"type": "url", "value": "https://Evil.Example:443/x"}, [(Kind.URL, "https://evil.example/x")]),
        ({"type": "email-addr", "value": "Mule@Example.COM", "display_name": "M"}, [(Kind.EMAIL, "mule@example.com")]),
        ({"type": "autonomous-system", "number": 64500, "name": "Bulletproof"}, [(Kind.ASN, "AS64500")]),
        ({"type": "file", "name": "x.exe", "hashes": {"SHA-256": SHA256_EMPTY.upper(), "MD5": MD5_EMPTY,
                                                      "SSDEEP": "3:abc:def", "SHA-1": SHA1_EMPTY}},
         [(Kind.SHA256, SHA256_EMPTY), (Kind.MD5, MD5_EMPTY), (Kind.SHA1, SHA1_EMPTY)]),
        ({"type": "artifact", "hashes": {"sha256": SHA256_EMPTY}}, [(Kind.SHA256, SHA256_EMPTY)]),
        # our fraud types (docs/observables.md)
        ({"type": "x-bank-account", "iban": "NO93 8601 1117 947", "bic": "dnbanokkxxx", "account_holder": "A Mule"},
         [(Kind.IBAN, "NO9386011117947"), (Kind.BIC, "DNBANOKK")]),
        ({"type": "x-payment-card", "bin": "41111111", "scheme": "visa", "issuer_country": "DK"},
         [(Kind.BIN, "41111111")]),
        ({"type": "x-cryptocurrency-wallet", "value": "1BoatSLRHtKNngkdXEeobR76b53LETtpyT", "currency": "BTC"},
         [(Kind.WALLET, "1BoatSLRHtKNngkdXEeobR76b53LETtpyT")]),
        ({"type": "x-cryptocurrency-wallet", "value": "0x52908400098527886E0F7030069857D2E4169EE7"},
         [(Kind.WALLET, "0x52908400098527886e0f7030069857d2e4169ee7")]),
        ({"type": "x-phone-number", "value": "+47 912 34 567", "usage": "caller"}, [(Kind.PHONE, "+4791234567")]),
        # OpenCTI's equivalents
        ({"type": "bank-account", "iban": "DE89 3704 0044 0532 0130 00", "bic": "COBADEFFXXX"},
         [(Kind.IBAN, "DE89370400440532013000"), (Kind.BIC, "COBADEFF")]),
        ({"type": "phone-number", "value": "+4791234567"}, [(Kind.PHONE, "+4791234567")]),
        ({"type": "cryptocurrency-wallet", "value": "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"},
         [(Kind.WALLET, "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq")]),
        ({"type": "payment-card", "card_number": "552100"}, [(Kind.BIN, "552100")]),
    ],
)
def test_cyber_observables(sco: dict[str, Any], expected: list[tuple[Kind, str]]) -> None:
    found = extract(sco)
    assert (found.observables, found.skipped) == (expected, [])


def test_invalid_sco_values_are_skipped_with_reasons() -> None:
    found = extract({"type": "x-bank-account", "iban": "NO93 8601 1117 948", "bic": "ZZZZZZZZ"})
    assert found.observables == []
    assert found.skipped == ["invalid iban: check digits do not match",
                             "invalid bic: ZZ is not an ISO 3166 country code"]
    bad_bin = extract({"type": "x-payment-card", "bin": "4111111111"})
    assert bad_bin.skipped == ["invalid bin: a BIN has 6 to 8 digits, not 10"]
    # values of the wrong JSON type are ignored, not reported
    assert extract({"type": "ipv4-addr", "value": ["198.51.100.7"]}).skipped == []
    assert extract({"type": "autonomous-system", "number": True}).observables == []


# --- full card numbers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "obj",
    [
        _indicator(f"[x-payment-card:number = '{PAN}']"),
        _indicator(f"[x-payment-card:card_number = '{PAN_SPACED}']"),
        _indicator(f"[x-payment-card:bin = '{PAN}']"),
        _indicator(f"[x-payment-card:bin IN ('411111', '{PAN}')]"),
        _indicator(f"[payment-card:card_number = '{PAN_SPACED}']"),
        _indicator(f"[x-payment-card:issuer_name = '{PAN}']"),
        _indicator(f"[x-payment-card:number = {PAN}]"),
        _indicator(f"[x-payment-card:bin = '411111' AND x-payment-card:number != '{PAN}']"),
        _indicator(f"[x-payment-card:number NOT = '{PAN}']"),
        _indicator(f"[x-payment-card:card_number LIKE '{PAN}']"),
        _indicator(f"[x-payment-card:card_number MATCHES '^{PAN}$']"),
        {"type": "x-payment-card", "bin": "411111", "number": PAN_SPACED},
        {"type": "x-payment-card", "bin": PAN},
        {"type": "x-payment-card", "bin": int(PAN)},
        {"type": "x-payment-card", "bin": "411111", "note": "4111-1111-1111-1111"},
        {"type": "payment-card", "card_number": PAN_SPACED},
    ],
)
def test_a_full_card_number_refuses_the_object_without_repeating_it(obj: dict[str, Any]) -> None:
    with pytest.raises(FullCardNumber) as err:
        extract(obj)
    text = str(err.value)
    assert "full payment card number (PAN) is not accepted" in text
    assert not any(ch.isdigit() and ch not in "68" for ch in text)  # only "6 to 8 digits"
    assert PAN not in text and "1111" not in text


def test_card_numbers_elsewhere_are_not_card_numbers() -> None:
    # a 16-digit number is only a PAN on a payment-card object
    found = extract(_indicator(f"[x-bank-account:account_number = '{PAN}']"))
    assert (found.observables, found.skipped) == ([], [])


# --- the fast path agrees with the grammar -------------------------------------------------------------

_TYPES = st.sampled_from(["ipv4-addr", "domain-name", "url", "file", "x-bank-account", "x-payment-card",
                          "network-traffic", "email-message", "a", "x_1", "AND", "and", "true"])
_IDENT = st.sampled_from(["value", "name", "hashes", "iban", "bin", "MD5", "from_ref", "to_refs", "x_y",
                          "AND", "OR", "true", "false", "LIKE", "IN", "Value", "_a1"])
_QUOTED = st.sampled_from(["'SHA-256'", "'SHA-1'", "'a b'", "'x'", "'it\\'s'"])
_PATH = st.lists(st.one_of(_IDENT, _QUOTED), min_size=1, max_size=3).map(lambda parts: ".".join(parts)).filter(
    lambda path: not path.startswith("'"))
_VALUE = st.text(alphabet=st.sampled_from(list("ab1.-:/ '\\%\n_é")), max_size=12).map(
    lambda v: "'" + v.replace("\\", "\\\\").replace("'", "\\'") + "'")


@st.composite
def _simple_patterns(draw: st.DrawFn) -> str:
    def comparison() -> str:
        op = draw(st.sampled_from(["=", "=", "!=", " = ", "="]))
        return f"{draw(_TYPES)}:{draw(_PATH)}{op}{draw(_VALUE)}"

    observations = []
    for _ in range(draw(st.integers(1, 3))):
        comps = [comparison() for _ in range(draw(st.integers(1, 3)))]
        joined = comps[0]
        for c in comps[1:]:
            joined += f" {draw(st.sampled_from(['AND', 'OR']))} {c}"
        observations.append(f"[{joined}]")
    pattern = observations[0]
    for o in observations[1:]:
        pattern += f" {draw(st.sampled_from(['AND', 'OR']))} {o}"
    return draw(st.sampled_from(["", " ", "\n"])) + pattern + draw(st.sampled_from(["", " ", "\t"]))


@hsettings(max_examples=300, deadline=None)
@given(_simple_patterns())
def test_fast_path_agrees_with_stix2_patterns(pattern: str) -> None:
    """Simple patterns are read by a recogniser; the grammar's own reading is the reference."""
    assert Counter(comparisons(pattern)) == Counter(_parsed_comparisons(pattern)), pattern


def test_fast_path_examples() -> None:
    """The recogniser's results for a few patterns it handles itself (the property test's anchor)."""
    pattern = "[file:hashes.'SHA-256' = 'ab' AND x-a:value != 'c'] OR [x-a:value = 'it\\'s \\\\ ok']"
    assert comparisons(pattern) == [("file", ("hashes", "SHA-256"), "=", ("ab",)),
                                    ("x-a", ("value",), "=", ("it's \\ ok",))]
    assert comparisons("[a:true = 'x']") == [] == list(_parsed_comparisons("[a:true = 'x']"))
