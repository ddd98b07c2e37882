"""The regulatory heat map of a campaign: how well the sector covers the DORA and NIS2 requirements that the
catalogue's controls map to, for the sector and by member type.

**Rows.** One per DORA article (Regulation (EU) 2022/2554; the paragraphs a control cites count for their
article) and per NIS2 article (Directive (EU) 2022/2555), Art 21(2) by its points (a)–(j), each grouped by the
chapter it stands in. A row's controls are those that cite it.

**Coverage.** For one member and one row: the share of the row's controls it scored (not applicable ones left
out) whose maturity is at or above the control's target. A cell's *coverage* is the mean of that share over
the cell's members, and *fully met* the share of those members at target on every one of the row's controls.
A member with every control of a row not applicable is not in that row's cells.

The same suppression as the benchmark (:func:`nordcert.baseline.benchmark.suppress`) applies per row, with the
sector as the total; a member sees the sector's map and its own column; who may read it is the benchmark's rule.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from nordcert.baseline.benchmark import Audience, Submission, load, suppress, type_name
from nordcert.baseline.catalogue import Catalogue
from nordcert.baseline.scoring import MemberScore, score_member
from nordcert.sharing.policy import Reader

DEFINITION = ("coverage: the mean, over the members in a cell, of the share of a requirement's controls they "
              "scored at or above the baseline's target (not applicable controls left out); fully met: the share "
              "of those members at target on every one of them")

#: DORA's chapters that oblige a financial entity: (first article, last article, chapter, title).
DORA_CHAPTERS = ((5, 16, "II", "ICT risk management"),
                 (17, 23, "III", "ICT-related incident management, classification and reporting"),
                 (24, 27, "IV", "Digital operational resilience testing"),
                 (28, 44, "V", "Managing of ICT third-party risk"),
                 (45, 45, "VI", "Information-sharing arrangements"))
DORA_TITLES = {
    5: "Governance and organisation", 6: "ICT risk management framework", 7: "ICT systems, protocols and tools",
    8: "Identification", 9: "Protection and prevention", 10: "Detection", 11: "Response and recovery",
    12: "Backup policies, restoration and recovery", 13: "Learning and evolving", 14: "Communication",
    15: "Harmonisation of ICT risk management tools", 16: "Simplified ICT risk management framework",
    17: "ICT-related incident management process", 18: "Classification of incidents and cyber threats",
    19: "Reporting of major incidents", 20: "Reporting content and templates", 21: "Centralisation of reporting",
    22: "Supervisory feedback", 23: "Payment-related incidents", 24: "General requirements for testing",
    25: "Testing of ICT tools and systems", 26: "Threat-led penetration testing (TLPT)",
    27: "Requirements for TLPT testers", 28: "General principles of ICT third-party risk",
    29: "Preliminary assessment of ICT concentration risk", 30: "Key contractual provisions",
    45: "Sharing of cyber threat information and intelligence",
}
#: NIS2's Chapter IV (risk-management measures and reporting) and Chapter VI (information sharing), by article.
NIS2_GROUPS = {20: "Governance", 21: "Cybersecurity risk-management measures", 23: "Reporting obligations",
               29: "Cybersecurity information-sharing arrangements"}
NIS2_POINTS = {
    "a": "Risk analysis and information system security policies", "b": "Incident handling",
    "c": "Business continuity, backups, disaster recovery and crisis management", "d": "Supply chain security",
    "e": "Security in acquisition, development and maintenance, vulnerability handling",
    "f": "Assessing the effectiveness of risk-management measures", "g": "Cyber hygiene and training",
    "h": "Cryptography and encryption", "i": "Human resources security, access control and asset management",
    "j": "Multi-factor authentication and secured communications",
}
_ARTICLE = re.compile(r"^Art (\d+)(?:\((\d+)\))?(?:\(([a-z])\))?$")


@dataclass(frozen=True, slots=True)
class Requirement:
    framework: str  # dora | nis2
    ref: str  # "Art 9", "Art 21(2)(c)"
    title: str
    chapter: str  # the heading it is grouped under
    order: tuple[int, str]
    controls: tuple[str, ...]


def requirement_of(framework: str, ref: str) -> tuple[str, tuple[int, str], str, str] | None:
    """The row a cited reference counts for: (ref, order, title, chapter); None if it is not an article."""
    m = _ARTICLE.match(ref)
    if not m:
        return None
    article, paragraph, point = int(m.group(1)), m.group(2), m.group(3)
    if framework == "dora":
        chapter = next((f"Chapter {n}: {t} (Art {a}–{b})" if a != b else f"Chapter {n}: {t} (Art {a})"
                        for a, b, n, t in DORA_CHAPTERS if a <= article <= b), "Other articles")
        return f"Art {article}", (article, ""), DORA_TITLES.get(article, f"Article {article}"), chapter
    group = NIS2_GROUPS.get(article, "Other articles")
    chapter = f"{group} (Art {article})" if article in NIS2_GROUPS else group
    if article == 21 and paragraph == "2" and point:
        return f"Art 21(2)({point})", (article, point), NIS2_POINTS.get(point, ""), chapter
    return f"Art {article}", (article, ""), group if article in NIS2_GROUPS else f"Article {article}", chapter


def requirements(catalogue: Catalogue) -> list[Requirement]:
    """Every DORA and NIS2 requirement the catalogue's controls cite, DORA first, in article order."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for c in catalogue.controls:
        for framework, refs in (("dora", c.dora), ("nis2", c.nis2)):
            for cited in refs:
                row = requirement_of(framework, cited)
                if row is None:
                    continue
                ref, order, title, chapter = row
                entry = found.setdefault((framework, ref), {"order": order, "title": title, "chapter": chapter,
                                                            "controls": []})
                if c.id not in entry["controls"]:
                    entry["controls"].append(c.id)
    return [Requirement(framework=f, ref=ref, title=e["title"], chapter=e["chapter"], order=e["order"],
                        controls=tuple(e["controls"]))
            for (f, ref), e in sorted(found.items(), key=lambda kv: (kv[0][0] != "dora", kv[1]["order"]))]


