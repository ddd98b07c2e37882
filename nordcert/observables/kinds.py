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

import enum
import hashlib
import ipaddress
import re
from collections.abc import Callable, Collection
from functools import cache, lru_cache
from urllib.parse import unquote

import phonenumbers
import pycountry
from schwifty import IBAN as _SchwiftyIBAN
from schwifty.exceptions import InvalidCountryCode


class Kind(enum.StrEnum):
    """The kinds of observables in the index."""

    IPV4 = "ipv4"
    IPV6 = "ipv6"
    CIDR = "cidr"
    DOMAIN = "domain"
    URL = "url"
    EMAIL = "email"
    MD5 = "md5"
    SHA1 = "sha1"
    SHA256 = "sha256"
    SHA512 = "sha512"
    IBAN = "iban"
    BIC = "bic"
    BIN = "bin"
    WALLET = "wallet"
    PHONE = "phone"
    ASN = "asn"


FRAUD_KINDS: frozenset[Kind] = frozenset({Kind.IBAN, Kind.BIC, Kind.BIN, Kind.WALLET, Kind.PHONE})
HASH_KINDS: frozenset[Kind] = frozenset({Kind.MD5, Kind.SHA1, Kind.SHA256, Kind.SHA512})
IP_KINDS: frozenset[Kind] = frozenset({Kind.IPV4, Kind.IPV6, Kind.CIDR})
HASH_LENGTHS: dict[int, Kind] = {32: Kind.MD5, 40: Kind.SHA1, 64: Kind.SHA256, 128: Kind.SHA512}


