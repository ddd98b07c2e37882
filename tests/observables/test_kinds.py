"""Kinds of observables: normalisation, rejection, detection and the IP/domain helpers
(``nordcert.observables.kinds``). Values are documentation examples (RFC 5737/3849 addresses,
IBAN Registry examples, BIP-173/350 test vectors, the Bitcoin wiki, card-scheme test PANs) or
constructed here."""

from __future__ import annotations

import hashlib
import ipaddress
import re

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from nordcert.observables.kinds import (
    FRAUD_KINDS,
    HASH_KINDS,
    IDNA_IMPLEMENTATION,
    PAN_MESSAGE,
    FullCardNumber,
    Kind,
    ObservableError,
    base58check_payload,
    detect,
    ip_supernets,
    luhn_ok,
    normalise,
    parent_domains,
    segwit_program,
    url_host,
)

# (kind, value given, (kind, value) expected)
VALID: list[tuple[str, str | int, tuple[Kind, str]]] = [
    # IP addresses and networks (RFC 5737, RFC 3849 documentation ranges)
    ("ipv4", "192.0.2.1", (Kind.IPV4, "192.0.2.1")),
    ("ipv4", " 198.51.100.7 ", (Kind.IPV4, "198.51.100.7")),
    ("ipv4", "0.0.0.0", (Kind.IPV4, "0.0.0.0")),
    ("ipv4", "10.1.2.3/8", (Kind.CIDR, "10.0.0.0/8")),
    ("ipv4", "192.0.2.1/32", (Kind.IPV4, "192.0.2.1")),
    ("cidr", "198.51.100.77/24", (Kind.CIDR, "198.51.100.0/24")),
    ("cidr", "203.0.113.9/0", (Kind.CIDR, "0.0.0.0/0")),
    ("cidr", "203.0.113.9/31", (Kind.CIDR, "203.0.113.8/31")),
    ("cidr", "203.0.113.9", (Kind.IPV4, "203.0.113.9")),
    ("cidr", "10.9.8.7/255.0.0.0", (Kind.CIDR, "10.0.0.0/8")),
    ("ipv6", "2001:DB8:0:0:0:0:0:1", (Kind.IPV6, "2001:db8::1")),
    ("ipv6", "2001:db8:0:0:1:0:0:1", (Kind.IPV6, "2001:db8::1:0:0:1")),
    ("ipv6", "2001:db8:0:1:1:1:1:1", (Kind.IPV6, "2001:db8:0:1:1:1:1:1")),
    ("ipv6", "::1", (Kind.IPV6, "::1")),
    ("ipv6", "::ffff:192.0.2.1", (Kind.IPV6, "::ffff:192.0.2.1")),
    ("ipv6", "::FFFF:C000:0201", (Kind.IPV6, "::ffff:192.0.2.1")),
    ("ipv6", "2001:db8::1/64", (Kind.CIDR, "2001:db8::/64")),
    ("cidr", "2001:db8:abcd:12::1/128", (Kind.IPV6, "2001:db8:abcd:12::1")),
    ("cidr", "2001:DB8:ABCD::/32", (Kind.CIDR, "2001:db8::/32")),
    ("cidr", "::ffff:192.0.2.77/120", (Kind.CIDR, "::ffff:192.0.2.0/120")),
    # domains
    ("domain", "Example.COM.", (Kind.DOMAIN, "example.com")),
    ("domain", "login.example.co.uk", (Kind.DOMAIN, "login.example.co.uk")),
    ("domain", "_dmarc.example.com", (Kind.DOMAIN, "_dmarc.example.com")),
    ("domain", "bücher.example", (Kind.DOMAIN, "xn--bcher-kva.example")),
    ("domain", "BÜCHER.Example", (Kind.DOMAIN, "xn--bcher-kva.example")),
    ("domain", "straße.de", (Kind.DOMAIN, "xn--strae-oqa.de")),
    ("domain", "例え。テスト", (Kind.DOMAIN, "xn--r8jz45g.xn--zckzah")),
    ("domain", "XN--BCHER-KVA.example", (Kind.DOMAIN, "xn--bcher-kva.example")),
    ("domain", "xn--ls8h.la", (Kind.DOMAIN, "xn--ls8h.la")),
    ("domain", "a" * 63 + ".example", (Kind.DOMAIN, "a" * 63 + ".example")),
    ("domain", "123.example", (Kind.DOMAIN, "123.example")),
    # URLs (RFC 3986 §6.2.2-§6.2.3, §5.2.4)
    ("url", "eXAMPLE://a.example/./b/../b/%63/%7bfoo%7d", (Kind.URL, "example://a.example/b/c/%7Bfoo%7D")),
    (
        "url",
        "HTTP://User@Example.COM:80/a/./b/../c/%7euser/%2f?q=%7e#frag",
        (Kind.URL, "http://User@example.com/a/c/~user/%2F?q=~"),
    ),
    ("url", "https://example.com", (Kind.URL, "https://example.com/")),
    ("url", "https://example.com:443", (Kind.URL, "https://example.com/")),
    ("url", "http://example.com:443/", (Kind.URL, "http://example.com:443/")),
    ("url", "https://example.com:8443/x", (Kind.URL, "https://example.com:8443/x")),
    ("url", "http://example.com:/", (Kind.URL, "http://example.com/")),
    ("url", "http://example.com:0080/x", (Kind.URL, "http://example.com/x")),
    ("url", "HTTPS://EXAMPLE.COM./", (Kind.URL, "https://example.com/")),
    ("url", "http://example.com?b=2&a=1", (Kind.URL, "http://example.com/?b=2&a=1")),
    ("url", "http://example.com/?", (Kind.URL, "http://example.com/?")),
    ("url", "http://example.com/a/b/c/./../../g", (Kind.URL, "http://example.com/a/g")),
    ("url", "http://example.com/a/b/..", (Kind.URL, "http://example.com/a/")),
    ("url", "http://example.com/../../x", (Kind.URL, "http://example.com/x")),
    ("url", "http://example.com/%2e%2E/x/%2E", (Kind.URL, "http://example.com/x/")),
    ("url", "http://example.com/a//b", (Kind.URL, "http://example.com/a//b")),
    ("url", "http://example.com/a%2fb%3F?x=%3d%41", (Kind.URL, "http://example.com/a%2Fb%3F?x=%3DA")),
    ("url", "http://example.com/[x] y", (Kind.URL, "http://example.com/%5Bx%5D%20y")),
    ("url", "http://example.com/%zz/%2%41?%", (Kind.URL, "http://example.com/%25zz/%252A?%25")),
    ("url", "http://bücher.example/ä?x=ü#ö", (Kind.URL, "http://xn--bcher-kva.example/%C3%A4?x=%C3%BC")),
    ("url", "http://[2001:DB8::1]:8080/x", (Kind.URL, "http://[2001:db8::1]:8080/x")),
    ("url", "http://192.0.2.1:80", (Kind.URL, "http://192.0.2.1/")),
    ("url", "http://0x7f.1/", (Kind.URL, "http://127.0.0.1/")),  # as browsers read it (WHATWG)
    ("url", "http://3221225985/", (Kind.URL, "http://192.0.2.1/")),
    ("url", "http://010.1.1.1/", (Kind.URL, "http://8.1.1.1/")),
    ("url", "http://evil.example\\@bank.example/", (Kind.URL, "http://evil.example/@bank.example/")),
    ("url", "http://user:pa%7ess@example.com/", (Kind.URL, "http://user:pa~ss@example.com/")),
    ("url", "ftp://example.com:21/file", (Kind.URL, "ftp://example.com/file")),
    # e-mail
    ("email", "John.Doe@Example.COM", (Kind.EMAIL, "john.doe@example.com")),
    ("email", "first+tag@sub.example.org", (Kind.EMAIL, "first+tag@sub.example.org")),
    ("email", "info@bücher.example", (Kind.EMAIL, "info@xn--bcher-kva.example")),
    ("email", "Émile@example.fr", (Kind.EMAIL, "émile@example.fr")),
    # hashes of the empty string
    ("md5", "D41D8CD98F00B204E9800998ECF8427E", (Kind.MD5, "d41d8cd98f00b204e9800998ecf8427e")),
    ("sha1", "da39a3ee5e6b4b0d3255bfef95601890afd80709", (Kind.SHA1, "da39a3ee5e6b4b0d3255bfef95601890afd80709")),
    ("sha256", hashlib.sha256().hexdigest().upper(), (Kind.SHA256, hashlib.sha256().hexdigest())),
    ("sha512", hashlib.sha512().hexdigest(), (Kind.SHA512, hashlib.sha512().hexdigest())),
    # IBAN (SWIFT IBAN Registry examples)
    ("iban", "SE45 5000 0000 0583 9825 7466", (Kind.IBAN, "SE4550000000058398257466")),
    ("iban", "NO93 8601 1117 947", (Kind.IBAN, "NO9386011117947")),
    ("iban", "DK50 0040 0440 1162 43", (Kind.IBAN, "DK5000400440116243")),
    ("iban", "FI21 1234 5600 0007 85", (Kind.IBAN, "FI2112345600000785")),
    ("iban", "DE89 3704 0044 0532 0130 00", (Kind.IBAN, "DE89370400440532013000")),
    ("iban", "gb29 nwbk 6016 1331 9268 19", (Kind.IBAN, "GB29NWBK60161331926819")),
    ("iban", "GB29-NWBK-6016-1331-9268-19", (Kind.IBAN, "GB29NWBK60161331926819")),
    ("iban", "IBAN SE45 5000 0000 0583 9825 7466", (Kind.IBAN, "SE4550000000058398257466")),
    ("iban", "IBAN: DE89370400440532013000", (Kind.IBAN, "DE89370400440532013000")),
    # BIC (constructed)
    ("bic", "abcdsess", (Kind.BIC, "ABCDSESS")),
    ("bic", "ABCDSESSXXX", (Kind.BIC, "ABCDSESS")),
    ("bic", "ABCDNOKK500", (Kind.BIC, "ABCDNOKK500")),
    ("bic", "ABCD DK KK", (Kind.BIC, "ABCDDKKK")),
    ("bic", "ABCDXK22", (Kind.BIC, "ABCDXK22")),
    ("bic", "ABCDFI2X", (Kind.BIC, "ABCDFI2X")),
    # BIN
    ("bin", "412345", (Kind.BIN, "412345")),
    ("bin", "4123 4567", (Kind.BIN, "41234567")),
    ("bin", "5123-456", (Kind.BIN, "5123456")),
    ("bin", 412345, (Kind.BIN, "412345")),
    # wallets: Bitcoin wiki / BIP-173 / BIP-350 examples, an EIP-55 example
    ("wallet", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", (Kind.WALLET, "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa")),
    ("wallet", "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", (Kind.WALLET, "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy")),
    ("wallet", "1111111111111111111114oLvT2", (Kind.WALLET, "1111111111111111111114oLvT2")),
    (
        "wallet",
        "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4",
        (Kind.WALLET, "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"),
    ),
    (
        "wallet",
        "bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3",
        (Kind.WALLET, "bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3"),
    ),
    (
        "wallet",
        "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",
        (Kind.WALLET, "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0"),
    ),
    (
        "wallet",
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
        (Kind.WALLET, "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"),
    ),
    # phone numbers (E.164)
    ("phone", "+46 8 123 456 78", (Kind.PHONE, "+46812345678")),
    ("phone", "0046 8-123 456 78", (Kind.PHONE, "+46812345678")),
    ("phone", "+46 (0)8 123 456 78", (Kind.PHONE, "+46812345678")),
    ("phone", "+46 70-174 06 05", (Kind.PHONE, "+46701740605")),  # PTS range for use in fiction
    ("phone", "+47 22 12 34 56", (Kind.PHONE, "+4722123456")),
    ("phone", "+45 32 12 34 56", (Kind.PHONE, "+4532123456")),
    ("phone", "+358 40 123 4567", (Kind.PHONE, "+358401234567")),
    # AS numbers
    ("asn", "AS1234", (Kind.ASN, "AS1234")),
    ("asn", "as1234", (Kind.ASN, "AS1234")),
    ("asn", "AS 1234", (Kind.ASN, "AS1234")),
    ("asn", "1234", (Kind.ASN, "AS1234")),
    ("asn", 1234, (Kind.ASN, "AS1234")),
    ("asn", "AS1.10", (Kind.ASN, "AS65546")),
    ("asn", "4294967295", (Kind.ASN, "AS4294967295")),
]

# (kind, value, words the message must contain)
INVALID: list[tuple[str, str | int, str]] = [
    ("ipv4", "010.1.1.1", "leading zero"),
    ("ipv4", "192.0.2.01", "leading zero"),
    ("ipv4", "256.1.1.1", "greater than 255"),
    ("ipv4", "192.0.2", "not an IPv4 or IPv6 address"),
    ("ipv4", "192.0.2.1.5", "not an IPv4 or IPv6 address"),
    ("ipv4", "0x7f.0.0.1", "not an IPv4 or IPv6 address"),
    ("ipv4", "2001:db8::1", "this is an IPv6 address"),
    ("ipv6", "192.0.2.1", "this is an IPv4 address"),
    ("ipv6", "2001:db8::g", "not a valid IPv6 address"),
    ("ipv6", "2001:db8:::1", "not a valid IPv6 address"),
    ("ipv6", "fe80::1%eth0", "zone indices"),
    ("cidr", "192.0.2.0/33", "prefix length"),
    ("cidr", "192.0.2.0/08", "prefix length"),
    ("cidr", "192.0.2.0/", "prefix length"),
    ("cidr", "192.0.2.0/-1", "prefix length"),
    ("cidr", "2001:db8::/129", "prefix length"),
    ("cidr", "10.0.0.0/255.0.255.0", "not contiguous"),
    ("cidr", "example.com/24", "not an IPv4 or IPv6 address"),
    ("domain", "localhost", "at least two labels"),
    ("domain", "192.0.2.1", "an IP address is not a domain"),
    ("domain", "-bad.example", "hyphen"),
    ("domain", "bad-.example", "hyphen"),
    ("domain", "a..example", "empty label"),
    ("domain", ".example.com", "empty label"),
    ("domain", "example.com..", "empty label"),
    ("domain", "ex ample.com", "letters, digits, hyphens"),
    ("domain", "exa*mple.com", "letters, digits, hyphens"),
    ("domain", "a_b.c_d", "last label"),
    ("domain", "a" * 64 + ".example", "63"),
    ("domain", ".".join(["a" * 60] * 5), "253"),
    ("domain", "xn--zz.example", "punycode"),
    ("domain", "xn--abc.example", "punycode"),  # decodes to C1 control characters
    ("domain", "💩.la", "IDNA 2008"),
    ("url", "example.com/login", "scheme"),
    ("url", "mailto:someone@example.com", "scheme"),
    ("url", "http:///path", "needs a host"),
    ("url", "http://localhost/", "at least two labels"),
    ("url", "http://exa mple.com/", "letters, digits, hyphens"),
    ("url", "http://example.com:99999/", "port"),
    ("url", "http://example.com:8o/", "port"),
    ("url", "http://a\nb.example/", "control characters"),
    ("url", "http://1.2.3.4.5/", "ends in a number"),
    ("url", "http://1.256.3.4/", "ends in a number"),
    ("url", "http://[::1/", "IP literal"),
    ("url", "http://[v1.fe]/", "IPv6"),
    ("url", "http://[fe80::1%25eth0]/", "IPv6"),
    ("email", "no-at.example.com", "local-part@domain"),
    ("email", "@example.com", "local-part@domain"),
    ("email", "a..b@example.com", "local part"),
    ("email", ".a@example.com", "local part"),
    ("email", "a b@example.com", "local part"),
    ("email", "pay\u202epal@example.com", "local part"),  # a right-to-left override
    ("email", '"quoted"@example.com', "quoted"),
    ("email", "a@localhost", "at least two labels"),
    ("email", "a@[192.0.2.1]", "IP-literal"),
    ("email", "a" * 65 + "@example.com", "64 octets"),
    ("md5", "d41d8cd98f00b204e9800998ecf8427", "32 hexadecimal digits"),
    ("md5", "g41d8cd98f00b204e9800998ecf8427e", "32 hexadecimal digits"),
    ("sha1", "0x" + "a" * 38, "40 hexadecimal digits"),
    ("sha256", "a" * 63, "64 hexadecimal digits"),
    ("sha512", "a" * 129, "128 hexadecimal digits"),
    ("iban", "SE4450000000058398257466", "check digits do not match"),
    ("iban", "SE4550000000058398257467", "check digits do not match"),
    ("iban", "SE455000000005839825746", "SE IBANs have 24 characters, not 23"),
    ("iban", "NO938601111794", "NO IBANs have 15 characters, not 14"),
    ("iban", "DK50004004401162430", "DK IBANs have 18 characters, not 19"),
    ("iban", "FI211234560000078", "FI IBANs have 18 characters, not 17"),
    ("iban", "DE8937040044053201300", "DE IBANs have 22 characters, not 21"),
    ("iban", "GB29NWBK601613319268190", "GB IBANs have 22 characters, not 23"),
    ("iban", "GB29NWBK6016133192681", "GB IBANs have 22 characters, not 21"),
    ("iban", "DK5100400440116243", "check digits do not match"),
    ("iban", "FI2112345600000786", "check digits do not match"),
    ("iban", "GB29NWBK60161331926818", "check digits do not match"),
    ("iban", "GB2912345616133192681X", "format"),
    ("iban", "SE45500000000583982574AB", "format"),
    ("iban", "XX4550000000058398257466", "XX is not a country with IBANs"),
    ("iban", "SE4X50000000058398257466", "country code, two check digits"),
    ("iban", "SE45 5000 0000 0583 9825 746ä", "country code, two check digits"),
    ("bic", "ABCDZZ22", "ZZ is not an ISO 3166 country code"),
    ("bic", "ABCDSES", "8 or 11 characters, not 7"),
    ("bic", "ABCDSESS5", "8 or 11 characters, not 9"),
    ("bic", "1BCDSESS", "4 letters"),
    ("bic", "ABCDSE!S", "4 letters"),
    ("bic", "ABCDSESß", "4 letters"),
    ("bin", "41234", "6 to 8 digits, not 5"),
    ("bin", "411111111", "6 to 8 digits, not 9"),
    ("bin", "411111111111", "6 to 8 digits, not 12"),
    ("bin", "41111111111111111111", "6 to 8 digits, not 20"),
    ("bin", "4123ab", "6 to 8 digits"),
    ("bin", "4111 11** **** 1111", "6 to 8 digits"),
    ("wallet", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb", "base58check"),
    ("wallet", "1A1zP1eP5QGefi2DMPTfTL5SLmv7Divf0a", "base58check"),  # '0' is not base58
    ("wallet", "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLz", "base58check"),
    ("wallet", "BC1QW508D6QEJXTDG4C5R3ZARVARY0C5XW7KV8F3T4", "bech32"),  # one character changed
    ("wallet", "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5", "bech32"),
    ("wallet", "bc1qW508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", "mix upper and lower case"),
    ("wallet", "tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx", "Bitcoin"),  # testnet
    # BIP-173's version 1 example, invalid since BIP-350 (bech32m for versions 1-16), and BIP-350's
    # version 0 example with a bech32m checksum
    ("wallet", "bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7k7grplx", "bech32"),
    ("wallet", "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh", "bech32"),
    ("wallet", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAe", "0x and 40 hexadecimal digits"),
    ("wallet", "5HueCGU8rMjxEXxiPuD5BDku4MkFqeZyd4dZ1jvhTVqvbTLvyTJ", "Bitcoin"),  # a WIF private key
    ("phone", "08-123 456 78", "+country code"),
    ("phone", "+44 7700 900123", "numbering plan of +44 (GB)"),  # Ofcom drama range: not valid
    ("phone", "+46 1", "phone"),
    ("phone", "+999 123 456 789", "country calling code"),
    ("phone", "+46 8 123 456 78 ext 12", "only digits"),
    ("phone", "+1-800-FLOWERS", "only digits"),
    ("phone", "call +46812345678", "only digits"),
    ("asn", "AS0", "1 to 4294967295"),
    ("asn", "AS4294967296", "1 to 4294967295"),
    ("asn", "AS1.65536", "asdot"),
    ("asn", "ASN1234", "'AS' and a number"),
    ("asn", "-1", "'AS' and a number"),
    ("asn", "AS", "'AS' and a number"),
]


@pytest.mark.parametrize(("kind", "value", "expected"), VALID)
def test_normalise(kind: str, value: str | int, expected: tuple[Kind, str]) -> None:
    assert normalise(kind, value) == expected


@pytest.mark.parametrize(("kind", "value", "expected"), VALID)
def test_normalise_is_idempotent(kind: str, value: str | int, expected: tuple[Kind, str]) -> None:
    assert normalise(expected[0], expected[1]) == expected


@pytest.mark.parametrize(("kind", "value", "words"), INVALID)
def test_rejected_with_reason_and_without_echo(kind: str, value: str, words: str) -> None:
    with pytest.raises(ObservableError) as caught:
        normalise(kind, value)
    message = str(caught.value)
    assert message.startswith(f"invalid {kind}: ")
    assert words in message
    assert caught.value.kind == Kind(kind)
    compact = str(value).replace(" ", "")
    if len(compact) >= 6:
        assert str(value) not in message and compact not in message


def test_kind_sets() -> None:
    assert {Kind.IBAN, Kind.BIC, Kind.BIN, Kind.WALLET, Kind.PHONE, Kind.CARD, Kind.BLINDED} == FRAUD_KINDS
    assert {Kind.MD5, Kind.SHA1, Kind.SHA256, Kind.SHA512} == HASH_KINDS
    assert len(Kind) == 18 and Kind("ipv4") is Kind.IPV4 and str(Kind.ASN) == "asn"


def test_kind_given_as_text_and_unknown_kinds() -> None:
    assert normalise(" IPv4 ", "192.0.2.1") == (Kind.IPV4, "192.0.2.1")
    with pytest.raises(ObservableError, match="unknown observable kind 'hostname'"):
        normalise("hostname", "example.com")


@pytest.mark.parametrize(
    ("kind", "value"), [("ipv4", 3221225985), ("md5", 5), ("asn", True), ("asn", -1), ("bin", -412345)]
)
def test_integers_only_for_asn_and_bin(kind: str, value: int) -> None:
    with pytest.raises(ObservableError, match="must be text"):
        normalise(kind, value)


@pytest.mark.parametrize("kind", list(Kind))
def test_empty_and_broken_text(kind: Kind) -> None:
    with pytest.raises(ObservableError, match="empty"):
        normalise(kind, "  ")
    with pytest.raises(ObservableError):
        normalise(kind, "\ud800")  # a lone surrogate, which JSON can carry


def test_idna_implementation_is_the_idna_package() -> None:
    assert IDNA_IMPLEMENTATION.startswith("the idna package")


# --- IP helpers ----------------------------------------------------------------------------------


def test_ip_supernets_examples() -> None:
    v4 = ip_supernets(Kind.IPV4, "192.0.2.1")
    assert len(v4) == 32 and v4[0] == "0.0.0.0/0" and v4[1] == "128.0.0.0/1" and v4[-1] == "192.0.2.0/31"
    assert "192.0.2.0/24" in v4
    assert ip_supernets(Kind.CIDR, "10.0.0.0/8") == [
        "0.0.0.0/0",
        "0.0.0.0/1",
        "0.0.0.0/2",
        "0.0.0.0/3",
        "0.0.0.0/4",
        "8.0.0.0/5",
        "8.0.0.0/6",
        "10.0.0.0/7",
    ]
    assert ip_supernets(Kind.CIDR, "0.0.0.0/0") == []
    v6 = ip_supernets(Kind.IPV6, "2001:db8::1")
    assert len(v6) == 128 and v6[0] == "::/0" and "2001:db8::/32" in v6 and v6[-1] == "2001:db8::/127"
    assert ip_supernets(Kind.IPV6, "::ffff:192.0.2.1")[-1] == "::ffff:192.0.2.0/127"
    with pytest.raises(ObservableError):
        ip_supernets(Kind.DOMAIN, "example.com")


@given(
    st.ip_addresses(),
    st.one_of(st.ip_addresses(), st.integers(0, 127)),
    st.integers(0, 127),
)
def test_ip_supernets_hold_exactly_the_networks_containing_the_address(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address,
    other: ipaddress.IPv4Address | ipaddress.IPv6Address | int,
    prefix: int,
) -> None:
    # ``other`` is a random address, or ``address`` with one bit flipped (so containment is common).
    if isinstance(other, int):
        other = ipaddress.ip_address(int(address) ^ (1 << (other % address.max_prefixlen)))
    prefix %= other.max_prefixlen  # shorter than the address length
    network = ipaddress.ip_network(f"{other}/{prefix}", strict=False)
    kind, value = normalise(Kind.IPV4 if address.version == 4 else Kind.IPV6, str(address))
    cidr_kind, cidr = normalise(Kind.CIDR, f"{other}/{prefix}")
    assert cidr_kind is Kind.CIDR
    assert (address in network) == (cidr in ip_supernets(kind, value))


@given(st.ip_addresses(v=6))
def test_ipv6_text_is_rfc5952(address: ipaddress.IPv6Address) -> None:
    kind, value = normalise(Kind.IPV6, address.exploded.upper())
    assert kind is Kind.IPV6 and ipaddress.IPv6Address(value) == address
    if address.ipv4_mapped is None:
        assert value == address.compressed
    else:
        assert value == f"::ffff:{address.ipv4_mapped}"
    assert normalise(Kind.IPV6, value) == (kind, value)


@given(st.ip_addresses(), st.integers(0, 128))
def test_cidr_clears_host_bits(address: ipaddress.IPv4Address | ipaddress.IPv6Address, prefix: int) -> None:
    prefix %= address.max_prefixlen + 1
    kind, value = normalise(Kind.CIDR, f"{address}/{prefix}")
    network = ipaddress.ip_network(f"{address}/{prefix}", strict=False)
    if prefix == address.max_prefixlen:
        assert kind in (Kind.IPV4, Kind.IPV6) and ipaddress.ip_address(value) == address
    else:
        assert kind is Kind.CIDR and ipaddress.ip_network(value) == network
        assert normalise(Kind.CIDR, value) == (kind, value)


# --- domains and URLs ----------------------------------------------------------------------------


def test_parent_domains() -> None:
    assert parent_domains("a.b.example.co.uk") == ["b.example.co.uk", "example.co.uk", "co.uk", "uk"]
    assert parent_domains("example.com") == ["com"]


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("http://user:pw@login.example.com:8080/x?y", (Kind.DOMAIN, "login.example.com")),
        ("https://a.example/?x=1", (Kind.DOMAIN, "a.example")),
        ("http://192.0.2.1/", (Kind.IPV4, "192.0.2.1")),
        ("http://[2001:db8::1]:8080/", (Kind.IPV6, "2001:db8::1")),
        ("http://evil.example/@bank.example/", (Kind.DOMAIN, "evil.example")),
    ],
)
def test_url_host(url: str, host: tuple[Kind, str]) -> None:
    assert normalise(Kind.URL, url) == (Kind.URL, url)
    assert url_host(url) == host


def test_url_host_of_other_values() -> None:
    assert url_host("https://a.example?x=1") == (Kind.DOMAIN, "a.example")
    assert url_host("example.com") is None


# --- IBAN ----------------------------------------------------------------------------------------


def _check_digits(country: str, bban: str) -> str:
    """ISO 13616 check digits, computed independently of the module under test."""
    numeric = "".join(str(int(c, 36)) for c in bban + country + "00")
    return f"{98 - int(numeric) % 97:02d}"


@given(st.text("0123456789", min_size=20, max_size=20), st.integers(0, 19), st.integers(1, 9))
def test_constructed_swedish_ibans(bban: str, position: int, delta: int) -> None:
    iban = "SE" + _check_digits("SE", bban) + bban
    assert normalise(Kind.IBAN, iban) == (Kind.IBAN, iban)
    wrong = bban[:position] + str((int(bban[position]) + delta) % 10) + bban[position + 1 :]
    with pytest.raises(ObservableError, match="check digits do not match"):
        normalise(Kind.IBAN, "SE" + _check_digits("SE", bban) + wrong)


def test_check_digit_aliases_00_01_99_are_refused() -> None:
    # mod 97 alone accepts check digits d + 97 when d is 02 (99) and d - 97 when d is 97 or 98 (00, 01).
    found: dict[str, str] = {}
    for n in range(100_000):
        bban = f"{n:020d}"
        digits = _check_digits("SE", bban)
        if digits in ("02", "97", "98"):
            found.setdefault(digits, bban)
        if len(found) == 3:
            break
    for digits, bban in found.items():
        assert normalise(Kind.IBAN, f"SE{digits}{bban}")[1] == f"SE{digits}{bban}"
        alias = {"02": "99", "97": "00", "98": "01"}[digits]
        with pytest.raises(ObservableError, match="check digits do not match"):
            normalise(Kind.IBAN, f"SE{alias}{bban}")


# --- BIN and full card numbers (PCI DSS) ---------------------------------------------------------

TEST_PANS = ["4111111111111111", "4111 1111 1111 1111", "5555-5555-5555-4444", "4222222222222", "6011000990139424"]


@pytest.mark.parametrize("pan", [*TEST_PANS, "4111111111111112", "4111.1111.1111.1111", "1234567890123456789"])
def test_full_card_numbers_are_refused_without_their_digits(pan: str) -> None:
    with pytest.raises(FullCardNumber) as caught:
        normalise(Kind.BIN, pan)
    _assert_no_digits(caught.value, pan)


def test_full_card_number_given_as_integer() -> None:
    with pytest.raises(FullCardNumber) as caught:
        normalise(Kind.BIN, 4111111111111111)
    _assert_no_digits(caught.value, "4111111111111111")


@pytest.mark.parametrize("pan", TEST_PANS)
def test_detect_refuses_card_numbers(pan: str) -> None:
    with pytest.raises(FullCardNumber) as caught:
        detect(pan)
    _assert_no_digits(caught.value, pan)


def _assert_no_digits(exc: FullCardNumber, pan: str) -> None:
    digits = re.sub(r"\D", "", pan)
    for text in (str(exc), repr(exc), repr(exc.args)):
        assert digits not in text and pan not in text
        assert re.search(r"[0-9]{2,}", text) is None
    assert str(exc) == PAN_MESSAGE and exc.kind is Kind.BIN
    assert exc.__cause__ is None and exc.__context__ is None
    assert "share only the BIN" in str(exc)


@given(st.text("0123456789", min_size=13, max_size=19), st.sampled_from(["", " ", "-"]))
def test_any_13_to_19_digits_are_a_card_number(digits: str, separator: str) -> None:
    value = separator.join(digits[i : i + 4] for i in range(0, len(digits), 4))
    with pytest.raises(FullCardNumber) as caught:
        normalise(Kind.BIN, value)
    _assert_no_digits(caught.value, digits)
    assume(not digits.startswith("00"))  # '00…' is tried as an international phone number first
    if luhn_ok(digits):
        with pytest.raises(FullCardNumber) as caught:
            detect(value)
        _assert_no_digits(caught.value, digits)
    else:
        assert detect(value) is None


def test_luhn() -> None:
    assert luhn_ok("4111111111111111") and luhn_ok("79927398713")
    assert not luhn_ok("4111111111111112") and not luhn_ok("79927398710")


# --- wallets -------------------------------------------------------------------------------------

_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


def _base58check(payload: bytes) -> str:
    raw = payload + hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]
    n, out = int.from_bytes(raw, "big"), ""
    while n:
        n, r = divmod(n, 58)
        out = _B58[r] + out
    return "1" * (len(raw) - len(raw.lstrip(b"\0"))) + out


