"""Answers: drafts of any subset, upserted; "not applicable" needs a justification; submit needs every control;
submitted responses refuse changes until CERT staff reopen them; who reads whose response."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlalchemy import Engine, select

from nordcert.baseline import answers
from nordcert.baseline.catalogue import load_shipped
from nordcert.baseline.tables import baseline_answers
from nordcert.db import transaction
from nordcert.errors import Conflict, Forbidden, Invalid, NotFound
from tests.baseline.conftest import World, call, full_answers, open_campaign, row_counts


def save(engine: Engine, member: Any, campaign_id: int, items: list[dict[str, Any]]) -> dict[str, Any]:
    return call(engine, answers.save_draft, reader=member.reader, campaign_id=campaign_id,  # type: ignore[no-any-return]
                answers=items)


def test_a_draft_is_saved_in_parts_and_resaved(engine: Engine, world: World) -> None:
    c = open_campaign(engine, world)
    first = save(engine, world.alpha, c["id"], [
        {"control_id": "GOV-01", "maturity": 2, "evidence": "board minutes 2026-02", "comment": "training missing"},
        {"control_id": "PRO-02", "not_applicable": True, "comment": "  no remote access at all  "},
    ])
    assert (first["status"], first["answered"], first["total"]) == ("draft", 2, 50)
    assert first["answers"]["PRO-02"] == {**first["answers"]["PRO-02"], "maturity": None, "not_applicable": True,
                                          "comment": "no remote access at all"}
    assert "GOV-01" not in first["unanswered"] and "GOV-02" in first["unanswered"]
    # another user of the same member changes one answer and adds one; the rest stays
    second = save(engine, world.alpha_analyst, c["id"], [
        {"control_id": "GOV-01", "maturity": 3, "evidence": "board minutes 2026-05"},
        {"control_id": "GOV-02", "maturity": 4},
    ])
    assert {k: (v["maturity"], v["evidence"]) for k, v in second["answers"].items()} == {
        "GOV-01": (3, "board minutes 2026-05"), "GOV-02": (4, ""), "PRO-02": (None, "")}
    # a blank answer reopens its control
    third = save(engine, world.alpha, c["id"], [{"control_id": "GOV-02", "maturity": None}])
    assert third["answered"] == 2 and "GOV-02" in third["unanswered"]
    with transaction(engine, write=False) as conn:
        assert len(conn.execute(select(baseline_answers.c.id)).all()) == 3  # upserted, never duplicated


def test_every_bad_answer_is_named_and_nothing_is_stored(engine: Engine, world: World) -> None:
    c = open_campaign(engine, world)
    save(engine, world.alpha, c["id"], [{"control_id": "GOV-01", "maturity": 2}])
    counts = row_counts(engine)
    with pytest.raises(Invalid) as err:
        save(engine, world.alpha, c["id"], [
            {"control_id": "GOV-01", "maturity": 4},  # fine, but the batch is refused as a whole
            {"control_id": "NOPE-01", "maturity": 2},
            {"control_id": "GOV-02", "maturity": 6},
            {"control_id": "GOV-03", "maturity": True},
            {"control_id": "GOV-04", "not_applicable": True, "comment": " "},
            {"control_id": "GOV-05", "not_applicable": True, "maturity": 1, "comment": "outsourced"},
            {"control_id": "GOV-01", "maturity": 1},
            {"control_id": "GOV-06", "maturity": 1, "evidence": "x" * 10_001, "colour": "red"},
            {"control_id": "IDE-01", "not_applicable": "yes"},
        ])
    assert {(d["field"], d["reason"]) for d in err.value.details} >= {
        ("answers.1.control_id", "no control NOPE-01 in catalogue 2026.1"),
        ("answers.2.maturity", "a maturity level from 0 to 5, or none"),
        ("answers.3.maturity", "a maturity level from 0 to 5, or none"),
        ("answers.4.comment", "say in the comment why the control does not apply to your organisation"),
        ("answers.5.maturity", "a control that is not applicable has no maturity"),
        ("answers.6.control_id", "GOV-01 is answered twice"),
        ("answers.7.evidence", "a text of at most 10000 characters"),
        ("answers.7.colour", "not a field of an answer"),
        ("answers.8.not_applicable", "true or false"),
    }
    assert len(err.value.details) == 9
    with pytest.raises(Invalid):
        save(engine, world.alpha, c["id"], [])
    assert row_counts(engine) == counts
    mine = call(engine, answers.get_response, reader=world.alpha.reader, campaign_id=c["id"])
    assert mine["answers"]["GOV-01"]["maturity"] == 2


def test_submit_needs_every_control_and_names_the_open_ones(engine: Engine, world: World) -> None:
    c = open_campaign(engine, world)
    almost = full_answers()
    del almost[7], almost[3]
    counts = row_counts(engine)
    with pytest.raises(Invalid) as err:
        call(engine, answers.submit, reader=world.alpha.reader, campaign_id=c["id"], answers=almost)
    ids = load_shipped().control_ids
    assert [d["field"] for d in err.value.details] == [f"answers.{ids[3]}", f"answers.{ids[7]}"]
    assert f"2 of 50 controls are not answered: {ids[3]}, {ids[7]}" in err.value.message
    assert row_counts(engine) == counts  # the answers given with a refused submission are not kept either
    with pytest.raises(Invalid) as err:
        call(engine, answers.submit, reader=world.alpha.reader, campaign_id=c["id"])
    assert len(err.value.details) == 50 and "and 40 more" in err.value.message

    save(engine, world.alpha, c["id"], almost)
    done = call(engine, answers.submit, reader=world.alpha_analyst.reader, campaign_id=c["id"], answers=[
        {"control_id": ids[3], "maturity": 0}, {"control_id": ids[7], "not_applicable": True, "comment": "n/a"}])
    assert (done["status"], done["answered"], done["unanswered"]) == ("submitted", 50, [])
    assert done["submitted_by"] == world.alpha_analyst.email and done["submitted_at"]


def test_a_submitted_response_is_refused_until_staff_reopen_it(engine: Engine, world: World) -> None:
    c = open_campaign(engine, world)
    call(engine, answers.submit, reader=world.alpha.reader, campaign_id=c["id"], answers=full_answers())
    for action in (lambda: save(engine, world.alpha, c["id"], [{"control_id": "GOV-01", "maturity": 1}]),
                   lambda: call(engine, answers.submit, reader=world.alpha.reader, campaign_id=c["id"])):
        with pytest.raises(Conflict, match="reopen"):
            action()
    with pytest.raises(Forbidden):
        call(engine, answers.reopen, reader=world.alpha.reader, campaign_id=c["id"], organisation_id=world.alpha.org_id)
    with pytest.raises(NotFound):
        call(engine, answers.reopen, reader=world.admin.reader, campaign_id=c["id"], organisation_id=world.boreal.org_id)
    reopened = call(engine, answers.reopen, reader=world.admin.reader, campaign_id=c["id"],
                    organisation_id=world.alpha.org_id)
    assert (reopened["status"], reopened["answered"]) == ("draft", 50) and reopened["reopened_at"]
    with pytest.raises(Conflict):
        call(engine, answers.reopen, reader=world.admin.reader, campaign_id=c["id"], organisation_id=world.alpha.org_id)
    changed = save(engine, world.alpha, c["id"], [{"control_id": "GOV-01", "maturity": 1}])
    assert changed["answers"]["GOV-01"]["maturity"] == 1
    assert call(engine, answers.submit, reader=world.alpha.reader, campaign_id=c["id"])["status"] == "submitted"


def test_who_answers_and_who_reads_whose_response(engine: Engine, world: World) -> None:
    c = open_campaign(engine, world)
    save(engine, world.alpha, c["id"], [{"control_id": "GOV-01", "maturity": 2, "evidence": "Alpha's secret"}])
    # readers read their own, never write; CERT staff, the authority and CERT users do not answer
    assert call(engine, answers.get_response, reader=world.alpha_reader.reader,
                campaign_id=c["id"])["answers"]["GOV-01"]["evidence"] == "Alpha's secret"
    for m in (world.alpha_reader, world.admin, world.fsa, world.cert_analyst):
        with pytest.raises(Forbidden):
            save(engine, m, c["id"], [{"control_id": "GOV-01", "maturity": 5}])
    with pytest.raises(NotFound):
        save(engine, world.peer, c["id"], [{"control_id": "GOV-01", "maturity": 5}])
    # another member's response does not exist for a member
    with pytest.raises(NotFound):
        call(engine, answers.get_response, reader=world.boreal.reader, campaign_id=c["id"],
             organisation_id=world.alpha.org_id)
    boreal = call(engine, answers.get_response, reader=world.boreal.reader, campaign_id=c["id"])
    assert (boreal["status"], boreal["answers"], boreal["organisation"]["name"]) == ("not_started", {}, "Boreal Bank")
    # staff read any member's; the authority reads none
    staff_view = call(engine, answers.get_response, reader=world.admin.reader, campaign_id=c["id"],
                      organisation_id=world.alpha.org_id)
    assert staff_view["answers"]["GOV-01"]["evidence"] == "Alpha's secret"
    with pytest.raises(NotFound):  # the authority's organisation is no member
        call(engine, answers.get_response, reader=world.admin.reader, campaign_id=c["id"],
             organisation_id=world.fsa.org_id)
    for org in (world.alpha.org_id, None):
        with pytest.raises((Forbidden, NotFound)):
            call(engine, answers.get_response, reader=world.fsa.reader, campaign_id=c["id"], organisation_id=org)
    with pytest.raises(NotFound):
        call(engine, answers.get_response, reader=world.peer.reader, campaign_id=c["id"])
    with pytest.raises(NotFound):
        call(engine, answers.get_response, reader=world.alpha.reader, campaign_id=c["id"] + 1)


def test_two_writers_of_one_member_saving_at_once_keep_every_answer(engine: Engine, world: World) -> None:
    c = open_campaign(engine, world)
    ids = load_shipped().control_ids
    halves = [(world.alpha, ids[:25]), (world.alpha_analyst, ids[25:])]
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def write(member: Any, mine: tuple[str, ...]) -> None:
        try:
            barrier.wait()
            for n in range(0, len(mine), 5):  # several saves each, interleaving with the other writer's
                save(engine, member, c["id"], [{"control_id": i, "maturity": 3} for i in mine[n:n + 5]])
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=item) for item in halves]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    mine = call(engine, answers.get_response, reader=world.alpha.reader, campaign_id=c["id"])
    assert mine["answered"] == 50 and mine["unanswered"] == []
