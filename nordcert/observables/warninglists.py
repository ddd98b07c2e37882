"""Warninglists: known-good values that flag an observable as a likely false positive.

Reads the MISP warninglist format (``list.json`` with ``name``, ``version``, ``description``,
``type``, ``list`` and ``matching_attributes``; github.com/MISP/misp-warninglists, "Format of a
warning list") and matches normalised observables with MISP's semantics per list type (MISP
``app/Model/Warninglist.php``, ``checkValue``): ``string`` exact, ``hostname`` the domain or a
parent of it (for a URL its host, for an e-mail address its domain), ``substring`` (ignoring
case), ``regex`` (``re.search``) and ``cidr`` (an address in, or a network inside, a listed
network). A list without ``matching_attributes`` applies to every kind its type can match, as
MISP's ``ALL``; attribute types we have no kind for are ignored.

Where MISP compares raw strings we normalise: string and hostname entries are normalised for the
value's kind (upper case, leading and trailing dots are common; an entry that does not normalise
is skipped and counted), and a phone pattern written with a national trunk '0' also matches the
E.164 form of the number.

A list is known by its folder name (``rfc1918`` for ``rfc1918/list.json``) or file stem; MISP's
``name`` field is kept as its ``title``.
"""

from __future__ import annotations

import enum
import ipaddress
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from phonenumbers import COUNTRY_CODE_TO_REGION_CODE

from nordcert.observables._warninglist_index import CidrTable, SubstringFinder, compile_entry
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
                compile_entry(entry)
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


_ALPHABETS: dict[Kind, frozenset[str]] = {
    Kind.IPV4: frozenset("0123456789."), Kind.IPV6: frozenset("0123456789abcdef:."),
    Kind.CIDR: frozenset("0123456789abcdef:./"), Kind.PHONE: frozenset("+0123456789"),
    **dict.fromkeys((Kind.MD5, Kind.SHA1, Kind.SHA256, Kind.SHA512), frozenset("0123456789abcdef")),
}


def _lenient(kind: Kind, entry: str) -> str:
    """Tidy an entry before normalising it: lists carry upper case, and leading or trailing dots."""
    text = entry.strip()
    if kind is Kind.DOMAIN:
        return text.strip(".").lower()
    return text.rstrip(".") if kind is Kind.EMAIL else text


def _normalised(kind: Kind, entry: str) -> str | None:
    try:
        got, value = normalise(kind, _lenient(kind, entry))
    except ObservableError:
        return None
    return value if got is kind else None


def _only_domains(entries: tuple[str, ...]) -> bool:
    """Is every entry a domain name of at least two labels?"""
    return bool(entries) and all(_normalised(Kind.DOMAIN, e) is not None and "." in e.strip(".") for e in entries)


def _hostname(entry: str) -> str | None:
    """A hostname-list entry as a domain; a single label (a brand TLD such as ``.barclays``) is
    kept too, as it covers the names under it."""
    value = _normalised(Kind.DOMAIN, entry)
    if value is None and "." not in _lenient(Kind.DOMAIN, entry):
        value = _normalised(Kind.DOMAIN, "x." + _lenient(Kind.DOMAIN, entry))
        return None if value is None else value[2:]
    return value


def _phone_forms(value: str) -> tuple[str, ...]:
    """An E.164 number, and the same with a trunk '0' after the country code: MISP's lists write
    national ranges that way (``((?:\\+|00)46)?07017406...``), which ``+46701740605`` never matches."""
    for length in (1, 2, 3):
        code = value[1:1 + length]
        if code.isdigit() and int(code) in COUNTRY_CODE_TO_REGION_CODE:
            return value, f"{value[:1 + length]}0{value[1 + length:]}"
    return (value,)


class _Plan:
    """What a value of one kind is matched against."""

    __slots__ = ("cidr", "exact", "hostnames", "regexes", "substrings")

    def __init__(self) -> None:
        self.exact: dict[str, set[str]] = {}
        self.hostnames: dict[str, set[str]] = {}
        self.substrings: list[tuple[SubstringFinder, str]] = []
        self.regexes: list[tuple[re.Pattern[str], str]] = []
        self.cidr: CidrTable | None = None


