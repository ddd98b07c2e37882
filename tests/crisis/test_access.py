"""The Python and SQL forms of "who may see a member's status reports" agree for every kind of reader."""

from __future__ import annotations

from sqlalchemy import Engine, select

from nordcert.crisis import status
from nordcert.crisis.service import may_see_member_status
from nordcert.crisis.tables import crisis_status_reports
from nordcert.db import transaction
from tests.crisis.conftest import World, call, declare


def test_read_clause_agrees_with_may_see_member_status(engine: Engine, world: World) -> None:
    cid = declare(engine, world.admin)["id"]
    for m in (world.alpha, world.boreal, world.payco):
        call(engine, status.submit_status, m.reader, cid, statuses=[{"service": "payments", "status": "degraded"}])
    r = crisis_status_reports.c
    with transaction(engine, write=False) as conn:
        rows = conn.execute(select(r.id, r.organisation_id)).all()
        assert len(rows) == 3
        for name, who in world.everyone().items():
            selected = set(conn.execute(select(r.id).where(status.read_clause(who.reader))).scalars())
            allowed = {row.id for row in rows if may_see_member_status(who.reader, row.organisation_id)}
            assert selected == allowed, name