def _segwit_address(version: int, program: bytes, const: int) -> str:
    bits = "".join(f"{b:08b}" for b in program)
    bits += "0" * (-len(bits) % 5)
    data = [version] + [int(bits[i : i + 5], 2) for i in range(0, len(bits), 5)]
    values = [3, 3, 0, 2, 3, *data, 0, 0, 0, 0, 0, 0]
    chk = 1
    for v in values:
        top, chk = chk >> 25, ((chk & 0x1FFFFFF) << 5) ^ v
        for i, g in enumerate((0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)):
            chk ^= g if (top >> i) & 1 else 0
    chk ^= const
    checksum = [(chk >> 5 * (5 - i)) & 31 for i in range(6)]
    return "bc1" + "".join(_CHARSET[d] for d in data + checksum)


def test_decoded_examples() -> None:
    assert base58check_payload("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa") == bytes.fromhex(
        "0062e907b15cbf27d5425399ebf6f0fb50ebb88f18"
    )
    assert base58check_payload("3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy") == bytes.fromhex(
        "05b472a266d0bd89c13706a4132ccfb16f7c3b9fcb"
    )
    assert segwit_program("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4") == (
        0,
        bytes.fromhex("751e76e8199196d454941c45d1b3a323f1433bd6"),
    )
    # BIP-350's taproot example: the program is the x coordinate of secp256k1's generator
    assert segwit_program("bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0") == (
        1,
        bytes.fromhex("79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"),
    )


