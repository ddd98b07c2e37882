"""The secrecy of a test: within the member only the users linked in its control team see it; CERT staff and the
authority's risk officers see every test; everyone else is told it does not exist. Checked on every read path of
the services, for every kind of reader, and as a property over random control teams (the SQL form agrees with the
plain rule)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from nordcert.db import transaction
from nordcert.errors import Forbidden, Invalid, NotFound
from nordcert.redteam import access, findings, remediation, roles, sector, service
from nordcert.redteam.tables import redteam_engagements
from tests.factories import Member
from tests.redteam.conftest import TODAY, World, advance_to, call, open_test

SEEING = {"admin", "fsa", "lead", "ct_reader"}


def _paths(engagement_id: int, finding_id: int, measure_id: int) -> dict[str, Any]:
    """Every read of one test, as a function of a connection and a reader."""
    return {
        "get": lambda conn, r: service.get_engagement(conn, reader=r, engagement_id=engagement_id, today=TODAY),
        "roles": lambda conn, r: roles.list_roles(conn, reader=r, engagement_id=engagement_id),
        "findings": lambda conn, r: findings.list_findings(conn, reader=r, engagement_id=engagement_id, today=TODAY),
        "finding": lambda conn, r: findings.get_finding(conn, reader=r, finding_id=finding_id, today=TODAY),
        "measure": lambda conn, r: remediation.get_measure(conn, reader=r, measure_id=measure_id, today=TODAY),
    }


def test_every_read_path_follows_the_rule_for_every_reader(engine: Engine, world: World) -> None:
    found = open_test(engine, world)
    advance_to(engine, world.lead, found["id"], "remediation_plan")
    f = call(engine, findings.add_finding, reader=world.lead.reader, engagement_id=found["id"], title="Foothold",
             category="initial_access_phishing", severity="high")
    m = call(engine, remediation.add_measure, reader=world.lead.reader, finding_id=f["id"], measure="Sandbox",
             owner="IT")
    for name, who in world.everyone().items():
        with transaction(engine, write=False) as conn:
            listed = [e["id"] for e in service.list_engagements(conn, reader=who.reader, today=TODAY)]
            assert listed == ([found["id"]] if name in SEEING else []), name
            for path, read in _paths(found["id"], f["id"], m["id"]).items():
                if name in SEEING:
                    assert read(conn, who.reader), (name, path)
                else:
                    with pytest.raises(NotFound):
                        read(conn, who.reader)
            # The sector view never shows the member's figures to users outside the control team.
            if name not in ("peer", "fsa_analyst"):
                own = sector.sector_findings(conn, reader=who.reader, min_group=5, today=TODAY)["own"]
                assert (own is not None) == (name in ("lead", "ct_reader")), name


def test_the_sector_view_is_for_members_the_authoritys_risk_officers_and_staff(engine: Engine, world: World) -> None:
    with transaction(engine, write=False) as conn:
        for name, who in world.everyone().items():
            if name == "peer":
                with pytest.raises(NotFound):
                    sector.sector_findings(conn, reader=who.reader, min_group=5)
            elif name == "fsa_analyst":
                with pytest.raises(Forbidden):
                    sector.sector_findings(conn, reader=who.reader, min_group=5)
            else:
                assert sector.sector_findings(conn, reader=who.reader, min_group=5)["suppressed"] is True


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(links=st.lists(st.sampled_from(["lead", "ct_reader", "alpha_ro", "alpha_soc", "boreal"]), max_size=4,
                      unique=True),
       lead_linked=st.booleans())
def test_only_linked_users_of_the_member_see_a_test(engine: Engine, world: World, links: list[str],
                                                    lead_linked: bool) -> None:
    people = world.everyone()
    made = call(engine, service.create_engagement, reader=world.admin.reader, organisation=world.lead.org_id,
                name="Property", framework="dora_tlpt", today=TODAY)
    linked: set[int] = set()
    if lead_linked:
        call(engine, roles.add_role, reader=world.admin.reader, engagement_id=made["id"], role="control_team_lead",
             name="Lead", email=world.lead.email, user=world.lead.email)
        linked.add(world.lead.reader.user_id)
    for name in links:
        who: Member = people[name]
        if name == "boreal":  # a user of another organisation cannot be linked at all
            with pytest.raises(Invalid, match="role is not valid"):
                call(engine, roles.add_role, reader=world.admin.reader, engagement_id=made["id"],
                     role="control_team_member", name="X", email=who.email, user=who.email)
            continue
        call(engine, roles.add_role, reader=world.admin.reader, engagement_id=made["id"], role="control_team_member",
             name=name, email=who.email, user=who.email)
        linked.add(who.reader.user_id)
    t = redteam_engagements.c
    with transaction(engine, write=False) as conn:
        for name, who in people.items():
            expected = access.may_see(who.reader, organisation_id=world.lead.org_id, control_team_user_ids=linked,
                                      authority_officer=access.is_authority_officer(conn, who.reader))
            assert expected == (name in ("admin", "fsa") or who.reader.user_id in linked), name
            selected = conn.execute(select(t.id).where(t.id == made["id"],
                                                       access.visible_clause(conn, who.reader))).first()
            assert (selected is not None) == expected, name
            listed = {e["id"] for e in service.list_engagements(conn, reader=who.reader, today=TODAY)}
            assert (made["id"] in listed) == expected, name
