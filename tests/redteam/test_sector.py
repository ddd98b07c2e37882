"""The sector's anonymised findings: counted from tests in remediation or attested, suppressed below the smallest
group of members (also by subtraction, checked as a property of the suppression), and never a member's name, a
test's id or a finding's text."""

from __future__ import annotations

from datetime import date
from typing import Any

import orjson
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine

from nordcert.db import transaction
from nordcert.redteam import findings, sector
from nordcert.redteam.sector import shown_cells
from tests.factories import Member, make_member
from tests.redteam.conftest import TODAY, World, advance_to, call, open_test

MIN = 5


@st.composite
def _groups(draw: st.DrawFn) -> tuple[list[int], list[frozenset[int]], int]:
    min_group = draw(st.integers(2, 6))
    parts = draw(st.integers(1, 6))
    members = [frozenset(draw(st.sets(st.integers(1, 12), max_size=9))) for _ in range(parts)]
    counts = [len(m) + draw(st.integers(0, 3)) if m else 0 for m in members]
    return counts, members, min_group


@given(_groups())
def test_no_small_group_is_shown_or_found_by_subtraction(case: tuple[list[int], list[frozenset[int]], int]) -> None:
    counts, members, min_group = case
    shown = shown_cells(counts, members, min_group)
    for n, m, ok in zip(counts, members, shown, strict=True):
        if ok:
            assert n == 0 or len(m) >= min_group
    hidden = [i for i, ok in enumerate(shown) if not ok]
    residual: set[int] = set()
    for i in hidden:
        residual |= members[i]
    whole: set[int] = set().union(*members)
    # What the total less the shown parts reveals comes from enough members (or from the whole group).
    assert not hidden or len(residual) >= min_group or residual == whole
    # Nothing is suppressed without need.
    if all(n == 0 or len(m) >= min_group for n, m in zip(counts, members, strict=True)):
        assert all(shown)


def test_suppression_examples() -> None:
    five = frozenset(range(5))
    assert shown_cells([0, 7, 1, 0], [frozenset(), five, frozenset({9}), frozenset()], 5) == [True, False, False, True]
    assert shown_cells([3, 8, 2], [frozenset({1, 2}), five, frozenset({3, 4, 6})], 5) == [False, True, False]


def _member_with_test(engine: Engine, world: World, n: int, items: list[tuple[str, str]]) -> Member:
    lead = make_member(engine, name=f"Member Bank {n}", role="risk_officer")
    found = open_test(engine, world, org=lead, lead=lead, name=f"Test {n}")
    advance_to(engine, lead, found["id"], "remediation_plan")
    for category, severity in items:
        call(engine, findings.add_finding, reader=lead.reader, engagement_id=found["id"],
             title=f"Secret finding of bank {n}", category=category, severity=severity,
             description="Nobody else reads this.")
    return lead


def _view(engine: Engine, who: Member) -> dict[str, Any]:
    with transaction(engine, write=False) as conn:
        return sector.sector_findings(conn, reader=who.reader, min_group=MIN, today=TODAY)


def test_the_view_appears_from_five_members_and_hides_small_groups(engine: Engine, world: World) -> None:
    leads = [_member_with_test(engine, world, n, [("credential_compromise", "high"), ("detection_gap", "medium")])
             for n in range(4)]
    # A test still being tested is not counted; neither is the fifth member until its test is in remediation.
    active = open_test(engine, world)
    advance_to(engine, world.lead, active["id"], "active_red_teaming")
    call(engine, findings.add_finding, reader=world.lead.reader, engagement_id=active["id"], title="Early",
         category="physical", severity="critical")
    view = _view(engine, world.boreal)
    assert view["suppressed"] is True and view["categories"] == [] and view["members"] is None
    leads.append(_member_with_test(engine, world, 4, [("credential_compromise", "high"), ("physical", "low"),
                                                      ("detection_gap", "low")]))
    view = _view(engine, world.boreal)
    assert (view["suppressed"], view["members"], view["engagements"]) == (False, 5, 5)
    rows = {r["key"]: r for r in view["categories"]}
    assert rows["credential_compromise"]["counts"] == {"critical": 0, "high": 5, "medium": 0, "low": 0}
    assert rows["credential_compromise"]["total"] == 5
    # detection gap: 4 members medium, 1 member low: both cells hidden, the total (5 members) shown.
    assert rows["detection_gap"]["counts"] == {"critical": 0, "high": 0, "medium": None, "low": None}
    assert (rows["detection_gap"]["total"], rows["detection_gap"]["not_broken_down"]) == (5, 5)
    # physical: one member only: the whole category is suppressed, and so is the total of all findings.
    assert rows["physical"]["suppressed"] is True and rows["physical"]["total"] is None
    assert view["findings"] is None
    assert rows["lateral_movement"] == {"key": "lateral_movement", "name": "Lateral movement",
                                        "source": "ATT&CK TA0008", "suppressed": False, "total": 0,
                                        "counts": dict.fromkeys(("critical", "high", "medium", "low"), 0),
                                        "not_broken_down": 0}
    text = orjson.dumps(view).decode()
    for n in range(5):
        assert f"Member Bank {n}" not in text and f"bank {n}" not in text and f"Test {n}" not in text
    assert "Nobody else" not in text and "Alpha Bank" not in text and '"id"' not in text
    # A member sees its own figures next to the sector's.
    own = _view(engine, leads[4])["own"]
    assert own == {"credential_compromise": {"critical": 0, "high": 1, "medium": 0, "low": 0},
                   "physical": {"critical": 0, "high": 0, "medium": 0, "low": 1},
                   "detection_gap": {"critical": 0, "high": 0, "medium": 0, "low": 1}}
    assert _view(engine, world.fsa)["own"] is None and _view(engine, world.admin)["own"] is None


def test_the_grand_total_shows_when_the_suppressed_categories_are_a_large_group(engine: Engine, world: World) -> None:
    for n in range(6):
        items = [("lateral_movement", "high")] + ([("physical", "low")] if n < 3 else [("third_party", "low")])
        _member_with_test(engine, world, n, items)
    view = _view(engine, world.admin)
    rows = {r["key"]: r for r in view["categories"]}
    assert rows["physical"]["suppressed"] and rows["third_party"]["suppressed"]
    assert view["findings"] == 12  # the two suppressed categories together come from 6 members
    assert view["as_of"] == date(2026, 3, 2).isoformat()
