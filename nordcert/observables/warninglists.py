"""Warninglists: known-good values that flag an observable as a likely false positive.

Reads the MISP warninglist format (``list.json`` with ``name``, ``version``, ``description``,
``type``, ``list`` and ``matching_attributes``; github.com/MISP/misp-warninglists, "Format of a
warning list") and matches normalised observables with MISP's semantics per list type
(MISP ``Warninglist::checkValue``): ``string`` exact, ``hostname`` the domain or a parent of it,
``substring``, ``regex`` and ``cidr``. A list without ``matching_attributes`` applies to every
kind its type can match, as MISP's ``ALL``.

A list is known by its folder name (``rfc1918`` for ``rfc1918/list.json``) or file stem; MISP's
``name`` field is kept as its ``title``.
"""

from __future__ import annotations

import enum
import ipaddress
import json
import re
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from phonenumbers import COUNTRY_CODE_TO_REGION_CODE

from nordcert.observables.kinds import Kind, ObservableError, normalise, parent_domains, url_host


class WarninglistError(ValueError):
    """A warninglist that cannot be used; the message names its file (or list) and the problem."""

    def __init__(self, source: str | Path, problem: str) -> None:
        super().__init__(f"{source}: {problem}")
        self.source = str(source)
        self.problem = problem


class ListType(enum.StrEnum):
    """How a list's entries match a value (MISP warninglist ``type``)."""

    STRING = "string"
    HOSTNAME = "hostname"
    SUBSTRING = "substring"
    REGEX = "regex"
    CIDR = "cidr"


_IP = frozenset({Kind.IPV4, Kind.IPV6})
_NETWORK = _IP | {Kind.CIDR}
_HOSTED = frozenset({Kind.DOMAIN, Kind.URL, Kind.EMAIL})


def _attrs(names: str, kinds: Iterable[Kind]) -> dict[str, frozenset[Kind]]:
    return dict.fromkeys(names.split(), frozenset(kinds))


#: MISP attribute type -> the kinds it stands for; other attribute types are ignored.
_ATTRIBUTE_KINDS: dict[str, frozenset[Kind]] = {
    **_attrs("ip-src ip-dst ip-src|port ip-dst|port", _IP),
    **_attrs("domain|ip hostname domain hostname|port", {Kind.DOMAIN}),
    **_attrs("url uri link", {Kind.URL}),
    **_attrs("email email-src email-dst target-email whois-registrant-email email-reply-to dns-soa-email",
             {Kind.EMAIL}),
    **_attrs("md5 filename|md5 malware-sample x509-fingerprint-md5", {Kind.MD5}),
    **_attrs("sha1 filename|sha1 x509-fingerprint-sha1", {Kind.SHA1}),
    **_attrs("sha256 filename|sha256 x509-fingerprint-sha256", {Kind.SHA256}),
    **_attrs("sha512 filename|sha512", {Kind.SHA512}),
    **_attrs("phone-number whois-registrant-phone", {Kind.PHONE}),
    **_attrs("iban", {Kind.IBAN}),
    **_attrs("bic", {Kind.BIC}),
    **_attrs("bin", {Kind.BIN}),
    **_attrs("btc xmr dash", {Kind.WALLET}),
    **_attrs("AS", {Kind.ASN}),
}
#: In a cidr list the address part of these attribute types is what is matched.
_CIDR_ATTRIBUTE_KINDS = _attrs("ip-src ip-dst ip-src|port ip-dst|port domain|ip", _NETWORK)
#: The kinds each list type can match at all.
_TYPE_KINDS: dict[ListType, frozenset[Kind]] = {
    ListType.CIDR: _NETWORK,
    ListType.HOSTNAME: _HOSTED,
    ListType.STRING: frozenset(Kind),
    ListType.SUBSTRING: frozenset(Kind),
    ListType.REGEX: frozenset(Kind),
}


def kinds_for(list_type: ListType | str, matching_attributes: Iterable[str]) -> frozenset[Kind]:
    """Our kinds that a list of ``list_type`` applies to, from its MISP ``matching_attributes``."""
    type_ = ListType(list_type)
    attributes = list(matching_attributes)
    if not attributes or "ALL" in attributes:
        return _TYPE_KINDS[type_]
    table = _CIDR_ATTRIBUTE_KINDS if type_ is ListType.CIDR else _ATTRIBUTE_KINDS
    found: set[Kind] = set()
    for attribute in attributes:
        found |= table.get(attribute, frozenset())
    return frozenset(found) & _TYPE_KINDS[type_]


