"""Campaigns: CERT staff open one on a published version with a deadline and close it; progress per member
(not started, draft k of n, submitted); who sees what."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine

from nordcert.baseline import answers, campaigns, catalogues
from nordcert.baseline.catalogue import SHIPPED_VERSION, load_shipped
from nordcert.clock import now
from nordcert.errors import Conflict, Forbidden, Invalid, NotFound
from tests.baseline.conftest import World, call, full_answers, open_campaign, row_counts
from tests.factories import make_member


def test_staff_open_a_campaign_on_a_published_version(engine: Engine, world: World) -> None:
    deadline = now() + timedelta(days=30)
    c = call(engine, campaigns.open_campaign, reader=world.admin.reader, name="  Baseline 2026  ",
             catalogue_version=SHIPPED_VERSION, closes_at=deadline, description="The yearly self-assessment.")
    assert (c["name"], c["status"], c["overdue"], c["catalogue"]["version"]) == ("Baseline 2026", "open", False,
                                                                                 SHIPPED_VERSION)
    assert c["closes_at"] is not None and c["closes_at"].startswith(deadline.strftime("%Y-%m-%dT%H:%M"))
    with engine.connect() as conn:
        assert campaigns.campaign_catalogue(conn, campaign_id=c["id"]) == load_shipped()


def test_a_refused_campaign_names_its_fields_and_stores_nothing(engine: Engine, world: World) -> None:
    staff = world.admin.reader
    call(engine, catalogues.create_draft, reader=staff, base_version=SHIPPED_VERSION, version="2026.2")
    counts = row_counts(engine)
    with pytest.raises(Invalid) as err:
        call(engine, campaigns.open_campaign, reader=staff, name="", catalogue_version="2026.2",
             closes_at=now() - timedelta(days=1))
    assert {d["field"]: d["reason"] for d in err.value.details} == {
        "name": "a name of 1 to 200 characters", "closes_at": "the deadline must be in the future",
        "catalogue_version": "2026.2 is a draft: a campaign answers a published version"}
    with pytest.raises(Invalid) as err:
        call(engine, campaigns.open_campaign, reader=staff, name="x", catalogue_version="1999.1",
             closes_at=(now() + timedelta(days=1)).replace(tzinfo=None))
    assert {d["field"] for d in err.value.details} == {"catalogue_version", "closes_at"}
    for m in (world.alpha, world.fsa, world.cert_analyst):
        with pytest.raises(Forbidden):
            call(engine, campaigns.open_campaign, reader=m.reader, name="x", catalogue_version=SHIPPED_VERSION,
                 closes_at=now() + timedelta(days=1))
    assert row_counts(engine) == counts


def test_closing_stops_answers_and_is_done_once(engine: Engine, world: World) -> None:
    c = open_campaign(engine, world)
    call(engine, answers.save_draft, reader=world.alpha.reader, campaign_id=c["id"], answers=full_answers()[:3])
    closed = call(engine, campaigns.close_campaign, reader=world.admin.reader, campaign_id=c["id"])
    assert closed["status"] == "closed" and closed["closed_at"]
    with pytest.raises(Conflict, match="closed"):
        call(engine, campaigns.close_campaign, reader=world.admin.reader, campaign_id=c["id"])
    with pytest.raises(Conflict, match="closed"):
        call(engine, answers.save_draft, reader=world.alpha.reader, campaign_id=c["id"], answers=full_answers()[:1])
    with pytest.raises(Conflict, match="closed"):
        call(engine, answers.submit, reader=world.alpha.reader, campaign_id=c["id"], answers=full_answers())
    with pytest.raises(Forbidden):
        call(engine, campaigns.close_campaign, reader=world.alpha.reader, campaign_id=c["id"])
    with pytest.raises(NotFound):
        call(engine, campaigns.close_campaign, reader=world.admin.reader, campaign_id=c["id"] + 99)
    # the draft stays a draft, readable
    mine = call(engine, answers.get_response, reader=world.alpha.reader, campaign_id=c["id"])
    assert (mine["status"], mine["answered"]) == ("draft", 3)


def test_progress_follows_every_member(engine: Engine, world: World) -> None:
    quiet = make_member(engine, name="Quiet Insurance", role="analyst", sector_type="insurer")
    c = open_campaign(engine, world)
    staff = world.admin.reader
    p = call(engine, campaigns.progress, reader=staff, campaign_id=c["id"])
    # every member organisation, never the CERT, the authority or the peer's organisation
    assert {m["organisation"]["name"] for m in p["members"]} == {"Alpha Bank", "Boreal Bank", "Payco Payments",
                                                                  quiet.org_name}
    assert p["counts"] == {"not_started": 4, "draft": 0, "submitted": 0} and p["controls"] == 50

    call(engine, answers.save_draft, reader=world.alpha.reader, campaign_id=c["id"], answers=full_answers()[:7])
    call(engine, answers.save_draft, reader=world.alpha_analyst.reader, campaign_id=c["id"], answers=[
        {"control_id": "PRO-01", "maturity": None}, {"control_id": "PRO-02", "not_applicable": True,
                                                     "comment": "no remote access"}])
    call(engine, answers.submit, reader=world.boreal.reader, campaign_id=c["id"], answers=full_answers(2))
    p = call(engine, campaigns.progress, reader=staff, campaign_id=c["id"])
    by_name = {m["organisation"]["name"]: m for m in p["members"]}
    assert p["counts"] == {"not_started": 2, "draft": 1, "submitted": 1}
    assert (by_name["Alpha Bank"]["state"], by_name["Alpha Bank"]["answered"]) == ("draft", 8)  # 7 + n/a, not blank
    assert by_name["Alpha Bank"]["updated_at"] and by_name["Alpha Bank"]["submitted_at"] is None
    assert (by_name["Boreal Bank"]["state"], by_name["Boreal Bank"]["answered"]) == ("submitted", 50)
    assert by_name["Boreal Bank"]["submitted_at"]
    assert (by_name["Payco Payments"]["state"], by_name["Payco Payments"]["answered"]) == ("not_started", 0)
    # whom to chase first: those not started, then drafts, then those done
    assert [m["state"] for m in p["members"]] == ["not_started", "not_started", "draft", "submitted"]
    for m in (world.alpha, world.fsa, world.cert_analyst):
        with pytest.raises(Forbidden):
            call(engine, campaigns.progress, reader=m.reader, campaign_id=c["id"])


def test_members_see_campaigns_with_their_own_state(engine: Engine, world: World) -> None:
    first = open_campaign(engine, world, name="Pilot", days=5)
    second = open_campaign(engine, world, name="Baseline 2026", days=60)
    call(engine, campaigns.close_campaign, reader=world.admin.reader, campaign_id=first["id"])
    call(engine, answers.save_draft, reader=world.alpha.reader, campaign_id=second["id"], answers=full_answers()[:1])
    mine = call(engine, campaigns.list_campaigns, reader=world.alpha_reader.reader)
    assert [(c["name"], c["status"]) for c in mine] == [("Baseline 2026", "open"), ("Pilot", "closed")]
    assert mine[0]["my_response"]["status"] == "draft" and mine[1]["my_response"]["status"] == "not_started"
    assert [c["name"] for c in call(engine, campaigns.list_campaigns, reader=world.boreal.reader,
                                    status="open")] == ["Baseline 2026"]
    # staff and the authority see the campaigns without a response of their own
    for m in (world.admin, world.fsa):
        assert [c["my_response"] for c in call(engine, campaigns.list_campaigns, reader=m.reader)] == [None, None]
    with pytest.raises(NotFound):
        call(engine, campaigns.list_campaigns, reader=world.peer.reader)
    with pytest.raises(NotFound):
        call(engine, campaigns.get_campaign, reader=world.peer.reader, campaign_id=second["id"])
    with pytest.raises(Invalid):
        call(engine, campaigns.list_campaigns, reader=world.alpha.reader, status="pending")


def test_a_campaign_past_its_deadline_is_overdue_and_still_takes_answers(engine: Engine, world: World) -> None:
    c = call(engine, campaigns.open_campaign, reader=world.admin.reader, name="Short", catalogue_version=SHIPPED_VERSION,
             closes_at=now() - timedelta(days=2), now=now() - timedelta(days=3))
    assert c["overdue"]  # opened three days ago with a deadline two days ago
    done = call(engine, answers.submit, reader=world.payco.reader, campaign_id=c["id"], answers=full_answers())
    assert done["status"] == "submitted"
