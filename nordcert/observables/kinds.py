"""Kinds of observables in the index, and the one canonical form of every value of each kind.

Pure functions, no I/O. Each kind follows its standard: IPv4/IPv6 and CIDR (RFC 791, RFC 4291,
RFC 4632, text form RFC 5952), domains (RFC 1035 §2.3.4, IDNA 2008 RFC 5891 with UTS #46
mapping), URLs (RFC 3986 §6.2.2-§6.2.3), e-mail addresses (RFC 5321 §4.5.3.1, RFC 6531), hashes
(RFC 1321, FIPS 180-4), IBAN (ISO 13616), BIC (ISO 9362), BIN (ISO/IEC 7812), Bitcoin addresses
(base58check, BIP-173, BIP-350), Ethereum addresses, phone numbers (ITU-T E.164) and AS numbers
(RFC 6793, asdot RFC 5396). The docstring of each ``_norm_*`` function gives its rules.

Errors never repeat the value they reject: mule IBANs and phone numbers are personal data, and a
full card number must not reach a log (PCI DSS req. 3). ``ObservableError`` names the kind and
says what is wrong; ``FullCardNumber`` is its sub-class for a PAN given where a BIN belongs.
"""


from __future__ import annotations

import re
from collections.abc import Callable

from nordcert.observables._blinded import BLINDABLE, _norm_blinded, _norm_card
from nordcert.observables._financial import (
    _ETH_RE,
    _norm_asn,
    _norm_bic,
    _norm_bin,
    _norm_iban,
    _norm_phone,
    _norm_wallet,
    base58check_payload,
    luhn_ok,
    segwit_program,
)
from nordcert.observables._ip import _norm_ip, ip_supernets
from nordcert.observables._kind import (
    FRAUD_KINDS,
    HASH_KINDS,
    HASH_LENGTHS,
    IP_KINDS,
    PAN_MESSAGE,
    PERSONAL_KINDS,
    FullCardNumber,
    Kind,
    ObservableError,
    _invalid,
)
from nordcert.observables._names import (
    _HEX_RE,
    IDNA_IMPLEMENTATION,
    _norm_domain,
    _norm_email,
    _norm_hash,
    _norm_url,
    parent_domains,
    url_host,
)

__all__ = [
    "BLINDABLE",
    "FRAUD_KINDS",
    "HASH_KINDS",
    "HASH_LENGTHS",
    "IDNA_IMPLEMENTATION",
    "IP_KINDS",
    "PAN_MESSAGE",
    "PERSONAL_KINDS",
    "FullCardNumber",
    "Kind",
    "ObservableError",
    "as_kind",
    "base58check_payload",
    "detect",
    "ip_supernets",
    "luhn_ok",
    "normalise",
    "parent_domains",
    "segwit_program",
    "url_host",
]

# --- Entry points ---------------------------------------------------------------------------------

_Normaliser = Callable[[Kind, str], tuple[Kind, str]]
_NORMALISERS: dict[Kind, _Normaliser] = {
    Kind.IPV4: _norm_ip,
    Kind.IPV6: _norm_ip,
    Kind.CIDR: _norm_ip,
    Kind.DOMAIN: _norm_domain,
    Kind.URL: _norm_url,
    Kind.EMAIL: _norm_email,
    Kind.MD5: _norm_hash,
    Kind.SHA1: _norm_hash,
    Kind.SHA256: _norm_hash,
    Kind.SHA512: _norm_hash,
    Kind.IBAN: _norm_iban,
    Kind.BIC: _norm_bic,
    Kind.BIN: _norm_bin,
    Kind.WALLET: _norm_wallet,
    Kind.ASN: _norm_asn,
    Kind.CARD: _norm_card,
    Kind.BLINDED: _norm_blinded,
}


_INT_KINDS = (Kind.ASN, Kind.BIN)


def as_kind(kind: Kind | str) -> Kind:
    """The ``Kind`` named by a string (case-insensitive); ObservableError if there is none."""
    if isinstance(kind, Kind):
        return kind
    try:
        return Kind(kind.strip().lower())
    except ValueError:
        raise ObservableError(f"unknown observable kind {kind!r}") from None


