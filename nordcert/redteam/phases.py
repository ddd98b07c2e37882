"""The phases of a TIBER-EU test or DORA TLPT, the moves between them, and the deadlines and rules that follow
from their dates (Commission Delegated Regulation (EU) 2025/1190, the RTS on TLPT; DORA Arts 26 and 27).

Pure functions on calendar dates: every date is a UTC calendar date, "today" is the UTC date, and a step due on a
day is in time on that day and overdue from the next.

| step                          | rule                                                    | source                     |
|-------------------------------|---------------------------------------------------------|----------------------------|
| active red teaming            | at least 12 weeks                                       | CDR 2025/1190 Art 11(5)    |
| red team test report          | within 4 weeks of the end of active red teaming         | CDR 2025/1190 Art 12(2)    |
| blue team test report         | within 10 weeks of the end of active red teaming        | CDR 2025/1190 Art 12(4)    |
| replay and purple teaming     | within 10 weeks of the end of active red teaming        | CDR 2025/1190 Art 12(5)    |
| remediation plan              | within 8 weeks of the authority's Art 12(7) notification | CDR 2025/1190 Art 13(1)    |
| next test                     | at least every 3 years: 3 years after the attestation   | DORA Art 26(1)             |

Choices where the texts leave room:

- A deadline counted from the end of active red teaming uses its actual end once recorded, else its planned end
  (and says so: ``from_planned``), else it is not known yet.
- Three years after 29 February is 28 February: the earlier reading, never later than the law's.
- "External testers every three tests" (DORA Art 26(8)) is read as: of any three tests in a row of one member, at
  least one has external testers. A test whose testers are not decided yet breaks no run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from nordcert.errors import Conflict


@dataclass(frozen=True, slots=True)
class Phase:
    key: str
    name: str
    stage: str  # the TIBER-EU phase it belongs to
    source: str
    optional: bool = False


PHASES: tuple[Phase, ...] = (
    Phase("generic_threat_landscape", "Generic threat landscape", "Generic threat landscape",
          "TIBER-EU framework (optional)", optional=True),
    Phase("preparation", "Preparation", "Preparation", "CDR 2025/1190 Art 9"),
    Phase("targeted_threat_intelligence", "Targeted threat intelligence report", "Testing",
          "CDR 2025/1190 Art 10, Annex III"),
    Phase("red_team_test_plan", "Red team test plan", "Testing", "CDR 2025/1190 Art 11"),
    Phase("active_red_teaming", "Active red teaming", "Testing", "CDR 2025/1190 Art 11(5)"),
    Phase("red_team_report", "Red team test report", "Closure", "CDR 2025/1190 Art 12(2), Annex V"),
    Phase("blue_team_report", "Blue team test report", "Closure", "CDR 2025/1190 Art 12(4), Annex VI"),
    Phase("replay_purple_teaming", "Replay and purple teaming", "Closure", "CDR 2025/1190 Art 12(5)"),
    Phase("test_summary_report", "Test summary report", "Closure", "CDR 2025/1190 Art 12, Annex VII"),
    Phase("remediation_plan", "Remediation plan", "Remediation", "CDR 2025/1190 Art 13"),
    Phase("attestation", "Attestation", "Attestation", "DORA Art 26(7); CDR 2025/1190 Annex VIII"),
)
PHASE_KEYS: tuple[str, ...] = tuple(p.key for p in PHASES)
BY_KEY: dict[str, Phase] = {p.key: p for p in PHASES}
#: The phases an engagement may start in: the generic threat landscape is optional.
START_PHASES = ("generic_threat_landscape", "preparation")
#: From here on a test's findings are final and counted in the sector's view.
COUNTED_FROM = "remediation_plan"

ACTIVE_MINIMUM = timedelta(weeks=12)
RT_REPORT_WITHIN = timedelta(weeks=4)
BT_REPORT_WITHIN = timedelta(weeks=10)
REPLAY_WITHIN = timedelta(weeks=10)
REMEDIATION_PLAN_WITHIN = timedelta(weeks=8)
TEST_EVERY_YEARS = 3

DeadlineState = Literal["unknown", "pending", "overdue", "met", "late"]


@dataclass(frozen=True, slots=True)
class PhaseDates:
    planned_start: date | None = None
    planned_end: date | None = None
    actual_start: date | None = None
    actual_end: date | None = None


@dataclass(frozen=True, slots=True)
class Deadline:
    key: str
    name: str
    rule: str
    source: str
    due_on: date | None  # None: what it counts from is not known yet
    from_planned: bool  # counted from a planned date, so it moves with the plan
    done_on: date | None
    state: DeadlineState


@dataclass(frozen=True, slots=True)
class RuleWarning:
    key: str
    message: str
    source: str


def index_of(phase: str) -> int:
    return PHASE_KEYS.index(phase)


def next_phase(phase: str) -> str | None:
    i = index_of(phase)
    return PHASE_KEYS[i + 1] if i + 1 < len(PHASE_KEYS) else None


def check_move(current: str, to: str) -> None:
    """Conflict unless ``to`` is the phase right after ``current``: a test moves forward one step at a time, and
    leaves the attestation phase only through the attestation itself."""
    if to not in BY_KEY:
        raise Conflict(f"{to!r} is not a phase; phases: {', '.join(PHASE_KEYS)}")
    following = next_phase(current)
    if following is None:
        raise Conflict(f"the test is in its last phase ({BY_KEY[current].name}): the TLPT authority's "
                       "attestation closes it, not a phase change")
    if to != following:
        raise Conflict(f"a test cannot move from {BY_KEY[current].name} to {BY_KEY[to].name}: "
                       f"the next phase is {BY_KEY[following].name}")


def add_years(day: date, years: int) -> date:
    """The same calendar day ``years`` later; 29 February becomes 28 February in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def _state(due: date | None, done: date | None, today: date) -> DeadlineState:
    if due is None:
        return "unknown"
    if done is not None:
        return "met" if done <= due else "late"
    return "overdue" if today > due else "pending"


