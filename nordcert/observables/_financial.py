"""Financial and telephony observables: the normal forms of iban, bic, bin, wallet, phone and asn values
(ISO 13616, ISO 9362, ISO/IEC 7812, base58check, BIP-173/350, E.164, RFC 6793)."""

from __future__ import annotations

import hashlib
import re
from functools import cache

import phonenumbers
import pycountry
from schwifty import IBAN as _SchwiftyIBAN
from schwifty.exceptions import InvalidCountryCode

from nordcert.observables._kind import FullCardNumber, Kind, _invalid

# --- IBAN (ISO 13616-1:2020, SWIFT IBAN Registry via schwifty) ------------------------------------

_IBAN_RE = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]+")
_MOD97_DIGITS = str.maketrans({chr(c): str(c - 55) for c in range(ord("A"), ord("Z") + 1)})
_IBAN_SEPARATORS = str.maketrans("", "", " -\u00a0")
_iban_specs: dict[str, tuple[int, re.Pattern[str], str] | None] = {}


def _iban_spec(country: str) -> tuple[int, re.Pattern[str], str] | None:
    """(IBAN length, BBAN pattern, BBAN format) of a country, from schwifty's copy of the SWIFT
    IBAN Registry (plus the national IBAN formats it lists as 'aspirational', e.g. AO, DZ).
    Read once per country through schwifty's public ``IBAN.spec``; the checks themselves are
    done here, several times faster than ``IBAN(value)``, with messages that say what is wrong."""
    if country not in _iban_specs:
        try:
            spec = _SchwiftyIBAN(f"{country}00", allow_invalid=True).spec
        except InvalidCountryCode:
            _iban_specs[country] = None
        else:
            if isinstance(spec, dict):  # older schwifty (2024.1) gives a plain dict
                _iban_specs[country] = (spec["iban_length"], spec["regex"], spec["bban_spec"])
            else:
                _iban_specs[country] = (spec.iban_length, spec.regex, spec.bban_spec)
    return _iban_specs[country]


def _norm_iban(kind: Kind, text: str) -> tuple[Kind, str]:
    """Spaces and hyphens removed, upper case (an 'IBAN ' paper-format prefix is dropped); the
    country must use IBANs; its length and BBAN format (from the registry) must hold; the check
    digits must be 02-98 and the ISO 7064 mod 97-10 check must give 1."""
    iban = text.translate(_IBAN_SEPARATORS).upper()
    if iban.startswith("IBAN") and text[:5].upper() in ("IBAN ", "IBAN:"):
        iban = iban[4:].lstrip(":")
    if not (text.isascii() and _IBAN_RE.fullmatch(iban)):
        raise _invalid(kind, "an IBAN is a country code, two check digits and letters or digits")
    country = iban[:2]
    spec = _iban_spec(country)
    if spec is None:
        raise _invalid(kind, f"{country} is not a country with IBANs")
    length, bban_re, bban_format = spec
    if len(iban) != length:
        raise _invalid(kind, f"{country} IBANs have {length} characters, not {len(iban)}")
    if not bban_re.fullmatch(iban[4:]):
        raise _invalid(kind, f"the account part does not match the {country} format {bban_format}")
    if not "02" <= iban[2:4] <= "98" or int((iban[4:] + iban[:4]).translate(_MOD97_DIGITS)) % 97 != 1:
        raise _invalid(kind, "check digits do not match")
    return Kind.IBAN, iban


# --- BIC (ISO 9362) -----------------------------------------------------------------------------

_BIC_RE = re.compile(r"[A-Z]{4}([A-Z]{2})[A-Z0-9]{2}(?:[A-Z0-9]{3})?")


@cache
def _country_codes() -> frozenset[str]:
    """ISO 3166-1 alpha-2 codes, plus XK (Kosovo), which SWIFT uses in BICs."""
    return frozenset(c.alpha_2 for c in pycountry.countries) | {"XK"}


def _norm_bic(kind: Kind, text: str) -> tuple[Kind, str]:
    """Upper case, spaces removed: 4 letters (institution), an ISO 3166 country code, 2 letters or
    digits (location), optionally 3 letters or digits (branch); 'XXX' (head office) is dropped
    so an 11-character BIC and its 8-character form are one value. (ISO 9362:2014 allows
    digits in the institution code; none are issued, so letters are required.)"""
    bic = text.replace(" ", "").upper() if text.isascii() else text
    if len(bic) not in (8, 11):
        raise _invalid(kind, f"a BIC has 8 or 11 characters, not {len(bic)}")
    match = _BIC_RE.fullmatch(bic)
    if match is None:
        raise _invalid(kind, "a BIC is 4 letters, a country code, 2 letters or digits and an optional branch of 3")
    if match.group(1) not in _country_codes():
        raise _invalid(kind, f"{match.group(1)} is not an ISO 3166 country code")
    return Kind.BIC, bic[:8] if bic.endswith("XXX") and len(bic) == 11 else bic


# --- BIN / IIN (ISO/IEC 7812-1:2017) --------------------------------------------------------------

