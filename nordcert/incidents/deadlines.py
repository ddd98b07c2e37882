"""When each report of a major ICT-related incident is due (CDR (EU) 2025/301 Art 5; DORA Art 19(4)).

Pure functions on timezone-aware datetimes. Times are kept in UTC and shown in the entity's time zone
(``Europe/Copenhagen``, ``Europe/Oslo``, …), where "weekend" and "12:00" are meant.

| report                | due                                                                          |
|-----------------------|------------------------------------------------------------------------------|
| initial notification  | 4 h after classification as major, and no later than 24 h after awareness;   |
|                       | classified as major only after those 24 h: 4 h after classification          |
| intermediate report   | 72 h after the initial notification was submitted                            |
| final report          | 1 month after the latest (updated) intermediate report                       |

Weekend and bank-holiday relief (our reference, §2.5, citing the ESAs' final report JC 2024 33): a deadline
that falls on a weekend day or bank holiday may be met by 12:00 on the next working day, except for
systemic entities, whose list our reference leaves UNCONFIRMED.

Choices where the reference leaves room:

- Hours are elapsed time: 24 h across the spring DST change ends at 23:00 local time the next day.
- The 4 h and 24 h limits of the initial notification: the earlier of the two while classification comes
  within 24 h of awareness; at exactly 24 h that is the moment of classification itself; later, 4 h after it.
- One month is a calendar month in the entity's time zone: the same day and wall-clock time in the next
  month, or that month's last day when it is shorter (31 January -> 28 or 29 February). Not the
  end-of-day reading of Regulation 1182/71, which would be later; we take the earlier one.
- A wall-clock time that does not exist (spring DST gap) or exists twice (autumn) becomes the earlier
  of its possible instants.
- The relief applies to all three reports and only when the caller says the entity may use it
  (``weekend_relief``): entities excluded from it are not listed in our reference, so the default is the
  strict deadline, which is never later than the law's.
- Bank holidays come from the caller (``holidays``, local dates). Without a calendar only weekends count,
  so a deadline on a bank holiday is shown at its strict time: earlier than the relief allows, never later.
"""

from __future__ import annotations

import calendar
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

INITIAL_AFTER_CLASSIFICATION = timedelta(hours=4)
INITIAL_AFTER_AWARENESS = timedelta(hours=24)
INTERMEDIATE_AFTER_INITIAL = timedelta(hours=72)
FINAL_AFTER_INTERMEDIATE_MONTHS = 1
RELIEF_TIME = time(12, 0)  # "by 12:00 on the next working day"

ReportKind = Literal["initial_notification", "intermediate_report", "final_report"]
REPORT_KINDS: tuple[ReportKind, ...] = ("initial_notification", "intermediate_report", "final_report")
State = Literal["not_required", "waiting", "pending", "overdue", "submitted", "submitted_late"]

#: The time zone of each EEA Member State (the capital's where a country has several).
MEMBER_STATE_ZONES = {
    "AT": "Europe/Vienna", "BE": "Europe/Brussels", "BG": "Europe/Sofia", "HR": "Europe/Zagreb",
    "CY": "Asia/Nicosia", "CZ": "Europe/Prague", "DK": "Europe/Copenhagen", "EE": "Europe/Tallinn",
    "ES": "Europe/Madrid", "FI": "Europe/Helsinki", "FR": "Europe/Paris", "DE": "Europe/Berlin",
    "GR": "Europe/Athens", "HU": "Europe/Budapest", "IS": "Atlantic/Reykjavik", "IE": "Europe/Dublin",
    "IT": "Europe/Rome", "LI": "Europe/Vaduz", "LT": "Europe/Vilnius", "LU": "Europe/Luxembourg",
    "LV": "Europe/Riga", "MT": "Europe/Malta", "NL": "Europe/Amsterdam", "NO": "Europe/Oslo",
    "PL": "Europe/Warsaw", "PT": "Europe/Lisbon", "RO": "Europe/Bucharest", "SE": "Europe/Stockholm",
    "SI": "Europe/Ljubljana", "SK": "Europe/Bratislava",
}


