"""The sector benchmark of a campaign: per control, per domain and overall, the distribution of the members'
maturity (median, quartiles, levels 0–5 counted) for the sector and by member type, with small groups
suppressed.

**Statistics.** A group's values are its members' scores (:mod:`.scoring`): a control's maturity, a domain's
mean or the overall mean; not applicable answers are left out, so a control's group is the members who scored
it. Quartiles and the median use linear interpolation between the sorted values at position p·(n−1) (the
"inclusive" method of Python's ``statistics.quantiles``, numpy's default). ``levels`` counts the members by
level 0–5 (a domain or overall mean by the whole level it reaches: 2.7 counts as 2). Minimum and maximum are
never given: at the edges they name a member's answer.

**Suppression** (``settings.baseline_min_group``, k). A group of fewer than k members is suppressed
(``small_group``): no count, no statistic. A row shows the sector next to each member type, whose counts add up
to the sector's, so a single suppressed type could be recovered by subtracting the others from the sector:
while the suppressed types of a row hold together between 1 and k−1 members, the smallest published type is
suppressed too (``complementary``); a sector of fewer than k suppresses every type with it.

**Who sees what** (:func:`load`): CERT staff every figure, with each cell's suppression marked (what members
see), at any time; an authority's risk officers and every user of a member organisation the published figures,
once the campaign is closed (while it is open, each submission would show in the difference between two
readings); a member's users also its own scores in every row. Others are refused; a federation peer is told
there is no such campaign.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from nordcert.accounts.service import SECTOR_TYPES
from nordcert.accounts.tables import organisations
from nordcert.baseline import campaigns
from nordcert.baseline.access import NON_MEMBER_SECTORS, require_user
from nordcert.baseline.catalogue import Catalogue
from nordcert.baseline.scoring import Answer, MemberScore, score_member
from nordcert.baseline.tables import baseline_answers, baseline_campaigns, baseline_responses
from nordcert.clock import iso
from nordcert.errors import Conflict, Forbidden, NotFound
from nordcert.sharing.policy import Reader, Role

LEVELS = range(6)
SMALL_GROUP = "small_group"
COMPLEMENTARY = "complementary"
QUARTILE_METHOD = "linear interpolation between order statistics at p·(n−1) (inclusive)"


class Audience(enum.StrEnum):
    STAFF = "staff"  # CERT staff: every figure
    AUTHORITY = "authority"  # an authority's risk officer: published aggregates
    MEMBER = "member"  # a member organisation's user: published aggregates and its own scores


# --- statistics -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Stats:
    n: int
    q1: float
    median: float
    q3: float
    levels: tuple[int, ...]  # members at level 0, 1, … 5


def quantile(ordered: Sequence[float], p: float) -> float:
    """The ``p`` quantile of sorted values by linear interpolation at position p·(n−1)."""
    position = p * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def level_of(value: float) -> int:
    return min(5, max(0, int(value)))


def describe(values: Iterable[float]) -> Stats | None:
    ordered = sorted(values)
    if not ordered:
        return None
    levels = [0] * len(LEVELS)
    for v in ordered:
        levels[level_of(v)] += 1
    return Stats(n=len(ordered), q1=quantile(ordered, 0.25), median=quantile(ordered, 0.5),
                 q3=quantile(ordered, 0.75), levels=tuple(levels))


def suppress(total: int, groups: Mapping[str, int], min_group: int) -> tuple[str | None, dict[str, str | None]]:
    """Which cells of one row to suppress: the sector's (``total`` members) and each type's (``groups``).

    Small groups first; then complementary suppression until the suppressed types together hold no member or
    at least ``min_group`` (smallest published type first, then by name), so that subtraction from the sector
    recovers nothing smaller than a publishable group.
    """
    reasons: dict[str, str | None] = {t: SMALL_GROUP if n < min_group else None for t, n in groups.items()}
    if total < min_group:
        return SMALL_GROUP, {t: r or COMPLEMENTARY for t, r in reasons.items()}
    while 0 < sum(groups[t] for t, r in reasons.items() if r) < min_group:
        smallest = min((t for t, r in reasons.items() if not r), key=lambda t: (groups[t], t))
        reasons[smallest] = COMPLEMENTARY
    return None, reasons


# --- the aggregate ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Submission:
    """One member's submitted response."""

    organisation_id: int
    member_type: str
    answers: Mapping[str, Answer]


@dataclass(frozen=True, slots=True)
class Cell:
    stats: Stats | None  # None for a group without members
    suppressed: str | None

    @property
    def n(self) -> int:
        return self.stats.n if self.stats else 0


@dataclass(frozen=True, slots=True)
class Row:
    sector: Cell
    by_type: dict[str, Cell]


@dataclass(frozen=True, slots=True)
class Aggregate:
    overall: Row
    domains: dict[str, Row]
    controls: dict[str, Row]
    scores: dict[int, MemberScore]  # by organisation id; never shown to another member
    member_types: tuple[str, ...]