_NON_DIGITS_RE = re.compile(r"[^0-9]")


def _norm_bin(kind: Kind, text: str) -> tuple[Kind, str]:
    """6 to 8 digits (8 since ISO/IEC 7812-1:2017), spaces and hyphens removed. 13 to 19 digits is
    a full card number: ``FullCardNumber``, Luhn or not. No message repeats the digits."""
    digits = text.replace(" ", "").replace("-", "")
    if not (digits.isascii() and digits.isdigit()):
        if 13 <= len(_NON_DIGITS_RE.sub("", digits)) <= 19:
            raise FullCardNumber()
        raise _invalid(kind, "a BIN has 6 to 8 digits (and nothing else)")
    if 6 <= len(digits) <= 8:
        return Kind.BIN, digits
    if 13 <= len(digits) <= 19:
        raise FullCardNumber()
    raise _invalid(kind, f"a BIN has 6 to 8 digits, not {len(digits)}")


def luhn_ok(digits: str) -> bool:
    """The Luhn (mod 10) check of ISO/IEC 7812-1 Annex B, on a string of ASCII digits."""
    total = 0
    for i, char in enumerate(reversed(digits)):
        d = ord(char) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


# --- Wallets: Bitcoin (base58check, BIP-173, BIP-350) and Ethereum --------------------------------

_BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_BASE58_VALUES = {c: i for i, c in enumerate(_BASE58)}
_BASE58_VERSIONS = {0x00: "1", 0x05: "3"}  # P2PKH, P2SH on the main network
_BECH32_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_BECH32_VALUES = {c: i for i, c in enumerate(_BECH32_CHARSET)}
_BECH32_GENERATORS = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
_BECH32_CONST = 1  # BIP-173
_BECH32M_CONST = 0x2BC830A3  # BIP-350
_ETH_RE = re.compile(r"0[xX][0-9A-Fa-f]{40}")


