"""The members the lookup, correlation and sighting API tests share."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from nordcert.accounts import service as accounts
from nordcert.db import transaction
from tests.factories import Member, make_member, refresh


@pytest.fixture
def world(engine: Engine) -> dict[str, Member]:
    """alpha and boreal in 'DK banks', outsider and fjord in 'SE banks', a reader at alpha, CERT staff."""
    alpha, boreal = make_member(engine), make_member(engine)
    outsider, fjord = make_member(engine, country="SE"), make_member(engine, country="NO")
    admin = make_member(engine, role="cert_admin", sector_type="cert")
    with transaction(engine) as conn:
        accounts.create_group(conn, name="DK banks", members=[alpha.org_id, boreal.org_id])
        accounts.create_group(conn, name="SE banks", members=[outsider.org_id, fjord.org_id])
    reader = make_member(engine, role="reader", org=str(alpha.org_id))
    return {"alpha": refresh(engine, alpha), "boreal": refresh(engine, boreal),
            "outsider": refresh(engine, outsider), "fjord": refresh(engine, fjord), "admin": admin,
            "reader": refresh(engine, reader)}
