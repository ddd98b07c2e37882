"""Members for incident tests: two banks (risk officer, analyst, reader), CERT staff and a federation peer."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import Engine

from tests.factories import Member, make_member


@dataclass
class World:
    alpha: Member  # risk officer of Alpha
    alpha_analyst: Member
    alpha_reader: Member
    boreal: Member  # risk officer of another bank
    admin: Member  # CERT staff
    peer: Member  # a federation peer's service account

    def everyone(self) -> dict[str, Member]:
        return dict(vars(self))


@pytest.fixture
def world(engine: Engine) -> World:
    alpha = make_member(engine, name="Alpha Bank", role="risk_officer")
    return World(
        alpha=alpha,
        alpha_analyst=make_member(engine, org=alpha.org_name, role="analyst"),
        alpha_reader=make_member(engine, org=alpha.org_name, role="reader"),
        boreal=make_member(engine, name="Boreal Bank", role="risk_officer", country="NO"),
        admin=make_member(engine, name="Nordic Financial CERT", role="cert_admin", sector_type="cert"),
        peer=make_member(engine, name="CERT Norway instance", role="peer", sector_type="cert", country="NO"),
    )