def base58check_payload(address: str) -> bytes | None:
    """The version byte and 20-byte hash of a main-network P2PKH ('1…', version 0) or P2SH ('3…',
    version 5) address, or None. The address is base58 of 25 bytes: version, hash, and the first
    4 bytes of SHA-256(SHA-256(version + hash)) (Bitcoin wiki 'Base58Check encoding')."""
    if not 26 <= len(address) <= 35:
        return None
    n = 0
    for char in address:
        value = _BASE58_VALUES.get(char)
        if value is None:
            return None
        n = n * 58 + value
    zeros = len(address) - len(address.lstrip("1"))
    raw = bytes(zeros) + n.to_bytes((n.bit_length() + 7) // 8, "big")
    if len(raw) != 25 or _BASE58_VERSIONS.get(raw[0]) != address[0]:
        return None
    if hashlib.sha256(hashlib.sha256(raw[:21]).digest()).digest()[:4] != raw[21:]:
        return None
    return raw[:21]


def _generator_sum(top: int) -> int:
    total = 0
    for i, generator in enumerate(_BECH32_GENERATORS):
        if (top >> i) & 1:
            total ^= generator
    return total


_BECH32_TOP_TABLE = tuple(_generator_sum(top) for top in range(32))


def _bech32_polymod(values: list[int]) -> int:
    """BIP-173's BCH checksum over GF(32): the remainder of the values as a polynomial. The five
    bits shifted out select generators to XOR in; their 32 possible sums are tabulated."""
    checksum = 1
    for value in values:
        checksum = (checksum & 0x1FFFFFF) << 5 ^ value ^ _BECH32_TOP_TABLE[checksum >> 25]
    return checksum


def segwit_program(address: str) -> tuple[int, bytes] | None:
    """(witness version, program) of a lower-case main-network ('bc') segwit address, or None:
    bech32 checksum for version 0 (BIP-173), bech32m for versions 1 to 16 (BIP-350); a program
    of 2 to 40 bytes, of 20 or 32 for version 0."""
    if len(address) > 90 or not address.startswith("bc1"):
        return None
    data = [_BECH32_VALUES.get(c, -1) for c in address[3:]]
    if len(data) < 7 or -1 in data:
        return None
    version = data[0]
    const = _bech32_polymod([3, 3, 0, 2, 3, *data])  # 'bc' expanded: high bits 3 3, 0, low bits 2 3
    if const != (_BECH32_CONST if version == 0 else _BECH32M_CONST) or version > 16:
        return None
    program = _five_to_eight(data[1:-6])
    if program is None or not 2 <= len(program) <= 40 or (version == 0 and len(program) not in (20, 32)):
        return None
    return version, program


def _five_to_eight(groups: list[int]) -> bytes | None:
    """Regroup 5-bit values into bytes; None if the padding exceeds 4 bits or is not zero."""
    acc = bits = 0
    out = bytearray()
    for group in groups:
        acc = (acc << 5 | group) & 0xFFF
        bits += 5
        if bits >= 8:
            bits -= 8
            out.append(acc >> bits & 0xFF)
    if bits >= 5 or acc & ((1 << bits) - 1):
        return None
    return bytes(out)


def _norm_wallet(kind: Kind, text: str) -> tuple[Kind, str]:
    """A Bitcoin main-network address - base58check P2PKH ('1…') or P2SH ('3…'), kept as given
    (base58 is case-sensitive), or segwit ('bc1…', BIP-173 bech32 / BIP-350 bech32m, lower case)
    - with its checksum verified; or an Ethereum address, '0x' and 40 hex digits, lower case.
    The mixed-case EIP-55 checksum of Ethereum addresses is not verified: it needs Keccak-256,
    which the standard library lacks (hashlib's sha3_256 pads differently)."""
    if _ETH_RE.fullmatch(text):
        return Kind.WALLET, text.lower()
    if text[:3].lower() == "bc1":
        if text != text.lower() and text != text.upper():
            raise _invalid(kind, "a bech32 address may not mix upper and lower case")
        if segwit_program(text.lower()) is None:
            raise _invalid(kind, "not a valid bech32/bech32m segwit address (checksum or program)")
        return Kind.WALLET, text.lower()
    if text[:1] in ("1", "3"):
        if base58check_payload(text) is None:
            raise _invalid(kind, "not a valid base58check address (characters, length or checksum)")
        return Kind.WALLET, text
    if text[:2] in ("0x", "0X"):
        raise _invalid(kind, "an Ethereum address is 0x and 40 hexadecimal digits")
    raise _invalid(kind, "not a Bitcoin (1…, 3…, bc1…) or Ethereum (0x…) address")


# --- Phone numbers (ITU-T E.164, via libphonenumber's metadata) ---------------------------------

_PHONE_CHARS_RE = re.compile(r"\+?[0-9 ()./-]+")
_PHONE_PARSE_ERRORS = {
    phonenumbers.NumberParseException.INVALID_COUNTRY_CODE: "the country calling code does not exist",
    phonenumbers.NumberParseException.TOO_SHORT_NSN: "too few digits",
    phonenumbers.NumberParseException.TOO_SHORT_AFTER_IDD: "too few digits",
    phonenumbers.NumberParseException.TOO_LONG: "too many digits",
}


def _norm_phone(kind: Kind, text: str, region: str | None) -> tuple[Kind, str]:
    """E.164 ('+46812345678'). '+' or the '00' international prefix, then country code and
    number; a national number only with ``phone_region`` (ISO 3166 alpha-2, e.g. 'SE'). Digits,
    spaces and ``()./-`` only; no extensions. The number must be valid, not merely possible
    (``phonenumbers.is_valid_number``): fraud call-back numbers are real numbers, and a number in
    no allocated range is a typo. Fictional-use ranges inside allocated blocks (e.g. PTS's
    070-174 06 05…99 in Sweden) pass; Ofcom's drama range +44 7700 900xxx is not valid and fails."""
    if not _PHONE_CHARS_RE.fullmatch(text):
        raise _invalid(kind, "a phone number holds only digits, spaces, '+' and ( ) . / -")
    if text.startswith("00"):
        text = "+" + text[2:]
    if region is not None:
        region = region.upper()
        if region not in phonenumbers.SUPPORTED_REGIONS:
            raise _invalid(kind, f"unknown phone region {region!r} (an ISO 3166 alpha-2 code)")
    elif not text.startswith("+"):
        raise _invalid(kind, "a national number needs its country: give +country code (or a phone region)")
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise _invalid(kind, _PHONE_PARSE_ERRORS.get(exc.error_type, "not a phone number")) from None
    if not phonenumbers.is_valid_number(number):
        code = number.country_code or 0
        region_of_code = phonenumbers.region_code_for_country_code(code)
        raise _invalid(kind, f"not a valid number in the numbering plan of +{code} ({region_of_code})")
    return Kind.PHONE, phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# --- AS numbers (RFC 6793; asdot notation RFC 5396) --------------------------------------------

_ASN_RE = re.compile(r"(?:[Aa][Ss] ?)?([0-9]{1,10})(?:\.([0-9]{1,5}))?")
ASN_MAX = 4_294_967_295


def _norm_asn(kind: Kind, text: str) -> tuple[Kind, str]:
    """'AS1234', 'as1234', '1234' or 1234 give 'AS1234'; asdot 'AS1.10' gives 'AS65546'. 1 to
    4294967295 (AS0 is reserved, RFC 7607)."""
    match = _ASN_RE.fullmatch(text)
    if match is None:
        raise _invalid(kind, "an AS number is 'AS' and a number, e.g. AS1234")
    high, low = match.groups()
    if low is not None:
        if int(high) > 65535 or int(low) > 65535:
            raise _invalid(kind, "in asdot notation both halves are 0 to 65535")
        number = int(high) * 65536 + int(low)
    else:
        number = int(high)
    if not 1 <= number <= ASN_MAX:
        raise _invalid(kind, f"an AS number is 1 to {ASN_MAX}")
    return Kind.ASN, f"AS{number}"