def zone_of(name: str) -> ZoneInfo:
    """The IANA time zone ``name``; ValueError names the problem."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{name!r} is not an IANA time zone (e.g. Europe/Copenhagen, Europe/Oslo)") from None


def zone_for_country(country: str) -> str:
    """The time zone an entity of ``country`` reports in: its Member State's, else UTC."""
    return MEMBER_STATE_ZONES.get(country.upper(), "UTC")


@dataclass(frozen=True)
class Due:
    """When one report is due: ``at`` applies; ``strict_at`` is before any weekend relief."""

    kind: ReportKind
    at: datetime
    strict_at: datetime
    relieved: bool
    rule: str


@dataclass(frozen=True)
class ReportDeadline:
    """One report's deadline and where it stands at ``now``."""

    kind: ReportKind
    state: State
    due: Due | None
    submitted_at: datetime | None
    note: str


def initial_notification_due(*, aware_at: datetime, classified_at: datetime, zone: ZoneInfo,
                             weekend_relief: bool = False, holidays: Collection[date] = ()) -> Due:
    """CDR 2025/301 Art 5(1)(a) and the later-classification rule (final draft Art 6(2))."""
    aware_at, classified_at = _utc(aware_at, "aware_at"), _utc(classified_at, "classified_at")
    cap = aware_at + INITIAL_AFTER_AWARENESS
    after_classification = classified_at + INITIAL_AFTER_CLASSIFICATION
    if classified_at > cap:
        strict, why = after_classification, "4 h after classification as major (classified more than 24 h after awareness)"
    elif after_classification <= cap:
        strict, why = after_classification, "4 h after classification as major"
    else:
        strict, why = cap, "24 h after awareness (earlier than 4 h after classification)"
    return _due("initial_notification", strict, why, zone, weekend_relief, holidays)


def intermediate_report_due(*, initial_submitted_at: datetime, zone: ZoneInfo, weekend_relief: bool = False,
                            holidays: Collection[date] = ()) -> Due:
    """CDR 2025/301 Art 5(1)(b): 72 h after the initial notification, even if nothing changed."""
    return _due("intermediate_report", _utc(initial_submitted_at, "initial_submitted_at") + INTERMEDIATE_AFTER_INITIAL,
                "72 h after the initial notification", zone, weekend_relief, holidays)


def final_report_due(*, intermediate_submitted_at: datetime, zone: ZoneInfo, weekend_relief: bool = False,
                     holidays: Collection[date] = ()) -> Due:
    """CDR 2025/301 Art 5(1)(c): one month after the latest (updated) intermediate report."""
    local = _utc(intermediate_submitted_at, "intermediate_submitted_at").astimezone(zone)
    strict = to_utc(add_months(local.replace(tzinfo=None), FINAL_AFTER_INTERMEDIATE_MONTHS), zone)
    return _due("final_report", strict, "1 month after the latest intermediate report", zone, weekend_relief,
                holidays)


def schedule(*, major: bool, aware_at: datetime, classified_at: datetime | None,
             reports: Sequence[tuple[ReportKind, datetime]], zone: ZoneInfo, now: datetime,
             weekend_relief: bool = False, holidays: Collection[date] = ()) -> list[ReportDeadline]:
    """The three reports' deadlines and states at ``now``, from the reports submitted so far (in order).

    Reports are required once the incident is major, and stay required once the initial notification is
    in, whatever later figures say (a reclassification is a report of its own, not tracked here).
    """
    _utc(now, "now")
    initial_at = next((at for kind, at in reports if kind == "initial_notification"), None)
    intermediates = [at for kind, at in reports if kind == "intermediate_report"]
    final_at = next((at for kind, at in reports if kind == "final_report"), None)
    required = major or initial_at is not None
    if not required or classified_at is None:
        why = "the incident is not classified as major" if not required else "no classification time recorded"
        return [ReportDeadline(k, "not_required", None, None, why) for k in REPORT_KINDS]

    initial = initial_notification_due(aware_at=aware_at, classified_at=classified_at, zone=zone,
                                       weekend_relief=weekend_relief, holidays=holidays)
    out = [_state(initial, initial_at, now)]
    if initial_at is None:
        out.append(ReportDeadline("intermediate_report", "waiting", None, None,
                                  "due 72 h after the initial notification"))
    else:
        due = intermediate_report_due(initial_submitted_at=initial_at, zone=zone, weekend_relief=weekend_relief,
                                      holidays=holidays)
        out.append(_state(due, intermediates[0] if intermediates else None, now))
    if not intermediates:
        out.append(ReportDeadline("final_report", "waiting", None, None,
                                  "due 1 month after the latest intermediate report"))
    else:
        latest = [at for at in intermediates if final_at is None or at <= final_at][-1]
        due = final_report_due(intermediate_submitted_at=latest, zone=zone, weekend_relief=weekend_relief,
                               holidays=holidays)
        out.append(_state(due, final_at, now))
    return out


