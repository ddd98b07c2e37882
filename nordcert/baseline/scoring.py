"""A member's scores against the baseline, its gaps, and what it should do first. Pure functions of a catalogue
and one member's answers; no store, no reader.

The rule:

- **Per control** the score is the maturity the member answered (0–5). A control answered *not applicable* has
  no score and counts nowhere (nor does a control left unanswered, which a submitted response never has).
- **Per domain** the score is the mean of the member's scored controls in that domain, with their count;
  a domain where every control is not applicable has no score.
- **Overall** the score is the mean of all the member's scored controls, each control weighing the same
  (so a domain with more controls weighs more, as it asks more of the member).
- **Gap** of a control = max(0, target − maturity).
- **Recommendations** are the controls below their target, in this order: priority first (essential, then
  important, then advanced), then the larger gap, then how far the member is below the sector's median of
  that control (0 where the median is not published), then the catalogue's order. Each carries the control's
  guidance and the criteria to meet next: those whose level is above the member's maturity, up to the target.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from nordcert.baseline.catalogue import PRIORITIES, Catalogue, Control, Criterion

_PRIORITY_RANK = {p: n for n, p in enumerate(PRIORITIES)}  # essential 0, important 1, advanced 2


@dataclass(frozen=True, slots=True)
class Answer:
    """One answer as the scores need it: a maturity 0–5, or not applicable (then ``maturity`` is None)."""

    maturity: int | None
    not_applicable: bool = False

    @property
    def scored(self) -> bool:
        return not self.not_applicable and self.maturity is not None


@dataclass(frozen=True, slots=True)
class ControlScore:
    control: Control
    maturity: int | None  # None: not applicable (or not answered)
    not_applicable: bool

    @property
    def gap(self) -> int | None:
        return None if self.maturity is None else max(0, self.control.target - self.maturity)


@dataclass(frozen=True, slots=True)
class DomainScore:
    key: str
    score: float | None  # the mean of its scored controls; None when none is scored
    scored: int  # controls counted
    controls: int  # controls in the domain


@dataclass(frozen=True, slots=True)
class MemberScore:
    controls: tuple[ControlScore, ...]
    domains: tuple[DomainScore, ...]
    overall: float | None
    scored: int
    _index: dict[str, ControlScore | DomainScore] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._index.update({c.control.id: c for c in self.controls})
        self._index.update({"domain:" + d.key: d for d in self.domains})

    def control(self, control_id: str) -> ControlScore:
        found = self._index[control_id]
        assert isinstance(found, ControlScore)
        return found

    def domain(self, key: str) -> DomainScore:
        found = self._index["domain:" + key]
        assert isinstance(found, DomainScore)
        return found


@dataclass(frozen=True, slots=True)
class Recommendation:
    rank: int  # 1 = do first
    control: Control
    maturity: int
    gap: int
    sector_median: float | None  # the published median; None where suppressed or not given
    below_median: float  # max(0, median − maturity); 0 without a median
    next_criteria: tuple[Criterion, ...]


def mean(values: list[int]) -> float | None:
    return sum(values) / len(values) if values else None


def score_member(catalogue: Catalogue, answers: Mapping[str, Answer]) -> MemberScore:
    """The member's score per control, per domain and overall (see the module's rule)."""
    controls = []
    by_domain: dict[str, list[int | None]] = {d.key: [] for d in catalogue.domains}
    for c in catalogue.controls:
        a = answers.get(c.id)
        maturity = a.maturity if a is not None and a.scored else None
        controls.append(ControlScore(control=c, maturity=maturity, not_applicable=a is not None and a.not_applicable))
        by_domain.setdefault(c.domain, []).append(maturity)
    domains = []
    for d in catalogue.domains:
        values = [v for v in by_domain[d.key] if v is not None]
        domains.append(DomainScore(key=d.key, score=mean(values), scored=len(values), controls=len(by_domain[d.key])))
    everything = [s.maturity for s in controls if s.maturity is not None]
    return MemberScore(controls=tuple(controls), domains=tuple(domains), overall=mean(everything),
                       scored=len(everything))


def next_criteria(control: Control, maturity: int) -> tuple[Criterion, ...]:
    """The criteria to meet next: above the current maturity, up to the control's target, lowest level first."""
    return tuple(sorted((k for k in control.criteria if maturity < k.level <= control.target),
                        key=lambda k: k.level))


def recommendations(score: MemberScore, sector_medians: Mapping[str, float | None] | None = None
                    ) -> list[Recommendation]:
    """The controls below target, what to do first first (see the module's rule).

    ``sector_medians`` maps a control id to the sector's median as the member may see it (None where it is
    suppressed); a control missing from it ranks as if no median were published.
    """
    medians = sector_medians or {}
    found: list[tuple[tuple[int, int, float, int], ControlScore, float | None, float]] = []
    for order, s in enumerate(score.controls):
        if s.maturity is None or not s.gap:
            continue
        median = medians.get(s.control.id)
        below = max(0.0, median - s.maturity) if median is not None else 0.0
        found.append(((_PRIORITY_RANK.get(s.control.priority, len(PRIORITIES)), -s.gap, -below, order),
                      s, median, below))
    found.sort(key=lambda f: f[0])
    return [Recommendation(rank=n, control=s.control, maturity=s.maturity, gap=s.gap or 0, sector_median=median,
                           below_median=below, next_criteria=next_criteria(s.control, s.maturity))
            for n, (_, s, median, below) in enumerate(found, 1) if s.maturity is not None]