@dataclass(frozen=True, slots=True)
class Warninglist:
    """One MISP warninglist, its entries as written in the file."""

    name: str
    version: int
    description: str
    type: ListType
    kinds: frozenset[Kind]
    entries: tuple[str, ...]
    title: str = ""
    matching_attributes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # Lists rebuilt from storage come back with plain strings.
        try:
            object.__setattr__(self, "type", ListType(self.type))
        except ValueError:
            raise WarninglistError(self.name, f"unknown type {self.type!r}") from None
        object.__setattr__(self, "version", _version(self.version, self.name))
        object.__setattr__(self, "kinds", frozenset(Kind(k) for k in self.kinds))


def _version(value: Any, source: str | Path) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    raise WarninglistError(source, f"version must be a whole number, not {value!r}")


def _network(entry: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """An entry of a cidr list; a bare address is a one-address network, host bits are cleared."""
    return ipaddress.ip_network(entry.strip(), strict=False)


_DELIMITED = re.compile(r"(?s)([/#~!%@])(.*)\1([a-zA-Z]*)")
_FLAGS = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL, "x": re.VERBOSE,
          "u": 0, "g": 0}  # u: str patterns are Unicode already; g: a JavaScript habit, meaningless here


def _regex(entry: str) -> re.Pattern[str]:
    """Compile an entry of a regex list: MISP writes PHP patterns, ``/pattern/flags``."""
    found = _DELIMITED.fullmatch(entry)
    if found is None:
        return re.compile(entry)
    flags = 0
    for letter in found.group(3):
        if letter not in _FLAGS:
            raise re.error(f"unsupported flag {letter!r}")
        flags |= _FLAGS[letter]
    return re.compile(found.group(2), flags)


_REQUIRED = ("name", "version", "description", "type", "list")


def parse(data: Any, *, name: str, source: str | Path | None = None) -> Warninglist:
    """Validate a decoded ``list.json`` and return it as the list ``name``."""
    where = source if source is not None else name
    if not isinstance(data, dict):
        raise WarninglistError(where, "not a JSON object")
    missing = [field for field in _REQUIRED if field not in data]
    if missing:
        raise WarninglistError(where, "missing field " + ", ".join(repr(f) for f in missing))
    for field in ("name", "description"):
        if not isinstance(data[field], str):
            raise WarninglistError(where, f"{field!r} must be a string")
    try:
        list_type = ListType(data["type"])
    except ValueError:
        known = ", ".join(t.value for t in ListType)
        raise WarninglistError(where, f"unknown type {data['type']!r} (expected one of {known})") from None
    raw = data["list"]
    if isinstance(raw, Mapping):  # MISP also takes {entry: comment}
        raw = list(raw)
    if not isinstance(raw, list):
        raise WarninglistError(where, "'list' must be an array of strings")
    for position, entry in enumerate(raw):
        if not isinstance(entry, str):
            raise WarninglistError(where, f"entry {position} is not a string: {entry!r}")
    attributes = data.get("matching_attributes") or []
    if not isinstance(attributes, list) or not all(isinstance(a, str) for a in attributes):
        raise WarninglistError(where, "'matching_attributes' must be an array of strings")
    entries: tuple[str, ...] = tuple(raw)
    _check_entries(list_type, entries, where)
    return Warninglist(
        name=name, version=_version(data["version"], where), description=data["description"], type=list_type,
        kinds=kinds_for(list_type, attributes), entries=entries, title=data["name"],
        matching_attributes=tuple(attributes),
    )


def _check_entries(list_type: ListType, entries: tuple[str, ...], where: str | Path) -> None:
    for position, entry in enumerate(entries):
        if list_type is ListType.CIDR:
            try:
                _network(entry)
            except ValueError:
                raise WarninglistError(where, f"entry {position} ({entry!r}) is not an IP network") from None
        elif list_type is ListType.REGEX:
            try:
                _regex(entry)
            except re.error as exc:
                raise WarninglistError(
                    where, f"entry {position} ({entry!r}) is not a valid regular expression: {exc}") from None


