"""People around a red-team test: CERT staff, the authority, the tested bank's control team and its other users
(who must never learn of the test), another bank and a federation peer; and a helper that opens a prepared test."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from nordcert.db import import_all_tables, transaction
from nordcert.redteam import lifecycle, roles, service
from nordcert.redteam.phases import PHASE_KEYS
from tests.factories import Member, make_member

TODAY = date(2026, 3, 2)


@dataclass
class World:
    admin: Member  # CERT staff
    fsa: Member  # risk officer of the TLPT authority
    fsa_analyst: Member  # another user of the authority
    lead: Member  # analyst of Alpha Bank, the control team lead
    ct_reader: Member  # reader of Alpha Bank, a control team member
    alpha_ro: Member  # risk officer of Alpha Bank, not on the control team
    alpha_soc: Member  # analyst of Alpha Bank's SOC: the blue team
    boreal: Member  # risk officer of another bank
    peer: Member  # a federation peer's service account

    def everyone(self) -> dict[str, Member]:
        return dict(vars(self))


@pytest.fixture
def world(engine: Engine) -> World:
    lead = make_member(engine, name="Alpha Bank", role="analyst")
    fsa = make_member(engine, name="Financial Supervisory Authority", role="risk_officer", sector_type="authority")
    return World(
        admin=make_member(engine, name="Nordic Financial CERT", role="cert_admin", sector_type="cert"),
        fsa=fsa,
        fsa_analyst=make_member(engine, org=fsa.org_name, role="analyst"),
        lead=lead,
        ct_reader=make_member(engine, org=lead.org_name, role="reader"),
        alpha_ro=make_member(engine, org=lead.org_name, role="risk_officer"),
        alpha_soc=make_member(engine, org=lead.org_name, role="analyst"),
        boreal=make_member(engine, name="Boreal Bank", role="risk_officer", country="NO"),
        peer=make_member(engine, name="CERT Norway instance", role="peer", sector_type="cert", country="NO"),
    )


def call(engine: Engine, fn: Any, **kwargs: Any) -> Any:
    """``fn(conn, **kwargs)`` in one transaction of its own."""
    with transaction(engine) as conn:
        return fn(conn, **kwargs)


SCOPE: dict[str, Any] = {
    "functions": ["Payments", "Online banking"],
    "systems": ["Core banking", "Payment hub"],
    "flags": [{"code": "F1", "name": "Domain admin in the payment zone", "reached": None},
              {"code": "F2", "name": "Create a payment order", "reached": None}],
    "ti_provider": "Nordic Threat Intel Ltd", "rt_provider": "Red Fox Security", "rt_provider_kind": "external",
}


def open_test(engine: Engine, world: World, *, org: Member | None = None, lead: Member | None = None,
              members: tuple[Member, ...] | None = None, opened_on: date = date(2025, 9, 1), today: date = TODAY,
              **kwargs: Any) -> dict[str, Any]:
    """A test of ``org`` (Alpha Bank) opened by CERT staff, with its scope, providers and a control team: ``lead``
    (default world.lead) and ``members`` (default world.ct_reader) linked to their users."""
    lead = lead or world.lead
    members = (world.ct_reader,) if members is None and org is None else members or ()
    found = call(engine, service.create_engagement, reader=world.admin.reader,
                 organisation=(org or lead).org_id, name=kwargs.pop("name", "TIBER-DK Falcon"),
                 framework=kwargs.pop("framework", "tiber_eu"), tiber_implementation="TIBER-DK",
                 opened_on=opened_on, today=today, **(SCOPE | kwargs))
    call(engine, roles.add_role, reader=world.admin.reader, engagement_id=found["id"], role="control_team_lead",
         name="Lena Lead", email=lead.email, user=lead.email)
    for m in members:
        call(engine, roles.add_role, reader=world.admin.reader, engagement_id=found["id"],
             role="control_team_member", name="Carl Member", email=m.email, user=m.email)
    return found  # type: ignore[no-any-return]


def advance_to(engine: Engine, who: Member, engagement_id: int, phase: str, *, start: date = date(2025, 9, 1),
               step: timedelta = timedelta(days=14), today: date = TODAY) -> dict[str, Any]:
    """Move a test phase by phase up to ``phase``, one ``step`` apart from ``start`` (active red teaming lasts
    12 weeks)."""
    with transaction(engine, write=False) as conn:
        current = service.get_engagement(conn, reader=who.reader, engagement_id=engagement_id, today=today)["phase"]
    day = start
    found: dict[str, Any] = {}
    for nxt in PHASE_KEYS[PHASE_KEYS.index(current) + 1:PHASE_KEYS.index(phase) + 1]:
        day += timedelta(weeks=12) if nxt == "red_team_report" else step
        found = call(engine, lifecycle.advance, reader=who.reader, engagement_id=engagement_id, to=nxt, on=day,
                     today=today)
    return found


def counts(engine: Engine) -> dict[str, int]:
    """Rows in every redteam table: a refused request changes none."""
    tables = [t for name, t in import_all_tables().tables.items() if name.startswith("redteam_")]
    with transaction(engine, write=False) as conn:
        return {t.name: int(conn.execute(select(func.count()).select_from(t)).scalar_one()) for t in tables}