class ObservableError(ValueError):
    """A value that is not valid for its kind. The message names the kind and says why; it never
    repeats the value."""

    def __init__(self, message: str, *, kind: Kind | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind


PAN_MESSAGE = (
    "invalid bin: a full payment card number (PAN) is not accepted; share only the BIN, the first 6 to 8 digits"
)


class FullCardNumber(ObservableError):
    """A full payment card number (PAN) where only a BIN may go (PCI DSS). The message is fixed and
    never contains the digits given."""

    def __init__(self, message: str = PAN_MESSAGE, *, kind: Kind | None = Kind.BIN) -> None:
        super().__init__(message, kind=kind)


def _invalid(kind: Kind, why: str) -> ObservableError:
    return ObservableError(f"invalid {kind.value}: {why}", kind=kind)


# --- IP addresses and networks (RFC 791, RFC 4291, RFC 4632, RFC 5952) ---------------------------

_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4_RE = re.compile(rf"{_OCTET}(?:\.{_OCTET}){{3}}")
_DOTTED_DIGITS_RE = re.compile(r"[0-9]+(?:\.[0-9]+){3}")
_PREFIX_RE = re.compile(r"0|[1-9][0-9]{0,2}")
_MAPPED_PREFIX = 0xFFFF


def _v4_text(n: int) -> str:
    return f"{n >> 24}.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"


def _v4_int(text: str) -> int:
    a, b, c, d = text.split(".")
    return (int(a) << 24) | (int(b) << 16) | (int(c) << 8) | int(d)


def _v6_text(n: int) -> str:
    """RFC 5952 text: compressed, lower case; IPv4-mapped addresses in mixed notation (§5).

    Spelled out here so the stored form does not depend on the Python version: CPython changed
    ``str()`` of IPv4-mapped addresses to mixed notation (gh-87799)."""
    if n >> 32 == _MAPPED_PREFIX:
        return "::ffff:" + _v4_text(n & 0xFFFFFFFF)
    hextets = [f"{(n >> shift) & 0xFFFF:x}" for shift in range(112, -1, -16)]
    best_start, best_len, start = -1, 1, -1  # the longest run of two or more zero groups, first if tied
    for i, hextet in enumerate([*hextets, "end"]):
        if hextet == "0":
            if start < 0:
                start = i
        elif start >= 0:
            if i - start > best_len:
                best_start, best_len = start, i - start
            start = -1
    if best_start < 0:
        return ":".join(hextets)
    return ":".join(hextets[:best_start]) + "::" + ":".join(hextets[best_start + best_len :])


def _parse_address(kind: Kind, text: str) -> tuple[int, int]:
    """(version, integer) of one address, strictly."""
    if _IPV4_RE.fullmatch(text):
        return 4, _v4_int(text)
    if ":" in text:
        if "%" in text:
            raise _invalid(kind, "zone indices (%…) are local to one host and not accepted")
        try:
            return 6, int(ipaddress.IPv6Address(text))
        except ValueError:
            raise _invalid(kind, "not a valid IPv6 address") from None
    if _DOTTED_DIGITS_RE.fullmatch(text):
        if any(len(part) > 1 and part[0] == "0" for part in text.split(".")):
            raise _invalid(kind, "an octet has a leading zero, which is ambiguous (octal or decimal)")
        raise _invalid(kind, "an octet is greater than 255")
    raise _invalid(kind, "not an IPv4 or IPv6 address")


def _parse_prefix(kind: Kind, text: str, version: int) -> int:
    bits = 32 if version == 4 else 128
    if _PREFIX_RE.fullmatch(text) and int(text) <= bits:
        return int(text)
    if version == 4 and _IPV4_RE.fullmatch(text):
        mask = _v4_int(text)
        ones = mask.bit_count()
        if mask == (0xFFFFFFFF << (32 - ones)) & 0xFFFFFFFF:
            return ones
        raise _invalid(kind, "the netmask is not contiguous")
    raise _invalid(kind, f"the prefix length must be a number from 0 to {bits}")


def _norm_ip(kind: Kind, text: str) -> tuple[Kind, str]:
    """IPv4, IPv6 or CIDR. An address with a prefix becomes a CIDR with host bits cleared; a /32
    or /128 (or a CIDR given without prefix) becomes the plain address. IPv4 octets with leading
    zeros are rejected (``010.1.1.1`` is 8.1.1.1 to some parsers, 10.1.1.1 to others). A dotted
    netmask (``/255.255.0.0``) is read as its prefix length."""
    if kind is Kind.IPV4 and _IPV4_RE.fullmatch(text):
        return Kind.IPV4, text
    addr_text, slash, prefix_text = text.partition("/")
    version, n = _parse_address(kind, addr_text)
    if kind is Kind.IPV4 and version == 6:
        raise _invalid(kind, "this is an IPv6 address")
    if kind is Kind.IPV6 and version == 4:
        raise _invalid(kind, "this is an IPv4 address")
    bits = 32 if version == 4 else 128
    prefix = _parse_prefix(kind, prefix_text, version) if slash else bits
    if prefix == bits:
        if version == 4:
            return Kind.IPV4, _v4_text(n)
        return Kind.IPV6, _v6_text(n)
    net = n & _mask(prefix, bits)
    return Kind.CIDR, f"{_v4_text(net) if version == 4 else _v6_text(net)}/{prefix}"


def _mask(prefix: int, bits: int) -> int:
    return ((1 << bits) - 1) ^ ((1 << (bits - prefix)) - 1)


def ip_supernets(kind: Kind, value: str, prefixes: Collection[int] | None = None) -> list[str]:
    """Every CIDR value (normalised, as stored) containing a normalised IPV4/IPV6/CIDR value: /0 up
    to its own prefix length minus one (/31 or /127 for an address), shortest prefix first.

    ``prefixes`` limits the answer to those prefix lengths (the ones the index holds)."""
    if kind is Kind.CIDR:
        addr_text, _, prefix_text = value.partition("/")
        upto = _parse_prefix(kind, prefix_text, 6 if ":" in addr_text else 4)
    elif kind is Kind.IPV4 or kind is Kind.IPV6:
        addr_text, upto = value, (32 if kind is Kind.IPV4 else 128)
    else:
        raise _invalid(kind, "ip_supernets takes an ipv4, ipv6 or cidr value")
    version, n = _parse_address(kind, addr_text)
    bits = 32 if version == 4 else 128
    text = _v4_text if version == 4 else _v6_text
    out: list[str] = []
    net, net_text = -1, ""
    for p in range(min(upto, bits)):
        if prefixes is not None and p not in prefixes:
            continue
        masked = n & _mask(p, bits)
        if masked != net:  # consecutive prefixes share a network address wherever a bit is 0
            net, net_text = masked, text(masked)
        out.append(f"{net_text}/{p}")
    return out


# --- Domain names (RFC 1035 §2.3.4, RFC 5890-5891 IDNA 2008, UTS #46) -------------------------

_LDH_LABEL = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
_TLD_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_DOMAIN_RE = re.compile(rf"(?:{_LDH_LABEL}\.)+{_TLD_LABEL}")
_LABEL_CHARS_RE = re.compile(r"[a-z0-9_-]+")
_IDEOGRAPHIC_DOTS = str.maketrans({"\u3002": ".", "\uff0e": ".", "\uff61": "."})


@lru_cache(maxsize=4096)
def _alabel_python(label: str) -> str:
    return label.encode("idna").decode("ascii")


try:
    import idna as _idna
except ImportError:  # pragma: no cover - idna ships with httpx
    _to_alabel: Callable[[str], str] = _alabel_python
    IDNA_IMPLEMENTATION = "Python's idna codec (IDNA 2003)"
else:

    @lru_cache(maxsize=4096)
    def _alabel_idna(label: str) -> str:
        return _idna.encode(label, uts46=True).decode("ascii")

    _to_alabel = _alabel_idna
    IDNA_IMPLEMENTATION = "the idna package (IDNA 2008, UTS #46 non-transitional mapping)"


def _domain_ascii(kind: Kind, text: str) -> str:
    """Lower case, one trailing dot dropped, Unicode labels turned into A-labels."""
    if not text.isascii():
        text = text.translate(_IDEOGRAPHIC_DOTS)
        labels = text.split(".")
        for i, label in enumerate(labels):
            if label.isascii():
                labels[i] = label.lower()
            elif label:
                try:
                    labels[i] = _to_alabel(label)
                except (UnicodeError, ValueError):
                    raise _invalid(kind, "a label is not a valid internationalised name (IDNA 2008)") from None
        text = ".".join(labels)
    else:
        text = text.lower()
    return text.removesuffix(".")


def _check_domain(kind: Kind, name: str) -> str:
    if len(name) > 253:
        raise _invalid(kind, "a domain name has at most 253 characters")
    if not _DOMAIN_RE.fullmatch(name):
        raise _invalid(kind, _domain_problem(name))
    tld = name[name.rfind(".") + 1 :]
    if tld.isdigit():
        raise _invalid(kind, "the last label is all digits (an IP address is not a domain)")
    if "xn--" in name:
        for label in name.split("."):
            if label.startswith("xn--") and not _is_punycode(label[4:]):
                raise _invalid(kind, "an xn-- label is not valid punycode of printable characters")
    return name


def _domain_problem(name: str) -> str:
    labels = name.split(".")
    if len(labels) < 2:
        return "a domain name needs at least two labels"
    for label in labels:
        if not label:
            return "empty label (a leading dot or two dots in a row)"
        if len(label) > 63:
            return "a label has more than 63 characters"
        if not _LABEL_CHARS_RE.fullmatch(label):
            return "a label may hold only letters, digits, hyphens and underscores"
        if label[0] == "-" or label[-1] == "-":
            return "a label may not start or end with a hyphen"
    return "the last label may not hold underscores"


@lru_cache(maxsize=4096)
def _is_punycode(encoded: str) -> bool:
    try:
        decoded = encoded.encode("ascii").decode("punycode")
    except UnicodeError:
        return False
    # Printable: an A-label of control characters is junk, while emoji labels (registered under
    # some TLDs though outside IDNA 2008) stay acceptable.
    return (
        not decoded.isascii()
        and decoded.isprintable()
        and decoded.encode("punycode").decode("ascii") == encoded
    )


def _norm_domain(kind: Kind, text: str) -> tuple[Kind, str]:
    """A domain name: lower case, one trailing dot dropped, Unicode labels as A-labels (``xn--``)
    via ``IDNA_IMPLEMENTATION``; labels of 1-63 letters, digits, hyphens (not first or last) and
    underscores (service labels such as ``_dmarc``; not in the last label); at most 253
    characters; at least two labels; an all-digit last label is refused (an IP address). A given
    ``xn--`` label must decode as punycode; it is not re-checked against IDNA 2008, because what
    is registered in the DNS is the fact."""
    return Kind.DOMAIN, _check_domain(kind, _domain_ascii(kind, text))


def parent_domains(value: str) -> list[str]:
    """The label suffixes of a normalised domain, longest first: 'a.b.example.co.uk' gives
    'b.example.co.uk', 'example.co.uk', 'co.uk', 'uk'."""
    labels = value.split(".")
    return [".".join(labels[i:]) for i in range(1, len(labels))]


# --- URLs (RFC 3986 §3, §5.2.4, §6.2.2-§6.2.3; WHATWG URL Standard for browser-only quirks) -------

_SCHEME_RE = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443, "ftp": 21}
_SPECIAL_SCHEMES = frozenset(_DEFAULT_PORTS) | {"file"}
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
# A percent-encoding, or a character that may not stand unencoded in the component (RFC 3986
# §3.2.1, §3.3, §3.4); a '%' that starts no percent-encoding is one of the latter.
_PCT_PATH_RE = re.compile(r"%([0-9A-Fa-f]{2})|[^A-Za-z0-9\-._~!$&'()*+,;=:@/]")
_PCT_QUERY_RE = re.compile(r"%([0-9A-Fa-f]{2})|[^A-Za-z0-9\-._~!$&'()*+,;=:@/?]")
_PCT_USER_RE = re.compile(r"%([0-9A-Fa-f]{2})|[^A-Za-z0-9\-._~!$&'()*+,;=:]")
_PORT_RE = re.compile(r"[0-9]{1,5}")
_WHATWG_NUMBER_RE = {10: re.compile(r"[0-9]+"), 16: re.compile(r"[0-9A-Fa-f]*"), 8: re.compile(r"[0-7]+")}