def share_met(score: MemberScore, controls: Iterable[str]) -> float | None:
    """The share of ``controls`` the member scored at or above target; None if it scored none of them."""
    scored = [s for s in (score.control(c) for c in controls) if s.maturity is not None]
    if not scored:
        return None
    return sum(1 for s in scored if s.gap == 0) / len(scored)


@dataclass(frozen=True, slots=True)
class CoverageCell:
    n: int
    coverage: float | None
    fully_met: float | None
    suppressed: str | None


def coverage_row(shares: Mapping[int, float], types: Mapping[int, str], member_types: Sequence[str],
                 min_group: int) -> tuple[CoverageCell, dict[str, CoverageCell]]:
    """The sector's cell and each member type's for one requirement, suppressed as the benchmark's rows."""
    groups: dict[str, list[float]] = {t: [] for t in member_types}
    for org, share in shares.items():
        groups.setdefault(types[org], []).append(share)
    sector_reason, reasons = suppress(len(shares), {t: len(v) for t, v in groups.items()}, min_group)

    def cell(values: list[float], reason: str | None) -> CoverageCell:
        if not values:
            return CoverageCell(0, None, None, reason)
        return CoverageCell(len(values), sum(values) / len(values), sum(1 for v in values if v == 1) / len(values),
                            reason)

    return cell(list(shares.values()), sector_reason), {t: cell(v, reasons[t]) for t, v in groups.items()}


def _cell_out(cell: CoverageCell, audience: Audience) -> dict[str, Any]:
    if cell.suppressed is not None and audience is not Audience.STAFF:
        return {"n": None, "coverage": None, "fully_met": None, "suppressed": cell.suppressed}
    return {"n": cell.n, "coverage": cell.coverage, "fully_met": cell.fully_met, "suppressed": cell.suppressed}


def heatmap(catalogue: Catalogue, submissions: Iterable[Submission], *, member_types: Sequence[str],
            min_group: int, audience: Audience, own_org: int | None = None) -> list[dict[str, Any]]:
    """The heat map's frameworks → chapters → rows as ``audience`` may see them; ``own_org``'s column for a
    member (``own``: its share met, or None when every control of the row is not applicable to it)."""
    subs = list(submissions)
    types = {s.organisation_id: s.member_type for s in subs}
    shown = tuple(dict.fromkeys([*member_types, *sorted(set(types.values()) - set(member_types))]))
    scores = {s.organisation_id: score_member(catalogue, s.answers) for s in subs}
    own = scores.get(own_org) if own_org is not None else None
    frameworks: dict[str, dict[str, list[dict[str, Any]]]] = {"dora": {}, "nis2": {}}
    for req in requirements(catalogue):
        shares = {o: v for o, s in scores.items() if (v := share_met(s, req.controls)) is not None}
        sector, by_type = coverage_row(shares, types, shown, min_group)
        row: dict[str, Any] = {"ref": req.ref, "title": req.title, "controls": list(req.controls),
               "sector": _cell_out(sector, audience),
               "by_type": {t: _cell_out(c, audience) for t, c in by_type.items()}}
        if own_org is not None:
            row["own"] = share_met(own, req.controls) if own else None
        frameworks[req.framework].setdefault(req.chapter, []).append(row)
    names = {"dora": "DORA, Regulation (EU) 2022/2554", "nis2": "NIS2, Directive (EU) 2022/2555"}
    return [{"key": f, "name": names[f], "chapters": [{"name": ch, "rows": rows} for ch, rows in chapters.items()]}
            for f, chapters in frameworks.items() if chapters]


def heatmap_view(conn: Connection, *, reader: Reader, campaign_id: int, min_group: int) -> dict[str, Any]:
    """The campaign's heat map as ``reader`` may see it: ``campaign``, ``catalogue``, ``scope``, ``min_group``,
    ``definition``, ``member_types``, ``own`` (a member: whether it submitted) and ``frameworks``."""
    ctx = load(conn, reader=reader, campaign_id=campaign_id)
    member = ctx.audience is Audience.MEMBER
    types = tuple(dict.fromkeys([*ctx.member_types, *sorted({s.member_type for s in ctx.submissions})]))
    return {
        "campaign": ctx.campaign, "catalogue": {"version": ctx.catalogue.version, "title": ctx.catalogue.title},
        "scope": ctx.audience.value, "min_group": min_group, "definition": DEFINITION,
        "member_types": [{"type": t, "name": type_name(t)} for t in types],
        "submitted": any(s.organisation_id == reader.organisation_id for s in ctx.submissions) if member else None,
        "frameworks": heatmap(ctx.catalogue, ctx.submissions, member_types=types, min_group=min_group,
                              audience=ctx.audience, own_org=reader.organisation_id if member else None),
    }
