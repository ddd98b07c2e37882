"""STIX 2.1 patterning (STIX 2.1 §9): validation by the OASIS ``stix2-patterns`` grammar.

The ANTLR parser costs ~150 µs a pattern, which would dominate bulk ingest. Most indicator
patterns are plain comparisons of a property with a string (``[ipv4-addr:value = '…']``), so a
strict recogniser accepts that shape directly; a pattern it does not fully recognise goes to
``stix2-patterns``. The recogniser accepts only what the grammar accepts (a property test
checks it against ``stix2-patterns`` on generated patterns) and applies the same hash checks.
"""

from __future__ import annotations

import re
from functools import lru_cache

from stix2patterns.v21.object_validator import HASHES_REGEX
from stix2patterns.validator import run_validator

_KEYWORDS = frozenset(
    ["AND", "OR", "NOT", "FOLLOWEDBY", "LIKE", "MATCHES", "ISSUPERSET", "ISSUBSET", "EXISTS", "LAST", "IN", "START", "STOP", "SECONDS", "true", "false", "WITHIN", "REPEATS", "TIMES"]
)
_WS = r"[ \t\r\n]"
_IDENT = r"[a-zA-Z_][a-zA-Z0-9_]*"
_TYPE = r"[a-zA-Z_][a-zA-Z0-9_-]*"
_STR = r"'(?:[^'\\]|\\['\\])*'"
_PATH = rf"{_IDENT}(?:\.(?:{_IDENT}|{_STR}))*"
_COMP = rf"{_TYPE}:{_PATH}{_WS}*!?={_WS}*{_STR}"
_OBS = rf"\[{_WS}*{_COMP}(?:{_WS}+(?:AND|OR){_WS}+{_COMP})*{_WS}*\]"
_SIMPLE = re.compile(rf"{_WS}*{_OBS}(?:{_WS}+(?:AND|OR){_WS}+{_OBS})*{_WS}*", re.DOTALL)
_COMPARISON = re.compile(rf"({_TYPE}):({_PATH}){_WS}*(!?=){_WS}*({_STR})", re.DOTALL)
_PATH_PART = re.compile(rf"{_IDENT}|{_STR}", re.DOTALL)


# The commonest pattern of all, one comparison with a plain string (``[ipv4-addr:value = '…']``),
# read by one expression: bulk feeds are made of little else.
_ONE = re.compile(
    r"\[([a-z][a-z0-9-]*):([a-z_][a-z0-9_]*(?:\.(?:[a-z_][a-z0-9_]*|'[A-Za-z0-9_-]+'))*) = '([^'\\]*)'\]"
)
_HASH_RE = {name: re.compile(regex) for name, (regex, _label) in HASHES_REGEX.items()}


# Ingest validates a pattern, then extracts its observables: the second call is answered from the
# first. One entry, replaced as a whole, so threads never see a half-written pair.
_LAST: tuple[str | None, tuple[list[str], Comparison] | None] = (None, None)


def _one(pattern: str) -> tuple[list[str], Comparison] | None:
    """(problems, its comparison) of a one-comparison pattern; None when the general path must read it."""
    global _LAST
    last = _LAST
    if last[0] is pattern:
        return last[1]
    found = _one_uncached(pattern)
    _LAST = (pattern, found)
    return found


def _one_uncached(pattern: str) -> tuple[list[str], Comparison] | None:
    m = _ONE.fullmatch(pattern)
    if m is None:
        return None
    obj_type, path, value = m.groups()
    parts = _PARTS.get((obj_type, path), _UNSEEN)
    if parts is _UNSEEN:
        parts = _parts(obj_type, path)
    if parts is None:
        return None
    problems: list[str] = []
    if "hashes" in parts:
        regex = _HASH_RE.get(parts[-1].upper().replace("-", ""))
        if regex is not None and not regex.match(value):
            problems.append(f"FAIL: '{value}' is not a valid {path.rpartition('.')[2]} hash")
    return problems, (obj_type, parts, "=", (value,))


# The (type, path) pairs of one-comparison patterns seen: a feed uses a handful. Bounded.
_PARTS: dict[tuple[str, str], tuple[str, ...] | None] = {}
_UNSEEN: tuple[str, ...] = ("",)


def _parts(obj_type: str, path: str) -> tuple[str, ...] | None:
    """The components of a path read by ``_ONE``, unquoted; None when a keyword leaves it to the grammar."""
    parts = tuple(p[1:-1] if p[0] == "'" else p for p in path.split("."))
    found = None if obj_type in _KEYWORDS or not _KEYWORDS.isdisjoint(parts) else parts
    if len(_PARTS) >= 4096:
        _PARTS.clear()
    _PARTS[obj_type, path] = found
    return found


