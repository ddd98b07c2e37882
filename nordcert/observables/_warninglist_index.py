"""Fast look-ups behind :class:`nordcert.observables.warninglists.Matcher`.

Each answers for one value without a loop over a list's entries: :class:`CidrTable` probes one
set per prefix length and :class:`SubstringFinder` scans the value once. :func:`compile_entry`
reads regex entries, which MISP writes the PHP way, ``/pattern/flags``.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Iterable
from typing import ClassVar

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_Probe = tuple[int, int, dict[int, frozenset[str]]]  # (prefix length, shift, network >> shift -> list names)
_Trie = dict[str, "_Trie"]


class CidrTable:
    """Networks by prefix length: one set probe per length present, at most 33 (IPv4) or 129 (IPv6).

    Lengths up to /16 (IPv4) or /32 (IPv6) are probed for every value, longer ones only where the
    value's /16 or /32 holds networks that long, so most values cost about ten probes.
    """

    _BITS: ClassVar[dict[int, int]] = {4: 32, 6: 128}
    _SPLIT: ClassVar[dict[int, int]] = {4: 16, 6: 32}

    def __init__(self) -> None:
        self._building: dict[int, dict[int, dict[int, set[str]]]] = {4: {}, 6: {}}
        self._short: dict[int, tuple[_Probe, ...]] = {4: (), 6: ()}
        self._long: dict[int, dict[int, tuple[_Probe, ...]]] = {4: {}, 6: {}}

    def add(self, network: Network, name: str) -> None:
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
        """Add the names of the lists with a network holding the address, or the network, ``value``."""
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


class SubstringFinder:
    """Whether any of a list's entries occurs in a value.

    Up to ``TRIE_UP_TO`` entries become one regular expression shaped as a trie (the engine then
    tries a handful of characters per position, whatever the number of entries). Longer lists
    (disposable-email has 8,000+) would compile slowly that way; they are indexed by the first
    ``GRAM`` characters of each entry, with the lengths of the entries that start so, and a value
    costs a set probe per position plus one per candidate length.
    """

    TRIE_UP_TO = 2000
    TRIE_LONGEST = 100  # the pattern nests a group per character; deeper would strain the recursion limit
    GRAM = 5

    def __init__(self, entries: Iterable[str]) -> None:
        self._entries = frozenset(e for e in entries if e)
        self._regex: re.Pattern[str] | None = None
        self._starts: dict[str, tuple[int, ...]] = {}
        self._short: tuple[int, ...] = ()
        if not self._entries:
            return
        if len(self._entries) <= self.TRIE_UP_TO and max(map(len, self._entries)) <= self.TRIE_LONGEST:
            self._regex = re.compile(_trie_pattern(self._entries))
            return
        starts: dict[str, set[int]] = {}
        for entry in self._entries:
            starts.setdefault(entry[:self.GRAM], set()).add(len(entry))
        self._short = tuple(sorted({len(e) for e in self._entries if len(e) < self.GRAM}))
        self._starts = {gram: tuple(sorted(n)) for gram, n in starts.items() if len(gram) == self.GRAM}

    def found(self, value: str) -> bool:
        if self._regex is not None:
            return self._regex.search(value) is not None
        entries, starts, gram = self._entries, self._starts, self.GRAM
        for i in range(len(value) - gram + 1):
            lengths = starts.get(value[i:i + gram])
            if lengths and any(value[i:i + n] in entries for n in lengths):
                return True
        return any(value[i:i + n] in entries for n in self._short for i in range(len(value) - n + 1))


def _trie_pattern(words: Iterable[str]) -> str:
    """An alternation of the literal ``words`` with common prefixes factored out: ab|ac -> a(?:b|c)."""
    trie: _Trie = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}
    return _trie_node(trie)


def _trie_node(node: _Trie) -> str:
    if "" in node:  # a word ends here: for a search, the longer words through here add nothing
        return ""
    branches = [re.escape(char) + _trie_node(child) for char, child in sorted(node.items())]
    return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"


_DELIMITED = re.compile(r"(?s)([/#~!%@])(.*)\1([a-zA-Z]*)")
_FLAGS = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL, "x": re.VERBOSE,
          "u": 0, "g": 0}  # u: Python patterns are Unicode anyway; g (a JavaScript habit) changes nothing for a search


def compile_entry(entry: str) -> re.Pattern[str]:
    """Compile a regex entry, written ``/pattern/flags`` (PHP's form, which MISP uses) or bare."""
    found = _DELIMITED.fullmatch(entry)
    if found is None:
        return re.compile(entry)
    flags = 0
    for letter in found.group(3):
        if letter not in _FLAGS:
            raise re.error(f"unsupported flag {letter!r}")
        flags |= _FLAGS[letter]
    return re.compile(found.group(2), flags)
