"""Who may see and change a red-team engagement: the one place every redteam module asks.

A TIBER test is secret: the member's blue team must not learn of it (CDR 2025/1190 Art 1(3): the blue team is
"not aware of the TLPT"). So within the member only the users linked in the test's control team see it; other users
of the same member are told it does not exist, as is everyone else who may not see it.

| reader                                              | see the engagement | change it (scope, dates, roles, findings) | attest |
|-----------------------------------------------------|--------------------|-------------------------------------------|--------|
| cert_admin (CERT staff)                             | every member's     | yes; create and delete                    | yes    |
| risk_officer of an authority (the TLPT authority)   | every member's     | create only (Forbidden otherwise)         | yes    |
| analyst, risk_officer linked in its control team    | that test          | yes                                       | no     |
| reader linked in its control team                   | that test          | no (Forbidden)                            | no     |
| any other user of the member, of another member, an authority's other users, a federation peer | NotFound  |||

The sector's anonymised findings (:mod:`.sector`) are read by every user of a member, an authority's risk officers
and CERT staff; not by a federation peer.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, exists, false, select, true

from nordcert.accounts.tables import organisations
from nordcert.errors import Forbidden, NotFound
from nordcert.redteam.tables import redteam_engagements, redteam_roles
from nordcert.sharing.policy import Reader, Role

#: The control team: the few insiders of the member who know of the test.
CONTROL_TEAM = ("control_team_lead", "control_team_member")
#: Roles of a control team's linked users who change the test; readers read.
WRITERS = frozenset({Role.ANALYST, Role.RISK_OFFICER})
#: Organisations that are not members: they are never tested here.
NON_MEMBER_SECTORS = ("cert", "authority")
_e = redteam_engagements


def sector_type(conn: Connection, organisation_id: int) -> str | None:
    found = conn.execute(select(organisations.c.sector_type).where(organisations.c.id == organisation_id)).scalar()
    return None if found is None else str(found)


def is_authority_officer(conn: Connection, reader: Reader) -> bool:
    """A risk officer of an authority: the TLPT authority's side, who follows every test."""
    return reader.role is Role.RISK_OFFICER and sector_type(conn, reader.organisation_id) == "authority"


def sees_every_engagement(conn: Connection, reader: Reader) -> bool:
    return reader.is_cert_staff or is_authority_officer(conn, reader)


def may_see(reader: Reader, *, organisation_id: int, control_team_user_ids: Collection[int],
            authority_officer: bool) -> bool:
    """The rule in plain Python: may ``reader`` see a test of ``organisation_id`` whose control team links
    ``control_team_user_ids``? (``authority_officer``: the reader is a risk officer of an authority.)"""
    if reader.is_cert_staff:
        return True
    if reader.role is Role.PEER:
        return False
    if authority_officer:
        return True
    return reader.organisation_id == organisation_id and reader.user_id in control_team_user_ids


def visible_clause(conn: Connection, reader: Reader) -> ColumnElement[bool]:
    """The SQL form of :func:`may_see` for rows of ``redteam_engagements``."""
    if reader.role is Role.PEER:
        return false()
    if sees_every_engagement(conn, reader):
        return true()
    r = redteam_roles.c
    linked = exists(select(r.id).where(r.engagement_id == _e.c.id, r.user_id == reader.user_id,
                                       r.role.in_(CONTROL_TEAM)))
    return and_(_e.c.organisation_id == reader.organisation_id, linked)


def load(conn: Connection, reader: Reader, engagement_id: int, *, lock: bool = False) -> dict[str, Any]:
    """The engagement's row, or NotFound when it does not exist or the reader may not see it."""
    q = select(_e).where(_e.c.id == engagement_id, visible_clause(conn, reader))
    if lock:
        q = q.with_for_update(of=_e)
    row = conn.execute(q).mappings().first()
    if row is None:
        raise NotFound(f"no red-team engagement {engagement_id}")
    return dict(row)


def may_change(conn: Connection, reader: Reader, row: dict[str, Any]) -> bool:
    """May ``reader``, who sees the engagement ``row``, change it? CERT staff, and its control team's linked
    analysts and risk officers."""
    if reader.is_cert_staff:
        return True
    return reader.role in WRITERS and reader.organisation_id == row["organisation_id"]


def require_change(conn: Connection, reader: Reader, row: dict[str, Any], doing: str) -> None:
    if not may_change(conn, reader, row):
        if is_authority_officer(conn, reader):
            raise Forbidden(f"the authority follows the test and issues its attestation; the control team and "
                            f"CERT staff {doing}")
        raise Forbidden(f"role {reader.role.value} reads the test; the control team's analysts and risk officers "
                        f"{doing}")


def require_creator(conn: Connection, reader: Reader) -> None:
    if not sees_every_engagement(conn, reader):
        raise Forbidden("CERT staff and the authority's risk officers open a red-team test for a member")


def require_attester(conn: Connection, reader: Reader) -> None:
    if not sees_every_engagement(conn, reader):
        raise Forbidden("the TLPT authority's risk officers (or CERT staff) issue the attestation")


def may_read_sector(conn: Connection, reader: Reader) -> bool:
    """The anonymised sector view: every member's users, an authority's risk officers, CERT staff."""
    if reader.is_cert_staff:
        return True
    if reader.role is Role.PEER:
        return False
    if sector_type(conn, reader.organisation_id) == "authority":
        return reader.role is Role.RISK_OFFICER
    return True