def validate_pattern(pattern: str) -> list[str]:
    """The problems with a STIX 2.1 pattern; empty when it is valid."""
    one = _one(pattern)
    if one is not None:
        return one[0]
    if not pattern.strip():
        return ["the pattern is empty"]
    if _SIMPLE.fullmatch(pattern):
        verdict = _check_simple(pattern)
        if verdict is not None:
            return verdict
    return _full_validate(pattern)


def _check_simple(pattern: str) -> list[str] | None:
    """Errors for a pattern of the simple shape, or None when the grammar must decide."""
    errors: list[str] = []
    for m in _COMPARISON.finditer(pattern):
        obj_type, path, _op, literal = m.groups()
        if obj_type in _KEYWORDS:
            return None
        parts = _PATH_PART.findall(path)
        if any(p in _KEYWORDS for p in parts if not p.startswith("'")):
            return None
        # The grammar unescapes quoted components ('hashes' is hashes): leave those to it.
        if "'" in path and any(p.startswith("'") and ("\\" in p or i < len(parts) - 1) for i, p in enumerate(parts)):
            return None
        if "hashes" in parts:
            hash_type = parts[-1].upper().replace("-", "").replace("'", "")
            value = literal.replace("'", "")
            if hash_type in HASHES_REGEX and not re.match(HASHES_REGEX[hash_type][0], value):
                errors.append(f"FAIL: '{value}' is not a valid {parts[-1]} hash")
    return errors


@lru_cache(maxsize=4096)
def _full_validate(pattern: str) -> list[str]:
    try:
        return list(run_validator(pattern, stix_version="2.1"))
    except Exception as exc:  # noqa: BLE001 - the grammar's inspector crashes on some inputs
        return [f"the pattern could not be parsed ({type(exc).__name__}: {exc})"]


#: One comparison of a pattern: (object type, property path, operator, literals). The path's
#: list indexes (``[*]``, ``[0]``) are dropped; quoted components are unquoted. Only ``=`` and ``IN``
#: comparisons that are not negated are returned, with their string or integer literals.
Comparison = tuple[str, tuple[str, ...], str, tuple[str | int, ...]]

_STR_LITERAL = re.compile(_STR, re.DOTALL)
_INT_LITERAL = re.compile(r"[+-]?[0-9]+")


def _unquote(literal: str) -> str:
    """The value of a STIX pattern string literal (STIX 2.1 §9.3: only \\' and \\\\ are escapes)."""
    return literal[1:-1].replace("\\'", "'").replace("\\\\", "\\")


def _literals(op: str, raw: str) -> tuple[str | int, ...]:
    if op == "IN":
        return tuple(_unquote(s) for s in _STR_LITERAL.findall(raw))
    if raw.startswith("'"):
        return (_unquote(raw),)
    if _INT_LITERAL.fullmatch(raw):
        return (int(raw),)
    return ()  # binary, hex, timestamp, float and boolean literals name no observable


def comparisons(pattern: str) -> list[Comparison]:
    """The positive equality and ``IN`` comparisons of a valid STIX pattern, in pattern order.

    Simple patterns are read by the recogniser above; anything else is parsed by ``stix2-patterns``.
    """
    one = _one(pattern)
    if one is not None:
        return [one[1]]
    if _SIMPLE.fullmatch(pattern) and _check_simple(pattern) is not None:
        out: list[Comparison] = []
        for m in _COMPARISON.finditer(pattern):
            obj_type, path, op, literal = m.groups()
            if op == "=":
                parts = tuple(p[1:-1] if p.startswith("'") else p for p in _PATH_PART.findall(path))
                out.append((obj_type, parts, "=", (_unquote(literal),)))
        return out
    return list(_parsed_comparisons(pattern))


@lru_cache(maxsize=4096)
def _parsed_comparisons(pattern: str) -> tuple[Comparison, ...]:
    from stix2patterns.v21.pattern import Pattern

    try:
        inspected = Pattern(pattern).inspect()
    except Exception:  # noqa: BLE001 - an invalid pattern was refused by validation already
        return ()
    out: list[Comparison] = []
    for obj_type, comps in inspected.comparisons.items():
        for path, op, raw in comps:
            if op not in ("=", "IN"):
                continue  # negations, orderings, LIKE and MATCHES name no single value
            parts = tuple(p for p in path if isinstance(p, str))
            out.append((obj_type, parts, op, _literals(op, raw)))
    return tuple(out)