def deadlines(dates: Mapping[str, PhaseDates], *, notified_on: date | None, attested_on: date | None,
              next_test_on: date | None, today: date) -> list[Deadline]:
    """The deadlines of one test, in order. ``notified_on`` is the date of the Art 12(7) notification,
    ``next_test_on`` the opening of the member's next test (which meets the 3-year rule)."""
    active = dates.get("active_red_teaming", PhaseDates())
    end = active.actual_end or active.planned_end
    planned = active.actual_end is None and end is not None

    def after(within: timedelta) -> date | None:
        return end + within if end is not None else None

    def done(phase: str) -> date | None:
        return dates.get(phase, PhaseDates()).actual_end

    out: list[Deadline] = []
    for key, name, rule, source, due, from_planned, finished in (
        ("red_team_report", "Red team test report", "within 4 weeks of the end of active red teaming",
         "CDR 2025/1190 Art 12(2)", after(RT_REPORT_WITHIN), planned, done("red_team_report")),
        ("blue_team_report", "Blue team test report", "within 10 weeks of the end of active red teaming",
         "CDR 2025/1190 Art 12(4)", after(BT_REPORT_WITHIN), planned, done("blue_team_report")),
        ("replay_purple_teaming", "Replay and purple teaming", "within 10 weeks of the end of active red teaming",
         "CDR 2025/1190 Art 12(5)", after(REPLAY_WITHIN), planned, done("replay_purple_teaming")),
        ("remediation_plan", "Remediation plan", "within 8 weeks of the Art 12(7) notification",
         "CDR 2025/1190 Art 13(1)", notified_on + REMEDIATION_PLAN_WITHIN if notified_on else None, False,
         done("remediation_plan")),
        ("next_test", "Next test", "at least every 3 years: 3 years after the attestation", "DORA Art 26(1)",
         add_years(attested_on, TEST_EVERY_YEARS) if attested_on else None, False, next_test_on),
    ):
        out.append(Deadline(key, name, rule, source, due, from_planned and due is not None, finished,
                            _state(due, finished, today)))
    return out


def next_deadline(found: Sequence[Deadline]) -> Deadline | None:
    """The earliest deadline not yet met (overdue ones first, as they are earliest)."""
    waiting = [d for d in found if d.due_on is not None and d.done_on is None]
    return min(waiting, key=lambda d: d.due_on or date.max, default=None)


def warnings(dates: Mapping[str, PhaseDates], *, framework: str, significant_credit_institution: bool,
             rt_provider_kind: str | None, earlier_kinds: Sequence[str | None]) -> list[RuleWarning]:
    """The rules this test breaks, as warnings (the test goes on; the authority decides).

    ``earlier_kinds`` are the red team providers' kinds (internal, external or None) of the member's earlier tests,
    oldest first.
    """
    found: list[RuleWarning] = []
    active = dates.get("active_red_teaming", PhaseDates())
    for which, start, end in (("planned", active.planned_start, active.planned_end),
                              ("actual", active.actual_start, active.actual_end)):
        if start is not None and end is not None and end - start < ACTIVE_MINIMUM:
            found.append(RuleWarning(
                f"active_red_teaming_{which}_short",
                f"The {which} active red teaming lasts {(end - start).days} days: at least 12 weeks (84 days) "
                "are required.", "CDR 2025/1190 Art 11(5)"))
    if framework == "dora_tlpt" and rt_provider_kind == "internal":
        if significant_credit_institution:
            found.append(RuleWarning(
                "internal_testers_significant",
                "Internal testers for a significant credit institution: these use external testers only.",
                "DORA Art 26(8)"))
        if len(earlier_kinds) >= 2 and all(k == "internal" for k in earlier_kinds[-2:]):
            found.append(RuleWarning(
                "internal_testers_third_in_row",
                "The third test in a row with internal testers: external testers are required every three tests.",
                "DORA Art 26(8)"))
    return found


def behind_plan(dates: PhaseDates, *, today: date) -> bool:
    """Has a phase missed its plan: not started by its planned start, or not ended by its planned end?"""
    late_start = dates.actual_start is None and dates.planned_start is not None and today > dates.planned_start
    late_end = dates.actual_end is None and dates.planned_end is not None and today > dates.planned_end
    return late_start or late_end