def _pct_sub(match: re.Match[str]) -> str:
    hex_pair = match.group(1)
    if hex_pair is None:
        return "".join(f"%{b:02X}" for b in match.group(0).encode("utf-8"))
    char = chr(int(hex_pair, 16))
    return char if char in _UNRESERVED else "%" + hex_pair.upper()


def _pct_normalise(text: str, pattern: re.Pattern[str]) -> str:
    """Percent-encodings upper-cased, unreserved characters decoded (§6.2.2.1-2); characters that
    may not stand in the component encoded as UTF-8, including a '%' that starts no
    percent-encoding (so '%2%41' becomes '%252A', not '%2A')."""
    return pattern.sub(_pct_sub, text) if pattern.search(text) else text


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 §5.2.4, for an absolute path."""
    if "/." not in path:
        return path
    segments = path.split("/")
    out: list[str] = []
    for segment in segments[1:]:
        if segment == "..":
            if out:
                out.pop()
        elif segment != ".":
            out.append(segment)
    result = "/" + "/".join(out)
    if segments[-1] in (".", "..") and not result.endswith("/"):
        result += "/"
    return result


def _whatwg_number(part: str) -> int | None:
    radix = 10
    if part[:2] in ("0x", "0X"):
        part, radix = part[2:], 16
    elif len(part) > 1 and part[0] == "0":
        part, radix = part[1:], 8
    if not _WHATWG_NUMBER_RE[radix].fullmatch(part):
        return None
    return int(part, radix) if part else 0


def _whatwg_ipv4(kind: Kind, host: str) -> int | None:
    """The IPv4 address a browser reads in a host that ends in a number (WHATWG URL Standard
    §3.5, 'IPv4 parser': ``0x7f.1`` is 127.0.0.1); None when the host is a domain name."""
    parts = host.split(".")
    last = parts[-1]
    if not last or not (last.isascii() and last.isdigit() or _whatwg_number(last) is not None):
        return None
    numbers = [_whatwg_number(p) if p else None for p in parts]
    if len(parts) > 4 or any(n is None for n in numbers):
        raise _invalid(kind, "the host ends in a number but is not an IPv4 address")
    values = [n for n in numbers if n is not None]
    if any(n > 255 for n in values[:-1]) or values[-1] >= 256 ** (5 - len(values)):
        raise _invalid(kind, "the host ends in a number but is not an IPv4 address")
    address = values[-1]
    for i, n in enumerate(values[:-1]):
        address += n << (8 * (3 - i))
    return address


def _norm_host(kind: Kind, host: str) -> tuple[Kind, str]:
    if "%" in host:
        try:
            host = unquote(host, errors="strict")
        except UnicodeError:
            raise _invalid(kind, "the host has percent-encodings that are not UTF-8") from None
    if host.startswith("["):
        if not host.endswith("]"):
            raise _invalid(kind, "an IP literal host needs its closing ']'")
        literal = host[1:-1]
        if ":" not in literal or "%" in literal:
            raise _invalid(kind, "an IP literal host must be an IPv6 address")
        return Kind.IPV6, _v6_text(_parse_address(kind, literal)[1])
    if not host:
        raise _invalid(kind, "a URL needs a host")
    name = _domain_ascii(kind, host)
    address = _whatwg_ipv4(kind, name)
    if address is not None:
        return Kind.IPV4, _v4_text(address)
    return Kind.DOMAIN, _check_domain(kind, name)


def _split_authority(kind: Kind, authority: str) -> tuple[str, str, str]:
    """(userinfo, host, port) of an authority (RFC 3986 §3.2)."""
    userinfo, _, hostport = authority.rpartition("@")
    if hostport.startswith("["):
        close = hostport.find("]")
        host, rest = hostport[: close + 1], hostport[close + 1 :]
        if close < 0 or (rest and not rest.startswith(":")):
            raise _invalid(kind, "malformed IP literal host")
        return userinfo, host, rest[1:]
    host, _, port = hostport.partition(":")
    return userinfo, host, port


def _norm_url(kind: Kind, text: str) -> tuple[Kind, str]:
    """An absolute URL with a host. Scheme and host in lower case; host as a normalised domain or
    IP address (a host ending in a number is read as IPv4 the way browsers do: ``http://0x7f.1/``
    is ``http://127.0.0.1/``); the scheme's default port (http 80, https 443, ws 80, wss 443,
    ftp 21) and an empty port dropped; an empty path becomes '/'; dot-segments removed;
    percent-encodings upper-cased and unreserved characters decoded; characters not allowed in a
    component percent-encoded as UTF-8; the fragment dropped; user information and the query
    kept in order. In http(s), ws(s), ftp and file URLs a backslash before the query counts as '/',
    as in browsers, so ``http://evil.example\\@bank.example/`` has the host evil.example."""
    if _CONTROL_RE.search(text):
        raise _invalid(kind, "a URL may not contain control characters or line breaks")
    match = _SCHEME_RE.match(text)
    if match is None:
        raise _invalid(kind, "a URL needs a scheme and a host (scheme://host/…)")
    scheme = match.group(1).lower()
    rest = text[match.end() :].partition("#")[0]
    before_query, q, query = rest.partition("?")
    if scheme in _SPECIAL_SCHEMES:
        before_query = before_query.replace("\\", "/")
    slash = before_query.find("/")
    authority, path = (before_query, "") if slash < 0 else (before_query[:slash], before_query[slash:])
    userinfo, host, port = _split_authority(kind, authority)
    _, host = _norm_host(kind, host)
    if ":" in host:
        host = f"[{host}]"
    if port:
        if not _PORT_RE.fullmatch(port) or int(port) > 65535:
            raise _invalid(kind, "the port must be a number from 0 to 65535")
        port = "" if int(port) == _DEFAULT_PORTS.get(scheme) else f":{int(port)}"
    path = _remove_dot_segments(_pct_normalise(path, _PCT_PATH_RE)) if path else "/"
    user = _pct_normalise(userinfo, _PCT_USER_RE) + "@" if "@" in authority else ""
    tail = "?" + _pct_normalise(query, _PCT_QUERY_RE) if q else ""
    return Kind.URL, f"{scheme}://{user}{host}{port}{path}{tail}"


