"""Organisations for crisis tests: CERT staff, members of several types and roles, an authority and a peer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine

from nordcert.crisis import service
from nordcert.db import transaction
from tests.factories import Member, make_member


@dataclass
class World:
    admin: Member  # CERT staff
    alpha: Member  # risk officer of a bank
    alpha_analyst: Member
    alpha_reader: Member
    boreal: Member  # analyst of another bank
    payco: Member  # risk officer of a payment system
    fsa: Member  # risk officer of the supervisory authority
    fsa_analyst: Member
    peer: Member  # a federation peer's service account

    def everyone(self) -> dict[str, Member]:
        return dict(vars(self))


@pytest.fixture
def world(engine: Engine) -> World:
    alpha = make_member(engine, name="Alpha Bank", role="risk_officer")
    fsa = make_member(engine, name="Financial Supervisory Authority", role="risk_officer", sector_type="authority")
    return World(
        admin=make_member(engine, name="Nordic Financial CERT", role="cert_admin", sector_type="cert"),
        alpha=alpha,
        alpha_analyst=make_member(engine, org=alpha.org_name, role="analyst"),
        alpha_reader=make_member(engine, org=alpha.org_name, role="reader"),
        boreal=make_member(engine, name="Boreal Bank", role="analyst", country="NO"),
        payco=make_member(engine, name="Payco Clearing", role="risk_officer", sector_type="payment_system"),
        fsa=fsa,
        fsa_analyst=make_member(engine, org=fsa.org_name, role="analyst"),
        peer=make_member(engine, name="CERT Norway instance", role="peer", sector_type="cert", country="NO"),
    )


def call(engine: Engine, fn: Any, *args: Any, **kwargs: Any) -> Any:
    """``fn(conn, *args, **kwargs)`` in one transaction of its own."""
    with transaction(engine) as conn:
        return fn(conn, *args, **kwargs)


def declare(engine: Engine, admin: Member, **kwargs: Any) -> dict[str, Any]:
    values: dict[str, Any] = {"title": "DDoS wave against card payments", "scope": "Card acquiring at banks",
                              "severity": "high"}
    return call(engine, service.declare_crisis, admin.reader, **{**values, **kwargs})  # type: ignore[no-any-return]


def ago(minutes: float) -> datetime:
    return datetime.now(UTC) - timedelta(minutes=minutes)


def organisations_named(doc: Any) -> set[int]:
    """Ids of every organisation a JSON document names."""
    found: set[int] = set()
    if isinstance(doc, dict):
        if isinstance(doc.get("organisation"), dict):
            found.add(doc["organisation"]["id"])
        for v in doc.values():
            found |= organisations_named(v)
    elif isinstance(doc, list):
        for v in doc:
            found |= organisations_named(v)
    return found