def row_of(values: Mapping[int, float], types: Mapping[int, str], member_types: Sequence[str], min_group: int
           ) -> Row:
    """One row: the sector's distribution of ``values`` (organisation id → score) and each member type's."""
    by_type: dict[str, list[float]] = {t: [] for t in member_types}
    for org, v in values.items():
        by_type.setdefault(types[org], []).append(v)
    sector_reason, reasons = suppress(len(values), {t: len(v) for t, v in by_type.items()}, min_group)
    return Row(sector=Cell(describe(values.values()), sector_reason),
               by_type={t: Cell(describe(v), reasons[t]) for t, v in by_type.items()})


def aggregate(catalogue: Catalogue, submissions: Iterable[Submission], *, member_types: Sequence[str],
              min_group: int) -> Aggregate:
    subs = list(submissions)
    types = {s.organisation_id: s.member_type for s in subs}
    scores = {s.organisation_id: score_member(catalogue, s.answers) for s in subs}
    shown = tuple(dict.fromkeys([*member_types, *sorted(set(types.values()) - set(member_types))]))

    def row(values: Mapping[int, float | None]) -> Row:
        return row_of({o: v for o, v in values.items() if v is not None}, types, shown, min_group)

    return Aggregate(
        overall=row({o: s.overall for o, s in scores.items()}),
        domains={d.key: row({o: s.domain(d.key).score for o, s in scores.items()}) for d in catalogue.domains},
        controls={c.id: row({o: s.control(c.id).maturity for o, s in scores.items()}) for c in catalogue.controls},
        scores=scores, member_types=shown)


# --- what a reader is shown -------------------------------------------------------------------------


def cell_out(cell: Cell, audience: Audience) -> dict[str, Any]:
    """A cell as JSON: every figure for CERT staff; for others none where it is suppressed."""
    hidden = cell.suppressed is not None and audience is not Audience.STAFF
    s = None if hidden else cell.stats
    return {"n": None if hidden else cell.n, "q1": s.q1 if s else None, "median": s.median if s else None,
            "q3": s.q3 if s else None, "levels": list(s.levels) if s else None, "suppressed": cell.suppressed}


def published(cell: Cell, audience: Audience) -> Stats | None:
    """The cell's statistics if ``audience`` is shown them."""
    return cell.stats if cell.suppressed is None or audience is Audience.STAFF else None


def band(value: float | None, stats: Stats | None) -> str | None:
    """Where ``value`` stands in a distribution: below_q1, q1_median, median, median_q3 or above_q3."""
    if value is None or stats is None:
        return None
    if value < stats.q1:
        return "below_q1"
    if value > stats.q3:
        return "above_q3"
    if value == stats.median:
        return "median"
    return "q1_median" if value < stats.median else "median_q3"


BANDS = {"below_q1": "below the lower quartile", "q1_median": "between the lower quartile and the median",
         "median": "at the median", "median_q3": "between the median and the upper quartile",
         "above_q3": "above the upper quartile"}