def load_file(path: str | Path) -> Warninglist:
    """Load one ``list.json`` (named after its folder) or ``<name>.json`` file."""
    path = Path(path)
    try:
        data = json.loads(path.read_bytes())
    except OSError as exc:
        raise WarninglistError(path, f"cannot be read: {exc.strerror or exc}") from None
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
        raise WarninglistError(path, f"not valid JSON: {exc}") from None
    name = path.parent.name if path.name == "list.json" else path.stem
    return parse(data, name=name, source=path)


def load_dir(path: str | Path) -> list[Warninglist]:
    """Load every list in a folder of ``<name>/list.json`` folders or ``<name>.json`` files."""
    root = Path(path)
    if not root.is_dir():
        raise WarninglistError(root, "not a folder")
    lists: list[Warninglist] = []
    for child in sorted(root.iterdir()):
        if child.is_dir() and (child / "list.json").is_file():
            lists.append(load_file(child / "list.json"))
        elif child.suffix == ".json" and child.is_file():
            lists.append(load_file(child))
    seen: set[str] = set()
    for wl in lists:
        if wl.name in seen:
            raise WarninglistError(root, f"two lists are named {wl.name!r}")
        seen.add(wl.name)
    return lists


def default_lists_dir() -> Path:
    """The MISP warninglists shipped with nordcert (see the README beside them)."""
    return Path(__file__).parent / "data" / "warninglists"


_Probe = tuple[int, int, dict[int, frozenset[str]]]  # (prefix length, shift, network >> shift -> names)


class _Cidr:
    """Networks by prefix length: one set probe per prefix length present, so at most 33 (IPv4) or
    129 (IPv6) per value. Lengths up to /16 (IPv4) or /32 (IPv6) are probed for every value, the
    longer ones only where the value's /16 or /32 holds such networks: most values cost ~10 probes."""

    _BITS = {4: 32, 6: 128}
    _SPLIT = {4: 16, 6: 32}

    def __init__(self) -> None:
        self._building: dict[int, dict[int, dict[int, set[str]]]] = {4: {}, 6: {}}
        self._short: dict[int, tuple[_Probe, ...]] = {4: (), 6: ()}
        self._long: dict[int, dict[int, tuple[_Probe, ...]]] = {4: {}, 6: {}}

    def add(self, network: ipaddress.IPv4Network | ipaddress.IPv6Network, name: str) -> None:
        shift = network.max_prefixlen - network.prefixlen
        by_length = self._building[network.version].setdefault(network.prefixlen, {})
        by_length.setdefault(int(network.network_address) >> shift, set()).add(name)

    def freeze(self) -> None:
        for version, tables in self._building.items():
            bits, split = self._BITS[version], self._SPLIT[version]
            self._short[version] = tuple(
                (length, bits - length, {key: frozenset(names) for key, names in tables[length].items()})
                for length in sorted(tables) if length <= split)
            buckets: dict[int, dict[int, dict[int, frozenset[str]]]] = {}
            for length in sorted(tables):
                if length > split:
                    for key, names in tables[length].items():
                        bucket = buckets.setdefault(key >> (length - split), {})
                        bucket.setdefault(length, {})[key] = frozenset(names)
            self._long[version] = {top: tuple((length, bits - length, table) for length, table in by_length.items())
                                   for top, by_length in buckets.items()}
        self._building = {4: {}, 6: {}}

    def hits(self, value: str, out: set[str]) -> None:
        """Add the lists with a network that holds the address, or the whole network, ``value``."""
        address, _, length = value.partition("/")
        version = 6 if ":" in address else 4
        try:
            packed = socket.inet_pton(socket.AF_INET6 if version == 6 else socket.AF_INET, address)
            prefix = int(length) if length else 8 * len(packed)
        except (OSError, ValueError):
            return
        number = int.from_bytes(packed, "big")
        for probe_length, shift, table in self._short[version]:
            if probe_length > prefix:
                return
            names = table.get(number >> shift)
            if names:
                out |= names
        bits, split = self._BITS[version], self._SPLIT[version]
        if prefix > split:
            for probe_length, shift, table in self._long[version].get(number >> (bits - split), ()):
                if probe_length > prefix:
                    return
                names = table.get(number >> shift)
                if names:
                    out |= names


