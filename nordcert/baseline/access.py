"""Who may do what with the baseline's catalogue, campaigns and responses.

| reader                                        | catalogue          | campaigns           | responses                 |
|-----------------------------------------------|--------------------|---------------------|---------------------------|
| cert_admin (CERT staff)                       | all versions, edit | open, close, progress | every member's; reopen  |
| analyst, risk_officer of a member             | published versions | list                | its own: save, submit     |
| reader of a member                            | published versions | list                | its own: read             |
| risk_officer of an authority; other users of the CERT or an authority | published versions | list | none (aggregates are the benchmark's) |
| a federation peer's service account           | nothing: NotFound, as for what does not exist              |||

Another member's response answers NotFound, as if it did not exist; a draft catalogue version is NotFound to all
but CERT staff. A member is an organisation whose sector type is not ``cert`` or ``authority``.
"""

from __future__ import annotations

from sqlalchemy import Connection, select

from nordcert.accounts.tables import organisations
from nordcert.errors import Forbidden, NotFound
from nordcert.sharing.policy import Reader, Role

#: Sector types that run or supervise the forum rather than answer its baseline.
NON_MEMBER_SECTORS = ("cert", "authority")
WRITERS = frozenset({Role.ANALYST, Role.RISK_OFFICER})


def require_user(reader: Reader | None) -> Reader:
    """Any user of this instance; a federation peer learns nothing of the baseline."""
    if reader is None or reader.role is Role.PEER:
        raise NotFound("no such baseline resource")
    return reader


def require_staff(reader: Reader, doing: str) -> None:
    require_user(reader)
    if not reader.is_cert_staff:
        raise Forbidden(f"only CERT staff (cert_admin) {doing}")


def is_member(conn: Connection, organisation_id: int) -> bool:
    kind = conn.execute(select(organisations.c.sector_type).where(organisations.c.id == organisation_id)).scalar()
    return kind is not None and kind not in NON_MEMBER_SECTORS


def member_writer(conn: Connection, reader: Reader) -> int:
    """The organisation whose response ``reader`` may change: its own, for a member's analysts and risk officers."""
    require_user(reader)
    if reader.is_cert_staff:
        raise Forbidden("members answer the baseline themselves; CERT staff may reopen a submitted response")
    if not is_member(conn, reader.organisation_id):
        raise Forbidden("only member organisations answer the baseline")
    if reader.role not in WRITERS:
        raise Forbidden(f"role {reader.role.value} may read your organisation's answers; answering needs analyst "
                        "or risk_officer")
    return reader.organisation_id


def response_reader(conn: Connection, reader: Reader, organisation_id: int | None) -> int:
    """The organisation whose response ``reader`` asks for (None: its own), if it may read it."""
    require_user(reader)
    if reader.is_cert_staff:
        if organisation_id is None:
            raise Forbidden("CERT staff read a member's response by its organisation")
        if not is_member(conn, organisation_id):
            raise NotFound(f"organisation {organisation_id} is not a member answering the baseline")
        return organisation_id
    if organisation_id is not None and organisation_id != reader.organisation_id:
        raise NotFound(f"no response of organisation {organisation_id}")
    if not is_member(conn, reader.organisation_id):
        raise Forbidden("only member organisations answer the baseline; authorities read the sector's aggregates")
    return reader.organisation_id
