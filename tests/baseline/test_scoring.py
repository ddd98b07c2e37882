"""Scoring: a member's maturity per control, per domain and overall (not applicable left out), gaps against
the target, and the order of its recommendations (priority, gap, distance below the sector's median), each
with the criteria to meet next. Checked on hand-built catalogues and, for the order, against random answers."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from nordcert.baseline.catalogue import Catalogue, Control, Criterion, Domain, MaturityLevel
from nordcert.baseline.scoring import Answer, next_criteria, recommendations, score_member

SCALE = tuple(MaturityLevel(n, name, f"level {n}") for n, name in enumerate(
    ("Non-existent", "Initial", "Repeatable", "Defined", "Managed", "Adaptive")))


def control(cid: str, domain: str, *, target: int = 3, priority: str = "essential", dora: tuple[str, ...] = (),
            nis2: tuple[str, ...] = ()) -> Control:
    """A control with one criterion per level 1 to 5 (``GOV-01.3`` evidences level 3)."""
    return Control(id=cid, domain=domain, title=f"Control {cid}", objective=f"Objective of {cid}",
                   criteria=tuple(Criterion(f"{cid}.{n}", f"{cid} criterion at level {n}", n) for n in range(1, 6)),
                   target=target, priority=priority, dora=dora, nis2=nis2, csf=("GV.OC",),
                   guidance=f"Guidance for {cid}")


def catalogue(*controls: Control) -> Catalogue:
    keys = tuple(dict.fromkeys(c.domain for c in controls))
    return Catalogue(version="test.1", title="Test baseline", scale=SCALE,
                     domains=tuple(Domain(k, k.capitalize(), f"The {k} domain") for k in keys), controls=controls)


def tiny() -> Catalogue:
    """Two domains: governance GOV-01..03, protection PRO-01..02."""
    return catalogue(control("GOV-01", "governance"), control("GOV-02", "governance", target=4, priority="important"),
                     control("GOV-03", "governance", priority="advanced"), control("PRO-01", "protection"),
                     control("PRO-02", "protection", target=2))


def answers(**values: int | None) -> dict[str, Answer]:
    """``GOV_01=2`` → maturity 2; ``GOV_03=None`` → not applicable."""
    return {k.replace("_", "-"): Answer(v) if v is not None else Answer(None, not_applicable=True)
            for k, v in values.items()}


def test_scores_per_control_domain_and_overall_leave_not_applicable_out() -> None:
    s = score_member(tiny(), answers(GOV_01=1, GOV_02=4, GOV_03=None, PRO_01=3, PRO_02=0))
    assert [c.maturity for c in s.controls] == [1, 4, None, 3, 0]
    assert s.control("GOV-03").not_applicable and s.control("GOV-03").gap is None
    gov, pro = s.domain("governance"), s.domain("protection")
    assert (gov.score, gov.scored, gov.controls) == (2.5, 2, 3)
    assert (pro.score, pro.scored, pro.controls) == (1.5, 2, 2)
    # Overall: the mean of the four scored controls, each weighing the same (not the mean of the domains).
    assert s.overall == 2.0 and s.scored == 4


def test_a_domain_with_every_control_not_applicable_has_no_score() -> None:
    s = score_member(tiny(), answers(GOV_01=2, GOV_02=2, GOV_03=2, PRO_01=None, PRO_02=None))
    assert s.domain("protection").score is None and s.domain("protection").scored == 0
    assert s.overall == 2.0
    nothing = score_member(tiny(), answers(GOV_01=None, GOV_02=None, GOV_03=None, PRO_01=None, PRO_02=None))
    assert nothing.overall is None and nothing.scored == 0


def test_gap_is_the_distance_below_target_and_never_negative() -> None:
    s = score_member(tiny(), answers(GOV_01=1, GOV_02=5, GOV_03=3, PRO_01=0, PRO_02=2))
    assert [c.gap for c in s.controls] == [2, 0, 0, 3, 0]


def test_recommendations_put_priority_first_then_gap_then_distance_below_the_median() -> None:
    cat = catalogue(
        control("ADV-01", "governance", priority="advanced", target=5),   # gap 5, advanced: last
        control("IMP-01", "governance", priority="important", target=4),  # gap 2
        control("IMP-02", "governance", priority="important", target=4),  # gap 3: before IMP-01
        control("ESS-01", "protection", target=3),                        # gap 1, median 4 → 3 below
        control("ESS-02", "protection", target=3),                        # gap 1, median 2 → 1 below
        control("ESS-03", "protection", target=3),                        # gap 1, median suppressed → 0 below
        control("ESS-04", "protection", target=3),                        # gap 0: not recommended
    )
    s = score_member(cat, answers(ADV_01=0, IMP_01=2, IMP_02=1, ESS_01=2, ESS_02=2, ESS_03=2, ESS_04=3))
    recs = recommendations(s, {"ESS-01": 4.0, "ESS-02": 3.0, "ESS-03": None, "IMP-01": 5.0})
    assert [r.control.id for r in recs] == ["ESS-01", "ESS-02", "ESS-03", "IMP-02", "IMP-01", "ADV-01"]
    assert [r.rank for r in recs] == [1, 2, 3, 4, 5, 6]
    first = recs[0]
    assert (first.maturity, first.gap, first.sector_median, first.below_median) == (2, 1, 4.0, 2.0)
    assert recs[2].sector_median is None and recs[2].below_median == 0
    assert first.control.guidance == "Guidance for ESS-01"
    # Ties all the way down keep the catalogue's order.
    same = score_member(cat, answers(ESS_01=1, ESS_02=1, ESS_03=1))
    assert [r.control.id for r in recommendations(same)] == ["ESS-01", "ESS-02", "ESS-03"]


def test_next_criteria_are_those_above_the_maturity_up_to_the_target() -> None:
    c = control("GOV-09", "governance", target=4)
    assert [k.id for k in next_criteria(c, 1)] == ["GOV-09.2", "GOV-09.3", "GOV-09.4"]
    assert [k.id for k in next_criteria(c, 3)] == ["GOV-09.4"]
    assert next_criteria(c, 4) == ()
    s = score_member(catalogue(c), answers(GOV_09=2))
    assert [k.level for k in recommendations(s)[0].next_criteria] == [3, 4]


_priorities = st.sampled_from(("essential", "important", "advanced"))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 5), _priorities, st.one_of(st.none(), st.integers(0, 5)),
                          st.one_of(st.none(), st.floats(0, 5, allow_nan=False))), min_size=1, max_size=12))
def test_recommendations_are_exactly_the_controls_below_target_in_the_rule_s_order(
        specs: list[tuple[int, str, int | None, float | None]]) -> None:
    cat = catalogue(*(control(f"CTL-{n:02d}", "governance", target=t, priority=p)
                      for n, (t, p, _, _) in enumerate(specs)))
    given_answers = {f"CTL-{n:02d}": Answer(m, not_applicable=m is None) for n, (_, _, m, _) in enumerate(specs)}
    medians = {f"CTL-{n:02d}": med for n, (_, _, _, med) in enumerate(specs)}
    recs = recommendations(score_member(cat, given_answers), medians)
    below = {f"CTL-{n:02d}" for n, (t, _, m, _) in enumerate(specs) if m is not None and m < t}
    assert {r.control.id for r in recs} == below
    rank = {"essential": 0, "important": 1, "advanced": 2}
    keys = [(rank[r.control.priority], -r.gap, -r.below_median, r.control.id) for r in recs]
    assert keys == sorted(keys)
    for r in recs:
        assert r.gap == r.control.target - r.maturity > 0
        median = medians[r.control.id]
        assert r.below_median == (max(0.0, median - r.maturity) if median is not None else 0.0)
        assert all(r.maturity < k.level <= r.control.target for k in r.next_criteria)
        assert len(r.next_criteria) == r.gap  # one criterion per level in these controls