class _Substrings:
    """Entries found inside a value without looping over the entries.

    Entries are indexed by their first ``_GRAM`` characters, each with the lengths of the entries
    that start so; a value costs one probe per position, and one more per candidate length.
    """

    _GRAM = 4

    def __init__(self) -> None:
        self._entries: dict[str, set[str]] = {}
        self._starts: dict[str, tuple[int, ...]] = {}
        self._short: tuple[int, ...] = ()

    def add(self, entry: str, name: str) -> None:
        self._entries.setdefault(entry, set()).add(name)

    def freeze(self) -> None:
        starts: dict[str, set[int]] = {}
        short: set[int] = set()
        for entry in self._entries:
            if len(entry) < self._GRAM:
                short.add(len(entry))
            else:
                starts.setdefault(entry[:self._GRAM], set()).add(len(entry))
        self._starts = {gram: tuple(sorted(lengths)) for gram, lengths in starts.items()}
        self._short = tuple(sorted(short))

    def hits(self, value: str, out: set[str]) -> None:
        entries, starts, gram = self._entries, self._starts, self._GRAM
        for i in range(len(value) - gram + 1):
            lengths = starts.get(value[i:i + gram])
            if lengths:
                for length in lengths:
                    names = entries.get(value[i:i + length])
                    if names:
                        out |= names
        for length in self._short:
            for i in range(len(value) - length + 1):
                names = entries.get(value[i:i + length])
                if names:
                    out |= names


class _Plan:
    """What one kind of value is matched against."""

    __slots__ = ("exact", "hostnames", "substrings", "regexes", "cidr")

    def __init__(self) -> None:
        self.exact: dict[str, frozenset[str]] = {}
        self.hostnames: dict[str, frozenset[str]] = {}
        self.substrings: _Substrings | None = None
        self.regexes: list[tuple[re.Pattern[str], str]] = []
        self.cidr: _Cidr | None = None


def _lenient(kind: Kind, entry: str) -> str:
    """Tidy an entry before normalising it: lists carry upper case, and leading or trailing dots."""
    text = entry.strip()
    if kind is Kind.DOMAIN:
        return text.strip(".").lower()
    if kind is Kind.EMAIL:
        return text.rstrip(".").lower()
    return text


def _slot(building: dict[Kind, dict[str, dict[str, set[str]]]], kind: Kind, table: str, value: str) -> set[str]:
    return building.setdefault(kind, {}).setdefault(table, {}).setdefault(value, set())


def _normalised(kind: Kind, entry: str) -> str | None:
    try:
        got_kind, value = normalise(kind, _lenient(kind, entry))
    except ObservableError:
        return None
    return value if got_kind is kind else None


def _hostname(entry: str) -> str | None:
    """An entry of a hostname list as a domain; a single label (a brand TLD such as ``.barclays``)
    is kept too, since it matches the names under it."""
    value = _normalised(Kind.DOMAIN, entry)
    if value is None and "." not in _lenient(Kind.DOMAIN, entry):
        value = _normalised(Kind.DOMAIN, "x." + _lenient(Kind.DOMAIN, entry))
        return None if value is None else value[2:]
    return value


def _phone_forms(value: str) -> tuple[str, ...]:
    """An E.164 number, and the same with a trunk '0' after the country code: MISP's lists write
    numbers that way (``((?:\\+|00)46)?07017406…``), which E.164 (``+46701740605``) never matches."""
    for length in (1, 2, 3):
        if value[1:1 + length].isdigit() and int(value[1:1 + length]) in COUNTRY_CODE_TO_REGION_CODE:
            return value, f"{value[:1 + length]}0{value[1 + length:]}"
    return (value,)