def next_due(deadlines: Sequence[ReportDeadline]) -> ReportDeadline | None:
    """The report to submit next (pending or overdue), if any."""
    return next((d for d in deadlines if d.state in ("pending", "overdue")), None)


def _state(due: Due, submitted_at: datetime | None, now: datetime) -> ReportDeadline:
    if submitted_at is not None:
        late = submitted_at > due.at
        return ReportDeadline(due.kind, "submitted_late" if late else "submitted", due, submitted_at,
                              "submitted after the deadline" if late else "submitted in time")
    if now > due.at:
        return ReportDeadline(due.kind, "overdue", due, None, f"overdue: was due {due.rule}")
    return ReportDeadline(due.kind, "pending", due, None, f"due {due.rule}")


# --- time arithmetic ------------------------------------------------------------------------------


def _due(kind: ReportKind, strict: datetime, why: str, zone: ZoneInfo, weekend_relief: bool,
         holidays: Collection[date]) -> Due:
    strict = strict.astimezone(UTC)
    rule = f"by {show(strict, zone)}: {why}"
    if weekend_relief:
        relieved = relieve(strict, zone, holidays)
        if relieved != strict:
            day = "a bank holiday" if strict.astimezone(zone).date() in holidays else "a weekend day"
            return Due(kind, relieved, strict, True,
                       f"by {show(relieved, zone)}: {why} falls on {day} ({show(strict, zone)}), so 12:00 on "
                       "the next working day")
    return Due(kind, strict, strict, False, rule)


def relieve(strict: datetime, zone: ZoneInfo, holidays: Collection[date] = ()) -> datetime:
    """``strict`` (UTC), or 12:00 local on the next working day when it falls on a weekend or holiday."""
    day = strict.astimezone(zone).date()
    if working_day(day, holidays):
        return strict
    while not working_day(day, holidays):
        day += timedelta(days=1)
    return to_utc(datetime.combine(day, RELIEF_TIME), zone)


def working_day(day: date, holidays: Collection[date] = ()) -> bool:
    return day.weekday() < 5 and day not in holidays


def add_months(local: datetime, months: int) -> datetime:
    """The same day and wall-clock time ``months`` later, clamped to the last day of a shorter month."""
    index = local.year * 12 + (local.month - 1) + months
    year, month = divmod(index, 12)
    day = min(local.day, calendar.monthrange(year, month + 1)[1])
    return local.replace(year=year, month=month + 1, day=day)


def to_utc(local: datetime, zone: ZoneInfo) -> datetime:
    """A naive wall-clock time in ``zone`` as UTC: the earlier instant when it is ambiguous or skipped."""
    return min(local.replace(tzinfo=zone, fold=fold).astimezone(UTC) for fold in (0, 1))


def show(moment: datetime, zone: tzinfo) -> str:
    """A moment for people: local date, time and zone abbreviation, e.g. ``Sat 2025-03-29 23:00 CET``."""
    return moment.astimezone(zone).strftime("%a %Y-%m-%d %H:%M %Z")


def _utc(moment: datetime, name: str) -> datetime:
    """``moment`` in UTC. Arithmetic happens there: Python adds a timedelta to a ZoneInfo time on the wall
    clock, so 24 h after Saturday 12:00 CET would be Sunday 12:00 CEST, only 23 h later."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} needs a time zone (an offset such as +01:00, or Z)")
    return moment.astimezone(UTC)