def url_host(value: str) -> tuple[Kind, str] | None:
    """The host of a normalised URL as (DOMAIN, IPV4 or IPV6, value); None if it has none."""
    _, sep, rest = value.partition("://")
    if not sep:
        return None
    end = len(rest)
    for delimiter in "/?":
        i = rest.find(delimiter)
        if 0 <= i < end:
            end = i
    _, host, _ = _split_authority(Kind.URL, rest[:end])
    if not host:
        return None
    if host.startswith("["):
        return Kind.IPV6, host[1:-1]
    return (Kind.IPV4 if _IPV4_RE.fullmatch(host) else Kind.DOMAIN), host


# --- E-mail addresses (RFC 5321 §4.1.2, §4.5.3.1; RFC 5322 §3.4.1; RFC 6531) --------------------

_LOCAL_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~\u0080-\U0010ffff-]+"
_LOCAL_RE = re.compile(rf"{_LOCAL_ATOM}(?:\.{_LOCAL_ATOM})*")


def _norm_email(kind: Kind, text: str) -> tuple[Kind, str]:
    """``local@domain``. The domain is normalised as a domain name. The local part is lower-cased:
    RFC 5321 lets the receiving host treat it case-sensitively, but the providers behind nearly
    all addresses (and all the large ones) do not, and one stored form per mailbox matters more
    for matching. Dot-atom local parts only (RFC 5322 §3.4.1, UTF-8 allowed per RFC 6531),
    at most 64 octets; quoted local parts and IP-literal domains are refused."""
    local, at, domain = text.rpartition("@")
    if not at or not local:
        raise _invalid(kind, "an e-mail address is local-part@domain")
    if local.startswith('"'):
        raise _invalid(kind, "quoted local parts are not accepted")
    if not _LOCAL_RE.fullmatch(local) or not local.isprintable():
        raise _invalid(kind, "the local part holds characters not allowed there, or misplaced dots")
    local = local.lower()
    if len(local.encode("utf-8")) > 64:
        raise _invalid(kind, "the local part has more than 64 octets")
    if domain.startswith("["):
        raise _invalid(kind, "IP-literal domains are not accepted")
    return Kind.EMAIL, f"{local}@{_check_domain(kind, _domain_ascii(kind, domain))}"


# --- Hashes (RFC 1321, FIPS 180-4) -------------------------------------------------------------

_HEX_RE = re.compile(r"[0-9A-Fa-f]+")
_HASH_SIZES = {kind: length for length, kind in HASH_LENGTHS.items()}


def _norm_hash(kind: Kind, text: str) -> tuple[Kind, str]:
    """Hex digits of exactly the digest's length (md5 32, sha1 40, sha256 64, sha512 128), lower case."""
    length = _HASH_SIZES[kind]
    if len(text) != length or not _HEX_RE.fullmatch(text):
        raise _invalid(kind, f"a {kind.value} hash is {length} hexadecimal digits")
    return kind, text.lower()


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