class Matcher:
    """Which warninglists a normalised observable is on; built once, then read by many threads."""

    def __init__(self, lists: Iterable[Warninglist]) -> None:
        self.lists: tuple[Warninglist, ...] = tuple(lists)
        self._skipped: dict[str, int] = {}
        building: dict[Kind, dict[str, dict[str, set[str]]]] = {}
        plans: dict[Kind, _Plan] = {}
        for wl in self.lists:
            self._skipped[wl.name] = self._skipped.get(wl.name, 0) + self._add(wl, plans, building)
        for kind, plan in plans.items():
            tables = building.get(kind, {})
            plan.exact = {v: frozenset(n) for v, n in tables.get("exact", {}).items()}
            plan.hostnames = {v: frozenset(n) for v, n in tables.get("hostnames", {}).items()}
            if plan.substrings is not None:
                plan.substrings.freeze()
            if plan.cidr is not None:
                plan.cidr.freeze()
        self._plans = plans

    @staticmethod
    def _add(wl: Warninglist, plans: dict[Kind, _Plan],
             building: dict[Kind, dict[str, dict[str, set[str]]]]) -> int:
        """Index one list for each of its kinds; return how many entries no kind could use."""
        kinds = sorted(wl.kinds & _TYPE_KINDS[wl.type])
        if not kinds:
            return 0
        for kind in kinds:
            plans.setdefault(kind, _Plan())
        used = [False] * len(wl.entries)
        if wl.type is ListType.HOSTNAME:
            for position, entry in enumerate(wl.entries):
                value = _hostname(entry)
                if value is not None:
                    used[position] = True
                    for kind in kinds:
                        _slot(building, kind, "hostnames", value).add(wl.name)
        elif wl.type is ListType.STRING:
            for kind in kinds:
                for position, entry in enumerate(wl.entries):
                    value = _normalised(kind, entry)
                    if value is not None:
                        used[position] = True
                        _slot(building, kind, "exact", value).add(wl.name)
        elif wl.type is ListType.SUBSTRING:
            for position, entry in enumerate(wl.entries):
                text = entry.strip().lower()
                if text:
                    used[position] = True
                    for kind in kinds:
                        plan = plans[kind]
                        plan.substrings = plan.substrings or _Substrings()
                        plan.substrings.add(text, wl.name)
        elif wl.type is ListType.REGEX:
            for position, entry in enumerate(wl.entries):
                try:
                    pattern = _regex(entry)
                except re.error:
                    continue
                used[position] = True
                for kind in kinds:
                    plans[kind].regexes.append((pattern, wl.name))
        else:
            for position, entry in enumerate(wl.entries):
                try:
                    network = _network(entry)
                except ValueError:
                    continue
                for kind in kinds:
                    if kind is Kind.CIDR or kind is (Kind.IPV4 if network.version == 4 else Kind.IPV6):
                        used[position] = True
                        plan = plans[kind]
                        plan.cidr = plan.cidr or _Cidr()
                        plan.cidr.add(network, wl.name)
        return used.count(False)

    def match(self, kind: Kind, value: str) -> list[str]:
        """Names of the lists that ``value`` (normalised, as :func:`normalise` returns it) is on, sorted."""
        plan = self._plans.get(kind)
        if plan is None:
            return []
        hits: set[str] = set()
        names = plan.exact.get(value)
        if names:
            hits |= names
        if plan.hostnames:
            self._hostname_hits(kind, value, plan.hostnames, hits)
        if plan.substrings is not None:
            plan.substrings.hits(value.lower(), hits)
        if plan.regexes:
            forms = _phone_forms(value) if kind is Kind.PHONE else (value,)
            for pattern, name in plan.regexes:
                if name not in hits and any(pattern.search(form) for form in forms):
                    hits.add(name)
        if plan.cidr is not None:
            plan.cidr.hits(value, hits)
        return sorted(hits)

    @staticmethod
    def _hostname_hits(kind: Kind, value: str, table: dict[str, frozenset[str]], hits: set[str]) -> None:
        host: str | None = value
        if kind is Kind.URL:
            found = url_host(value)
            host = found[1] if found is not None and found[0] is Kind.DOMAIN else None
        elif kind is Kind.EMAIL:
            host = value.rpartition("@")[2] or None
        if host is None:
            return
        for candidate in (host, *parent_domains(host)):
            names = table.get(candidate)
            if names:
                hits |= names

    def describe(self) -> list[dict[str, Any]]:
        """One row per list for an admin listing; ``skipped`` counts entries no kind could use."""
        return [
            {"name": wl.name, "title": wl.title, "version": wl.version, "type": wl.type.value,
             "kinds": sorted(k.value for k in wl.kinds), "entries": len(wl.entries),
             "skipped": self._skipped.get(wl.name, 0)}
            for wl in self.lists
        ]

    def inert(self) -> list[str]:
        """Names of the lists that can match nothing: no kind of ours, or no usable entry."""
        return [row["name"] for row in self.describe()
                if not (set(row["kinds"]) & _TYPE_KINDS[ListType(row["type"])]) or row["skipped"] == row["entries"]]

