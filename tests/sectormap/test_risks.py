"""The sector risk register and the yearly concerns survey: who writes and reads, sources shown as the policy
allows, measures updated by their owners, progress replayed month by month, and survey answers aggregated
without anyone learning which member said what."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine

from nordcert.config import Settings
from nordcert.errors import Conflict, Forbidden, Invalid, NotFound
from nordcert.incidents import service as incidents
from nordcert.intel.ingest import ingest
from nordcert.intel.submission import submission_for
from nordcert.sectormap import progress, risks, survey
from tests.factories import Member, indicator, make_member
from tests.sectormap.conftest import World, call, leaks, row_counts


def _incident(engine: Engine, m: Member, title: str) -> int:
    return int(call(engine, incidents.record_incident, m.reader, reference=f"INC-{title[:10]}", title=title,
                    description="Outage", detected_at=datetime.now(UTC))["id"])


def _intel(engine: Engine, settings: Settings, m: Member, tlp: str, name: str) -> str:
    obj = indicator(name=name)

    def run(conn: Any) -> None:
        ingest(conn, [obj], submission_for(conn, m.reader, tlp=tlp), settings)

    call(engine, run)
    return str(obj["id"])


def _risk(engine: Engine, w: World, **values: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"title": "Payments concentrated on one cloud", "category": "concentration",
                            "likelihood": 3, "impact": 5}
    return call(engine, risks.create_risk, w.admin.reader, **{**base, **values})  # type: ignore[no-any-return]


def test_staff_write_the_register_everyone_reads_it_and_sources_follow_the_policy(
        engine: Engine, settings: Settings, world: World) -> None:
    w = world
    own = _incident(engine, w.alpha, "Alpha cloud outage in March")
    other = _incident(engine, w.boreal, "Boreal card outage in May")
    public = _intel(engine, settings, w.admin, "green", "Threat assessment: cloud providers")
    red = _intel(engine, settings, w.admin, "red", "Named actor targeting Boreal")
    call(engine, survey.open_survey, w.admin.reader, year=2026, topics=["Cloud concentration", "Ransomware"])
    topic = call(engine, survey.get_survey, w.admin.reader, 2026)["topics"][0]["id"]
    made = _risk(engine, w, description="60 % of payment functions on one provider",
                 sources={"incidents": [own, other], "intel": [public, red], "survey_topics": [topic]})
    assert (made["score"], made["status"], made["category_name"]) == (15, "open", "ICT concentration")
    assert [s["title"] for s in made["sources"]["incidents"]] == ["Alpha cloud outage in March",
                                                                  "Boreal card outage in May"]
    assert made["sources"]["not_shown"] == 0 and made["history"][0]["score"] == 15

    for m in (w.alpha, w.fsa, w.alpha_reader):
        with pytest.raises(Forbidden):
            call(engine, risks.create_risk, m.reader, title="T", category="cyber", likelihood=1, impact=1)
        with pytest.raises(Forbidden):
            call(engine, risks.update_risk, m.reader, made["id"], changes={"impact": 1})
    seen = call(engine, risks.get_risk, w.alpha.reader, made["id"])
    assert [s["title"] for s in seen["sources"]["incidents"]] == ["Alpha cloud outage in March"]
    assert [s["name"] for s in seen["sources"]["intel"]] == ["Threat assessment: cloud providers"]
    assert seen["sources"]["survey_topics"] == [{"id": topic, "year": 2026, "title": "Cloud concentration"}]
    assert seen["sources"]["not_shown"] == 2
    assert "Boreal" not in str(seen)
    assert call(engine, risks.list_risks, w.peer.reader) == []
    with pytest.raises(NotFound):
        call(engine, risks.get_risk, w.peer.reader, made["id"])

    before = row_counts(engine)
    with pytest.raises(Invalid) as refused:
        call(engine, risks.create_risk, w.admin.reader, title="", category="weather", likelihood=6, impact=0,
             sources={"incidents": [424242], "intel": ["indicator--0000"], "survey_topics": ["x"]})
    assert {d["field"] for d in refused.value.details} == {
        "title", "category", "likelihood", "impact", "sources.incidents[0]", "sources.intel[0]",
        "sources.survey_topics[0]"}
    assert row_counts(engine) == before

    changed = call(engine, risks.update_risk, w.admin.reader, made["id"], changes={"likelihood": 4, "sources": {}})
    assert changed["score"] == 20 and changed["sources"]["incidents"] == []
    assert [h["score"] for h in changed["history"]] == [15, 20]
    call(engine, risks.update_risk, w.admin.reader, made["id"], changes={"title": "Cloud concentration"})
    assert len(call(engine, risks.get_risk, w.admin.reader, made["id"])["history"]) == 2  # a title is no score


def test_measures_are_updated_by_their_owner_and_show_the_owner(engine: Engine, world: World) -> None:
    w = world
    risk = _risk(engine, w)
    m = call(engine, risks.add_measure, w.admin.reader, risk["id"], title="Exit plan for the cloud provider",
             owner_organisation="Alpha Bank", owner_person="Head of ICT risk", due_on="2027-06-30")
    assert m["owner"]["organisation"]["name"] == "Alpha Bank" and m["status"] == "planned"
    assert m["due_on"] == "2027-06-30" and [h["status"] for h in m["history"]] == ["planned"]
    with pytest.raises(Forbidden):
        call(engine, risks.add_measure, w.alpha.reader, risk["id"], title="Mine")
    # The owner's risk officer moves it on and notes progress; its reader, another member may not.
    moved = call(engine, risks.update_measure, w.alpha.reader, m["id"], changes={"status": "in_progress"})
    assert [h["status"] for h in moved["history"]] == ["planned", "in_progress"]
    noted = call(engine, risks.add_measure_note, w.alpha.reader, m["id"], text="Tender sent", noted_on="2026-11-01")
    assert noted["notes"][0]["noted_on"] == "2026-11-01" and noted["notes"][0]["text"] == "Tender sent"
    with pytest.raises(Forbidden):
        call(engine, risks.update_measure, w.alpha.reader, m["id"], changes={"title": "Renamed"})
    for other in (w.alpha_reader, w.boreal):
        with pytest.raises(Forbidden):
            call(engine, risks.update_measure, other.reader, m["id"], changes={"status": "done"})
        with pytest.raises(Forbidden):
            call(engine, risks.add_measure_note, other.reader, m["id"], text="x")
    with pytest.raises(Invalid):
        call(engine, risks.update_measure, w.admin.reader, m["id"], changes={"status": "abandoned"})
    with pytest.raises(Invalid):
        call(engine, risks.add_measure, w.admin.reader, risk["id"], title="X", owner_organisation="Nobody Ltd")
    # Everyone reads the register with its measures (owners named: the forum assigns them openly).
    listed = call(engine, risks.list_risks, w.boreal.reader)
    assert listed[0]["measure_counts"] == {"planned": 0, "in_progress": 1, "done": 0, "cancelled": 0}
    assert call(engine, risks.get_risk, w.boreal.reader, risk["id"])["measures"][0]["owner"]["organisation"][
        "name"] == "Alpha Bank"


def test_progress_counts_measures_by_status_per_month_and_keeps_score_changes(engine: Engine,
                                                                               world: World) -> None:
    w = world

    def at(month: int, day: int = 10) -> datetime:
        return datetime(2026, month, day, 12, tzinfo=UTC)

    risk = _risk(engine, w, now=at(1))
    first = call(engine, risks.add_measure, w.admin.reader, risk["id"], title="Exit plan", now=at(1))
    second = call(engine, risks.add_measure, w.admin.reader, risk["id"], title="Second provider", now=at(2))
    call(engine, risks.update_measure, w.admin.reader, first["id"], changes={"status": "in_progress"}, now=at(2, 20))
    call(engine, risks.update_measure, w.admin.reader, first["id"], changes={"status": "done"}, now=at(4))
    call(engine, risks.update_measure, w.admin.reader, second["id"], changes={"status": "cancelled"}, now=at(4))
    call(engine, risks.update_risk, w.admin.reader, risk["id"], changes={"impact": 3}, now=at(3))
    report = call(engine, progress.register_progress, w.boreal.reader, months=5, now=at(5))
    assert report["months"] == ["2026-01", "2026-02", "2026-03", "2026-04", "2026-05"]
    assert [(r["planned"], r["in_progress"], r["done"], r["cancelled"]) for r in report["measures_by_status"]] == [
        (1, 0, 0, 0), (1, 1, 0, 0), (1, 1, 0, 0), (0, 0, 1, 1), (0, 0, 1, 1)]
    assert report["risks"][0]["scores"] == [15, 15, 9, 9, 9]
    assert [c["score"] for c in report["risks"][0]["changes"]] == [15, 9]
    with pytest.raises(NotFound):
        call(engine, progress.register_progress, w.peer.reader)


def test_the_survey_aggregates_without_telling_who_said_what(engine: Engine, world: World) -> None:
    w = world
    topics = ["Cloud concentration", "Ransomware", "Payment system outage", "Insider fraud"]
    with pytest.raises(Forbidden):
        call(engine, survey.open_survey, w.alpha.reader, year=2026, topics=topics)
    opened = call(engine, survey.open_survey, w.admin.reader, year=2026, topics=topics)
    ids = {t["title"]: t["id"] for t in opened["topics"]}
    with pytest.raises(Conflict):
        call(engine, survey.open_survey, w.admin.reader, year=2026, topics=["Other"])
    cloud, ransom, outage, fraud = (ids[t] for t in topics)

    def answer(m: Member, ranking: list[int], comment: str = "") -> dict[str, Any]:
        return call(engine, survey.submit_response, m.reader, 2026, ranking=ranking,  # type: ignore[no-any-return]
                    comment=comment)

    answer(w.alpha, [ransom], "Alpha Bank worries about its own core system")
    answer(w.alpha, [cloud, ransom], "Our captive IT provider is a single point of failure")  # replaces
    before = row_counts(engine)
    for ranking in ([], [cloud, cloud], [999999]):
        with pytest.raises(Invalid):
            answer(w.boreal, ranking)
    assert row_counts(engine) == before
    for m in (w.alpha_reader, w.admin, w.fsa):
        with pytest.raises(Forbidden):
            answer(m, [cloud])
    answer(w.boreal, [cloud, outage], "Boreal: Bankgirot dependency")

    # Two answers: members see no results yet, staff do.
    early = call(engine, survey.survey_results, w.alpha.reader, 2026)
    assert early["suppressed"] and early["topics"] == [] and early["respondents"] == 2
    assert early["comments"] is None
    third = make_member(engine, name="Cirrus Savings Bank", role="risk_officer")
    answer(third, [ransom, cloud, fraud])

    results = call(engine, survey.survey_results, w.boreal.reader, 2026)
    assert not results["suppressed"] and results["respondents"] == 3
    by_title = {t["title"]: (t["members"], t["ranked_first"], t["mean_rank"]) for t in results["topics"]}
    assert by_title == {"Cloud concentration": (3, 2, 1.33), "Ransomware": (2, 1, 1.5),
                        "Payment system outage": (1, 0, 2.0), "Insider fraud": (1, 0, 3.0)}
    assert [t["title"] for t in results["topics"]][:2] == ["Cloud concentration", "Ransomware"]
    assert results["comments"] is None and leaks(results, w, w.boreal) == []
    assert "Alpha" not in str(results) and "Cirrus" not in str(results)
    staff = call(engine, survey.survey_results, w.admin.reader, 2026)
    assert staff["comments"] == ["Boreal: Bankgirot dependency",
                                 "Our captive IT provider is a single point of failure"]

    # A member reads its own answer, never another's.
    assert [r["title"] for r in call(engine, survey.get_own_response, w.alpha.reader, 2026)["ranking"]] == [
        "Cloud concentration", "Ransomware"]
    assert call(engine, survey.get_own_response, w.alpha_reader.reader, 2026)["comment"].startswith("Our captive")
    with pytest.raises(NotFound):
        call(engine, survey.get_own_response, w.payco.reader, 2026)
    with pytest.raises(NotFound):
        call(engine, survey.get_survey, w.peer.reader, 2026)

    closed = call(engine, survey.close_survey, w.admin.reader, 2026)
    assert closed["status"] == "closed" and closed["respondents"] == 3
    with pytest.raises(Conflict):
        answer(w.payco, [cloud])
    # The register cites the survey's topic; the aggregate is what it rests on.
    risk = _risk(engine, w, sources={"survey_topics": [cloud]})
    assert risk["sources"]["survey_topics"][0]["title"] == "Cloud concentration"
