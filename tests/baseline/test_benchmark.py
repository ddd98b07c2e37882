"""The sector benchmark: quartiles against ``statistics.quantiles`` (inclusive method), small-group and
complementary suppression, and, on random sectors, that no published group is smaller than the minimum, that
no suppressed group can be recovered by subtracting published counts from the sector's, that every published
figure equals a plain oracle's, and that a member always sees its own figures. The store's part (one query,
who may read it, when) is at the end."""

from __future__ import annotations

import statistics
from collections import Counter
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nordcert.baseline.benchmark import (
    COMPLEMENTARY,
    SMALL_GROUP,
    Audience,
    Submission,
    aggregate,
    describe,
    present,
    quantile,
    suppress,
)
from nordcert.baseline.scoring import Answer
from tests.baseline.test_scoring import catalogue, control

TYPES = ("bank", "mortgage", "insurer", "pension")


# --- statistics ---------------------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.integers(0, 5).map(float), st.floats(0, 5, allow_nan=False)), min_size=2, max_size=40))
def test_quartiles_are_statistics_quantiles_inclusive(values: list[float]) -> None:
    q1, median, q3 = statistics.quantiles(values, n=4, method="inclusive")
    s = describe(values)
    assert s is not None
    assert s.q1 == pytest.approx(q1) and s.median == pytest.approx(median) and s.q3 == pytest.approx(q3)
    assert s.median == pytest.approx(statistics.median(values))
    assert sum(s.levels) == s.n == len(values)


def test_quartiles_by_hand_and_levels_counted_by_the_whole_level_reached() -> None:
    s = describe([1, 2, 3, 4, 5])
    assert s is not None and (s.q1, s.median, s.q3) == (2, 3, 4)
    s = describe([0, 0, 3, 5])
    assert s is not None and (s.q1, s.median, s.q3) == (0, 1.5, 3.5)  # positions 0.75, 1.5, 2.25
    s = describe([2.7, 2.0, 4.99, 5.0, 0.5])
    assert s is not None and s.levels == (1, 0, 2, 0, 1, 1)
    assert describe([]) is None
    assert quantile([3.0], 0.25) == 3.0


# --- suppression --------------------------------------------------------------------------------------------


def test_small_groups_are_suppressed_and_one_more_so_that_subtraction_recovers_nothing() -> None:
    # Nothing small: nothing suppressed.
    assert suppress(12, {"bank": 7, "insurer": 5}, 5) == (None, {"bank": None, "insurer": None})
    # One small group alone could be recovered as sector minus banks: the smallest published type goes too.
    assert suppress(15, {"bank": 9, "insurer": 5, "pension": 1}, 5) == (
        None, {"bank": None, "insurer": COMPLEMENTARY, "pension": SMALL_GROUP})
    # Two small groups holding together fewer than 5 would be recovered together: one more goes.
    assert suppress(16, {"bank": 8, "mortgage": 6, "insurer": 1, "pension": 1}, 5) == (
        None, {"bank": None, "mortgage": COMPLEMENTARY, "insurer": SMALL_GROUP, "pension": SMALL_GROUP})
    # Two small groups holding 5 together may stand as they are (their sum is a group of five).
    assert suppress(15, {"bank": 10, "insurer": 3, "pension": 2}, 5) == (
        None, {"bank": None, "insurer": SMALL_GROUP, "pension": SMALL_GROUP})
    # Empty types reveal nothing.
    assert suppress(9, {"bank": 9, "pension": 0}, 5) == (None, {"bank": None, "pension": SMALL_GROUP})
    # A small sector takes every type with it.
    assert suppress(4, {"bank": 4, "insurer": 0}, 5) == (SMALL_GROUP, {"bank": SMALL_GROUP, "insurer": SMALL_GROUP})
    # Ties between published types: the first by name goes.
    assert suppress(11, {"bank": 5, "mortgage": 5, "pension": 1}, 5)[1] == {
        "bank": COMPLEMENTARY, "mortgage": None, "pension": SMALL_GROUP}


# --- random sectors against an oracle -----------------------------------------------------------------------

CATALOGUE = catalogue(control("GOV-01", "governance"), control("GOV-02", "governance", target=4),
                      control("PRO-01", "protection", target=2), control("PRO-02", "protection"),
                      control("DET-01", "detection", priority="advanced"))
CONTROL_IDS = [c.id for c in CATALOGUE.controls]
_answer = st.one_of(st.integers(0, 5).map(Answer), st.just(Answer(None, not_applicable=True)))
_member = st.tuples(st.sampled_from(TYPES), st.fixed_dictionaries({c: _answer for c in CONTROL_IDS}))


