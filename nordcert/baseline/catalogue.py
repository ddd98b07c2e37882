"""The baseline catalogue: controls by domain, each with measurable criteria, a target on the 0–5 maturity scale
and its mappings to DORA (Regulation (EU) 2022/2554), NIS2 (Directive (EU) 2022/2555) and NIST CSF 2.0 categories.

A catalogue is plain data (frozen dataclasses), read from the JSON shape of ``data/baseline-<version>.json`` by
:func:`from_dict`, which checks every field and names each bad one, and written back by :func:`to_dict`, so that
``from_dict(to_dict(c)) == c``. The store keeps versions as that JSON (see ``catalogues.py``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import orjson

from nordcert.errors import Invalid

SHIPPED_VERSION = "2026.1"
SCALE_LEVELS = range(6)
PRIORITIES = ("essential", "important", "advanced")
#: The eight domains of the baseline, in the order they are shown.
DOMAIN_KEYS = ("governance", "identification", "protection", "detection", "response", "recovery", "third_parties",
               "data_protection_backups")
#: NIST CSF 2.0 categories (CSWP 29, 2024): the 22 of the six functions. The withdrawn CSF 1.1 ids are not taken.
CSF_CATEGORIES = ("GV.OC", "GV.RM", "GV.RR", "GV.PO", "GV.OV", "GV.SC", "ID.AM", "ID.RA", "ID.IM", "PR.AA", "PR.AT",
                  "PR.DS", "PR.PS", "PR.IR", "DE.CM", "DE.AE", "RS.MA", "RS.AN", "RS.CO", "RS.MI", "RC.RP", "RC.CO")
#: DORA articles that oblige a financial entity: ICT risk management (5–16), incidents (17–23), testing (24–27),
#: ICT third-party risk (28–30) and information sharing (45). The oversight of critical providers (31–44) and the
#: authorities' articles are not a member's controls.
DORA_ARTICLES = frozenset(range(5, 31)) | {45}
#: NIS2 articles a control may cite and how many paragraphs each has: governance (20), risk-management measures
#: (21, whose paragraph 2 has points (a)–(j)), reporting (23) and information-sharing arrangements (29).
NIS2_PARAGRAPHS = {20: 2, 21: 5, 23: 11, 29: 5}
NIS2_POINTS_21_2 = "abcdefghij"

_VERSION = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._-]{0,31}$")
_CONTROL_ID = re.compile(r"^[A-Z]{2,5}-[0-9]{2,3}$")
#: An article reference: "Art 9", "Art 9(4)" or "Art 9(4)(c)".
_ARTICLE = re.compile(r"^Art ([1-9][0-9]?)(?:\(([1-9][0-9]?)\))?(?:\(([a-z])\))?$")
_LIMITS = {"title": 200, "name": 100, "objective": 2000, "description": 2000, "text": 1000, "guidance": 4000}
MAX_CONTROLS = 500
MAX_CRITERIA = 8


@dataclass(frozen=True, slots=True)
class MaturityLevel:
    level: int
    name: str
    description: str


@dataclass(frozen=True, slots=True)
class Criterion:
    """Something an assessor can check, and the maturity level it evidences."""

    id: str
    text: str
    level: int


@dataclass(frozen=True, slots=True)
class Domain:
    key: str
    name: str
    description: str


@dataclass(frozen=True, slots=True)
class Control:
    id: str
    domain: str
    title: str
    objective: str
    criteria: tuple[Criterion, ...]
    target: int
    priority: str
    dora: tuple[str, ...]
    nis2: tuple[str, ...]
    csf: tuple[str, ...]
    guidance: str


@dataclass(frozen=True, slots=True)
class Catalogue:
    version: str
    title: str
    scale: tuple[MaturityLevel, ...]
    domains: tuple[Domain, ...]
    controls: tuple[Control, ...]

    def control(self, control_id: str) -> Control:
        for c in self.controls:
            if c.id == control_id:
                return c
        raise KeyError(control_id)

    def controls_in(self, domain_key: str) -> tuple[Control, ...]:
        return tuple(c for c in self.controls if c.domain == domain_key)

    def domain(self, key: str) -> Domain:
        for d in self.domains:
            if d.key == key:
                return d
        raise KeyError(key)

    def level(self, level: int) -> MaturityLevel:
        return self.scale[level]

    @property
    def control_ids(self) -> tuple[str, ...]:
        return tuple(c.id for c in self.controls)


@cache
def load_shipped() -> Catalogue:
    """The catalogue shipped with nordcert (``data/baseline-2026.1.json``)."""
    return from_dict(orjson.loads(shipped_bytes()))


def shipped_bytes() -> bytes:
    return resources.files("nordcert.baseline").joinpath(f"data/baseline-{SHIPPED_VERSION}.json").read_bytes()


def from_dict(data: dict[str, Any]) -> Catalogue:
    """A catalogue from its JSON shape, every field checked; ``Invalid`` names each bad field (``controls[3].target``)."""
    p = _Problems()
    if not isinstance(data, dict):
        raise Invalid("the catalogue is not valid", details=[{"field": "(body)", "reason": "a JSON object"}])
    version = p.text(data, "version", "", 32)
    if version and not _VERSION.match(version):
        p.add("version", "letters, digits, '.', '-' or '_', starting with a letter or digit (e.g. 2026.2)")
    title = p.text(data, "title", "", _LIMITS["title"])
    scale = _scale(data.get("scale"), p)
    domains = _domains(data.get("domains"), p)
    controls: list[Control] = []
    raw_controls = data.get("controls")
    if not isinstance(raw_controls, list) or not 1 <= len(raw_controls) <= MAX_CONTROLS:
        p.add("controls", f"a list of 1 to {MAX_CONTROLS} controls")
        raw_controls = []
    seen: set[str] = set()
    for n, raw in enumerate(raw_controls):
        control = _control(raw, p, f"controls[{n}].", tuple(d.key for d in domains) or DOMAIN_KEYS)
        cid = raw.get("id") if isinstance(raw, dict) else None
        if isinstance(cid, str) and cid in seen:
            p.add(f"controls[{n}].id", f"{cid} is used by another control")
        seen.add(str(cid))
        if control is not None:
            controls.append(control)
    p.raise_if_any("the catalogue is not valid")
    return Catalogue(version=version, title=title, scale=scale, domains=domains, controls=tuple(controls))


def control_from_dict(data: dict[str, Any], *, domain_keys: Iterable[str] = DOMAIN_KEYS) -> Control:
    """One control from its JSON shape (an edit), each bad field named without a prefix (``criteria[0].level``)."""
    p = _Problems()
    control = _control(data, p, "", tuple(domain_keys))
    p.raise_if_any("the control is not valid")
    assert control is not None
    return control


def to_dict(catalogue: Catalogue) -> dict[str, Any]:
    """The catalogue in the JSON shape of the shipped data file."""
    return {
        "version": catalogue.version,
        "title": catalogue.title,
        "scale": [{"level": m.level, "name": m.name, "description": m.description} for m in catalogue.scale],
        "domains": [{"key": d.key, "name": d.name, "description": d.description} for d in catalogue.domains],
        "controls": [control_to_dict(c) for c in catalogue.controls],
    }


def control_to_dict(c: Control) -> dict[str, Any]:
    return {
        "id": c.id, "domain": c.domain, "title": c.title, "objective": c.objective,
        "criteria": [{"id": k.id, "text": k.text, "level": k.level} for k in c.criteria],
        "target": c.target, "priority": c.priority,
        "dora": list(c.dora), "nis2": list(c.nis2), "csf": list(c.csf), "guidance": c.guidance,
    }


def dora_reason(ref: str) -> str | None:
    """Why ``ref`` is not a DORA article a control may cite (``Art 9(4)(c)``), or None when it is."""
    m = _ARTICLE.match(ref)
    if not m:
        return f"{ref!r} is not of the form 'Art 9', 'Art 9(4)' or 'Art 9(4)(c)'"
    if int(m.group(1)) not in DORA_ARTICLES:
        return f"{ref!r}: DORA articles 5 to 30 and 45 oblige a financial entity"
    return None


def nis2_reason(ref: str) -> str | None:
    """Why ``ref`` is not a NIS2 article a control may cite (``Art 21(2)(d)``), or None when it is."""
    m = _ARTICLE.match(ref)
    if not m:
        return f"{ref!r} is not of the form 'Art 21', 'Art 21(2)' or 'Art 21(2)(d)'"
    article, paragraph, point = int(m.group(1)), m.group(2), m.group(3)
    if article not in NIS2_PARAGRAPHS:
        return f"{ref!r}: NIS2 articles 20, 21, 23 and 29 are the ones a control cites"
    if paragraph is not None and not 1 <= int(paragraph) <= NIS2_PARAGRAPHS[article]:
        return f"{ref!r}: Art {article} has paragraphs 1 to {NIS2_PARAGRAPHS[article]}"
    if point is not None and not (article == 21 and paragraph == "2" and point in NIS2_POINTS_21_2):
        return f"{ref!r}: only Art 21(2) has points, (a) to (j)"
    return None


def csf_reason(ref: str) -> str | None:
    if ref not in CSF_CATEGORIES:
        return f"{ref!r} is not a NIST CSF 2.0 category ({', '.join(CSF_CATEGORIES)})"
    return None


# --- checking ---------------------------------------------------------------------------------------


class _Problems:
    def __init__(self) -> None:
        self.found: list[dict[str, str]] = []

    def add(self, field: str, reason: str) -> None:
        self.found.append({"field": field, "reason": reason})

    def raise_if_any(self, message: str) -> None:
        if self.found:
            raise Invalid(f"{message}: {self.found[0]['field']}: {self.found[0]['reason']}"
                          + (f" (and {len(self.found) - 1} more)" if len(self.found) > 1 else ""), details=self.found)

    def text(self, raw: dict[str, Any], key: str, prefix: str, limit: int) -> str:
        value = raw.get(key)
        if not isinstance(value, str) or not value.strip() or len(value.strip()) > limit:
            self.add(prefix + key, f"a text of 1 to {limit} characters")
            return ""
        return value.strip()

    def level(self, raw: dict[str, Any], key: str, prefix: str, low: int) -> int:
        value = raw.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= 5:
            self.add(prefix + key, f"a whole number from {low} to 5")
            return -1
        return value

    def refs(self, raw: dict[str, Any], key: str, prefix: str, reason: Any) -> tuple[str, ...]:
        value = raw.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.add(prefix + key, "a list of texts")
            return ()
        seen: set[str] = set()
        for n, ref in enumerate(value):
            why = reason(ref)
            if why:
                self.add(f"{prefix}{key}[{n}]", why)
            elif ref in seen:
                self.add(f"{prefix}{key}[{n}]", f"{ref} is listed twice")
            seen.add(ref)
        return tuple(value)


def _scale(raw: Any, p: _Problems) -> tuple[MaturityLevel, ...]:
    if not isinstance(raw, list) or len(raw) != len(SCALE_LEVELS):
        p.add("scale", "the six levels 0 to 5, in order")
        return ()
    levels: list[MaturityLevel] = []
    for n, item in enumerate(raw):
        prefix = f"scale[{n}]."
        if not isinstance(item, dict):
            p.add(f"scale[{n}]", "an object with level, name and description")
            continue
        if item.get("level") != n or isinstance(item.get("level"), bool):
            p.add(prefix + "level", f"{n}: the levels are 0 to 5, in order")
        levels.append(MaturityLevel(level=n, name=p.text(item, "name", prefix, _LIMITS["name"]),
                                    description=p.text(item, "description", prefix, _LIMITS["description"])))
    return tuple(levels)


def _domains(raw: Any, p: _Problems) -> tuple[Domain, ...]:
    if not isinstance(raw, list):
        p.add("domains", f"a list of the eight domains ({', '.join(DOMAIN_KEYS)})")
        return ()
    domains: list[Domain] = []
    for n, item in enumerate(raw):
        prefix = f"domains[{n}]."
        if not isinstance(item, dict):
            p.add(f"domains[{n}]", "an object with key, name and description")
            continue
        key = item.get("key")
        if key not in DOMAIN_KEYS:
            p.add(prefix + "key", f"one of {', '.join(DOMAIN_KEYS)}")
        elif any(d.key == key for d in domains):
            p.add(prefix + "key", f"{key} is listed twice")
        domains.append(Domain(key=str(key), name=p.text(item, "name", prefix, _LIMITS["name"]),
                              description=p.text(item, "description", prefix, _LIMITS["description"])))
    missing = [k for k in DOMAIN_KEYS if all(d.key != k for d in domains)]
    if missing:
        p.add("domains", f"missing {', '.join(missing)}: the baseline has all eight domains")
    return tuple(domains)


def _control(raw: Any, p: _Problems, prefix: str, domain_keys: tuple[str, ...]) -> Control | None:
    if not isinstance(raw, dict):
        p.add(prefix.rstrip(".") or "(body)", "a control object")
        return None
    before = len(p.found)
    cid = raw.get("id")
    if not isinstance(cid, str) or not _CONTROL_ID.match(cid):
        p.add(prefix + "id", "2 to 5 capital letters, '-' and 2 or 3 digits (e.g. GOV-01)")
        cid = ""
    domain = raw.get("domain")
    if domain not in domain_keys:
        p.add(prefix + "domain", f"one of {', '.join(domain_keys)}")
    title = p.text(raw, "title", prefix, _LIMITS["title"])
    objective = p.text(raw, "objective", prefix, _LIMITS["objective"])
    target = p.level(raw, "target", prefix, 1)
    priority = raw.get("priority")
    if priority not in PRIORITIES:
        p.add(prefix + "priority", f"one of {', '.join(PRIORITIES)}")
    criteria = _criteria(raw.get("criteria"), p, prefix, cid)
    if target >= 1 and criteria and all(k.level != target for k in criteria):
        p.add(prefix + "criteria", f"no criterion evidences the target level {target}")
    dora = p.refs(raw, "dora", prefix, dora_reason)
    nis2 = p.refs(raw, "nis2", prefix, nis2_reason)
    csf = p.refs(raw, "csf", prefix, csf_reason)
    if not csf and isinstance(raw.get("csf", []), list):
        p.add(prefix + "csf", "at least one NIST CSF 2.0 category")
    guidance = p.text(raw, "guidance", prefix, _LIMITS["guidance"])
    known = {"id", "domain", "title", "objective", "criteria", "target", "priority", "dora", "nis2", "csf", "guidance"}
    for extra in sorted(set(raw) - known):
        p.add(prefix + str(extra), "not a field of a control")
    if len(p.found) > before:
        return None
    return Control(id=cid, domain=str(domain), title=title, objective=objective, criteria=criteria, target=target,
                   priority=str(priority), dora=dora, nis2=nis2, csf=csf, guidance=guidance)


def _criteria(raw: Any, p: _Problems, prefix: str, control_id: str) -> tuple[Criterion, ...]:
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_CRITERIA:
        p.add(prefix + "criteria", f"a list of 1 to {MAX_CRITERIA} criteria")
        return ()
    out: list[Criterion] = []
    for n, item in enumerate(raw):
        at = f"{prefix}criteria[{n}]."
        if not isinstance(item, dict):
            p.add(at.rstrip("."), "an object with id, text and level")
            continue
        kid = item.get("id", f"{control_id}.{n + 1}")  # numbered for the editor when left out
        if control_id and kid != f"{control_id}.{n + 1}":
            p.add(at + "id", f"{control_id}.{n + 1}: a criterion is numbered after its control, in order")
        out.append(Criterion(id=str(kid), text=p.text(item, "text", at, _LIMITS["text"]),
                             level=p.level(item, "level", at, 1)))
    return tuple(out)
