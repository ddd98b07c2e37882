"""Names on the network: the normal forms of domain, url, email and hash values (RFC 1035, IDNA 2008,
RFC 3986, RFC 5321, FIPS 180-4)."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from urllib.parse import unquote

from nordcert.observables._ip import _IPV4_RE, _parse_address, _v4_text, _v6_text
from nordcert.observables._kind import HASH_LENGTHS, Kind, _invalid

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
