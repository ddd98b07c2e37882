"""The regulatory heat map: rows per DORA article and NIS2 article (Art 21(2) by its points) grouped by
chapter, coverage and "fully met" per cell by hand and against an oracle on random sectors, the benchmark's
suppression, and a member's own column."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nordcert.baseline.benchmark import COMPLEMENTARY, SMALL_GROUP, Audience, Submission
from nordcert.baseline.heatmap import heatmap, requirement_of, requirements
from nordcert.baseline.scoring import Answer
from tests.baseline.test_scoring import catalogue, control

TYPES = ("bank", "insurer", "pension")
CATALOGUE = catalogue(
    control("GOV-01", "governance", target=3, dora=("Art 5(2)", "Art 6(1)"), nis2=("Art 20(1)",)),
    control("GOV-02", "governance", target=2, dora=("Art 5(4)",), nis2=("Art 21(2)(a)", "Art 21(2)(f)")),
    control("REC-01", "recovery", target=4, dora=("Art 11(1)", "Art 12(2)"), nis2=("Art 21(2)(c)",)),
    control("TPR-01", "third_parties", target=3, dora=("Art 28(1)", "Art 30(2)"), nis2=("Art 21(2)(d)", "Art 21(1)")),
    control("INF-01", "governance", target=2, dora=("Art 45(1)",), nis2=("Art 23(1)",)),
)


def _row(maps: list[dict[str, Any]], framework: str, ref: str) -> dict[str, Any]:
    f = next(m for m in maps if m["key"] == framework)
    return next(r for ch in f["chapters"] for r in ch["rows"] if r["ref"] == ref)


def test_rows_are_articles_grouped_by_chapter_with_nis2_article_21_2_by_point() -> None:
    reqs = requirements(CATALOGUE)
    dora = [(r.ref, r.chapter) for r in reqs if r.framework == "dora"]
    assert [ref for ref, _ in dora] == ["Art 5", "Art 6", "Art 11", "Art 12", "Art 28", "Art 30", "Art 45"]
    assert dict(dora)["Art 5"] == "Chapter II: ICT risk management (Art 5–16)"
    assert dict(dora)["Art 30"] == "Chapter V: Managing of ICT third-party risk (Art 28–44)"
    assert dict(dora)["Art 45"] == "Chapter VI: Information-sharing arrangements (Art 45)"
    nis2 = [r.ref for r in reqs if r.framework == "nis2"]
    assert nis2 == ["Art 20", "Art 21", "Art 21(2)(a)", "Art 21(2)(c)", "Art 21(2)(d)", "Art 21(2)(f)", "Art 23"]
    by_ref = {(r.framework, r.ref): r for r in reqs}
    assert by_ref[("dora", "Art 5")].controls == ("GOV-01", "GOV-02")  # paragraphs count for their article
    assert by_ref[("nis2", "Art 21(2)(c)")].title.startswith("Business continuity")
    assert requirement_of("dora", "Art 17(3)") is not None and requirement_of("dora", "Article 9") is None
    assert requirement_of("dora", "Art 24(1)")[3] == "Chapter IV: Digital operational resilience testing (Art 24–27)"  # type: ignore[index]


def _sector(rows: list[tuple[str, dict[str, int | None]]]) -> list[Submission]:
    return [Submission(n, t, {c: Answer(m) if m is not None else Answer(None, not_applicable=True)
                              for c, m in a.items()}) for n, (t, a) in enumerate(rows, 1)]


def test_coverage_is_the_mean_share_of_controls_at_target_and_fully_met_the_share_of_members() -> None:
    at = {"GOV-01": 3, "GOV-02": 2, "REC-01": 4, "TPR-01": 3, "INF-01": 2}
    subs = _sector([
        ("bank", at),
        ("bank", {**at, "GOV-01": 1}),  # Art 5: 1 of 2 at target
        ("bank", {**at, "GOV-01": 0, "GOV-02": 0, "INF-01": None}),  # Art 5: 0 of 2
        ("bank", {**at, "GOV-02": None}),  # Art 5: 1 of 1 scored (GOV-02 not applicable)
        ("bank", {**at, "GOV-01": None, "GOV-02": None}),  # not in Art 5's cells
        ("bank", {**at, "INF-01": None}),
    ])
    maps = heatmap(CATALOGUE, subs, member_types=TYPES, min_group=5, audience=Audience.MEMBER, own_org=2)
    art5 = _row(maps, "dora", "Art 5")
    assert art5["sector"]["n"] == 5
    assert art5["sector"]["coverage"] == pytest.approx((1 + 0.5 + 0 + 1 + 1) / 5)
    assert art5["sector"]["fully_met"] == pytest.approx(3 / 5)
    assert art5["by_type"]["bank"]["coverage"] == pytest.approx(0.7)
    assert art5["by_type"]["insurer"] == {"n": None, "coverage": None, "fully_met": None, "suppressed": SMALL_GROUP}
    assert art5["own"] == 0.5
    art6 = _row(maps, "dora", "Art 6")  # GOV-01 alone
    assert (art6["sector"]["n"], art6["sector"]["coverage"], art6["own"]) == (5, pytest.approx(0.6), 0.0)
    art45 = _row(maps, "dora", "Art 45")  # INF-01: four scored it
    assert art45["sector"] == {"n": None, "coverage": None, "fully_met": None, "suppressed": SMALL_GROUP}
    assert art45["own"] == 1.0  # the member's own column stands whatever is suppressed
    assert _row(maps, "dora", "Art 12")["sector"]["coverage"] == 1.0
    # The authority and staff get no own column; staff see suppressed figures, marked.
    staff = heatmap(CATALOGUE, subs, member_types=TYPES, min_group=5, audience=Audience.STAFF)
    assert "own" not in _row(staff, "dora", "Art 45")
    assert _row(staff, "dora", "Art 45")["sector"] == {"n": 4, "coverage": 1.0, "fully_met": 1.0,
                                                       "suppressed": SMALL_GROUP}


def test_one_small_type_takes_a_second_with_it() -> None:
    at = {"GOV-01": 3, "GOV-02": 2, "REC-01": 4, "TPR-01": 3, "INF-01": 2}
    subs = _sector([("bank", at)] * 6 + [("insurer", at)] * 5 + [("pension", {**at, "REC-01": 0})])
    row = _row(heatmap(CATALOGUE, subs, member_types=TYPES, min_group=5, audience=Audience.MEMBER), "dora", "Art 11")
    assert row["sector"]["n"] == 12 and row["sector"]["coverage"] == pytest.approx(11 / 12)
    assert row["by_type"]["pension"]["suppressed"] == SMALL_GROUP
    assert row["by_type"]["insurer"]["suppressed"] == COMPLEMENTARY and row["by_type"]["insurer"]["coverage"] is None
    assert row["by_type"]["bank"] == {"n": 6, "coverage": 1.0, "fully_met": 1.0, "suppressed": None}


_answer = st.one_of(st.integers(0, 5).map(Answer), st.just(Answer(None, not_applicable=True)))
_member = st.tuples(st.sampled_from(TYPES), st.fixed_dictionaries({c.id: _answer for c in CATALOGUE.controls}))


@settings(max_examples=120, deadline=None)
@given(st.lists(_member, max_size=20), st.integers(3, 6))
def test_random_sectors_against_an_oracle(members: list[tuple[str, dict[str, Answer]]], min_group: int) -> None:
    subs = [Submission(n, t, a) for n, (t, a) in enumerate(members, 1)]
    maps = heatmap(CATALOGUE, subs, member_types=TYPES, min_group=min_group, audience=Audience.MEMBER)
    for req in requirements(CATALOGUE):
        row = _row(maps, req.framework, req.ref)
        shares: list[tuple[str, float]] = []
        for t, answers in members:
            scored = [(answers[c].maturity or 0) >= CATALOGUE.control(c).target
                      for c in req.controls if not answers[c].not_applicable]
            if scored:
                shares.append((t, sum(scored) / len(scored)))
        cells = [(row["sector"], [v for _, v in shares])] + [
            (row["by_type"][t], [v for vt, v in shares if vt == t]) for t in TYPES]
        for cell, values in cells:
            if cell["suppressed"]:
                assert cell["coverage"] is None and cell["n"] is None
                continue
            assert cell["n"] == len(values) >= min_group
            assert cell["coverage"] == pytest.approx(sum(values) / len(values))
            assert cell["fully_met"] == pytest.approx(sum(1 for v in values if v == 1) / len(values))
        if not row["sector"]["suppressed"]:
            rest = row["sector"]["n"] - sum(c["n"] for c in row["by_type"].values() if not c["suppressed"])
            assert rest == 0 or rest >= min_group
