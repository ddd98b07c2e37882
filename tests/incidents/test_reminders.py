"""Deadline reminders: a report due within the hour or overdue is reminded of once per deadline, by any
number of workers between them; a new deadline is reminded of afresh; the worker runs them each minute."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select

from nordcert.config import Settings
from nordcert.db import transaction
from nordcert.incidents import reminders, service
from nordcert.incidents.reminders import remind_due
from nordcert.incidents.tables import incident_reminders
from nordcert.worker import remind, run_worker
from tests.incidents import helpers
from tests.incidents.conftest import World

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday: no weekend in the first days
H = timedelta(hours=1)


def _record(engine: Engine, world: World, reference: str, *, detected: datetime, now: datetime,
            facts: dict[str, object] = helpers.MAJOR_FACTS, classified: datetime | None = None) -> int:
    with transaction(engine) as conn:
        done = service.record_incident(
            conn, world.alpha.reader, reference=reference, title="Card payments unavailable",
            description="Card authorisations failed.", detected_at=detected, classified_at=classified,
            timezone="Europe/Copenhagen", facts=facts, now=now)
    return int(done["id"])


def _rows(engine: Engine) -> list[tuple[int, str, bool]]:
    with transaction(engine, write=False) as conn:
        return [tuple(r) for r in conn.execute(select(incident_reminders.c.incident_id, incident_reminders.c.kind,
                                                      incident_reminders.c.overdue)
                                               .order_by(incident_reminders.c.reminded_at))]


def test_a_report_due_within_the_hour_is_reminded_of_once(engine: Engine, world: World,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="nordcert.incidents.reminders")
    soon = _record(engine, world, "ALPHA-SOON", detected=T0 - H, now=T0)  # initial due T0 + 4 h
    later_id = _record(engine, world, "ALPHA-LATER", detected=T0 + H, now=T0 + H)  # due T0 + 5 h
    _record(engine, world, "ALPHA-MINOR", detected=T0, now=T0, facts=helpers.MINOR_FACTS)  # never due

    assert remind_due(engine, now=T0 + 2 * H) == []  # 2 h left: too early
    found = remind_due(engine, now=T0 + 3.5 * H)
    assert [(r.incident_id, r.kind, r.overdue) for r in found] == [(soon, "initial_notification", False)]
    assert found[0].message == ("incident ALPHA-SOON of Alpha Bank: the initial notification is due in 30 min "
                                "(deadline 2026-03-02 13:00 UTC, Mon 2026-03-02 14:00 CET)")
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [("INFO", f"report deadline: {found[0].message}")]

    # Once per deadline: not again within the hour, nor when it has passed.
    assert remind_due(engine, now=T0 + 3.75 * H) == []
    later = remind_due(engine, now=T0 + 6 * H)
    assert [r.reference for r in later] == ["ALPHA-LATER"] and later[0].overdue
    assert "is overdue by 1 h (deadline 2026-03-02 14:00 UTC" in later[0].message
    assert caplog.records[-1].levelname == "WARNING"
    assert remind_due(engine, now=T0 + 7 * H) == []
    assert [(i, k) for i, k, _ in _rows(engine)] == [(soon, "initial_notification"),
                                                     (later_id, "initial_notification")]


def test_the_next_deadline_is_reminded_of_afresh(engine: Engine, world: World) -> None:
    iid = _record(engine, world, "ALPHA-0042", detected=T0 - 8 * H, classified=T0 - 7 * H, now=T0)
    first = remind_due(engine, now=T0)
    assert first[0].overdue and "overdue by 3 h" in first[0].message
    with transaction(engine) as conn:
        service.submit_report(conn, world.alpha.reader, iid, kind="initial_notification", content=helpers.initial(),
                              now=T0 + H)
    assert remind_due(engine, now=T0 + 2 * H) == []  # the intermediate report is due T0 + 73 h
    again = remind_due(engine, now=T0 + 72.25 * H)
    assert [(r.kind, r.overdue) for r in again] == [("intermediate_report", False)]
    assert "the intermediate report is due in 45 min" in again[0].message
    assert _rows(engine) == [(iid, "initial_notification", True), (iid, "intermediate_report", False)]


def test_workers_running_at_once_remind_of_a_deadline_once(engine: Engine, world: World) -> None:
    for n in range(5):
        _record(engine, world, f"ALPHA-{n}", detected=T0 - 8 * H, classified=T0 - 7 * H, now=T0)
    got: list[int] = []
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def worker() -> None:
        try:
            start.wait()
            got.append(len(remind_due(engine, now=T0)))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and sum(got) == 5
    with transaction(engine, write=False) as conn:
        assert conn.execute(select(func.count()).select_from(incident_reminders)).scalar_one() == 5


def test_the_worker_reminds_each_round_and_survives_a_failure(engine: Engine, settings: Settings, world: World,
                                                              monkeypatch: pytest.MonkeyPatch,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    _record(engine, world, "ALPHA-LATE", detected=helpers.hours_ago(8), classified=helpers.hours_ago(7),
            now=datetime.now(UTC))
    assert run_worker(engine, settings, once=True) == []  # no peers: federation has nothing to do
    assert [k for _, k, _ in _rows(engine)] == ["initial_notification"]

    def broken(_engine: Engine) -> list[reminders.Reminder]:
        raise RuntimeError("store gone")

    monkeypatch.setattr(reminders, "remind_due", broken)
    remind(engine)  # logged, not raised: the worker goes on
    assert "incident deadline reminders failed" in caplog.text and "store gone" in caplog.text
