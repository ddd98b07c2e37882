"""Report deadlines of CDR 2025/301 Art 5: each report, midnight, DST in Europe/Copenhagen, weekends."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from nordcert.incidents.deadlines import (
    add_months,
    final_report_due,
    initial_notification_due,
    intermediate_report_due,
    next_due,
    relieve,
    schedule,
    to_utc,
    zone_of,
)

CPH = zone_of("Europe/Copenhagen")


def cph(*args: int) -> datetime:
    """A wall-clock time in Copenhagen (never in a DST gap or overlap here)."""
    return datetime(*args, tzinfo=CPH)  # type: ignore[misc]


def local(moment: datetime) -> datetime:
    return moment.astimezone(CPH)


# --- initial notification ---------------------------------------------------------------------------


def test_initial_is_due_4_hours_after_classification() -> None:
    due = initial_notification_due(aware_at=cph(2025, 6, 3, 8, 0), classified_at=cph(2025, 6, 3, 10, 0), zone=CPH)
    assert local(due.at) == cph(2025, 6, 3, 14, 0) and due.at.tzinfo is UTC
    assert due.at == datetime(2025, 6, 3, 12, 0, tzinfo=UTC)  # stored in UTC: CEST is UTC+2
    assert "4 h after classification" in due.rule and "Tue 2025-06-03 14:00 CEST" in due.rule


def test_initial_is_never_later_than_24_hours_after_awareness() -> None:
    due = initial_notification_due(aware_at=cph(2025, 6, 3, 8, 0), classified_at=cph(2025, 6, 4, 6, 0), zone=CPH)
    assert local(due.at) == cph(2025, 6, 4, 8, 0) and "24 h after awareness" in due.rule


def test_classified_exactly_24_hours_after_awareness_is_due_at_once() -> None:
    due = initial_notification_due(aware_at=cph(2025, 6, 3, 8, 0), classified_at=cph(2025, 6, 4, 8, 0), zone=CPH)
    assert local(due.at) == cph(2025, 6, 4, 8, 0)


def test_classified_major_after_24_hours_gives_4_hours_from_classification() -> None:
    due = initial_notification_due(aware_at=cph(2025, 6, 3, 8, 0), classified_at=cph(2025, 6, 5, 9, 30), zone=CPH)
    assert local(due.at) == cph(2025, 6, 5, 13, 30) and "more than 24 h after awareness" in due.rule


def test_detection_just_before_midnight_is_due_the_next_day() -> None:
    # Wednesday 23:50, classified at 23:55: due Thursday 03:55 local, Thursday 01:55 UTC
    due = initial_notification_due(aware_at=cph(2025, 6, 4, 23, 50), classified_at=cph(2025, 6, 4, 23, 55),
                                   zone=CPH)
    assert local(due.at) == cph(2025, 6, 5, 3, 55)
    assert due.at == datetime(2025, 6, 5, 1, 55, tzinfo=UTC)
    # the same minute in UTC is still the evening before in Copenhagen's winter: 22:50Z = 23:50 CET
    winter = initial_notification_due(aware_at=datetime(2025, 1, 8, 22, 50, tzinfo=UTC),
                                      classified_at=datetime(2025, 1, 8, 22, 55, tzinfo=UTC), zone=CPH)
    assert local(winter.at) == cph(2025, 1, 9, 3, 55)


def test_24_hours_across_spring_dst_end_an_hour_later_on_the_clock() -> None:
    # aware Sat 29 Mar 2025 12:00 CET; clocks go forward on Sun 30 Mar at 02:00
    due = initial_notification_due(aware_at=cph(2025, 3, 29, 12, 0), classified_at=cph(2025, 3, 30, 10, 0),
                                   zone=CPH)
    assert due.at - cph(2025, 3, 29, 12, 0) == timedelta(hours=24)
    assert local(due.at).hour == 13 and local(due.at).utcoffset() == timedelta(hours=2)
    assert "Sun 2025-03-30 13:00 CEST" in due.rule


def test_72_hours_across_autumn_dst_end_an_hour_earlier_on_the_clock() -> None:
    # initial Fri 24 Oct 2025 12:00 CEST; clocks go back on Sun 26 Oct at 03:00
    due = intermediate_report_due(initial_submitted_at=cph(2025, 10, 24, 12, 0), zone=CPH)
    assert local(due.at) == cph(2025, 10, 27, 11, 0) and local(due.at).utcoffset() == timedelta(hours=1)
    assert "72 h after the initial notification" in due.rule


# --- final report: one calendar month ----------------------------------------------------------------


def test_final_is_due_a_month_after_the_intermediate_at_the_same_local_time_across_dst() -> None:
    due = final_report_due(intermediate_submitted_at=cph(2025, 3, 10, 10, 0), zone=CPH)
    assert local(due.at) == cph(2025, 4, 10, 10, 0)
    assert due.at == datetime(2025, 4, 10, 8, 0, tzinfo=UTC)  # was 09:00 UTC in March


@pytest.mark.parametrize(("start", "end"), [
    (datetime(2025, 1, 31, 9, 0), datetime(2025, 2, 28, 9, 0)),
    (datetime(2028, 1, 31, 9, 0), datetime(2028, 2, 29, 9, 0)),
    (datetime(2025, 12, 15, 9, 0), datetime(2026, 1, 15, 9, 0)),
    (datetime(2025, 8, 31, 9, 0), datetime(2025, 9, 30, 9, 0)),
])
def test_a_month_is_clamped_to_the_shorter_months_last_day(start: datetime, end: datetime) -> None:
    assert add_months(start, 1) == end


def test_a_wall_clock_time_skipped_or_repeated_by_dst_takes_the_earlier_instant() -> None:
    # 28 Mar 2032 is the spring change: 02:30 does not exist; the earlier reading is 01:30 CET = 00:30Z
    due = final_report_due(intermediate_submitted_at=cph(2032, 2, 28, 2, 30), zone=CPH)
    assert due.at == datetime(2032, 3, 28, 0, 30, tzinfo=UTC)
    # 26 Oct 2025 02:30 happens twice: first in CEST (00:30Z), then in CET (01:30Z)
    assert to_utc(datetime(2025, 10, 26, 2, 30), CPH) == datetime(2025, 10, 26, 0, 30, tzinfo=UTC)


# --- weekend and bank-holiday relief ------------------------------------------------------------------


def test_weekend_deadline_moves_to_noon_on_monday_with_relief() -> None:
    # Friday 23:50, classified 23:55: strictly due Saturday 03:55
    kwargs = {"aware_at": cph(2025, 6, 6, 23, 50), "classified_at": cph(2025, 6, 6, 23, 55), "zone": CPH}
    strict = initial_notification_due(**kwargs)  # type: ignore[arg-type]
    assert local(strict.at) == cph(2025, 6, 7, 3, 55) and not strict.relieved
    relieved = initial_notification_due(**kwargs, weekend_relief=True)  # type: ignore[arg-type]
    assert local(relieved.at) == cph(2025, 6, 9, 12, 0) and relieved.relieved
    assert local(relieved.strict_at) == cph(2025, 6, 7, 3, 55)
    assert "weekend day" in relieved.rule and "Mon 2025-06-09 12:00 CEST" in relieved.rule


def test_friday_deadline_is_not_moved() -> None:
    due = intermediate_report_due(initial_submitted_at=cph(2025, 6, 3, 23, 0), zone=CPH, weekend_relief=True)
    assert local(due.at) == cph(2025, 6, 6, 23, 0) and not due.relieved


def test_sunday_final_report_moves_to_monday_noon() -> None:
    due = final_report_due(intermediate_submitted_at=cph(2025, 5, 8, 16, 0), zone=CPH, weekend_relief=True)
    assert local(due.strict_at) == cph(2025, 6, 8, 16, 0)  # a Sunday
    assert local(due.at) == cph(2025, 6, 9, 12, 0)


def test_bank_holidays_given_by_the_caller_are_skipped_too() -> None:
    # due Saturday 7 June; Monday 9 June 2025 is Whit Monday, a Danish bank holiday
    whit_monday = {date(2025, 6, 9)}
    strict = datetime(2025, 6, 7, 1, 55, tzinfo=UTC)
    assert local(relieve(strict, CPH, whit_monday)) == cph(2025, 6, 10, 12, 0)
    on_holiday = datetime(2025, 6, 9, 8, 0, tzinfo=UTC)
    assert local(relieve(on_holiday, CPH, whit_monday)) == cph(2025, 6, 10, 12, 0)
    assert relieve(on_holiday, CPH) == on_holiday  # without a calendar only weekends count


def test_weekend_is_decided_in_the_entitys_time_zone() -> None:
    # Friday 23:30 UTC is already Saturday 00:30 in Copenhagen (winter) but still Friday in UTC
    strict = datetime(2025, 1, 10, 23, 30, tzinfo=UTC)
    assert local(relieve(strict, CPH)) == cph(2025, 1, 13, 12, 0)
    assert relieve(strict, zone_of("UTC")) == strict


# --- the schedule of all three ------------------------------------------------------------------------

AWARE = datetime(2025, 6, 2, 8, 0, tzinfo=UTC)  # a Monday


def _schedule(now: datetime, *reports: tuple[str, datetime], major: bool = True):  # type: ignore[no-untyped-def]
    return schedule(major=major, aware_at=AWARE, classified_at=AWARE + timedelta(hours=1),
                    reports=list(reports), zone=CPH, now=now)  # type: ignore[arg-type]


def test_schedule_walks_from_initial_to_final() -> None:
    first = _schedule(AWARE + timedelta(hours=2))
    assert [d.state for d in first] == ["pending", "waiting", "waiting"]
    assert next_due(first) is first[0] and first[0].due is not None
    assert first[0].due.at == AWARE + timedelta(hours=5)

    late = _schedule(AWARE + timedelta(hours=6))
    assert late[0].state == "overdue" and "overdue" in late[0].note

    initial_at = AWARE + timedelta(hours=4)
    after_initial = _schedule(initial_at + timedelta(hours=1), ("initial_notification", initial_at))
    assert [d.state for d in after_initial] == ["submitted", "pending", "waiting"]
    assert after_initial[1].due is not None and after_initial[1].due.at == initial_at + timedelta(hours=72)

    mid1, mid2 = initial_at + timedelta(hours=50), initial_at + timedelta(days=6)
    updated = _schedule(mid2 + timedelta(hours=1), ("initial_notification", initial_at),
                        ("intermediate_report", mid1), ("intermediate_report", mid2))
    assert [d.state for d in updated] == ["submitted", "submitted", "pending"]
    assert updated[2].due is not None and updated[2].due.at == add_months(mid2.astimezone(CPH), 1)

    final_at = mid2 + timedelta(days=40)
    closed = _schedule(final_at, ("initial_notification", initial_at), ("intermediate_report", mid1),
                       ("intermediate_report", mid2), ("final_report", final_at))
    assert [d.state for d in closed] == ["submitted", "submitted", "submitted_late"]
    assert next_due(closed) is None


def test_nothing_is_due_for_a_non_major_incident() -> None:
    assert {d.state for d in _schedule(AWARE, major=False)} == {"not_required"}


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="needs a time zone"):
        intermediate_report_due(initial_submitted_at=datetime(2025, 6, 2, 8, 0), zone=CPH)


def test_unknown_time_zone_is_named() -> None:
    with pytest.raises(ValueError, match="'Europe/Kobenhavn' is not an IANA time zone"):
        zone_of("Europe/Kobenhavn")