class Matcher:
    """Which warninglists a normalised observable is on. Built once, then only read (thread-safe)."""

    def __init__(self, lists: Iterable[Warninglist]) -> None:
        self.lists: tuple[Warninglist, ...] = tuple(lists)
        self._plans: dict[Kind, _Plan] = {}
        self._skipped: dict[str, int] = {}
        for wl in self.lists:
            kinds = sorted(wl.kinds & _TYPE_KINDS[wl.type])
            plans = [self._plans.setdefault(kind, _Plan()) for kind in kinds]
            used = self._add(wl, dict(zip(kinds, plans, strict=True)))
            self._skipped[wl.name] = self._skipped.get(wl.name, 0) + (used.count(False) if kinds else 0)
        for plan in self._plans.values():
            if plan.cidr is not None:
                plan.cidr.freeze()

    @staticmethod
    def _add(wl: Warninglist, plans: dict[Kind, _Plan]) -> list[bool]:
        """Index ``wl`` in the plan of each of its kinds; return which entries some kind could use."""
        used = [False] * len(wl.entries)
        if wl.type is ListType.STRING or wl.type is ListType.HOSTNAME:
            hostnames = [_hostname(entry) for entry in wl.entries] if wl.type is ListType.HOSTNAME else []
            for kind, plan in plans.items():
                table = plan.hostnames if hostnames else plan.exact
                for position, entry in enumerate(wl.entries):
                    value = hostnames[position] if hostnames else _normalised(kind, entry)
                    if value is not None:
                        used[position] = True
                        table.setdefault(value, set()).add(wl.name)
        elif wl.type is ListType.SUBSTRING and _only_domains(wl.entries):
            # MISP matches these entries anywhere in the value, so 'tmail.com' (disposable-email) flags
            # every @hotmail.com address as a likely false positive. A list made only of domain names is
            # matched as domains and their subdomains instead: a deliberate difference from MISP.
            hostnames = [_normalised(Kind.DOMAIN, entry) for entry in wl.entries]
            for kind, plan in plans.items():
                if kind not in (Kind.DOMAIN, Kind.URL, Kind.EMAIL):
                    continue
                for position, host in enumerate(hostnames):
                    if host is not None:
                        used[position] = True
                        plan.hostnames.setdefault(host, set()).add(wl.name)
        elif wl.type is ListType.SUBSTRING:
            texts = [entry.strip().lower() for entry in wl.entries]
            for kind, plan in plans.items():
                alphabet = _ALPHABETS.get(kind)
                fits = [bool(t) and (alphabet is None or alphabet.issuperset(t)) for t in texts]
                if any(fits):
                    plan.substrings.append((SubstringFinder(t for t, ok in zip(texts, fits, strict=True) if ok), wl.name))
                    used = [u or ok for u, ok in zip(used, fits, strict=True)]
        elif wl.type is ListType.REGEX:
            patterns = []
            for position, entry in enumerate(wl.entries):
                try:
                    patterns.append(compile_entry(entry))
                except re.error:
                    continue
                used[position] = True
            for plan in plans.values():
                plan.regexes.extend((pattern, wl.name) for pattern in patterns)
        else:
            for position, entry in enumerate(wl.entries):
                try:
                    network = _network(entry)
                except ValueError:
                    continue
                for kind, plan in plans.items():
                    if kind is Kind.CIDR or kind is (Kind.IPV4 if network.version == 4 else Kind.IPV6):
                        used[position] = True
                        plan.cidr = plan.cidr or CidrTable()
                        plan.cidr.add(network, wl.name)
        return used

    def match(self, kind: Kind, value: str) -> list[str]:
        """Names of the lists ``value`` is on, sorted; the value must be normalised (:func:`normalise`)."""
        plan = self._plans.get(kind)
        if plan is None:
            return []
        hits: set[str] = set()
        names = plan.exact.get(value)
        if names:
            hits |= names
        if plan.hostnames:
            self._hostname_hits(kind, value, plan.hostnames, hits)
        if plan.substrings:
            text = value.lower()
            hits.update(name for finder, name in plan.substrings if name not in hits and finder.found(text))
        if plan.regexes:
            forms = _phone_forms(value) if kind is Kind.PHONE else (value,)
            for pattern, name in plan.regexes:
                if name not in hits and any(pattern.search(form) for form in forms):
                    hits.add(name)
        if plan.cidr is not None:
            plan.cidr.hits(value, hits)
        return sorted(hits)

    @staticmethod
    def _hostname_hits(kind: Kind, value: str, table: dict[str, set[str]], hits: set[str]) -> None:
        """MISP's hostname match: the value's domain, or one of its parents, is on the list."""
        host: str | None = value
        if kind is Kind.URL:
            found = url_host(value)
            host = found[1] if found is not None and found[0] is Kind.DOMAIN else None
        elif kind is Kind.EMAIL:
            host = value.rpartition("@")[2]
        if not host:
            return
        for candidate in (host, *parent_domains(host)):
            names = table.get(candidate)
            if names:
                hits |= names

    def describe(self) -> list[dict[str, Any]]:
        """One row per list for an admin listing; ``skipped`` counts the entries no kind could use."""
        return [
            {"name": wl.name, "title": wl.title, "version": wl.version, "type": wl.type.value,
             "kinds": sorted(k.value for k in wl.kinds & _TYPE_KINDS[wl.type]), "entries": len(wl.entries),
             "skipped": self._skipped.get(wl.name, 0)}
            for wl in self.lists
        ]

    def inert(self) -> list[str]:
        """Names of the lists that can match nothing: no kind of ours, or no usable entry."""
        return [row["name"] for row in self.describe() if not row["kinds"] or row["skipped"] == row["entries"]]