@given(st.sampled_from([0, 5]), st.binary(min_size=20, max_size=20), st.integers(0, 40), st.integers(1, 57))
def test_constructed_base58_addresses(version: int, digest: bytes, position: int, delta: int) -> None:
    address = _base58check(bytes([version]) + digest)
    assert normalise(Kind.WALLET, address) == (Kind.WALLET, address)
    assert detect(address) == (Kind.WALLET, address)
    position %= len(address)
    changed = _B58[(_B58.index(address[position]) + delta) % 58]
    corrupted = address[:position] + changed + address[position + 1 :]
    with pytest.raises(ObservableError):
        normalise(Kind.WALLET, corrupted)


@given(
    st.sampled_from([(0, 20), (0, 32), (1, 32), (2, 2), (16, 40)]),
    st.data(),
    st.integers(3, 100),
    st.integers(1, 31),
)
def test_constructed_segwit_addresses(shape: tuple[int, int], data: st.DataObject, position: int, delta: int) -> None:
    version, size = shape
    program = data.draw(st.binary(min_size=size, max_size=size))
    right, wrong = (1, 0x2BC830A3) if version == 0 else (0x2BC830A3, 1)
    address = _segwit_address(version, program, right)
    assert segwit_program(address) == (version, program)
    assert normalise(Kind.WALLET, address.upper()) == (Kind.WALLET, address)
    assert detect(address) == (Kind.WALLET, address)
    assert segwit_program(_segwit_address(version, program, wrong)) is None
    position = 3 + position % (len(address) - 3)
    changed = _CHARSET[(_CHARSET.index(address[position]) + delta) % 32]
    assert segwit_program(address[:position] + changed + address[position + 1 :]) is None