def _oracle_values(members: list[tuple[str, dict[str, Answer]]], row: str) -> list[tuple[str, float]]:
    """(type, value) of every member with a value in ``row`` ("overall", a domain key or a control id), computed
    straight from the answers."""
    out = []
    for t, answers in members:
        if row in CONTROL_IDS:
            ids = [row]
        elif row == "overall":
            ids = CONTROL_IDS
        else:
            ids = [c.id for c in CATALOGUE.controls_in(row)]
        values = [answers[i].maturity for i in ids if not answers[i].not_applicable]
        if values:
            out.append((t, sum(v for v in values if v is not None) / len(values)))
    return out


def _rows(view: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    rows = [("overall", view["overall"])]
    for d in view["domains"]:
        rows.append((d["key"], d))
        rows.extend((c["id"], c) for c in d["controls"])
    return rows


def _check_cell(cell: dict[str, Any], values: list[float], min_group: int) -> None:
    if cell["suppressed"]:
        assert cell["n"] is None and cell["median"] is None and cell["levels"] is None and cell["q1"] is None
        return
    assert cell["n"] == len(values) >= min_group, "a published group is smaller than the minimum"
    q1, median, q3 = statistics.quantiles(values, n=4, method="inclusive")
    assert (cell["q1"], cell["median"], cell["q3"]) == (pytest.approx(q1), pytest.approx(median), pytest.approx(q3))
    counted = Counter(min(5, int(v)) for v in values)
    assert cell["levels"] == [counted[level] for level in range(6)]


@settings(max_examples=150, deadline=None)
@given(st.lists(_member, min_size=0, max_size=24), st.integers(3, 6), st.data())
def test_random_sectors_publish_only_large_groups_with_the_oracle_s_figures(
        members: list[tuple[str, dict[str, Answer]]], min_group: int, data: st.DataObject) -> None:
    subs = [Submission(organisation_id=n + 1, member_type=t, answers=a) for n, (t, a) in enumerate(members)]
    agg = aggregate(CATALOGUE, subs, member_types=TYPES, min_group=min_group)
    own_org = data.draw(st.integers(1, len(members))) if members else None
    for audience in (Audience.MEMBER, Audience.AUTHORITY):
        view = present(CATALOGUE, agg, audience=audience, own_org=own_org)
        for key, row in _rows(view):
            values = _oracle_values(members, key)
            _check_cell(row["sector"], [v for _, v in values], min_group)
            for t in TYPES:
                _check_cell(row["by_type"][t], [v for vt, v in values if vt == t], min_group)
            if row["sector"]["suppressed"] is None:
                # Whatever the published types leave of the sector is no group smaller than the minimum.
                published = [c for c in row["by_type"].values() if not c["suppressed"]]
                rest = row["sector"]["n"] - sum(c["n"] for c in published)
                assert rest == 0 or rest >= min_group, f"{key}: a group of {rest} derivable by subtraction"
                rest_levels = [row["sector"]["levels"][lv] - sum(c["levels"][lv] for c in published)
                               for lv in range(6)]
                assert min(rest_levels) >= 0 and sum(rest_levels) == rest
            if audience is Audience.MEMBER and own_org is not None:
                t, answers = members[own_org - 1]
                mine = _oracle_values([(t, answers)], key)
                assert row["own"]["value"] == (pytest.approx(mine[0][1]) if mine else None)
            elif audience is Audience.MEMBER:  # a member that did not take part has no figures of its own
                assert row["own"]["value"] is None and view["submitted"] is False
            else:
                assert "own" not in row


def test_staff_see_every_figure_with_the_suppression_members_get_marked() -> None:
    subs = [Submission(n, "bank", {c: Answer(3) for c in CONTROL_IDS}) for n in range(1, 7)]
    subs.append(Submission(7, "insurer", {c: Answer(1) for c in CONTROL_IDS}))
    agg = aggregate(CATALOGUE, subs, member_types=TYPES, min_group=5)
    staff = present(CATALOGUE, agg, audience=Audience.STAFF)["overall"]
    member = present(CATALOGUE, agg, audience=Audience.MEMBER, own_org=7)["overall"]
    assert staff["by_type"]["insurer"] == {"n": 1, "q1": 1, "median": 1, "q3": 1, "levels": [0, 1, 0, 0, 0, 0],
                                           "suppressed": SMALL_GROUP}
    assert staff["by_type"]["bank"]["n"] == 6 and staff["by_type"]["bank"]["suppressed"] == COMPLEMENTARY
    assert member["by_type"]["insurer"]["median"] is None and member["by_type"]["bank"]["median"] is None
    assert member["sector"]["n"] == 7 and member["sector"]["median"] == 3
    assert member["own"] == {"value": 1, "not_applicable": False, "band": "below_q1"}
