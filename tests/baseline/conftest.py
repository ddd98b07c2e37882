"""A small sector for the baseline's tests: CERT staff, three members (one with several users), an authority and a
federation peer; helpers to run a service call in a transaction of its own and to count the baseline's rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from nordcert.baseline import campaigns
from nordcert.baseline.catalogue import SHIPPED_VERSION, load_shipped
from nordcert.clock import now
from nordcert.db import import_all_tables, transaction
from tests.factories import Member, make_member


@dataclass
class World:
    admin: Member  # CERT staff (cert_admin)
    cert_analyst: Member  # a CERT user who is not staff
    alpha: Member  # risk officer of a bank
    alpha_analyst: Member  # a second writer of the same bank
    alpha_reader: Member
    boreal: Member  # analyst of another bank
    payco: Member  # risk officer of a payment institution
    fsa: Member  # risk officer of the supervisory authority
    peer: Member  # a federation peer's service account

    def members(self) -> list[Member]:
        return [self.alpha, self.boreal, self.payco]


@pytest.fixture
def world(engine: Engine) -> World:
    admin = make_member(engine, name="Nordic Financial CERT", role="cert_admin", sector_type="cert")
    alpha = make_member(engine, name="Alpha Bank", role="risk_officer")
    return World(
        admin=admin,
        cert_analyst=make_member(engine, org=admin.org_name, role="analyst"),
        alpha=alpha,
        alpha_analyst=make_member(engine, org=alpha.org_name, role="analyst"),
        alpha_reader=make_member(engine, org=alpha.org_name, role="reader"),
        boreal=make_member(engine, name="Boreal Bank", role="analyst", country="NO"),
        payco=make_member(engine, name="Payco Payments", role="risk_officer", sector_type="payment_system"),
        fsa=make_member(engine, name="Financial Supervisory Authority", role="risk_officer", sector_type="authority"),
        peer=make_member(engine, name="CERT Norway instance", role="peer", sector_type="cert", country="NO"),
    )


def call(engine: Engine, fn: Any, **kwargs: Any) -> Any:
    """``fn(conn, **kwargs)`` in one transaction of its own."""
    with transaction(engine) as conn:
        return fn(conn, **kwargs)


def open_campaign(engine: Engine, w: World, *, name: str = "Baseline 2026", days: int = 30,
                  version: str = SHIPPED_VERSION) -> dict[str, Any]:
    return call(engine, campaigns.open_campaign, reader=w.admin.reader, name=name,  # type: ignore[no-any-return]
                catalogue_version=version, closes_at=now() + timedelta(days=days))


def full_answers(maturity: int = 3) -> list[dict[str, Any]]:
    """An answer for every control of the shipped catalogue."""
    return [{"control_id": c.id, "maturity": maturity, "evidence": f"evidence for {c.id}", "comment": ""}
            for c in load_shipped().controls]


def row_counts(engine: Engine) -> dict[str, int]:
    """Rows in every baseline table: what a refused request must leave as it was."""
    tables = [t for t in import_all_tables().sorted_tables if t.name.startswith("baseline_")]
    with transaction(engine, write=False) as conn:
        return {t.name: int(conn.execute(select(func.count()).select_from(t)).scalar_one()) for t in tables}