def row_out(row: Row, audience: Audience, own: float | None = None, *, own_shown: bool = False,
            not_applicable: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {"sector": cell_out(row.sector, audience),
                           "by_type": {t: cell_out(c, audience) for t, c in row.by_type.items()}}
    if own_shown:
        out["own"] = {"value": own, "not_applicable": not_applicable,
                      "band": band(own, published(row.sector, audience))}
    return out


def type_name(member_type: str) -> str:
    return member_type.replace("_", " ").capitalize()


# --- reading the store ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Context:
    """A campaign as one reader may read its benchmark."""

    campaign: dict[str, Any]
    catalogue: Catalogue
    audience: Audience
    submissions: list[Submission]
    member_types: tuple[str, ...]


def audience_of(conn: Connection, reader: Reader) -> Audience:
    require_user(reader)
    if reader.is_cert_staff:
        return Audience.STAFF
    sector = conn.execute(select(organisations.c.sector_type)
                          .where(organisations.c.id == reader.organisation_id)).scalar_one()
    if sector == "authority":
        if reader.role is Role.RISK_OFFICER:
            return Audience.AUTHORITY
        raise Forbidden("only an authority's risk officers read the baseline's sector figures")
    if sector in NON_MEMBER_SECTORS:
        raise Forbidden("only CERT staff (cert_admin) read the baseline's figures at a CERT")
    return Audience.MEMBER


def campaign_out(conn: Connection, campaign_id: int) -> dict[str, Any]:
    c = baseline_campaigns.c
    row = conn.execute(select(c.id, c.name, c.status, c.opens_at, c.closes_at, c.closed_at)
                       .where(c.id == campaign_id)).mappings().first()
    if row is None:
        raise NotFound(f"no campaign {campaign_id}")
    return {"id": row["id"], "name": row["name"], "status": row["status"], "opens_at": iso(row["opens_at"]),
            "closes_at": iso(row["closes_at"]), "closed_at": iso(row["closed_at"])}


def submissions(conn: Connection, *, campaign_id: int) -> list[Submission]:
    """Every member's submitted answers with its organisation's sector type, in one statement."""
    r, a, o = baseline_responses, baseline_answers, organisations
    q = (select(r.c.organisation_id, o.c.sector_type, a.c.control_id, a.c.maturity, a.c.not_applicable)
         .select_from(r.join(a, a.c.response_id == r.c.id).join(o, o.c.id == r.c.organisation_id))
         .where(r.c.campaign_id == campaign_id, r.c.status == "submitted", o.c.sector_type.not_in(NON_MEMBER_SECTORS))
         .order_by(r.c.organisation_id))
    found: dict[int, tuple[str, dict[str, Answer]]] = {}
    for org, sector, control, maturity, na in conn.execute(q):
        found.setdefault(org, (sector, {}))[1][control] = Answer(maturity=maturity, not_applicable=bool(na))
    return [Submission(org, sector, answers) for org, (sector, answers) in found.items()]


def member_types(conn: Connection) -> tuple[str, ...]:
    """The sector types of the instance's member organisations (whether or not they answered), in the
    accounts' order: the columns of every reader's benchmark, which so tell nothing of who took part."""
    present = set(conn.execute(select(organisations.c.sector_type).distinct()
                               .where(organisations.c.sector_type.not_in(NON_MEMBER_SECTORS))).scalars())
    return tuple(t for t in (*SECTOR_TYPES, *sorted(present - set(SECTOR_TYPES))) if t in present)


def load(conn: Connection, *, reader: Reader, campaign_id: int) -> Context:
    """The campaign, its catalogue and its submissions, if ``reader`` may read its figures now."""
    audience = audience_of(conn, reader)
    campaign = campaign_out(conn, campaign_id)
    if audience is not Audience.STAFF and campaign["status"] != "closed":
        raise Conflict(f"the figures of campaign {campaign_id} are published when it closes "
                       f"(its deadline is {campaign['closes_at']})")
    return Context(campaign=campaign, catalogue=campaigns.campaign_catalogue(conn, campaign_id=campaign_id),
                   audience=audience, submissions=submissions(conn, campaign_id=campaign_id),
                   member_types=member_types(conn))


def present(catalogue: Catalogue, agg: Aggregate, *, audience: Audience, own_org: int | None = None
            ) -> dict[str, Any]:
    """The aggregate as ``audience`` may see it; for a member (``own_org``) with its own scores in every row."""
    own = agg.scores.get(own_org) if own_org is not None and audience is Audience.MEMBER else None
    shown = audience is Audience.MEMBER
    domains = []
    for d in catalogue.domains:
        controls = []
        for c in catalogue.controls_in(d.key):
            cs = own.control(c.id) if own else None
            controls.append({"id": c.id, "title": c.title, "priority": c.priority, "target": c.target,
                             **row_out(agg.controls[c.id], audience, cs.maturity if cs else None, own_shown=shown,
                                       not_applicable=bool(cs and cs.not_applicable))})
        ds = own.domain(d.key) if own else None
        domains.append({"key": d.key, "name": d.name, "controls": controls,
                        **row_out(agg.domains[d.key], audience, ds.score if ds else None, own_shown=shown)})
    return {"submitted": own is not None if shown else None,
            "member_types": [{"type": t, "name": type_name(t)} for t in agg.member_types],
            "overall": row_out(agg.overall, audience, own.overall if own else None, own_shown=shown),
            "domains": domains}


def benchmark_view(conn: Connection, *, reader: Reader, campaign_id: int, min_group: int) -> dict[str, Any]:
    """The campaign's benchmark as ``reader`` may see it (see the module's rules).

    Returns ``campaign``, ``catalogue`` (version, title), ``scope`` (staff, authority or member), ``min_group``,
    ``quartile_method``, ``member_types`` (type, name), ``overall``, ``domains`` (each with its ``controls``);
    every row has ``sector`` and ``by_type`` cells (``n``, ``q1``, ``median``, ``q3``, ``levels``,
    ``suppressed``), and for a member ``own`` (its value, not_applicable, its band in the sector) and
    ``submitted`` (whether it took part).
    """
    ctx = load(conn, reader=reader, campaign_id=campaign_id)
    agg = aggregate(ctx.catalogue, ctx.submissions, member_types=ctx.member_types, min_group=min_group)
    return {
        "campaign": ctx.campaign, "catalogue": {"version": ctx.catalogue.version, "title": ctx.catalogue.title},
        "scope": ctx.audience.value, "min_group": min_group, "quartile_method": QUARTILE_METHOD,
        **present(ctx.catalogue, agg, audience=ctx.audience, own_org=reader.organisation_id),
    }