# --- phone numbers ---------------------------------------------------------------------------------


def test_national_numbers_with_a_region() -> None:
    assert normalise(Kind.PHONE, "08-123 456 78", phone_region="SE") == (Kind.PHONE, "+46812345678")
    assert normalise(Kind.PHONE, "070-174 06 05", phone_region="se") == (Kind.PHONE, "+46701740605")
    assert normalise(Kind.PHONE, "22 12 34 56", phone_region="NO") == (Kind.PHONE, "+4722123456")
    # an international number ignores the region
    assert normalise(Kind.PHONE, "+45 32 12 34 56", phone_region="SE") == (Kind.PHONE, "+4532123456")
    with pytest.raises(ObservableError, match="unknown phone region 'XX'"):
        normalise(Kind.PHONE, "08-123 456 78", phone_region="XX")
    with pytest.raises(ObservableError, match="numbering plan of \\+46"):
        normalise(Kind.PHONE, "08-1", phone_region="SE")


# --- detect --------------------------------------------------------------------------------------

DETECT: list[tuple[str, tuple[Kind, str] | None]] = [
    ("https://Example.com:443/a/../b", (Kind.URL, "https://example.com/b")),
    ("hxxp://[.]broken", None),
    ("John.Doe@Example.com", (Kind.EMAIL, "john.doe@example.com")),
    ("not an @ address", None),
    ("+46 8 123 456 78", (Kind.PHONE, "+46812345678")),
    ("0046 8 123 456 78", (Kind.PHONE, "+46812345678")),
    ("+44 7700 900123", None),
    ("D41D8CD98F00B204E9800998ECF8427E", (Kind.MD5, "d41d8cd98f00b204e9800998ecf8427e")),
    ("da39a3ee5e6b4b0d3255bfef95601890afd80709", (Kind.SHA1, "da39a3ee5e6b4b0d3255bfef95601890afd80709")),
    (hashlib.sha256().hexdigest(), (Kind.SHA256, hashlib.sha256().hexdigest())),
    (hashlib.sha512().hexdigest(), (Kind.SHA512, hashlib.sha512().hexdigest())),
    ("12345678901234567890123456789012", (Kind.MD5, "12345678901234567890123456789012")),
    ("AS1234", (Kind.ASN, "AS1234")),
    ("as 64512", (Kind.ASN, "AS64512")),
    ("AS0", None),
    ("1234", None),
    ("412345", (Kind.BIN, "412345")),
    ("4123 4567", (Kind.BIN, "41234567")),
    ("411111111", None),
    ("0x52908400098527886E0F7030069857D2E4169EE7", (Kind.WALLET, "0x52908400098527886e0f7030069857d2e4169ee7")),
    ("SE45 5000 0000 0583 9825 7466", (Kind.IBAN, "SE4550000000058398257466")),
    ("de89370400440532013000", (Kind.IBAN, "DE89370400440532013000")),
    ("SE4450000000058398257466", None),
    ("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", (Kind.WALLET, "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa")),
    ("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb", None),
    ("BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", (Kind.WALLET, "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4")),
    ("ABCDSESS", (Kind.BIC, "ABCDSESS")),
    ("ABCDSESSXXX", (Kind.BIC, "ABCDSESS")),
    ("abcdsess", None),  # lower case: a word, not a BIC
    ("sandiego", None),
    ("PASSWORD", None),  # 'WO' is not a country
    ("192.0.2.1", (Kind.IPV4, "192.0.2.1")),
    ("010.1.1.1", None),
    ("198.51.100.7/24", (Kind.CIDR, "198.51.100.0/24")),
    ("2001:DB8::1", (Kind.IPV6, "2001:db8::1")),
    ("2001:db8::/32", (Kind.CIDR, "2001:db8::/32")),
    ("::ffff:192.0.2.1", (Kind.IPV6, "::ffff:192.0.2.1")),
    ("Login.Example.COM", (Kind.DOMAIN, "login.example.com")),
    ("bücher.example", (Kind.DOMAIN, "xn--bcher-kva.example")),
    ("_dmarc.example.com", (Kind.DOMAIN, "_dmarc.example.com")),
    ("example.com/login", None),
    ("example", None),
    ("hello world", None),
    ("", None),
    ("   ", None),
]


@pytest.mark.parametrize(("value", "expected"), DETECT)
def test_detect(value: str, expected: tuple[Kind, str] | None) -> None:
    assert detect(value) == expected


def test_detect_with_a_phone_region() -> None:
    assert detect("08-123 456 78", phone_region="SE") == (Kind.PHONE, "+46812345678")
    assert detect("0701740605", phone_region="SE") == (Kind.PHONE, "+46701740605")
    assert detect("08-123 456 78") is None
    # 6 to 8 digits without a leading 0 stay a BIN: a Norwegian number needs its +47
    assert detect("22123456", phone_region="NO") == (Kind.BIN, "22123456")
    assert detect("+47 22 12 34 56", phone_region="SE") == (Kind.PHONE, "+4722123456")


@pytest.mark.parametrize(("value", "expected"), [d for d in DETECT if d[1] is not None])
def test_detect_agrees_with_normalise(value: str, expected: tuple[Kind, str]) -> None:
    assert normalise(expected[0], value) == expected