def normalise(kind: Kind | str, value: str | int, *, phone_region: str | None = None) -> tuple[Kind, str]:
    """The canonical (kind, value); raises ObservableError. Surrounding whitespace is ignored.
    The kind may change: an ipv4/ipv6 value with a prefix becomes a CIDR (host bits cleared), a
    /32 or /128 CIDR the plain IPV4/IPV6 address. Integers are taken for asn and bin only."""
    kind = as_kind(kind)
    if isinstance(value, str):
        text = value.strip()
    elif kind in _INT_KINDS and isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        text = str(value)
    else:
        raise _invalid(kind, "the value must be text" + (" or a non-negative integer" if kind in _INT_KINDS else ""))
    if not text:
        raise _invalid(kind, "the value is empty")
    try:
        if kind is Kind.PHONE:
            return _norm_phone(kind, text, phone_region)
        return _NORMALISERS[kind](kind, text)
    except UnicodeError:  # lone surrogates, which JSON can carry
        raise _invalid(kind, "the value is not valid Unicode text") from None


def _try(kind: Kind, text: str, phone_region: str | None = None) -> tuple[Kind, str] | None:
    try:
        return normalise(kind, text, phone_region=phone_region)
    except FullCardNumber:
        raise
    except ObservableError:
        return None


_DIGITS_LIKE_RE = re.compile(r"[0-9][0-9 -]*")
_ASN_LIKE_RE = re.compile(r"[Aa][Ss] ?[0-9]+(?:\.[0-9]+)?")
_IBAN_LIKE_RE = re.compile(r"[A-Za-z]{2}[0-9]{2}[A-Za-z0-9]{11,30}")
_BIC_LIKE_RE = re.compile(r"[A-Z]{6}[A-Z0-9]{2}(?:[A-Z0-9]{3})?")


def detect(value: str, *, phone_region: str | None = None) -> tuple[Kind, str] | None:
    """Guess the kind of a bare value (as typed into a lookup box) and normalise it; None if no
    kind fits. Raises FullCardNumber for what looks like a card number. The first rule that
    gives a valid value wins:

    1. contains '://': url;  2. contains '@': email;  3. starts with '+': phone;
    4. 32, 40, 64 or 128 hex digits: md5, sha1, sha256, sha512;
    5. 'AS' and a number ('AS1234', 'as 1234', asdot 'AS1.10'): asn (a bare number is not);
    6. digits, with spaces or hyphens between them: '00…' that is a valid international number:
       phone; 13 to 19 digits passing the Luhn check: FullCardNumber; with ``phone_region``,
       a valid national number that starts with 0 or has 9 or more digits: phone;
       6 to 8 digits: bin (so a Norwegian or Danish 8-digit number needs its +47/+45);
    7. '0x' and 40 hex digits: wallet (ethereum);
    8. two letters, two digits and 11-30 letters or digits (spaces allowed): iban, if the
       country, length, format and check digits all hold;
    9. '1…'/'3…' base58check or 'bc1…' segwit with a valid checksum: wallet (bitcoin);
    10. 8 or 11 characters typed in capitals with a BIC's shape and a real country code: bic
       (lower-case words such as 'sandiego' are never taken for BICs);
    11. an IP address or network: ipv4, ipv6 or cidr;
    12. a valid domain name with at least two labels: domain.
    """
    text = value.strip()
    if not text:
        return None
    if "://" in text:
        return _try(Kind.URL, text)
    if "@" in text:
        return _try(Kind.EMAIL, text)
    if text[0] == "+":
        return _try(Kind.PHONE, text, phone_region)
    if len(text) in HASH_LENGTHS and _HEX_RE.fullmatch(text):
        return HASH_LENGTHS[len(text)], text.lower()
    if _ASN_LIKE_RE.fullmatch(text):
        return _try(Kind.ASN, text)
    if _DIGITS_LIKE_RE.fullmatch(text):
        return _detect_digits(text.replace(" ", "").replace("-", ""), phone_region)
    if _ETH_RE.fullmatch(text):
        return Kind.WALLET, text.lower()
    compact = text.replace(" ", "")
    if _IBAN_LIKE_RE.fullmatch(compact) and (found := _try(Kind.IBAN, compact)):
        return found
    if (text[0] in "13" or text[:3].lower() == "bc1") and (found := _try(Kind.WALLET, text)):
        return found
    if _BIC_LIKE_RE.fullmatch(text) and (found := _try(Kind.BIC, text)):
        return found
    if (":" in text or text[0].isdigit()) and (found := _try(Kind.CIDR, text)):
        return found
    if "." in text:
        return _try(Kind.DOMAIN, text)
    return None


def _detect_digits(digits: str, phone_region: str | None) -> tuple[Kind, str] | None:
    if digits.startswith("00") and (found := _try(Kind.PHONE, digits)):
        return found
    if 13 <= len(digits) <= 19 and luhn_ok(digits):
        raise FullCardNumber()
    national = phone_region and (digits[0] == "0" or len(digits) >= 9)
    if national and (found := _try(Kind.PHONE, digits, phone_region)):
        return found
    if 6 <= len(digits) <= 8:
        return Kind.BIN, digits
    return None
