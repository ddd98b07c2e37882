"""The phases and the CDR 2025/1190 deadlines, pure: each deadline at its boundary (due that day is in time,
overdue the next), from planned or actual dates, the 12-week minimum, the 3-year rule across 29 February, and
the testers' rules of DORA Art 26(8)."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nordcert.errors import Conflict
from nordcert.redteam import phases
from nordcert.redteam.phases import PHASE_KEYS, PhaseDates, add_years, check_move, deadlines, warnings

END = date(2026, 1, 30)  # the end of active red teaming


def _by_key(found: list[phases.Deadline]) -> dict[str, phases.Deadline]:
    return {d.key: d for d in found}


def _at(today: date, **dates: PhaseDates) -> dict[str, phases.Deadline]:
    return _by_key(deadlines(dates, notified_on=None, attested_on=None, next_test_on=None, today=today))


def test_moves_go_forward_one_phase_at_a_time() -> None:
    for here, there in itertools.pairwise(PHASE_KEYS):
        check_move(here, there)
    with pytest.raises(Conflict, match="the next phase is Targeted threat intelligence"):
        check_move("preparation", "active_red_teaming")
    with pytest.raises(Conflict, match="cannot move from Active red teaming to Preparation"):
        check_move("active_red_teaming", "preparation")
    with pytest.raises(Conflict, match="attestation closes it"):
        check_move("attestation", "preparation")
    with pytest.raises(Conflict, match="is not a phase"):
        check_move("preparation", "scoping")
    with pytest.raises(Conflict):
        check_move("preparation", "preparation")


@pytest.mark.parametrize(("key", "weeks"), [("red_team_report", 4), ("blue_team_report", 10),
                                            ("replay_purple_teaming", 10)])
def test_closure_deadlines_count_from_the_end_of_active_red_teaming(key: str, weeks: int) -> None:
    active = PhaseDates(actual_start=END - timedelta(weeks=12), actual_end=END)
    due = END + timedelta(weeks=weeks)
    on_the_day = _at(due, active_red_teaming=active)[key]
    assert (on_the_day.due_on, on_the_day.state, on_the_day.from_planned) == (due, "pending", False)
    assert _at(due + timedelta(days=1), active_red_teaming=active)[key].state == "overdue"
    done = {key: PhaseDates(actual_start=END, actual_end=due)}
    assert _at(due + timedelta(days=30), active_red_teaming=active, **done)[key].state == "met"
    late = {key: PhaseDates(actual_start=END, actual_end=due + timedelta(days=1))}
    assert _at(due + timedelta(days=30), active_red_teaming=active, **late)[key].state == "late"


def test_a_planned_end_gives_planned_deadlines_and_an_actual_end_replaces_it() -> None:
    planned = PhaseDates(planned_start=date(2025, 11, 1), planned_end=END)
    rt = _at(date(2025, 12, 1), active_red_teaming=planned)["red_team_report"]
    assert (rt.due_on, rt.from_planned) == (END + timedelta(weeks=4), True)
    moved = PhaseDates(planned_start=date(2025, 11, 1), planned_end=END, actual_start=date(2025, 11, 1),
                       actual_end=END + timedelta(days=3))
    rt = _at(date(2025, 12, 1), active_red_teaming=moved)["red_team_report"]
    assert (rt.due_on, rt.from_planned) == (END + timedelta(weeks=4, days=3), False)
    assert _at(date(2025, 12, 1))["red_team_report"].state == "unknown"


def test_remediation_plan_is_due_8_weeks_after_the_notification() -> None:
    notified = date(2026, 5, 4)
    due = notified + timedelta(weeks=8)
    for today, state in ((due, "pending"), (due + timedelta(days=1), "overdue")):
        found = _by_key(deadlines({}, notified_on=notified, attested_on=None, next_test_on=None, today=today))
        assert (found["remediation_plan"].due_on, found["remediation_plan"].state) == (due, state)
    assert _at(due)["remediation_plan"].due_on is None


def test_next_test_is_due_three_years_after_the_attestation() -> None:
    found = _by_key(deadlines({}, notified_on=None, attested_on=date(2026, 9, 15), next_test_on=None,
                              today=date(2029, 9, 15)))
    assert (found["next_test"].due_on, found["next_test"].state) == (date(2029, 9, 15), "pending")
    found = _by_key(deadlines({}, notified_on=None, attested_on=date(2026, 9, 15), next_test_on=None,
                              today=date(2029, 9, 16)))
    assert found["next_test"].state == "overdue"
    found = _by_key(deadlines({}, notified_on=None, attested_on=date(2026, 9, 15), next_test_on=date(2029, 3, 1),
                              today=date(2029, 9, 16)))
    assert found["next_test"].state == "met"
    assert add_years(date(2028, 2, 29), 3) == date(2031, 2, 28)
    assert add_years(date(2027, 2, 28), 1) == date(2028, 2, 28)


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31)), st.integers(0, 400))
def test_every_deadline_is_overdue_exactly_from_the_day_after_it(end: date, offset: int) -> None:
    active = PhaseDates(actual_start=end - timedelta(weeks=12), actual_end=end)
    today = end + timedelta(days=offset)
    for d in deadlines({"active_red_teaming": active}, notified_on=end, attested_on=end, next_test_on=None,
                       today=today):
        assert d.due_on is not None and d.due_on > end
        assert d.state == ("overdue" if today > d.due_on else "pending"), d


def test_next_deadline_is_the_earliest_not_met() -> None:
    active = PhaseDates(actual_start=END - timedelta(weeks=12), actual_end=END)
    rt_done = PhaseDates(actual_start=END, actual_end=END + timedelta(days=20))
    found = deadlines({"active_red_teaming": active, "red_team_report": rt_done}, notified_on=None,
                      attested_on=None, next_test_on=None, today=END)
    upcoming = phases.next_deadline(found)
    assert upcoming is not None and (upcoming.key, upcoming.due_on) == ("blue_team_report", END + timedelta(weeks=10))
    assert phases.next_deadline(deadlines({}, notified_on=None, attested_on=None, next_test_on=None,
                                          today=END)) is None


def test_active_red_teaming_shorter_than_12_weeks_is_warned() -> None:
    start = date(2026, 1, 5)

    def keys(planned_days: int, actual_days: int | None = None) -> set[str]:
        dates = PhaseDates(planned_start=start, planned_end=start + timedelta(days=planned_days),
                           actual_start=start if actual_days is not None else None,
                           actual_end=start + timedelta(days=actual_days) if actual_days is not None else None)
        return {w.key for w in warnings({"active_red_teaming": dates}, framework="tiber_eu",
                                        significant_credit_institution=False, rt_provider_kind="external",
                                        earlier_kinds=[])}

    assert keys(84) == set()
    assert keys(83) == {"active_red_teaming_planned_short"}
    assert keys(90, 83) == {"active_red_teaming_actual_short"}
    assert keys(90, 84) == set()


@pytest.mark.parametrize(("framework", "significant", "kind", "earlier", "expected"), [
    ("dora_tlpt", True, "internal", [], {"internal_testers_significant"}),
    ("dora_tlpt", True, "external", [], set()),
    ("dora_tlpt", False, "internal", ["internal", "internal"], {"internal_testers_third_in_row"}),
    ("dora_tlpt", False, "internal", ["internal", "external", "internal"], set()),
    ("dora_tlpt", False, "internal", ["internal", None], set()),  # undecided breaks no run
    ("dora_tlpt", False, "external", ["internal", "internal"], set()),
    ("dora_tlpt", True, "internal", ["internal", "internal"],
     {"internal_testers_significant", "internal_testers_third_in_row"}),
    ("tiber_eu", True, "internal", ["internal", "internal"], set()),
])
def test_dora_testers_rules(framework: str, significant: bool, kind: str, earlier: list[str | None],
                            expected: set[str]) -> None:
    found = warnings({}, framework=framework, significant_credit_institution=significant, rt_provider_kind=kind,
                     earlier_kinds=earlier)
    assert {w.key for w in found} == expected
    assert all(w.source == "DORA Art 26(8)" for w in found)


def test_behind_plan() -> None:
    day = date(2026, 3, 1)
    assert phases.behind_plan(PhaseDates(planned_start=day), today=day) is False
    assert phases.behind_plan(PhaseDates(planned_start=day), today=day + timedelta(days=1)) is True
    assert phases.behind_plan(PhaseDates(planned_start=day, actual_start=day), today=day + timedelta(days=1)) is False
    assert phases.behind_plan(PhaseDates(planned_end=day, actual_start=day), today=day + timedelta(days=1)) is True
    assert phases.behind_plan(PhaseDates(planned_end=day, actual_end=day), today=day + timedelta(days=9)) is False
