"""IP addresses and networks: the normal forms of ipv4, ipv6 and cidr values (RFC 791, RFC 4291,
RFC 4632, text form RFC 5952), and the networks that contain a value."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Collection

from nordcert.observables._kind import Kind, _invalid

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
